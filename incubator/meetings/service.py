"""Meeting logs, the mentor's private notes and action items: one function per change, each check
access → validate → write in one transaction → one audit entry (``incubator.meeting_logged`` ...)
→ answer.

A meeting's minutes come out of the hour budget of its mentor with the startup
(``incubation_mentor_link``) by ONE conditional UPDATE (``used_minutes + m <= budget_minutes``):
two meetings logged at once can never overdraw it, and the one that does not fit is a 409
``budget_exceeded`` saying how many minutes are left. An edit debits (or credits) the difference
under the meeting's row lock; a deletion credits the minutes back.

Private notes (``incubation_private_note``) are selected in one place, :data:`_MEETINGS`, joined on
``author = the caller``: no other query of this module reads them, so no answer, page, export or
audit entry can carry someone else's.

Action items are kept by both sides: the startup's founders and its connected mentors add them and
mark them done or not done; managers read them.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import AsyncIterator
from typing import Any

from backend.db import fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, Forbidden, NotFound
from backend.i18n import translations
from backend.policy import Action, Principal
from backend.teams.exports import MEDIA_TYPES, Export, csv_chunks, safe_cell
from incubator.access import StartupAccess, allowed, startup_access
from incubator.history import incubator_changed
from incubator.meetings.schemas import (
    ActionItemIn,
    ActionItemOut,
    ActionItemPatch,
    AttendeeIn,
    AttendeeOut,
    ItemIn,
    MeetingIn,
    MeetingOut,
    MeetingPatch,
)
from incubator.tables import ActionItem, Meeting, PrivateNote

NOT_AUTHOR = "Only the mentor who logged the meeting may change it"
NOT_KEEPER = "Only the startup's founders and mentors keep its action items"
_NAME = "COALESCE(NULLIF(u.display_name, ''), u.email)"


def _invalid(fields: dict[str, str]) -> DomainError:
    return DomainError("validation_error", INVALID_INPUT, status_code=422, fields=fields)


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


# Reads ------------------------------------------------------------------------------------------

_ITEMS = f"""
SELECT i.id, i.startup, s.name AS startup_name, i.meeting, i.mentor, i.title, i.side, i.owner,
       {_NAME} AS owner_name, i.due_on, i.done_at, i.done_by, i.created_at
FROM incubation_action_item i JOIN incubation_startup s ON s.id = i.startup
LEFT JOIN podium_user u ON u.id = i.owner
"""  # noqa: S608

# The only query that reads private notes: the caller's own (``pn.author``), never anyone else's.
_MEETINGS = f"""
SELECT m.id, m.startup, m.mentor, mt."user" AS mentor_user, {_NAME} AS mentor_name, m.booking,
       m.held_at, m.minutes, m.topics, m.attendees, m.shared_notes, m.created_at, m.updated_at,
       pn.body AS private_notes
