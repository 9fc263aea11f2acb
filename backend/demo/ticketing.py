"""The demo's tickets and check-in: ticket types and tickets for the contest's live final, the forum,
the fair and the training; a gate list per event and a list per session; a scanning device per event
whose token ``podium demo`` prints; and a morning of scans at the contest's final, the forum and the
fair, with one offline conflict, so the attendance and conflicts pages have something to show.

Everything goes straight into the tables (as ``tests/integration/ticketing_world.py`` does), one
transaction per event, and is found by a natural key before it is made, so a second load, or a load
after an interrupted one, changes nothing it already made. The scans are decided by
``ticketing.rules.evaluate`` against the log as it grows, so every admission, refusal, slot and
``inside`` count is what the scan path itself would have written.

Device tokens are derived from the installation's secret key (HMAC), so every ``podium demo`` prints
the same tokens on one installation and no two installations share them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import random
from base64 import urlsafe_b64encode
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from backend.accounts.tables import Profile, Role, RoleGrant, User
from backend.db import fetch_all, transaction, utcnow
from backend.events.tables import Event, EventSession, Stage, StageLevel
from backend.institutions.tables import Institution
from backend.security import token_digest
from backend.settings import get_settings
from backend.teams.tables import MemberRole, SeatState, TeamMember
from judging.tables import StageEntry, StageJudge
from ticketing import codes, keys, rules
from ticketing.tables import (
    Checkin,
    CheckinList,
    Device,
    DeviceList,
    ListKind,
    Ticket,
    TicketType,
)

ProgressFactory = Callable[[str, int], Callable[[int], None]]
CST = ZoneInfo("Asia/Shanghai")
ORGANIZER, CHECKIN = "organizer@podium.example", "checkin@podium.example"
FINAL_DAY = dt.date(2027, 5, 22)  # the provincial round's live final, at the Expo Center
ROWS_PER_INSERT = 200  # SQLite caps the values of one statement

# (number, kind, zh, en, ru, colour, attention) per event slug.
TYPES: dict[str, list[tuple[int, str, str, str, str, str, bool]]] = {
    "cbec-challenge-2027": [
        (1, "team_member", "决赛选手", "Finalist", "Финалист", "#c1121f", False),
        (2, "advisor", "指导教师", "Advisor", "Наставник", "#f77f00", False),
        (3, "judge", "评委", "Judge", "Член жюри", "#2a9d8f", True),
        (4, "guest", "嘉宾", "Guest", "Гость", "#6a4c93", True),
        (5, "staff", "工作人员", "Staff", "Персонал", "#1d3557", False),
    ],
    "china-asean-cbec-forum-2027": [
        (1, "speaker", "演讲嘉宾", "Speaker", "Докладчик", "#c1121f", True),
        (2, "guest", "参会代表", "Delegate", "Делегат", "#1f6feb", False),
        (3, "staff", "工作人员", "Staff", "Персонал", "#1d3557", False),
    ],
    "e-landing-careers-hangzhou-2027": [
        (1, "visitor", "求职观众", "Visitor", "Посетитель", "#1f6feb", False),
        (2, "exhibitor_staff", "参展企业", "Exhibitor", "Экспонент", "#2a9d8f", False),
        (3, "staff", "工作人员", "Crew", "Персонал", "#1d3557", False),
    ],
    "cbec-teacher-training-2027": [
        (1, "visitor", "学员", "Trainee", "Слушатель", "#1f6feb", False),
        (2, "speaker", "培训讲师", "Trainer", "Преподаватель", "#c1121f", True),
    ],
}
GATES = {  # the gate list of each event: (name, rules)
    "cbec-challenge-2027": ("正门 · Main gate", {"entries_total": 1}),
    "china-asean-cbec-forum-2027": ("主入口 · Main entrance", {"entries_total": None, "entries_per_day": 1}),
    "e-landing-careers-hangzhou-2027": ("体育馆入口 · Gymnasium gate", {"entries_total": 1}),
}
# The device each event's gate staff use (its token is printed), and the fair's second gate.
DEVICES = {
    "cbec-challenge-2027": [("正门扫码 · Main gate scanner", "正门 · Main gate", "all")],
    "china-asean-cbec-forum-2027": [("论坛扫码 · Forum scanner", "", "all")],
    "e-landing-careers-hangzhou-2027": [
        ("北门扫码 · North gate scanner", "北门 · North gate", "all"),
        ("南门扫码 · South gate scanner", "南门 · South gate", "gate"),
    ],
    "cbec-teacher-training-2027": [("培训签到 · Training desk", "", "all")],
}

SURNAMES = [
    ("王", "Wang"), ("李", "Li"), ("张", "Zhang"), ("刘", "Liu"), ("陈", "Chen"), ("杨", "Yang"),
    ("黄", "Huang"), ("赵", "Zhao"), ("吴", "Wu"), ("周", "Zhou"), ("徐", "Xu"), ("孙", "Sun"),
    ("马", "Ma"), ("朱", "Zhu"), ("胡", "Hu"), ("郭", "Guo"), ("何", "He"), ("林", "Lin"),
]  # fmt: skip
GIVEN = [
    ("伟", "Wei"), ("芳", "Fang"), ("娜", "Na"), ("敏", "Min"), ("静", "Jing"), ("磊", "Lei"),
    ("洋", "Yang"), ("艳", "Yan"), ("勇", "Yong"), ("杰", "Jie"), ("涛", "Tao"), ("明", "Ming"),
    ("超", "Chao"), ("秀英", "Xiuying"), ("晓东", "Xiaodong"), ("雪", "Xue"), ("婷", "Ting"),
    ("浩然", "Haoran"), ("子涵", "Zihan"), ("欣怡", "Xinyi"), ("宇轩", "Yuxuan"), ("思远", "Siyuan"),
]  # fmt: skip
RUSSIAN = [
    ("Анна Смирнова", "Anna Smirnova"), ("Иван Петров", "Ivan Petrov"),
    ("Мария Кузнецова", "Maria Kuznetsova"), ("Дмитрий Соколов", "Dmitry Sokolov"),
    ("Екатерина Волкова", "Ekaterina Volkova"), ("Алексей Морозов", "Alexey Morozov"),
]  # fmt: skip
ASEAN = [
    "Nguyen Van An", "Tran Thi Mai", "Siti Aminah", "Ahmad Faizal", "Somchai Jaidee", "Maria Santos",
    "Budi Santoso", "Lim Wei Ling", "Aung Kyaw", "Sokha Chan", "Phan Minh Duc", "Nur Aisyah",
]  # fmt: skip
SPEAKERS = [
    ("王磊", "Wang Lei", "Zhejiang University"),
    ("Екатерина Волкова", "Ekaterina Volkova", "Saint Petersburg State University of Economics"),
    ("Siti Aminah", "Siti Aminah", "Universiti Malaya"),
    ("张晓东", "Zhang Xiaodong", "Alibaba International"),
    ("Nguyen Van An", "Nguyen Van An", "Foreign Trade University, Hanoi"),
    ("李秀英", "Li Xiuying", "Guizhou University of Finance and Economics"),
    ("Somchai Jaidee", "Somchai Jaidee", "Chulalongkorn University"),
    ("陈思远", "Chen Siyuan", "Cainiao Network"),
]


def device_token(slug: str, name: str) -> str:
    """The demo device ``name`` of the event ``slug``'s token: the same on every load of one
    installation (it is derived from the secret key), unguessable without that key."""
    digest = hmac.new(
        get_settings().secret_key.encode(), f"podium demo device {slug} {name}".encode(), hashlib.sha256
    ).digest()
    return "pdv_" + urlsafe_b64encode(digest).decode("ascii").rstrip("=")


def device_tokens() -> list[tuple[str, str, str]]:
    """The demo's scanning devices as (event slug, device name, token), for ``podium demo`` to print."""
    return [
        (slug, name, device_token(slug, name)) for slug, devices in DEVICES.items() for name, *_ in devices
    ]


