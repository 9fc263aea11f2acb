"""The ticketing commands of ``podium``: ``tickets``, ``badges``, ``devices`` and ``checkin``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the ticketing commands to the ``podium`` command line."""
    from ticketing.commands import badges, checkin, tickets

    tickets.register(subparsers)
    badges.register(subparsers)
    checkin.register(subparsers)
