"""The API login in one call (``POST /api/v1/auth/tokens`` with credentials), CSRF only where a
cookie carries authority, and the login limits: per e-mail address a lockout with backoff, per client
address a budget of failed attempts that successful logins do not use up."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import json
import re
from collections.abc import AsyncIterator

import httpx
from litestar.exceptions import TooManyRequestsException
from redis.asyncio import Redis

from backend.accounts.tables import ApiToken
from backend.app import create_app
from backend.audit import AuditEntry
from backend.security import CSRF_HEADER, SESSION_COOKIE, LoginLimiter
from backend.settings import Settings
from tests.integration.conftest import PASSWORD, prime_csrf

ERROR_KEYS = {"code", "detail", "fields"}


def credentials(email: str, password: str = PASSWORD, **body) -> dict:
    return {"email": email, "password": password, "name": "script", **body}


@contextlib.asynccontextmanager
async def app_clients(
    settings: Settings, count: int = 1, peers: tuple[str, ...] = ("127.0.0.1",), **changes
) -> AsyncIterator[list[httpx.AsyncClient]]:
    """``count`` running apps with these settings changed (as that many server processes sharing
    Redis), one bare client each (no cookie, no CSRF header) per peer address."""
    async with contextlib.AsyncExitStack() as stack:
        clients = []
        for _ in range(count):
            app = create_app(dataclasses.replace(settings, **changes))
            await stack.enter_async_context(app.lifespan())
            for peer in peers:
                transport = httpx.ASGITransport(app=app, client=(peer, 40000))
                client = httpx.AsyncClient(transport=transport, base_url="http://podium.test")
                clients.append(await stack.enter_async_context(client))
        yield clients


async def audit_actions() -> list[str]:
    return [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]


# One call -------------------------------------------------------------------------------------


async def test_credentials_get_a_token_in_one_call_and_it_works(db, settings, make_user):
    user_id = await make_user("script@example.org")
    async with app_clients(settings) as [client]:
        created = await client.post(
            "/api/v1/auth/tokens",
            json=credentials(" Script@Example.org", scopes=["read"], expires_in_days=7),
        )
        assert created.status_code == 201, created.text
        body = created.json()
        assert body["token"].startswith("pdm_")
        assert body["info"]["name"] == "script"
        assert body["info"]["scopes"] == ["read"]
        assert body["info"]["parent_id"] is None  # made from a login, not from another token
        expires = dt.datetime.fromisoformat(body["info"]["expires_at"])
        assert abs(expires - (dt.datetime.now(dt.UTC) + dt.timedelta(days=7))) < dt.timedelta(minutes=1)
        assert SESSION_COOKIE not in created.cookies  # a token, not a session

        client.headers["authorization"] = f"Bearer {body['token']}"
        me = await client.get("/api/v1/auth/me")
        assert me.status_code == 200
        assert me.json()["id"] == user_id
        refused = await client.post("/api/v1/auth/tokens", json={"name": "more"})
        assert refused.status_code == 403  # the scopes asked for hold: a read-only token writes nothing
        assert refused.json()["code"] == "insufficient_scope"

    assert await audit_actions() == ["user.create", "auth.login", "token.create"]
    entries = await AuditEntry.select(AuditEntry.action, AuditEntry.actor_id).where(
        AuditEntry.action.is_in(["auth.login", "token.create"])
    )
    assert {e["actor_id"] for e in entries} == {user_id}


async def test_the_defaults_are_those_of_a_token_made_while_logged_in(db, settings, make_user):
    await make_user("script@example.org")
    async with app_clients(settings) as [client]:
        created = await client.post("/api/v1/auth/tokens", json=credentials("script@example.org"))
    info = created.json()["info"]
    assert info["scopes"] == ["read", "write"]
    expires = dt.datetime.fromisoformat(info["expires_at"])
    assert abs(expires - (dt.datetime.now(dt.UTC) + dt.timedelta(days=90))) < dt.timedelta(minutes=1)


async def test_a_wrong_password_or_unknown_email_is_401_and_makes_no_token(db, settings, make_user):
    await make_user("script@example.org")
    async with app_clients(settings) as [client]:
        wrong = await client.post(
            "/api/v1/auth/tokens", json=credentials("script@example.org", "not-the-password")
        )
        unknown = await client.post("/api/v1/auth/tokens", json=credentials("ghost@example.org"))
    assert wrong.status_code == unknown.status_code == 401
    assert (
        wrong.json()
        == unknown.json()
        == {"code": "invalid_credentials", "detail": "The e-mail or password is wrong", "fields": {}}
    )
    assert await ApiToken.count() == 0
    assert await audit_actions() == ["user.create", "auth.login_failed", "auth.login_failed"]


async def test_deactivated_accounts_get_no_token(db, settings, make_user):
    from backend.accounts.tables import User

    user_id = await make_user("gone@example.org")
    await User.update({User.active: False}).where(User.id == user_id)
    async with app_clients(settings) as [client]:
        response = await client.post("/api/v1/auth/tokens", json=credentials("gone@example.org"))
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert await ApiToken.count() == 0


async def test_credentials_come_in_pairs(make_client, make_user):
    """Half a pair is a 400, never a fallback to whoever else the request is logged in as."""
    await make_user("a@example.org")
    anonymous = await make_client()
    logged_in = await make_client("a@example.org")
    for client in (anonymous, logged_in):
        only_email = await client.post("/api/v1/auth/tokens", json={"name": "x", "email": "a@example.org"})
        only_password = await client.post("/api/v1/auth/tokens", json={"name": "x", "password": PASSWORD})
        assert only_email.status_code == only_password.status_code == 400
        assert only_email.json()["code"] == only_password.json()["code"] == "validation_error"
        assert set(only_email.json()["fields"]) == {"password"}
        assert set(only_password.json()["fields"]) == {"email"}
    assert await ApiToken.count() == 0


async def test_without_credentials_the_caller_must_be_logged_in(db, settings):
    async with app_clients(settings) as [client]:
        response = await client.post("/api/v1/auth/tokens", json={"name": "x"})
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_credentials_decide_whose_token_it_is(make_client, make_user):
    """Logged in as one user, sending another's credentials: the token is the other's (the password
    proves it), and a wrong password is refused, not answered with a token of the session's user."""
    a_id = await make_user("a@example.org")
    b_id = await make_user("b@example.org")
    a = await make_client("a@example.org")
    created = await a.post("/api/v1/auth/tokens", json=credentials("b@example.org"))
    assert created.status_code == 201
    token = created.json()["token"]
    assert (await ApiToken.select(ApiToken.user).where(ApiToken.name == "script").first())["user"] == b_id
    wrong = await a.post("/api/v1/auth/tokens", json=credentials("b@example.org", "wrong-password"))
    assert wrong.status_code == 401
    assert await ApiToken.count() == 1
    a.headers["authorization"] = f"Bearer {token}"
    assert (await a.get("/api/v1/auth/me")).json()["id"] == b_id != a_id


