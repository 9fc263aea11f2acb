"""Team registration: teams in a contest's tracks, their members, advisors and materials, under the
contest's rules (issue 9)."""
