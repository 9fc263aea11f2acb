"""Check-in list rules without a database: the JSON form (every wrong field named, a round trip over
random rules, random garbage refused cleanly), each refusal's reason and message, and properties over
random families of rules and scan histories: whatever sequence of scans the rules let through stays
within every limit, admitted entries never share a slot (the unique index never refuses a legitimate
admission), the once/daily fast path decides exactly as the full evaluation does, and a refusal names
the nearest reason (type, time, venue, entries, capacity)."""

from __future__ import annotations

import datetime as dt
import json
import re
import string
from zoneinfo import ZoneInfo

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from ticketing import rules
from ticketing.rules import Decision, ListRules, PastScan, RulesError, Window

SHANGHAI = ZoneInfo("Asia/Shanghai")
ZONES = [SHANGHAI, ZoneInfo("Europe/Moscow"), ZoneInfo("America/New_York"), dt.UTC]
DAY = dt.datetime(2027, 9, 1)


def local(hh: int, mm: int = 0, day: int = 1) -> dt.datetime:
    return dt.datetime(2027, 9, day, hh, mm)


def aware(moment: dt.datetime, tz=SHANGHAI) -> dt.datetime:
    return moment.replace(tzinfo=tz)


def entry(moment: dt.datetime, gate: str = "gate 3", tz=SHANGHAI) -> PastScan:
    return PastScan("entry", aware(moment, tz), gate)


def exit_(moment: dt.datetime, gate: str = "gate 3", tz=SHANGHAI) -> PastScan:
    return PastScan("exit", aware(moment, tz), gate)


def decide(
    r: ListRules, now: dt.datetime, *, history=(), venue=(), direction="entry", type_number=1, inside=0
):
    return rules.evaluate(
        r,
        type_number=type_number,
        now_local=now,
        direction=direction,
        history=list(history),
        venue_entries=list(venue),
        inside=inside,
        tz=SHANGHAI,
    )


def placeholders(message: str) -> set[str]:
    return set(re.findall(r"{(\w+)}", message))


# --- the JSON form ---------------------------------------------------------------------------------


def test_empty_rules_are_the_defaults_and_admit_once():
    assert ListRules.from_json({}) == ListRules()
    assert ListRules().slot_mode() == "once"
    assert ListRules().to_json() == {
        "types": None,
        "windows": [],
        "entries_total": 1,
        "entries_per_day": None,
        "reentry_after_exit": False,
        "capacity": None,
        "after_list": None,
    }


def test_every_wrong_field_is_named_at_once():
    with pytest.raises(RulesError) as caught:
        ListRules.from_json(
            {
                "types": [1, "2", 0, True],
                "windows": [
                    {"opens": "2027-09-01T10:00", "closes": "2027-09-01T09:00"},
                    {"opens": "2027-09-01T10:00+08:00", "closes": "tomorrow"},
                    {"opens": "2027-09-01T10:00"},
                    "9 to 5",
                ],
                "entries_total": 0,
                "entries_per_day": 1.5,
                "reentry_after_exit": "yes",
                "capacity": -3,
                "after_list": "venue",
                "colour": "red",
            }
        )
    assert caught.value.fields == {
        "types[1]": rules.ERR_TYPE_NUMBER,
        "types[2]": rules.ERR_TYPE_NUMBER,
        "types[3]": rules.ERR_TYPE_NUMBER,
        "windows[0].closes": rules.ERR_WINDOW_ORDER,
        "windows[1].opens": rules.ERR_LOCAL_TIME,
        "windows[1].closes": rules.ERR_LOCAL_TIME,
        "windows[2]": rules.ERR_WINDOW_KEYS,
        "windows[3]": rules.ERR_WINDOW,
        "entries_total": rules.ERR_COUNT,
        "entries_per_day": rules.ERR_COUNT,
        "reentry_after_exit": rules.ERR_BOOL,
        "capacity": rules.ERR_COUNT,
        "after_list": rules.ERR_LIST_ID,
        "colour": rules.ERR_UNKNOWN,
    }
    for bad, name, message in [
        ([], "rules", rules.ERR_OBJECT),
        ({"types": []}, "types", rules.ERR_TYPES_EMPTY),
        ({"types": 3}, "types", rules.ERR_TYPES),
        ({"windows": {}}, "windows", rules.ERR_WINDOWS),
        (
            {"windows": [{"opens": "2027-09-01T09:00", "closes": "2027-09-01T10:00"}] * 101},
            "windows",
            rules.ERR_WINDOWS_MANY,
        ),
        (
            {"windows": [{"opens": "2027-09-01 09:00", "closes": "2027-09-01T10:00"}]},
            "windows[0].opens",
            rules.ERR_LOCAL_TIME,
        ),
        (
            {"windows": [{"opens": "2027-02-30T09:00", "closes": "2027-09-01T10:00"}]},
            "windows[0].opens",
            rules.ERR_LOCAL_TIME,
        ),
    ]:
        with pytest.raises(RulesError) as caught:
            ListRules.from_json(bad)
        assert caught.value.fields == {name: message}


