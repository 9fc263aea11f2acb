"""Hostile input never reaches a 500 (issue 6, section 4).

Generated, not written per endpoint: every operation of the OpenAPI document gets a valid request
built from its own schema, then one hostile change at a time in each body, query and path field:
one character longer than the column that stores it (lengths from the Piccolo tables), NUL and
control bytes, zero-width-only text, the ends of the calendar, huge numbers; plus a body nested
1,000 deep and bodies that are not JSON. Each answer must be below 500 and carry
``{code, detail, fields}``; a value that is plainly invalid must be refused (4xx). It runs as an
anonymous caller and as a platform admin with a bearer token. Twenty identical creates at once must
not fail with a 500 either (409s are fine).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest
from piccolo.columns import Varchar

from backend.accounts.tables import ApiToken, Invitation, Role, RoleGrant
from backend.app import create_app
from backend.events.tables import EventSession, Stage, Track
from backend.institutions.tables import Institution
from backend.piccolo_app import APP_CONFIG
from backend.settings import get_settings
from backend.teams.tables import Material, Team, TeamMember
from judging.tables import (
    AdvancementRules,
    Appeal,
    Assignment,
    AssignmentRun,
    Award,
    Certificate,
    JudgeConflict,
    Panel,
    PrizeTier,
    RankingRun,
    Recommendation,
    Rubric,
    ScoreSheet,
    ScoreSheetVersion,
    StageEntry,
    StageJudge,
    StageJudging,
    StageResult,
)
from tests.integration.conftest import PASSWORD
from tests.integration.judging_world import CRITERIA

ERROR_KEYS = {"code", "detail", "fields"}
APP = create_app(get_settings())
DOCUMENT = APP.openapi_schema.to_schema()
# The package whose handler serves each operation (backend, judging, ticketing): a body field lands in
# a table of that package, so a column of the same name elsewhere (a check-in's ``reason``) is not its.
PACKAGE_OF = {
    (method, re.sub(r"\{(\w+):[^}]+\}", r"{\1}", route.path)): handler.fn.__module__.split(".")[0]
    for route in APP.routes
    for handler in getattr(route, "route_handlers", ())
    for method in getattr(handler, "http_methods", ())
}
SCHEMAS = DOCUMENT["components"]["schemas"]
# Operations that move an event along its life cycle, delete or log out run last, so that the
# others still find the seeded objects in an editable state and the caller still logged in.
LAST = re.compile(r"/(open|start|close|archive)$")

CONTROL = ["\x00", "a\x00b", "\x01", "\x1b[31m", "\x7f"]
ZERO_WIDTH = ["\u200b", "\u200b\u200c\u200d\ufeff", "\u2060", "\u3164"]
DATES = ["0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01"]
DATE_TIMES = [
    "9999-12-31T23:00:00-12:00",
    "0001-01-01T00:00:00+14:00",
    "9999-12-31T23:59:59",
    "0001-01-01T00:00:00Z",
    "1899-12-31T23:59:59+00:00",
]
HUGE = [10**20, -(10**20), 2**31, 2**63, -1, 1e308]


# The document -------------------------------------------------------------------------------


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """The effective schema: references followed, and Litestar's ``oneOf [T, null]`` with the
    constraints beside it flattened into one dict."""
    if "$ref" in schema:
        schema = {
            **SCHEMAS[schema["$ref"].rsplit("/", 1)[1]],
            **{k: v for k, v in schema.items() if k != "$ref"},
        }
    for key in ("oneOf", "anyOf"):
        if key in schema:
            branch = next((b for b in schema[key] if b.get("type") != "null"), {})
            rest = {k: v for k, v in schema.items() if k != key}
            schema = {**resolve(branch), **rest}
    return schema


def defaults_by_name() -> dict[str, Any]:
    """A property's example value is its non-empty default anywhere in the document."""
    found: dict[str, Any] = {}
    for component in SCHEMAS.values():
        for name, prop in component.get("properties", {}).items():
            if prop.get("default") not in (None, "", [], {}):
                found.setdefault(name, prop["default"])
    return found


