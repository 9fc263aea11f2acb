"""Badges and QR images of tickets: what a badge shows, where rendered badges are kept, badge runs
for a whole event (queued here, rendered by ``ticketing.badges.jobs``), the zip of a run, the QR
code and badge of one ticket, and mailing holders the link to their badge.

A rendered badge is a file named by its ticket, serial and format below the data directory
(``badges/<event>/<ticket>-<serial>-<format>.png``): rendering is idempotent per ticket (a file
that exists is not drawn again), and a reissued ticket (new serial) gets a new file, never the old
code. Files are written to a temporary name and renamed, so no reader sees half a badge.

Holders without an account (visitors imported in bulk) cannot sign in to see their ticket, so the
mail carries a link that is its own key: ``/badges/<ticket>/<token>``, the token an HMAC of the
ticket and its serial under the server's secret; reissuing the ticket ends the link with the code.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import os
import secrets
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import anyio

from backend import audit, tasks
from backend.db import fetch_all, fetch_one, on_commit, transaction
from backend.errors import Conflict, DomainError, NotFound
from backend.mail.service import queue_email
from backend.policy import Principal
from backend.settings import get_settings
from backend.teams.mail import locale_of
from ticketing import render
from ticketing.badges.schemas import BadgeMailOut, BadgeRunOut
from ticketing.tables import BadgeFormat, BadgeRun, TicketStatus
from ticketing.tickets.service import event_access, ticket_access

RENDER_JOB = "render_badges"
BATCH_JOB = "render_badge_batch"
FORMATS = tuple(f.value for f in BadgeFormat)

# What a badge needs of a ticket, its type and its event: one row per ticket.
BADGE_COLUMNS = (
    "t.id, t.event, t.serial, t.code, t.status, t.holder, t.holder_name, t.holder_latin, t.holder_email,"
    " t.institution, y.number, y.kind, y.colour, y.name_zh AS type_zh, y.name_en AS type_en,"
    " y.name_ru AS type_ru, e.name_zh AS event_zh, e.name_en AS event_en, e.name_ru AS event_ru"
)
BADGE_FROM = "FROM ticket t JOIN ticket_type y ON y.id = t.ticket_type JOIN event e ON e.id = t.event"


# What a badge shows ------------------------------------------------------------------------------


def _two_names(zh: str, ru: str, en: str) -> str:
    """A name for a badge read by people of either script: the native one (Chinese, else Russian)
    and the English one beside it when they differ."""
    native = (zh or "").strip() or (ru or "").strip()
    english = (en or "").strip()
    if native and english and native != english:
        return f"{native} · {english}"
    return native or english


def badge_data(row: dict[str, Any]) -> render.BadgeData:
    """The badge of one ticket row (columns :data:`BADGE_COLUMNS`)."""
    native = row["holder_name"] or row["holder_latin"]
    return render.BadgeData(
        name_native=native,
        name_latin=row["holder_latin"] if row["holder_latin"] != native else "",
        institution=row["institution"],
        type_name=_two_names(row["type_zh"], row["type_ru"], row["type_en"]) or str(row["number"]),
        kind=row["kind"],
        colour=row["colour"],
        event_name=(row["event_zh"] or row["event_ru"] or row["event_en"] or "").strip(),
        code=row["code"],
    )


async def badge_row(ticket_id: int) -> dict[str, Any] | None:
    return await fetch_one(f"SELECT {BADGE_COLUMNS} {BADGE_FROM} WHERE t.id = {{}}", ticket_id)


# Files -------------------------------------------------------------------------------------------


def badge_root() -> Path:
    return get_settings().data_dir / "badges"


def badge_path(event_id: int, ticket_id: int, serial: str, fmt: str) -> Path:
    """Where the badge of this ticket, serial and format is kept."""
    if fmt not in FORMATS or not serial.isalnum():
        raise ValueError("not a badge")
    return badge_root() / str(event_id) / f"{ticket_id}-{serial}-{fmt}.png"


def write_atomically(path: Path, data: bytes) -> None:
    """``data`` at ``path`` all at once: written beside it, then renamed over it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    part = path.with_name(f"{path.name}.{secrets.token_hex(8)}.part")  # one per writer, also per thread
    part.write_bytes(data)
    os.replace(part, path)


def render_to_file(row: dict[str, Any], fmt: str) -> bool:
    """Render the ticket's badge to its file unless it is there: whether it was drawn (blocking:
    call it in a thread)."""
    path = badge_path(row["event"], row["id"], row["serial"], fmt)
    if path.is_file():
        return False
    write_atomically(path, render.badge_png(badge_data(row), fmt))  # type: ignore[arg-type]
    return True


def font_missing(exc: render.FontMissing) -> DomainError:
    return DomainError("font_missing", "{reason}", status_code=503, params={"reason": str(exc)})


# One ticket --------------------------------------------------------------------------------------


