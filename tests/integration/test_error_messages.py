"""Errors for people: every wrong field at once, with a message a person can act on, in the request's
language (zh, en, ru), and never msgspec's words for programmers."""

from __future__ import annotations

import ast
import random
import re
from pathlib import Path
from typing import Any

import msgspec.inspect as mi
import pytest

from backend.accounts.tables import Role
from backend.audit import AuditEntry
from backend.events.tables import Event, Track
from backend.i18n import LANG_COOKIE, translations
from backend.schemas import PATTERN_MESSAGES

BACKEND = Path(__file__).resolve().parents[2] / "backend"
ERROR_KEYS = {"code", "detail", "fields"}
# What must never reach a person: msgspec's and Litestar's own wording.
PROGRAMMER_WORDS = re.compile(r"Expected `|\$\.|Object missing|Object contains|Validation failed for")


def english(client) -> None:
    client.cookies.set(LANG_COOKIE, "en")


def event_body(organization_id: int, **changes: Any) -> dict[str, Any]:
    body = {
        "organization_id": organization_id,
        "kind": "contest",
        "slug": "spring-cup",
        "starts_on": "2027-03-01",
        "ends_on": "2027-07-25",
        "name_en": "Spring cup",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not DROP}


DROP = object()


def assert_error_body(response, status: int = 400, code: str = "validation_error") -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == ERROR_KEYS, body
    assert body["code"] == code, body
    for text in (body["detail"], *body["fields"].values()):
        assert text, body
        assert not PROGRAMMER_WORDS.search(text), body
    return body


# Every wrong field at once ---------------------------------------------------------------------


async def test_every_wrong_field_of_a_body_is_reported_at_once(make_client, admin, make_organization):
    organization = await make_organization()
    client = await make_client("admin@example.org")
    english(client)
    response = await client.post(
        "/api/v1/events",
        json=event_body(
            organization,
            kind="party",
            slug="Not A Slug",
            starts_on="2027-02-30",
            ends_on=DROP,
            name_en="x" * 301,
            colour="red",
        ),
    )
    body = assert_error_body(response)
    assert body["fields"] == {
        "kind": "must be one of: contest, forum, fair, training",
        "slug": "may contain only lower-case letters, digits and hyphens, and must not start with a hyphen",
        "starts_on": "2027-02-30 is not a date",
        "ends_on": "is required",
        "name_en": "must be at most 300 characters",
        "colour": "is not a field of this request",
    }
    assert body["detail"].startswith("Invalid input: ")
    for field, message in body["fields"].items():
        assert f"{field}: {message}" in body["detail"]
    assert await Event.count() == 0


async def test_every_wrong_query_parameter_is_reported_at_once(client):
    english(client)
    response = await client.get("/api/v1/events", params={"limit": "100000", "kind": "party", "offset": "-1"})
    body = assert_error_body(response)
    assert body["fields"] == {
        "limit": "must be between 1 and 500",
        "kind": "must be one of: contest, forum, fair, training",
        "offset": "must be between 0 and 10000000",
    }


async def test_a_body_that_is_no_object_and_types_that_do_not_fit(make_client, admin, make_organization):
    organization = await make_organization()
    client = await make_client("admin@example.org")
    english(client)
    not_object = await client.post("/api/v1/events", json=["a", "list"])
    assert assert_error_body(not_object)["fields"] == {"body": "must be an object"}
    for nothing in (b"", b"null"):
        missing = await client.post(
            "/api/v1/events", content=nothing, headers={"content-type": "application/json"}
        )
        assert assert_error_body(missing)["fields"] == {"body": "is required"}
    types = await client.post(
        "/api/v1/events",
        json={
            **event_body(organization),
            "organization_id": "first",
            "slug": 7,
            "starts_on": "soon",
            "ends_on": None,
        },
    )
    assert assert_error_body(types)["fields"] == {
        "organization_id": "must be a whole number",
        "slug": "must be text",
        "starts_on": "must be a date written YYYY-MM-DD, such as 2027-03-01",
        "ends_on": "is required",
    }


async def test_a_bad_e_mail_address_and_a_short_password(make_client, admin):
    client = await make_client("admin@example.org")
    english(client)
    response = await client.post(
        "/api/v1/users",
        json={"email": "not-an-address", "password": "short", "display_name": "", "locale": "fr"},
    )
    assert assert_error_body(response)["fields"] == {
        "email": "is not a valid e-mail address",
        "password": "must be at least 8 characters",
        "display_name": "must not be empty",
        "locale": "must be one of: zh, en, ru",
    }