def test_nulls_mean_no_limit_and_windows_are_kept_in_order():
    r = ListRules.from_json(
        {
            "entries_total": None,
            "types": [3, 1, 3],
            "windows": [
                {"opens": "2027-09-02T09:00", "closes": "2027-09-02T12:00"},
                {"opens": "2027-09-01T09:00:30", "closes": "2027-09-01T12:00"},
            ],
        }
    )
    assert r.entries_total is None
    assert r.types == frozenset({1, 3})
    assert [w.opens.day for w in r.windows] == [1, 2]
    assert r.to_json()["windows"][0] == {"opens": "2027-09-01T09:00:30", "closes": "2027-09-01T12:00"}
    assert r.slot_mode() == "counted"


local_times = st.datetimes(min_value=dt.datetime(2026, 1, 1), max_value=dt.datetime(2030, 1, 1)).map(
    lambda d: d.replace(microsecond=0)
)


@st.composite
def windows(draw):
    opens = draw(local_times)
    length = draw(st.integers(1, 60 * 24 * 3))
    return Window(opens, opens + dt.timedelta(minutes=length))


counts = st.one_of(st.none(), st.integers(1, 5))
rule_sets = st.builds(
    ListRules,
    types=st.one_of(st.none(), st.frozensets(st.integers(1, 6), min_size=1)),
    windows=st.lists(windows(), max_size=4).map(
        lambda ws: tuple(sorted(ws, key=lambda w: (w.opens, w.closes)))
    ),
    entries_total=counts,
    entries_per_day=counts,
    reentry_after_exit=st.booleans(),
    capacity=counts,
    after_list=st.one_of(st.none(), st.integers(1, 2**40)),
)


@settings(max_examples=100, deadline=None)
@given(rule_sets)
def test_the_json_form_round_trips(r):
    text = json.dumps(r.to_json())
    assert ListRules.from_json(json.loads(text)) == r
    assert r.slot_mode() in ("once", "daily", "counted")


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**64), 2**64)
    | st.floats(allow_nan=False)
    | st.text(max_size=25),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=80, deadline=None)
@given(st.one_of(json_values, st.dictionaries(st.sampled_from(rules._KEYS), json_values, max_size=7)))
def test_random_input_is_read_or_refused_with_the_fields_named(data):
    problems: dict[str, str] = {}
    try:
        r = ListRules.from_json(data)
    except RulesError as error:
        problems = error.fields
        assert problems
    else:
        assert ListRules.from_json(r.to_json()) == r
    for name, message in problems.items():
        assert message in rules.FIELD_MESSAGES
        assert name == "rules" or name in data or name.split("[")[0].split(".")[0] in rules._KEYS


@settings(max_examples=60, deadline=None)
@given(rule_sets, st.sampled_from(rules._KEYS), json_values)
def test_one_wrong_field_is_the_only_one_named(r, key, value):
    data = r.to_json() | {key: value}
    named: set[str] = {key}
    try:
        ListRules.from_json(data)
    except RulesError as error:
        named = {name.split("[")[0].split(".")[0] for name in error.fields}
    assert named == {key}


# --- decisions, one by one -------------------------------------------------------------------------


