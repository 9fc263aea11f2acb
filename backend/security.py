"""Who is calling, and may they? Cookie sessions for pages, bearer tokens for API clients and
scanning devices, CSRF for cookie-authenticated writes, token scopes, and the login rate limit.

Sessions are kept in Litestar's store (Redis when configured, a file store otherwise) under a random
id that is replaced at every login, so a planted cookie cannot be promoted to a logged-in session
(Litestar's own session middleware keeps the id across logins). A session entry holds the user id,
the user's ``auth_epoch`` and the login time: it dies after ``SESSION_IDLE`` without use, after the
absolute lifetime (``PODIUM_SESSION_LIFETIME_DAYS``) in any case, and at once when the user is
deactivated (which bumps the epoch).

Authenticating costs one query: a bearer token and its user in one SELECT, or the session's user.
On PostgreSQL a bearer token usually costs none: each process keeps a :class:`PrincipalCache` of
token → caller whose entries the database's ``podium_auth`` notifications drop the moment the token
is revoked or its user changed. A token's ``last_used_at`` is written at most once a minute.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import functools
import hashlib
import ipaddress
import logging
import math
import secrets
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import TYPE_CHECKING, Any

import asyncpg
import msgspec
from litestar import Request, Response
from litestar.config.csrf import CSRFConfig
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException, TooManyRequestsException
from litestar.middleware import AbstractAuthenticationMiddleware, ASGIMiddleware, AuthenticationResult
from litestar.middleware.csrf import CSRFMiddleware
from litestar.stores.base import Store
from litestar.types import ASGIApp, Receive, Scope, Send
from redis.asyncio import Redis

from backend.accounts.service import LoginOutcome, login_throttle
from backend.accounts.tables import ApiToken, TokenScope, User
from backend.accounts.tokens import TOKEN_PREFIX, parse_scopes, token_digest
from backend.db import fetch_one, utcnow
from backend.errors import CsrfFailed, DomainError
from backend.policy import Principal

if TYPE_CHECKING:
    from backend.settings import Settings

logger = logging.getLogger("podium.security")

SESSION_COOKIE = "podium_session"
SESSION_IDLE = 14 * 24 * 3600  # a session unused this long ends (sliding)
CSRF_COOKIE = "podium_csrf"
CSRF_HEADER = "x-podium-csrf"
LAST_USE_RESOLUTION = dt.timedelta(minutes=1)
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
TOKEN_SCOPE_OPT = "token_scope"  # noqa: S105 - an opt key, not a secret
"""A route's ``opt`` key naming the scope a bearer token needs there (default: ``read`` for safe
methods, ``write`` for the rest), or a tuple of scopes any one of which will do (the scanning
endpoints take ``device`` or a person's ``write``); ``None`` lets any token through (logout)."""


def _principal(row: dict[str, Any], via: str, **extra: Any) -> Principal:
    return Principal(
        id=row["id"],
        email=row["email"],
        display_name=row["display_name"],
        locale=row["locale"],
        is_platform_admin=bool(row["superuser"]),
        via=via,
        **extra,
    )


_USER_SQL = (
    "SELECT id, email, display_name, locale, superuser, auth_epoch FROM podium_user WHERE id = {} AND active"
)

_BEARER_SQL = (
    "SELECT t.id AS token_id, t.scopes, t.last_used_at, t.expires_at, u.id, u.email, u.display_name, u.locale, u.superuser"
    ' FROM api_token t JOIN podium_user u ON u.id = t."user"'
    " WHERE t.token_hash = {} AND t.revoked_at IS NULL AND (t.expires_at IS NULL OR t.expires_at > {})"
    " AND u.active"
)


async def load_principal(user_id: int, via: str, *, epoch: int | None = None) -> Principal | None:
    """The active user as a caller; with ``epoch``, only while the user's auth epoch still matches."""
    row = await fetch_one(_USER_SQL, user_id)
    if row is None or (epoch is not None and row["auth_epoch"] != epoch):
        return None
    return _principal(row, via)


class _Entry:
    __slots__ = ("deadline", "last_used", "principal")

    def __init__(self, principal: Principal, deadline: float, last_used: dt.datetime) -> None:
        self.principal = principal
        self.deadline = deadline  # time.monotonic() after which the entry is dead
        self.last_used = last_used  # the last ``last_used_at`` this process knows was written


class PrincipalCache:
    """Bearer tokens this process has checked (by digest) → their caller, valid only while the
    database can tell it that one changed; PostgreSQL only, one per app (``app.state.principals``).

    A dedicated asyncpg connection (not the pool's) runs ``LISTEN podium_auth``; the triggers of
    migration 2026-11-28T17:00:00 send a token's digest when it is revoked, expires earlier, changes
    scopes or is deleted, and ``user:<id>`` when a user is deactivated or their e-mail, name, locale,
    platform-admin flag or auth epoch change, so no write path can forget. The notification drops the
    token's entry, or every entry of the user. The cache is **enabled only while that connection
    listens**: until it does, and from the moment it is lost (its termination listener, or a keepalive
    that fails or takes longer than ``keepalive`` seconds), the cache is emptied and every request is
    checked by the query, until a new connection listens again (retried every ``retry_after`` seconds).

    An entry also dies at its token's ``expires_at`` and after ``ttl`` seconds anyway, and there are
    at most ``max_entries`` (the oldest goes first).

    What is guaranteed, and what is not:

    - A request that started before a revocation committed may still pass (as it would without a
      cache, had its query run a moment earlier).
    - In the process that served the revoking request, the accounts services drop the user's entries
      right after their commit (``backend.accounts.tokens.forget_cached_credentials``), so its next
      request is refused.
    - In every other process (and for writes outside those services: the back office, raw SQL) the
      entry lives until the notification arrives: PostgreSQL sends it when the transaction commits and
      the event loop handles it as soon as it next runs, typically within a millisecond or two on one
      machine; a request there in that window still passes. A request whose query began before the
      commit cannot put a stale entry back afterwards: every notification (and every change of
      listening state) bumps :attr:`generation`, and an entry is stored only if it has not moved
      since before the query.
    - If the listening connection silently stops receiving (a network partition with no reset), the
      keepalive notices within ``2 × keepalive`` seconds; that is the worst case of the window.
    """

    CHANNEL = "podium_auth"

    def __init__(
        self,
        dsn: str,
        *,
        max_entries: int = 10_000,
        ttl: float = 300.0,
        keepalive: float = 5.0,
        retry_after: float = 1.0,
    ) -> None:
        self.dsn = dsn
        self.max_entries = max_entries
        self.ttl = ttl
        self.keepalive = keepalive
        self.retry_after = retry_after
        self.enabled = False
        self.generation = 0
        self.connection: asyncpg.Connection | None = None  # the listening one, while it is
        self._entries: dict[str, _Entry] = {}
        self._by_user: dict[int, set[str]] = {}
        self._task: asyncio.Task[None] | None = None
        self._up = asyncio.Event()

    def __len__(self) -> int:
        return len(self._entries)

    # The entries ------------------------------------------------------------------------------

    def get(self, digest: str) -> _Entry | None:
        entry = self._entries.get(digest)
        if entry is None:
            return None
        if not self.enabled or time.monotonic() >= entry.deadline:
            self.forget(digest)
            return None
        return entry

    def put(
        self,
        digest: str,
        principal: Principal,
        *,
        last_used: dt.datetime,
        expires_at: dt.datetime | None,
        generation: int,
    ) -> None:
        """Keep a caller checked by a query that began at ``generation``, unless anything was
        dropped (or listening changed) since: the query may have read what is no longer true."""
        if not self.enabled or generation != self.generation:
            return
        lifetime = self.ttl
        if expires_at is not None:
            lifetime = min(lifetime, (expires_at - utcnow()).total_seconds())
        if lifetime <= 0:
            return
        self.forget(digest)
        while len(self._entries) >= self.max_entries:
            self.forget(next(iter(self._entries)))
        self._entries[digest] = _Entry(principal, time.monotonic() + lifetime, last_used)
        self._by_user.setdefault(principal.id, set()).add(digest)

    def forget(self, digest: str) -> None:
        entry = self._entries.pop(digest, None)
        if entry is not None:
            digests = self._by_user.get(entry.principal.id)
            if digests is not None:
                digests.discard(digest)
                if not digests:
                    del self._by_user[entry.principal.id]

    def forget_user(self, user_id: int) -> None:
        self.generation += 1
        for digest in self._by_user.pop(user_id, ()):
            self._entries.pop(digest, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()
        self._by_user.clear()

    def _notified(self, _connection: object, _pid: int, _channel: str, payload: str) -> None:
        self.generation += 1
        if payload.startswith("user:"):
            with contextlib.suppress(ValueError):
                self.forget_user(int(payload[5:]))
                return
            self.clear()  # not understood: drop everything rather than guess
        else:
            self.forget(payload)

    # The listening connection ---------------------------------------------------------------------

    def _set_enabled(self, enabled: bool) -> None:
        self.clear()
        self.enabled = enabled

    async def start(self, wait: float = 5.0) -> None:
        """Start listening in the background; wait up to ``wait`` seconds for the first connection
        (until then, and if it fails, requests are checked by the query)."""
        self._task = asyncio.create_task(self._listen(), name="podium-principal-cache")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), wait)

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        self._set_enabled(False)

    async def _listen(self) -> None:
        while True:
            lost = asyncio.Event()
            connection: asyncpg.Connection | None = None

            def terminated(_connection: object, lost: asyncio.Event = lost) -> None:
                self._set_enabled(False)
                lost.set()

            try:
                connection = await asyncpg.connect(self.dsn, timeout=10)
                connection.add_termination_listener(terminated)
                await connection.add_listener(self.CHANNEL, self._notified)
                self.connection = connection
                self._set_enabled(True)
                self._up.set()
                while not lost.is_set():
                    try:
                        await asyncio.wait_for(lost.wait(), self.keepalive)
                    except TimeoutError:
                        await connection.execute("SELECT 1", timeout=self.keepalive)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                logger.warning("token cache disabled, listener connection lost: %r", exc)
            finally:
                self._set_enabled(False)
                self.connection = None
                if connection is not None and not connection.is_closed():
                    connection.terminate()
            await asyncio.sleep(self.retry_after)