def chinese_name(rng: random.Random) -> tuple[str, str]:
    surname, latin_surname = rng.choice(SURNAMES)
    given, latin_given = rng.choice(GIVEN)
    return surname + given, f"{latin_surname} {latin_given}"


@dataclass
class Holder:
    """Who a ticket is for: an account, or a name and an address only."""

    key: str  # the e-mail: what finds the ticket again on the next load
    native: str
    latin: str
    institution: str = ""
    user: int | None = None
    team: int | None = None


@dataclass
class _Event:
    """One demo event while its tickets and lists are made."""

    id: int
    slug: str
    starts_on: dt.date
    ends_on: dt.date
    types: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind → ticket type row
    tickets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # kind → ticket rows
    lists: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → list row
    sessions: list[dict[str, Any]] = field(default_factory=list)
    devices: dict[str, dict[str, Any]] = field(default_factory=dict)  # name → device row
    scanned: bool = False  # its scans are in the log already


async def load_ticketing(
    events: dict[str, int], ids: dict[str, int], progress: ProgressFactory | None = None
) -> None:
    """The demo's ticketing (see the module's docstring): ``events`` are the demo events' ids by
    role (contest, forum, fair, training), ``ids`` the demo's accounts by e-mail."""
    step = progress("Tickets and check-in", 4) if progress else (lambda _: None)
    step(0)
    institutions = {
        r["id"]: r["name_zh"] or r["name_en"]
        for r in await Institution.select(Institution.id, Institution.name_zh, Institution.name_en)
    }
    people = _People(ids, institutions)
    await people.read()
    loaders = [
        (events["contest"], _contest),
        (events["forum"], _forum),
        (events["fair"], _fair),
        (events["training"], _training),
    ]
    for done, (event_id, loader) in enumerate(loaders, 1):
        row = await Event.select().where(Event.id == event_id).first()
        assert row is not None
        event = _Event(event_id, row["slug"], row["starts_on"], row["ends_on"])
        event.scanned = await Checkin.exists().where(Checkin.event == event_id)
        async with transaction():
            await loader(event, people, _Signer(event_id))
        step(done)


