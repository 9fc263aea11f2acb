"""Live attendance of an event: counts per check-in list and per hour, no-shows, sessions, the
arrival curve and the exports, read from the append-only check-in log."""
