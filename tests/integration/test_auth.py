"""Login, sessions, CSRF, bearer tokens and the login rate limit."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import time

import httpx
import msgspec

from backend.accounts.tables import User
from backend.app import create_app
from backend.security import SESSION_COOKIE, SessionStore
from tests.integration.conftest import PASSWORD, prime_csrf

ERROR_KEYS = {"code", "detail", "fields"}


async def test_login_sets_a_session_and_me_answers(make_client, make_user):
    user_id = await make_user("li.na@example.org", name="Li Na")
    client = await make_client()
    response = await client.post(
        "/api/v1/auth/login", json={"email": "Li.Na@Example.org ", "password": PASSWORD}
    )
    assert response.status_code == 200
    assert response.json() == {
        "id": user_id,
        "email": "li.na@example.org",
        "display_name": "Li Na",
        "locale": "zh",
        "active": True,
        "is_platform_admin": False,
    }
    cookie = response.cookies[SESSION_COOKIE]
    assert "httponly" in response.headers["set-cookie"].lower()
    assert (await client.get("/api/v1/auth/me")).json()["id"] == user_id
    assert await User.select(User.last_login).where(User.id == user_id).first() != {"last_login": None}
    assert cookie


async def test_wrong_password_and_unknown_email_get_the_same_answer(make_client, make_user):
    await make_user("judge@example.org")
    client = await make_client()
    wrong = await client.post(
        "/api/v1/auth/login", json={"email": "judge@example.org", "password": "nope-nope"}
    )
    unknown = await client.post(
        "/api/v1/auth/login", json={"email": "ghost@example.org", "password": "nope-nope"}
    )
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {
            "code": "invalid_credentials",
            "detail": "The e-mail or password is wrong",
            "fields": {},
        }
    )
    assert SESSION_COOKIE not in wrong.cookies


async def test_deactivated_user_cannot_log_in_and_loses_the_session(make_client, make_user):
    user_id = await make_user("gone@example.org")
    client = await make_client("gone@example.org")
    await User.update({User.active: False}).where(User.id == user_id)  # as the back office would
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    again = await client.post("/api/v1/auth/login", json={"email": "gone@example.org", "password": PASSWORD})
    assert again.status_code == 401
    await User.update({User.active: True}).where(User.id == user_id)
    assert (await client.get("/api/v1/auth/me")).status_code == 401  # the old session stays dead


async def test_sessions_end_after_their_absolute_lifetime(make_client, make_user):
    await make_user("a@example.org")
    client = await make_client("a@example.org")
    sessions: SessionStore = make_client.app.state.sessions
    session_id = client.cookies[SESSION_COOKIE]

    async def logged_in_since(days: float) -> None:
        entry = await sessions.get(session_id)
        assert entry is not None
        created = time.time() - days * 24 * 3600
        value = msgspec.json.encode(msgspec.structs.replace(entry, created_at=created))
        await sessions.store.set(f"session:{session_id}", value, expires_in=sessions.idle)

    assert sessions.lifetime == 30 * 24 * 3600  # PODIUM_SESSION_LIFETIME_DAYS' default
    await logged_in_since(29.9)  # used every day: the sliding expiry alone would keep it
    assert (await client.get("/api/v1/auth/me")).status_code == 200
    await logged_in_since(30.1)
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_login_replaces_a_planted_session_id(make_client, make_user):
    await make_user("victim@example.org")
    client = await make_client()
    client.cookies.set(SESSION_COOKIE, "attacker-chosen-id")
    response = await client.post(
        "/api/v1/auth/login", json={"email": "victim@example.org", "password": PASSWORD}
    )
    assert response.cookies[SESSION_COOKIE] != "attacker-chosen-id"
    attacker = await make_client()
    attacker.cookies.set(SESSION_COOKIE, "attacker-chosen-id")
    assert (await attacker.get("/api/v1/auth/me")).status_code == 401


async def test_logout_ends_the_session_on_the_server(make_client, make_user):
    await make_user("a@example.org")
    client = await make_client("a@example.org")
    stolen = client.cookies[SESSION_COOKIE]
    assert (await client.post("/api/v1/auth/logout")).status_code == 204
    replay = await make_client()
    replay.cookies.set(SESSION_COOKIE, stolen)
    assert (await replay.get("/api/v1/auth/me")).status_code == 401


async def test_cookie_requests_without_csrf_token_are_refused(make_client, make_user):
    await make_user("a@example.org")
    client = await make_client("a@example.org")
    del client.headers["x-podium-csrf"]
    response = await client.post("/api/v1/auth/tokens", json={"name": "scanner"})
    assert response.status_code == 403
    assert response.json()["code"] == "csrf_failed"
    client.headers["x-podium-csrf"] = "forged"
    assert (await client.post("/api/v1/auth/tokens", json={"name": "scanner"})).status_code == 403


async def test_bearer_token_life_cycle(make_client, make_user):
    await make_user("gate@example.org")
    owner = await make_client("gate@example.org")
    created = await owner.post("/api/v1/auth/tokens", json={"name": "Gate 3 scanner", "expires_in_days": 30})
    assert created.status_code == 201
    token = created.json()["token"]
    assert token.startswith("pdm_")
    token_id = created.json()["info"]["id"]
    assert [t["name"] for t in (await owner.get("/api/v1/auth/tokens")).json()] == ["Gate 3 scanner"]
    assert "token" not in (await owner.get("/api/v1/auth/tokens")).json()[0]

    device = await make_client()
    device.headers.pop("x-podium-csrf")
    device.cookies.clear()
    device.headers["authorization"] = f"Bearer {token}"
    assert (await device.get("/api/v1/auth/me")).json()["email"] == "gate@example.org"
    # No CSRF token needed with a bearer token: browsers never attach one by themselves.
    second = await device.post("/api/v1/auth/tokens", json={"name": "second", "expires_in_days": 7})
    assert second.status_code == 201

    assert (await owner.delete(f"/api/v1/auth/tokens/{token_id}")).status_code == 204
    refused = await device.get("/api/v1/auth/me")
    assert refused.status_code == 401
    assert set(refused.json()) == ERROR_KEYS


async def test_malformed_and_unknown_tokens_are_401(client):
    client.headers["authorization"] = "Basic dXNlcjpwYXNz"
    assert (await client.get("/api/v1/auth/me")).json()["code"] == "not_authenticated"
    client.headers["authorization"] = "Bearer pdm_not-a-real-token"
    assert (await client.get("/api/v1/auth/me")).status_code == 401


async def test_users_cannot_revoke_each_others_tokens(make_client, make_user):
    await make_user("a@example.org")
    await make_user("b@example.org")
    a = await make_client("a@example.org")
    token_id = (await a.post("/api/v1/auth/tokens", json={"name": "mine"})).json()["info"]["id"]
    b = await make_client("b@example.org")
    assert (await b.delete(f"/api/v1/auth/tokens/{token_id}")).status_code == 404
    assert (await a.get("/api/v1/auth/tokens")).json()[0]["revoked_at"] is None


async def test_login_is_rate_limited_per_client(db, settings, make_user):
    await make_user("a@example.org")
    app = create_app(dataclasses.replace(settings, login_rate_limit=3))
    async with (
        app.lifespan(),
        httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client,
    ):
        await prime_csrf(client)
        codes = [
            (
                await client.post(
                    "/api/v1/auth/login", json={"email": "a@example.org", "password": "wrong-one"}
                )
            ).status_code
            for _ in range(3)
        ]
        blocked = await client.post(
            "/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD}
        )
        form = await client.post(
            "/login",
            data={
                "email": "a@example.org",
                "password": PASSWORD,
                "_csrf_token": client.headers["x-podium-csrf"],
            },
        )
    assert codes == [401, 401, 401]
    assert blocked.status_code == 429
    assert blocked.json()["code"] == "rate_limited"
    assert form.status_code == 429  # the page form shares the limit


async def test_the_login_limit_is_shared_by_every_process(db, settings, make_user):
    """Four app instances (as four server processes would) share one Redis count: of 40 failing
    logins (each for another e-mail, so no account lock is involved) fired at once from one address,
    exactly the address's limit get through."""
    apps = [create_app(dataclasses.replace(settings, login_rate_limit=10)) for _ in range(4)]
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for app in apps:
            await stack.enter_async_context(app.lifespan())
            client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t")
            clients.append(await stack.enter_async_context(client))
            await prime_csrf(client)
        responses = await asyncio.gather(
            *(
                clients[i % 4].post(
                    "/api/v1/auth/login", json={"email": f"a{i}@example.org", "password": "x"}
                )
                for i in range(40)
            )
        )
    codes = [r.status_code for r in responses]
    assert codes.count(401) == 10
    assert codes.count(429) == 30


