"""``podium badges render EVENT --out DIR [--format a6|label]``: every valid ticket's badge of the
event as PNG files, ``DIR/type<number>/badge-<ticket>.png``, with a progress counter. ``EVENT`` is an
event's id or slug. Runs in the command's own process (no worker needed); badges already in ``DIR``
are drawn again (the files are the command's output, not the server's kept copies)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from backend.commands import Progress, run_async


def cmd_render(args: argparse.Namespace) -> int:
    import anyio

    from backend.db import fetch_all
    from ticketing import render
    from ticketing.badges.service import BADGE_COLUMNS, BADGE_FROM, badge_data, write_atomically
    from ticketing.commands.tickets import event_id_of

    out = Path(args.out)

    async def run() -> int:
        event_id = await event_id_of(args.event)
        if event_id is None:
            print(f"No event {args.event!r}", file=sys.stderr)
            return 2
        rows = await fetch_all(
            f"SELECT {BADGE_COLUMNS} {BADGE_FROM} WHERE t.event = {{}} AND t.status = 'valid' ORDER BY y.number, t.id",
            event_id,
        )
        progress = Progress("Badges", len(rows))
        progress(0)

        def draw() -> None:
            for done, row in enumerate(rows, start=1):
                path = out / f"type{row['number']}" / f"badge-{row['id']}.png"
                write_atomically(path, render.badge_png(badge_data(row), args.format))
                progress(done)

        try:
            await anyio.to_thread.run_sync(draw)
        except render.FontMissing as exc:
            print(exc, file=sys.stderr)
            return 1
        print(f"{len(rows)} badges written to {out}", file=sys.stderr)
        return 0

    return run_async(run)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add ``podium badges``."""
    p = subparsers.add_parser("badges", help="an event's printable badges")
    sub = p.add_subparsers(dest="badges_command", required=True)
    r = sub.add_parser("render", help="render every valid ticket's badge into a folder, with progress")
    r.add_argument("event", help="the event's id or slug")
    r.add_argument("--out", required=True, help="the folder to write the PNG files into")
    r.add_argument("--format", choices=("a6", "label"), default="a6", help="A6 page or 4 × 3 in label")
    r.set_defaults(handler=cmd_render)