DEFAULTS = defaults_by_name()
_counter = itertools.count(1)


def valid_value(name: str, schema: dict[str, Any]) -> Any:
    """A value the schema accepts (and, as far as a schema can tell, the service too)."""
    schema = resolve(schema)
    if name in DEFAULTS:
        return DEFAULTS[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "string":
        if schema.get("format") == "date":
            return "2027-03-01"
        if schema.get("format") == "date-time":
            # the first instant of a body starts, a later one ends
            return "2027-08-01T09:00:00+00:00" if name.startswith("start") else "2027-08-01T10:00:00+00:00"
        n = next(_counter)
        for candidate in (f"a{n}", f"u{n}@example.org", "CN", "zh", "correct horse battery", f"a{n:07d}"):
            if _fits(candidate, schema):
                return candidate
        raise AssertionError(f"no example for {name}: {schema}")
    if kind == "integer":
        return max(int(schema.get("minimum", 1)), 1)
    if kind == "number":
        return 1
    if kind == "boolean":
        return False
    if kind == "array":
        items = resolve(schema.get("items", {}))
        if "enum" in items:  # every choice: the widest valid value (e.g. all token scopes)
            return items["enum"][: schema.get("maxItems", len(items["enum"]))]
        return [valid_value(name, items)]
    if kind == "object":
        return body_for(schema)
    return None


def _fits(value: str, schema: dict[str, Any]) -> bool:
    if not schema.get("minLength", 0) <= len(value) <= schema.get("maxLength", 10**9):
        return False
    return "pattern" not in schema or re.search(schema["pattern"], value) is not None


def body_for(schema: dict[str, Any]) -> dict[str, Any]:
    schema = resolve(schema)
    return {name: valid_value(name, prop) for name, prop in schema.get("properties", {}).items()}


# The tables ---------------------------------------------------------------------------------


def column_lengths(field: str, body_fields: set[str], package: str | None = None) -> set[int]:
    """Lengths of the Varchar columns a body field lands in: the same-named column of every table
    of the operation's package that shares most fields with the body (so EventIn.name_en is checked
    against Event.name_en)."""
    tables = [t for t in APP_CONFIG.table_classes if package is None or t.__module__.split(".")[0] == package]

    def overlap(table: Any) -> int:
        return len(body_fields & {c._meta.name for c in table._meta.columns})

    best = max((overlap(t) for t in tables), default=0)
    lengths = set()
    for table in tables:
        if overlap(table) == best and best > 0:
            for column in table._meta.columns:
                if column._meta.name == field and isinstance(column, Varchar):
                    lengths.add(column.length)
    return lengths


# Requests -----------------------------------------------------------------------------------


@dataclass
class Probe:
    what: str
    method: str
    path: str
    params: dict[str, Any] = field(default_factory=dict)
    body: Any = None
    content: bytes | None = None
    headers: dict[str, str] = field(default_factory=dict)
    must_refuse: bool = True  # a 2xx would be wrong as well as a 5xx

    def label(self) -> str:
        return f"{self.method} {self.path} [{self.what}]"


def mutations(
    name: str, schema: dict[str, Any], body_fields: set[str], package: str | None = None
) -> Iterator[tuple[str, Any, bool]]:
    schema = resolve(schema)
    if schema.get("type") == "string" and "enum" not in schema and "format" not in schema:
        limits = column_lengths(name, body_fields, package) | (
            {schema["maxLength"]} if "maxLength" in schema else set()
        )
        for limit in sorted(limits):
            yield f"{name}: {limit + 1} characters", too_long(name, schema, limit + 1), True
        for text in CONTROL:
            yield f"{name}: control {text!r}", text, True
        for text in ZERO_WIDTH:
            # optional names may be blank; a required one must be refused (checked by the schema)
            yield f"{name}: zero-width {text!r}", text, schema.get("minLength", 0) > 0
    elif schema.get("format") == "date":
        for value in DATES:
            yield f"{name}: {value}", value, True
    elif schema.get("format") == "date-time":
        for value in DATE_TIMES:
            yield f"{name}: {value}", value, True
    elif schema.get("type") in ("integer", "number"):
        for value in HUGE:
            if value == -1 and schema.get("minimum") is None:
                continue
            yield f"{name}: {value}", value, True


def too_long(name: str, schema: dict[str, Any], length: int) -> str:
    """A value of ``length`` characters that breaks nothing but the length (so an e-mail stays an
    e-mail and only the column can refuse it, if the schema does not)."""
    valid = str(valid_value(name, schema))
    padded = "x" * (length - len(valid)) + valid
    return padded if re.search(schema.get("pattern", ""), padded) else "x" * length


def probes_for(method: str, path: str, operation: dict[str, Any], ids: dict[str, int]) -> Iterator[Probe]:
    path_values = {
        p["name"]: ids_for(p["name"], path, ids) for p in operation.get("parameters", []) if p["in"] == "path"
    }
    query_params = {p["name"]: p["schema"] for p in operation.get("parameters", []) if p["in"] == "query"}

    def url(**override: Any) -> str:
        return path.format(**{**path_values, **override})

    body_schema = (
        operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    )
    body = body_for(body_schema) if body_schema else None
    body_fields = set(body or {})
    yield Probe("valid", method, url(), body=body, must_refuse=False)

    properties = resolve(body_schema).get("properties", {}) if body_schema else {}
    for name, schema in properties.items():
        for what, value, refuse in mutations(name, schema, body_fields, PACKAGE_OF[(method, path)]):
            yield Probe(
                f"body {what}", method, url(), body={**body_for(body_schema), name: value}, must_refuse=refuse
            )
    for name, schema in query_params.items():
        for what, value, refuse in mutations(name, schema, set()):
            yield Probe(f"query {what}", method, url(), params={name: value}, body=body, must_refuse=refuse)
    for name in path_values:
        for value in ("0", "-1", str(10**20), "%00", "%E2%80%8B", "1e3"):
            yield Probe(f"path {name}={value}", method, url(**{name: value}), body=body)
    if body_schema:
        deep = b"[" * 1000 + b"]" * 1000
        yield Probe(
            "body nested 1,000 deep",
            method,
            url(),
            content=deep,
            headers={"content-type": "application/json"},
        )
        deep_object = b'{"a":' * 1000 + b"1" + b"}" * 1000
        yield Probe(
            "object nested 1,000 deep",
            method,
            url(),
            content=deep_object,
            headers={"content-type": "application/json"},
        )
        raw = json.dumps(body).encode()
        for media_type in ("text/plain", "application/x-www-form-urlencoded", "application/xml", ""):
            yield Probe(
                f"content type {media_type or 'none'}",
                method,
                url(),
                content=raw,
                headers={"content-type": media_type},
            )


def ids_for(name: str, path: str, ids: dict[str, int]) -> int:
    if name == "event_id" and "/sessions" in path:
        return ids["forum_id"]
    if name == "run_id":  # three kinds of run share the name
        if path.startswith("/api/v1/badge-runs/"):
            return ids["badge_run_id"]
        return ids["ranking_run_id" if path.startswith("/api/v1/ranking-runs/") else "assignment_run_id"]
    return ids[name]


def operations() -> list[tuple[str, str, dict[str, Any]]]:
    ops = [(m.upper(), p, op) for p, item in DOCUMENT["paths"].items() for m, op in item.items()]
    return sorted(ops, key=lambda o: (o[1].endswith("/logout"), o[0] == "DELETE", bool(LAST.search(o[1]))))


def check(probe: Probe, response: httpx.Response, failures: list[str], *, admin: bool = False) -> None:
    """Never a 5xx, every 4xx with the error body, invalid input refused; and a platform admin is
    never turned away at the door (else every probe would only test the authentication)."""
    status = response.status_code
    if status >= 500:
        failures.append(f"{probe.label()}: {status} {response.text[:200]}")
        return
    if status >= 400:
        try:
            body = response.json()
        except ValueError:
            failures.append(f"{probe.label()}: {status} not JSON: {response.text[:200]}")
            return
        if not isinstance(body, dict) or set(body) != ERROR_KEYS or not isinstance(body["fields"], dict):
            failures.append(f"{probe.label()}: {status} {body}")
        elif admin and body["code"] in ("not_authenticated", "insufficient_scope", "csrf_failed"):
            failures.append(f"{probe.label()}: the admin was refused: {body}")
    elif probe.must_refuse and probe.what != "valid":
        failures.append(f"{probe.label()}: accepted with {status}")


async def send(client: httpx.AsyncClient, probe: Probe) -> httpx.Response:
    kwargs: dict[str, Any] = {"params": probe.params, "headers": probe.headers}
    if probe.content is not None:
        kwargs["content"] = probe.content
    elif probe.body is not None and probe.method in ("POST", "PUT", "PATCH"):
        kwargs["json"] = probe.body
    return await client.request(probe.method, probe.path, **kwargs)


# Fixtures -----------------------------------------------------------------------------------


@pytest.fixture
async def seeded(make_user, make_organization, make_event, grant) -> dict[str, int | str]:
    """One of everything a path can name; the admin is not among them, so no probe demotes it."""
    member = await make_user("member@example.org")
    await make_user("admin@example.org", platform_admin=True)
    contest = await make_event("hostile-contest", status="draft")
    forum = await make_event(
        "hostile-forum", kind="forum", starts_on=dt.date(2027, 8, 1), ends_on=dt.date(2027, 8, 2)
    )
    track = Track(event=contest, code="B2C", name_en="Retail", team_min=1, team_max=5)
    stage = Stage(event=contest, position=1, level="school", name_en="School round")
    session = EventSession(
        event=forum,
        title_en="Opening",
        room="A1",
        starts_at=dt.datetime(2027, 8, 1, 9, tzinfo=dt.UTC),
        ends_at=dt.datetime(2027, 8, 1, 10, tzinfo=dt.UTC),
    )
    institution = Institution(name_en="Zhejiang Gongshang University", kind="university", country="CN")
    for row in (track, stage, session, institution):
        await row.save()
    await grant(member, Role.judge, contest)
    grant_id = (await RoleGrant.select(RoleGrant.id).where(RoleGrant.user == member).first())["id"]
    token = ApiToken(user=member, name="member's", token_hash="0" * 64)
    await token.save()
    invitation = Invitation(
        email="invited@example.org",
        role="judge",
        event=contest,
        token_hash="1" * 64,
        expires_at=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
    )
    await invitation.save()
    team = Team(event=contest, track=track.id, name="Hostile", leader=member, join_code="HOSTILE2")
    await team.save()
    seat = TeamMember(
        team=team.id,
        event=contest,
        track=track.id,
        user=member,
        email="member@example.org",
        role="leader",
        state="confirmed",
        joined_via="creation",
    )
    await seat.save()
    material = Material(team=team.id, stage=stage.id, kind="summary", version=1, text="Hostile")
    await material.save()
    judging = await _seed_judging(contest, stage.id, track.id, team.id, member, institution.id)
    tickets = await _seed_tickets(contest, member)  # ticketing.tickets
    badges = await _seed_badges(contest)  # ticketing.badges
    checkin = await _seed_checkin_lists(contest)  # ticketing.lists
    incubator = await _seed_incubator(await make_organization("alliance"), member, team.id, contest)
    return {
        **judging,
        **incubator,
        **tickets,
        **badges,
        **checkin,
        "organization_id": await make_organization("alliance"),
        "event_id": contest,
        "forum_id": forum,
        "track_id": track.id,
        "stage_id": stage.id,
        "session_id": session.id,
        "institution_id": institution.id,
        "user_id": member,
        "grant_id": grant_id,
        "token_id": token.id,
        "invitation_id": invitation.id,
        "slug": "hostile-contest",
        "team_id": team.id,
        "seat_id": seat.id,
        "token": "tinv_hostile",
        "kind": "summary",
        "material_id": material.id,
    }


async def _seed_judging(
    contest: int, stage: int, track: int, team: int, judge: int, institution: int
) -> dict:
    """One of every judging object a path names, in the hostile contest: its stage is scored live in
    a room (``panel_id``) where the team's entry is first, assigned to ``judge`` by an engine run, with
    a sheet; a finished ranking run, the team's open appeal, a recommendation into a second stage, a
    prize with its certificate (``serial``, ``document``) and a conflict the judge declared. Non-id
    path values: a live step the room can take and an export the stage offers."""
    now = dt.datetime.now(dt.UTC)
    following = Stage(event=contest, position=2, level="final", name_en="Final")
    await following.save()
    ranking_run = RankingRun(stage=stage, status="done", method="mean", progress=100, phase="done")
    await ranking_run.save()
    await StageJudging(
        stage=stage,
        event=contest,
        status="scoring",
        live=True,
        assignment_published_at=now,
    ).save()
    await StageJudging(stage=following, event=contest).save()
    rubric = Rubric(stage=stage, version=1, criteria=CRITERIA)
    panel = Panel(stage=stage, name="Hostile room", position=1, phase="closed")
    for row in (rubric, panel):
        await row.save()
    entry = StageEntry(
        stage=stage, event=contest, team=team, track=track, label="E-0001", panel=panel.id, position=1
    )
    await entry.save()
    await StageJudge(stage=stage, user=judge, institution=institution).save()
    assignment_run = AssignmentRun(stage=stage, per_entry=1, report={"conflicts": 0, "components": 1})
    await assignment_run.save()
    assignment = Assignment(stage=stage, stage_entry=entry.id, judge=judge, run=assignment_run.id)
    await assignment.save()
    marks = {c["code"]: c["max"] for c in CRITERIA}
    total = sum(c["weight"] * c["max"] for c in CRITERIA)
    sheet = ScoreSheet(
        assignment=assignment.id,
        stage=stage,
        stage_entry=entry.id,
        judge=judge,
        rubric=rubric.id,
        marks=marks,
        total=total,
    )
    await sheet.save()
    await ScoreSheetVersion(
        sheet=sheet.id, version=1, marks=marks, total=total, author=judge, nonce="hostile"
    ).save()
    await StageResult(
        run=ranking_run.id, stage_entry=entry.id, track=track, rank=1, track_rank=1, score=total, n_judges=1
    ).save()
    appeal = Appeal(
        stage=stage,
        team=team,
        filed_by=judge,
        text="Hostile appeal",
        answer_due_at=now + dt.timedelta(days=10),
    )
    await AdvancementRules(from_stage=stage, to_stage=following.id, rules={}).save()
    recommendation = Recommendation(
        from_stage=stage,
        to_stage=following.id,
        stage_entry=entry.id,
        team=team,
        position=1,
        recommended_by=judge,
    )
    tier = PrizeTier(stage=stage, code="first", name_en="First prize", size=1, position=1)
    conflict = JudgeConflict(event=contest, user=judge, institution=institution, reason="former job")
    for row in (appeal, recommendation, tier, conflict):
        await row.save()
    award = Award(stage=stage, team=team, tier=tier.id, rank=1)
    await award.save()
    serial = "hostileSerial0000000000"
    await Certificate(award=award.id, team=team, user=judge, holder_name="Member", serial=serial).save()
    return {
        "panel_id": panel.id,
        "entry_id": entry.id,
        "assignment_id": assignment.id,
        "assignment_run_id": assignment_run.id,
        "ranking_run_id": ranking_run.id,
        "sheet_id": sheet.id,
        "appeal_id": appeal.id,
        "recommendation_id": recommendation.id,
        "conflict_id": conflict.id,
        "serial": serial,
        "document": f"{serial}.pdf",
        "step": "start-pitch",
        "file": "rankings.csv",
    }


# The incubator's path parameters, each named after what ``seed_programme`` made (incubator).
INCUBATOR_PATH_IDS = {
    "programme_id": "programme",
    "cohort_id": "cohort",
    "startup_id": "startup",
    "mentor_id": "mentor",
    "connection_id": "mentor_cohort",
    "link_id": "mentor_link",
    "slot_id": "slot",
    "booking_id": "booking",
    "meeting_id": "meeting",
    "item_id": "action_item",
    "milestone_id": "milestone",
    "evidence_id": "evidence",
    "promise_id": "promise",
    "delivery_id": "delivery",
    "period_id": "period",
    "report_id": "report",
    "metric_id": "custom_metric",
}


async def _seed_incubator(organization: int, member: int, team: int, contest: int) -> dict:
    """A programme with its whole world (``tests.integration.incubator_world``): the member founds
    its startup; the other people are accounts of no other use here."""
    from backend.accounts.tables import User
    from tests.integration.incubator_world import seed_programme

    people = {"founder": member}
    for who in ("manager", "viewer", "mentor", "other_founder", "cohort_mentor"):
        row = User(
            username=f"{who}@hostile.example", email=f"{who}@hostile.example", password="x", active=True
        )
        await row.save()
        people[who] = row.id
    ids = await seed_programme(organization, people, team=team, event=contest)
    return {name: ids[key] for name, key in INCUBATOR_PATH_IDS.items()}


async def _seed_tickets(contest: int, holder: int) -> dict:
    """A ticket type of the contest and a ticket of it held by ``holder``, signed by key 0."""
    from ticketing import keys
    from ticketing.tables import Ticket, TicketType

    ticket_type = TicketType(event=contest, number=1, kind="judge", name_en="Judge")
    await ticket_type.save()
    day = dt.date(2027, 8, 1)
    serial, code, key_id = await keys.sign_ticket(contest, "judge", 1, day, day)
    ticket = Ticket(
        event=contest, ticket_type=ticket_type.id, serial=serial, code=code, key_id=key_id, holder=holder,
        holder_name="Member", valid_from=day, valid_until=day,
    )  # fmt: skip
    await ticket.save()
    return {"type_id": ticket_type.id, "ticket_id": ticket.id, "key_id": key_id}


async def _seed_badges(contest: int) -> dict:
    """A finished badge run of the contest (its zip is the badges of the contest's tickets)."""
    from ticketing.tables import BadgeRun

    run = BadgeRun(event=contest, format="a6", status="done", total=1, done=1)
    await run.save()
    return {"badge_run_id": run.id}


async def _seed_checkin_lists(contest: int) -> dict:
    """A gate list of the contest and a scanning device on it."""
    from ticketing.tables import CheckinList, Device, DeviceList

    gate = CheckinList(event=contest, name="Gate", kind="gate", rules={})
    await gate.save()
    device = Device(event=contest, name="Scanner", gate="Gate 1", token_hash="0" * 64)
    await device.save()
    await DeviceList(device=device.id, checkin_list=gate.id).save()
    return {"list_id": gate.id, "device_id": device.id}


async def admin_client(make_client) -> httpx.AsyncClient:
    """A platform admin's bearer-token client (no cookies, so no CSRF)."""
    session = await make_client("admin@example.org", PASSWORD)
    schema = DOCUMENT["paths"]["/api/v1/auth/tokens"]["post"]["requestBody"]["content"]["application/json"]
    # without e-mail and password: a token for the session's own user, not a login with credentials
    token_body = {k: v for k, v in body_for(schema["schema"]).items() if k not in ("email", "password")}
    response = await session.post("/api/v1/auth/tokens", json=token_body)
    assert response.status_code == 201, response.text
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_client.app), base_url="http://podium.test"
    )
    client.headers["authorization"] = f"Bearer {response.json()['token']}"
    return client


