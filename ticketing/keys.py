"""The events' Ed25519 signing keys: created on first use, rotated by organizers, retired.

A private key is kept sealed (AES-GCM under a key derived from ``PODIUM_SECRET_KEY`` with HKDF) and
is opened only in this process to sign; nothing sends it anywhere. Codes are signed by the newest key
that is not retired; codes signed by an older key stay valid until their ticket is revoked or the key
is retired. Key ids (0–15, the low four bits of a code's first byte) are never reused within an
event, so a public key, once read, can be kept for the life of the process (:func:`public_key`).
"""

from __future__ import annotations

import base64
import datetime as dt
import os
import secrets
from functools import cache

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from backend.db import fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import Conflict
from backend.events.tables import Event
from backend.settings import get_settings
from ticketing import codes
from ticketing.tables import SigningKey

_SEAL_PREFIX = "v1:"


@cache
def _sealer(secret: str) -> AESGCM:
    key = HKDF(algorithm=SHA256(), length=32, salt=None, info=b"podium ticket signing keys").derive(
        secret.encode()
    )
    return AESGCM(key)


def seal(private_key: bytes, event_id: int) -> str:
    nonce = os.urandom(12)
    sealed = _sealer(get_settings().secret_key).encrypt(nonce, private_key, str(event_id).encode())
    return _SEAL_PREFIX + base64.b64encode(nonce + sealed).decode("ascii")


def unseal(text: str, event_id: int) -> bytes:
    raw = base64.b64decode(text.removeprefix(_SEAL_PREFIX))
    return _sealer(get_settings().secret_key).decrypt(raw[:12], raw[12:], str(event_id).encode())


async def _create(event_id: int, key_id: int) -> dict[str, object]:
    private, public = codes.new_key()
    row = SigningKey(
        event=event_id, key_id=key_id, public_key=public.hex(), private_key=seal(private, event_id)
    )
    await row.save()
    return {"key_id": key_id, "private_key": row.private_key}


async def signing_key(event_id: int) -> tuple[int, bytes]:
    """The key that signs the event's new codes, as (key id, private key): the newest live one, made
    on first use. Takes the event's row lock only when it has to make one."""
    row = await fetch_one(
        "SELECT key_id, private_key FROM ticket_signing_key WHERE event = {} AND retired_at IS NULL"
        " ORDER BY key_id DESC LIMIT 1",
        event_id,
    )
    if row is None:
        async with transaction():
            await locked_row(Event, event_id)
            row = await fetch_one(
                "SELECT key_id, private_key FROM ticket_signing_key WHERE event = {} AND retired_at IS NULL"
                " ORDER BY key_id DESC LIMIT 1",
                event_id,
            )
            if row is None:
                used = await fetch_one(
                    "SELECT MAX(key_id) AS top FROM ticket_signing_key WHERE event = {}", event_id
                )
                top = used["top"] if used else None
                row = await _create(event_id, 0 if top is None else _next_id(top))
    return row["key_id"], unseal(row["private_key"], event_id)


def _next_id(top: int) -> int:
    if top >= codes.MAX_KEY_ID:
        raise Conflict(
            "keys_exhausted",
            "The event has used all {count} signing keys; its codes cannot be signed by a new one",
            params={"count": codes.MAX_KEY_ID + 1},
        )
    return top + 1


async def rotate(event_id: int) -> int:
    """Make a new signing key for the event (new codes use it; old ones stay valid) and return its
    id. Call inside a transaction holding the event's row lock."""
    used = await fetch_one("SELECT MAX(key_id) AS top FROM ticket_signing_key WHERE event = {}", event_id)
    top = used["top"] if used else None
    key_id = 0 if top is None else _next_id(top)
    await _create(event_id, key_id)
    return key_id


async def retire(event_id: int, key_id: int) -> bool:
    """Retire a key: codes it signed stop verifying (reissue their tickets first). Whether it was live."""
    rows = await fetch_all(
        "UPDATE ticket_signing_key SET retired_at = {} WHERE event = {} AND key_id = {}"
        " AND retired_at IS NULL RETURNING id",
        utcnow(),
        event_id,
        key_id,
    )
    return bool(rows)


async def live_public_keys(event_id: int) -> dict[int, bytes]:
    """The event's keys that are not retired, by key id: what a scanner needs offline."""
    rows = await fetch_all(
        "SELECT key_id, public_key FROM ticket_signing_key WHERE event = {} AND retired_at IS NULL", event_id
    )
    return {r["key_id"]: bytes.fromhex(r["public_key"]) for r in rows}


_public_keys: dict[tuple[int, int], bytes] = {}


async def public_key(event_id: int, key_id: int, *, fresh: bool = False) -> bytes | None:
    """One key's public half, retired or not (the caller checks retirement where it matters), kept
    for the life of the process once read. A database emptied and refilled (tests, a restored
    backup) can reuse an event's id: a caller whose signature fails against the kept key asks again
    with ``fresh`` before calling the code invalid."""
    found = None if fresh else _public_keys.get((event_id, key_id))
    if found is None:
        row = await fetch_one(
            "SELECT public_key FROM ticket_signing_key WHERE event = {} AND key_id = {}", event_id, key_id
        )
        if row is None:
            _public_keys.pop((event_id, key_id), None)
            return None
        found = _public_keys[(event_id, key_id)] = bytes.fromhex(row["public_key"])
    return found


def sign_new(
    event_id: int,
    key_id: int,
    private: bytes,
    kind: str,
    type_number: int,
    valid_from: dt.date,
    valid_until: dt.date,
    flags: codes.Flag = codes.Flag.none,
) -> tuple[str, str]:
    """A fresh random serial and its code signed with ``private``, the event's key ``key_id``:
    (serial in hex, code). Issuers that sign many codes read the key once and call this."""
    claims = codes.Claims(
        event_id=event_id,
        key_id=key_id,
        serial=secrets.token_bytes(codes.SERIAL_BYTES),
        kind=kind,
        type_number=type_number,
        valid_from=valid_from,
        valid_until=valid_until,
        flags=flags,
    )
    return claims.serial_hex, codes.encode(claims, private)


async def sign_ticket(
    event_id: int,
    kind: str,
    type_number: int,
    valid_from: dt.date,
    valid_until: dt.date,
    flags: codes.Flag = codes.Flag.none,
) -> tuple[str, str, int]:
    """A fresh serial and its signed code for a ticket of the event: (serial in hex, code, key id)."""
    key_id, private = await signing_key(event_id)
    serial, code = sign_new(event_id, key_id, private, kind, type_number, valid_from, valid_until, flags)
    return serial, code, key_id
