"""Bearer tokens: scopes, parent and child tokens, cascading and race-free revocation, deactivation,
and what authenticating a token costs."""

from __future__ import annotations

import asyncio
import datetime as dt

import httpx
import pytest

from backend.accounts.tables import ApiToken
from backend.audit import AuditEntry
from backend.db import engine


async def bearer(make_client, token: str) -> httpx.AsyncClient:
    """A client that authenticates with ``token`` only (no cookie, no CSRF header)."""
    client = await make_client()
    client.headers.pop("x-podium-csrf")
    client.cookies.clear()
    client.headers["authorization"] = f"Bearer {token}"
    return client


async def new_token(client: httpx.AsyncClient, **body) -> dict:
    response = await client.post("/api/v1/auth/tokens", json={"name": "t", **body})
    assert response.status_code == 201, response.text
    return response.json()


async def revocations() -> int:
    return await AuditEntry.count().where(AuditEntry.action == "token.revoke")


async def test_a_read_only_token_cannot_change_anything(make_client, make_user):
    await make_user("reader@example.org")
    owner = await make_client("reader@example.org")
    created = await new_token(owner, scopes=["read"])
    assert created["info"]["scopes"] == ["read"]
    reader = await bearer(make_client, created["token"])

    assert (await reader.get("/api/v1/auth/me")).status_code == 200
    assert (await reader.get("/api/v1/auth/tokens")).status_code == 200
    for method, url, body in [
        ("POST", "/api/v1/auth/tokens", {"name": "more", "scopes": ["read"]}),
        ("DELETE", f"/api/v1/auth/tokens/{created['info']['id']}", None),
        ("POST", "/api/v1/events", {}),
    ]:
        refused = await reader.request(method, url, json=body)
        assert refused.status_code == 403, (method, url)
        assert refused.json()["code"] == "insufficient_scope"
    assert await ApiToken.count() == 1
    assert (await owner.get("/api/v1/auth/tokens")).json()[0]["revoked_at"] is None


async def test_a_device_token_holds_only_its_scope(make_client, make_user):
    await make_user("gate@example.org")
    owner = await make_client("gate@example.org")
    created = await new_token(owner, scopes=["device"])
    device = await bearer(make_client, created["token"])
    refused = await device.get("/api/v1/auth/me")
    assert refused.status_code == 403
    assert refused.json()["code"] == "insufficient_scope"
    # Any token may give itself up.
    assert (await device.post("/api/v1/auth/logout")).status_code == 204
    assert (await device.get("/api/v1/auth/me")).status_code == 401


async def test_a_token_cannot_make_a_wider_or_longer_lived_token(make_client, make_user):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    parent = await new_token(owner, scopes=["read", "write"], expires_in_days=30)
    client = await bearer(make_client, parent["token"])

    for body, field in [
        ({"scopes": ["read", "write", "device"]}, "scopes"),
        ({"scopes": ["read"], "expires_in_days": 31}, "expires_in_days"),
        ({"scopes": ["read"], "expires_in_days": None}, "expires_in_days"),
    ]:
        refused = await client.post("/api/v1/auth/tokens", json={"name": "child", **body})
        assert refused.status_code == 403, body
        assert refused.json()["code"] == "token_exceeds_parent"
        assert set(refused.json()["fields"]) == {field}

    child = await new_token(client, scopes=["read"], expires_in_days=29)
    assert child["info"]["parent_id"] == parent["info"]["id"]
    assert child["info"]["scopes"] == ["read"]
    assert await ApiToken.count() == 2

    # Only a session or a token that never expires makes one that never expires.
    forever = await new_token(owner, expires_in_days=None)
    assert forever["info"]["parent_id"] is None
    grandchild = await new_token(await bearer(make_client, forever["token"]), expires_in_days=None)
    assert grandchild["info"]["expires_at"] is None
    assert grandchild["info"]["parent_id"] == forever["info"]["id"]


async def test_revoking_a_token_revokes_everything_made_from_it(make_client, make_user):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    root = await new_token(owner)
    child = await new_token(await bearer(make_client, root["token"]), expires_in_days=30)
    grandchild = await new_token(await bearer(make_client, child["token"]), expires_in_days=20)
    sibling = await new_token(owner)

    assert (await owner.delete(f"/api/v1/auth/tokens/{root['info']['id']}")).status_code == 204

    for token in (root, child, grandchild):
        assert (await (await bearer(make_client, token["token"])).get("/api/v1/auth/me")).status_code == 401
    assert (await (await bearer(make_client, sibling["token"])).get("/api/v1/auth/me")).status_code == 200
    entries = (
        await AuditEntry.select(AuditEntry.target_id, AuditEntry.data)
        .where(AuditEntry.action == "token.revoke")
        .output(load_json=True)
    )
    descendants = [child["info"]["id"], grandchild["info"]["id"]]
    assert entries == [{"target_id": root["info"]["id"], "data": {"descendants": descendants}}]


