"""Scanning: may this code enter this list now? Answered at gate speed, exactly once.

The hot path (lists whose rules' :meth:`~ticketing.rules.ListRules.slot_mode` is ``once`` or
``daily``, on PostgreSQL) costs ONE statement in autocommit: the device comes from the token cache,
the list and its rules from a per-process cache (:func:`list_config`), the code is read (no
signature check: the statement compares the whole code with the ticket's, which only a code the
server signed matches), the static rules (types, windows) and the ticket's validity are checked in
Python, and then one CTE looks the ticket up by serial with its type and key and inserts the admitted
row ``ON CONFLICT DO NOTHING RETURNING``. The unique index ``checkin_admission`` (list, ticket, slot)
makes any number of concurrent scans from any number of processes admit the ticket once; the unique
index ``checkin_nonce`` (actor, nonce) makes a retry find its first answer. Only a refusal or a
conflict costs more: the rejected row (with the earlier admission it names), and for a retried nonce
the read of its first answer (the statements are pinned in
``tests/integration/test_ticketing_scan_statements.py``).

Lists that need the ticket's log (``counted``: entries and exits, several entries, capacity, venue
first) take one transaction: the ticket's row locked (``FOR UPDATE``; SQLite's IMMEDIATE
transaction holds its only write lock), its log read, :func:`ticketing.rules.evaluate`, the row
inserted and ``checkin_list.inside`` moved (under the list's row lock when it has a capacity). On
SQLite the once/daily lists take the same kind of transaction (its writers queue on one lock).

Offline uploads (:func:`sync`) go through the same paths with the device's time and verdict: they are
recorded, never refused after the fact; an admission the server would have refused is stored as
``rejected`` with its reason and ``conflict`` set, for the organizer's conflicts page.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import time
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from piccolo.engine.postgres import PostgresEngine

from backend.db import engine, fetch_all, fetch_one, transaction, utcnow
from backend.errors import Conflict, DomainError, NotFound, fill
from backend.i18n import localized, translations
from backend.policy import Action, Principal, decide, event_context, refuse_unless_allowed
from ticketing import codes, keys, rules
from ticketing.access import actor_of, scan_access
from ticketing.checkin.schemas import ConflictOut, PreviousOut, ScanIn, ScanOut, TicketOut

LIST_TTL = 5.0  # seconds a process trusts its copy of a list's rules
FUTURE_SKEW = dt.timedelta(minutes=5)  # how far ahead of the server's clock a device's may run

# Reasons of the scan API this module decides itself (the rules' are in ticketing.rules).
INVALID = "invalid"
REVOKED = "revoked"
WRONG_EVENT = "wrong_event"

# Message ids (English; translated in ticketing_checkin.po).
MSG_INVALID = "Not a valid ticket code"
MSG_REVOKED = "This ticket was revoked"
MSG_WRONG_EVENT = "This ticket is for another event"
MSG_NOT_VALID_TODAY = "This ticket is not valid today"
MSG_REFUSED = "Not admitted"
MESSAGES = (MSG_INVALID, MSG_REVOKED, MSG_WRONG_EVENT, MSG_NOT_VALID_TODAY, MSG_REFUSED)
_GENERIC = {
    INVALID: MSG_INVALID,
    REVOKED: MSG_REVOKED,
    WRONG_EVENT: MSG_WRONG_EVENT,
    rules.OUTSIDE_TIME: MSG_NOT_VALID_TODAY,
}


def _is_postgres() -> bool:
    return isinstance(engine(), PostgresEngine)


# The lists ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ListConfig:
    """What a scan needs to know about its list, kept per process for :data:`LIST_TTL` seconds."""

    id: int
    event_id: int
    name: str
    kind: str
    rules: rules.ListRules
    mode: str
    tz: ZoneInfo
    time_zone: str
    archived: bool
    loaded: float


_lists: dict[int, ListConfig] = {}

_LIST_SQL = """
SELECT l.id, l.event, l.name, l.kind, l.rules, l.archived_at, e.time_zone
FROM checkin_list l JOIN event e ON e.id = l.event WHERE l.id = {}
"""


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name or "UTC")


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str | bytes) else value


async def list_config(list_id: int) -> ListConfig | None:
    """The list's rules and event, from this process's copy while it is fresh."""
    now = time.monotonic()
    found = _lists.get(list_id)
    if found is not None and now - found.loaded < LIST_TTL:
        return found
    row = await fetch_one(_LIST_SQL, list_id)
    if row is None:
        _lists.pop(list_id, None)
        return None
    list_rules = rules.ListRules.from_json(_json(row["rules"]) or {})
    found = _lists[list_id] = ListConfig(
        id=row["id"],
        event_id=row["event"],
        name=row["name"],
        kind=row["kind"],
        rules=list_rules,
        mode=list_rules.slot_mode(),
        tz=_zone(row["time_zone"]),
        time_zone=row["time_zone"],
        archived=row["archived_at"] is not None,
        loaded=now,
    )
    return found


def forget_list(list_id: int) -> None:
    """Drop this process's copy of a list (its rules changed); other processes follow within
    :data:`LIST_TTL` seconds."""
    _lists.pop(list_id, None)


# Statements --------------------------------------------------------------------------------------

_TICKET_COLUMNS = """t.id, t.status, t.holder_name, t.holder_latin, t.flags,
       ty.name_zh, ty.name_en, ty.name_ru, ty.kind,
       EXISTS (SELECT 1 FROM ticket_signing_key k WHERE k.event = t.event AND k.key_id = t.key_id
               AND k.retired_at IS NOT NULL) AS retired"""
_TICKET_FROM = """FROM ticket t JOIN ticket_type ty ON ty.id = t.ticket_type
WHERE t.serial = {} AND t.code = {} AND t.event = {}"""

_INSERT_COLUMNS = """checkin_list, event, ticket, direction, status, reason, slot, actor, nonce, device,
    staff, gate, scanned_at, received_at, offline, offline_verdict, conflict, code"""

# The hot path: the ticket by serial (the whole code must match), its type and key, and the
# admission inserted unless the ticket is revoked, its key retired, or the slot or nonce taken.
_ADMIT = f"""
WITH t AS (
    SELECT {_TICKET_COLUMNS}
    {_TICKET_FROM}
), ins AS (
    INSERT INTO checkin ({_INSERT_COLUMNS})
    SELECT {{}}, {{}}, t.id, 'entry', 'admitted', NULL, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}},
           {{}}, {{}}, FALSE, ''
    FROM t WHERE t.status = 'valid' AND NOT t.retired
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT t.*, (SELECT id FROM ins) AS admitted FROM t
"""  # noqa: S608 - constant fragments; every value is a parameter

# A ticket's row (and whether the serial is one a reissue or transfer revoked), for refusals.
_LOOKUP = f"""
SELECT r.revoked_serial, t.* FROM (
    SELECT EXISTS (SELECT 1 FROM ticket_revoked_code WHERE serial = {{}} AND event = {{}}) AS revoked_serial
) r LEFT JOIN (
    SELECT {_TICKET_COLUMNS}
    {_TICKET_FROM}
) t ON TRUE
"""  # noqa: S608 - constant fragments; every value is a parameter
_LOOKUP_LOCKED_PG = f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM} FOR UPDATE OF t"
_LOOKUP_LOCKED_SQLITE = f"SELECT {_TICKET_COLUMNS} {_TICKET_FROM}"

_REJECT = f"""
INSERT INTO checkin ({_INSERT_COLUMNS})
VALUES ({{}}, {{}}, {{}}, {{}}, 'rejected', {{}}, NULL, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}})
ON CONFLICT DO NOTHING
RETURNING id
"""  # noqa: S608 - constant fragments; every value is a parameter
_INSERT_ADMITTED = f"""
INSERT INTO checkin ({_INSERT_COLUMNS})
VALUES ({{}}, {{}}, {{}}, {{}}, 'admitted', NULL, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, {{}}, FALSE, '')
ON CONFLICT DO NOTHING
RETURNING id
"""  # noqa: S608 - constant fragments; every value is a parameter

# The slot was taken: the admission that took it, and this scan's refusal recorded.
_ALREADY_PG = f"""
WITH prev AS (
    SELECT gate, scanned_at FROM checkin
    WHERE checkin_list = {{}} AND ticket = {{}} AND slot = {{}} AND status = 'admitted' AND direction = 'entry'
), ins AS (
    INSERT INTO checkin ({_INSERT_COLUMNS})
    VALUES ({{}}, {{}}, {{}}, 'entry', 'rejected', 'already_checked_in', NULL, {{}}, {{}}, {{}}, {{}}, {{}}, {{}},
            {{}}, {{}}, {{}}, {{}}, '')
    ON CONFLICT DO NOTHING
    RETURNING id
)
SELECT (SELECT id FROM ins) AS inserted, prev.gate, prev.scanned_at FROM (SELECT 1) one LEFT JOIN prev ON TRUE
"""  # noqa: S608 - constant fragments; every value is a parameter
_INSIDE_SQLITE = "SELECT inside FROM checkin_list WHERE id = {}"
_INSIDE_PG = _INSIDE_SQLITE + " FOR NO KEY UPDATE"
# A ticket's admitted scans on a list (and on the venue's list), oldest first.
_HISTORY = """
SELECT checkin_list, direction, scanned_at, gate FROM checkin
WHERE ticket = {} AND checkin_list IN ({}, {}) AND status = 'admitted' ORDER BY id
"""

# The first answer to a nonce: its row, the ticket, and the admission a refusal named.
_REPLAY = """
SELECT c.id, c.checkin_list, c.ticket, c.direction, c.status, c.reason, c.slot, c.scanned_at, c.code,
       t.code AS ticket_code, t.holder_name, t.holder_latin, t.flags,
       ty.name_zh, ty.name_en, ty.name_ru, ty.kind
