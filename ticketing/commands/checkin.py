"""Placeholder: the checkin commands (filled by their area)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the checkin commands (none yet)."""