async def test_dates_outside_the_calendar_are_all_reported(make_client, admin, make_organization):
    organization = await make_organization()
    client = await make_client("admin@example.org")
    english(client)
    response = await client.post(
        "/api/v1/events", json=event_body(organization, starts_on="0001-01-01", ends_on="9999-12-31")
    )
    assert assert_error_body(response)["fields"] == dict.fromkeys(
        ("starts_on", "ends_on"), "must lie between 1900-01-01 and 2999-12-31"
    )


async def test_the_rules_across_an_events_fields_are_all_reported(make_client, admin, make_organization):
    """The service's own checks (dates, a name in some language, the time zone) at once too."""
    organization = await make_organization()
    client = await make_client("admin@example.org")
    english(client)
    response = await client.post(
        "/api/v1/events",
        json=event_body(
            organization, starts_on="2027-07-25", ends_on="2027-03-01", name_en=" ", time_zone="Mars/Olympus"
        ),
    )
    body = assert_error_body(response, code="invalid_dates")
    assert body["fields"] == {
        "ends_on": "must not be before the start date",
        "name_en": "give the event a name in at least one language",
        "time_zone": "is not a time zone such as Asia/Shanghai",
    }
    assert body["detail"] == "Invalid input: " + "; ".join(f"{k}: {v}" for k, v in body["fields"].items())
    # one problem alone keeps its own code and words
    one = await client.post("/api/v1/events", json=event_body(organization, time_zone="Mars/Olympus"))
    assert assert_error_body(one, code="invalid_time_zone")["detail"] == (
        "Mars/Olympus is not a time zone such as Asia/Shanghai"
    )
    assert await Event.count() == 0


async def test_both_times_without_an_offset_are_reported(make_client, make_user, make_event, grant):
    forum = await make_event("spring-forum", kind="forum")
    await grant(await make_user("host@example.org"), Role.organizer, forum)
    client = await make_client("host@example.org")
    english(client)
    response = await client.post(
        f"/api/v1/events/{forum}/sessions",
        json={"starts_at": "2027-03-01T09:00:00", "ends_at": "2027-03-01T10:00:00", "title_en": "Opening"},
    )
    body = assert_error_body(response, code="naive_datetime")
    assert body["fields"] == {"starts_at": "no time zone", "ends_at": "no time zone"}


async def test_refusals_of_the_life_cycle_are_grammatical(
    make_client, organizer, make_event, make_user, grant
):
    _, event = organizer
    client = await make_client("organizer@example.org")
    english(client)
    opened = await client.post(f"/api/v1/events/{event}/open")
    assert assert_error_body(opened, code="incomplete_structure")["detail"] == (
        "Add at least one track before opening the contest"
    )
    running = await make_event("running-cup", status="running")
    await grant((await make_user("runner@example.org")), Role.organizer, running)
    runner = await make_client("runner@example.org")
    english(runner)
    expected = {
        "open": "The event is running; only a draft event can be opened",
        "start": "The event is running; only an open event can be started",
        "archive": "The event is running; only a closed event can be archived",
    }
    before = await AuditEntry.count()
    for step, detail in expected.items():
        response = await runner.post(f"/api/v1/events/{running}/{step}")
        if response.status_code == 403:  # archiving is the organization admin's (not this organizer's)
            continue
        assert assert_error_body(response, 409, "invalid_transition")["detail"] == detail
    assert await AuditEntry.count() == before


# Languages ------------------------------------------------------------------------------------


async def test_messages_follow_accept_language_when_nothing_else_chooses(client):
    cases = {
        "en": ("Invalid input: ", "must be at most 255 characters", "is not a field of this request"),
        "zh-CN,zh;q=0.9": ("输入有误：", "最多 255 个字符", "不是此请求的字段"),
        "ru-RU,ru;q=0.9,en;q=0.5": (
            "Неверные данные: ",
            "должно быть не длиннее 255 символов",
            "не является полем этого запроса",
        ),
    }
    for header, (detail, too_long, unknown) in cases.items():
        response = await client.post(
            "/api/v1/auth/login",
            json={"email": "x" * 256, "password": "whatever-it-is", "remember": True},
            headers={"accept-language": header},
        )
        body = assert_error_body(response)
        assert body["detail"].startswith(detail), body
        assert body["fields"] == {"email": too_long, "remember": unknown}, body