def test_types_and_windows_give_the_nearest_time():
    r = ListRules(
        types=frozenset({1, 2}),
        windows=(
            Window(local(9), local(12)),
            Window(local(14), local(18)),
            Window(local(9, day=2), local(12, day=2)),
        ),
    )
    assert rules.check_static(r, type_number=1, now_local=local(10)) is None
    assert rules.check_static(r, type_number=3, now_local=local(10)) == Decision(
        False, "not_allowed", rules.MSG_TYPE
    )
    early = rules.check_static(r, type_number=1, now_local=local(8, 30))
    assert (early.reason, early.message, early.params) == (
        "outside_time",
        "Opens at {time}",
        {"time": "09:00"},
    )
    lunch = rules.check_static(r, type_number=1, now_local=local(12))  # closes is excluded
    assert lunch.params == {"time": "14:00"}
    evening = rules.check_static(r, type_number=2, now_local=local(19))
    assert evening.params == {"time": "2027-09-02 09:00"}
    late = rules.check_static(r, type_number=2, now_local=local(13, day=2))
    assert (late.message, late.params) == ("Closed at {time}", {"time": "12:00"})
    assert rules.check_static(r, type_number=2, now_local=local(8, day=3)).params == {
        "time": "2027-09-02 12:00"
    }


def test_once_refuses_the_second_entry_naming_the_first():
    r = ListRules()
    first = decide(r, local(9, 12))
    assert (first.admitted, first.reason, first.slot, first.message) == (True, None, 0, rules.MSG_WELCOME)
    again = decide(r, local(9, 40), history=[entry(local(9, 12))])
    assert (again.reason, again.message) == ("already_checked_in", "Already checked in at {gate} at {time}")
    assert again.params == {"gate": "gate 3", "time": "09:12"}
    assert again.previous == entry(local(9, 12))
    next_day = decide(r, local(8, day=2), history=[entry(local(9, 12))])
    assert next_day.params["time"] == "2027-09-01 09:12"
    # The scan path builds the same refusal from the row its conditional insert ran into.
    assert rules.already_checked_in(entry(local(9, 12)), now_local=local(9, 40), tz=SHANGHAI) == again


def test_daily_counts_local_days_in_the_events_time_zone():
    r = ListRules(entries_total=None, entries_per_day=1)
    assert r.slot_mode() == "daily"
    # 23:30 UTC on 31 August is 07:30 on 1 September in Shanghai.
    early = PastScan("entry", dt.datetime(2027, 8, 31, 23, 30, tzinfo=dt.UTC), "gate 1")
    refused = decide(r, local(12), history=[early])
    assert refused.params == {"gate": "gate 1", "time": "07:30"}
    tomorrow = decide(r, local(0, 5, day=2), history=[early])
    assert tomorrow.admitted
    assert tomorrow.slot == local(0, day=2).date().toordinal()
    assert rules.slot_of(r, local(0, 5, day=2)) == tomorrow.slot
    with pytest.raises(ValueError, match="counted list"):
        rules.slot_of(ListRules(capacity=3), local(9))


def test_several_entries_per_day_and_in_total():
    r = ListRules(entries_total=3, entries_per_day=2)
    assert r.slot_mode() == "counted"
    history = [entry(local(9)), entry(local(10))]
    today = decide(r, local(11), history=history)
    assert (today.reason, today.message, today.params) == (
        "already_checked_in",
        "Already checked in {count} times today",
        {"count": "2"},
    )
    assert today.previous == entry(local(10))
    tomorrow = decide(r, local(9, day=2), history=history)
    assert tomorrow.admitted
    assert tomorrow.slot == 2
    done = decide(r, local(9, day=3), history=[*history, entry(local(9, day=2))])
    assert (done.reason, done.message) == ("already_checked_in", rules.MSG_ALREADY)