async def run_all(client: httpx.AsyncClient, ids: dict[str, int], *, admin: bool = False) -> list[str]:
    failures: list[str] = []
    for method, path, operation in operations():
        for probe in probes_for(method, path, operation, ids):
            check(probe, await send(client, probe), failures, admin=admin)
    return failures


# Tests --------------------------------------------------------------------------------------


async def test_anonymous_hostile_input_gets_4xx_error_bodies(make_client, seeded):
    client = await make_client()
    failures = await run_all(client, seeded)
    assert not failures, "\n".join(failures)


async def test_platform_admin_hostile_input_gets_4xx_error_bodies(make_client, seeded):
    client = await admin_client(make_client)
    failures = await run_all(client, seeded, admin=True)
    await client.aclose()
    assert not failures, "\n".join(failures)


async def test_twenty_identical_creates_at_once_never_500(make_client, seeded):
    client = await admin_client(make_client)
    failures: list[str] = []
    for method, path, operation in operations():
        if method != "POST" or "requestBody" not in operation or path.endswith("/login"):
            continue
        probe = next(probes_for(method, path, operation, seeded))
        responses = await asyncio.gather(*[send(client, probe) for _ in range(20)])
        for response in responses:
            check(probe, response, failures, admin=True)
    await client.aclose()
    assert not failures, "\n".join(failures)


