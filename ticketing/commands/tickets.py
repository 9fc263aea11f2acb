"""``podium tickets issue EVENT`` and ``podium tickets export EVENT --out FILE.csv``."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``podium tickets``."""
