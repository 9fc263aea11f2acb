"""The judges' tablet page: an installable web page (manifest, icons, a service worker) that shows
the queue and scores one entry from the API's data. Everything it needs keeps working offline: the
service worker keeps the page and its files, the page keeps the last-seen queue and entries, each
sheet's draft as typed, and an outbox of submissions (each with its nonce) that it sends when the
network is back. See ``backend/static/judging-tablet.js``."""

from __future__ import annotations

import msgspec
from litestar import Controller, Request, Response, get
from litestar.response import Redirect, Template
from litestar.status_codes import HTTP_303_SEE_OTHER

from backend.i18n import request_locale, translations
from backend.pages.controllers import login_url, page
from backend.pages.offline import fingerprint, manifest_response, service_worker, worker_response

# What the service worker keeps for offline use, beside the page itself.
ASSETS = (
    "/static/podium.css",
    "/static/judging-tablet.css",
    "/static/offline-page.js",
    "/static/judging-tablet.js",
    "/static/judging-tablet-192.png",
    "/static/judging-tablet-512.png",
)
SHELL = "/judge"
SCOPE = "/judge"


VERSION = fingerprint(ASSETS)
_WORKER = service_worker(version=VERSION, shell=SHELL, cache="podium-judge-", assets=ASSETS)

# The texts the script shows, by key (English message ids, translated for the page).
SCRIPT_TEXTS = {
    "draft": "Draft",
    "waiting": "Waiting to send",
    "sending": "Sending…",
    "saved": "Saved, version {version}",
    "refused": "Refused: {reason}",
    "not_started": "Not scored yet",
    "offline": "Offline: sheets are kept on this tablet and sent when the network is back.",
    "progress": "{done} of {total} scored",
    "total": "Total",
    "review": "Review and submit",
    "confirm": "Submit this sheet",
    "back": "Back to the marks",
    "confirm_title": "Check the sheet before submitting it",
    "reason": "Why do you change the submitted sheet?",
    "reason_required": "Say why you change the submitted sheet.",
    "comment": "Comment (optional)",
    "materials": "Materials",
    "no_materials": "The team submitted no materials for this stage.",
    "decrease": "Lower {name}",
    "increase": "Raise {name}",
    "range": "From {min} to {max}, in steps of {step}",
    "queue": "Your entries",
    "to_queue": "Back to your entries",
    "stage_closed": "The sheets of this stage can no longer change ({status}).",
    "status_setup": "Being set up",
    "status_scoring": "Scoring",
    "status_locked": "Locked",
    "status_published": "Published",
    "nothing": "You have no entries to score.",
    "not_loaded": "This entry was not loaded on this tablet before it went offline.",
    "login": "Your session has ended: log in again to send the waiting sheets.",
    "missing_mark": "Give a mark for every criterion.",
    "team": "Team",
    "deadline": "Deadline",
    "business_plan": "Business plan",
    "slides": "Slides",
    "video_link": "Video",
    "summary": "Summary",
}


class JudgeTabletPages(Controller):
    path = SCOPE
    include_in_schema = False

    @get("")
    async def tablet(self, request: Request) -> Template | Redirect:
        """The judge's queue and scoring page (the entry to score is in the address's fragment)."""
        if request.scope.get("user") is None:
            return Redirect(login_url(SHELL), status_code=HTTP_303_SEE_OTHER)
        t = translations(request_locale(request))
        texts = {key: t.gettext(text) for key, text in SCRIPT_TEXTS.items()}
        return page(
            request,
            "judging/scoring/tablet.html.jinja",
            texts=msgspec.json.encode(texts).decode().replace("<", "\\u003c"),  # safe inside <script>
            assets_version=VERSION,
        )

    @get("/sw.js", cache_control=None)
    async def service_worker(self) -> Response[str]:
        """The service worker, served under ``/judge`` so its scope covers the page."""
        return worker_response(_WORKER, SCOPE)

    @get("/manifest.webmanifest")
    async def manifest(self, request: Request) -> Response[bytes]:
        """The web app manifest: the page installs on a tablet's home screen, no app store."""
        t = translations(request_locale(request))
        return manifest_response(
            name=t.gettext("Podium scoring"),
            short_name=t.gettext("Scoring"),
            shell=SHELL,
            scope=SCOPE,
            icon="/static/judging-tablet",
        )