async def test_forwarded_addresses_count_only_from_trusted_proxies(db, settings):
    app = create_app(dataclasses.replace(settings, login_rate_limit=2, trusted_proxies=("10.0.0.0/8",)))

    async def attempts(peer: str, forwarded_for: list[str]) -> list[int]:
        transport = httpx.ASGITransport(app=app, client=(peer, 40000))
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            await prime_csrf(client)
            return [
                (
                    await client.post(
                        "/api/v1/auth/login",
                        json={"email": f"nobody{i}@example.org", "password": "x"},  # no account lock
                        headers={"x-forwarded-for": address},
                    )
                ).status_code
                for i, address in enumerate(forwarded_for)
            ]

    async with app.lifespan():
        # A client that is not a proxy cannot pick a fresh address for every attempt.
        assert await attempts("203.0.113.7", ["1.1.1.1", "2.2.2.2", "3.3.3.3"]) == [401, 401, 429]
        # Behind the trusted balancer each client address counts on its own; the balancer's own
        # entries (10.x) and whatever the client wrote before them are skipped or ignored.
        behind = await attempts("10.0.0.5", ["198.51.100.1", "9.9.9.9, 198.51.100.2, 10.1.1.1"] * 2)
        assert behind == [401, 401, 401, 401]
        assert await attempts("10.0.0.5", ["198.51.100.1"]) == [429]


async def test_anonymous_calls_to_guarded_endpoints_are_401(client):
    for method, url in [
        ("GET", "/api/v1/auth/me"),
        ("GET", "/api/v1/auth/tokens"),
        ("POST", "/api/v1/auth/logout"),
        ("GET", "/api/v1/users"),
        ("POST", "/api/v1/events"),
    ]:
        response = await client.request(method, url, json={} if method == "POST" else None)
        assert response.status_code == 401, (method, url)
        assert response.json()["code"] == "not_authenticated"
