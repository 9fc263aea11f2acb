"""Live attendance (ticketing.attendance) against the check-in log, on PostgreSQL.

The log is written straight into the tables (as the scan service writes it) in random families of
scans; every figure is compared with an obviously-correct count made in Python from the same scans.
Then the API, the exports, the page and the picture, who may see them, and the number of statements
(fixed, whatever the number of scans).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from openpyxl import load_workbook

from backend.events.tables import Event, EventSession
from tests.integration.ticketing_world import DEVICE_TOKEN, STARTS, World, build_world, issue
from ticketing.attendance import service
from ticketing.tables import Checkin, CheckinList, Ticket

ZONE = ZoneInfo("Asia/Shanghai")
NOW = dt.datetime(2027, 9, 2, 15, 7, tzinfo=ZONE)  # the event's second day, mid-afternoon
REASONS = ("already_checked_in", "invalid", "not_allowed", "outside_time", "capacity")


@dataclass
class Scan:
    list_name: str
    ticket: int | None  # an index into world.tickets, or None for a code that named no ticket
    at: dt.datetime
    status: str = "admitted"
    direction: str = "entry"
    reason: str | None = None
    conflict: bool = False
    offline: bool = False


async def attendance_world(**extra) -> World:
    """The test world with a once-a-day list, a list for exhibitors only and a session list, and four
    exhibitor tickets besides the six visitors' (one of them revoked)."""
    world = await build_world(
        lists={
            "breakfast": {"entries_total": None, "entries_per_day": 1},
            "exhibitors": {"types": [2]},
        },
        **extra,
    )
    for i in range(4):
        ticket_id, code = await issue(world, "exhibitor_staff", name=f"Exhibitor {i}")
        world.tickets.append(ticket_id)
        world.codes.append(code)
        world.holders.append(None)
    await Ticket.update({Ticket.status: "revoked"}).where(Ticket.id == world.tickets[5])
    return world


async def write(world: World, scans: list[Scan]) -> None:
    """The scans as rows of the log: admitted entries take the next free slot of their ticket and
    list, as the scan service does."""
    slots: Counter[tuple[str, int | None]] = Counter()
    rows = []
    for n, s in enumerate(scans):
        ticket = world.tickets[s.ticket] if s.ticket is not None else None
        slot = None
        if s.status == "admitted" and s.direction == "entry":
            slot = slots[(s.list_name, ticket)]
            slots[(s.list_name, ticket)] += 1
        rows.append(
            Checkin(
                checkin_list=world.lists[s.list_name],
                event=world.event,
                ticket=ticket,
                direction=s.direction,
                status=s.status,
                reason=s.reason,
                slot=slot,
                actor=f"d{world.device}",
                nonce=f"n{n}",
                device=world.device,
                gate="Gate 3",
                scanned_at=s.at,
                received_at=s.at,
                offline=s.offline,
                conflict=s.conflict,
            )
        )
    if rows:
        await Checkin.insert(*rows)


def random_scans(world: World, rng: random.Random, count: int) -> list[Scan]:
    """Plausible scans over the event's three days: entries, exits on the hall after an entry,
    refusals with a reason, now and then an offline conflict or a code naming no ticket."""
    scans = []
    inside: set[int] = set()
    for _ in range(count):
        day = rng.choice((dt.date(2027, 9, 1), dt.date(2027, 9, 2)))
        at = dt.datetime.combine(
            day, dt.time(rng.randrange(7, 20), rng.randrange(60), rng.randrange(60)), ZONE
        )
        name = rng.choice(list(world.lists))
        ticket = rng.randrange(len(world.tickets))
        roll = rng.random()
        if roll < 0.15:
            reason = rng.choice(REASONS)
            scans.append(
                Scan(
                    name,
                    None if reason == "invalid" else ticket,
                    at,
                    "rejected",
                    reason=reason,
                    conflict=rng.random() < 0.3,
                    offline=rng.random() < 0.5,
                )
            )
        elif name == "hall" and ticket in inside and roll < 0.5:
            scans.append(Scan(name, ticket, at, direction="exit"))
            inside.discard(ticket)
        else:
            scans.append(Scan(name, ticket, at, offline=rng.random() < 0.2))
            if name == "hall":
                inside.add(ticket)
    return scans


