"""The meetings pages: a startup's meetings tab (its meetings, the hours left with each mentor, the
log form for its mentors, the open action items and a form to add one), one meeting's page (its
mentor edits or deletes it there) and the caller's own open action items (``/incubator/action-items``).

Server-side forms over the same service as the API (Post/Redirect/Get with ``?done=``; a refused
form renders the page again with the values typed and each field's message next to its input).
Times are entered and shown in :data:`ZONE`. The log form takes topics and other attendees as
comma-separated text, the founders present as check boxes, and up to :data:`ITEM_ROWS` action items.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from backend.db import utcnow
from backend.errors import DomainError
from backend.guards import current, requires_login
from backend.http_errors import Message, localized_error, value_problems
from backend.i18n import request_locale, translations
from backend.pages.controllers import page, same_site
from backend.policy import Action
from backend.schemas import IdPath
from backend.workspace.controllers import Form, _failed_form, _redirect
from backend.workspace.forms import FormErrors, datetime_local_value, local_datetime
from incubator.access import allowed, startup_access
from incubator.meetings import service
from incubator.meetings.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
)
from incubator.mentoring import service as mentoring
from incubator.navigation import startup_head

ZONE = "Asia/Shanghai"  # the programme's clock: meetings are entered and shown in it
ITEM_ROWS = 2  # action items the log form offers (the API takes up to 20)

DONE = {
    "meeting-logged": "The meeting was logged.",
    "meeting-saved": "The meeting was saved.",
    "meeting-deleted": "The meeting was deleted; its minutes are back in the budget.",
    "item-added": "The action item was added.",
    "item-done": "The action item is done.",
    "item-reopened": "The action item is open again.",
}
SIDES = {"founders": "Founders", "mentor": "Mentor"}
# Field labels (English message ids) for the error summary.
LABELS = {
    "held_at": "Held at",
    "minutes": "Minutes",
    "topics": "Topics",
    "attendees": "Founders present",
    "guests": "Other attendees",
    "shared_notes": "Notes shared with the founders",
    "private_notes": "Private notes",
    "booking_id": "Office-hour booking",
    "title": "Action item",
    "side": "Who does it",
    "owner_id": "Owner",
    "due_on": "Due on",
    "meeting_id": "Meeting",
    **{
        f"item_{i}_{part}": label
        for i in range(ITEM_ROWS)
        for part, label in (
            ("title", "Action item"),
            ("side", "Who does it"),
            ("owner", "Owner"),
            ("due", "Due on"),
        )
    },
}
_ITEM_FIELD = re.compile(r"^action_items\[(\d+)\]\.(\w+)$")
_ITEM_PART = {"title": "title", "side": "side", "owner_id": "owner", "due_on": "due"}


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


async def _values(request: Request) -> dict[str, Any]:
    """The posted fields (without the CSRF token); ``attendees``: the ticked founders."""
    form = await request.form()
    values: dict[str, Any] = {k: v for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}
    values["attendees"] = (
        [v for v in form.getall("attendees") if isinstance(v, str)] if "attendees" in form else []
    )
    return values


def _number(value: Any) -> Any:
    text = str(value or "").strip()
    if not text:
        return None
    return int(text) if text.isdigit() else text


def _list(text: str) -> list[str]:
    return [part.strip() for part in re.split(r"[,，;；\n]", text or "") if part.strip()]


def _attendees(values: dict[str, Any]) -> list[dict[str, Any]]:
    """The founders ticked (by account id), then the other attendees' names."""
    ticked = [{"user": _number(u)} for u in values.get("attendees", [])]
    return ticked + [{"name": name} for name in _list(values.get("guests", ""))]


def _held_at(values: dict[str, Any], problems: dict[str, Message]) -> str | None:
    text = str(values.get("held_at") or "").strip()
    if not text:
        problems["held_at"] = Message("is required")
        return None
    try:
        return local_datetime(text, ZONE).isoformat()
    except ValueError:
        problems["held_at"] = Message("is not a valid date and time")
        return None


