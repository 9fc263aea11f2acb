"""Results of a judged stage: the ranking job and its diagnostics, the re-review queue, publication
with its objection period, appeals, and the exports of sheets, rankings and judge statistics."""