FROM checkin c
LEFT JOIN ticket t ON t.id = c.ticket
LEFT JOIN ticket_type ty ON ty.id = t.ticket_type
WHERE c.actor = {} AND c.nonce = {}
"""
_LAST_ENTRY = """
SELECT gate, scanned_at FROM checkin
WHERE checkin_list = {} AND ticket = {} AND status = 'admitted' AND direction = 'entry' AND id < {}
ORDER BY id DESC LIMIT 1
"""


# Scanning ----------------------------------------------------------------------------------------


@dataclass
class _Scan:
    """One scan being decided: who, where, when, and what the answer will say."""

    principal: Principal
    data: ScanIn
    list: ListConfig
    locale: str
    actor: str
    gate: str
    scanned_at: dt.datetime
    received_at: dt.datetime
    now_local: dt.datetime
    offline: bool
    code: str

    @property
    def device_id(self) -> int | None:
        return self.principal.device.device_id if self.principal.device is not None else None

    @property
    def staff_id(self) -> int | None:
        return None if self.principal.device is not None else self.principal.id

    @property
    def conflict(self) -> bool:
        """A refusal of a scan the device admitted offline: the organizer must see it."""
        return self.data.offline_verdict == "admitted"

    def tail(self) -> tuple[Any, ...]:
        """The insert's values after ``slot``: actor, nonce, device, staff, gate, times, offline."""
        return (
            self.actor,
            self.data.nonce,
            self.device_id,
            self.staff_id,
            self.gate,
            self.scanned_at,
            self.received_at,
            self.offline,
            self.data.offline_verdict,
        )


