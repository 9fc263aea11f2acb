"""The ``podium rank`` and ``podium assign`` commands: CSV in, CSV out, on top of the pure engine."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the judging commands to the ``podium`` command line."""
    from judging.commands import assign, rank

    rank.register(subparsers)
    assign.register(subparsers)
