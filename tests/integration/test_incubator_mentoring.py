"""Mentoring over HTTP in the incubator world: the directory (search, add by e-mail, self-edit,
deactivation), connections and hour budgets, office-hour slots (future, no overlap) and bookings
(a connected mentor, one live booking per slot under races, the cancellation window), with the
mails they send through the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import random

import pytest

from backend.audit import AuditEntry
from backend.errors import Conflict
from backend.mail.tables import OutboxEmail
from backend.policy import Principal
from incubator.mentoring import service
from incubator.mentoring.schemas import SlotIn
from incubator.tables import Booking, MentorLink, OfficeHour, Programme
from tests.integration.incubator_world import World, build_world

pytestmark = pytest.mark.usefixtures("db")
API = "/api/v1/incubator"


@pytest.fixture
async def world() -> World:
    return await build_world()


@pytest.fixture
def as_(make_client, world):
    clients: dict[str, object] = {}

    async def factory(who: str):
        if who not in clients:
            clients[who] = await make_client(world.email(who))
        return clients[who]

    return factory


def _at(hours: float) -> str:
    moment = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=hours)
    return moment.isoformat()


async def _slot(mentor_id: int, hours_from_now: float, length: float = 1.0) -> int:
    start = dt.datetime.now(dt.UTC).replace(microsecond=0) + dt.timedelta(hours=hours_from_now)
    slot = OfficeHour(mentor=mentor_id, starts_at=start, ends_at=start + dt.timedelta(hours=length))
    await slot.save()
    return slot.id


async def _mails_to(who: str, world: World) -> list[dict]:
    return await OutboxEmail.select().where(OutboxEmail.to_address == world.email(who))


async def test_the_directory_is_searched_added_to_and_edited_by_the_right_people(world, as_):
    programme = world.ids["programme"]
    founder = await as_("founder")
    listed = (await founder.get(f"{API}/programmes/{programme}/mentors")).json()
    assert {m["name"] for m in listed} == {"Mentor", "Cohort Mentor"}
    by_tag = (await founder.get(f"{API}/programmes/{programme}/mentors?expertise=russia")).json()
    assert [m["id"] for m in by_tag] == [world.ids["mentor"]]
    assert (await founder.get(f"{API}/programmes/{programme}/mentors?language=ru")).json()[0][
        "languages"
    ] == [
        "zh",
        "en",
        "ru",
    ]
    assert (await founder.get(f"{API}/programmes/{programme}/mentors?q=FINANCE")).json()[0][
        "id"
    ] == world.ids["cohort_mentor"]
    viewer = await as_("viewer")
    assert (await viewer.get(f"{API}/programmes/{programme}/mentors")).status_code == 403
    outsider = await as_("outsider")
    assert (await outsider.get(f"{API}/programmes/{programme}/mentors")).status_code == 404

    manager = await as_("manager")
    missing = await manager.post(
        f"{API}/programmes/{programme}/mentors", json={"email": "nobody@example.org"}
    )
    assert missing.status_code == 422
    assert (missing.json()["code"], list(missing.json()["fields"])) == ("no_account", ["email"])
    wrong = await manager.post(
        f"{API}/programmes/{programme}/mentors",
        json={"email": world.email("outsider"), "languages": "english"},
    )
    assert (wrong.status_code, list(wrong.json()["fields"])) == (422, ["languages"])
    added = await manager.post(
        f"{API}/programmes/{programme}/mentors",
        json={"email": world.email("outsider"), "expertise": ["Tax", "tax", "Law"], "languages": "EN ru en"},
    )
    assert added.status_code == 201, added.text
    assert (added.json()["expertise"], added.json()["languages"]) == (["Tax", "Law"], ["en", "ru"])
    again = await manager.post(
        f"{API}/programmes/{programme}/mentors", json={"email": world.email("outsider")}
    )
    assert (again.status_code, again.json()["code"]) == (409, "mentor_exists")

    mentor = await as_("mentor")
    own = await mentor.patch(f"{API}/mentors/{world.ids['mentor']}", json={"headline": "Marketplaces"})
    assert (own.status_code, own.json()["headline"]) == (200, "Marketplaces")
    assert (
        await mentor.patch(f"{API}/mentors/{world.ids['mentor']}", json={"active": False})
    ).status_code == 403
    other = await mentor.patch(f"{API}/mentors/{world.ids['cohort_mentor']}", json={"headline": "x"})
    assert other.status_code == 403
    assert (await founder.patch(f"{API}/mentors/{world.ids['mentor']}", json={"bio": "x"})).status_code == 403
    off = await manager.patch(f"{API}/mentors/{world.ids['mentor']}", json={"active": False})
    assert (off.status_code, off.json()["active"]) == (200, False)
    listed = (await founder.get(f"{API}/programmes/{programme}/mentors")).json()
    assert world.ids["mentor"] not in {m["id"] for m in listed}
    assert (await founder.get(f"{API}/mentors/{world.ids['mentor']}")).status_code == 404
    assert len((await manager.get(f"{API}/programmes/{programme}/mentors")).json()) == 3
    entries = await AuditEntry.select(AuditEntry.action).where(AuditEntry.action.like("incubator.mentor_%"))
    assert sorted(e["action"] for e in entries) == [
        "incubator.mentor_added",
        "incubator.mentor_updated",
        "incubator.mentor_updated",
    ]


async def test_connections_make_links_with_budgets_that_never_drop_below_what_is_used(world, as_):
    manager = await as_("manager")
    programme = world.ids["programme"]
    added = await manager.post(
        f"{API}/programmes/{programme}/mentors", json={"email": world.email("outsider")}
    )
    new = added.json()["id"]
    cohort = await manager.post(
        f"{API}/mentors/{new}/cohorts", json={"cohort_id": world.ids["cohort"], "minutes_per_startup": 120}
    )
    assert (cohort.status_code, cohort.json()["startups"]) == (201, 2), cohort.text
    twice = await manager.post(f"{API}/mentors/{new}/cohorts", json={"cohort_id": world.ids["cohort"]})
    assert (twice.status_code, twice.json()["code"]) == (409, "mentor_connected")
    one = await manager.post(f"{API}/mentors/{new}/links", json={"startup_id": world.ids["startup"]})
    assert (one.status_code, one.json()["code"]) == (409, "mentor_connected")
    founder = await as_("founder")
    mentors = (await founder.get(f"{API}/startups/{world.ids['startup']}/mentors")).json()
    budgets = {m["mentor_id"]: (m["budget_minutes"], m["used_minutes"], m["left_minutes"]) for m in mentors}
    assert budgets == {
        world.ids["mentor"]: (600, 60, 540),
        world.ids["cohort_mentor"]: (300, 0, 300),
        new: (120, 0, 120),
    }

    link = world.ids["mentor_link"]
    below = await manager.patch(f"{API}/mentor-links/{link}", json={"budget_minutes": 59})
    assert (below.status_code, below.json()["code"], list(below.json()["fields"])) == (
        409,
        "budget_below_used",
        ["budget_minutes"],
    )
    assert "60" in below.json()["detail"]
    exact = await manager.patch(f"{API}/mentor-links/{link}", json={"budget_minutes": 60})
    assert (exact.status_code, exact.json()["left_minutes"]) == (200, 0)
    assert (
        await founder.patch(f"{API}/mentor-links/{link}", json={"budget_minutes": 900})
    ).status_code == 403

    gone = await manager.delete(f"{API}/mentor-cohorts/{cohort.json()['id']}")
    assert gone.status_code == 204
    assert await MentorLink.count().where(MentorLink.mentor == new) == 0
    direct = await manager.post(
        f"{API}/mentors/{new}/links", json={"startup_id": world.ids["other_startup"], "budget_minutes": 90}
    )
    assert direct.status_code == 201
    connections = (await manager.get(f"{API}/mentors/{new}/connections")).json()
    assert [x["startup_id"] for x in connections["links"]] == [world.ids["other_startup"]]
    assert (await manager.delete(f"{API}/mentor-links/{direct.json()['id']}")).status_code == 204
    await manager.patch(f"{API}/mentors/{new}", json={"active": False})
    inactive = await manager.post(f"{API}/mentors/{new}/links", json={"startup_id": world.ids["startup"]})
    assert (inactive.status_code, inactive.json()["code"]) == (409, "mentor_inactive")


async def test_mentors_offer_future_slots_that_do_not_overlap(world, as_):
    mentor = await as_("mentor")
    url = f"{API}/programmes/{world.ids['programme']}/office-hours"
    made = await mentor.post(url, json={"starts_at": _at(48), "ends_at": _at(49), "place": "Zoom"})
    assert made.status_code == 201, made.text
    assert made.json()["mentor_id"] == world.ids["mentor"]
    for starts, ends in ((48.5, 49.5), (47.5, 48.01), (47, 50)):
        clash = await mentor.post(url, json={"starts_at": _at(starts), "ends_at": _at(ends)})
        assert (clash.status_code, clash.json()["code"]) == (409, "slot_overlaps"), (starts, ends)
    assert (await mentor.post(url, json={"starts_at": _at(49), "ends_at": _at(50)})).status_code == 201
    past = await mentor.post(url, json={"starts_at": _at(-2), "ends_at": _at(-1)})
    assert (past.status_code, past.json()["code"], list(past.json()["fields"])) == (
        422,
        "slot_in_past",
        ["starts_at"],
    )
    backwards = await mentor.post(url, json={"starts_at": _at(60), "ends_at": _at(59)})
    assert (backwards.status_code, list(backwards.json()["fields"])) == (422, ["ends_at"])
    naive = await mentor.post(
        url, json={"starts_at": "2030-01-01T10:00:00", "ends_at": "2030-01-01T11:00:00"}
    )
    assert (naive.status_code, naive.json()["code"]) == (422, "naive_datetime")
    long = await mentor.post(url, json={"starts_at": _at(100), "ends_at": _at(109)})
    assert long.status_code == 422
    founder = await as_("founder")
    assert (await founder.post(url, json={"starts_at": _at(70), "ends_at": _at(71)})).status_code == 403
    mine = (await mentor.get(f"{API}/office-hours")).json()
    assert len(mine) == 4  # the world's two and the two made here
    assert [s["booking"] is not None for s in mine if s["id"] == world.ids["booked_slot"]] == [True]
    # slots made at once by one mentor over the same hour: exactly one is kept
    results = await asyncio.gather(
        *(mentor.post(url, json={"starts_at": _at(200), "ends_at": _at(201)}) for _ in range(10))
    )
    assert sorted(r.status_code for r in results) == [201] + [409] * 9


async def test_founders_book_open_slots_of_their_own_mentors_and_the_mentor_is_mailed(world, as_):
    founder = await as_("founder")
    startup = world.ids["startup"]
    open_ = (await founder.get(f"{API}/startups/{startup}/office-hours")).json()
    assert [s["id"] for s in open_] == [world.ids["slot"]]
    booked = await founder.post(
        f"{API}/startups/{startup}/bookings", json={"slot_id": world.ids["slot"], "topic": "Ozon pricing"}
    )
    assert booked.status_code == 201, booked.text
    assert booked.json()["cancellable"] is True
    mails = await _mails_to("mentor", world)
    assert len(mails) == 1
    assert "Silk Road Labs" in mails[0]["subject"]
    assert "Ozon pricing" in mails[0]["body_text"]
    assert (await founder.get(f"{API}/startups/{startup}/office-hours")).json() == []
    # the other startup's founder: not their mentor's slot; a manager and a mentor do not book
    other = await as_("other_founder")
    slot = await _slot(world.ids["mentor"], 30)
    refused = await other.post(
        f"{API}/startups/{world.ids['other_startup']}/bookings", json={"slot_id": slot}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "mentor_not_connected")
    for who in ("manager", "mentor"):
        client = await as_(who)
        assert (
            await client.post(f"{API}/startups/{startup}/bookings", json={"slot_id": slot})
        ).status_code == 403
    outsider = await as_("outsider")
    assert (
        await outsider.post(f"{API}/startups/{startup}/bookings", json={"slot_id": slot})
    ).status_code == 404
    past = await _slot(world.ids["mentor"], -1)
    late = await founder.post(f"{API}/startups/{startup}/bookings", json={"slot_id": past})
    assert (late.status_code, late.json()["code"]) == (409, "slot_in_past")
    bookings = (await founder.get(f"{API}/startups/{startup}/bookings")).json()
    assert {b["slot_id"] for b in bookings} == {world.ids["slot"], world.ids["booked_slot"]}
    cohort_mentor = await as_("cohort_mentor")
    assert (await cohort_mentor.get(f"{API}/startups/{startup}/bookings")).json() == []


async def test_founders_racing_for_one_slot_get_one_booking(world, as_):
    slot = await _slot(world.ids["cohort_mentor"], 24 * 3)  # the cohort's mentor: both startups may book
    founder, other = await as_("founder"), await as_("other_founder")
    for _ in range(3):
        results = await asyncio.gather(
            founder.post(f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": slot}),
            other.post(f"{API}/startups/{world.ids['other_startup']}/bookings", json={"slot_id": slot}),
        )
        statuses = sorted(r.status_code for r in results)
        assert statuses == [201, 409], [r.text for r in results]
        assert [r.json()["code"] for r in results if r.status_code == 409] == ["slot_taken"]
        winner = next(r for r in results if r.status_code == 201).json()
        assert await Booking.count().where((Booking.slot == slot) & (Booking.status == "booked")) == 1
        cancel = await (founder if winner["startup_id"] == world.ids["startup"] else other).post(
            f"{API}/bookings/{winner['id']}/cancel"
        )
        assert cancel.status_code == 200
    # twenty bookings of one slot at once by one startup's founder: one booking, one mail, one entry
    before = await AuditEntry.count().where(AuditEntry.action == "incubator.office_hour_booked")
    results = await asyncio.gather(
        *(
            founder.post(
                f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": world.ids["slot"]}
            )
            for _ in range(20)
        )
    )
    assert sorted(r.status_code for r in results) == [201] + [409] * 19
    assert {r.json()["code"] for r in results if r.status_code == 409} == {"slot_taken"}
    assert await Booking.count().where(Booking.slot == world.ids["slot"]) == 1
    assert len(await _mails_to("mentor", world)) == 1
    assert await AuditEntry.count().where(AuditEntry.action == "incubator.office_hour_booked") == before + 1


async def test_founders_cancel_until_the_window_and_the_mentor_always(world, as_):
    await Programme.update({Programme.cancellation_hours: 24}).where(Programme.id == world.ids["programme"])
    founder, mentor = await as_("founder"), await as_("mentor")
    cofounder = await as_("cofounder")
    # a week ahead: the founders may cancel
    assert (await cofounder.post(f"{API}/bookings/{world.ids['booking']}/cancel")).json()[
        "status"
    ] == "cancelled"
    again = await founder.post(f"{API}/bookings/{world.ids['booking']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "booking_cancelled")
    assert len(await _mails_to("mentor", world)) == 1
    # inside the window: founders are refused, the mentor cancels and the founders are mailed
    soon = await _slot(world.ids["mentor"], 3)
    booked = (
        await founder.post(f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": soon})
    ).json()
    assert booked["cancellable"] is False
    closed = await founder.post(f"{API}/bookings/{booked['id']}/cancel")
    assert (closed.status_code, closed.json()["code"]) == (409, "cancellation_window_closed")
    assert "24" in closed.json()["detail"]
    manager = await as_("manager")
    assert (await manager.post(f"{API}/bookings/{booked['id']}/cancel")).status_code == 403
    assert (await mentor.post(f"{API}/bookings/{booked['id']}/cancel")).status_code == 200
    assert len(await _mails_to("founder", world)) == 1
    assert len(await _mails_to("cofounder", world)) == 1
    # the slot is open again
    rebooked = await founder.post(f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": soon})
    assert rebooked.status_code == 201


async def test_a_cancelled_slot_cancels_its_booking_and_cannot_be_booked(world, as_):
    mentor, founder = await as_("mentor"), await as_("founder")
    other_mentor = await as_("cohort_mentor")
    assert (
        await other_mentor.post(f"{API}/office-hours/{world.ids['booked_slot']}/cancel")
    ).status_code == 403
    assert (
        await (await as_("outsider")).post(f"{API}/office-hours/{world.ids['booked_slot']}/cancel")
    ).status_code == 404
    cancelled = await mentor.post(f"{API}/office-hours/{world.ids['booked_slot']}/cancel")
    assert cancelled.status_code == 200
    assert cancelled.json()["cancelled_at"] is not None
    booking = await Booking.select().where(Booking.id == world.ids["booking"]).first()
    assert booking["status"] == "cancelled"
    assert booking["cancelled_by"] == world.users["mentor"]
    mails = await _mails_to("founder", world)
    assert len(mails) == 1
    assert "cancelled" in mails[0]["subject"]
    again = await mentor.post(f"{API}/office-hours/{world.ids['booked_slot']}/cancel")
    assert (again.status_code, again.json()["code"]) == (409, "slot_cancelled")
    refused = await founder.post(
        f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": world.ids["booked_slot"]}
    )
    assert (refused.status_code, refused.json()["code"]) == (409, "slot_cancelled")
    # a booking racing the slot's cancellation: never a live booking on a cancelled slot
    results = await asyncio.gather(
        founder.post(f"{API}/startups/{world.ids['startup']}/bookings", json={"slot_id": world.ids["slot"]}),
        mentor.post(f"{API}/office-hours/{world.ids['slot']}/cancel"),
    )
    assert results[1].status_code == 200
    live = await Booking.count().where((Booking.slot == world.ids["slot"]) & (Booking.status == "booked"))
    assert live == 0


async def test_a_mentors_live_slots_never_overlap_whatever_is_offered_and_cancelled(world):
    """Random offers and cancellations, checked against a plain model: an offer is kept exactly when
    it overlaps none of the mentor's live slots."""
    mentor = Principal(world.users["cohort_mentor"], "m@example.org", "M", "en", False, "session")
    base = dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0) + dt.timedelta(days=40)
    rng = random.Random(12)
    live: dict[int, tuple[dt.datetime, dt.datetime]] = {}
    for _ in range(25):
        if live and rng.random() < 0.2:
            slot_id = rng.choice(sorted(live))
            await service.cancel_slot(mentor, slot_id)
            del live[slot_id]
            continue
        start = base + dt.timedelta(minutes=30 * rng.randrange(0, 16))
        end = start + dt.timedelta(minutes=30 * rng.randrange(1, 5))
        free = all(end <= s or start >= e for s, e in live.values())
        offer = service.create_slot(mentor, world.ids["programme"], SlotIn(starts_at=start, ends_at=end))
        if free:
            live[(await offer).id] = (start, end)
        else:
            with pytest.raises(Conflict, match="overlapping"):
                await offer
    kept = await OfficeHour.select().where(
        (OfficeHour.mentor == world.ids["cohort_mentor"]) & OfficeHour.cancelled_at.is_null()
    )
    assert {row["id"] for row in kept} == set(live)
