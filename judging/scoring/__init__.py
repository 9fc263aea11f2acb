"""Scoring: a judge's sheets (submitted, changed, replayed by client nonce), the judges' queue and
entries, the organizers' view of the sheets, and the tablet page that scores offline."""