def test_exits_and_reentry():
    r = ListRules(entries_total=1, reentry_after_exit=True)
    assert r.slot_mode() == "counted"
    assert decide(r, local(9), direction="exit").message == rules.MSG_NOT_INSIDE
    inside = [entry(local(9))]
    assert decide(r, local(9, 30), history=inside).reason == "already_checked_in"
    out = decide(r, local(10), history=inside, direction="exit")
    assert (out.admitted, out.message, out.slot) == (True, rules.MSG_EXIT, None)
    back = decide(r, local(11), history=[*inside, exit_(local(10))])
    assert back.admitted
    assert back.slot == 1
    # Without re-entry, leaving does not give the entry back.
    strict = ListRules(entries_total=1, capacity=100)
    assert decide(strict, local(11), history=[*inside, exit_(local(10))]).reason == "already_checked_in"
    # Lists that admit once or once a day record no exits.
    for plain in (ListRules(), ListRules(entries_total=None, entries_per_day=1)):
        refused = decide(plain, local(10), history=inside, direction="exit")
        assert (refused.reason, refused.message) == ("not_allowed", rules.MSG_NO_EXITS)
    # Exits are not held to the list's opening hours or types.
    timed = ListRules(
        entries_total=None, capacity=5, windows=(Window(local(9), local(10)),), types=frozenset({2})
    )
    assert decide(timed, local(22), history=inside, direction="exit").admitted


def test_capacity_and_the_venue():
    r = ListRules(entries_total=None, capacity=40, after_list=7)
    venue = [entry(local(8, 55), "main gate")]
    assert decide(r, local(9), venue=venue, inside=39).admitted
    full = decide(r, local(9), venue=venue, inside=40)
    assert (full.reason, full.message, full.params) == (
        "capacity",
        "Full: {capacity} inside",
        {"capacity": "40"},
    )
    nowhere = decide(r, local(9), inside=40)
    assert (nowhere.reason, nowhere.message) == ("not_allowed", "Check in at the venue first")
    left = decide(r, local(9), venue=[*venue, exit_(local(9, 30), "main gate")][::-1])
    assert left.message == rules.MSG_VENUE


def test_an_unknown_direction_is_a_programming_error():
    with pytest.raises(ValueError, match="unknown direction"):
        decide(ListRules(), local(9), direction="sideways")


# --- properties over random rules and histories ----------------------------------------------------

attempts = st.lists(
    st.tuples(
        st.integers(1, 60 * 20),  # minutes since the previous attempt
        st.sampled_from(["entry", "entry", "exit"]),
        st.integers(1, 6),  # ticket type number
        st.integers(0, 6),  # other people inside
        st.booleans(),  # whether the venue was entered before
    ),
    max_size=25,
)


def check_shape(decision: Decision) -> None:
    assert decision.admitted == (decision.reason is None)
    assert decision.reason in (None, "not_allowed", "outside_time", "already_checked_in", "capacity")
    assert decision.message in rules.MESSAGES
    assert placeholders(decision.message) == set(decision.params)
    assert all(isinstance(v, str) for v in decision.params.values())
    assert (decision.previous is not None) == (decision.reason == "already_checked_in")


@settings(max_examples=200, deadline=None)
@given(
    rule_sets,
    attempts,
    st.sampled_from(ZONES),
    st.datetimes(min_value=dt.datetime(2026, 6, 1), max_value=dt.datetime(2029, 1, 1)),
)
def test_whatever_is_admitted_stays_within_the_rules(r, tries, tz, start):
    at = start.replace(tzinfo=dt.UTC)
    history: list[PastScan] = []
    slots: set[int] = set()
    counted_entries = 0
    for minutes, direction, type_number, others, in_venue in tries:
        at += dt.timedelta(minutes=minutes)
        now = at.astimezone(tz).replace(tzinfo=None)
        venue = [PastScan("entry", at - dt.timedelta(minutes=1), "venue")] if in_venue else []
        is_inside = bool(history) and history[-1].direction == "entry"
        inside = others + (1 if is_inside else 0)
        decision = rules.evaluate(
            r,
            type_number=type_number,
            now_local=now,
            direction=direction,
            history=list(history),
            venue_entries=venue,
            inside=inside,
            tz=tz,
        )
        check_shape(decision)
        static = rules.check_static(r, type_number=type_number, now_local=now)
        if direction == "entry" and static is not None:
            assert decision == static  # the nearest reasons come first
        if direction == "entry" and static is None and r.after_list is not None and not in_venue:
            assert (decision.reason, decision.message) == ("not_allowed", rules.MSG_VENUE)
        if not decision.admitted:
            continue
        if direction == "exit":
            assert r.slot_mode() == "counted"
            assert is_inside
            assert decision.slot is None
        else:
            assert static is None
            assert r.after_list is None or in_venue
            assert r.capacity is None or inside < r.capacity
            assert decision.slot is not None
            assert decision.slot not in slots
            slots.add(decision.slot)
            reentry = r.reentry_after_exit and bool(history) and history[-1].direction == "exit"
            if not reentry:
                counted_entries += 1
            assert r.entries_total is None or counted_entries <= r.entries_total
        history.append(PastScan(direction, at, f"gate {minutes % 4}"))
        if r.entries_per_day is not None:
            day = now.date()
            same_day = [s for s in history if s.direction == "entry" and s.at.astimezone(tz).date() == day]
            assert len(same_day) <= r.entries_per_day


