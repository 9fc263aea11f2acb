"""The scan API: the answer for every kind of code, exactly-once admission under concurrent scans,
nonce retries, once-a-day and counted lists, who may scan where, and the statements the hot path
sends (pinned: one for an admission)."""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import random

import pytest

from backend.accounts.tokens import token_digest
from backend.db import fetch_all, fetch_one
from backend.events.tables import Event
from tests.integration.ticketing_world import DEVICE_TOKEN, ENDS, STARTS, build_world, issue
from ticketing import access, codes, keys
from ticketing.checkin import service
from ticketing.tables import RevokedCode, Ticket

# 10:00 in Shanghai on the world's first day
NOW = dt.datetime(2027, 9, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    """The scan path's clock, settable: ``clock.now = ...``."""

    class Clock:
        now = NOW

    monkeypatch.setattr(service, "utcnow", lambda: Clock.now)
    service._lists.clear()
    return Clock


async def _device(make_client):
    client = await make_client()
    client.headers["authorization"] = f"Bearer {DEVICE_TOKEN}"
    return client


def _body(code: str, list_id: int, nonce: str, **more) -> dict:
    return {"code": code, "list": list_id, "nonce": nonce, **more}


async def _scan(client, code: str, list_id: int, nonce: str, **more) -> dict:
    response = await client.post("/api/v1/checkin/scan", json=_body(code, list_id, nonce, **more))
    assert response.status_code == 200, response.text
    return response.json()


async def test_admitted_once_then_already_checked_in_with_the_first_gate(make_client, clock):
    world = await build_world()
    device = await _device(make_client)
    gate = world.lists["gate"]
    first = await _scan(device, world.codes[0], gate, "n-1")
    assert first["status"] == "admitted"
    assert first["reason"] is None
    assert first["ticket"] == {"holder": "Visitor 1", "type": "观众", "kind": "visitor", "attention": False}
    clock.now = NOW + dt.timedelta(minutes=12)
    again = await _scan(device, world.codes[0], gate, "n-2")
    assert again["status"] == "rejected"
    assert again["reason"] == "already_checked_in"
    assert again["previous"] == {"gate": "Gate 3", "at": "2027-09-01T02:00:00Z"}
    assert "Gate 3" in again["message"]
    assert "10:00" in again["message"]
    # the log holds both attempts, one admission
    rows = await fetch_all("SELECT status, reason, slot FROM checkin ORDER BY id")
    assert [tuple(r.values()) for r in map(dict, rows)] == [
        ("admitted", None, 0),
        ("rejected", "already_checked_in", None),
    ]


async def test_a_retried_nonce_returns_the_first_answer_and_writes_nothing(make_client, clock):
    world = await build_world()
    device = await _device(make_client)
    gate = world.lists["gate"]
    first = await _scan(device, world.codes[0], gate, "retry-1")
    refused = await _scan(device, world.codes[0], gate, "retry-2")
    clock.now = NOW + dt.timedelta(minutes=5)
    for nonce, original in (("retry-1", first), ("retry-2", refused)):
        replay = await _scan(device, world.codes[0], gate, nonce)
        assert replay == {**original, "replayed": True}
    garbage = await _scan(device, "NOT A CODE", gate, "retry-3")
    assert await _scan(device, "NOT A CODE", gate, "retry-3") == {**garbage, "replayed": True}
    assert (await fetch_one("SELECT COUNT(*) AS n FROM checkin"))["n"] == 3
    # the same nonce for another scan is refused, naming the field
    response = await device.post("/api/v1/checkin/scan", json=_body(world.codes[1], gate, "retry-1"))
    assert response.status_code == 409
    assert response.json()["code"] == "nonce_reused"
    assert "nonce" in response.json()["fields"]


async def test_twenty_concurrent_scans_admit_once(make_client, clock):
    world = await build_world(holders=2)
    device = await _device(make_client)
    gate = world.lists["gate"]
    # 20 identical requests (one scan retried at once) and 20 scans of another ticket at 20 gates
    same = await asyncio.gather(*(_scan(device, world.codes[0], gate, "same") for _ in range(20)))
    assert {a["status"] for a in same} == {"admitted"}
    assert sum(not a["replayed"] for a in same) == 1
    many = await asyncio.gather(*(_scan(device, world.codes[1], gate, f"many-{i}") for i in range(20)))
    assert sorted(a["status"] for a in many) == ["admitted"] + ["rejected"] * 19
    assert {a["reason"] for a in many if a["status"] == "rejected"} == {"already_checked_in"}
    rows = await fetch_all("SELECT ticket, status, COUNT(*) AS n FROM checkin GROUP BY ticket, status")
    assert {(r["ticket"], r["status"]): r["n"] for r in rows} == {
        (world.tickets[0], "admitted"): 1,
        (world.tickets[1], "admitted"): 1,
        (world.tickets[1], "rejected"): 19,
    }


def _tampered(code: str, rng: random.Random) -> str:
    """The code with one meaningful character changed (not the last one's padding bits)."""
    position = rng.randrange(codes.CODE_LENGTH - 1)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567".replace(code[position], "")
    return code[:position] + rng.choice(alphabet) + code[position + 1 :]


async def test_every_kind_of_bad_code_gets_its_reason(make_client, clock):
    world = await build_world(holders=4)
    device = await _device(make_client)
    gate = world.lists["gate"]
    rng = random.Random(11)
    # a foreign event's genuine code, an expired ticket, a revoked ticket and a reissued one's old code
    other = Event(
        organization=world.organization,
        slug="other",
        kind="fair",
        name_en="Other",
        starts_on=STARTS,
        ends_on=ENDS,
    )
    await other.save()
    _, foreign, _ = await keys.sign_ticket(other.id, "visitor", 1, STARTS, ENDS)
    expired_serial, expired, key_id = await keys.sign_ticket(world.event, "visitor", 1, STARTS, STARTS)
    await Ticket(
        event=world.event,
        ticket_type=world.types["visitor"],
        serial=expired_serial,
        code=expired,
        key_id=key_id,
        holder_name="Late",
        valid_from=STARTS,
        valid_until=STARTS,
    ).save()
    await Ticket.update({Ticket.status: "revoked"}).where(Ticket.id == world.tickets[1])
    old_serial = codes.read(world.codes[2]).claims.serial_hex
    new_serial, new_code, _ = await keys.sign_ticket(world.event, "visitor", 1, STARTS, ENDS)
    await Ticket.update({Ticket.serial: new_serial, Ticket.code: new_code}).where(
        Ticket.id == world.tickets[2]
    )
    await RevokedCode(ticket=world.tickets[2], event=world.event, serial=old_serial, reason="reissued").save()
    clock.now = NOW + dt.timedelta(days=1)  # the second day: the expired ticket was valid on the first only
    forged = codes.Claims(**{**codes.read(world.codes[3]).claims.__dict__, "type_number": 2})
    raw = base64.b32decode(world.codes[3] + "===")
    forged_code = base64.b32encode(forged.pack() + raw[codes.CLAIMS_BYTES :]).decode().rstrip("=")
    cases = {
        "garbage": ("hello world", "invalid"),
        "empty": ("", "invalid"),
        "control characters": ("A\x00B", "invalid"),
        "truncated": (world.codes[3][:-7], "invalid"),
        "lower case": (world.codes[3].lower(), None),  # a keyboard wedge with Caps Lock: still the code
        "forged claims": (forged_code, "invalid"),
        "foreign event": (foreign, "wrong_event"),
        "expired": (expired, "outside_time"),
        "revoked": (world.codes[1], "revoked"),
        "reissued": (world.codes[2], "revoked"),
        "new code": (new_code, None),
    }
    for i in range(12):  # a family of single-character alterations of a genuine code
        cases[f"altered {i}"] = (_tampered(world.codes[0], rng), "invalid")
    for name, (code, reason) in cases.items():
        answer = await _scan(device, code, gate, f"bad-{len(name)}-{abs(hash(name)) % 10**8}")
        assert answer["reason"] == reason, (name, answer)
        assert answer["status"] == ("admitted" if reason is None else "rejected"), name
    # a lone surrogate (valid JSON, not text) is refused before any scan, as a bad request
    raw = b'{"code": "A\\ud800B", "list": %d, "nonce": "surrogate"}' % gate
    response = await device.post(
        "/api/v1/checkin/scan", content=raw, headers={"content-type": "application/json"}
    )
    assert response.status_code == 400
    assert set(response.json()) == {"code", "detail", "fields"}
    # a retired key's codes stop verifying
    await keys.retire(world.event, 0)
    retired = await _scan(device, world.codes[0], gate, "retired")
    assert retired["reason"] == "invalid"


async def test_rules_refusals_and_a_once_a_day_list(make_client, clock):
    world = await build_world(
        holders=2,
        lists={
            "daily": {"entries_total": None, "entries_per_day": 1},
            "staff only": {"types": [2]},
            "morning": {"windows": [{"opens": "2027-09-01T11:00", "closes": "2027-09-01T12:00"}]},
        },
    )
    device = await _device(make_client)
    code = world.codes[0]
    assert (await _scan(device, code, world.lists["staff only"], "t-1"))["reason"] == "not_allowed"
    early = await _scan(device, code, world.lists["morning"], "w-1")
    assert early["reason"] == "outside_time"
    assert "11:00" in early["message"]
    daily = world.lists["daily"]
    assert (await _scan(device, code, daily, "d-1"))["status"] == "admitted"
    assert (await _scan(device, code, daily, "d-2"))["reason"] == "already_checked_in"
    clock.now = NOW + dt.timedelta(days=1)
    assert (await _scan(device, code, daily, "d-3"))["status"] == "admitted"
    slots = await fetch_all(
        "SELECT slot FROM checkin WHERE checkin_list = {} AND status = 'admitted' ORDER BY id", daily
    )
    assert [r["slot"] for r in slots] == [STARTS.toordinal(), STARTS.toordinal() + 1]
    # exits are refused on a list that records none
    exit_ = await _scan(device, code, world.lists["gate"], "x-1", direction="exit")
    assert exit_["reason"] == "not_allowed"


async def test_a_counted_list_with_exits_and_capacity(make_client, clock):
    world = await build_world(holders=3, hall_capacity=2)
    device = await _device(make_client)
    hall = world.lists["hall"]
    a, b, c = world.codes
    assert (await _scan(device, a, hall, "h-1"))["status"] == "admitted"
    assert (await _scan(device, b, hall, "h-2"))["status"] == "admitted"
    full = await _scan(device, c, hall, "h-3")
    assert full["reason"] == "capacity"
    assert (await _scan(device, a, hall, "h-4", direction="exit"))["status"] == "admitted"
    assert (await _scan(device, a, hall, "h-5", direction="exit"))["reason"] == "not_allowed"
    assert (await _scan(device, c, hall, "h-6"))["status"] == "admitted"
    assert (await fetch_one("SELECT inside FROM checkin_list WHERE id = {}", hall))["inside"] == 2
    # 20 concurrent entries of a new ticket on a list with no limit of people: one slot each time,
    # never two admissions of one entry number
    await fetch_all("UPDATE checkin_list SET rules = {} WHERE id = {}", '{"entries_total": 3}', hall)
    service.forget_list(hall)
    ticket_id, code = await issue(world, name="Racer")
    answers = await asyncio.gather(*(_scan(device, code, hall, f"race-{i}") for i in range(20)))
    assert sum(x["status"] == "admitted" for x in answers) == 3
    slots = await fetch_all(
        "SELECT slot FROM checkin WHERE ticket = {} AND status = 'admitted' ORDER BY slot", ticket_id
    )
    assert [r["slot"] for r in slots] == [0, 1, 2]


async def test_who_may_scan_where(make_client, clock):
    world = await build_world(holders=2)
    gate = world.lists["gate"]
    staff = await make_client(world.email(world.staff))
    assert (await _scan(staff, world.codes[0], gate, "staff-1"))["status"] == "admitted"
    outsider = await make_client(world.email(world.outsider))
    response = await outsider.post("/api/v1/checkin/scan", json=_body(world.codes[1], gate, "o-1"))
    assert response.status_code == 403
    assert set(response.json()) == {"code", "detail", "fields"}
    # a device on a list of another event, or not one of its lists, finds no list
    other = Event(
        organization=world.organization,
        slug="else",
        kind="fair",
        name_en="Else",
        starts_on=STARTS,
        ends_on=ENDS,
    )
    await other.save()
    rows = await fetch_all(
        "INSERT INTO checkin_list (event, name) VALUES ({}, 'Other gate') RETURNING id", other.id
    )
    device = await _device(make_client)
    response = await device.post("/api/v1/checkin/scan", json=_body(world.codes[1], rows[0]["id"], "d-1"))
    assert response.status_code == 404
    # a revoked device is refused at once (the devices service forgets it after its commit)
    assert (await _scan(device, world.codes[1], gate, "d-2"))["status"] == "admitted"
    await fetch_all("UPDATE checkin_device SET revoked_at = now() WHERE id = {}", world.device)
    access.forget_device(make_client.app.state.principals, token_digest(DEVICE_TOKEN))
    response = await device.post("/api/v1/checkin/scan", json=_body(world.codes[1], gate, "d-3"))
    assert response.status_code == 401
    # bad input names its field
    for body, field in (
        ({"code": "X", "list": gate, "nonce": ""}, "nonce"),
        ({"code": "X", "list": gate, "nonce": "a b"}, "nonce"),
        ({"code": "X", "list": 0, "nonce": "n"}, "list"),
        ({"code": "X", "list": gate, "nonce": "n", "direction": "sideways"}, "direction"),
        (
            {
                "code": "X",
                "list": gate,
                "nonce": "n",
                "offline_verdict": "admitted",
                "scanned_at": "2099-01-01T00:00:00Z",
            },
            "scanned_at",
        ),
    ):
        response = await staff.post("/api/v1/checkin/scan", json=body)
        assert response.status_code in (400, 422), (body, response.text)
        assert field in response.json()["fields"], (body, response.text)


async def test_the_hot_path_sends_one_statement(make_client, clock, sent):
    world = await build_world(holders=3)
    device = await _device(make_client)
    gate = world.lists["gate"]
    await _scan(device, world.codes[2], gate, "warm")  # the lists and the device are cached from here
    await _scan(device, world.codes[2], world.lists["hall"], "warm-hall")
    sent.clear()
    await _scan(device, world.codes[0], gate, "s-1")
    assert len(sent) == 1, sent
    sent.clear()
    await _scan(device, world.codes[0], gate, "s-2")  # already checked in: the refusal records itself
    assert len(sent) == 2, sent
    sent.clear()
    await _scan(device, world.codes[0], gate, "s-1")  # a retry: its first answer
    assert len(sent) <= 3, sent
    sent.clear()
    await _scan(device, world.codes[1], world.lists["hall"], "s-3")  # a counted list: one transaction
    assert len(sent) <= 7, sent  # BEGIN, ticket locked, log, list locked, insert, inside, COMMIT
