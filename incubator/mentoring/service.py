"""Mentoring: the programme's mentor directory, who mentors whom with what hour budget, office-hour
slots and their bookings. One function per change: check access → validate → write in one
transaction → one audit entry (``incubator.<kind>``) → answer.

What no race may break is held by the database: a person is in a directory once
(``incubation_mentor_pair``), a mentor is connected to a startup or a cohort once (``..._pair``), a
slot holds one live booking (``incubation_booking_live``). A new slot is checked against the
mentor's other live slots under the mentor's row lock, so two slots made at once cannot overlap; a
booking and a slot's cancellation take the slot's row lock, so a slot is never booked after its
mentor cancelled it, and the second of two founders racing for it gets 409 ``slot_taken``. A budget
change is one conditional UPDATE that never goes below the minutes used (which meetings debit the
same way). A cohort connection takes the cohort's row lock, as admissions do, so a startup admitted
meanwhile gets its link from one side or the other. Mails go through the outbox in the same
transaction.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from backend.db import fetch_all, fetch_one, locked_row, transaction, utcnow
from backend.errors import INVALID_INPUT, Conflict, DomainError, FieldChecks, Forbidden, NotFound
from backend.mail.service import queue_email
from backend.policy import Action, Principal, ProgrammeContext
from backend.settings import get_settings
from incubator.access import allowed, programme_access, programme_context, startup_access
from incubator.history import incubator_changed
from incubator.mentoring.schemas import (
    BookingIn,
    BookingOut,
    CohortLinkIn,
    CohortLinkOut,
    ConnectionsOut,
    LinkIn,
    LinkOut,
    LinkPatch,
    MentorIn,
    MentorOut,
    MentorPatch,
    SlotIn,
    SlotOut,
)
from incubator.people import account_by_email
from incubator.tables import Booking, Cohort, Mentor, MentorCohort, MentorLink, OfficeHour, StartupStatus

MAX_SLOT = dt.timedelta(hours=8)
LIVE = "booked"

# Directory -------------------------------------------------------------------------------------

_MENTORS = """
SELECT m.id, m.programme, m."user", u.display_name AS name, m.headline, m.bio, m.expertise,
       m.languages, m.availability, m.active,
       (SELECT COUNT(*) FROM incubation_office_hour o
         WHERE o.mentor = m.id AND o.cancelled_at IS NULL AND o.starts_at > {}
           AND NOT EXISTS (SELECT 1 FROM incubation_booking b WHERE b.slot = o.id AND b.status = 'booked'))
           AS open_slots
FROM incubation_mentor m JOIN podium_user u ON u.id = m."user"
"""


def _tags(value: Any) -> list[str]:
    return json.loads(value or "[]") if isinstance(value, str) else list(value or [])


def _mentor_out(row: dict[str, Any]) -> MentorOut:
    return MentorOut(
        id=row["id"],
        programme_id=row["programme"],
        user_id=row["user"],
        name=row["name"],
        headline=row["headline"],
        bio=row["bio"],
        expertise=_tags(row["expertise"]),
        languages=row["languages"].split(),
        availability=row["availability"],
        active=row["active"],
        open_slots=int(row["open_slots"]),
    )


async def _mentor(mentor_id: int) -> dict[str, Any]:
    row = await fetch_one(_MENTORS + " WHERE m.id = {}", utcnow(), mentor_id)
    if row is None:
        raise NotFound("Mentor")
    return row


def _refuse(principal: Principal, context: ProgrammeContext, what: str, detail: str) -> DomainError:
    """A refusal of something in the programme: 403 to those with a role in it (and platform
    admins), as the policy refuses its actions; 404 to everyone else."""
    if context.roles or principal.is_platform_admin:
        return Forbidden(detail)
    return NotFound(what)


def _matches(mentor: MentorOut, search: str | None, expertise: str | None, language: str | None) -> bool:
    expertise, language, search = (x.strip() if x else None for x in (expertise, language, search))
    if expertise and expertise.casefold() not in {tag.casefold() for tag in mentor.expertise}:
        return False
    if language and language.casefold() not in mentor.languages:
        return False
    if search:
        text = " ".join([mentor.name, mentor.headline, mentor.bio, *mentor.expertise]).casefold()
        return search.casefold() in text
    return True


async def list_mentors(
    principal: Principal,
    programme_id: int,
    search: str | None = None,
    expertise: str | None = None,
    language: str | None = None,
) -> list[MentorOut]:
    """The programme's mentors (active ones; managers see the inactive too), filtered by a word of
    their name, headline, bio or tags, by an expertise tag and by a language code."""
    context = await programme_access(principal, programme_id, Action.view_mentor_directory)
    managing = allowed(principal, Action.manage_programme, context)
    rows = await fetch_all(
        _MENTORS + " WHERE m.programme = {} ORDER BY m.active DESC, u.display_name, m.id",
        utcnow(),
        programme_id,
    )
    found = [_mentor_out(r) for r in rows if managing or r["active"]]
    return [m for m in found if _matches(m, search, expertise, language)]


async def get_mentor(principal: Principal, mentor_id: int) -> MentorOut:
    row = await _mentor(mentor_id)
    context = await programme_access(principal, row["programme"], Action.view_mentor_directory)
    if not row["active"] and not (
        row["user"] == principal.id or allowed(principal, Action.manage_programme, context)
    ):
        raise NotFound("Mentor")
    return _mentor_out(row)


async def add_mentor(principal: Principal, programme_id: int, data: MentorIn) -> MentorOut:
    """Add the person with this e-mail (an existing account) to the programme's directory."""
    await programme_access(principal, programme_id, Action.manage_programme)
    person = await account_by_email(data.email)
    if person is None:
        raise DomainError(
            "no_account",
            "No account uses this e-mail address: the mentor signs up first",
            status_code=422,
            fields={"email": "no account uses this address"},
        )
    async with transaction():
        if await fetch_one(
            'SELECT id FROM incubation_mentor WHERE programme = {} AND "user" = {}',
            programme_id,
            person["id"],
        ):
            raise Conflict("mentor_exists", "The person is already in the programme's mentor directory")
        row = await fetch_one(
            """INSERT INTO incubation_mentor
               (programme, "user", headline, bio, expertise, languages, availability, active, created_at)
               VALUES ({}, {}, {}, {}, {}, {}, {}, TRUE, {}) RETURNING id""",
            programme_id,
            person["id"],
            data.headline,
            data.bio,
            json.dumps(_unique(data.expertise)),
            _languages(data.languages),
            data.availability,
            utcnow(),
        )
        assert row is not None
        await incubator_changed(principal.id, programme_id, "mentor_added", "incubation_mentor", row["id"])
    return _mentor_out(await _mentor(row["id"]))