async def ticket_qr(principal: Principal, ticket_id: int) -> bytes:
    """The ticket's QR code as a PNG (its holder and the event's organizers; 409 once revoked)."""
    row = await ticket_access(principal, ticket_id)
    if row["status"] != TicketStatus.valid.value:
        raise Conflict("ticket_revoked", "The ticket is revoked; issue a new one")
    return await anyio.to_thread.run_sync(render.qr_png, row["code"])


async def _badge_bytes(row: dict[str, Any], fmt: str) -> bytes:
    if row["status"] != TicketStatus.valid.value:
        raise Conflict("ticket_revoked", "The ticket is revoked; issue a new one")

    def draw() -> bytes:
        render_to_file(row, fmt)
        return badge_path(row["event"], row["id"], row["serial"], fmt).read_bytes()

    try:
        return await anyio.to_thread.run_sync(draw)
    except render.FontMissing as exc:
        raise font_missing(exc) from None


async def ticket_badge(principal: Principal, ticket_id: int, fmt: str) -> bytes:
    """The ticket's badge (``a6`` or ``label``) as a PNG, rendered once and kept."""
    await ticket_access(principal, ticket_id)
    row = await badge_row(ticket_id)
    assert row is not None
    return await _badge_bytes(row, fmt)


def link_token(ticket_id: int, serial: str) -> str:
    """The key of a ticket's badge link: an HMAC of the ticket and its serial (20 bytes, hex)."""
    key = hashlib.sha256(b"podium badge link|" + get_settings().secret_key.encode()).digest()
    return hmac.new(key, f"{ticket_id}|{serial}".encode(), hashlib.sha256).hexdigest()[:40]


def badge_link(ticket_id: int, serial: str, fmt: str = "a6") -> str:
    base = get_settings().base_url.rstrip("/")
    return f"{base}/badges/{ticket_id}/{link_token(ticket_id, serial)}?format={fmt}"


async def linked_badge(ticket_id: int, token: str, fmt: str) -> bytes:
    """The badge behind a mailed link; a wrong token, an old serial's or a revoked ticket's is
    not found."""
    row = await badge_row(ticket_id)
    if (
        row is None
        or row["status"] != TicketStatus.valid.value
        or not hmac.compare_digest(token.encode(), link_token(ticket_id, row["serial"]).encode())
    ):
        raise NotFound("Ticket")
    return await _badge_bytes(row, fmt)


# Runs --------------------------------------------------------------------------------------------