def test_every_body_string_fits_the_column_it_lands_in():
    """The schema's maxLength of each body field is at most its column's length."""
    problems = []
    for method, path, operation in operations():
        schema = operation.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
        if not schema:
            continue
        properties = resolve(schema).get("properties", {})
        for name, prop in properties.items():
            prop = resolve(prop)
            if prop.get("type") != "string" or "enum" in prop:
                continue
            for length in column_lengths(name, set(properties), PACKAGE_OF[(method, path)]):
                if prop.get("maxLength", 10**9) > length:
                    problems.append(
                        f"{method} {path} {name}: maxLength {prop.get('maxLength')} > column {length}"
                    )
    assert not problems, "\n".join(problems)


# Focused checks of the same fixes, where the generated probes cannot say enough -------------


async def test_a_body_that_is_not_json_is_415(make_client, admin):
    client = await make_client("admin@example.org")
    body = b'{"organization_id": 1, "kind": "forum", "slug": "plain", "starts_on": "2027-01-01", "ends_on": "2027-01-01", "name_en": "X"}'
    response = await client.post("/api/v1/events", content=body, headers={"content-type": "text/plain"})
    assert response.status_code == 415
    assert response.json()["code"] == "unsupported_media_type"
    response = await client.post("/api/v1/events", content=body, headers={"content-type": "application/json"})
    assert response.status_code == 201