FROM incubation_meeting m JOIN incubation_mentor mt ON mt.id = m.mentor
JOIN podium_user u ON u.id = mt."user"
LEFT JOIN incubation_private_note pn ON pn.meeting = m.id AND pn.author = {{}}
"""  # noqa: S608


def _item_out(row: dict[str, Any], today: dt.date) -> ActionItemOut:
    return ActionItemOut(
        id=row["id"],
        startup_id=row["startup"],
        startup_name=row["startup_name"],
        meeting_id=row["meeting"],
        mentor_id=row["mentor"],
        title=row["title"],
        side=row["side"],
        owner_id=row["owner"],
        owner_name=row["owner_name"] or "",
        due_on=row["due_on"],
        overdue=row["done_at"] is None and row["due_on"] is not None and row["due_on"] < today,
        done_at=row["done_at"],
        done_by=row["done_by"],
        created_at=row["created_at"],
    )


async def _items(where: str, *args: Any) -> list[ActionItemOut]:
    """Action items matching ``where``: open ones first, by due date."""
    rows = await fetch_all(
        f"{_ITEMS} WHERE {where} ORDER BY i.done_at IS NOT NULL, i.due_on IS NULL, i.due_on, i.id",
        *args,
    )
    today = dt.date.today()
    return [_item_out(r, today) for r in rows]


async def _meetings(principal: Principal, where: str, *args: Any) -> list[MeetingOut]:
    rows = await fetch_all(
        f"{_MEETINGS} WHERE {where} ORDER BY m.held_at DESC, m.id DESC", principal.id, *args
    )
    if not rows:
        return []
    ids = [r["id"] for r in rows]
    items: dict[int, list[ActionItemOut]] = {}
    marks = ", ".join("{}" for _ in ids)
    for item in await _items(f"i.meeting IN ({marks})", *ids):
        items.setdefault(item.meeting_id or 0, []).append(item)
    return [
        MeetingOut(
            id=r["id"],
            startup_id=r["startup"],
            mentor_id=r["mentor"],
            mentor_user_id=r["mentor_user"],
            mentor_name=r["mentor_name"],
            booking_id=r["booking"],
            held_at=r["held_at"],
            minutes=r["minutes"],
            topics=list(_json(r["topics"]) or []),
            attendees=[
                AttendeeOut(user=a.get("user"), name=a.get("name", "")) for a in _json(r["attendees"]) or []
            ],
            shared_notes=r["shared_notes"],
            action_items=items.get(r["id"], []),
            created_at=r["created_at"],
            updated_at=r["updated_at"],
            private_notes=r["private_notes"] if r["mentor_user"] == principal.id else None,
        )
        for r in rows
    ]


async def meeting_row(meeting_id: int) -> dict[str, Any]:
    """The meeting's startup, mentor and the mentor's account (no notes)."""
    row = await fetch_one(
        """SELECT m.id, m.startup, m.mentor, m.minutes, mt."user" AS mentor_user
           FROM incubation_meeting m JOIN incubation_mentor mt ON mt.id = m.mentor WHERE m.id = {}""",
        meeting_id,
    )
    if row is None:
        raise NotFound("Meeting")
    return row


async def list_meetings(principal: Principal, startup_id: int) -> list[MeetingOut]:
    """The startup's meetings, latest first, with their action items."""
    await startup_access(principal, startup_id, Action.view_startup)
    return await _meetings(principal, "m.startup = {}", startup_id)


async def get_meeting(principal: Principal, meeting_id: int) -> MeetingOut:
    row = await meeting_row(meeting_id)
    await startup_access(principal, row["startup"], Action.view_startup)
    return (await _meetings(principal, "m.id = {}", meeting_id))[0]


async def list_startup_items(principal: Principal, startup_id: int) -> list[ActionItemOut]:
    """Every action item of the startup, open ones first."""
    await startup_access(principal, startup_id, Action.view_startup)
    return await _items("i.startup = {}", startup_id)


async def my_open_items(principal: Principal) -> list[ActionItemOut]:
    """The open action items of the startups the caller founds or mentors (as an active mentor)."""
    return await _items(
        """i.done_at IS NULL AND (
             EXISTS (SELECT 1 FROM incubation_founder f WHERE f.startup = i.startup AND f."user" = {})
             OR EXISTS (SELECT 1 FROM incubation_mentor_link l JOIN incubation_mentor mt ON mt.id = l.mentor
                        WHERE l.startup = i.startup AND mt."user" = {} AND mt.active))""",
        principal.id,
        principal.id,
    )


# Checks -----------------------------------------------------------------------------------------


async def founders(startup_id: int) -> dict[int, str]:
    """The startup's founders: account id → name."""
    rows = await fetch_all(
        f"""SELECT f."user" AS id, {_NAME} AS name FROM incubation_founder f
            JOIN podium_user u ON u.id = f."user" WHERE f.startup = {{}}""",  # noqa: S608
        startup_id,
    )
    return {r["id"]: r["name"] for r in rows}


async def mentors(startup_id: int) -> dict[int, tuple[int, str]]:
    """The startup's active connected mentors: account id → (mentor id, name)."""
    rows = await fetch_all(
        f"""SELECT mt."user" AS user_id, mt.id, {_NAME} AS name FROM incubation_mentor_link l
            JOIN incubation_mentor mt ON mt.id = l.mentor JOIN podium_user u ON u.id = mt."user"
            WHERE l.startup = {{}} AND mt.active ORDER BY name""",  # noqa: S608
        startup_id,
    )
    return {r["user_id"]: (r["id"], r["name"]) for r in rows}