def expected(world: World, scans: list[Scan], revoked: set[int], types: dict[int, int]) -> dict:
    """Every figure counted the slow, obvious way."""
    today = NOW.date()
    lists: dict[str, dict] = {}
    allowed = {"exhibitors": {2}}
    valid = [i for i in range(len(world.tickets)) if i not in revoked]
    for name in world.lists:
        mine = [s for s in scans if s.list_name == name]
        entries = [s for s in mine if s.status == "admitted" and s.direction == "entry"]
        exits = [s for s in mine if s.status == "admitted" and s.direction == "exit"]
        balance: Counter[int] = Counter()
        for s in entries + exits:
            if s.ticket is None:
                continue
            if name == "breakfast" and s.at.astimezone(ZONE).date() != today:
                continue
            balance[s.ticket] += 1 if s.direction == "entry" else -1
        eligible = [i for i in valid if name not in allowed or types[i] in allowed[name]]
        came = {s.ticket for s in entries}
        lists[name] = {
            "entries": len(entries),
            "exits": len(exits),
            "people": len({s.ticket for s in entries if s.ticket is not None}),
            "today": sum(1 for s in entries if s.at.astimezone(ZONE).date() == today),
            "inside": sum(1 for v in balance.values() if v > 0),
            "eligible": len(eligible),
            "no_shows": len([i for i in eligible if i not in came]),
            "rejected": sum(1 for s in mine if s.status == "rejected"),
            "by_reason": dict(sorted(Counter(s.reason for s in mine if s.status == "rejected").items())),
            "conflicts": sum(1 for s in mine if s.conflict),
            "offline": sum(1 for s in mine if s.offline),
        }
    hours: dict[tuple[str, dt.datetime], list[int]] = defaultdict(lambda: [0, 0])
    for s in scans:
        if s.status == "admitted":
            hour = s.at.astimezone(ZONE).replace(minute=0, second=0, microsecond=0)
            hours[(s.list_name, hour)][0 if s.direction == "entry" else 1] += 1
    ever = {s.ticket for s in scans if s.status == "admitted" and s.direction == "entry"}
    return {
        "lists": lists,
        "hours": dict(hours),
        "totals": {
            "tickets": len(valid),
            "admitted": len([i for i in valid if i in ever]),
            "no_shows": len([i for i in valid if i not in ever]),
            "rejected": sum(1 for s in scans if s.status == "rejected"),
            "conflicts": sum(1 for s in scans if s.conflict),
        },
    }


async def test_every_figure_matches_a_count_of_the_log_over_random_families(db):
    world = await attendance_world()
    types = {i: 1 if i < 6 else 2 for i in range(len(world.tickets))}
    names = {v: k for k, v in world.lists.items()}
    for seed in range(6):
        rng = random.Random(seed)
        await Checkin.delete(force=True)
        scans = random_scans(world, rng, rng.randrange(0, 120))
        await write(world, scans)
        got = (await service.figures(world.event, now=NOW.astimezone(dt.UTC))).out
        want = expected(world, scans, {5}, types)
        for item in got.lists:
            name = names[item.id]
            fields = {k: getattr(item, k) for k in want["lists"][name]}
            assert fields == want["lists"][name], (seed, name)
        assert {(names[h.list], h.hour): [h.entries, h.exits] for h in got.hours} == want["hours"], seed
        assert all(h.hour.utcoffset() == dt.timedelta(hours=8) for h in got.hours)
        assert {k: getattr(got.totals, k) for k in want["totals"]} == want["totals"], seed
        assert got.today == NOW.date()


