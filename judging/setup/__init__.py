"""Judging set-up of a stage: settings, rubric versions, rooms, entries, judges, declared conflicts,
tablet sign-in by QR code, lock and reopen, and the workspace hub and set-up pages."""