def _languages(text: str | None) -> str | None:
    """Language codes separated by spaces, as stored ("zh en ru"), or 422 on ``languages``."""
    if text is None:
        return None
    codes = text.lower().split()
    if any(not re.fullmatch(r"[a-z]{2}", code) for code in codes):
        raise _invalid("languages", "must be two-letter language codes separated by spaces")
    return " ".join(dict.fromkeys(codes))


def _unique(tags: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for tag in tags:
        seen.setdefault(tag.strip().casefold(), tag.strip())
    return [tag for tag in seen.values() if tag]


async def update_mentor(principal: Principal, mentor_id: int, data: MentorPatch) -> MentorOut:
    """Change a mentor's profile: the programme's managers (and only they (de)activate), or the
    mentor themself."""
    row = await _mentor(mentor_id)
    context = await programme_context(principal, row["programme"])
    assert context is not None  # the mentor's programme exists
    managing = allowed(principal, Action.manage_programme, context)
    if not managing:
        if row["user"] != principal.id or not allowed(principal, Action.offer_office_hours, context):
            raise _refuse(
                principal,
                context,
                "Mentor",
                "Only the programme's managers and the mentor may change this profile",
            )
        if data.active is not None:
            raise Forbidden("Only the programme's managers activate or deactivate a mentor")
    changes: dict[str, Any] = {}
    for name in ("headline", "bio", "languages", "availability", "active"):
        value = _languages(data.languages) if name == "languages" else getattr(data, name)
        if value is not None and value != row[name]:
            changes[name] = value
    if data.expertise is not None and _unique(data.expertise) != _tags(row["expertise"]):
        changes["expertise"] = json.dumps(_unique(data.expertise))
    if changes:
        async with transaction():
            columns = ", ".join(f'"{name}" = {{}}' for name in changes)
            await fetch_all(
                f"UPDATE incubation_mentor SET {columns} WHERE id = {{}}",  # noqa: S608 (names above)
                *changes.values(),
                mentor_id,
            )
            await incubator_changed(
                principal.id,
                row["programme"],
                "mentor_updated",
                "incubation_mentor",
                mentor_id,
                fields=sorted(changes),
            )
    return _mentor_out(await _mentor(mentor_id))


# Connections and budgets -----------------------------------------------------------------------

_LINKS = """
SELECT l.id, l.mentor, u.display_name AS mentor_name, m.active AS mentor_active, m."user" AS mentor_user,
       l.startup, s.name AS startup_name, s.programme, l.via_cohort, l.budget_minutes, l.used_minutes
FROM incubation_mentor_link l JOIN incubation_mentor m ON m.id = l.mentor
JOIN podium_user u ON u.id = m."user" JOIN incubation_startup s ON s.id = l.startup
"""


def _link_out(row: dict[str, Any]) -> LinkOut:
    return LinkOut(
        id=row["id"],
        mentor_id=row["mentor"],
        mentor_name=row["mentor_name"],
        mentor_active=row["mentor_active"],
        startup_id=row["startup"],
        startup_name=row["startup_name"],
        via_cohort=row["via_cohort"],
        budget_minutes=row["budget_minutes"],
        used_minutes=row["used_minutes"],
        left_minutes=row["budget_minutes"] - row["used_minutes"],
    )


async def _link(link_id: int) -> dict[str, Any]:
    row = await fetch_one(_LINKS + " WHERE l.id = {}", link_id)
    if row is None:
        raise NotFound("Mentor connection")
    return row


async def _managed_mentor(principal: Principal, mentor_id: int) -> dict[str, Any]:
    """The mentor, once the caller is found to manage their programme; an inactive mentor is
    connected to no one (409 ``mentor_inactive``)."""
    row = await _mentor(mentor_id)
    await programme_access(principal, row["programme"], Action.manage_programme)
    if not row["active"]:
        raise Conflict("mentor_inactive", "The mentor is inactive in the directory: reactivate them first")
    return row


async def connections(principal: Principal, mentor_id: int) -> ConnectionsOut:
    """The mentor's startups with their budgets and the cohorts they mentor: for the programme's
    managers and the mentor themself."""
    row = await _mentor(mentor_id)
    context = await programme_context(principal, row["programme"])
    assert context is not None
    if row["user"] != principal.id and not allowed(principal, Action.manage_programme, context):
        raise _refuse(
            principal, context, "Mentor", "Only the programme's managers and the mentor see their connections"
        )
    links = await fetch_all(_LINKS + " WHERE l.mentor = {} ORDER BY s.name, l.id", mentor_id)
    cohorts = await fetch_all(_COHORT_LINKS + " WHERE mc.mentor = {} ORDER BY c.starts_on, c.id", mentor_id)
    return ConnectionsOut(links=[_link_out(r) for r in links], cohorts=[_cohort_link_out(r) for r in cohorts])


async def programme_connections(principal: Principal, programme_id: int) -> ConnectionsOut:
    """Every connection of the programme's mentors, for its managers' page."""
    await programme_access(principal, programme_id, Action.manage_programme)
    links = await fetch_all(
        _LINKS + " WHERE m.programme = {} ORDER BY u.display_name, s.name, l.id", programme_id
    )
    cohorts = await fetch_all(
        _COHORT_LINKS + " WHERE m.programme = {} ORDER BY u.display_name, c.starts_on, c.id", programme_id
    )
    return ConnectionsOut(links=[_link_out(r) for r in links], cohorts=[_cohort_link_out(r) for r in cohorts])


async def programme_choices(programme_id: int) -> tuple[list[tuple[int, str]], list[tuple[int, str]]]:
    """The programme's active startups and its cohorts, as (id, name) choices for the forms."""
    startups = await fetch_all(
        "SELECT id, name FROM incubation_startup WHERE programme = {} AND status = {} ORDER BY name, id",
        programme_id,
        StartupStatus.active.value,
    )
    cohorts = await fetch_all(
        "SELECT id, name FROM incubation_cohort WHERE programme = {} ORDER BY starts_on, id", programme_id
    )
    return [(r["id"], r["name"]) for r in startups], [(r["id"], r["name"]) for r in cohorts]


_COHORT_LINKS = """
SELECT mc.id, mc.mentor, u.display_name AS mentor_name, mc.cohort, c.name AS cohort_name, mc.minutes_per_startup,
       (SELECT COUNT(*) FROM incubation_mentor_link l WHERE l.via_cohort = mc.id) AS startups
FROM incubation_mentor_cohort mc JOIN incubation_cohort c ON c.id = mc.cohort
JOIN incubation_mentor m ON m.id = mc.mentor JOIN podium_user u ON u.id = m."user"
"""


def _cohort_link_out(row: dict[str, Any]) -> CohortLinkOut:
    return CohortLinkOut(
        id=row["id"],
        mentor_id=row["mentor"],
        mentor_name=row["mentor_name"],
        cohort_id=row["cohort"],
        cohort_name=row["cohort_name"],
        minutes_per_startup=row["minutes_per_startup"],
        startups=int(row["startups"]),
    )


async def connect_startup(principal: Principal, mentor_id: int, data: LinkIn) -> LinkOut:
    """Connect the mentor one-to-one to a startup of their programme with a budget of minutes."""
    mentor = await _managed_mentor(principal, mentor_id)
    startup = await fetch_one("SELECT programme FROM incubation_startup WHERE id = {}", data.startup_id)
    if startup is None or startup["programme"] != mentor["programme"]:
        raise _invalid("startup_id", "is not a startup of this programme")
    async with transaction():
        if await fetch_one(
            "SELECT id FROM incubation_mentor_link WHERE mentor = {} AND startup = {}",
            mentor_id,
            data.startup_id,
        ):
            raise Conflict("mentor_connected", "The mentor is already connected to this startup")
        link = MentorLink(mentor=mentor_id, startup=data.startup_id, budget_minutes=data.budget_minutes)
        await link.save()
        await incubator_changed(
            principal.id,
            mentor["programme"],
            "mentor_connected",
            "incubation_mentor_link",
            link.id,
            mentor=mentor_id,
            startup=data.startup_id,
            budget_minutes=data.budget_minutes,
        )
    return _link_out(await _link(link.id))


async def connect_cohort(principal: Principal, mentor_id: int, data: CohortLinkIn) -> CohortLinkOut:
    """Connect the mentor one-to-many to a cohort: a link with ``minutes_per_startup`` for each of
    its active startups that the mentor is not yet connected to (the programme's admissions make
    the links of startups admitted later)."""
    mentor = await _managed_mentor(principal, mentor_id)
    cohort = await fetch_one("SELECT programme FROM incubation_cohort WHERE id = {}", data.cohort_id)
    if cohort is None or cohort["programme"] != mentor["programme"]:
        raise _invalid("cohort_id", "is not a cohort of this programme")
    async with transaction():
        await locked_row(
            Cohort, data.cohort_id
        )  # as admissions do: no startup admitted meanwhile lacks its link
        if await fetch_one(
            "SELECT id FROM incubation_mentor_cohort WHERE mentor = {} AND cohort = {}",
            mentor_id,
            data.cohort_id,
        ):
            raise Conflict("mentor_connected", "The mentor is already connected to this cohort")
        connection = MentorCohort(
            mentor=mentor_id, cohort=data.cohort_id, minutes_per_startup=data.minutes_per_startup
        )
        await connection.save()
        made = await fetch_all(
            """INSERT INTO incubation_mentor_link (mentor, startup, via_cohort, budget_minutes, used_minutes,
                                                   created_at)
               SELECT {}, s.id, {}, {}, 0, {} FROM incubation_startup s
               WHERE s.cohort = {} AND s.status = {}
               ON CONFLICT DO NOTHING RETURNING id""",
            mentor_id,
            connection.id,
            data.minutes_per_startup,
            utcnow(),
            data.cohort_id,
            StartupStatus.active.value,
        )
        await incubator_changed(
            principal.id,
            mentor["programme"],
            "mentor_cohort_connected",
            "incubation_mentor_cohort",
            connection.id,
            mentor=mentor_id,
            cohort=data.cohort_id,
            minutes_per_startup=data.minutes_per_startup,
            startups=len(made),
        )
    found = await fetch_one(_COHORT_LINKS + " WHERE mc.id = {}", connection.id)
    assert found is not None
    return _cohort_link_out(found)


async def _managed_link(principal: Principal, link_id: int) -> dict[str, Any]:
    row = await _link(link_id)
    await programme_access(principal, row["programme"], Action.manage_programme)
    return row


async def update_link(principal: Principal, link_id: int, data: LinkPatch) -> LinkOut:
    """Change a mentor's budget with a startup: never below the minutes already used (409
    ``budget_below_used``), checked in the UPDATE itself so a meeting logged meanwhile counts."""
    row = await _managed_link(principal, link_id)
    async with transaction():
        changed = await fetch_one(
            """UPDATE incubation_mentor_link SET budget_minutes = {}
               WHERE id = {} AND used_minutes <= {} RETURNING used_minutes""",
            data.budget_minutes,
            link_id,
            data.budget_minutes,
        )
        if changed is None:
            used = await fetch_one("SELECT used_minutes FROM incubation_mentor_link WHERE id = {}", link_id)
            raise Conflict(
                "budget_below_used",
                "The budget cannot go below the {used} minutes already used",
                fields={"budget_minutes": "below the {used} minutes used"},
                params={"used": used["used_minutes"] if used else 0},
            )
        await incubator_changed(
            principal.id,
            row["programme"],
            "mentor_budget_changed",
            "incubation_mentor_link",
            link_id,
            before=row["budget_minutes"],
            after=data.budget_minutes,
        )
    return _link_out(await _link(link_id))


async def disconnect_link(principal: Principal, link_id: int) -> None:
    """End a mentor's connection to one startup (its meetings stay logged)."""
    row = await _managed_link(principal, link_id)
    async with transaction():
        gone = await fetch_one("DELETE FROM incubation_mentor_link WHERE id = {} RETURNING id", link_id)
        if gone is None:
            raise NotFound("Mentor connection")
        await incubator_changed(
            principal.id,
            row["programme"],
            "mentor_disconnected",
            "incubation_mentor_link",
            link_id,
            mentor=row["mentor"],
            startup=row["startup"],
        )


async def disconnect_cohort(principal: Principal, connection_id: int) -> None:
    """End a mentor's one-to-many connection to a cohort, with the links it made."""
    row = await fetch_one(
        """SELECT mc.id, mc.mentor, c.programme FROM incubation_mentor_cohort mc
           JOIN incubation_cohort c ON c.id = mc.cohort WHERE mc.id = {}""",
        connection_id,
    )
    if row is None:
        raise NotFound("Mentor connection")
    await programme_access(principal, row["programme"], Action.manage_programme)
    async with transaction():
        gone = await fetch_one(
            "DELETE FROM incubation_mentor_cohort WHERE id = {} RETURNING id", connection_id
        )
        if gone is None:
            raise NotFound("Mentor connection")
        await incubator_changed(
            principal.id,
            row["programme"],
            "mentor_cohort_disconnected",
            "incubation_mentor_cohort",
            connection_id,
            mentor=row["mentor"],
        )


async def startup_mentors(principal: Principal, startup_id: int) -> list[LinkOut]:
    """The startup's mentors with their hour budgets (budgeted, used, left)."""
    await startup_access(principal, startup_id, Action.view_startup)
    rows = await fetch_all(
        _LINKS + " WHERE l.startup = {} ORDER BY m.active DESC, u.display_name, l.id", startup_id
    )
    return [_link_out(r) for r in rows]


def _invalid(field: str, message: str) -> DomainError:
    return DomainError("validation_error", INVALID_INPUT, status_code=422, fields={field: message})


# Office hours and bookings ---------------------------------------------------------------------

_BOOKINGS = """
SELECT b.id, b.slot, b.startup, s.name AS startup_name, o.mentor, u.display_name AS mentor_name,
       m."user" AS mentor_user, m.programme, o.starts_at, o.ends_at, o.place, b.topic, b.status, b.booked_by,
       b.created_at, b.cancelled_at, p.cancellation_hours
FROM incubation_booking b JOIN incubation_office_hour o ON o.id = b.slot
JOIN incubation_mentor m ON m.id = o.mentor JOIN podium_user u ON u.id = m."user"
JOIN incubation_startup s ON s.id = b.startup JOIN incubation_programme p ON p.id = s.programme
"""
_SLOTS = """
SELECT o.id, o.mentor, u.display_name AS mentor_name, m.programme, m."user" AS mentor_user, o.starts_at,
       o.ends_at, o.place, o.cancelled_at
FROM incubation_office_hour o JOIN incubation_mentor m ON m.id = o.mentor
JOIN podium_user u ON u.id = m."user"
"""


def _window_open(row: dict[str, Any], now: dt.datetime) -> bool:
    """Whether founders may still cancel: until ``cancellation_hours`` before the slot."""
    return now <= row["starts_at"] - dt.timedelta(hours=row["cancellation_hours"])


def _booking_out(row: dict[str, Any], principal: Principal, founder: bool) -> BookingOut:
    live = row["status"] == LIVE
    cancellable = live and (row["mentor_user"] == principal.id or (founder and _window_open(row, utcnow())))
    return BookingOut(
        id=row["id"],
        slot_id=row["slot"],
        startup_id=row["startup"],
        startup_name=row["startup_name"],
        mentor_id=row["mentor"],
        mentor_name=row["mentor_name"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        place=row["place"],
        topic=row["topic"],
        status=row["status"],
        booked_by=row["booked_by"],
        created_at=row["created_at"],
        cancelled_at=row["cancelled_at"],
        cancellable=cancellable,
    )


def _slot_out(row: dict[str, Any], booking: BookingOut | None = None) -> SlotOut:
    return SlotOut(
        id=row["id"],
        mentor_id=row["mentor"],
        mentor_name=row["mentor_name"],
        programme_id=row["programme"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        place=row["place"],
        cancelled_at=row["cancelled_at"],
        booking=booking,
    )


def _check_slot(data: SlotIn, now: dt.datetime) -> None:
    checks = FieldChecks()
    for name in ("starts_at", "ends_at"):
        if getattr(data, name).tzinfo is None:
            checks.add(
                "naive_datetime",
                "Give the time zone offset, e.g. 2026-05-01T18:00:00+08:00",
                name,
                "no time zone",
            )
    checks.raise_if_any(422)
    if data.ends_at <= data.starts_at:
        checks.add("invalid_times", "The slot ends before it starts", "ends_at", "not after the start")
    elif data.ends_at - data.starts_at > MAX_SLOT:
        checks.add("validation_error", INVALID_INPUT, "ends_at", "more than 8 hours after the start")
    if data.starts_at <= now:
        checks.add("slot_in_past", "An office-hour slot must start in the future", "starts_at", "in the past")
    checks.raise_if_any(422)


async def create_slot(principal: Principal, programme_id: int, data: SlotIn) -> SlotOut:
    """Offer an office-hour slot as a mentor of the programme: in the future, at most 8 hours, not
    overlapping the mentor's other live slots (409 ``slot_overlaps``, checked under the mentor's
    row lock)."""
    await programme_access(principal, programme_id, Action.offer_office_hours)
    now = utcnow()
    _check_slot(data, now)
    mentor = await fetch_one(
        'SELECT id FROM incubation_mentor WHERE programme = {} AND "user" = {} AND active',
        programme_id,
        principal.id,
    )
    assert mentor is not None  # offer_office_hours: an active mentor of the programme
    starts, ends = data.starts_at.astimezone(dt.UTC), data.ends_at.astimezone(dt.UTC)
    async with transaction():
        await locked_row(Mentor, mentor["id"])
        clash = await fetch_one(
            """SELECT id FROM incubation_office_hour WHERE mentor = {} AND cancelled_at IS NULL
               AND starts_at < {} AND ends_at > {} LIMIT 1""",
            mentor["id"],
            ends,
            starts,
        )
        if clash is not None:
            raise Conflict(
                "slot_overlaps",
                "You already offer a slot overlapping this time",
                fields={"starts_at": "overlaps another of your slots"},
            )
        slot = OfficeHour(
            mentor=mentor["id"], starts_at=starts, ends_at=ends, place=data.place, created_at=now
        )
        await slot.save()
        await incubator_changed(
            principal.id, programme_id, "office_hour_offered", "incubation_office_hour", slot.id
        )
    return await _slot(slot.id)


async def _slot(slot_id: int) -> SlotOut:
    row = await fetch_one(_SLOTS + " WHERE o.id = {}", slot_id)
    assert row is not None
    return _slot_out(row)


async def my_office_hours(principal: Principal, days_back: int = 30) -> list[SlotOut]:
    """The caller's own slots as a mentor (in every programme), from ``days_back`` days ago on,
    each with its live booking."""
    since = utcnow() - dt.timedelta(days=days_back)
    slots = await fetch_all(
        _SLOTS + ' WHERE m."user" = {} AND o.ends_at >= {} ORDER BY o.starts_at, o.id', principal.id, since
    )
    bookings = await fetch_all(
        _BOOKINGS + """ WHERE m."user" = {} AND o.ends_at >= {} AND b.status = 'booked'""",
        principal.id,
        since,
    )
    by_slot = {b["slot"]: _booking_out(b, principal, founder=False) for b in bookings}
    return [_slot_out(s, by_slot.get(s["id"])) for s in slots]


async def cancel_slot(principal: Principal, slot_id: int) -> SlotOut:
    """The slot's mentor withdraws it; its live booking is cancelled and the founders mailed."""
    row = await fetch_one(_SLOTS + " WHERE o.id = {}", slot_id)
    if row is None:
        raise NotFound("Office-hour slot")
    if row["mentor_user"] != principal.id:
        context = await programme_context(principal, row["programme"])
        assert context is not None
        raise _refuse(principal, context, "Office-hour slot", "Only the slot's mentor may cancel it")
    now = utcnow()
    async with transaction():
        done = await fetch_one(
            "UPDATE incubation_office_hour SET cancelled_at = {} WHERE id = {} AND cancelled_at IS NULL RETURNING id",
            now,
            slot_id,
        )
        if done is None:
            raise Conflict("slot_cancelled", "The slot is already cancelled")
        booking = await fetch_one(
            """UPDATE incubation_booking SET status = 'cancelled', cancelled_at = {}, cancelled_by = {}
               WHERE slot = {} AND status = 'booked' RETURNING id, startup""",
            now,
            principal.id,
            slot_id,
        )
        if booking is not None:
            await _mail_founders(booking["startup"], row, "slot_cancelled")
        await incubator_changed(
            principal.id,
            row["programme"],
            "office_hour_cancelled",
            "incubation_office_hour",
            slot_id,
            booking=booking["id"] if booking else None,
        )
    return await _slot(slot_id)


async def open_slots(principal: Principal, startup_id: int) -> list[SlotOut]:
    """The slots the startup may book: future, not cancelled, not booked, of its active mentors."""
    await startup_access(principal, startup_id, Action.view_startup)
    rows = await fetch_all(
        _SLOTS  # noqa: S608 (constant SQL)
        + """ JOIN incubation_mentor_link l ON l.mentor = m.id AND l.startup = {}
              WHERE m.active AND o.cancelled_at IS NULL AND o.starts_at > {}
                AND NOT EXISTS (SELECT 1 FROM incubation_booking b WHERE b.slot = o.id AND b.status = 'booked')
              ORDER BY o.starts_at, o.id LIMIT 200""",
        startup_id,
        utcnow(),
    )
    return [_slot_out(r) for r in rows]


async def startup_bookings(principal: Principal, startup_id: int) -> list[BookingOut]:
    """The startup's bookings, newest slot first: all of them for its founders and managers, a
    mentor's own for a mentor."""
    access = await startup_access(principal, startup_id, Action.view_startup)
    founder = allowed(principal, Action.act_for_startup, access.context)
    everyone = founder or allowed(principal, Action.manage_programme, access.context)
    rows = await fetch_all(
        _BOOKINGS
        + ' WHERE b.startup = {} AND ({} OR m."user" = {}) ORDER BY o.starts_at DESC, b.id LIMIT 500',
        startup_id,
        everyone,
        principal.id,
    )
    return [_booking_out(r, principal, founder) for r in rows]


async def book(principal: Principal, startup_id: int, data: BookingIn) -> BookingOut:
    """A founder books an open slot of a mentor connected to their startup. Under the slot's row
    lock: not cancelled, in the future, not booked (409 ``slot_taken``: the unique index holds it
    too); the mentor is mailed."""
    access = await startup_access(principal, startup_id, Action.act_for_startup)
    now = utcnow()
    async with transaction():
        slot = await locked_row(OfficeHour, data.slot_id)
        row = await fetch_one(_SLOTS + " WHERE o.id = {}", data.slot_id) if slot else None
        if row is None or row["programme"] != access.programme_id:
            raise NotFound("Office-hour slot")
        connected = await fetch_one(
            """SELECT l.id FROM incubation_mentor_link l JOIN incubation_mentor m ON m.id = l.mentor
               WHERE l.mentor = {} AND l.startup = {} AND m.active""",
            row["mentor"],
            startup_id,
        )
        if connected is None:
            raise Conflict(
                "mentor_not_connected",
                "The slot's mentor is not connected to this startup",
                fields={"slot_id": "not a slot of your mentors"},
            )
        if row["cancelled_at"] is not None:
            raise Conflict(
                "slot_cancelled", "The mentor cancelled this slot", fields={"slot_id": "cancelled"}
            )
        if row["starts_at"] <= now:
            raise Conflict("slot_in_past", "The slot has already started", fields={"slot_id": "in the past"})
        if await fetch_one(
            "SELECT id FROM incubation_booking WHERE slot = {} AND status = 'booked'", data.slot_id
        ):
            raise Conflict("slot_taken", "Someone else booked this slot first", fields={"slot_id": "taken"})
        booking = Booking(
            slot=data.slot_id, startup=startup_id, booked_by=principal.id, topic=data.topic, created_at=now
        )
        await booking.save()
        await _mail_mentor(row["mentor_user"], row, access.name, data.topic, "booked")
        await incubator_changed(
            principal.id,
            access.programme_id,
            "office_hour_booked",
            "incubation_booking",
            booking.id,
            slot=data.slot_id,
        )
    found = await fetch_one(_BOOKINGS + " WHERE b.id = {}", booking.id)
    assert found is not None
    return _booking_out(found, principal, founder=True)


async def cancel_booking(principal: Principal, booking_id: int) -> BookingOut:
    """Cancel a booking: the slot's mentor at any time, the startup's founders until the
    programme's ``cancellation_hours`` before the slot (409 ``cancellation_window_closed``). The
    other side is mailed; the slot is open to book again."""
    row = await fetch_one(_BOOKINGS + " WHERE b.id = {}", booking_id)
    if row is None:
        raise NotFound("Booking")
    by_mentor = row["mentor_user"] == principal.id
    now = utcnow()
    if not by_mentor:
        await startup_access(principal, row["startup"], Action.act_for_startup)
        if row["status"] == LIVE and not _window_open(row, now):
            raise Conflict(
                "cancellation_window_closed",
                "Bookings can be cancelled until {hours} hours before the slot; ask the mentor",
                params={"hours": row["cancellation_hours"]},
            )
    async with transaction():
        done = await fetch_one(
            """UPDATE incubation_booking SET status = 'cancelled', cancelled_at = {}, cancelled_by = {}
               WHERE id = {} AND status = 'booked' RETURNING id""",
            now,
            principal.id,
            booking_id,
        )
        if done is None:
            raise Conflict("booking_cancelled", "The booking is already cancelled")
        if by_mentor:
            await _mail_founders(row["startup"], row, "booking_cancelled")
        else:
            await _mail_mentor(row["mentor_user"], row, row["startup_name"], row["topic"], "cancelled")
        await incubator_changed(
            principal.id,
            row["programme"],
            "booking_cancelled",
            "incubation_booking",
            booking_id,
            by_mentor=by_mentor,
        )
    found = await fetch_one(_BOOKINGS + " WHERE b.id = {}", booking_id)
    assert found is not None
    return _booking_out(found, principal, founder=not by_mentor)


# Mails ------------------------------------------------------------------------------------------

_SUBJECTS = {
    "booked": {
        "zh": "新的预约：{startup}，{when}",
        "en": "New booking: {startup}, {when}",
        "ru": "Новая запись: {startup}, {when}",
    },
    "cancelled": {
        "zh": "预约已取消：{startup}，{when}",
        "en": "Booking cancelled: {startup}, {when}",
        "ru": "Запись отменена: {startup}, {when}",
    },
    "slot_cancelled": {
        "zh": "导师取消了答疑时段：{when}",
        "en": "Your mentor cancelled the office hour of {when}",
        "ru": "Наставник отменил консультацию {when}",
    },
    "booking_cancelled": {
        "zh": "导师取消了您的预约：{when}",
        "en": "Your mentor cancelled your booking of {when}",
        "ru": "Наставник отменил вашу запись на {when}",
    },
}
_BODIES = {
    "booked": {
        "zh": "{name}，您好：\n\n{startup} 预约了您 {when}（{place}）的答疑时段。\n主题：{topic}\n\n您的答疑时段：{link}\n",
        "en": "Hello {name},\n\n{startup} booked your office hour of {when} ({place}).\nTopic: {topic}\n\n"
        "Your office hours: {link}\n",
        "ru": "Здравствуйте, {name}!\n\n{startup} записались на вашу консультацию {when} ({place}).\n"
        "Тема: {topic}\n\nВаши консультации: {link}\n",
    },
    "cancelled": {
        "zh": "{name}，您好：\n\n{startup} 取消了 {when} 的预约，该时段可再次预约。\n\n您的答疑时段：{link}\n",
        "en": "Hello {name},\n\n{startup} cancelled their booking of {when}; the slot is open again.\n\n"
        "Your office hours: {link}\n",
        "ru": "Здравствуйте, {name}!\n\n{startup} отменили запись на {when}; время снова свободно.\n\n"
        "Ваши консультации: {link}\n",
    },
    "slot_cancelled": {
        "zh": "{name}，您好：\n\n导师 {mentor} 取消了 {when} 的答疑时段，您的预约已取消。\n可预约其他时段：{link}\n",
        "en": "Hello {name},\n\n{mentor} cancelled the office hour of {when}, so your booking is cancelled.\n"
        "Book another slot: {link}\n",
        "ru": "Здравствуйте, {name}!\n\n{mentor} отменил(а) консультацию {when}, ваша запись отменена.\n"
        "Записаться на другое время: {link}\n",
    },
    "booking_cancelled": {
        "zh": "{name}，您好：\n\n导师 {mentor} 取消了您 {when} 的预约。\n可预约其他时段：{link}\n",
        "en": "Hello {name},\n\n{mentor} cancelled your booking of {when}.\nBook another slot: {link}\n",
        "ru": "Здравствуйте, {name}!\n\n{mentor} отменил(а) вашу запись на {when}.\nЗаписаться на другое время: {link}\n",
    },
}


def _when(value: dt.datetime) -> str:
    return value.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _locale(value: str | None) -> str:
    return value if value in ("zh", "en", "ru") else "en"


async def _send(person: dict[str, Any], kind: str, values: dict[str, str]) -> None:
    locale = _locale(person["locale"])
    values = {**values, "name": person["display_name"] or person["email"]}
    await queue_email(
        person["email"], _SUBJECTS[kind][locale].format(**values), _BODIES[kind][locale].format(**values)
    )


def _link_to(path: str) -> str:
    return get_settings().base_url.rstrip("/") + path


async def _mail_mentor(user_id: int, slot: dict[str, Any], startup: str, topic: str, kind: str) -> None:
    person = await fetch_one("SELECT email, display_name, locale FROM podium_user WHERE id = {}", user_id)
    if person and person["email"]:
        values = {
            "startup": startup,
            "when": _when(slot["starts_at"]),
            "place": slot["place"] or "-",
            "topic": topic or "-",
            "link": _link_to("/incubator/office-hours"),
        }
        await _send(person, kind, values)


async def _mail_founders(startup_id: int, slot: dict[str, Any], kind: str) -> None:
    founders = await fetch_all(
        """SELECT u.email, u.display_name, u.locale FROM incubation_founder f
           JOIN podium_user u ON u.id = f."user" WHERE f.startup = {} AND u.active ORDER BY f.id""",
        startup_id,
    )
    values = {
        "mentor": slot["mentor_name"],
        "when": _when(slot["starts_at"]),
        "link": _link_to(f"/incubator/startups/{startup_id}/mentors"),
    }
    for person in founders:
        if person["email"]:
            await _send(person, kind, values)
