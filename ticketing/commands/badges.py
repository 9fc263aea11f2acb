"""Placeholder: the badges commands (filled by their area)."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the badges commands (none yet)."""
