"""One ``Settings`` object, read from ``PODIUM_*`` environment variables and checked at startup.

Every setting is listed, with its default, in the README's settings table. A bad value stops the
process with a :class:`SettingsError` naming the variable, before anything else starts.
"""

from __future__ import annotations

import ipaddress
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlsplit

ENVIRONMENTS = ("development", "production")
SMTP_SECURITY = ("none", "starttls", "ssl")
LOCALES = ("zh", "en", "ru")
CONTENT_FALLBACK = ("en", "zh", "ru")  # the default order of PODIUM_CONTENT_FALLBACK


class SettingsError(RuntimeError):
    """A setting is missing or malformed; the message names the variable."""


@dataclass(frozen=True)
class Settings:
    environment: str
    data_dir: Path
    database_url: str
    redis_url: str | None
    secret_key: str
    host: str
    port: int
    base_url: str
    default_locale: str
    content_fallback: tuple[str, ...]  # every locale once: the order to try when a text lacks the reader's
    login_rate_limit: int  # failed logins per client address and window
    login_rate_window: int  # seconds
    login_lockout_after: int  # failed logins in a row for one e-mail before it is locked
    login_lockout_seconds: int  # the first lock; each further one doubles
    login_lockout_max_seconds: int  # the longest lock
    smtp_host: str | None
    smtp_port: int
    smtp_user: str | None
    smtp_password: str | None
    smtp_security: str
    mail_from: str
    mail_dir: Path
    db_pool_size: int
    trusted_proxies: tuple[str, ...]
    session_lifetime_days: int

    @property
    def production(self) -> bool:
        return self.environment == "production"

    @property
    def is_postgres(self) -> bool:
        return self.database_url.startswith(("postgres://", "postgresql://"))

    @property
    def sqlite_path(self) -> Path:
        return Path(self.database_url.removeprefix("sqlite:///"))

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Read and validate the settings; raises :class:`SettingsError` on the first bad value."""
        env = os.environ if env is None else env

        def get(name: str, default: str | None = None) -> str | None:
            value = env.get(f"PODIUM_{name}", "").strip()
            return value or default

        def integer(name: str, default: int, low: int, high: int) -> int:
            raw = get(name, str(default))
            try:
                value = int(raw)  # type: ignore[arg-type]
            except ValueError:
                raise SettingsError(f"PODIUM_{name} must be a whole number, got {raw!r}") from None
            if not low <= value <= high:
                raise SettingsError(f"PODIUM_{name} must be between {low} and {high}, got {value}")
            return value

        def choice(name: str, default: str, allowed: tuple[str, ...]) -> str:
            value = get(name, default)
            if value not in allowed:
                raise SettingsError(f"PODIUM_{name} must be one of {', '.join(allowed)}, got {value!r}")
            return value  # type: ignore[return-value]

        environment = choice("ENV", "development", ENVIRONMENTS)
        data_dir = Path(get("DATA_DIR", "var")).resolve()  # type: ignore[arg-type]

        database_url = get("DATABASE_URL", f"sqlite:///{data_dir / 'podium.sqlite'}")
        assert database_url is not None
        scheme = urlsplit(database_url).scheme
        if scheme not in ("sqlite", "postgres", "postgresql"):
            raise SettingsError(
                f"PODIUM_DATABASE_URL must start with sqlite:/// or postgresql://, got {database_url!r}"
            )
        if scheme == "sqlite" and not database_url.startswith("sqlite:///"):
            raise SettingsError("PODIUM_DATABASE_URL for SQLite must look like sqlite:///path/to/file.sqlite")

        redis_url = get("REDIS_URL")
        if redis_url is not None and urlsplit(redis_url).scheme not in ("redis", "rediss", "unix"):
            raise SettingsError(f"PODIUM_REDIS_URL must start with redis:// or rediss://, got {redis_url!r}")

        secret_key = get("SECRET_KEY")
        if secret_key is None:
            if environment == "production":
                raise SettingsError("PODIUM_SECRET_KEY is required when PODIUM_ENV=production")
            secret_key = _development_secret(data_dir)
        if len(secret_key) < 32:
            raise SettingsError("PODIUM_SECRET_KEY must be at least 32 characters long")

        port = integer("PORT", 8000, 1, 65535)
        host = get("HOST", "127.0.0.1")
        assert host is not None
        base_url = (get("BASE_URL") or f"http://{host}:{port}").rstrip("/")
        if urlsplit(base_url).scheme not in ("http", "https"):
            raise SettingsError(f"PODIUM_BASE_URL must be an http(s) URL, got {base_url!r}")

        smtp_host = get("SMTP_HOST")
        smtp_security = choice("SMTP_SECURITY", "starttls" if smtp_host else "none", SMTP_SECURITY)
        mail_from = get("MAIL_FROM", "Podium <no-reply@podium.localhost>")
        assert mail_from is not None
        if "@" not in mail_from:
            raise SettingsError(f"PODIUM_MAIL_FROM must be an e-mail address, got {mail_from!r}")

        lockout = integer("LOGIN_LOCKOUT_SECONDS", 60, 1, 86_400)

        return cls(
            environment=environment,
            data_dir=data_dir,
            database_url=database_url,
            redis_url=redis_url,
            secret_key=secret_key,
            host=host,
            port=port,
            base_url=base_url,
            default_locale=choice("DEFAULT_LOCALE", "en", LOCALES),
            content_fallback=_fallback(get("CONTENT_FALLBACK", ",".join(CONTENT_FALLBACK))),  # type: ignore[arg-type]
            login_rate_limit=integer("LOGIN_RATE_LIMIT", 300, 1, 1_000_000),
            login_rate_window=integer("LOGIN_RATE_WINDOW", 600, 1, 86_400),
            login_lockout_after=integer("LOGIN_LOCKOUT_AFTER", 5, 1, 1000),
            login_lockout_seconds=lockout,
            login_lockout_max_seconds=integer("LOGIN_LOCKOUT_MAX_SECONDS", 900, lockout, 86_400),
            smtp_host=smtp_host,
            smtp_port=integer("SMTP_PORT", 465 if smtp_security == "ssl" else 587, 1, 65535),
            smtp_user=get("SMTP_USER"),
            smtp_password=get("SMTP_PASSWORD"),
            smtp_security=smtp_security,
            mail_from=mail_from,
            mail_dir=Path(get("MAIL_DIR", str(data_dir / "mail"))).resolve(),  # type: ignore[arg-type]
            db_pool_size=integer("DB_POOL_SIZE", 10, 0, 1000),
            trusted_proxies=_networks(get("TRUSTED_PROXIES", "127.0.0.1")),  # type: ignore[arg-type]
            session_lifetime_days=integer("SESSION_LIFETIME_DAYS", 30, 1, 365),
        )


def _fallback(value: str) -> tuple[str, ...]:
    """``en,zh,ru``: the languages in the order to try; those left out come after, as in the default."""
    order = tuple(p.strip().lower() for p in value.split(",") if p.strip())
    if not order or any(p not in LOCALES for p in order) or len(set(order)) < len(order):
        raise SettingsError(
            "PODIUM_CONTENT_FALLBACK must be languages out of zh, en, ru, each at most once, "
            f"separated by commas (e.g. en,zh,ru), got {value!r}"
        )
    return order + tuple(p for p in CONTENT_FALLBACK if p not in order)


def _networks(value: str) -> tuple[str, ...]:
    """Comma-separated addresses or networks (``10.0.0.0/8``), normalised."""
    try:
        return tuple(
            str(ipaddress.ip_network(p.strip(), strict=False)) for p in value.split(",") if p.strip()
        )
    except ValueError:
        raise SettingsError(
            f"PODIUM_TRUSTED_PROXIES must be comma-separated IP addresses or networks, got {value!r}"
        ) from None


def _development_secret(data_dir: Path) -> str:
    """A random key kept in the data directory, so development sessions survive restarts."""
    path = data_dir / "secret_key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key)
    return key


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (read once; tests set the environment before the first call)."""
    return Settings.from_env()