async def _record_use(token_id: int, now: dt.datetime) -> None:
    await ApiToken.update({ApiToken.last_used_at: now}).where(
        (ApiToken.id == token_id)
        & (ApiToken.last_used_at.is_null() | (ApiToken.last_used_at < now - LAST_USE_RESOLUTION))
    )


# What a bearer token's lookup finds: the caller, its last use and its expiry.
Bearer = tuple[Principal, dt.datetime | None, dt.datetime | None]


async def cached_bearer(
    token: str,
    cache: PrincipalCache | None,
    load: Callable[[str, dt.datetime], Awaitable[Bearer | None]],
    record_use: Callable[[Principal, dt.datetime], Awaitable[None]],
) -> Principal | None:
    """The caller behind a bearer token (an API token, a scanning device's): from ``cache`` when it
    holds the token's digest (no query), else ``load(digest, now)`` gives the caller, its last use and
    its expiry (``None``: no such live token), then kept in ``cache`` under the generation seen before
    loading (so an invalidation during the load wins). The last use is written through
    ``record_use(principal, now)`` at most once per ``LAST_USE_RESOLUTION``."""
    digest = token_digest(token)
    now = utcnow()
    generation = 0
    if cache is not None:
        entry = cache.get(digest)
        if entry is not None:
            if entry.last_used < now - LAST_USE_RESOLUTION:
                entry.last_used = now
                await record_use(entry.principal, now)
            return entry.principal
        generation = cache.generation
    loaded = await load(digest, now)
    if loaded is None:
        return None
    principal, last_used, expires_at = loaded
    if last_used is None or last_used < now - LAST_USE_RESOLUTION:
        await record_use(principal, now)
        last_used = now
    if cache is not None:
        cache.put(digest, principal, last_used=last_used, expires_at=expires_at, generation=generation)
    return principal