def run_out(row: dict[str, Any]) -> BadgeRunOut:
    total, done = row["total"], row["done"]
    progress = 100 if row["status"] == "done" else (100 * done // total if total else 0)
    return BadgeRunOut(
        id=row["id"],
        event=row["event"],
        format=row["format"],
        status=row["status"],
        total=total,
        done=done,
        progress=min(progress, 100),
        error=row["error"],
        created_at=row["created_at"],
        finished_at=row["finished_at"],
        download=f"/api/v1/badge-runs/{row['id']}/badges.zip" if row["status"] == "done" else None,
    )


async def request_run(principal: Principal, event_id: int, fmt: str) -> BadgeRunOut:
    """Queue the rendering of every valid ticket's badge of the event in ``fmt``; the run's
    progress moves as batches finish (organizers)."""
    await event_access(principal, event_id)
    count = await fetch_one(
        "SELECT COUNT(*) AS n FROM ticket WHERE event = {} AND status = 'valid'", event_id
    )
    async with transaction():
        run = BadgeRun(event=event_id, format=fmt, status="queued", total=count["n"] if count else 0)
        run.requested_by = principal.id or None
        await run.save()
        await audit.record(
            principal.id or None,
            "ticketing.badges_requested",
            "badge_run",
            run.id,
            event_id=event_id,
            data={"format": fmt},
        )
        on_commit(functools.partial(tasks.enqueue, RENDER_JOB, run.id))
    return await get_run_row(run.id)


async def get_run_row(run_id: int) -> BadgeRunOut:
    row = await BadgeRun.select().where(BadgeRun.id == run_id).first()
    assert row is not None
    return run_out(row)


async def run_access(principal: Principal, run_id: int) -> dict[str, Any]:
    """The run, if the caller may manage its event's tickets (else not found / 403)."""
    row = await BadgeRun.select().where(BadgeRun.id == run_id).first()
    if row is None:
        raise NotFound("Badge run")
    try:
        await event_access(principal, row["event"])
    except NotFound:
        raise NotFound("Badge run") from None
    return row


async def get_run(principal: Principal, run_id: int) -> BadgeRunOut:
    return run_out(await run_access(principal, run_id))


async def list_runs(principal: Principal, event_id: int) -> list[BadgeRunOut]:
    """The event's badge runs, newest first."""
    await event_access(principal, event_id)
    rows = await BadgeRun.select().where(BadgeRun.event == event_id).order_by(BadgeRun.id, ascending=False)
    return [run_out(r) for r in rows]


class _Sink:
    """A write-only stream that hands out what was written so far (for a zip made as it is sent)."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.position = 0

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        self.position += len(data)
        return len(data)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        pass

    def take(self) -> bytes:
        out = b"".join(self.parts)
        self.parts.clear()
        return out


def zip_chunks(files: list[tuple[Path, str]]) -> Iterator[bytes]:
    """A zip of ``files`` (path, name inside), stored (PNG is compressed already), made as it is read."""
    sink = _Sink()
    with zipfile.ZipFile(sink, "w", compression=zipfile.ZIP_STORED) as archive:  # type: ignore[arg-type]
        for path, name in files:
            try:
                archive.write(path, name)
            except FileNotFoundError:  # replaced by a reissue meanwhile
                continue
            yield sink.take()
    yield sink.take()


async def run_files(principal: Principal, run_id: int) -> tuple[dict[str, Any], list[tuple[Path, str]]]:
    """A finished run's badges: the files of the event's valid tickets in the run's format."""
    run = await run_access(principal, run_id)
    if run["status"] != "done":
        raise Conflict("badges_not_ready", "The badges are still being rendered; wait for the run to finish")
    rows = await fetch_all(
        "SELECT t.id, t.serial, y.number FROM ticket t JOIN ticket_type y ON y.id = t.ticket_type"
        " WHERE t.event = {} AND t.status = 'valid' ORDER BY y.number, t.id",
        run["event"],
    )
    files = []
    for r in rows:
        path = badge_path(run["event"], r["id"], r["serial"], run["format"])
        files.append((path, f"type{r['number']}/badge-{r['id']}.png"))
    existing = await anyio.to_thread.run_sync(lambda: [f for f in files if f[0].is_file()])
    return run, existing


# Mail --------------------------------------------------------------------------------------------

_SUBJECT = {
    "en": "Your badge for {event}",
    "zh": "您的{event}胸牌",
    "ru": "Ваш бейдж на «{event}»",
}
_BODY = {
    "en": (
        "Hello {name},\n\nYour badge for {event} is ready. Print it (A6) or show its QR code at the "
        "entrance:\n{link}\n\nA label-printer version (4 × 3 inches):\n{label}\n"
    ),
    "zh": "{name}，您好！\n\n您的{event}胸牌已生成。请打印（A6）或在入口出示其中的二维码：\n{link}\n\n标签打印机版本（4 × 3 英寸）：\n{label}\n",
    "ru": (
        "Здравствуйте, {name}!\n\nВаш бейдж на «{event}» готов. Распечатайте его (A6) или покажите "
        "QR-код на входе:\n{link}\n\nВариант для принтера этикеток (4 × 3 дюйма):\n{label}\n"
    ),
}


async def mail_badges(principal: Principal, event_id: int) -> BadgeMailOut:
    """Mail every valid ticket's holder with an address the link to their badge, through the outbox,
    in their language (the event's first otherwise); one transaction and one audit entry."""
    event = await event_access(principal, event_id)
    rows = await fetch_all(
        f"SELECT {BADGE_COLUMNS}, u.locale {BADGE_FROM} LEFT JOIN podium_user u ON u.id = t.holder"
        " WHERE t.event = {} AND t.status = 'valid' ORDER BY t.id",
        event_id,
    )
    mailed = skipped = 0
    default = "zh" if event["name_zh"] else "ru" if event["name_ru"] else "en"
    async with transaction():
        for row in rows:
            if not row["holder_email"]:
                skipped += 1
                continue
            locale = locale_of(row["locale"], default)
            values = {
                "name": row["holder_name"] or row["holder_latin"],
                "event": next(
                    (event[f"name_{loc}"] for loc in (locale, "en", "zh", "ru") if event.get(f"name_{loc}")),
                    "",
                ),
                "link": badge_link(row["id"], row["serial"], "a6"),
                "label": badge_link(row["id"], row["serial"], "label"),
            }
            await queue_email(
                row["holder_email"], _SUBJECT[locale].format(**values), _BODY[locale].format(**values)
            )
            mailed += 1
        await audit.record(
            principal.id or None,
            "ticketing.badges_mailed",
            "event",
            event_id,
            event_id=event_id,
            data={"mailed": mailed, "without_address": skipped},
        )
    return BadgeMailOut(mailed=mailed, without_address=skipped)


async def holder_counts(event_id: int) -> dict[str, int]:
    """The event's valid tickets, and those whose holder has no address (no badge mail for them)."""
    row = await fetch_one(
        "SELECT COUNT(*) AS tickets, COUNT(*) FILTER (WHERE holder_email = '') AS without_address"
        " FROM ticket WHERE event = {} AND status = 'valid'",
        event_id,
    )
    return {"tickets": row["tickets"], "without_address": row["without_address"]} if row else {}