async def open_bookings(principal: Principal, startup_id: int) -> list[dict[str, Any]]:
    """The startup's live bookings of the caller's office hours whose meeting is not logged yet
    (``id``, ``starts_at``, ``topic``), for the log form's choice."""
    return await fetch_all(
        """SELECT b.id, o.starts_at, b.topic FROM incubation_booking b
           JOIN incubation_office_hour o ON o.id = b.slot JOIN incubation_mentor mt ON mt.id = o.mentor
           WHERE b.startup = {} AND mt."user" = {} AND b.status = 'booked' AND o.cancelled_at IS NULL
             AND NOT EXISTS (SELECT 1 FROM incubation_meeting m WHERE m.booking = b.id)
           ORDER BY o.starts_at""",
        startup_id,
        principal.id,
    )


def _attendees(given: list[AttendeeIn], founders: dict[int, str], problems: dict[str, str]) -> list[dict]:
    """The attendees as stored (a founder's name filled in from their account), problems noted."""
    out = []
    for i, person in enumerate(given):
        name = person.name.strip()
        if person.user is not None:
            if person.user not in founders:
                problems[f"attendees[{i}].user"] = "is not a founder of this startup"
                continue
            name = name or founders[person.user]
        elif not name:
            problems[f"attendees[{i}].name"] = "give a name or a founder"
            continue
        out.append({"user": person.user, "name": name})
    return out


def _check_item(
    item: ItemIn, prefix: str, founders: dict[int, str], mentors: dict[int, Any], problems: dict[str, str]
) -> None:
    if item.owner_id is None:
        return
    if item.side == "founders" and item.owner_id not in founders:
        problems[f"{prefix}owner_id"] = "is not a founder of this startup"
    if item.side == "mentor" and item.owner_id not in mentors:
        problems[f"{prefix}owner_id"] = "is not a mentor of this startup"


def _topics(topics: list[str]) -> list[str]:
    return [t.strip() for t in topics if t.strip()]


# Budget -----------------------------------------------------------------------------------------


async def _debit(mentor_id: int, startup_id: int, minutes: int) -> None:
    """Take ``minutes`` from the mentor's budget with the startup, or 409 ``budget_exceeded`` when
    they do not fit: one conditional UPDATE, so meetings logged at once never overdraw it."""
    done = await fetch_one(
        """UPDATE incubation_mentor_link SET used_minutes = used_minutes + {}
           WHERE mentor = {} AND startup = {} AND used_minutes + {} <= budget_minutes
           RETURNING id""",
        minutes,
        mentor_id,
        startup_id,
        minutes,
    )
    if done is not None:
        return
    link = await fetch_one(
        "SELECT budget_minutes - used_minutes AS left FROM incubation_mentor_link WHERE mentor = {} AND startup = {}",
        mentor_id,
        startup_id,
    )
    left = max(int(link["left"]), 0) if link else 0
    raise Conflict(
        "budget_exceeded",
        "Only {left} minutes of the mentor's hours with this startup are left",
        fields={"minutes": "more than the {left} minutes left"},
        params={"left": left},
    )


async def _credit(mentor_id: int, startup_id: int, minutes: int) -> None:
    """Give ``minutes`` back to the mentor's budget with the startup (never below none used)."""
    await fetch_one(
        """UPDATE incubation_mentor_link
           SET used_minutes = CASE WHEN used_minutes > {} THEN used_minutes - {} ELSE 0 END
           WHERE mentor = {} AND startup = {} RETURNING id""",
        minutes,
        minutes,
        mentor_id,
        startup_id,
    )


# Meetings ---------------------------------------------------------------------------------------


async def log_meeting(principal: Principal, startup_id: int, data: MeetingIn) -> MeetingOut:
    """A connected mentor logs a meeting with the startup (its minutes debited from their budget)."""
    access = await startup_access(principal, startup_id, Action.mentor_startup)
    founding = await founders(startup_id)
    connected = await mentors(startup_id)
    mentor_id = connected[principal.id][0]  # the policy found the caller connected and active
    problems: dict[str, str] = {}
    attendees = _attendees(data.attendees, founding, problems)
    for i, item in enumerate(data.action_items):
        _check_item(item, f"action_items[{i}].", founding, connected, problems)
    if data.booking_id is not None:
        booking = await fetch_one(
            """SELECT b.id FROM incubation_booking b JOIN incubation_office_hour o ON o.id = b.slot
               WHERE b.id = {} AND b.startup = {} AND o.mentor = {} AND b.status = 'booked'""",
            data.booking_id,
            startup_id,
            mentor_id,
        )
        if booking is None:
            problems["booking_id"] = "is not a booking of this startup with you"
    if problems:
        raise _invalid(problems)
    async with transaction():
        await _debit(mentor_id, startup_id, data.minutes)
        meeting = Meeting(
            startup=startup_id,
            mentor=mentor_id,
            booking=data.booking_id,
            held_at=data.held_at,
            minutes=data.minutes,
            topics=_topics(data.topics),
            attendees=attendees,
            shared_notes=data.shared_notes,
            created_by=principal.id,
        )
        await meeting.save()
        if data.private_notes:
            await PrivateNote(meeting=meeting.id, author=principal.id, body=data.private_notes).save()
        for item in data.action_items:
            await _new_item(principal, startup_id, item, meeting.id, mentor_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "meeting_logged",
            "incubation_meeting",
            meeting.id,
            startup=startup_id,
            minutes=data.minutes,
            action_items=len(data.action_items),
        )
    return await get_meeting(principal, meeting.id)


