"""The ticketing service: its tables, routes, jobs, device tokens and section of the organizer's
workspace.

Each area is a subpackage with its own service, controllers and pages. The pure modules at the top
know nothing of HTTP or the database: ``codes`` (signed ticket codes), ``render`` (QR codes and
badges as image bytes) and ``rules`` (may this ticket enter this list now?).
"""

from __future__ import annotations

from backend.domain import Domain
from ticketing.access import DEVICE_TOKEN_PREFIX, device_for_token

DOMAIN = Domain(
    name="ticketing",
    tables=("ticketing.tables",),
    bearer_tokens=((DEVICE_TOKEN_PREFIX, device_for_token),),
)
