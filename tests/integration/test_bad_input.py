"""Malformed, unknown or out-of-range input gets a documented 4xx and changes nothing."""

from __future__ import annotations

from backend.events.tables import Event, Track

ERROR_KEYS = {"code", "detail", "fields"}


async def test_malformed_requests_get_the_error_body(make_client, admin):
    client = await make_client("admin@example.org")
    cases = [
        (
            "POST",
            "/api/v1/events",
            {"content": b"{not json", "headers": {"content-type": "application/json"}},
            400,
        ),
        ("POST", "/api/v1/events", {"json": ["a", "list"]}, 400),
        ("POST", "/api/v1/events", {"json": {"kind": "contest", "slug": "x\u0000y"}}, 400),
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
    assert await Event.count() == 0


async def test_a_failing_write_leaves_nothing_behind(make_client, organizer):
    """The duplicate is detected inside the transaction; neither track nor audit row is added."""
    _, event = organizer
    client = await make_client("organizer@example.org")
    await client.post(f"/api/v1/events/{event}/tracks", json={"code": "A"})
    before = await Track.count()
    response = await client.put(f"/api/v1/events/{event}/tracks/999", json={"code": "B"})
    assert response.status_code == 404
    assert await Track.count() == before


async def test_error_pages_for_browsers_are_html(make_client):
    client = await make_client()
    response = await client.get("/events/424242", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert "not_found" in response.text
    login = await client.get("/me", headers={"accept": "text/html"})
    assert (login.status_code, login.headers["location"]) == (303, "/login?next=/me")
