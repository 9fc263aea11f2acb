"""Signed ticket codes (``ticketing.codes``) over random families of claims: every code reads back to
its claims, fits QR version 6 at M in alphanumeric mode, and verifies with its key only; altered,
truncated, foreign-event, expired and garbage codes are refused with the right reason."""

from __future__ import annotations

import base64
import datetime as dt
import random
import string

import pytest
import qrcode
from qrcode.constants import ERROR_CORRECT_M

from ticketing import codes
from ticketing.render import ALPHANUMERIC
from ticketing.tables import ParticipantKind

SEED = 20261129


def random_claims(rng: random.Random, **fixed) -> codes.Claims:
    first = codes.EPOCH + dt.timedelta(days=rng.randrange(0, 0xFFFF - 300))
    values = {
        "event_id": rng.randrange(1, 2**32),
        "key_id": rng.randrange(0, codes.MAX_KEY_ID + 1),
        "serial": rng.randbytes(codes.SERIAL_BYTES),
        "kind": rng.choice(codes.KINDS),
        "type_number": rng.randrange(1, 65536),
        "valid_from": first,
        "valid_until": first + dt.timedelta(days=rng.randrange(0, codes.MAX_VALID_DAYS)),
        "flags": rng.choice(list(codes.Flag)),
    }
    values.update(fixed)
    return codes.Claims(**values)


@pytest.fixture(scope="module")
def keys():
    private, public = codes.new_key()
    other_private, other_public = codes.new_key()
    return private, public, other_private, other_public


def test_kinds_match_the_tables():
    assert tuple(k.value for k in ParticipantKind) == codes.KINDS


def test_codes_read_back_fit_qr_version_6_and_verify(keys):
    private, public, _, other_public = keys
    rng = random.Random(SEED)
    for _ in range(200):
        claims = random_claims(rng)
        code = codes.encode(claims, private)
        assert len(code) == codes.CODE_LENGTH
        assert set(code) <= set(ALPHANUMERIC)
        read = codes.read(code)
        assert read.claims == claims
        assert read.verify(public)
        assert not read.verify(other_public)
        # lower case (a keyboard wedge with Caps Lock) and blanks around it read the same
        assert codes.read(f"  {code.lower()}\r\n").claims == claims
        verdict = codes.check(code, claims.event_id, {claims.key_id: public}, claims.valid_from)
        assert verdict == codes.Verdict(None, claims)
    q = qrcode.QRCode(error_correction=ERROR_CORRECT_M)
    q.add_data(code)
    q.make(fit=True)
    assert q.version <= 6


def test_any_altered_character_is_refused(keys):
    """Changing one character of a code either breaks its reading or its signature: never passes."""
    private, public, _, _ = keys
    rng = random.Random(SEED + 1)
    alphabet = string.ascii_uppercase + "234567"
    for _ in range(300):
        claims = random_claims(rng, key_id=3)
        code = codes.encode(claims, private)
        at = rng.randrange(len(code))
        replacement = rng.choice([c for c in alphabet if c != code[at]])
        altered = code[:at] + replacement + code[at + 1 :]
        verdict = codes.check(altered, claims.event_id, {3: public}, claims.valid_from)
        if verdict.reason is None:  # the last character carries padding bits only when they match
            assert base64.b32decode(altered + "===") == base64.b32decode(code + "===")
        else:
            assert verdict.reason in ("invalid", "wrong_event")


def test_a_flipped_bit_in_claims_or_signature_is_invalid(keys):
    private, public, _, _ = keys
    rng = random.Random(SEED + 2)
    for _ in range(200):
        claims = random_claims(rng, key_id=0, event_id=77)
        raw = bytearray(base64.b32decode(codes.encode(claims, private) + "==="))
        bit = rng.randrange(len(raw) * 8)
        raw[bit // 8] ^= 1 << (bit % 8)
        altered = base64.b32encode(bytes(raw)).decode().rstrip("=")
        verdict = codes.check(altered, 77, {0: public}, claims.valid_from)
        assert verdict.reason in ("invalid", "wrong_event"), bit
        if bit // 8 not in range(1, 5):  # the event id's bytes
            assert verdict.reason == "invalid"


def test_truncated_extended_and_garbage_codes_are_invalid(keys):
    private, public, _, _ = keys
    rng = random.Random(SEED + 3)
    for _ in range(100):
        claims = random_claims(rng, key_id=1)
        code = codes.encode(claims, private)
        for text in (code[: rng.randrange(0, len(code))], code + rng.choice("A27"), code[1:]):
            assert codes.check(text, claims.event_id, {1: public}, claims.valid_from).reason == "invalid"
            with pytest.raises(codes.CodeError):
                codes.read(text)
    for text in ("", " ", "0" * 141, "1" * 141, "é" * 141, "https://example.com/?" + "A" * 120, "\x00" * 141):
        assert codes.check(text, 1, {1: public}, dt.date(2027, 1, 1)).reason == "invalid"
    for _ in range(200):
        garbage = "".join(
            rng.choice(ALPHANUMERIC) for _ in range(rng.choice((codes.CODE_LENGTH, rng.randrange(300))))
        )
        assert codes.check(garbage, 5, {k: public for k in range(16)}, dt.date(2027, 1, 1)).reason in (
            "invalid",
            "wrong_event",
        )


def test_foreign_event_unknown_key_and_validity(keys):
    private, public, other_private, _ = keys
    rng = random.Random(SEED + 4)
    for _ in range(100):
        claims = random_claims(rng, key_id=2)
        code = codes.encode(claims, private)
        assert codes.check(code, claims.event_id + 1, {2: public}, claims.valid_from).reason == "wrong_event"
        assert (
            codes.check(code, claims.event_id, {3: public}, claims.valid_from).reason == "invalid"
        )  # key retired
        forged = codes.encode(claims, other_private)  # right layout, someone else's key
        assert codes.check(forged, claims.event_id, {2: public}, claims.valid_from).reason == "invalid"
        day = dt.timedelta(days=1)
        assert codes.check(code, claims.event_id, {2: public}, claims.valid_until).reason is None
        assert (
            codes.check(code, claims.event_id, {2: public}, claims.valid_until + day).reason == "outside_time"
        )
        assert (
            codes.check(code, claims.event_id, {2: public}, claims.valid_from - day).reason == "outside_time"
        )


def test_claims_no_code_can_carry_are_refused(keys):
    private, _, _, _ = keys
    base = random_claims(random.Random(SEED + 5))
    for bad in (
        {"key_id": 16},
        {"serial": b"short"},
        {"valid_until": base.valid_from - dt.timedelta(days=1)},
        {"valid_until": base.valid_from + dt.timedelta(days=codes.MAX_VALID_DAYS)},
        {"valid_from": codes.EPOCH - dt.timedelta(days=1), "valid_until": codes.EPOCH},
    ):
        with pytest.raises(ValueError, match=r"key id|serial|valid|outside"):
            codes.encode(codes.Claims(**{**base.__dict__, **bad}), private)
