"""Signed ticket codes: what a QR code on a ticket or badge says, and how any device holding only the
event's public keys checks it offline. Pure: no I/O, no database, no clock of its own.

A code is 24 bytes of claims and their Ed25519 signature (64 bytes) in upper-case Base32 without
padding: 141 characters of the QR alphanumeric set, so the code fits QR version 6 at error
correction M and survives any keyboard layout when a hardware scanner types it. The claims, big-endian:

====  =====  ===========================================================================
byte  size   what
====  =====  ===========================================================================
0     1      scheme version (high four bits, :data:`VERSION`) and the signing key's id (low four)
1     4      the event's id
5     12     the ticket's serial: 96 random bits, the key a scan looks the ticket up by
17    1      the participant kind (:data:`KINDS`)
18    2      the ticket type's number within its event
20    2      the first valid day, in days since :data:`EPOCH`
22    1      how many days it is valid, from the first (1–255)
23    1      :class:`Flag` bits
====  =====  ===========================================================================

The signature covers :data:`CONTEXT` followed by the claims, so no other Ed25519 message of the
server's can pass for a ticket.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import struct
from dataclasses import dataclass
from enum import IntFlag
from functools import lru_cache

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

VERSION = 1
CONTEXT = b"PODIUM-TICKET-1"
EPOCH = dt.date(2020, 1, 1)
SERIAL_BYTES = 12
CLAIMS_BYTES = 24
SIGNATURE_BYTES = 64
CODE_LENGTH = 141  # ceil((24 + 64) * 8 / 5)
MAX_KEY_ID = 15
MAX_VALID_DAYS = 255

# The participant kinds in the order of their class byte; ticketing.tables.ParticipantKind names the
# same values (a test keeps them equal). New kinds go at the end: printed codes keep their meaning.
KINDS = (
    "team_member",
    "advisor",
    "judge",
    "guest",
    "speaker",
    "exhibitor_staff",
    "visitor",
    "staff",
)

_LAYOUT = struct.Struct(">BI12sBHHBB")
assert _LAYOUT.size == CLAIMS_BYTES


class Flag(IntFlag):
    """What the gate should notice about the holder."""

    none = 0
    attention = 1  # a VIP, a speaker: the scanner shows it


class CodeError(ValueError):
    """The text is not a ticket code of this scheme (altered, truncated, garbage): ``reason`` is
    ``invalid``, the scan API's word for it."""

    reason = "invalid"


@dataclass(frozen=True)
class Claims:
    """What a code says about its ticket."""

    event_id: int
    key_id: int
    serial: bytes
    kind: str
    type_number: int
    valid_from: dt.date
    valid_until: dt.date
    flags: Flag = Flag.none

    @property
    def serial_hex(self) -> str:
        return self.serial.hex()

    def pack(self) -> bytes:
        """The 24 bytes that are signed; raises ``ValueError`` for claims no code can carry."""
        days = (self.valid_until - self.valid_from).days + 1
        first = (self.valid_from - EPOCH).days
        if not 0 <= self.key_id <= MAX_KEY_ID:
            raise ValueError(f"key id {self.key_id} is not in 0–{MAX_KEY_ID}")
        if len(self.serial) != SERIAL_BYTES:
            raise ValueError(f"a serial has {SERIAL_BYTES} bytes")
        if not 1 <= days <= MAX_VALID_DAYS:
            raise ValueError(f"a ticket is valid for 1–{MAX_VALID_DAYS} days, not {days}")
        if not 0 <= first <= 0xFFFF:
            raise ValueError(f"{self.valid_from} is outside the dates a code can carry")
        return _LAYOUT.pack(
            (VERSION << 4) | self.key_id,
            self.event_id,
            self.serial,
            KINDS.index(self.kind),
            self.type_number,
            first,
            days,
            int(self.flags),
        )

    def valid_on(self, day: dt.date) -> bool:
        return self.valid_from <= day <= self.valid_until


