"""Tickets, badges and QR check-in (built in a later issue)."""