class _People:
    """The demo's accounts as ticket holders (names from their profiles, institutions by name)."""

    def __init__(self, ids: dict[str, int], institutions: dict[int, str]) -> None:
        self.ids = ids
        self.institutions = institutions
        self.emails = {user: email for email, user in ids.items()}
        self.profiles: dict[int, dict[str, Any]] = {}
        self.names: dict[int, str] = {}

    async def read(self) -> None:
        users = list(self.ids.values())
        for r in await Profile.select(
            Profile.user, Profile.name_native, Profile.name_latin, Profile.institution
        ).where(Profile.user.is_in(users)):
            self.profiles[r["user"]] = r
        for r in await User.select(User.id, User.display_name).where(User.id.is_in(users)):
            self.names[r["id"]] = r["display_name"]

    def holder(self, user: int, *, institution: int | None = None, team: int | None = None) -> Holder:
        """The account ``user`` as a holder: the profile's names, else its display name (``Latin ·
        native`` read as such); the institution given, else the profile's."""
        profile = self.profiles.get(user, {})
        name = self.names.get(user, "")
        latin, _, native = name.partition(" · ")
        native = profile.get("name_native") or native or latin
        latin = profile.get("name_latin") or latin
        where = institution or profile.get("institution")
        return Holder(
            self.emails.get(user, ""), native, latin, self.institutions.get(where, ""), user=user, team=team
        )


class _Signer:
    """Signs an event's codes as ``keys.sign_ticket`` does, with its key read once (and only when a
    ticket is missing, so a load with nothing to add never opens the sealed key)."""

    def __init__(self, event_id: int) -> None:
        self.event_id = event_id
        self.key_id = 0
        self.private: bytes | None = None

    async def sign(
        self, kind: str, number: int, start: dt.date, end: dt.date, flags: codes.Flag
    ) -> tuple[str, str]:
        """A fresh serial (hex) and its signed code."""
        if self.private is None:
            self.key_id, self.private = await keys.signing_key(self.event_id)
        return keys.sign_new(self.event_id, self.key_id, self.private, kind, number, start, end, flags)


# Tickets ------------------------------------------------------------------------------------------


async def _types(event: _Event, valid: dict[str, tuple[dt.date, dt.date]]) -> None:
    """The event's demo ticket types (those missing made), by kind; ``valid`` overrides the
    validity (the event's dates) of some kinds."""
    have = {r["number"]: r for r in await TicketType.select().where(TicketType.event == event.id)}
    for number, kind, zh, en, ru, colour, _ in TYPES[event.slug]:
        if number not in have:
            start, end = valid.get(kind, (event.starts_on, event.ends_on))
            row = TicketType(
                event=event.id,
                number=number,
                kind=kind,
                name_zh=zh,
                name_en=en,
                name_ru=ru,
                colour=colour,
                valid_from=start,
                valid_until=end,
            )
            await row.save()
            have[number] = row.to_dict()
        event.types[kind] = have[number]