@dataclass(frozen=True)
class SignedCode:
    """A code read into its claims, not yet checked against any key."""

    claims: Claims
    signed: bytes  # CONTEXT + the claims' bytes
    signature: bytes

    def verify(self, public_key: bytes) -> bool:
        """Whether the signature is the one the holder of ``public_key`` (32 raw bytes) made."""
        try:
            _public_key(public_key).verify(self.signature, self.signed)
        except (InvalidSignature, ValueError):
            return False
        return True


@lru_cache(maxsize=1024)
def _public_key(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def new_key() -> tuple[bytes, bytes]:
    """A fresh key pair as (private, public) raw bytes (32 each)."""
    private = Ed25519PrivateKey.generate()
    return private.private_bytes_raw(), private.public_key().public_bytes_raw()


def encode(claims: Claims, private_key: bytes) -> str:
    """The code for ``claims`` signed with ``private_key`` (32 raw bytes)."""
    body = claims.pack()
    signature = Ed25519PrivateKey.from_private_bytes(private_key).sign(CONTEXT + body)
    return base64.b32encode(body + signature).decode("ascii").rstrip("=")


def normalize(text: str) -> str:
    """What a scanner read, as a code: surrounding blanks dropped, letters in upper case (a keyboard
    wedge with Caps Lock on types lower case)."""
    return text.strip().upper()


def read(text: str) -> SignedCode:
    """The claims and signature of a code; :class:`CodeError` when it cannot be one."""
    text = normalize(text)
    if len(text) != CODE_LENGTH:
        raise CodeError(f"a ticket code has {CODE_LENGTH} characters, not {len(text)}")
    try:
        raw = base64.b32decode(text + "=" * (-len(text) % 8))
    except (binascii.Error, ValueError) as exc:
        raise CodeError("not Base32") from exc
    body, signature = raw[:CLAIMS_BYTES], raw[CLAIMS_BYTES:]
    head, event_id, serial, kind, type_number, first, days, flags = _LAYOUT.unpack(body)
    if head >> 4 != VERSION:
        raise CodeError(f"scheme version {head >> 4} is unknown")
    if kind >= len(KINDS) or days == 0:
        raise CodeError("the claims are out of range")
    valid_from = EPOCH + dt.timedelta(days=first)
    claims = Claims(
        event_id=event_id,
        key_id=head & 0x0F,
        serial=serial,
        kind=KINDS[kind],
        type_number=type_number,
        valid_from=valid_from,
        valid_until=valid_from + dt.timedelta(days=days - 1),
        flags=Flag(flags),
    )
    return SignedCode(claims, CONTEXT + body, signature)


@dataclass(frozen=True)
class Verdict:
    """What a code alone says at a gate: ``reason`` is ``None`` when it is a genuine ticket of the
    event valid today, else the scan API's reason (``invalid``, ``wrong_event``, ``outside_time``).
    ``claims`` is set whenever the code could be read."""

    reason: str | None
    claims: Claims | None = None


def check(text: str, event_id: int, public_keys: dict[int, bytes], today: dt.date) -> Verdict:
    """Check a scanned code offline for the event ``event_id``, whose live (not retired) public
    keys by key id are ``public_keys``, on the local date ``today``.

    Reasons, most fundamental first: a code that cannot be read, or whose signature no live key of
    its event made, is ``invalid``; a genuine-looking code of another event is ``wrong_event``
    (its signature cannot be checked here); a ticket outside its validity is ``outside_time``.
    """
    try:
        code = read(text)
    except CodeError:
        return Verdict("invalid")
    claims = code.claims
    if claims.event_id != event_id:
        return Verdict("wrong_event", claims)
    key = public_keys.get(claims.key_id)
    if key is None or not code.verify(key):
        return Verdict("invalid", claims)
    if not claims.valid_on(today):
        return Verdict("outside_time", claims)
    return Verdict(None, claims)