def _stored(code: str) -> str:
    """What the log keeps of an unreadable code: the text as PostgreSQL can store it (no NUL, no
    lone surrogate; the schema bounds its length by the column's)."""
    return code.replace("\x00", "\ufffd").encode("utf-8", "replace").decode("utf-8")


def _text(locale: str, message: str, params: dict[str, str] | None = None) -> str:
    return fill(translations(locale).gettext(message), params or {})


def _name(row: Any, locale: str) -> str:
    """A row's ``name_<locale>`` with the site's fallback (raw rows are asyncpg records, not dicts)."""
    return localized({f"name_{loc}": row[f"name_{loc}"] for loc in ("zh", "en", "ru")}, "name", locale)


def _ticket_out(row: dict[str, Any] | None, locale: str) -> TicketOut | None:
    if row is None or row.get("kind") is None:
        return None
    return TicketOut(
        holder=row["holder_name"] or row["holder_latin"],
        type=_name(row, locale),
        kind=row["kind"],
        attention=bool(row["flags"] & codes.Flag.attention),
    )


async def scan(principal: Principal, data: ScanIn, locale: str) -> ScanOut:
    """Decide one scan and record it (see the module docstring); a retried nonce gets its first answer."""
    config = await list_config(data.list)
    if config is None:
        raise NotFound("Check-in list")
    if principal.device is not None:  # the device's own lists: no query
        if principal.device.event_id != config.event_id or config.id not in principal.device.lists:
            raise NotFound("Check-in list")
    else:
        await scan_access(principal, config.event_id, config.id)
    if config.archived:
        raise Conflict("list_archived", "This check-in list is archived; scan on another list")
    return await _decide(principal, data, config, locale)