async def test_sessions_show_capacity_and_share(db):
    world = await attendance_world(kind="forum", hall_capacity=4)
    session = EventSession(
        event=world.event,
        title_en="Opening talk",
        title_zh="开幕演讲",
        room="Hall A",
        starts_at=dt.datetime(2027, 9, 1, 9, tzinfo=ZONE),
        ends_at=dt.datetime(2027, 9, 1, 10, tzinfo=ZONE),
        capacity=8,
    )
    await session.save()
    await CheckinList.update({CheckinList.session: session.id}).where(CheckinList.id == world.lists["hall"])
    at = dt.datetime(2027, 9, 1, 9, 5, tzinfo=ZONE)
    await write(
        world,
        [Scan("hall", i, at + dt.timedelta(minutes=i)) for i in range(3)]
        + [Scan("hall", 0, at, direction="exit")],
    )
    got = (await service.figures(world.event, now=NOW, locale="zh")).out
    assert [(s.title, s.room, s.capacity, s.people, s.inside, s.percent) for s in got.sessions] == [
        ("开幕演讲", "Hall A", 8, 3, 2, 38)
    ]
    # without a room capacity, the list's capacity rule counts
    await EventSession.update({EventSession.capacity: 0}).where(EventSession.id == session.id)
    got = (await service.figures(world.event, now=NOW)).out
    assert (got.sessions[0].capacity, got.sessions[0].percent) == (4, 75)


async def test_the_number_of_statements_does_not_grow_with_the_log(db, sent):
    world = await attendance_world()
    rng = random.Random(7)
    await write(world, random_scans(world, rng, 10))
    sent.clear()
    await service.figures(world.event, now=NOW)
    few = len(sent)
    await Checkin.delete(force=True)
    await write(world, random_scans(world, rng, 200))
    sent.clear()
    await service.figures(world.event, now=NOW)
    assert len(sent) == few <= 10


async def test_the_api_answers_staff_and_organizers_only(make_client, db):
    world = await attendance_world()
    await write(world, [Scan("gate", 0, NOW), Scan("gate", None, NOW, "rejected", reason="invalid")])
    url = f"/api/v1/events/{world.event}/attendance"
    for user in (world.staff, world.organizer):
        client = await make_client(world.email(user))
        response = await client.get(url)
        assert response.status_code == 200, response.text
        body = response.json()
        gate = next(item for item in body["lists"] if item["id"] == world.lists["gate"])
        assert (gate["entries"], gate["people"], gate["rejected"], gate["by_reason"]) == (
            1,
            1,
            1,
            {"invalid": 1},
        )
        assert body["time_zone"] == "Asia/Shanghai"
        assert body["hours"][0]["hour"].endswith("+08:00")
    outsider = await make_client(world.email(world.outsider))
    assert (await outsider.get(url)).status_code == 403
    assert (await outsider.get(f"{url}/export")).status_code == 403
    assert (
        await outsider.get(f"/workspace/events/{world.event}/ticketing/attendance/arrivals.svg")
    ).status_code == 403
    anonymous = await make_client()
    assert (await anonymous.get(url)).status_code == 401
    # a holder's own ticket gives no view of the attendance
    holder = await make_client(world.email(world.holders[0]))
    assert (await holder.get(url)).status_code == 403
    # a scanning device's token reaches the scan routes, never the attendance
    device = await make_client()
    device.headers["authorization"] = f"Bearer {DEVICE_TOKEN}"
    for path in (url, f"{url}/export?table=scans"):
        response = await device.get(path)
        assert response.status_code in (401, 403), (path, response.status_code)
        assert set(response.json()) == {"code", "detail", "fields"}
    # another event's staff: the figures of this one stay closed
    staff = await make_client(world.email(world.staff))
    assert (await staff.get(f"/api/v1/events/{world.event + 1000}/attendance")).status_code == 404