async def test_the_openapi_document_describes_both_ways(make_client):
    client = await make_client()
    document = (await client.get("/schema/openapi.json")).json()
    operation = document["paths"]["/api/v1/auth/tokens"]["post"]
    assert {} in operation["security"]  # no authentication needed with credentials
    assert "curl" in operation["description"]
    assert "invalid_credentials" in operation["description"]
    ref = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema = document["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    assert {"email", "password"} <= set(schema["properties"])
    assert not {"email", "password"} & set(schema.get("required", []))


# CSRF -----------------------------------------------------------------------------------------


def _write_routes(app) -> list[tuple[str, str]]:
    """Every write the app routes (API and pages), with path parameters filled with 1."""
    writes = []
    for route in app.routes:
        if route.path.startswith(("/static", "/admin", "/schema")):
            continue
        for handler in getattr(route, "route_handlers", []):
            for method in handler.http_methods - {"GET", "HEAD", "OPTIONS"}:
                writes.append((method, re.sub(r"\{(\w+):(\w+)\}", "1", route.path)))
    return sorted(set(writes))


async def test_with_a_session_cookie_every_write_needs_the_csrf_token(make_client, make_user):
    await make_user("a@example.org")
    client = await make_client("a@example.org")
    del client.headers[CSRF_HEADER]
    writes = _write_routes(make_client.app)
    assert ("POST", "/api/v1/auth/tokens") in writes
    assert ("POST", "/login") in writes
    failures = []
    for cookie in (client.cookies[SESSION_COOKIE], "expired-or-forged-session-id"):
        client.cookies.set(SESSION_COOKIE, cookie)
        for method, url in writes:
            body = credentials("a@example.org") if url == "/api/v1/auth/tokens" else {}
            if url.startswith("/api/"):
                response = await client.request(method, url, json=body)
            else:
                response = await client.request(method, url, data=body)
            if response.status_code != 403 or response.json().get("code") != "csrf_failed":
                failures.append(f"{method} {url} -> {response.status_code} {response.text[:120]}")
    assert not failures, "\n".join(failures)
    assert await ApiToken.count() == 0


async def test_without_any_cookie_the_api_needs_no_csrf_token_but_the_pages_do(db, settings, make_user):
    await make_user("a@example.org")
    async with app_clients(settings) as [client]:
        login = await client.post("/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD})
        assert login.status_code == 200  # a script keeping cookies logs in without fetching a page first
        client.cookies.clear()
        # The login form keeps its CSRF check without a session too (no login CSRF).
        form = await client.post("/login", data={"email": "a@example.org", "password": PASSWORD})
        assert form.status_code == 403
        # A cross-site form cannot send JSON, and the API takes nothing else.
        as_form = await client.post("/api/v1/auth/tokens", data=credentials("a@example.org"))
        assert as_form.status_code == 415
    assert await ApiToken.count() == 0


async def test_a_bearer_token_with_a_session_cookie_needs_no_csrf_token(make_client, make_user):
    await make_user("a@example.org")
    client = await make_client("a@example.org")
    token = (await client.post("/api/v1/auth/tokens", json={"name": "t"})).json()["token"]
    del client.headers[CSRF_HEADER]
    client.headers["authorization"] = f"Bearer {token}"
    child = await client.post("/api/v1/auth/tokens", json={"name": "child", "expires_in_days": 7})
    assert child.status_code == 201, child.text


# The lockout per e-mail address -------------------------------------------------------------------

LOCK = {"lockout_after": 3, "lockout_seconds": 1, "lockout_max_seconds": 4}


def _login_limits(**limits) -> dict:
    return {
        "login_lockout_after": limits["lockout_after"],
        "login_lockout_seconds": limits["lockout_seconds"],
        "login_lockout_max_seconds": limits["lockout_max_seconds"],
    }


async def locks_run_out(seconds: float, settings: Settings, limiter: LoginLimiter | None = None) -> None:
    """Time passing for the e-mail locks without the wait: each lock's end moves ``seconds`` earlier,
    in Redis or in the memory of ``limiter`` (one without Redis). A test waits for its first lock on
    the real clock and lets the longer ones run out this way."""
    if limiter is not None and limiter._admit is None:
        for streak in limiter._streaks.values():
            streak.locked_until -= seconds
        return
    redis = Redis.from_url(settings.redis_url)
    try:
        async for key in redis.scan_iter("podium:login:account:*"):
            if await redis.hexists(key, "until"):
                await redis.hincrbyfloat(key, "until", -seconds)
    finally:
        await redis.aclose()


async def _token_status(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> int:
    return (await client.post("/api/v1/auth/tokens", json=credentials(email, password))).status_code


async def test_repeated_failures_lock_the_email_with_doubling_locks(db, settings, make_user):
    await make_user("a@example.org")
    async with app_clients(settings, **_login_limits(**LOCK)) as [client]:
        assert [await _token_status(client, "a@example.org", "wrong-one") for _ in range(3)] == [401] * 3
        locked = await client.post("/api/v1/auth/tokens", json=credentials("a@example.org"))
        assert locked.status_code == 429  # the right password too: else the lock would tell it
        assert locked.json()["code"] == "rate_limited"
        assert set(locked.json()) == ERROR_KEYS
        assert locked.headers["retry-after"] == "1"
        # After each lock a single failure locks again, twice as long, up to the cap.
        await asyncio.sleep(int(locked.headers["retry-after"]))  # the first lock ends on the real clock
        for expected in (2, 4, 4):
            assert await _token_status(client, "a@example.org", "wrong-one") == 401
            locked = await client.post("/api/v1/auth/tokens", json=credentials("a@example.org"))
            assert locked.status_code == 429
            assert locked.headers["retry-after"] == str(expected)
            await locks_run_out(int(locked.headers["retry-after"]), settings)
        # The right password once the lock is over: the streak and its backoff are gone.
        assert await _token_status(client, "a@example.org") == 201
        assert [await _token_status(client, "a@example.org", "wrong-one") for _ in range(3)] == [401] * 3
        assert (await client.post("/api/v1/auth/tokens", json=credentials("a@example.org"))).headers[
            "retry-after"
        ] == "1"
    failed = (
        await AuditEntry.select(AuditEntry.data)
        .where(AuditEntry.action == "auth.login_failed")
        .order_by(AuditEntry.id)
    )
    assert [json.loads(f["data"]).get("locked_seconds") for f in failed][:3] == [None, None, 1]


async def test_a_success_ends_the_streak(db, settings, make_user):
    await make_user("a@example.org")
    async with app_clients(settings, **_login_limits(**LOCK)) as [client]:
        statuses = []
        for _ in range(3):
            statuses += [await _token_status(client, "a@example.org", "typo") for _ in range(2)]
            statuses.append(await _token_status(client, "a@example.org"))
    assert statuses == [401, 401, 201] * 3


async def test_unknown_and_real_addresses_lock_alike(db, settings, make_user):
    await make_user("real@example.org")
    changes = _login_limits(lockout_after=3, lockout_seconds=60, lockout_max_seconds=600)
    async with app_clients(settings, **changes) as [client]:
        answers = []
        for email in ("real@example.org", "ghost@example.org"):
            for _ in range(3):
                await client.post("/api/v1/auth/tokens", json=credentials(email, "wrong-one"))
            answers.append(await client.post("/api/v1/auth/tokens", json=credentials(email)))
    real, ghost = answers
    assert real.status_code == ghost.status_code == 429
    assert real.json() == ghost.json()
    assert real.headers["retry-after"] == ghost.headers["retry-after"] == "60"


async def test_the_lock_holds_for_every_login_route_and_address(db, settings, make_user):
    """Failures through the form and through the API count together, and moving to another client
    address does not escape the lock of an e-mail."""
    await make_user("a@example.org")
    changes = _login_limits(lockout_after=3, lockout_seconds=60, lockout_max_seconds=600)
    async with app_clients(settings, peers=("198.51.100.1", "198.51.100.2"), **changes) as [one, other]:
        await prime_csrf(one)
        form = {"email": "a@example.org", "password": "wrong-one", "_csrf_token": one.headers[CSRF_HEADER]}
        assert (await one.post("/login", data=form)).status_code == 400
        api_login = await one.post("/api/v1/auth/login", json={"email": "a@example.org", "password": "x"})
        assert api_login.status_code == 401
        assert await _token_status(other, "a@example.org", "wrong-one") == 401
        assert await _token_status(other, "a@example.org") == 429
        login = await one.post("/api/v1/auth/login", json={"email": "a@example.org", "password": PASSWORD})
        assert login.status_code == 429
        page = await one.post("/login", data={**form, "password": PASSWORD}, headers={"accept": "text/html"})
        assert page.status_code == 429
        assert page.headers["retry-after"]
        assert "text/html" in page.headers["content-type"]
        assert SESSION_COOKIE not in page.cookies


async def test_twenty_concurrent_wrong_passwords_fail_exactly_the_limit(db, settings, make_user):
    """Twenty wrong passwords for one account at once, spread over four processes: exactly five are
    checked (and fail) and the other fifteen are refused; then the account is locked."""
    await make_user("a@example.org")
    changes = _login_limits(lockout_after=5, lockout_seconds=60, lockout_max_seconds=600)
    async with app_clients(settings, count=4, **changes) as clients:
        responses = await asyncio.gather(
            *(
                clients[i % 4].post("/api/v1/auth/tokens", json=credentials("a@example.org", f"wrong-{i}"))
                for i in range(20)
            )
        )
        after = await clients[0].post("/api/v1/auth/tokens", json=credentials("a@example.org"))
    codes = sorted(r.status_code for r in responses)
    assert codes == [401] * 5 + [429] * 15
    assert after.status_code == 429
    assert after.headers["retry-after"] == "60"
    assert await AuditEntry.count().where(AuditEntry.action == "auth.login_failed") == 5
    assert await ApiToken.count() == 0


async def test_without_redis_the_limits_hold_in_the_process(db, settings, make_user):
    """The embedded mode (no ``PODIUM_REDIS_URL``): the same lock, counted in memory."""
    await make_user("a@example.org")
    changes = _login_limits(lockout_after=3, lockout_seconds=60, lockout_max_seconds=600)
    async with app_clients(settings, redis_url=None, **changes) as [client]:
        assert [await _token_status(client, "a@example.org", "typo") for _ in range(3)] == [401] * 3
        locked = await client.post("/api/v1/auth/tokens", json=credentials("a@example.org"))
        assert locked.status_code == 429
        assert locked.headers["retry-after"] == "60"


# The budget per client address --------------------------------------------------------------------


async def test_successful_logins_do_not_use_up_the_address_budget(db, settings, make_user):
    """300 logins from one address (a campus behind one NAT address) leave its budget of failures
    whole; only failures count, and a used-up budget stops the right password too."""
    for n in range(3):
        await make_user(f"student{n}@example.org")
    async with app_clients(settings, peers=("203.0.113.9", "203.0.113.10"), login_rate_limit=5) as [
        campus,
        elsewhere,
    ]:
        for i in range(300):
            campus.cookies.clear()  # a script that does not keep the session (else: the CSRF header)
            response = await campus.post(
                "/api/v1/auth/login", json={"email": f"student{i % 3}@example.org", "password": PASSWORD}
            )
            assert response.status_code == 200, (i, response.text)
        campus.cookies.clear()
        # Failures spread over the accounts (none of them is locked): five fit the budget.
        failed = [await _token_status(campus, f"student{i % 3}@example.org", "typo") for i in range(5)]
        assert failed == [401] * 5
        refused = await campus.post("/api/v1/auth/tokens", json=credentials("student0@example.org"))
        assert refused.status_code == 429
        assert refused.json()["code"] == "rate_limited"
        assert 1 <= int(refused.headers["retry-after"]) <= settings.login_rate_window
        # Another address has its own budget.
        assert await _token_status(elsewhere, "student0@example.org") == 201


async def test_the_address_window_ends(db, settings, make_user):
    await make_user("a@example.org")
    async with app_clients(settings, login_rate_limit=2, login_rate_window=3) as [client]:
        assert [await _token_status(client, "a@example.org", "typo") for _ in range(3)] == [401, 401, 429]
        refused = await client.post("/api/v1/auth/tokens", json=credentials("a@example.org"))
        assert refused.status_code == 429
        await asyncio.sleep(int(refused.headers["retry-after"]))
        assert await _token_status(client, "a@example.org") == 201


# The limiter itself, with Redis and in memory -----------------------------------------------------


@contextlib.asynccontextmanager
async def a_limiter(store: str, settings: Settings) -> AsyncIterator[LoginLimiter]:
    """The limits over Redis (as with ``PODIUM_REDIS_URL``) or in memory (the embedded mode)."""
    redis = Redis.from_url(settings.redis_url) if store == "redis" else None
    try:
        yield LoginLimiter(
            address_limit=4, window=60, lockout_after=3, lockout_seconds=1, lockout_max_seconds=4, redis=redis
        )
    finally:
        if redis is not None:
            await redis.aclose()


async def _attempt(limiter: LoginLimiter, email: str, outcome: str, address: str = "192.0.2.1") -> str:
    try:
        await limiter.admit(address, email)
    except TooManyRequestsException as exc:
        return f"429/{exc.headers['Retry-After']}"
    lock = await limiter.settle(address, email, outcome)  # type: ignore[arg-type]
    return f"{outcome}/{lock}" if lock else outcome


async def test_the_limiter_rules_with_redis(db, settings):
    async with a_limiter("redis", settings) as limiter:
        await _limiter_rules(limiter, settings)


async def test_the_limiter_rules_in_memory(db, settings):
    async with a_limiter("memory", settings) as limiter:
        await _limiter_rules(limiter, settings)


async def _limiter_rules(limiter: LoginLimiter, settings: Settings) -> None:
    attempts = [await _attempt(limiter, "a@example.org", "failed") for _ in range(4)]
    assert attempts == ["failed", "failed", "failed/1", "429/1"]
    # The address has used 3 of its 4 failures; successes and aborts take nothing from it.
    assert await _attempt(limiter, "b@example.org", "ok") == "ok"
    assert await _attempt(limiter, "b@example.org", "aborted") == "aborted"
    assert await _attempt(limiter, "c@example.org", "failed") == "failed"
    assert (await _attempt(limiter, "d@example.org", "ok")).startswith("429/")
    assert await _attempt(limiter, "d@example.org", "ok", address="192.0.2.2") == "ok"
    # The lock doubles after each further failure, up to the cap.
    await asyncio.sleep(1.05)  # the first lock ends on the real clock
    assert await _attempt(limiter, "a@example.org", "failed", "192.0.2.3") == "failed/2"
    for wait, expected in ((2.05, 4), (4.05, 4)):
        await locks_run_out(wait, settings, limiter)
        assert await _attempt(limiter, "a@example.org", "failed", "192.0.2.3") == f"failed/{expected}"


async def test_concurrent_attempts_are_reserved_with_redis(db, settings):
    async with a_limiter("redis", settings) as limiter:
        await _reservations(limiter)


async def test_concurrent_attempts_are_reserved_in_memory(db, settings):
    async with a_limiter("memory", settings) as limiter:
        await _reservations(limiter)


async def _reservations(limiter: LoginLimiter) -> None:
    """Attempts under way count against the limits until settled: of twenty at once, three are
    admitted; an abort gives its reservation back."""

    async def admit() -> bool:
        try:
            await limiter.admit("192.0.2.1", "a@example.org")
        except TooManyRequestsException:
            return False
        return True

    admitted = await asyncio.gather(*(admit() for _ in range(20)))
    assert admitted.count(True) == 3
    await limiter.settle("192.0.2.1", "a@example.org", "aborted")
    assert await admit()
    assert not await admit()
    for _ in range(3):
        assert await limiter.settle("192.0.2.1", "a@example.org", "failed") in (None, 1)
    assert not await admit()  # locked now