async def _decide(principal: Principal, data: ScanIn, config: ListConfig, locale: str) -> ScanOut:
    received_at = utcnow()
    scanned_at = received_at
    offline = data.offline_verdict is not None
    if data.scanned_at is not None:
        if data.scanned_at.tzinfo is None:
            raise DomainError(
                "validation_error",
                "Invalid input: {problems}",
                status_code=422,
                fields={"scanned_at": "must include a time zone offset"},
            )
        if data.scanned_at > received_at + FUTURE_SKEW:
            raise DomainError(
                "validation_error",
                "Invalid input: {problems}",
                status_code=422,
                fields={"scanned_at": "must not be in the future"},
            )
        scanned_at = data.scanned_at
    device = principal.device
    gate = (device.gate if device is not None else "") or config.name
    scan_ = _Scan(
        principal=principal,
        data=data,
        list=config,
        locale=locale,
        actor=f"d{device.device_id}" if device is not None else actor_of(principal),
        gate=gate,
        scanned_at=scanned_at,
        received_at=received_at,
        now_local=scanned_at.astimezone(config.tz).replace(tzinfo=None),
        offline=offline,
        code=codes.normalize(data.code),
    )
    try:
        signed = codes.read(scan_.code)
    except codes.CodeError:
        return await _reject(scan_, INVALID, MSG_INVALID)
    claims = signed.claims
    if claims.event_id != config.event_id:
        return await _reject(scan_, WRONG_EVENT, MSG_WRONG_EVENT)
    direction = data.direction
    fast = config.mode != "counted" and direction == "entry" and data.offline_verdict != "rejected"
    if fast:
        if not claims.valid_on(scan_.now_local.date()):
            return await _refuse_signed(scan_, signed, rules.OUTSIDE_TIME, MSG_NOT_VALID_TODAY)
        static = rules.check_static(config.rules, type_number=claims.type_number, now_local=scan_.now_local)
        if static is not None:
            return await _refuse_signed(scan_, signed, static.reason, static.message, static.params)
        slot = rules.slot_of(config.rules, scan_.now_local)
        if _is_postgres():
            return await _admit_once(scan_, signed, slot)
    return await _admit_counted(scan_, signed)