async def test_messages_follow_the_language_cookie_for_a_logged_in_user(make_client, organizer):
    """The cookie (the language switch) wins over the account's language and the browser's."""
    _, event = organizer
    client = await make_client("organizer@example.org")
    longest = Track.code.length
    expected = {
        "zh": (f"最多 {longest} 个字符", "必须在 1 到 50 之间", "开放大赛报名前，请至少添加一个赛道"),
        "ru": (
            f"должно быть не длиннее {longest} символов",
            "должно быть от 1 до 50",
            "Прежде чем открыть конкурс, добавьте хотя бы одно направление",
        ),
        "en": (
            f"must be at most {longest} characters",
            "must be between 1 and 50",
            "Add at least one track before opening the contest",
        ),
    }
    for language, (too_long, out_of_range, refusal) in expected.items():
        client.cookies.set(LANG_COOKIE, language)
        invalid = await client.post(
            f"/api/v1/events/{event}/tracks",
            json={"code": "B" * (longest + 1), "team_min": 0},
            headers={"accept-language": "de"},
        )
        assert assert_error_body(invalid)["fields"] == {"code": too_long, "team_min": out_of_range}
        refused = await client.post(f"/api/v1/events/{event}/open")
        assert assert_error_body(refused, code="incomplete_structure")["detail"] == refusal


async def test_domain_errors_translate_their_words_too(make_client, organizer, make_event, grant):
    """The event's status inside a sentence is translated with it; a missing object is named."""
    user, _ = organizer
    running = await make_event("running-cup", status="running")
    await grant(user, Role.organizer, running)
    client = await make_client("organizer@example.org")
    client.cookies.set(LANG_COOKIE, "ru")
    again = await client.post(f"/api/v1/events/{running}/start")
    assert assert_error_body(again, 409, "invalid_transition")["detail"] == (
        "Статус мероприятия — «идёт»; начать можно только открытое мероприятие"
    )
    client.cookies.set(LANG_COOKIE, "zh")
    again = await client.post(f"/api/v1/events/{running}/start")
    assert assert_error_body(again, 409, "invalid_transition")["detail"] == (
        "活动状态为“进行中”，只有报名中的活动才能开始"
    )
    missing = await client.get("/api/v1/events/424242")
    assert assert_error_body(missing, 404, "not_found")["detail"] == "活动不存在"
    client.cookies.set(LANG_COOKIE, "en")
    missing = await client.get("/api/v1/events/424242")
    assert assert_error_body(missing, 404, "not_found")["detail"] == "Event not found"


async def test_error_pages_speak_the_readers_language(make_client):
    client = await make_client()
    client.cookies.set(LANG_COOKIE, "ru")
    response = await client.get("/events/424242", headers={"accept": "text/html"})
    assert response.status_code == 404
    assert "Не найдено: мероприятие" in response.text


# Property: random bad bodies -------------------------------------------------------------------

# For each field: values that are wrong for it, whatever else the body holds.
EVENT_FIELD_CORRUPTIONS: dict[str, list[Any]] = {
    "organization_id": ["first", -1, 0, 2**40, 1.5, None, [1]],
    "kind": ["party", 5, None, ["contest"], ""],
    "slug": ["Not A Slug", "-x", 7, "", "x" * 500, None],
    "starts_on": ["2027-02-30", "2027-13-01", "soon", 20270301, "0001-01-01", None],
    "ends_on": ["2027-04-31", "9999-12-31", {}, True, None],
    "name_en": ["x" * 5000, 12, "a\u0000b", ["name"]],
    "time_zone": ["Not a zone!", 5, "", None],
}
TRACK_FIELD_CORRUPTIONS: dict[str, list[Any]] = {
    "code": ["has space", "", "x" * 500, 3, None],
    "team_min": [0, 51, "many", 2.5, None, -3],
    "team_max": [0, 99, "five", [], None],
    "university_advisors_max": [-1, 21, "two"],
    "name_en": ["x" * 5000, 9, "a\u0001b"],
}
USER_FIELD_CORRUPTIONS: dict[str, list[Any]] = {
    "email": ["not-an-address", "a@b", 5, "", None, "x@" + "y" * 300 + ".org"],
    "password": ["short", "", 12345678, "x" * 200, None],
    "display_name": ["", "x" * 5000, 3, None],
    "locale": ["fr", "EN", 1, ""],
}


