"""The scanner page (``/scan``) for staff devices: an installable web page (manifest, a service worker
scoped to ``/scan``) that scans tickets with the camera (the browser's BarcodeDetector, else the
WebAssembly ZXing decoder in a worker), a keyboard-wedge scanner or typed codes, and keeps working
offline: it keeps each list's offline bundle (public keys, revoked serials, rules, sealed holder
names), verifies codes itself and queues scans with their nonces until the network is back.

The page is open to anyone: a scanning device has no session, only its token (given once in the
enrolment link's fragment, ``/scan#device=<token>``, then kept by the page), and every answer comes
from the API, which checks the token or the person's session. See ``backend/static/ticketing-scanner.js``.
"""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get
from litestar.response import Template

from backend.i18n import request_locale, translations
from backend.pages.controllers import page
from backend.pages.offline import fingerprint, manifest_response, service_worker, static_path, worker_response

VENDOR = "/static/vendor/zxing"
# The WebAssembly decoder, built from npm by scripts/build-static.sh (never fetched from a CDN).
DECODER = (f"{VENDOR}/share.js", f"{VENDOR}/reader/index.js", f"{VENDOR}/reader/zxing_reader.wasm")
# What the service worker keeps for offline use, beside the page itself.
ASSETS = (
    "/static/podium.css",
    "/static/ticketing-scanner.css",
    "/static/offline-page.js",
    "/static/ticketing-scanner.js",
    "/static/ticketing-scanner-worker.js",
    "/static/ticketing-scanner-192.png",
    "/static/ticketing-scanner-512.png",
    *DECODER,
)
SHELL = "/scan"
SCOPE = "/scan"


def decoder_built() -> bool:
    """Whether ``scripts/build-static.sh`` has put the decoder in place (``make`` does)."""
    return all(static_path(asset).is_file() for asset in DECODER)


VERSION = fingerprint(ASSETS)
_WORKER = service_worker(
    version=VERSION,
    shell=SHELL,
    cache="podium-scan-",
    assets=ASSETS if decoder_built() else ASSETS[: -len(DECODER)],
)

# The texts the script shows, by key (English message ids, translated for the page).
SCRIPT_TEXTS = {
    "admitted": "Entry allowed",
    "rejected": "Entry refused",
    "exit_recorded": "Exit recorded",
    "reason_already_checked_in": "Already checked in with this ticket",
    "reason_invalid": "Not a ticket code of this event",
    "reason_revoked": "This code was replaced or revoked",
    "reason_wrong_event": "A ticket of another event",
    "reason_not_allowed": "This ticket may not enter here",
    "reason_outside_time": "This ticket is not valid at this time",
    "reason_capacity": "Full: nobody more may enter",
    "previous": "First checked in at {gate} at {time}",
    "opens_at": "This list opens at {time}",
    "closed_at": "This list closed at {time}",
    "checked_here": "Checked on this device: the network is down",
    "not_loaded": "This list was not loaded on this device before the network went down: codes cannot be checked.",
    "no_webcrypto": "This browser cannot check signatures offline.",
    "online": "Online: the server checks every scan",
    "offline": "Offline: scans are checked on this device and kept until the network is back",
    "queue": "Waiting to sync: {count}",
    "last_sync": "Last sync: {time}",
    "never_synced": "Not synced yet",
    "conflicts": "{count} offline admissions were refused by the server: the organizers see them as conflicts.",
    "camera_start": "Start the camera",
    "camera_stop": "Stop the camera",
    "camera_native": "Camera on: point it at a QR code",
    "camera_wasm": "Camera on: point it at a QR code (WebAssembly decoder)",
    "camera_failed": "The camera could not be opened: {error}",
    "no_decoder": "No QR decoder in this browser: use a hardware scanner or type the code.",
    "picture_none": "No QR code found in the picture.",
    "device": "Device {name}, {gate}",
    "person": "Signed in as {name}",
    "no_lists": "No check-in list to scan on: ask an organizer to give this device or your account a list.",
    "not_enrolled": "This device is not set up: open its enrolment link or log in as check-in staff.",
    "token_refused": "This device's token was refused: it may have been revoked.",
    "error": "The server refused the scan: {detail}",
    "attention": "Attention: see the note for this ticket",
    "entry": "Coming in",
    "exit": "Going out",
    "holder_unknown": "Name not on this device",
}


def _texts(request: Request) -> str:
    t = translations(request_locale(request))
    texts = {key: t.gettext(text) for key, text in SCRIPT_TEXTS.items()}
    return msgspec.json.encode(texts).decode().replace("<", "\\u003c")  # safe inside <script>


class ScannerPages(Controller):
    path = SCOPE
    include_in_schema = False

    @get("")
    async def scanner(self, request: Request) -> Template:
        """The scanner page; a device's token comes in the fragment (``#device=``), never to the server."""
        return page(
            request,
            "ticketing/scanner.html.jinja",
            texts=_texts(request),
            assets_version=VERSION,
            decoder=decoder_built(),
        )

    @get("/sw.js", cache_control=None)
    async def service_worker(self) -> Response[str]:
        """The service worker, served under ``/scan`` so its scope covers the page."""
        return worker_response(_WORKER, SCOPE)

    @get("/manifest.webmanifest")
    async def manifest(self, request: Request) -> Response[bytes]:
        """The web app manifest: the scanner installs on a phone's home screen, no app store."""
        t = translations(request_locale(request))
        return manifest_response(
            name=t.gettext("Podium scanner"),
            short_name=t.gettext("Ticket scanner"),
            shell=SHELL,
            scope=SCOPE,
            icon="/static/ticketing-scanner",
        )