async def _admit_once(scan_: _Scan, signed: codes.SignedCode, slot: int) -> ScanOut:
    """The hot path on PostgreSQL: one statement decides; a refusal records itself in a second."""
    config = scan_.list
    serial = signed.claims.serial_hex
    rows = await fetch_all(
        _ADMIT, serial, scan_.code, config.event_id, config.id, config.event_id, slot, *scan_.tail()
    )
    if not rows:  # no ticket answers to this exact code: revoked, or never ours
        return await _refuse_signed(scan_, signed, INVALID, MSG_INVALID)
    row = rows[0]
    if row["admitted"] is not None:
        return _answer(scan_, None, rules.MSG_WELCOME, row)
    if row["status"] != "valid":
        return await _reject(scan_, REVOKED, MSG_REVOKED, row)
    if row["retired"]:
        return await _reject(scan_, INVALID, MSG_INVALID, row)
    # The slot or the nonce was taken: record the refusal, naming the admission that took the slot.
    found = await fetch_one(
        _ALREADY_PG,
        config.id,
        row["id"],
        slot,
        config.id,
        config.event_id,
        row["id"],
        *scan_.tail(),
        scan_.conflict,
    )
    if found is None or found["inserted"] is None:
        return await _replay(scan_)
    previous = (
        rules.PastScan("entry", found["scanned_at"], found["gate"]) if found["gate"] is not None else None
    )
    return _already(scan_, previous, row)


def _already(scan_: _Scan, previous: rules.PastScan | None, row: dict[str, Any] | None) -> ScanOut:
    if previous is None:  # the admission is gone (its list or ticket was deleted meanwhile)
        return _answer(scan_, rules.ALREADY, MSG_REFUSED, row)
    decision = rules.already_checked_in(previous, now_local=scan_.now_local, tz=scan_.list.tz)
    return _answer(scan_, rules.ALREADY, decision.message, row, decision.params, previous)


def _answer(
    scan_: _Scan,
    reason: str | None,
    message: str,
    row: dict[str, Any] | None,
    params: dict[str, str] | None = None,
    previous: rules.PastScan | None = None,
    *,
    replayed: bool = False,
    scanned_at: dt.datetime | None = None,
) -> ScanOut:
    return ScanOut(
        status="admitted" if reason is None else "rejected",
        reason=reason,
        message=_text(scan_.locale, message, params),
        ticket=_ticket_out(row, scan_.locale),
        previous=None if previous is None else PreviousOut(gate=previous.gate, at=previous.at),
        scanned_at=scanned_at or scan_.scanned_at,
        replayed=replayed,
    )


async def _genuine(signed: codes.SignedCode) -> bool:
    """Whether the code's signature is its event's key's (asked afresh once before saying no)."""
    claims = signed.claims
    key = await keys.public_key(claims.event_id, claims.key_id)
    if key is not None and signed.verify(key):
        return True
    key = await keys.public_key(claims.event_id, claims.key_id, fresh=True)
    return key is not None and signed.verify(key)


async def _refuse_signed(
    scan_: _Scan, signed: codes.SignedCode, reason: str, message: str, params: dict[str, str] | None = None
) -> ScanOut:
    """A refusal of a readable code of the list's event: the nearest reason of invalid (a forged
    signature, a retired key), revoked (the ticket, or an old serial of it), then ``reason``."""
    if not await _genuine(signed):
        return await _reject(scan_, INVALID, MSG_INVALID)
    found = await fetch_one(
        _LOOKUP,
        signed.claims.serial_hex,
        scan_.list.event_id,
        signed.claims.serial_hex,
        scan_.code,
        scan_.list.event_id,
    )
    row = found if found is not None and found["id"] is not None else None
    if row is None:
        if found is not None and found["revoked_serial"]:
            return await _reject(scan_, REVOKED, MSG_REVOKED)
        return await _reject(scan_, INVALID, MSG_INVALID)
    if row["status"] != "valid":
        return await _reject(scan_, REVOKED, MSG_REVOKED, row)
    if row["retired"]:
        return await _reject(scan_, INVALID, MSG_INVALID, row)
    return await _reject(scan_, reason, message, row, params)


