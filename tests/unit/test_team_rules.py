"""The contests' registration rules without a database: each rule's refusal (code, limit, field),
the merge of contest, track overrides and track columns, and properties over random rosters (any
sequence of invitations, confirmations and departures that the checks let through keeps the team
within its limits, and the team is complete exactly when the requirements say so)."""

from __future__ import annotations

import datetime as dt

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.errors import DomainError
from backend.teams import rules
from backend.teams.rules import Rules, RulesIn

NOW = dt.datetime(2027, 5, 1, 12, tzinfo=dt.UTC)
CONTEST = {"id": 1, "kind": "contest", "status": "open", "organization": 1}


def refusal(call, *args, **kwargs) -> DomainError:
    with pytest.raises(DomainError) as caught:
        call(*args, **kwargs)
    return caught.value


def test_names_are_checked_against_the_contests_limits_both_at_once():
    limits = Rules(team_name_max=4, entry_title_max=6)
    rules.check_names(limits, " Abcd ", "Title1")  # surrounding spaces do not count
    error = refusal(rules.check_names, limits, "Abcde", "Title12")
    assert error.status_code == 400
    assert error.code == "team_name_too_long"
    assert error.fields == {
        "name": "may have at most 4 characters",
        "entry_title": "may have at most 6 characters",
    }
    assert error.params == {"limit": 4, "title_limit": 6}
    only_title = refusal(rules.check_names, limits, None, "Title12")
    assert (only_title.code, only_title.detail) == (
        "entry_title_too_long",
        "The entry title may have at most 6 characters",
    )


def test_the_registration_window():
    opens, closes = NOW + dt.timedelta(hours=1), NOW + dt.timedelta(days=3)
    window = Rules(registration_opens_at=opens, registration_closes_at=closes)
    early = refusal(rules.check_registration_open, CONTEST, window, NOW)
    assert (early.code, early.status_code) == ("registration_not_open", 409)
    assert early.detail == "Registration opens on 2027-05-01 13:00 UTC"
    rules.check_registration_open(CONTEST, window, opens)
    late = refusal(rules.check_registration_open, CONTEST, window, closes)
    assert late.code == "registration_closed"
    assert late.params == {"closes_at": "2027-05-04 12:00 UTC"}
    for status in ("draft", "running", "closed", "archived"):
        assert refusal(rules.check_registration_open, {**CONTEST, "status": status}, Rules(), NOW).code == (
            "registration_not_open"
        )
    assert refusal(rules.check_registration_open, {**CONTEST, "kind": "forum"}, Rules(), NOW).code == (
        "wrong_event_kind"
    )


def test_member_changes_lock_at_their_own_date_or_else_at_the_deadline():
    team = {"status": "forming"}
    later = Rules(registration_closes_at=NOW, member_changes_lock_at=NOW + dt.timedelta(days=7))
    rules.check_changes_open(team, later, NOW + dt.timedelta(days=1))  # past the deadline, before the lock
    assert (
        refusal(rules.check_changes_open, team, later, NOW + dt.timedelta(days=7)).code
        == "member_changes_locked"
    )
    earlier = Rules(registration_closes_at=NOW, member_changes_lock_at=NOW - dt.timedelta(days=7))
    assert refusal(rules.check_changes_open, team, earlier, NOW - dt.timedelta(days=1)).code == (
        "member_changes_locked"
    )
    deadline_only = Rules(registration_closes_at=NOW)
    assert refusal(rules.check_changes_open, team, deadline_only, NOW).code == "member_changes_locked"
    rules.check_changes_open(team, Rules(), NOW)
    assert refusal(rules.check_changes_open, {"status": "withdrawn"}, Rules(), NOW).code == "team_withdrawn"


def seat(role: str, state: str = "confirmed", position: int = 0) -> dict:
    return {"role": role, "state": state, "position": position}


def test_room_counts_invitations_and_each_advisor_kind_apart():
    limits = Rules(team_max=2, university_advisors_max=1, enterprise_advisors_max=0)
    seats = [seat("leader"), seat("member", "invited")]
    error = refusal(rules.check_room, limits, seats, "member")
    assert (error.code, error.params) == ("team_full", {"limit": 2})
    rules.check_room(limits, seats, "university_advisor")
    full = refusal(
        rules.check_room, limits, [*seats, seat("university_advisor", "invited", 1)], "university_advisor"
    )
    assert (full.code, full.detail) == ("advisors_full", "The team has its 1 university advisors already")
    assert refusal(rules.check_room, limits, seats, "enterprise_advisor").params == {"limit": 0}


