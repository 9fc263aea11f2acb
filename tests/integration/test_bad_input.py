"""Malformed, unknown or out-of-range input gets a documented 4xx and changes nothing."""

from __future__ import annotations

from backend import audit
from backend.audit import AuditEntry
from backend.events import service as events_service
from backend.events.tables import Event, Track

ERROR_KEYS = {"code", "detail", "fields"}
VALID_EVENT = {
    "organization_id": 1,
    "kind": "contest",
    "slug": "cbec-2027",
    "name_en": "Cross-Border E-Commerce Challenge",
    "starts_on": "2027-03-01",
    "ends_on": "2027-07-25",
}


async def test_malformed_requests_get_the_error_body(make_client, admin):
    client = await make_client("admin@example.org")
    valid = await client.post("/api/v1/events", json=VALID_EVENT)
    assert valid.status_code == 201, valid.text  # the cases below differ from it in one respect each
    # so each is refused for its own reason (not for a missing field), and one that slipped through
    # would add an event
    cases = [
        (
            "POST",
            "/api/v1/events",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
        ),
        ("POST", "/api/v1/events", {"json": ["a", "list"]}, 400),
        ("POST", "/api/v1/events", {"json": {**VALID_EVENT, "slug": "x\u0000y"}}, 400),
        ("POST", "/api/v1/events", {"json": {**VALID_EVENT, "slug": "other", "name_en": "a\u0000b"}}, 400),
        ("GET", "/api/v1/events/99999999999", {}, 400),
        ("GET", "/api/v1/events/0", {}, 400),
        ("GET", "/api/v1/events/abc", {}, 404),
        ("GET", "/api/v1/events", {"params": {"limit": "100000"}}, 400),
        ("GET", "/api/v1/events", {"params": {"kind": "party"}}, 400),
        ("GET", "/api/v1/nothing-here", {}, 404),
        ("DELETE", "/api/v1/events", {}, 405),
        (
            "POST",
            "/api/v1/events",
            {"content": b"x" * (3 * 1024 * 1024), "headers": {"content-type": "application/json"}},
            413,
        ),
    ]
    for method, url, kwargs, status in cases:
        response = await client.request(method, url, **kwargs)
        assert response.status_code == status, (method, url, response.text)
        assert set(response.json()) == ERROR_KEYS, response.text
    assert await Event.count() == 1


async def test_a_failing_write_leaves_nothing_behind(make_client, organizer, monkeypatch):
    """A fault after the track row and its audit entry are written rolls both back."""
    _, event = organizer
    client = await make_client("organizer@example.org")
    client.cookies.set("podium_lang", "en")  # the messages below are asserted in English
    before = (await Track.count(), await AuditEntry.count())
    seen_inside = []
    real_record = audit.record

    async def record_then_fail(*args, **kwargs):
        await real_record(*args, **kwargs)
        seen_inside.append((await Track.count(), await AuditEntry.count()))
        raise RuntimeError("the disk is full")

    monkeypatch.setattr(events_service.audit, "record", record_then_fail)
    response = await client.post(f"/api/v1/events/{event}/tracks", json={"code": "A"})
    monkeypatch.undo()

    # the write had really started: both rows existed inside the transaction
    assert seen_inside == [(before[0] + 1, before[1] + 1)]
    assert response.status_code == 500
    assert response.json() == {
        "code": "internal_error",
        "detail": "Something went wrong on our side; it has been logged",
        "fields": {},
    }
    assert (await Track.count(), await AuditEntry.count()) == before
    # and nothing is left half-done for the next write of the same code
    retry = await client.post(f"/api/v1/events/{event}/tracks", json={"code": "A"})
    assert retry.status_code == 201, retry.text
    assert (await Track.count(), await AuditEntry.count()) == (before[0] + 1, before[1] + 1)


async def test_error_pages_for_browsers_are_html(make_client):
    client = await make_client()
    response = await client.get("/events/424242", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "not_found" in response.text
    login = await client.get("/me", headers={"accept": "text/html"})
    assert (login.status_code, login.headers["location"]) == (303, "/login?next=/me")
