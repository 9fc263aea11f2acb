"""The ticketing service: its tables, routes, jobs, device tokens and section of the organizer's
workspace.

Each area is a subpackage with its own service, controllers and pages. The pure modules at the top
know nothing of HTTP or the database: ``codes`` (signed ticket codes), ``render`` (QR codes and
badges as image bytes) and ``rules`` (may this ticket enter this list now?).
"""

from __future__ import annotations

from backend.domain import Domain, WorkspaceSection
from backend.policy import Action
from ticketing.access import DEVICE_TOKEN_PREFIX
from ticketing.attendance.controllers import AttendanceController
from ticketing.attendance.pages import AttendancePages
from ticketing.badges.controllers import BadgeController
from ticketing.badges.jobs import render_badge_batch, render_badges
from ticketing.badges.pages import BadgeLinkPages, BadgePages, TicketImagePages
from ticketing.checkin.controllers import ScanController
from ticketing.checkin.pages import ConflictPages
from ticketing.device_tokens import device_for_token
from ticketing.lists.controllers import CheckinListController, DeviceController
from ticketing.lists.pages import DevicePages, ListPages
from ticketing.scanner.controllers import ScannerController
from ticketing.scanner.pages import ScannerPages
from ticketing.tickets.controllers import EventTicketsController, TicketController, TicketTypeController
from ticketing.tickets.jobs import MISSING_TICKETS
from ticketing.tickets.pages import HolderTicketPages, TicketingPages

DOMAIN = Domain(
    name="ticketing",
    tables=("ticketing.tables", "ticketing.badges.tables"),
    bearer_tokens=((DEVICE_TOKEN_PREFIX, device_for_token),),
    routes=(
        EventTicketsController,  # ticketing.tickets
        TicketTypeController,  # ticketing.tickets
        TicketController,  # ticketing.tickets
        TicketingPages,  # ticketing.tickets
        HolderTicketPages,  # ticketing.tickets
        BadgeController,  # ticketing.badges
        TicketImagePages,  # ticketing.badges
        BadgeLinkPages,  # ticketing.badges
        BadgePages,  # ticketing.badges
        CheckinListController,  # ticketing.lists
        DeviceController,  # ticketing.lists
        ListPages,  # ticketing.lists
        DevicePages,  # ticketing.lists
        ScanController,  # ticketing.checkin
        ConflictPages,  # ticketing.checkin
        AttendanceController,  # ticketing.attendance
        AttendancePages,  # ticketing.attendance
        ScannerController,  # ticketing.scanner
        ScannerPages,  # ticketing.scanner
    ),
    jobs=(render_badges, render_badge_batch),  # ticketing.badges
    cron_jobs=(MISSING_TICKETS,),  # ticketing.tickets
    workspace_sections=(
        WorkspaceSection(
            "ticketing", "Ticketing", "/workspace/events/{event_id}/ticketing", Action.manage_checkin, 60
        ),  # ticketing.tickets
    ),
)