async def _load_token(digest: str, now: dt.datetime) -> Bearer | None:
    row = await fetch_one(_BEARER_SQL, digest, now)
    if row is None:
        return None
    principal = _principal(row, "token", token_id=row["token_id"], scopes=parse_scopes(row["scopes"]))
    return principal, row["last_used_at"], row["expires_at"]


async def _token_used(principal: Principal, now: dt.datetime) -> None:
    await _record_use(principal.token_id, now)  # type: ignore[arg-type]


async def principal_for_token(token: str, cache: PrincipalCache | None = None) -> Principal | None:
    """The caller behind a bearer token that is known, unexpired and unrevoked, of an active user:
    from ``cache`` when it holds the token (no query), else by one SELECT (then kept in ``cache``)."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > 100:
        return None
    return await cached_bearer(token, cache, _load_token, _token_used)


class SessionEntry(msgspec.Struct, frozen=True):
    user_id: int
    epoch: int  # the user's auth_epoch at login
    created_at: float  # Unix time of the login


class SessionStore:
    """Login sessions: random id in an HttpOnly cookie, a :class:`SessionEntry` in the store."""

    def __init__(self, store: Store, lifetime: int) -> None:
        self.store = store
        self.lifetime = lifetime
        self.idle = min(SESSION_IDLE, lifetime)

    async def create(self, user_id: int, epoch: int) -> str:
        session_id = secrets.token_urlsafe(32)
        entry = SessionEntry(user_id=user_id, epoch=epoch, created_at=time.time())
        await self.store.set(f"session:{session_id}", msgspec.json.encode(entry), expires_in=self.idle)
        return session_id

    async def get(self, session_id: str) -> SessionEntry | None:
        """The live session under this id (the read renews its idle timeout)."""
        if not session_id or len(session_id) > 100:
            return None
        raw = await self.store.get(f"session:{session_id}", renew_for=self.idle)
        if raw is None:
            return None
        try:
            entry = msgspec.json.decode(raw, type=SessionEntry)
        except msgspec.DecodeError:
            return None
        if time.time() - entry.created_at >= self.lifetime:
            await self.destroy(session_id)
            return None
        return entry

    async def destroy(self, session_id: str | None) -> None:
        if session_id:
            await self.store.delete(f"session:{session_id}")


async def start_session(request: Request, response: Response, user_id: int) -> None:
    """Replace any session the browser had with a new one for this user."""
    row = await User.select(User.auth_epoch).where((User.id == user_id) & (User.active == True)).first()  # noqa: E712
    if row is None:
        raise NotAuthorizedException("The account is deactivated")
    sessions: SessionStore = request.app.state.sessions
    await sessions.destroy(request.cookies.get(SESSION_COOKIE))
    session_id = await sessions.create(user_id, row["auth_epoch"])
    settings = request.app.state.settings
    response.set_cookie(
        SESSION_COOKIE,
        session_id,
        max_age=sessions.lifetime,
        httponly=True,
        samesite="lax",
        secure=settings.production,
        path="/",
    )


async def end_session(request: Request, response: Response) -> None:
    sessions: SessionStore = request.app.state.sessions
    await sessions.destroy(request.cookies.get(SESSION_COOKIE))
    response.delete_cookie(SESSION_COOKIE, path="/")


def check_token_scope(connection: ASGIConnection, principal: Principal) -> None:
    """Refuse a bearer token that lacks the scope this route needs (see ``TOKEN_SCOPE_OPT``)."""
    method = connection.scope.get("method", "GET")
    default = TokenScope.read.value if method in SAFE_METHODS else TokenScope.write.value
    needed = connection.route_handler.opt.get(TOKEN_SCOPE_OPT, default)
    if needed is None:
        return
    accepted = (needed,) if isinstance(needed, str) else needed
    if not principal.scopes.intersection(accepted):
        names = "' or '".join(accepted)
        raise DomainError("insufficient_scope", f"This token lacks the '{names}' scope", status_code=403)


@functools.cache
def _bearer_resolvers() -> dict[str, Any]:
    from backend.domain import bearer_token_resolvers  # the registry imports every domain

    return bearer_token_resolvers()


class AuthMiddleware(AbstractAuthenticationMiddleware):
    """Sets ``request.user`` to a :class:`Principal` or ``None``; guards decide what anonymous callers may do."""

    async def authenticate_request(self, connection: ASGIConnection) -> AuthenticationResult:
        header = connection.headers.get("authorization")
        if header is not None:
            scheme, _, token = header.partition(" ")
            if scheme.lower() != "bearer" or not token.strip():
                raise NotAuthorizedException("Use 'Authorization: Bearer <token>'")
            token = token.strip()
            resolve = next(
                (r for prefix, r in _bearer_resolvers().items() if token.startswith(prefix)),
                principal_for_token,
            )
            principal = await resolve(token, connection.app.state.get("principals"))
            if principal is None:
                raise NotAuthorizedException("The token is unknown, expired or revoked")
            check_token_scope(connection, principal)
            return AuthenticationResult(user=principal, auth="token")
        session_id = connection.cookies.get(SESSION_COOKIE)
        if session_id:
            sessions: SessionStore = connection.app.state.sessions
            entry = await sessions.get(session_id)
            if entry is not None:
                principal = await load_principal(entry.user_id, "session", epoch=entry.epoch)
                if principal is not None:
                    return AuthenticationResult(user=principal, auth="session")
        return AuthenticationResult(user=None, auth=None)


# The login limits -------------------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _is_trusted(address: str, proxies: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in proxies)


def client_address(scope: Scope, proxies: tuple[Network, ...]) -> str:
    """The caller's address: the peer, unless the peer is a trusted proxy; then the nearest address in
    ``X-Forwarded-For`` (read from the right) that is not a trusted proxy itself."""
    client = scope.get("client")
    peer = client[0] if client else ""
    if not _is_trusted(peer, proxies):
        return peer
    forwarded = ",".join(v.decode("latin-1") for k, v in scope["headers"] if k == b"x-forwarded-for")
    hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
    for hop in reversed(hops):
        if not _is_trusted(hop, proxies):
            return hop
    return hops[0] if hops else peer


# KEYS: address failures, address pending, account hash (f, locks, until), account pending.
_ADMIT_SCRIPT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
local locked_until = tonumber(redis.call('HGET', KEYS[3], 'until') or '0')
if locked_until > now then return {2, math.ceil(locked_until - now)} end
local address_used = tonumber(redis.call('GET', KEYS[1]) or '0') + tonumber(redis.call('GET', KEYS[2]) or '0')
if address_used >= tonumber(ARGV[1]) then return {1, math.max(redis.call('TTL', KEYS[1]), 1)} end
local account_used = tonumber(redis.call('HGET', KEYS[3], 'f') or '0') + tonumber(redis.call('GET', KEYS[4]) or '0')
if account_used >= tonumber(ARGV[2]) then
  local locks = tonumber(redis.call('HGET', KEYS[3], 'locks') or '0')
  return {2, math.min(tonumber(ARGV[3]) * 2 ^ locks, tonumber(ARGV[4]))}
end
redis.call('INCR', KEYS[2])
redis.call('EXPIRE', KEYS[2], ARGV[5])
redis.call('INCR', KEYS[4])
redis.call('EXPIRE', KEYS[4], ARGV[5])
return {0, 0}
"""

