"""Offline scanning: the bundle a scanner keeps (keys that verify the codes, revoked serials, holders'
names readable only with the code), uploads of offline scans (recorded, never refused after the
fact, a nonce counted once), and the conflicts two offline gates make, in the API and on the page."""

from __future__ import annotations

import datetime as dt

import pytest

from backend.db import fetch_all
from tests.integration.ticketing_world import DEVICE_TOKEN, build_world
from ticketing import codes
from ticketing.checkin import service
from ticketing.tables import Ticket

NOW = dt.datetime(2027, 9, 1, 2, 0, tzinfo=dt.UTC)


@pytest.fixture
def clock(monkeypatch):
    monkeypatch.setattr(service, "utcnow", lambda: NOW)
    service._lists.clear()


async def test_the_offline_bundle_verifies_codes_and_hides_names(make_client, clock):
    world = await build_world(holders=3)
    await Ticket.update({Ticket.status: "revoked"}).where(Ticket.id == world.tickets[2])
    device = await make_client()
    device.headers["authorization"] = f"Bearer {DEVICE_TOKEN}"
    response = await device.get(f"/api/v1/checkin/lists/{world.lists['gate']}/offline")
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["list"]["rules"]["entries_total"] == 1
    assert bundle["gate"] == "Gate 3"
    assert bundle["event"] == {"id": world.event, "name": "签到招聘会", "time_zone": "Asia/Shanghai"}
    assert bundle["types"]["1"]["kind"] == "visitor"
    public = {int(k): bytes.fromhex(v) for k, v in bundle["keys"].items()}
    for code in world.codes:
        assert codes.check(code, world.event, public, dt.date(2027, 9, 2)).reason is None
    serials = [codes.read(code).claims.serial for code in world.codes]
    assert bundle["revoked"] == [serials[2].hex()]
    record = bundle["holders"][service.holder_index(serials[0])]
    assert service.open_holder(serials[0], record)["name"] == "Visitor 1"
    assert "Visitor" not in response.text  # no name in the clear
    assert service.holder_index(serials[2]) not in bundle["holders"]
    # a person needs scan_tickets; an outsider is refused, a device finds only its own lists
    outsider = await make_client(world.email(world.outsider))
    assert (await outsider.get(f"/api/v1/checkin/lists/{world.lists['gate']}/offline")).status_code == 403


async def test_two_offline_gates_admit_one_ticket_and_the_organizer_sees_the_conflict(make_client, clock):
    world = await build_world(holders=2)
    gate = world.lists["gate"]
    device = await make_client()
    device.headers["authorization"] = f"Bearer {DEVICE_TOKEN}"
    staff = await make_client(world.email(world.staff))
    at = "2027-09-01T01:30:00Z"
    # the staff member's phone, offline, admits ticket 0 first; the device, offline, admits it too
    first = await staff.post(
        "/api/v1/checkin/sync",
        json={
            "scans": [
                {
                    "code": world.codes[0],
                    "list": gate,
                    "nonce": "p-1",
                    "scanned_at": at,
                    "offline_verdict": "admitted",
                }
            ]
        },
    )
    assert first.status_code == 200
    assert first.json()["results"][0]["status"] == "admitted"
    upload = {
        "scans": [
            {
                "code": world.codes[0],
                "list": gate,
                "nonce": "d-1",
                "scanned_at": "2027-09-01T01:40:00Z",
                "offline_verdict": "admitted",
            },
            {
                "code": world.codes[1],
                "list": gate,
                "nonce": "d-2",
                "scanned_at": "2027-09-01T01:41:00Z",
                "offline_verdict": "admitted",
            },
            {
                "code": "garbage",
                "list": gate,
                "nonce": "d-3",
                "scanned_at": "2027-09-01T01:42:00Z",
                "offline_verdict": "rejected",
            },
        ]
    }
    response = await device.post("/api/v1/checkin/sync", json=upload)
    assert response.status_code == 200
    results = response.json()["results"]
    assert [(r["status"], r["reason"]) for r in results] == [
        ("rejected", "already_checked_in"),
        ("admitted", None),
        ("rejected", "invalid"),
    ]
    assert results[0]["previous"]["gate"] == "gate"  # the staff member's scans show the list's name
    # the upload again (the device lost the answer): the same answers, nothing written
    again = await device.post("/api/v1/checkin/sync", json=upload)
    assert [r["replayed"] for r in again.json()["results"]] == [True, True, True]
    rows = await fetch_all(
        "SELECT nonce, status, offline, offline_verdict, conflict, scanned_at FROM checkin ORDER BY id"
    )
    assert [(r["nonce"], r["status"], r["offline"], r["conflict"]) for r in rows] == [
        ("p-1", "admitted", True, False),
        ("d-1", "rejected", True, True),
        ("d-2", "admitted", True, False),
        ("d-3", "rejected", True, False),
    ]
    assert rows[1]["scanned_at"] == dt.datetime(2027, 9, 1, 1, 40, tzinfo=dt.UTC)

    organizer = await make_client(world.email(world.organizer))
    listed = (await organizer.get(f"/api/v1/events/{world.event}/checkin/conflicts")).json()
    assert listed["total"] == 1
    conflict = listed["items"][0]
    assert (conflict["holder"], conflict["gate"], conflict["reason"]) == (
        "Visitor 1",
        "Gate 3",
        "already_checked_in",
    )
    assert conflict["previous"] == {"gate": "gate", "at": "2027-09-01T01:30:00Z"}
    page = await organizer.get(f"/workspace/events/{world.event}/ticketing/conflicts")
    assert page.status_code == 200
    assert "Visitor 1" in page.text
    assert page.text.count('class="conflict"') == 1
    outsider = await make_client(world.email(world.outsider))
    assert (await outsider.get(f"/api/v1/events/{world.event}/checkin/conflicts")).status_code == 403
    # more than 500 scans in one upload are refused, naming the field
    too_many = {"scans": [upload["scans"][1]] * 501}
    response = await device.post("/api/v1/checkin/sync", json=too_many)
    assert response.status_code in (400, 422)
    assert "scans" in response.json()["fields"]