def _form_name(name: str, rows: list[int]) -> str:
    """An API field (``action_items[1].owner_id``, ``attendees[0].user``) as its form input."""
    item = _ITEM_FIELD.match(name)
    if item:
        index = int(item.group(1))
        return f"item_{rows[index] if index < len(rows) else 0}_{_ITEM_PART.get(item.group(2), 'title')}"
    if name.startswith("attendees["):
        return "guests" if name.endswith(".name") else "attendees"
    if name.startswith("topics"):
        return "topics"
    return name


def _decode(struct: type, body: dict[str, Any], problems: dict[str, Message], rows: list[int]) -> Any:
    """The struct for a form's body, or :class:`FormErrors` naming every wrong input at once."""
    problems = {**value_problems(body, struct), **problems}
    if problems:
        raise FormErrors({_form_name(k, rows): v for k, v in problems.items()})
    return msgspec.convert(body, struct)


def _meeting_body(values: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Message], list[int]]:
    """The API body of the log form, its own problems, and the form row of each action item."""
    problems: dict[str, Message] = {}
    items, rows = [], []
    for i in range(ITEM_ROWS):
        title = str(values.get(f"item_{i}_title") or "").strip()
        if not title:
            continue
        item: dict[str, Any] = {"title": title, "side": values.get(f"item_{i}_side") or "founders"}
        if owner := _number(values.get(f"item_{i}_owner")):
            item["owner_id"] = owner
        if due := str(values.get(f"item_{i}_due") or "").strip():
            item["due_on"] = due
        items.append(item)
        rows.append(i)
    body: dict[str, Any] = {
        "held_at": _held_at(values, problems),
        "minutes": _number(values.get("minutes")),
        "topics": _list(values.get("topics", "")),
        "attendees": _attendees(values),
        "shared_notes": values.get("shared_notes", ""),
        "private_notes": values.get("private_notes", ""),
        "action_items": items,
    }
    if booking := _number(values.get("booking_id")):
        body["booking_id"] = booking
    return body, problems, rows


def _item_body(values: dict[str, Any]) -> dict[str, Any]:
    body: dict[str, Any] = {
        "title": str(values.get("title") or "").strip(),
        "side": values.get("side") or "founders",
    }
    if owner := _number(values.get("owner_id")):
        body["owner_id"] = owner
    if due := str(values.get("due_on") or "").strip():
        body["due_on"] = due
    return body


def _failed(request: Request, exc: Exception, prefix: str, values: dict[str, Any], rows: list[int]) -> Form:
    if isinstance(exc, FormErrors):
        exc = FormErrors({_form_name(k, rows): v for k, v in exc.fields.items()})
    form = _failed_form(request, exc, prefix, values)
    if isinstance(exc, DomainError):
        form.errors = {_form_name(k, rows): v for k, v in form.errors.items()}
        if exc.code != "validation_error" and not form.summary:
            form.summary = localized_error(exc, request_locale(request))[0]
    t = translations(request_locale(request))
    form.labels = {name: t.gettext(LABELS.get(name, "Value")) for name in form.errors}
    return form


