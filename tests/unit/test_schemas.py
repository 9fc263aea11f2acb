"""Field rules shared by every API schema: visible names, column lengths, time zones, the calendar."""

from __future__ import annotations

import unicodedata

import msgspec
import pytest

from backend.accounts.schemas import TokenIn, UserIn
from backend.accounts.tables import ApiToken, User
from backend.errors import DomainError
from backend.events.schemas import EventIn, SessionIn
from backend.schemas import has_visible_text, is_time_zone

INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zs", "Zl", "Zp"}


def test_no_character_nobody_sees_counts_as_visible():
    """Every control, format and space character of the Basic Multilingual Plane is invisible."""
    visible = [
        f"U+{cp:04X} {unicodedata.name(chr(cp), '?')}"
        for cp in range(0x10000)
        if unicodedata.category(chr(cp)) in INVISIBLE_CATEGORIES and has_visible_text(chr(cp))
    ]
    assert not visible


@pytest.mark.parametrize("text", ["\u200b", " \u3000\t", "\u200b\u200c\u200d\ufeff", "\u3164", "\u2800", ""])
def test_blank_names_are_empty(text):
    assert not has_visible_text(text)


@pytest.mark.parametrize("text", ["a", "\u200b浙\u200b", "Ж", "\u0661", "é"])
def test_real_names_are_visible(text):
    assert has_visible_text(text)


def test_a_required_name_of_zero_width_characters_is_refused_by_the_schema():
    with pytest.raises(msgspec.ValidationError):
        msgspec.convert({"name": "\u200b\u200d"}, TokenIn)
    assert msgspec.convert({"name": "scanner \u200b"}, TokenIn).name == "scanner \u200b"


def test_string_lengths_come_from_the_columns():
    with pytest.raises(msgspec.ValidationError, match="length <= 100"):
        msgspec.convert({"name": "x" * (ApiToken.name.length + 1)}, TokenIn)
    # an e-mail is also the user name, the shorter of the two columns
    assert User.username.length < User.email.length
    long_email = "x" * (User.username.length - len("@example.org") + 1) + "@example.org"
    with pytest.raises(msgspec.ValidationError, match="email"):
        msgspec.convert({"email": long_email, "password": "long enough", "display_name": "X"}, UserIn)


@pytest.mark.parametrize(
    "name", ["localtime", "Factory", "posixrules", "posix/Europe/Moscow", "Asia/Nowhere", ""]
)
def test_only_iana_zones_are_time_zones(name):
    assert not is_time_zone(name)


@pytest.mark.parametrize("name", ["Asia/Shanghai", "Europe/Moscow", "UTC", "America/Argentina/Buenos_Aires"])
def test_iana_zones_are_time_zones(name):
    assert is_time_zone(name)


@pytest.mark.parametrize(
    ("value", "field"),
    [
        ({"starts_on": "0001-01-01"}, "starts_on"),
        ({"ends_on": "9999-12-31"}, "ends_on"),
    ],
)
def test_dates_outside_the_calendar_are_refused_with_the_field(value, field):
    body = {
        "organization_id": 1,
        "kind": "forum",
        "slug": "x-1",
        "starts_on": "2027-01-01",
        "ends_on": "2027-01-02",
        **value,
    }
    with pytest.raises(DomainError) as refused:
        msgspec.convert(body, EventIn)
    assert refused.value.code == "validation_error"
    assert set(refused.value.fields) == {field}


@pytest.mark.parametrize("instant", ["9999-12-31T23:00:00-12:00", "0001-01-01T00:00:00+14:00"])
def test_instants_that_would_overflow_are_refused(instant):
    with pytest.raises(DomainError) as refused:
        msgspec.convert({"starts_at": instant, "ends_at": "2027-01-01T10:00:00Z"}, SessionIn)
    assert refused.value.fields == {"starts_at": "must lie between 1900-01-01 and 2999-12-31"}


def test_every_date_outside_the_calendar_is_reported_at_once():
    body = {"starts_at": "0001-01-01T00:00:00Z", "ends_at": "9999-12-31T00:00:00Z"}
    with pytest.raises(DomainError) as refused:
        msgspec.convert(body, SessionIn)
    assert refused.value.fields == dict.fromkeys(
        ("starts_at", "ends_at"), "must lie between 1900-01-01 and 2999-12-31"
    )
    assert refused.value.detail == (
        "Invalid input: starts_at: must lie between 1900-01-01 and 2999-12-31; "
        "ends_at: must lie between 1900-01-01 and 2999-12-31"
    )