async def _author(principal: Principal, meeting_id: int) -> tuple[dict[str, Any], StartupAccess]:
    """The meeting, if the caller is its mentor (still connected to the startup)."""
    row = await meeting_row(meeting_id)
    access = await startup_access(principal, row["startup"], Action.mentor_startup)
    if row["mentor_user"] != principal.id:
        raise Forbidden(NOT_AUTHOR)
    return row, access


async def update_meeting(principal: Principal, meeting_id: int, data: MeetingPatch) -> MeetingOut:
    """The meeting's mentor changes it; a change of minutes debits or credits the difference."""
    row, access = await _author(principal, meeting_id)
    problems: dict[str, str] = {}
    changes: dict[Any, Any] = {}
    if data.attendees is not None:
        changes[Meeting.attendees] = _attendees(data.attendees, await founders(row["startup"]), problems)
    if problems:
        raise _invalid(problems)
    if data.held_at is not None:
        changes[Meeting.held_at] = data.held_at
    if data.topics is not None:
        changes[Meeting.topics] = _topics(data.topics)
    if data.shared_notes is not None:
        changes[Meeting.shared_notes] = data.shared_notes
    async with transaction():
        current = await locked_row(Meeting, meeting_id)
        if current is None:
            raise NotFound("Meeting")
        if data.minutes is not None and data.minutes != current["minutes"]:
            difference = data.minutes - current["minutes"]
            if difference > 0:
                await _debit(row["mentor"], row["startup"], difference)
            else:
                await _credit(row["mentor"], row["startup"], -difference)
            changes[Meeting.minutes] = data.minutes
        await Meeting.update({**changes, Meeting.updated_at: utcnow()}).where(Meeting.id == meeting_id)
        if data.private_notes is not None:
            await _save_note(principal, meeting_id, data.private_notes)
        changed = sorted(name for name in data.__struct_fields__ if getattr(data, name) is not None)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "meeting_changed",
            "incubation_meeting",
            meeting_id,
            startup=row["startup"],
            fields=changed,
            minutes=data.minutes if data.minutes is not None else current["minutes"],
        )
    return await get_meeting(principal, meeting_id)


async def _save_note(principal: Principal, meeting_id: int, body: str) -> None:
    note = await PrivateNote.select(PrivateNote.id).where(PrivateNote.meeting == meeting_id).first()
    if note is None:
        await PrivateNote(meeting=meeting_id, author=principal.id, body=body).save()
    else:
        await PrivateNote.update({PrivateNote.body: body, PrivateNote.updated_at: utcnow()}).where(
            (PrivateNote.id == note["id"]) & (PrivateNote.author == principal.id)
        )


async def delete_meeting(principal: Principal, meeting_id: int) -> None:
    """The meeting's mentor deletes it; its minutes go back to the budget. Its action items stay
    (without the meeting)."""
    row, access = await _author(principal, meeting_id)
    async with transaction():
        current = await locked_row(Meeting, meeting_id)
        if current is None:
            raise NotFound("Meeting")
        await _credit(row["mentor"], row["startup"], current["minutes"])
        await Meeting.delete().where(Meeting.id == meeting_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "meeting_deleted",
            "incubation_meeting",
            meeting_id,
            startup=row["startup"],
            minutes=current["minutes"],
        )


# Action items -----------------------------------------------------------------------------------