async def test_deep_json_is_refused_before_login(client):
    response = await client.post(
        "/api/v1/auth/login",
        content=b"[" * 100_000 + b"]" * 100_000,
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


async def test_paths_that_cannot_name_a_file_are_404(client):
    for path in ("/static/%00", "/static/podium.css%00", "/static/" + "a" * 300):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert set(response.json()) == ERROR_KEYS


async def test_every_response_forbids_framing_and_sniffing(client):
    for path in (
        "/healthz",
        "/",
        "/login",
        "/api/v1/nothing",
        "/static/podium.css",
        "/admin/",
        "/schema/openapi.json",
    ):
        response = await client.get(path)
        assert response.headers["x-frame-options"] == "DENY", path
        # /schema sends a stricter policy of its own, which forbids framing too
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"].split("; "), path
        assert response.headers["x-content-type-options"] == "nosniff", path
        assert response.headers["referrer-policy"] == "same-origin", path


async def test_searches_take_percent_and_underscore_literally(make_client, admin, make_user):
    await make_user("a_b@example.org", name="Fifty% off")
    await make_user("axb@example.org", name="Fiftyfold")
    for name in ("100% Vocational", "A_B College", "AxB College"):
        await Institution(name_en=name, kind="university", country="CN").save()
    client = await make_client("admin@example.org")

    async def found(url: str, q: str, key: str) -> set[str]:
        response = await client.get(url, params={"q": q})
        assert response.status_code == 200, response.text
        return {item[key] for item in response.json()["items"]}

    assert await found("/api/v1/institutions", "%", "name_en") == {"100% Vocational"}
    assert await found("/api/v1/institutions", "A_B", "name_en") == {"A_B College"}
    assert await found("/api/v1/institutions", "\\", "name_en") == set()
    assert await found("/api/v1/users", "a_b", "email") == {"a_b@example.org"}
    assert await found("/api/v1/users", "y%", "email") == {"a_b@example.org"}


async def test_names_without_visible_characters_are_missing(make_client, admin):
    client = await make_client("admin@example.org")
    event = {
        "organization_id": 1,
        "kind": "forum",
        "slug": "blank",
        "starts_on": "2027-01-01",
        "ends_on": "2027-01-01",
    }
    for blank in ("\u200b", "\u200b \u2060", "\u3164"):
        response = await client.post("/api/v1/events", json={**event, "name_en": blank, "name_zh": " "})
        assert (response.status_code, response.json()["code"]) == (400, "name_required")
        response = await client.post(
            "/api/v1/institutions", json={"kind": "university", "country": "CN", "name_en": blank}
        )
        assert (response.status_code, response.json()["code"]) == (400, "name_required")


async def test_only_iana_time_zones_are_accepted(make_client, admin):
    client = await make_client("admin@example.org")
    event = {
        "organization_id": 1,
        "kind": "forum",
        "starts_on": "2027-01-01",
        "ends_on": "2027-01-01",
        "name_en": "Zones",
    }
    for zone in ("localtime", "Factory", "posixrules"):
        response = await client.post(
            "/api/v1/events", json={**event, "slug": f"tz-{zone.lower()}", "time_zone": zone}
        )
        assert (response.status_code, response.json()["code"]) == (400, "invalid_time_zone"), zone
    response = await client.post(
        "/api/v1/events", json={**event, "slug": "tz-ok", "time_zone": "Europe/Moscow"}
    )
    assert response.status_code == 201


async def test_an_email_longer_than_the_user_name_column_is_refused(make_client, admin):
    client = await make_client("admin@example.org")
    email = "x" * 90 + "@example.org"  # 102 characters: fits the e-mail column, not the user name one
    response = await client.post(
        "/api/v1/users", json={"email": email, "password": "long enough", "display_name": "Long"}
    )
    assert response.status_code == 400
    assert set(response.json()["fields"]) == {"email"}


async def test_the_login_page_refuses_unprintable_credentials_with_its_form(client, admin):
    token = (await client.get("/login")).cookies.get("podium_csrf") or client.cookies["podium_csrf"]
    for email, password in (("\x00", "x"), ("admin@example.org", "\x00"), ("a\x00@example.org", PASSWORD)):
        response = await client.post(
            "/login",
            data={"email": email, "password": password, "_csrf_token": token},
            headers={"accept": "text/html"},
        )
        assert response.status_code == 400, (email, password)
        assert "<form" in response.text


async def test_integer_path_parameters_beyond_the_columns_are_400_before_any_guard(client):
    for path in (
        "/api/v1/events/2147483648/tracks",
        "/api/v1/events/-2147483649/roles",
        "/workspace/events/99999999999",
    ):
        response = await client.get(path, headers={"accept-language": "en"})
        assert response.status_code == 400, path
        assert response.json()["fields"] == {"event_id": "must be at most 2147483647"}