async def _people(startup_id: int) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(founders, mentors) of the startup as (account id, name) choices."""
    founders = await service.founders(startup_id)
    mentors = await service.mentors(startup_id)
    return [(str(k), v) for k, v in founders.items()], [(str(k), name) for k, (_, name) in mentors.items()]


class MeetingPages(Controller):
    include_in_schema = False
    guards = [requires_login]

    async def _tab(
        self, request: Request, startup_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal = current(request)
        access = await startup_access(principal, startup_id, Action.view_startup)
        t = translations(request_locale(request))
        mentors_it = allowed(principal, Action.mentor_startup, access.context)
        keeper = mentors_it or allowed(principal, Action.act_for_startup, access.context)
        founders, mentors = await _people(startup_id)
        forms = {
            "meeting-": Form(
                "meeting-",
                {
                    "held_at": datetime_local_value(
                        utcnow().replace(minute=0, second=0, microsecond=0), ZONE
                    ),
                    "minutes": "60",
                    "item_0_side": "founders",
                    "item_1_side": "mentor",
                },
            ),
            "item-": Form("item-", {"side": "founders"}),
        }
        if failed is not None:
            forms[failed.prefix] = failed
        items = await service.list_startup_items(principal, startup_id)
        return page(
            request,
            "incubator/meetings/meetings.html.jinja",
            status_code,
            **await startup_head(principal, access, "meetings"),
            meetings=await service.list_meetings(principal, startup_id),
            budgets=[b for b in await mentoring.startup_mentors(principal, startup_id) if b.mentor_active],
            open_items=[i for i in items if i.done_at is None],
            done_items=[i for i in items if i.done_at is not None],
            mentors_it=mentors_it,
            keeper=keeper,
            exporter=allowed(principal, Action.manage_programme, access.context),
            bookings=await service.open_bookings(principal, startup_id) if mentors_it else [],
            founder_options=founders,
            owner_options=[("", t.gettext("Nobody in particular")), *founders, *mentors],
            side_options=[(k, t.gettext(v)) for k, v in SIDES.items()],
            side_names={k: t.gettext(v) for k, v in SIDES.items()},
            item_rows=range(ITEM_ROWS),
            forms=forms,
            failed=failed,
            done_here=_done(request),
            zone=ZONE,
            startup_id=startup_id,
            here_path=request.url.path,
        )

    @get("/incubator/startups/{startup_id:int}/meetings")
    async def tab(self, request: Request, startup_id: IdPath) -> Template:
        """The startup's meetings, hours and action items; the log form for its mentors."""
        return await self._tab(request, startup_id)

    async def _change_on_tab(
        self,
        request: Request,
        startup_id: int,
        prefix: str,
        change: Callable[[dict], Awaitable[list[int]]],
        done: str,
    ) -> Response:
        values = await _values(request)
        rows: list[int] = []
        try:
            rows = await change(values)
        except (FormErrors, DomainError) as exc:
            if getattr(exc, "status_code", 400) in (403, 404):
                raise
            form = _failed(request, exc, prefix, values, rows or _meeting_body(values)[2])
            return await self._tab(request, startup_id, form, getattr(exc, "status_code", 400))
        return _redirect(f"/incubator/startups/{startup_id}/meetings", done)

    @post("/incubator/startups/{startup_id:int}/meetings")
    async def log(self, request: Request, startup_id: IdPath) -> Response:
        """Log a meeting from the form (the startup's mentors)."""
        principal = current(request)

        async def change(values: dict[str, Any]) -> list[int]:
            body, problems, rows = _meeting_body(values)
            await service.log_meeting(principal, startup_id, _decode(MeetingIn, body, problems, rows))
            return rows

        return await self._change_on_tab(request, startup_id, "meeting-", change, "meeting-logged")

    @post("/incubator/startups/{startup_id:int}/action-items")
    async def add_item(self, request: Request, startup_id: IdPath) -> Response:
        """Add an action item from the form (the startup's founders and mentors)."""
        principal = current(request)

        async def change(values: dict[str, Any]) -> list[int]:
            await service.create_action_item(
                principal, startup_id, _decode(ActionItemIn, _item_body(values), {}, [])
            )
            return []

        return await self._change_on_tab(request, startup_id, "item-", change, "item-added")

    async def _meeting_page(
        self, request: Request, meeting_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal = current(request)
        meeting = await service.get_meeting(principal, meeting_id)
        access = await startup_access(principal, meeting.startup_id, Action.view_startup)
        t = translations(request_locale(request))
        author = meeting.mentor_user_id == principal.id and allowed(
            principal, Action.mentor_startup, access.context
        )
        keeper = allowed(principal, Action.mentor_startup, access.context) or allowed(
            principal, Action.act_for_startup, access.context
        )
        form = failed or Form("edit-", _edit_values(meeting))
        return page(
            request,
            "incubator/meetings/meeting.html.jinja",
            status_code,
            **await startup_head(principal, access, "meetings"),
            meeting=meeting,
            founder_options=(await _people(meeting.startup_id))[0] if author else [],
            author=author,
            keeper=keeper,
            form=form,
            failed=failed,
            side_names={k: t.gettext(v) for k, v in SIDES.items()},
            done_here=_done(request),
            zone=ZONE,
            here_path=request.url.path,
        )

    @get("/incubator/meetings/{meeting_id:int}")
    async def meeting(self, request: Request, meeting_id: IdPath) -> Template:
        """One meeting: what was said and agreed (its mentor's private notes for them alone)."""
        return await self._meeting_page(request, meeting_id)

    @post("/incubator/meetings/{meeting_id:int}")
    async def edit(self, request: Request, meeting_id: IdPath) -> Response:
        """The meeting's mentor saves it."""
        principal = current(request)
        values = await _values(request)
        try:
            problems: dict[str, Message] = {}
            body = {
                "held_at": _held_at(values, problems),
                "minutes": _number(values.get("minutes")),
                "topics": _list(values.get("topics", "")),
                "attendees": _attendees(values),
                "shared_notes": values.get("shared_notes", ""),
                "private_notes": values.get("private_notes", ""),
            }
            await service.update_meeting(principal, meeting_id, _decode(MeetingPatch, body, problems, []))
        except (FormErrors, DomainError) as exc:
            if getattr(exc, "status_code", 400) in (403, 404):
                raise
            form = _failed(request, exc, "edit-", values, [])
            return await self._meeting_page(request, meeting_id, form, getattr(exc, "status_code", 400))
        return _redirect(f"/incubator/meetings/{meeting_id}", "meeting-saved")

    @post("/incubator/meetings/{meeting_id:int}/delete")
    async def delete(self, request: Request, meeting_id: IdPath) -> Response:
        """The meeting's mentor deletes it."""
        row = await service.meeting_row(meeting_id)
        await service.delete_meeting(current(request), meeting_id)
        return _redirect(f"/incubator/startups/{row['startup']}/meetings", "meeting-deleted")

    @get("/incubator/action-items")
    async def mine(self, request: Request) -> Template:
        """The caller's open action items, in every startup they found or mentor."""
        t = translations(request_locale(request))
        items = await service.my_open_items(current(request))
        return page(
            request,
            "incubator/meetings/action_items.html.jinja",
            items=items,
            side_names={k: t.gettext(v) for k, v in SIDES.items()},
            done_here=_done(request),
            zone=ZONE,
            here_path=request.url.path,
        )

    @post("/incubator/action-items/{item_id:int}")
    async def mark(self, request: Request, item_id: IdPath) -> Response:
        """Mark an action item done (``done=1``) or open again (``done=0``), then go back to ``next``."""
        values = await _values(request)
        done = values.get("done") != "0"
        item: ActionItemOut = await service.update_action_item(
            current(request), item_id, ActionItemPatch(done=done)
        )
        back = same_site(values.get("next") or f"/incubator/startups/{item.startup_id}/meetings")
        return _redirect(back.split("?")[0], "item-done" if done else "item-reopened")


def _edit_values(meeting: MeetingOut) -> dict[str, Any]:
    return {
        "held_at": datetime_local_value(meeting.held_at, ZONE),
        "minutes": str(meeting.minutes),
        "topics": ", ".join(meeting.topics),
        "attendees": [str(a.user) for a in meeting.attendees if a.user is not None],
        "guests": ", ".join(a.name for a in meeting.attendees if a.user is None),
        "shared_notes": meeting.shared_notes,
        "private_notes": meeting.private_notes or "",
    }