_SETTLE_SCRIPT = """
for _, key in ipairs({KEYS[2], KEYS[4]}) do
  if tonumber(redis.call('GET', key) or '0') > 1 then redis.call('DECR', key) else redis.call('DEL', key) end
end
if ARGV[1] == 'ok' then
  redis.call('DEL', KEYS[3])
  return 0
end
if ARGV[1] ~= 'failed' then return 0 end
if redis.call('INCR', KEYS[1]) == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local after = tonumber(ARGV[3])
local lock = 0
if redis.call('HINCRBY', KEYS[3], 'f', 1) >= after then
  local locks = redis.call('HINCRBY', KEYS[3], 'locks', 1)
  lock = math.min(tonumber(ARGV[4]) * 2 ^ (locks - 1), tonumber(ARGV[5]))
  local t = redis.call('TIME')
  local now = tonumber(t[1]) + tonumber(t[2]) / 1000000
  redis.call('HSET', KEYS[3], 'until', tostring(now + lock), 'f', after - 1)
end
redis.call('EXPIRE', KEYS[3], tonumber(ARGV[6]) + lock)
return lock
"""


class _Window:
    """A client address's failed logins in the current window, and its attempts under way."""

    __slots__ = ("ends", "failures", "pending")

    def __init__(self, ends: float) -> None:
        self.ends = ends
        self.failures = 0
        self.pending = 0