async def test_logout_with_a_bearer_token_revokes_it_and_its_children(make_client, make_user):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    token = await new_token(owner)
    client = await bearer(make_client, token["token"])
    child = await new_token(client, expires_in_days=10)

    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await (await bearer(make_client, child["token"])).get("/api/v1/auth/me")).status_code == 401
    assert (await owner.get("/api/v1/auth/me")).status_code == 200  # the session is another credential


async def test_twenty_concurrent_revocations_write_one_audit_entry(make_client, make_user):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    token_id = (await new_token(owner))["info"]["id"]
    clients = [owner] + [await make_client("api@example.org") for _ in range(3)]

    responses = await asyncio.gather(
        *(clients[i % 4].delete(f"/api/v1/auth/tokens/{token_id}") for i in range(20))
    )

    assert [r.status_code for r in responses] == [204] * 20
    assert await revocations() == 1


async def test_deactivation_ends_sessions_and_tokens_for_good(make_client, make_user, admin):
    user_id = await make_user("leaver@example.org")
    session = await make_client("leaver@example.org")
    token = await new_token(session)
    device = await bearer(make_client, token["token"])
    boss = await make_client("admin@example.org")

    assert (await boss.patch(f"/api/v1/users/{user_id}", json={"active": False})).status_code == 200
    assert (await session.get("/api/v1/auth/me")).status_code == 401
    assert (await device.get("/api/v1/auth/me")).status_code == 401

    assert (await boss.patch(f"/api/v1/users/{user_id}", json={"active": True})).status_code == 200
    assert (await session.get("/api/v1/auth/me")).status_code == 401
    assert (await device.get("/api/v1/auth/me")).status_code == 401
    assert (await boss.get(f"/api/v1/users/{user_id}")).json()["active"] is True
    again = await make_client("leaver@example.org")  # a fresh login works
    assert (await again.get("/api/v1/auth/tokens")).json()[0]["revoked_at"] is not None


class StatementLog:
    """Every statement the app sends through Piccolo's engine."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.statements: list[str] = []
        engine_class = type(engine())
        run = engine_class.run_querystring

        async def logged(db, querystring, *args, **kwargs):
            self.statements.append(str(querystring).strip())
            return await run(db, querystring, *args, **kwargs)

        monkeypatch.setattr(engine_class, "run_querystring", logged)

    def take(self) -> list[str]:
        taken, self.statements = self.statements, []
        return taken


async def test_bearer_auth_costs_one_query_and_no_write_within_a_minute(
    make_client, make_user, make_event, monkeypatch
):
    """The first use of a token costs the joined SELECT; then the process's cache answers (PostgreSQL,
    see test_token_cache.py) and only the handler queries; last use is written once a minute."""
    await make_user("api@example.org")
    event_id = await make_event(status="open")
    token = await new_token(await make_client("api@example.org"))
    client = await bearer(make_client, token["token"])
    cache = make_client.app.state.principals
    log = StatementLog(monkeypatch)

    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200
    first = log.take()
    assert [s.split()[0] for s in first] == ["SELECT", "UPDATE", "SELECT"]  # auth, last use, the event

    for _ in range(3):
        assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200
        assert [s.split()[0] for s in log.take()] == ["SELECT"]  # the event only

    a_minute_ago = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=61)
    await ApiToken.update({ApiToken.last_used_at: a_minute_ago}).where(ApiToken.id == token["info"]["id"])
    for entry in cache._entries.values():  # a minute passes for the cache too
        entry.last_used = a_minute_ago
    log.take()
    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200
    assert [s.split()[0] for s in log.take()] == ["UPDATE", "SELECT"]
    used = await ApiToken.select(ApiToken.last_used_at).where(ApiToken.id == token["info"]["id"]).first()
    assert used["last_used_at"] > a_minute_ago + dt.timedelta(seconds=30)

    # Without the cache (SQLite; or while PostgreSQL cannot be heard) every request runs the SELECT.
    await ApiToken.update({ApiToken.last_used_at: a_minute_ago}).where(ApiToken.id == token["info"]["id"])
    cache.enabled = False
    log.take()
    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200
    assert [s.split()[0] for s in log.take()] == ["SELECT", "UPDATE", "SELECT"]
    assert (await client.get(f"/api/v1/events/{event_id}")).status_code == 200
    assert [s.split()[0] for s in log.take()] == ["SELECT", "SELECT"]