async def _reject(
    scan_: _Scan,
    reason: str,
    message: str,
    row: dict[str, Any] | None = None,
    params: dict[str, str] | None = None,
    previous: rules.PastScan | None = None,
) -> ScanOut:
    """Record a refusal and answer it; a taken nonce answers with its first answer instead."""
    inserted = await fetch_all(
        _REJECT,
        scan_.list.id,
        scan_.list.event_id,
        None if row is None else row["id"],
        scan_.data.direction,
        reason,
        *scan_.tail(),
        scan_.conflict,
        "" if row is not None else _stored(scan_.code),
    )
    if not inserted:
        return await _replay(scan_)
    return _answer(scan_, reason, message, row, params, previous)


async def _replay(scan_: _Scan) -> ScanOut:
    """The first answer to this scan's nonce; a nonce used for another scan is refused (409)."""
    row = await fetch_one(_REPLAY, scan_.actor, scan_.data.nonce)
    if row is None:  # the first attempt's row went away (its list was deleted): nothing to say
        raise Conflict(
            "nonce_reused", "This nonce was used for another scan; send a new nonce with each scan"
        )
    same_code = (
        row["ticket_code"] == scan_.code if row["ticket"] is not None else row["code"] == _stored(scan_.code)
    )
    if row["checkin_list"] != scan_.list.id or row["direction"] != scan_.data.direction or not same_code:
        raise Conflict(
            "nonce_reused",
            "This nonce was used for another scan; send a new nonce with each scan",
            fields={"nonce": "was used for another scan"},
        )
    ticket = row if row["ticket"] is not None else None
    at = row["scanned_at"]
    if row["status"] == "admitted":
        message = rules.MSG_EXIT if row["direction"] == "exit" else rules.MSG_WELCOME
        return _answer(scan_, None, message, ticket, replayed=True, scanned_at=at)
    reason = row["reason"]
    if reason == rules.ALREADY and row["ticket"] is not None:
        prev = await fetch_one(_LAST_ENTRY, row["checkin_list"], row["ticket"], row["id"])
        previous = None if prev is None else rules.PastScan("entry", prev["scanned_at"], prev["gate"])
        answer = _already(scan_, previous, ticket)
        return ScanOut(**{**_fields(answer), "replayed": True, "scanned_at": at})
    message = _GENERIC.get(reason, MSG_REFUSED)
    return _answer(scan_, reason, message, ticket, replayed=True, scanned_at=at)


def _fields(answer: ScanOut) -> dict[str, Any]:
    return {name: getattr(answer, name) for name in answer.__struct_fields__}