class _Streak:
    """An e-mail's failed logins since its last success, its locks so far and the current one."""

    __slots__ = ("failures", "forget_at", "locked_until", "locks", "pending")

    def __init__(self) -> None:
        self.failures = 0
        self.locks = 0
        self.locked_until = 0.0
        self.pending = 0
        self.forget_at = 0.0


ADDRESS_LIMITED = "Too many failed logins from your network; try again later"
ACCOUNT_LOCKED = "Too many failed logins for this e-mail address; try again later"


class LoginLimiter:
    """The login limits, shared by every login route (the API's and the form's) of every process.

    - **Per e-mail address**: after ``lockout_after`` failed attempts in a row the address is locked
      for ``lockout_seconds``; after the lock, each further failure locks it again for twice as long
      as the last time, up to ``lockout_max_seconds``. While it is locked every attempt is refused
      before the password is looked at, a right one too. A success ends the streak and its backoff;
      a streak is forgotten a day after its last failure. Unknown addresses are counted and locked
      the same way, so the answers tell nothing about which accounts exist.
    - **Per client address**: at most ``address_limit`` *failed* attempts per fixed window of
      ``window`` seconds (a campus behind one NAT address lives with a few hundred); successful
      logins leave the budget untouched.

    An attempt is admitted only while the failures plus the attempts still under way stay below a
    limit (the attempt is reserved at admission and settled once, as a failure, a success or an
    abort), so concurrent attempts can never get more failures through than the limit. A
    reservation a crashed process never settled expires after ``PENDING_TTL`` seconds.

    With Redis every process shares the counts, each step one atomic Lua script; without Redis (the
    embedded default, one process) they are kept in memory.
    """

    PENDING_TTL = 30
    FORGET_AFTER = 24 * 3600
    MAX_ENTRIES = 100_000  # in memory: beyond this, finished windows and streaks are dropped

    def __init__(
        self,
        *,
        address_limit: int,
        window: int,
        lockout_after: int,
        lockout_seconds: int,
        lockout_max_seconds: int,
        redis: Redis | None = None,
        trusted_proxies: Iterable[str] = (),
    ) -> None:
        self.address_limit = address_limit
        self.window = window
        self.lockout_after = lockout_after
        self.lockout_seconds = lockout_seconds
        self.lockout_max_seconds = lockout_max_seconds
        self.proxies = tuple(ipaddress.ip_network(p, strict=False) for p in trusted_proxies)
        self._admit = redis.register_script(_ADMIT_SCRIPT) if redis is not None else None
        self._settle = redis.register_script(_SETTLE_SCRIPT) if redis is not None else None
        self._windows: dict[str, _Window] = {}
        self._streaks: dict[str, _Streak] = {}

    @classmethod
    def from_settings(cls, settings: Settings, redis: Redis | None = None) -> LoginLimiter:
        return cls(
            address_limit=settings.login_rate_limit,
            window=settings.login_rate_window,
            lockout_after=settings.login_lockout_after,
            lockout_seconds=settings.login_lockout_seconds,
            lockout_max_seconds=settings.login_lockout_max_seconds,
            redis=redis,
            trusted_proxies=settings.trusted_proxies,
        )

    def for_address(self, address: str) -> LoginAttempts:
        """The limits as the accounts service sees them, for attempts from this client address."""
        return LoginAttempts(self, address)

    def lock_for(self, locks: int) -> int:
        """How long the e-mail is locked the ``locks``-th time (1, 2, ...)."""
        return min(self.lockout_seconds * 2 ** min(locks - 1, 30), self.lockout_max_seconds)

    @staticmethod
    def _keys(address: str, email: str) -> list[str]:
        account = hashlib.sha256(email.encode()).hexdigest()[:32]  # no e-mail addresses in Redis
        return [
            f"podium:login:address:{address}",
            f"podium:login:address_pending:{address}",
            f"podium:login:account:{account}",
            f"podium:login:account_pending:{account}",
        ]

    async def admit(self, address: str, email: str) -> None:
        """Reserve an attempt, or raise 429 ``rate_limited`` with ``Retry-After``."""
        if self._admit is not None:
            refused, wait = await self._admit(
                keys=self._keys(address, email),
                args=[
                    self.address_limit,
                    self.lockout_after,
                    self.lockout_seconds,
                    self.lockout_max_seconds,
                    self.PENDING_TTL,
                ],
            )
        else:
            refused, wait = self._admit_in_memory(address, email)
        if refused:
            raise TooManyRequestsException(
                ADDRESS_LIMITED if refused == 1 else ACCOUNT_LOCKED,
                headers={"Retry-After": str(max(1, math.ceil(wait)))},
            )

    async def settle(self, address: str, email: str, outcome: LoginOutcome) -> int | None:
        """Account for an admitted attempt; the seconds of the lock this failure started, if any."""
        if self._settle is not None:
            lock = await self._settle(
                keys=self._keys(address, email),
                args=[
                    outcome,
                    self.window,
                    self.lockout_after,
                    self.lockout_seconds,
                    self.lockout_max_seconds,
                    self.FORGET_AFTER,
                ],
            )
        else:
            lock = self._settle_in_memory(address, email, outcome)
        return int(lock) or None

    # Without Redis: the same rules over dictionaries (no await inside, so each step is atomic) ----

    def _window(self, address: str, now: float) -> _Window:
        window = self._windows.get(address)
        if window is None or (now >= window.ends and not window.pending):
            window = self._windows[address] = _Window(now + self.window)
        elif now >= window.ends:  # a new window, the attempts under way carried over
            window.ends, window.failures = now + self.window, 0
        return window

    def _streak(self, email: str, now: float) -> _Streak:
        streak = self._streaks.get(email)
        if streak is None or (now >= streak.forget_at and not streak.pending and now >= streak.locked_until):
            streak = self._streaks[email] = _Streak()
        return streak

    def _admit_in_memory(self, address: str, email: str) -> tuple[int, float]:
        now = time.monotonic()
        if len(self._windows) + len(self._streaks) > self.MAX_ENTRIES:
            self._windows = {k: w for k, w in self._windows.items() if w.pending or now < w.ends}
            self._streaks = {
                k: s
                for k, s in self._streaks.items()
                if s.pending or now < s.forget_at or now < s.locked_until
            }
        streak = self._streak(email, now)
        if streak.locked_until > now:
            return 2, streak.locked_until - now
        window = self._window(address, now)
        if window.failures + window.pending >= self.address_limit:
            return 1, window.ends - now
        if streak.failures + streak.pending >= self.lockout_after:
            return 2, self.lock_for(streak.locks + 1)
        window.pending += 1
        streak.pending += 1
        return 0, 0

    def _settle_in_memory(self, address: str, email: str, outcome: LoginOutcome) -> int:
        now = time.monotonic()
        window = self._window(address, now)
        streak = self._streak(email, now)
        window.pending = max(0, window.pending - 1)
        streak.pending = max(0, streak.pending - 1)
        if outcome == "ok":
            pending = streak.pending
            streak = self._streaks[email] = _Streak()
            streak.pending = pending
            return 0
        if outcome != "failed":
            return 0
        window.failures += 1
        streak.failures += 1
        lock = 0
        if streak.failures >= self.lockout_after:
            streak.locks += 1
            lock = self.lock_for(streak.locks)
            streak.locked_until = now + lock
            streak.failures = self.lockout_after - 1
        streak.forget_at = now + self.FORGET_AFTER + lock
        return lock