async def _keeper(principal: Principal, startup_id: int) -> StartupAccess:
    """The startup, if the caller is one of its founders or connected mentors."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    if not (
        allowed(principal, Action.act_for_startup, access.context)
        or allowed(principal, Action.mentor_startup, access.context)
    ):
        raise Forbidden(NOT_KEEPER)
    return access


async def _new_item(
    principal: Principal, startup_id: int, item: ItemIn, meeting_id: int | None, mentor_id: int | None
) -> int:
    row = ActionItem(
        startup=startup_id,
        meeting=meeting_id,
        mentor=mentor_id,
        title=item.title.strip(),
        side=item.side,
        owner=item.owner_id,
        due_on=item.due_on,
        created_by=principal.id,
    )
    await row.save()
    return row.id


async def create_action_item(principal: Principal, startup_id: int, data: ActionItemIn) -> ActionItemOut:
    """A founder or a mentor of the startup adds an action item (of one of its meetings, or not)."""
    access = await _keeper(principal, startup_id)
    founding = await founders(startup_id)
    connected = await mentors(startup_id)
    problems: dict[str, str] = {}
    _check_item(data, "", founding, connected, problems)
    mentor_id = connected[principal.id][0] if principal.id in connected else None
    if data.meeting_id is not None:
        meeting = await fetch_one(
            "SELECT mentor FROM incubation_meeting WHERE id = {} AND startup = {}",
            data.meeting_id,
            startup_id,
        )
        if meeting is None:
            problems["meeting_id"] = "is not a meeting of this startup"
        else:
            mentor_id = meeting["mentor"]
    if data.side == "mentor" and data.owner_id in connected:
        mentor_id = connected[data.owner_id][0]
    if problems:
        raise _invalid(problems)
    async with transaction():
        item_id = await _new_item(principal, startup_id, data, data.meeting_id, mentor_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "action_item_added",
            "incubation_action_item",
            item_id,
            startup=startup_id,
            side=data.side,
        )
    return (await _items("i.id = {}", item_id))[0]


async def update_action_item(principal: Principal, item_id: int, data: ActionItemPatch) -> ActionItemOut:
    """Either side marks an action item done, or not done after all (no change, no entry)."""
    row = await ActionItem.select(ActionItem.startup).where(ActionItem.id == item_id).first()
    if row is None:
        raise NotFound("Action item")
    access = await _keeper(principal, row["startup"])
    async with transaction():
        if data.done:
            changed = await fetch_all(
                "UPDATE incubation_action_item SET done_at = {}, done_by = {} WHERE id = {} AND done_at IS NULL RETURNING id",
                utcnow(),
                principal.id,
                item_id,
            )
        else:
            changed = await fetch_all(
                "UPDATE incubation_action_item SET done_at = NULL, done_by = NULL WHERE id = {} AND done_at IS NOT NULL RETURNING id",
                item_id,
            )
        if changed:
            await incubator_changed(
                principal.id,
                access.programme_id,
                "action_item_done" if data.done else "action_item_reopened",
                "incubation_action_item",
                item_id,
                startup=row["startup"],
            )
    return (await _items("i.id = {}", item_id))[0]


# Export -----------------------------------------------------------------------------------------

EXPORT_HEADER = (
    "Held at (UTC)",
    "Mentor",
    "Minutes",
    "Topics",
    "Attendees",
    "Notes shared with the founders",
    "Action items",
)


async def export_meetings(principal: Principal, startup_id: int, locale: str) -> Export:
    """The startup's meetings as CSV, for the programme's managers: shared notes and action items,
    never private notes (this export reads the meetings as a manager sees them)."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    if not allowed(principal, Action.manage_programme, access.context):
        raise Forbidden("Only the programme's managers may export its startups' meetings")
    meetings = await _meetings(principal, "m.startup = {}", startup_id)
    t = translations(locale)
    rows = [
        [
            m.held_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M"),
            safe_cell(m.mentor_name),
            m.minutes,
            safe_cell("; ".join(m.topics)),
            safe_cell("; ".join(a.name for a in m.attendees)),
            safe_cell(m.shared_notes),
            safe_cell("; ".join(i.title for i in m.action_items)),
        ]
        for m in meetings
    ]
    header = [t.gettext(h) for h in EXPORT_HEADER]
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M")
    chunks: AsyncIterator[bytes] = csv_chunks(header, rows)
    return Export(f"meetings-{startup_id}-{stamp}.csv", MEDIA_TYPES["csv"], chunks)