async def _admit_counted(scan_: _Scan, signed: codes.SignedCode) -> ScanOut:
    """Lists that need the ticket's log (and every list on SQLite, and offline refusals): one
    transaction holding the ticket's row lock decides with :func:`ticketing.rules.evaluate`."""
    config = scan_.list
    claims = signed.claims
    postgres = _is_postgres()
    outcome: tuple[str, Any] | None = None
    async with transaction():
        rows = await fetch_all(
            _LOOKUP_LOCKED_PG if postgres else _LOOKUP_LOCKED_SQLITE,
            claims.serial_hex,
            scan_.code,
            config.event_id,
        )
        row = rows[0] if rows else None
        if row is None or row["status"] != "valid" or row["retired"]:
            outcome = ("refuse", row)
        elif not claims.valid_on(scan_.now_local.date()):
            outcome = ("reject", (rules.OUTSIDE_TIME, MSG_NOT_VALID_TODAY, {}, None, row))
        else:
            after = config.rules.after_list or config.id
            log = await fetch_all(_HISTORY, row["id"], config.id, after)
            history = [_past(r) for r in log if r["checkin_list"] == config.id]
            venue = [_past(r) for r in log if r["checkin_list"] == after]
            inside = 0
            if config.rules.capacity is not None and scan_.data.direction == "entry":
                locked = await fetch_one(_INSIDE_PG if postgres else _INSIDE_SQLITE, config.id)
                inside = locked["inside"] if locked else 0
            decision = rules.evaluate(
                config.rules,
                type_number=claims.type_number,
                now_local=scan_.now_local,
                direction=scan_.data.direction,
                history=history,
                venue_entries=venue,
                inside=inside,
                tz=config.tz,
            )
            if decision.admitted and scan_.data.offline_verdict == "rejected":
                # the device turned the holder away: nothing to admit now
                outcome = ("reject", (rules.NOT_ALLOWED, MSG_REFUSED, {}, None, row))
            elif decision.admitted:
                slot = decision.slot if scan_.data.direction == "entry" else None
                inserted = await fetch_all(
                    _INSERT_ADMITTED,
                    config.id,
                    config.event_id,
                    row["id"],
                    scan_.data.direction,
                    slot,
                    *scan_.tail(),
                )
                if inserted:
                    step = 1 if scan_.data.direction == "entry" else -1
                    await fetch_all(
                        "UPDATE checkin_list SET inside = inside + {} WHERE id = {}", step, config.id
                    )
                    outcome = ("admitted", (decision.message, row))
                else:
                    outcome = ("replay", None)
            else:
                outcome = (
                    "reject",
                    (decision.reason, decision.message, decision.params, decision.previous, row),
                )
    kind, value = outcome
    if kind == "admitted":
        message, row = value
        return _answer(scan_, None, message, row)
    if kind == "replay":
        return await _replay(scan_)
    if kind == "refuse":
        return await _refuse_signed(scan_, signed, INVALID, MSG_INVALID)
    reason, message, params, previous, row = value
    return await _reject(scan_, reason, message, row, params, previous)


def _past(row: dict[str, Any]) -> rules.PastScan:
    at = row["scanned_at"]
    if isinstance(at, str):  # SQLite
        at = dt.datetime.fromisoformat(at)
    return rules.PastScan(row["direction"], at, row["gate"])


async def sync(principal: Principal, scans: list[ScanIn], locale: str) -> list[ScanOut]:
    """Record scans made offline, in order; each answer is what the server decided (or the first
    answer of a nonce already uploaded)."""
    results = []
    for data in scans:
        if data.offline_verdict is None:
            data = msgspec.structs.replace(data, offline_verdict="admitted")
        results.append(await scan(principal, data, locale))
    return results


# The offline bundle ------------------------------------------------------------------------------


def holder_key(serial: bytes) -> bytes:
    """The AES-GCM key of a ticket's holder record in the offline bundle: only the code's holder
    (who shows the serial) lets a device read the name."""
    return HKDF(algorithm=SHA256(), length=32, salt=b"", info=b"podium holder").derive(serial)


def holder_index(serial: bytes) -> str:
    return hashlib.sha256(serial).hexdigest()[:16]


def seal_holder(serial: bytes, record: dict[str, str]) -> str:
    iv = os.urandom(12)
    sealed = AESGCM(holder_key(serial)).encrypt(iv, json.dumps(record, ensure_ascii=False).encode(), None)
    return base64.b64encode(iv + sealed).decode("ascii")


def open_holder(serial: bytes, text: str) -> dict[str, str]:
    raw = base64.b64decode(text)
    return json.loads(AESGCM(holder_key(serial)).decrypt(raw[:12], raw[12:], None))