class LoginAttempts:
    """A :class:`LoginLimiter` bound to one client address: the accounts service's
    :class:`backend.accounts.service.LoginThrottle`."""

    __slots__ = ("address", "limiter")

    def __init__(self, limiter: LoginLimiter, address: str) -> None:
        self.limiter = limiter
        self.address = address

    async def admit(self, email: str) -> None:
        await self.limiter.admit(self.address, email)

    async def settle(self, email: str, outcome: LoginOutcome) -> int | None:
        return await self.limiter.settle(self.address, email, outcome)


class LoginRateLimitMiddleware(ASGIMiddleware):
    """Puts the login limits (the app's :class:`LoginLimiter`, ``app.state.login_limiter``, bound to
    the client's address) in :data:`backend.accounts.service.login_throttle` for the request, so
    every check of a password on the routes behind it (the API's login and token routes, the login
    form) is admitted and counted by the limits every other login route shares."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        limiter: LoginLimiter = scope["app"].state.login_limiter
        reset = login_throttle.set(limiter.for_address(client_address(scope, limiter.proxies)))
        try:
            await next_app(scope, receive, send)
        finally:
            login_throttle.reset(reset)


API_PREFIX = "/api/"


class TokenAwareCSRFMiddleware(CSRFMiddleware):
    """Litestar's double-submit CSRF check, for the requests a forgery could give power to. Skipped:

    - with a bearer token: browsers never attach an ``Authorization`` header on their own, so those
      requests cannot be forged cross-site;
    - for the API (``/api/``) when the request carries no session cookie: it has no ambient
      authority to abuse (a bearer token or credentials in the body, which a forger does not have),
      and the API reads only ``application/json`` bodies (415 otherwise), which a cross-site form
      cannot send, so not even a login can be forged. A client logs in or gets a token in one call.

    Any request that carries a session cookie (valid or not) keeps the check, on every write; so do
    the pages, also without a session (the login form, against login CSRF).

    A refusal is raised as :class:`CsrfFailed`: a ``PermissionDeniedException`` is the check's own
    only if the request never got past it (the wrapped app marks the scope when it is reached)."""

    def __init__(self, app: ASGIApp, config: CSRFConfig) -> None:
        async def passed(scope: Scope, receive: Receive, send: Send) -> None:
            scope["podium.csrf_passed"] = True  # type: ignore[typeddict-unknown-key]
            await app(scope, receive, send)

        super().__init__(passed, config)

    @staticmethod
    def _exempt(scope: Scope) -> bool:
        for name, value in scope["headers"]:
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                return True
        if not scope["path"].startswith(API_PREFIX):
            return False
        return not ASGIConnection(scope).cookies.get(SESSION_COOKIE)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self._exempt(scope):
            await self.app(scope, receive, send)
            return
        try:
            await super().__call__(scope, receive, send)
        except PermissionDeniedException as exc:
            if scope.get("podium.csrf_passed"):
                raise
            raise CsrfFailed() from exc