async def _issue(event: _Event, signer: _Signer, kind: str, holders: list[Holder]) -> None:
    """A valid ticket of the event's ``kind`` type for each holder without one (by e-mail); the
    event's tickets of that kind, in ``holders``' order, in ``event.tickets[kind]``."""
    ticket_type = event.types[kind]
    attention = next(t[6] for t in TYPES[event.slug] if t[1] == kind)
    flags = codes.Flag.attention if attention else codes.Flag.none
    start = ticket_type["valid_from"] or event.starts_on
    end = ticket_type["valid_until"] or event.ends_on
    have = {
        r["holder_email"]: r for r in await Ticket.select().where(Ticket.ticket_type == ticket_type["id"])
    }
    new = []
    issued = utcnow()
    for h in holders:
        if h.key in have:
            continue
        serial, code = await signer.sign(kind, ticket_type["number"], start, end, flags)
        row = dict(
            event=event.id,
            ticket_type=ticket_type["id"],
            serial=serial,
            code=code,
            key_id=signer.key_id,
            holder=h.user,
            holder_name=h.native,
            holder_latin=h.latin,
            holder_email=h.key,
            institution=h.institution[:300],
            team=h.team,
            source="organizer",
            valid_from=start,
            valid_until=end,
            flags=int(flags),
            status="valid",
            issued_at=issued,
        )
        have[h.key] = row
        new.append(row)
    await _insert("ticket", new)
    if new:
        have = {
            r["holder_email"]: r for r in await Ticket.select().where(Ticket.ticket_type == ticket_type["id"])
        }
    event.tickets[kind] = [have[h.key] for h in holders]


def _named(
    prefix: str, count: int, rng: random.Random, institutions: list[str], *, foreign: int = 0
) -> list[Holder]:
    """``count`` people known by name and address only (``prefix``NNN@podium.example), most with
    Chinese names, one in ``foreign`` with a Russian or an ASEAN one."""
    holders = []
    for i in range(1, count + 1):
        if foreign and i % foreign == 0 and rng.random() < 0.5:
            native, latin = rng.choice(RUSSIAN)
        elif foreign and i % foreign == 0:
            native = latin = rng.choice(ASEAN)
        else:
            native, latin = chinese_name(rng)
        institution = rng.choice(institutions) if institutions else ""
        holders.append(Holder(f"{prefix}{i:03d}@podium.example", native, latin, institution))
    return holders


def _staff(people: _People) -> list[Holder]:
    return [people.holder(people.ids[ORGANIZER]), people.holder(people.ids[CHECKIN])]


async def _universities() -> list[str]:
    rows = await fetch_all(
        "SELECT name_zh, name_en FROM institution WHERE kind IN ('university', 'vocational_college')"
        " ORDER BY id LIMIT 60"
    )
    return [r["name_zh"] or r["name_en"] for r in rows]


async def _insert(table: str, rows: list[dict[str, Any]]) -> None:
    """Rows (dicts with the same keys) into ``table``, a few hundred per statement: the ORM's
    objects and query building cost more than the database does here."""
    if not rows:
        return
    columns = list(rows[0])
    one = "(" + ", ".join("{}" for _ in columns) + ")"
    for start in range(0, len(rows), ROWS_PER_INSERT):
        chunk = rows[start : start + ROWS_PER_INSERT]
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(one for _ in chunk)  # noqa: S608 - names are constants
        await fetch_all(sql, *(row[c] for row in chunk for c in columns))


# Lists and devices --------------------------------------------------------------------------------


async def _lists(event: _Event, session_rules: Callable | None = None) -> list[dict[str, Any]]:
    """The event's gate list (if it has one) and, given ``session_rules`` (a session and the gate
    list's id -> its list's rules), a list per session, those missing made; devices. Returns the
    event's sessions (none without ``session_rules``)."""
    sessions = await _sessions(event.id) if session_rules is not None else []
    have = {r["name"]: r for r in await CheckinList.select().where(CheckinList.event == event.id)}
    wanted: list[tuple[str, str, int | None, dict[str, Any]]] = []
    gate = GATES.get(event.slug)
    if gate:
        wanted.append((gate[0], ListKind.gate.value, None, gate[1]))
    for s in sessions:
        wanted.append((s["title_en"][:100], ListKind.session.value, s["id"], {}))
    for position, (name, kind, session, rules_json) in enumerate(wanted):
        if name not in have:
            if session is not None:
                s = next(x for x in sessions if x["id"] == session)
                rules_json = session_rules(s, have[gate[0]]["id"] if gate else None)
            rules.ListRules.from_json(rules_json)  # the demo's rules are rules
            row = CheckinList(
                event=event.id, name=name, kind=kind, session=session, rules=rules_json, position=position
            )
            await row.save()
            have[name] = row.to_dict() | {"rules": rules_json}
        event.lists[name] = have[name]
    event.sessions = sessions
    await _devices(event)
    return sessions