def _bad_bodies(valid: dict[str, Any], corruptions: dict[str, list[Any]], seed: int, count: int):
    """``count`` bodies, each with a random non-empty set of fields made wrong (changed, dropped when
    required) and sometimes an unknown field; yields (body, the fields that must be reported)."""
    rng = random.Random(seed)
    for _ in range(count):
        body = dict(valid)
        chosen = rng.sample(sorted(corruptions), rng.randint(1, len(corruptions)))
        for name in chosen:
            options = [*corruptions[name], *([DROP] if name in valid else [])]
            value = rng.choice(options)
            if value is DROP:
                body.pop(name, None)
            else:
                body[name] = value
        wrong = set(chosen)
        if rng.random() < 0.3:
            body["unexpected_field"] = rng.choice([1, "x", None])
            wrong.add("unexpected_field")
        # dropping an optional field is no error: only what is really wrong must be named
        wrong = {name for name in wrong if name in body or (name in valid and _required(name))}
        if wrong:
            yield body, wrong


_REQUIRED = {
    "organization_id",
    "kind",
    "slug",
    "starts_on",
    "ends_on",
    "code",
    "email",
    "password",
    "display_name",
}


def _required(name: str) -> bool:
    return name in _REQUIRED


async def _check_property(client, url: str, valid: dict[str, Any], corruptions, seed: int) -> None:
    for body, wrong in _bad_bodies(valid, corruptions, seed, 60):
        response = await client.post(url, json=body)
        assert 400 <= response.status_code < 500, (body, response.status_code, response.text)
        reported = assert_error_body(response, code=response.json()["code"])["fields"]
        assert wrong <= set(reported), (body, wrong, reported)
        assert set(reported) <= wrong, (body, wrong, reported)


async def test_random_bad_bodies_name_every_bad_field_and_never_fail(
    make_client, admin, make_organization, organizer
):
    _, event = organizer
    organization = await make_organization()
    client = await make_client("admin@example.org")
    english(client)
    valid_event = event_body(organization, name_en="Spring cup", time_zone="Asia/Shanghai")
    await _check_property(client, "/api/v1/events", valid_event, EVENT_FIELD_CORRUPTIONS, seed=8)
    valid_track = {"code": "B2C", "team_min": 1, "team_max": 5, "university_advisors_max": 1, "name_en": "x"}
    await _check_property(
        client, f"/api/v1/events/{event}/tracks", valid_track, TRACK_FIELD_CORRUPTIONS, seed=9
    )
    valid_user = {
        "email": "new@example.org",
        "password": "long enough",
        "display_name": "New",
        "locale": "en",
    }
    await _check_property(client, "/api/v1/users", valid_user, USER_FIELD_CORRUPTIONS, seed=10)
    assert await Event.count() == 1  # the organizer's own, nothing more


# The catalogues --------------------------------------------------------------------------------

# The modules whose error messages this area translates (errors.po); others keep their own catalogues.
TRANSLATED_MODULES = (
    "errors.py",
    "schemas.py",
    "http_errors.py",
    "db.py",
    "policy.py",
    "events/service.py",
)
ERROR_CALLS = {"DomainError", "Conflict", "Forbidden", "Taken", "add", "Message", "__init__"}
MESSAGE_CONSTANTS = {"_DENIED_DETAIL", "_REFUSED_TRANSITION", "_HTTP_DETAILS", "_INTERNAL", "INVALID_INPUT"}
MESSAGE_CONSTANTS |= {"OUTSIDE_CALENDAR"}


