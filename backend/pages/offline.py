"""Installable pages that keep working offline (the judges' tablet at ``/judge``, the ticket scanner at
``/scan``): each page's service worker, ``backend/static/offline-sw.js`` with the page's own
``VERSION``, ``SHELL``, ``CACHE`` prefix and ``ASSETS`` put in front of it, and its web app manifest.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from pathlib import Path

import msgspec
from litestar import Response

STATIC = Path(__file__).resolve().parents[1] / "static"
SERVICE_WORKER = "/static/offline-sw.js"


def static_path(asset: str) -> Path:
    """The file behind a ``/static/...`` address."""
    return STATIC / asset.removeprefix("/static/")


def fingerprint(assets: Iterable[str]) -> str:
    """The assets' fingerprint, the service worker's own code included: a new release's service
    worker replaces the old cache. An asset not built yet counts as missing, not as an error."""
    digest = hashlib.sha256()
    for asset in (*assets, SERVICE_WORKER):
        path = static_path(asset)
        digest.update(path.read_bytes() if path.is_file() else b"missing")
    return digest.hexdigest()[:16]


def service_worker(*, version: str, shell: str, cache: str, assets: Iterable[str]) -> str:
    """The service worker's code: it keeps ``shell`` and ``assets`` in caches named ``cache`` + version."""

    def constant(name: str, value: object) -> str:
        return f"const {name} = {msgspec.json.encode(value).decode()};\n"

    return (
        constant("VERSION", version)
        + constant("SHELL", shell)
        + constant("CACHE_PREFIX", cache)
        + constant("ASSETS", tuple(assets))
        + static_path(SERVICE_WORKER).read_text(encoding="utf-8")
    )


def worker_response(code: str, scope: str) -> Response[str]:
    """The service worker as served under ``scope`` (so its scope covers the page), never cached stale."""
    return Response(
        code,
        media_type="text/javascript",
        headers={"service-worker-allowed": scope, "cache-control": "no-cache"},
    )


def manifest_response(*, name: str, short_name: str, shell: str, scope: str, icon: str) -> Response[bytes]:
    """The web app manifest (names already translated): the page installs on a home screen, no app
    store; ``icon`` is the icons' address without ``-192.png`` / ``-512.png``."""
    body = {
        "name": name,
        "short_name": short_name,
        "start_url": shell,
        "scope": scope,
        "display": "standalone",
        "background_color": "#f3f5f8",
        "theme_color": "#0b5cad",
        "icons": [
            {"src": f"{icon}-{size}.png", "sizes": f"{size}x{size}", "type": "image/png"}
            for size in (192, 512)
        ],
    }
    return Response(msgspec.json.encode(body), media_type="application/manifest+json")
