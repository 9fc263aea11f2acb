"""Assignment of judges to a stage's entries: the engine's runs with their diagnostics, publication,
organizers' edits, and judges' recusals with reassignment (``service``)."""
