"""Tickets, badges and QR check-in: see ``ticketing.domain``."""