def _message_ids(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """The string literals a module gives as error details and field messages, and its plural pairs."""
    found: set[str] = set()
    plurals: set[tuple[str, str]] = set()
    tree = ast.parse(path.read_text())

    def strings(node: ast.AST) -> None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            found.add(node.value)
        elif isinstance(node, ast.Dict):
            for value in node.values:
                strings(value)
        elif isinstance(node, ast.IfExp):
            strings(node.body)
            strings(node.orelse)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", "")
            if name == "_plural":
                plurals.add((node.args[0].value, node.args[1].value))  # type: ignore[attr-defined]
            elif name in ERROR_CALLS:
                for arg in node.args:
                    strings(arg)
                for keyword in node.keywords:
                    if keyword.arg in ("fields", "detail", "plural"):
                        strings(keyword.value)
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            target = node.targets[0] if isinstance(node, ast.Assign) else node.target
            if getattr(target, "id", "") in MESSAGE_CONSTANTS:
                strings(node.value)
    # codes and field names (identifiers) are not messages
    messages = {s for s in found if not s.isidentifier() or s in ("required", "unknown", "taken")}
    return messages, plurals


@pytest.mark.parametrize("module", TRANSLATED_MODULES)
@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_every_error_message_of_the_core_is_translated(module, locale):
    t = translations(locale)
    ids, plurals = _message_ids(BACKEND / module)
    if module == "schemas.py":
        ids |= set(PATTERN_MESSAGES.values())
    assert ids, module
    missing = sorted(m for m in ids if t.gettext(m) == m)
    missing += sorted(one for one, many in plurals if t.ngettext(one, many, 5) in (one, many))
    assert not missing, missing


@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_translations_keep_every_placeholder(locale):
    """A translated template that lost or renamed a ``{placeholder}`` would print it raw (or fail)."""
    from babel.messages.pofile import read_po

    path = BACKEND / "translations" / locale / "LC_MESSAGES" / "errors.po"
    with path.open("rb") as f:
        catalog = read_po(f, locale=locale)
    for message in catalog:
        if not message.id:
            continue
        source = message.id if isinstance(message.id, str) else message.id[0]
        targets = message.string if isinstance(message.string, tuple) else (message.string,)
        for target in targets:
            assert target, message.id
            assert set(re.findall(r"{\w+}", target)) == set(re.findall(r"{\w+}", source)), (
                message.id,
                target,
            )


async def test_every_pattern_in_the_api_has_a_message_for_people(make_client):
    """A schema's ``pattern`` reads as its registered message, or as a choice of alternatives."""
    client = await make_client()
    document = (await client.get("/schema/openapi.json")).json()
    patterns: set[str] = set()

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("pattern"), str):
                patterns.add(node["pattern"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(document)
    assert patterns
    alternatives = re.compile(r"^\^\(?((?:[\w-]+\|)*[\w-]+)\)?\$$")
    unexplained = sorted(p for p in patterns if p not in PATTERN_MESSAGES and not alternatives.match(p))
    assert not unexplained, "add to backend.schemas.PATTERN_MESSAGES: " + repr(unexplained)


def test_the_field_checker_knows_every_type_the_api_takes():
    """Each body field's type is one the checker explains (not the generic "is not valid")."""
    explained = (
        mi.StrType,
        mi.IntType,
        mi.FloatType,
        mi.DecimalType,
        mi.BoolType,
        mi.EnumType,
        mi.LiteralType,
        mi.DateType,
        mi.DateTimeType,
        mi.ListType,
        mi.SetType,
        mi.FrozenSetType,
        mi.VarTupleType,
        mi.DictType,
        mi.StructType,
        mi.NoneType,
        mi.AnyType,
    )

    def check(info: mi.Type, where: str) -> None:
        while isinstance(info, mi.Metadata):
            info = info.type
        if isinstance(info, mi.UnionType):
            for option in info.types:
                check(option, where)
            return
        assert isinstance(info, explained), (where, info)
        if isinstance(info, mi.StructType):
            for field in info.fields:
                check(field.type, f"{where}.{field.name}")
        elif isinstance(info, mi.ListType | mi.SetType | mi.FrozenSetType | mi.VarTupleType):
            check(info.item_type, f"{where}[]")

    seen = 0
    for handler in _handlers():
        data = handler.parsed_fn_signature.parameters.get("data")
        if data is None:
            continue
        seen += 1
        check(mi.type_info(data.annotation), handler.handler_name)
    assert seen > 10


def _handlers():
    from litestar.routes import HTTPRoute

    from backend.app import create_app
    from backend.settings import get_settings

    for route in create_app(get_settings()).routes:
        if isinstance(route, HTTPRoute):
            yield from route.route_handlers


def test_a_message_template_fills_plain_names_only():
    """A detail that is an old f-string holding user input is no template: its braces stay, and a
    format spec cannot make the server pad a string to a gigabyte."""
    from backend.errors import DomainError, fill

    assert fill("{what} not found", {"what": "Event"}) == "Event not found"
    assert fill("zone {x:>999999999} {0} {unknown}", {"x": 1}) == "zone {x:>999999999} {0} {unknown}"
    error = DomainError("invalid_time_zone", "Unknown zone {problems:>99999}", fields={"time_zone": "{x}"})
    assert (error.detail, error.fields) == ("Unknown zone {problems:>99999}", {"time_zone": "{x}"})
