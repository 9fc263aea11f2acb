"""Badges and QR images of tickets: rendering jobs for a whole event with progress, downloads, mail."""
