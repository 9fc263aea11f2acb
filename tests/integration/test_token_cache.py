"""The per-process cache of bearer tokens (``backend.security.PrincipalCache``, PostgreSQL): a cached
token costs no query, and its entry dies the moment the token is revoked or its user deactivated, in
every process (two app instances sharing the database stand for two processes: each has its own cache
and its own listening connection), and the cache is bypassed while it cannot hear the database."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
from litestar import Litestar
from piccolo.querystring import QueryString

from backend.app import create_app
from backend.db import engine
from backend.security import PrincipalCache
from tests.integration.test_tokens import StatementLog, bearer, new_token


async def eventually(condition: Callable[[], bool], within: float = 1.0) -> bool:
    """Poll ``condition`` for up to ``within`` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(0.01)
    return True


def cache_of(app: Litestar) -> PrincipalCache:
    cache = app.state.principals
    assert isinstance(cache, PrincipalCache)
    return cache


@pytest.fixture
async def other_app(make_client, settings) -> AsyncIterator[Litestar]:
    """A second app on the same database: another process, as far as the cache knows."""
    app = create_app(settings)
    async with app.lifespan():
        yield app


def client_of(app: Litestar, token: str) -> httpx.AsyncClient:
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app),
        base_url="http://podium.test",
        headers={"authorization": f"Bearer {token}"},
    )


def auth_queries(statements: list[str]) -> list[str]:
    return [s for s in statements if "api_token" in s]


async def test_a_cached_token_costs_no_query(make_client, make_user, monkeypatch):
    await make_user("api@example.org")
    token = await new_token(await make_client("api@example.org"))
    client = await bearer(make_client, token["token"])
    cache = cache_of(make_client.app)
    assert await eventually(lambda: cache.enabled)
    log = StatementLog(monkeypatch)

    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert len(auth_queries(log.take())) == 2  # the SELECT, and the first use recorded
    for _ in range(2):
        assert (await client.get("/api/v1/auth/me")).status_code == 200
        assert auth_queries(log.take()) == []
    assert len(cache) == 1


async def test_a_revocation_in_one_process_is_refused_at_once_in_another(make_client, make_user, other_app):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    token = await new_token(owner)
    here = await bearer(make_client, token["token"])
    there_cache = cache_of(other_app)
    assert await eventually(lambda: there_cache.enabled and cache_of(make_client.app).enabled)
    async with client_of(other_app, token["token"]) as there:
        assert (await here.get("/api/v1/auth/me")).status_code == 200
        assert (await there.get("/api/v1/auth/me")).status_code == 200
        assert len(there_cache) == 1

        assert (await owner.delete(f"/api/v1/auth/tokens/{token['info']['id']}")).status_code == 204
        # the revoking process dropped it on commit, before it answered
        assert (await here.get("/api/v1/auth/me")).status_code == 401
        # the other one hears it from the database
        assert await eventually(lambda: len(there_cache) == 0), "no notification within a second"
        assert (await there.get("/api/v1/auth/me")).status_code == 401


async def test_deactivation_by_raw_sql_evicts(make_client, make_user, other_app):
    user_id = await make_user("api@example.org")
    token = await new_token(await make_client("api@example.org"))
    cache = cache_of(other_app)
    assert await eventually(lambda: cache.enabled)
    async with client_of(other_app, token["token"]) as there:
        assert (await there.get("/api/v1/auth/me")).status_code == 200
        assert len(cache) == 1

        await engine().run_querystring(
            QueryString("UPDATE podium_user SET active = false WHERE id = {}", user_id)
        )
        assert await eventually(lambda: len(cache) == 0), "no notification within a second"
        assert (await there.get("/api/v1/auth/me")).status_code == 401


async def test_a_lost_listener_disables_the_cache_until_it_is_back(make_client, make_user, monkeypatch):
    await make_user("api@example.org")
    owner = await make_client("api@example.org")
    first, second = await new_token(owner), await new_token(owner)
    client = await bearer(make_client, first["token"])
    cache = cache_of(make_client.app)
    cache.retry_after = 0.5
    assert await eventually(lambda: cache.enabled)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert len(cache) == 1

    lost = cache.connection
    assert lost is not None
    await engine().run_querystring(QueryString("SELECT pg_terminate_backend({})", lost.get_server_pid()))
    assert await eventually(lambda: not cache.enabled), "the lost connection went unnoticed"
    assert len(cache) == 0

    # Deaf, the cache is bypassed: the token is checked by the query, and its revocation holds at once.
    log = StatementLog(monkeypatch)
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert auth_queries(log.take())
    assert len(cache) == 0
    await engine().run_querystring(
        QueryString("UPDATE api_token SET revoked_at = now() WHERE id = {}", first["info"]["id"])
    )
    assert (await client.get("/api/v1/auth/me")).status_code == 401

    # The listener comes back, and the cache with it.
    assert await eventually(lambda: cache.enabled and cache.connection is not lost, within=5.0)
    client.headers["authorization"] = f"Bearer {second['token']}"
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    log.take()
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert auth_queries(log.take()) == []


async def test_the_revoking_process_drops_its_entries_on_commit(make_client, make_user, admin):
    """Without waiting for the notification: here the listener is made deaf, so only the services'
    own after-commit eviction can refuse the next request."""
    user_id = await make_user("api@example.org")
    owner = await make_client("api@example.org")
    boss = await make_client("admin@example.org")
    first, second = await new_token(owner), await new_token(owner)
    cache = cache_of(make_client.app)
    assert await eventually(lambda: cache.enabled)
    assert cache.connection is not None
    await cache.connection.remove_listener(cache.CHANNEL, cache._notified)
    by_first, by_second = (
        await bearer(make_client, first["token"]),
        await bearer(make_client, second["token"]),
    )
    assert (await by_first.get("/api/v1/auth/me")).status_code == 200
    assert (await by_second.get("/api/v1/auth/me")).status_code == 200
    assert len(cache) == 2

    assert (await owner.delete(f"/api/v1/auth/tokens/{first['info']['id']}")).status_code == 204
    assert (await by_first.get("/api/v1/auth/me")).status_code == 401

    assert (await by_second.get("/api/v1/auth/me")).status_code == 200
    assert (await boss.patch(f"/api/v1/users/{user_id}", json={"active": False})).status_code == 200
    assert (await by_second.get("/api/v1/auth/me")).status_code == 401