def test_advisors_take_the_next_place():
    assert rules.next_position([seat("leader")]) == 1
    assert (
        rules.next_position([seat("university_advisor", position=1), seat("enterprise_advisor", position=3)])
        == 4
    )


def test_age_is_counted_in_completed_years():
    assert rules.age_on(dt.date(2000, 5, 2), dt.date(2035, 5, 1)) == 34
    assert rules.age_on(dt.date(2000, 5, 1), dt.date(2035, 5, 1)) == 35
    assert rules.age_on(dt.date(2000, 2, 29), dt.date(2035, 2, 28)) == 34
    assert rules.age_on(dt.date(2000, 2, 29), dt.date(2035, 3, 1)) == 35


def test_the_track_overrides_the_contest_and_its_columns_override_both():
    contest = {"team_name_max": 20, "approval_required": True, "track_category": "regular"}
    track = {"track_category": "practical", "team_name_max": 12}
    columns = {"team_min": 1, "team_max": 4, "university_advisors_max": 2, "enterprise_advisors_max": 0}
    merged = msgspec.convert({**contest, **track, **columns, "entries_per_advisor_max": 3}, Rules)
    assert (merged.team_name_max, merged.track_category, merged.approval_required) == (12, "practical", True)
    assert (merged.team_min, merged.team_max, merged.advisors_max("enterprise_advisor")) == (1, 4, 0)
    assert merged.entry_title_max == 30  # the default


def test_declared_rules_keep_only_what_was_sent():
    sent = msgspec.json.decode(b'{"team_name_max": 10, "registration_closes_at": null}', type=RulesIn)
    assert msgspec.to_builtins(sent) == {"team_name_max": 10, "registration_closes_at": None}
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"teams_per_person": "many"}', type=RulesIn)
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(b'{"nonsense": 1}', type=RulesIn)
    assert rules.declared('{"age_max": 35}') == {"age_max": 35}  # SQLite hands JSON back as text
    assert rules.declared("[]") == {}


# Properties over random rosters ------------------------------------------------------------------

ROLES = ("member", "university_advisor", "enterprise_advisor")
steps = st.lists(
    st.tuples(
        st.sampled_from(("invite", "confirm", "decline", "leave")), st.sampled_from(ROLES), st.integers(0, 20)
    ),
    max_size=60,
)
limits = st.builds(
    lambda lo, extra, u, e: Rules(
        team_min=lo, team_max=lo + extra, university_advisors_max=u, enterprise_advisors_max=e
    ),
    st.integers(1, 5),
    st.integers(0, 3),
    st.integers(0, 2),
    st.integers(0, 2),
)


@settings(max_examples=300, deadline=None)
@given(limits=limits, steps=steps)
def test_no_sequence_of_changes_breaks_the_limits(limits, steps):
    roster = [seat("leader")]
    for action, role, pick in steps:
        if action == "invite":
            held = [s for s in roster if s["state"] in ("invited", "confirmed")]
            refused = None
            try:
                rules.check_room(limits, held, role)
            except DomainError as error:
                refused = error.code
            if refused is not None:
                assert refused == ("team_full" if role == "member" else "advisors_full")
                continue
            position = rules.next_position(held) if role != "member" else 0
            roster.append(seat(role, "invited", position))
            continue
        candidates = [s for s in roster if s["role"] != "leader" and s["state"] in ("invited", "confirmed")]
        if not candidates:
            continue
        chosen = candidates[pick % len(candidates)]
        if action == "confirm" and chosen["state"] == "invited":
            chosen["state"] = "confirmed"
        elif action in ("decline", "leave"):
            chosen["state"] = "left"
        held = [s for s in roster if s["state"] in ("invited", "confirmed")]
        students = [s for s in held if s["role"] in ("leader", "member")]
        assert len(students) <= limits.team_max
        for kind in ("university_advisor", "enterprise_advisor"):
            assert sum(1 for s in held if s["role"] == kind) <= limits.advisors_max(kind)
        positions = [s["position"] for s in held if s["role"] != "member" and s["role"] != "leader"]
        assert len(positions) == len(set(positions))
    held = [s for s in roster if s["state"] in ("invited", "confirmed")]
    confirmed_students = sum(
        1 for s in held if s["role"] in ("leader", "member") and s["state"] == "confirmed"
    )
    complete = not rules.unmet(limits, held, leader_id=1)
    pending = any(s["state"] == "invited" for s in held)
    assert complete == (limits.team_min <= confirmed_students <= limits.team_max and not pending)
    assert rules.unmet(limits, held, leader_id=None)[0][0] == "leader_missing"