async def offline_bundle(principal: Principal, list_id: int) -> dict[str, Any]:
    """What a scanner needs to decide offline on the list: the event's live public keys, the revoked
    serials, the list's rules, the ticket types and the holders' names sealed per ticket."""
    config = await list_config(list_id)
    if config is None:
        raise NotFound("Check-in list")
    await scan_access(principal, config.event_id, config.id)
    event = await fetch_one(
        "SELECT id, name_zh, name_en, name_ru, time_zone FROM event WHERE id = {}", config.event_id
    )
    live = await keys.live_public_keys(config.event_id)
    revoked = await fetch_all(
        "SELECT serial FROM ticket_revoked_code WHERE event = {}"
        " UNION SELECT serial FROM ticket WHERE event = {} AND status <> 'valid'",
        config.event_id,
        config.event_id,
    )
    types = await fetch_all(
        "SELECT number, kind, colour, name_zh, name_en, name_ru FROM ticket_type WHERE event = {} ORDER BY number",
        config.event_id,
    )
    tickets = await fetch_all(
        "SELECT t.serial, t.holder_name, t.holder_latin, t.institution FROM ticket t"
        " WHERE t.event = {} AND t.status = 'valid'",
        config.event_id,
    )
    locale = principal.locale
    holders = {}
    for t in tickets:
        serial = bytes.fromhex(t["serial"])
        record = {"name": t["holder_name"], "latin": t["holder_latin"], "institution": t["institution"]}
        holders[holder_index(serial)] = seal_holder(serial, record)
    device = principal.device
    return {
        "event": {"id": event["id"], "name": _name(event, locale), "time_zone": event["time_zone"]},
        "list": {
            "id": config.id,
            "name": config.name,
            "kind": config.kind,
            "rules": config.rules.to_json(),
        },
        "gate": (device.gate if device is not None else "") or config.name,
        "keys": {str(k): v.hex() for k, v in sorted(live.items())},
        "revoked": sorted(r["serial"] for r in revoked),
        "types": {
            str(t["number"]): {"name": _name(t, locale), "kind": t["kind"], "colour": t["colour"]}
            for t in types
        },
        "holders": holders,
        "generated_at": utcnow().isoformat(),
    }


# Conflicts ---------------------------------------------------------------------------------------

_CONFLICTS = """
SELECT c.id, c.checkin_list, l.name AS list_name, c.ticket, c.reason, c.gate, c.scanned_at, c.received_at,
       t.holder_name, t.holder_latin, p.gate AS prev_gate, p.scanned_at AS prev_at
FROM checkin c
JOIN checkin_list l ON l.id = c.checkin_list
LEFT JOIN ticket t ON t.id = c.ticket
LEFT JOIN checkin p ON p.id = (
    SELECT id FROM checkin q WHERE q.checkin_list = c.checkin_list AND q.ticket = c.ticket
    AND q.status = 'admitted' AND q.direction = 'entry' ORDER BY q.id DESC LIMIT 1
)
WHERE c.event = {} AND c.conflict
ORDER BY c.scanned_at DESC, c.id DESC
LIMIT {} OFFSET {}
"""


async def conflicts(
    principal: Principal, event_id: int, limit: int = 100, offset: int = 0
) -> tuple[list[ConflictOut], int]:
    """The event's offline admissions the server would have refused, newest first, and their count."""
    event = await event_context(principal, event_id)
    if event is None:
        raise NotFound("Event")
    refuse_unless_allowed(decide(principal, Action.view_attendance, event), Action.view_attendance)
    rows = await fetch_all(_CONFLICTS, event_id, limit, offset)
    total = await fetch_one("SELECT COUNT(*) AS n FROM checkin WHERE event = {} AND conflict", event_id)
    return [
        ConflictOut(
            id=r["id"],
            list=r["checkin_list"],
            list_name=r["list_name"],
            ticket=r["ticket"],
            holder=(r["holder_name"] or r["holder_latin"] or "") if r["ticket"] is not None else "",
            reason=r["reason"],
            gate=r["gate"],
            scanned_at=_aware(r["scanned_at"]),
            received_at=_aware(r["received_at"]),
            previous=None
            if r["prev_gate"] is None
            else PreviousOut(gate=r["prev_gate"], at=_aware(r["prev_at"])),
        )
        for r in rows
    ], (total["n"] if total else 0)


def _aware(value: Any) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)