async def test_exports_hold_the_figures(make_client, db):
    world = await attendance_world()
    at = dt.datetime(2027, 9, 1, 9, 10, tzinfo=ZONE)
    await write(
        world,
        [
            Scan("gate", 0, at),
            Scan("gate", 1, at + dt.timedelta(minutes=55)),
            Scan("exhibitors", 6, at),
            Scan("gate", 0, at, "rejected", reason="already_checked_in"),
        ],
    )
    await CheckinList.update({CheckinList.name: "=HYPERLINK(1)"}).where(CheckinList.id == world.lists["hall"])
    client = await make_client(world.email(world.organizer))
    url = f"/api/v1/events/{world.event}/attendance/export"

    response = await client.get(url, params={"table": "lists", "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0][:4] == ["List", "Kind", "Entries", "People"]
    assert rows[0][-1] == "already_checked_in"
    assert "'=HYPERLINK(1)" in [r[0] for r in rows]  # a formula in a name is not run by a spreadsheet
    gate = next(r for r in rows if r[0] == "gate")
    assert gate[2:4] == ["2", "2"]
    assert gate[7:9] == ["9", "7"]
    response = await client.get(url, params={"table": "hours"})
    hours = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert hours[1:] == [
        ["2027-09-01 09:00", "gate", "1", "0"],
        ["2027-09-01 09:00", "exhibitors", "1", "0"],
        ["2027-09-01 10:00", "gate", "1", "0"],
    ]

    # no-shows of the exhibitors' list: exhibitor tickets only, the one admitted left out
    response = await client.get(url, params={"table": "no_shows", "list": world.lists["exhibitors"]})
    shows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r[1] for r in shows[1:]] == ["Exhibitor 1", "Exhibitor 2", "Exhibitor 3"]
    # of the event: valid tickets no list admitted (the revoked one is no no-show)
    response = await client.get(url, params={"table": "no_shows"})
    shows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert sorted(r[1] for r in shows[1:]) == [
        "Exhibitor 1",
        "Exhibitor 2",
        "Exhibitor 3",
        "Visitor 3",
        "Visitor 4",
        "Visitor 5",
    ]

    response = await client.get(url, params={"table": "scans", "format": "csv"})
    scans = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert len(scans) == 5
    assert scans[1][0] == "2027-09-01 09:10:00"

    client.cookies.set("podium_lang", "ru")
    response = await client.get(url, params={"table": "all", "format": "xlsx"})
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content), read_only=True)
    assert len(book.sheetnames) == 4
    assert book.sheetnames[0] == "Списки"  # in the reader's language
    first = next(book.worksheets[0].iter_rows(values_only=True))
    assert first[:3] == ("Список", "Вид", "Входы")

    # refusals name the field at fault
    response = await client.get(url, params={"table": "all", "format": "csv"})
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"table"}
    response = await client.get(url, params={"table": "pies"})
    assert response.status_code == 400
    assert "table" in response.json()["fields"]
    response = await client.get(url, params={"format": "pdf"})
    assert response.status_code == 400
    assert "format" in response.json()["fields"]
    other = Event(
        organization=world.organization,
        slug="other-fair",
        kind="fair",
        status="running",
        name_en="Other",
        starts_on=STARTS,
        ends_on=STARTS,
        time_zone="UTC",
    )
    await other.save()
    foreign = CheckinList(event=other.id, name="gate")
    await foreign.save()
    response = await client.get(url, params={"table": "no_shows", "list": foreign.id})
    assert response.status_code == 404


async def test_the_page_draws_the_curve_and_the_tables(make_client, db):
    world = await attendance_world()
    await CheckinList.update({CheckinList.name: "<b>Gate</b>"}).where(CheckinList.id == world.lists["gate"])
    at = dt.datetime(2027, 9, 1, 9, 10, tzinfo=ZONE)
    await write(world, [Scan("gate", i, at + dt.timedelta(minutes=20 * i)) for i in range(5)])
    client = await make_client(world.email(world.staff))
    client.cookies.set("podium_lang", "zh")
    base = f"/workspace/events/{world.event}/ticketing/attendance"
    response = await client.get(base, headers={"accept": "text/html"})
    assert response.status_code == 200
    text = response.text
    assert 'role="img"' in text
    assert "<polyline" in text
    assert "<b>Gate</b>" not in text
    assert "&lt;b&gt;Gate&lt;/b&gt;" in text
    assert "到场" in text  # the page speaks Chinese
    assert "09:00–10:00" in text  # the hours of the curve's table
    svg = await client.get(f"{base}/arrivals.svg", params={"day": "2027-09-01"})
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert svg.text.startswith("<svg")
    assert "&lt;b&gt;Gate&lt;/b&gt; 5" in svg.text
    # a day without entries and a day that is no date fall back to a day with entries
    for day in ("2027-09-03", "not-a-day"):
        again = await client.get(f"{base}/arrivals.svg", params={"day": day})
        assert again.text == svg.text