async def _devices(event: _Event) -> None:
    """The event's demo devices with their derived tokens, on all its lists or its gate only."""
    rows = {r["name"]: r for r in await Device.select().where(Device.event == event.id)}
    for name, gate, reach in DEVICES[event.slug]:
        digest = token_digest(device_token(event.slug, name))
        row = rows.get(name)
        if row is None:
            device = Device(event=event.id, name=name, gate=gate, token_hash=digest)
            await device.save()
            row = device.to_dict()
            gate_list = GATES[event.slug][0] if event.slug in GATES else None
            lists = [found["id"] for n, found in event.lists.items() if reach == "all" or n == gate_list]
            if lists:
                await DeviceList.insert(*(DeviceList(device=row["id"], checkin_list=i) for i in lists))
        elif row["token_hash"] != digest and row["revoked_at"] is None:
            # the secret key changed: the printed token is the one that works
            await Device.update({Device.token_hash: digest}).where(Device.id == row["id"])
        event.devices[name] = row


async def _sessions(event_id: int) -> list[dict[str, Any]]:
    return (
        await EventSession.select()
        .where(EventSession.event == event_id)
        .order_by(EventSession.starts_at)
        .order_by(EventSession.id)
    )


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(CST).replace(tzinfo=None).isoformat(timespec="minutes")


def _session_window(session: dict[str, Any], early: int = 30) -> dict[str, str]:
    return {
        "opens": _local(session["starts_at"] - dt.timedelta(minutes=early)),
        "closes": _local(session["ends_at"]),
    }


# Scans --------------------------------------------------------------------------------------------


class _Log:
    """A morning's scans of one event, decided by ``ticketing.rules`` as they come, then written."""

    def __init__(self, event: _Event) -> None:
        self.event = event
        self.rows: list[dict[str, Any]] = []
        self.history: dict[tuple[int, int], list[rules.PastScan]] = defaultdict(list)
        self.inside: dict[int, int] = defaultdict(int)
        self.parsed: dict[int, rules.ListRules] = {}
        self.count = 0

    def scan(
        self,
        list_name: str,
        ticket: dict[str, Any] | None,
        at: dt.datetime,
        *,
        device: str,
        direction: str = "entry",
        code: str | None = None,
        offline: bool = False,
        received: dt.datetime | None = None,
    ) -> rules.Decision | None:
        """One scan of ``ticket`` (``None``: a code that is no ticket) on the list at ``at`` (local
        naive time) by the named device; returns the decision."""
        checkin_list = self.event.lists[list_name]
        device_row = self.event.devices[device]
        gate = device_row["gate"] or checkin_list["name"]
        moment = at.replace(tzinfo=CST).astimezone(dt.UTC)
        self.count += 1
        row: dict[str, Any] = dict(
            checkin_list=checkin_list["id"],
            event=self.event.id,
            direction=direction,
            actor=f"d{device_row['id']}",
            nonce=f"demo-{self.count:05d}",
            device=device_row["id"],
            gate=gate,
            scanned_at=moment,
            received_at=received.replace(tzinfo=CST).astimezone(dt.UTC) if received else moment,
            offline=offline,
            offline_verdict="admitted" if offline else None,
            ticket=None,
            slot=None,
        )
        if ticket is None:
            self.rows.append(row | dict(status="rejected", reason="invalid", code=code or "", conflict=False))
            return None
        list_rules = self._rules(checkin_list)
        venue: list[rules.PastScan] = []
        if list_rules.after_list is not None:
            venue = self.history[(list_rules.after_list, ticket["id"])]
        key = (checkin_list["id"], ticket["id"])
        decision = rules.evaluate(
            list_rules,
            type_number=self._number(ticket),
            now_local=at,
            direction=direction,
            history=self.history[key],
            venue_entries=venue,
            inside=self.inside[checkin_list["id"]],
            tz=CST,
        )
        row |= dict(ticket=ticket["id"], code=ticket["code"], slot=decision.slot)
        if decision.admitted:
            self.history[key].append(rules.PastScan(direction, moment, gate))
            if list_rules.records_exits():  # as the scan path, which counts who is inside there only
                self.inside[checkin_list["id"]] += 1 if direction == "entry" else -1
            self.rows.append(row | dict(status="admitted", reason=None, conflict=False))
        else:
            self.rows.append(row | dict(status="rejected", reason=decision.reason, conflict=offline))
        return decision

    def _rules(self, checkin_list: dict[str, Any]) -> rules.ListRules:
        found = self.parsed.get(checkin_list["id"])
        if found is None:
            data = checkin_list["rules"]
            data = json.loads(data) if isinstance(data, str | bytes) else data
            found = self.parsed[checkin_list["id"]] = rules.ListRules.from_json(data)
        return found

    def _number(self, ticket: dict[str, Any]) -> int:
        return next(t["number"] for t in self.event.types.values() if t["id"] == ticket["ticket_type"])

    async def write(self) -> None:
        """The log and each list's count of people inside, unless the event has scans already."""
        if not self.rows or self.event.scanned:
            return
        await _insert("checkin", self.rows)
        for list_id, inside in self.inside.items():
            await CheckinList.update({CheckinList.inside: inside}).where(CheckinList.id == list_id)