fast_rules = st.builds(
    ListRules,
    types=st.one_of(st.none(), st.frozensets(st.integers(1, 6), min_size=1)),
    windows=st.lists(windows(), max_size=3).map(
        lambda ws: tuple(sorted(ws, key=lambda w: (w.opens, w.closes)))
    ),
    entries_total=st.sampled_from([1, None]),
    entries_per_day=st.sampled_from([None, 1, 2]),
)


@settings(max_examples=200, deadline=None)
@given(
    fast_rules,
    st.lists(st.datetimes(min_value=dt.datetime(2026, 6, 1), max_value=dt.datetime(2026, 6, 8)), max_size=6),
    st.datetimes(min_value=dt.datetime(2026, 6, 1), max_value=dt.datetime(2026, 6, 9)),
    st.integers(1, 6),
    st.sampled_from(ZONES),
)
def test_the_fast_path_decides_as_the_full_evaluation(r, earlier, now_utc, type_number, tz):
    """On once/daily lists the scan path checks types and windows and then lets the unique index of
    (list, ticket, slot) decide; that must be exactly what evaluate says for every history."""
    mode = r.slot_mode()
    assume(mode != "counted")
    history = [PastScan("entry", moment.replace(tzinfo=dt.UTC), "g") for moment in sorted(earlier)]
    now = now_utc.replace(tzinfo=dt.UTC).astimezone(tz).replace(tzinfo=None)
    full = rules.evaluate(
        r,
        type_number=type_number,
        now_local=now,
        direction="entry",
        history=history,
        venue_entries=[],
        inside=0,
        tz=tz,
    )
    static = rules.check_static(r, type_number=type_number, now_local=now)
    if static is not None:
        assert full == static
        return

    def slot(scan: PastScan) -> int:
        return 0 if mode == "once" else scan.at.astimezone(tz).date().toordinal()

    taken = [s for s in history if slot(s) == rules.slot_of(r, now)]
    if taken:
        assert full == rules.already_checked_in(taken[-1], now_local=now, tz=tz)
    else:
        assert full.admitted
        assert full.slot == rules.slot_of(r, now)


@settings(max_examples=100, deadline=None)
@given(rule_sets, local_times, st.integers(1, 6))
def test_check_static_is_what_evaluate_answers_first(r, now, type_number):
    static = rules.check_static(r, type_number=type_number, now_local=now)
    full = rules.evaluate(
        r,
        type_number=type_number,
        now_local=now,
        direction="entry",
        history=[],
        venue_entries=[],
        inside=10**7,
        tz=dt.UTC,
    )
    if static is not None:
        assert full == static
        type_ok = r.types is None or type_number in r.types
        assert static.reason == ("outside_time" if type_ok else "not_allowed")
        if static.reason == "outside_time":
            assert not any(w.opens <= now < w.closes for w in r.windows)
    else:
        assert full.reason != "outside_time"


def test_messages_are_plain_ids():
    for message in (*rules.MESSAGES, *rules.FIELD_MESSAGES):
        assert set(message) <= set(string.printable)
        assert "{" not in message or placeholders(message)