def _arrivals(
    rng: random.Random, holders: list[dict[str, Any]], share: float, start: dt.datetime, spread: float
) -> list[tuple[dt.datetime, dict[str, Any]]]:
    """Who of ``holders`` comes (``share`` of them) and when: from ``start``, most in the first half
    hour or so, a tail later (a gamma curve of mean ``spread`` minutes), in time order."""
    came = [h for h in holders if rng.random() < share]
    times = [start + dt.timedelta(minutes=min(rng.gammavariate(2.0, spread / 2), 4 * spread)) for _ in came]
    return sorted(
        zip((t.replace(second=rng.randrange(60), microsecond=0) for t in times), came, strict=True),
        key=lambda p: p[0],
    )


def _noise(log: _Log, rng: random.Random, gate: str, device: str, came: list, count: int) -> None:
    """A few refusals at the gate: tickets scanned again a little later, and codes that are none."""
    for at, ticket in rng.sample(came, min(count, len(came))):
        log.scan(gate, ticket, at + dt.timedelta(minutes=rng.randint(2, 40)), device=device)
    for k in range(max(1, count // 3)):
        at = came[rng.randrange(len(came))][0] if came else dt.datetime(2027, 1, 1, 9)
        log.scan(gate, None, at + dt.timedelta(seconds=30), device=device, code=f"HTTPS://SHOP.EXAMPLE/{k}")


# The events ---------------------------------------------------------------------------------------


async def _contest(event: _Event, people: _People, signer: _Signer) -> None:
    """The provincial round's live final: its finalists, their advisors, its judges, guests and staff
    at the Expo Center's main gate, most of them through it between 07:30 and 09:00."""
    final = (
        await Stage.select(Stage.id)
        .where((Stage.event == event.id) & (Stage.level == StageLevel.province.value))
        .first()
    )
    day = (FINAL_DAY, FINAL_DAY)
    await _types(event, {kind: day for kind in ("team_member", "advisor", "judge", "guest", "staff")})
    teams = (
        [
            r["team"]
            for r in await StageEntry.select(StageEntry.team)
            .where(StageEntry.stage == final["id"])
            .order_by(StageEntry.id)
        ]
        if final
        else []
    )
    members = (
        await TeamMember.select(TeamMember.team, TeamMember.user, TeamMember.role)
        .where(
            TeamMember.team.is_in(teams or [0])
            & (TeamMember.state == SeatState.confirmed.value)
            & TeamMember.user.is_not_null()
        )
        .order_by(TeamMember.team)
        .order_by(TeamMember.position)
        .order_by(TeamMember.id)
    )
    advisor_roles = {MemberRole.university_advisor.value, MemberRole.enterprise_advisor.value}
    finalists = [people.holder(m["user"], team=m["team"]) for m in members if m["role"] not in advisor_roles]
    advisors: dict[int, Holder] = {}
    for m in members:
        if m["role"] in advisor_roles and m["user"] not in advisors:
            advisors[m["user"]] = people.holder(m["user"], team=m["team"])
    judges = (
        await StageJudge.select(StageJudge.user, StageJudge.institution)
        .where(StageJudge.stage == (final["id"] if final else 0))
        .order_by(StageJudge.id)
    )
    rng = random.Random("demo-contest-tickets")
    await _issue(event, signer, "team_member", finalists)
    await _issue(event, signer, "advisor", list(advisors.values()))
    await _issue(
        event, signer, "judge", [people.holder(j["user"], institution=j["institution"]) for j in judges]
    )
    await _issue(
        event,
        signer,
        "guest",
        _named("final-guest", 10, rng, ["浙江省商务厅", "杭州市教育局", "中国国际电子商务中心"], foreign=4),
    )
    await _issue(event, signer, "staff", _staff(people))
    await _lists(event)
    if event.scanned:
        return

    log = _Log(event)
    gate, device = GATES[event.slug][0], DEVICES[event.slug][0][0]
    morning = dt.datetime.combine(FINAL_DAY, dt.time(7, 30))
    came = _arrivals(
        rng, event.tickets["judge"] + event.tickets["staff"], 1.0, morning - dt.timedelta(minutes=10), 20
    )
    came += _arrivals(rng, event.tickets["team_member"] + event.tickets["advisor"], 0.95, morning, 35)
    came += _arrivals(rng, event.tickets["guest"], 0.7, morning + dt.timedelta(minutes=50), 15)
    came.sort(key=lambda p: p[0])
    for at, ticket in came:
        log.scan(gate, ticket, at, device=device)
    _noise(log, rng, gate, device, came, 4)
    await log.write()


async def _forum(event: _Event, people: _People, signer: _Signer) -> None:
    """The forum's speakers, delegates and staff; its main entrance (once a day) and a list per
    session (after the entrance, re-entry, the room's capacity, from half an hour before); the
    first morning's scans: the entrance, the opening and the signing ceremony."""
    await _types(event, {})
    rng = random.Random("demo-forum-tickets")
    universities = await _universities()
    speakers = [
        Holder(f"speaker{i:02d}@podium.example", native, latin, where)
        for i, (native, latin, where) in enumerate(SPEAKERS, 1)
    ]
    await _issue(event, signer, "speaker", speakers)
    await _issue(event, signer, "guest", _named("delegate", 140, rng, universities, foreign=5))
    await _issue(event, signer, "staff", _staff(people))
    gate_name = GATES[event.slug][0]

    def session_rules(session: dict[str, Any], gate: int | None) -> dict[str, Any]:
        return {
            "windows": [_session_window(session)],
            "entries_total": 1,
            "reentry_after_exit": True,
            "capacity": session["capacity"] or None,
            "after_list": gate,
        }

    sessions = await _lists(event, session_rules)
    if event.scanned:
        return

    log = _Log(event)
    device = DEVICES[event.slug][0][0]
    day = dt.datetime.combine(event.starts_on, dt.time(8, 0))
    everyone = event.tickets["speaker"] + event.tickets["guest"] + event.tickets["staff"]
    came = _arrivals(rng, everyone, 0.85, day, 30)
    scans: list[tuple[dt.datetime, str, dict[str, Any], str]] = [
        (at, gate_name, t, "entry") for at, t in came
    ]
    opening, signing = (s["title_en"][:100] for s in sessions[:2])
    for at, ticket in came:
        if rng.random() < 0.9:  # into the opening, some leave early, some come back
            seated = max(at, day + dt.timedelta(minutes=30)) + dt.timedelta(minutes=rng.randint(2, 25))
            scans.append((seated, opening, ticket, "entry"))
            if rng.random() < 0.15:
                out = seated + dt.timedelta(minutes=rng.randint(10, 40))
                scans.append((out, opening, ticket, "exit"))
                if rng.random() < 0.5:
                    scans.append((out + dt.timedelta(minutes=rng.randint(3, 15)), opening, ticket, "entry"))
        if rng.random() < 0.6:
            scans.append(
                (
                    day + dt.timedelta(minutes=rng.randint(150, 175), seconds=rng.randrange(60)),
                    signing,
                    ticket,
                    "entry",
                )
            )
    arrived = {t["id"] for _, t in came}
    late = [t for t in everyone if t["id"] not in arrived][:3]
    for k, ticket in enumerate(late):  # straight to a session without passing the entrance
        scans.append((day + dt.timedelta(minutes=50 + k), opening, ticket, "entry"))
    early = came[:2]
    for at, ticket in early:  # at the signing ceremony's door before it opens
        scans.append((at + dt.timedelta(minutes=5), signing, ticket, "entry"))
    scans.sort(key=lambda s: s[0])
    for at, list_name, ticket, direction in scans:
        log.scan(list_name, ticket, at, device=device, direction=direction)
    _noise(log, rng, gate_name, device, came, 3)
    await log.write()


async def _fair(event: _Event, people: _People, signer: _Signer) -> None:
    """The fair's visitors (300), the exhibitors' staff (two per booth, booth01..40 and a colleague)
    and its crew; the gymnasium's gate (once) and the two sessions' lists; the morning at the gate
    from the North and South gates, with one ticket admitted offline at both."""
    fair_day = (event.starts_on, event.ends_on)
    # The crew's passes are valid from the day the demo is loaded, so the scanner can be tried today.
    today = dt.datetime.now(CST).date()
    crew = (today, event.ends_on) if 0 <= (event.ends_on - today).days < codes.MAX_VALID_DAYS else fair_day
    await _types(event, {"staff": crew})
    rng = random.Random("demo-fair-tickets")
    universities = await _universities()
    await _issue(event, signer, "visitor", _named("visitor", 300, rng, universities, foreign=25))
    grants = (
        await RoleGrant.select(RoleGrant.user, RoleGrant.institution)
        .where((RoleGrant.event == event.id) & (RoleGrant.role == Role.exhibitor.value))
        .order_by(RoleGrant.user)
    )
    exhibitors = []
    for g in grants:
        exhibitors.append(people.holder(g["user"], institution=g["institution"]))
        native, latin = chinese_name(rng)
        colleague = exhibitors[-1].key.replace("@", "-2@")
        exhibitors.append(Holder(colleague, native, latin, exhibitors[-1].institution))
    await _issue(event, signer, "exhibitor_staff", exhibitors)
    await _issue(event, signer, "staff", _staff(people))
    gate_name = GATES[event.slug][0]

    def session_rules(session: dict[str, Any], gate: int | None) -> dict[str, Any]:
        return {
            "types": [1],
            "windows": [_session_window(session, early=15)],
            "entries_total": None,
            "capacity": session["capacity"] or None,
            "after_list": gate,
        }

    sessions = await _lists(event, session_rules)
    if event.scanned:
        return

    log = _Log(event)
    north, south = (d[0] for d in DEVICES[event.slug])
    day = event.starts_on
    came = _arrivals(
        rng, event.tickets["exhibitor_staff"], 0.95, dt.datetime.combine(day, dt.time(7, 30)), 20
    )
    came += _arrivals(rng, event.tickets["visitor"], 0.8, dt.datetime.combine(day, dt.time(8, 45)), 45)
    came.sort(key=lambda p: p[0])
    morning = sessions[0]["title_en"][:100] if sessions else None
    conflict = next(t for _, t in came if t["ticket_type"] == event.types["visitor"]["id"])
    sync = dt.datetime.combine(day, dt.time(9, 52))
    scans: list[tuple[dt.datetime, str, dict[str, Any], str, bool]] = []
    for at, ticket in came:
        offline = ticket is conflict
        device = north if offline or rng.random() < 0.6 else south
        scans.append((at, gate_name, ticket, device, offline))
        if morning and ticket["ticket_type"] == event.types["visitor"]["id"]:
            inside = max(at, dt.datetime.combine(day, dt.time(8, 45))) + dt.timedelta(
                minutes=rng.randint(1, 8)
            )
            scans.append((inside, morning, ticket, north, False))
    # The same visitor's code, shared, at the South gate while both gates were offline.
    first = next(s for s in scans if s[2] is conflict)
    scans.append((first[0] + dt.timedelta(minutes=3), gate_name, conflict, south, True))
    # An exhibitor at the session's door: visitors only.
    staff_at_door = event.tickets["exhibitor_staff"][0]
    scans.append((dt.datetime.combine(day, dt.time(9, 5)), morning, staff_at_door, north, False))
    scans.sort(key=lambda s: s[0])
    for at, list_name, ticket, device, offline in scans:
        if list_name is None:
            continue
        log.scan(list_name, ticket, at, device=device, offline=offline, received=sync if offline else None)
    _noise(log, rng, gate_name, north, came, 6)
    await log.write()


async def _training(event: _Event, people: _People, signer: _Signer) -> None:
    """The training's trainees and trainers, and a list per session (each admits a ticket once,
    from half an hour before); it has not started, so no scans."""
    await _types(event, {})
    rng = random.Random("demo-training-tickets")
    universities = await _universities()
    trainers = [
        Holder(f"trainer{i:02d}@podium.example", native, latin, where)
        for i, (native, latin, where) in enumerate(SPEAKERS[:4], 1)
    ]
    await _issue(event, signer, "speaker", trainers)
    await _issue(event, signer, "visitor", _named("trainee", 48, rng, universities, foreign=12))
    await _lists(event, lambda s, _: {"windows": [_session_window(s)], "entries_total": 1})
