"""The caller's profile and consents: every field checked (all problems in one answer), the
institution from the directory, countries by ISO code; consents granted and withdrawn with history."""

from __future__ import annotations

import datetime as dt

from hypothesis import given, settings
from hypothesis import strategies as st

from backend.accounts.profile import is_country
from backend.accounts.tables import Consent
from backend.audit import AuditEntry
from backend.institutions.tables import Institution

PROFILE = {
    "name_native": "Иван Петров",
    "name_latin": "Ivan Petrov",
    "study_status": "graduate",
    "graduation_year": 2024,
    "birth_date": "2001-05-17",
    "country": "RU",
}


async def test_a_profile_is_saved_read_back_and_audited_without_its_values(make_client, make_user):
    await make_user("ivan@example.org")
    client = await make_client("ivan@example.org")
    institution = Institution(name_en="Moscow State University", kind="university", country="RU")
    await institution.save()
    empty = await client.get("/api/v1/me/profile")
    assert empty.status_code == 200
    assert empty.json()["name_native"] == ""
    saved = await client.put("/api/v1/me/profile", json={**PROFILE, "institution_id": institution.id})
    assert saved.status_code == 200, saved.text
    assert (await client.get("/api/v1/me/profile")).json() == saved.json()
    assert saved.json()["institution_id"] == institution.id
    assert saved.json()["birth_date"] == "2001-05-17"
    assert (await client.get("/api/v1/auth/me")).json()["display_name"] == "Иван Петров"
    entry = await AuditEntry.select().where(AuditEntry.action == "profile.update").first()
    assert "2001" not in str(entry["data"])  # the append-only log never holds the values
    changed = await client.put("/api/v1/me/profile", json={**PROFILE, "country": "KZ"})
    assert changed.json()["country"] == "KZ"
    assert changed.json()["institution_id"] is None


async def test_every_wrong_field_is_named_at_once_and_nothing_is_saved(make_client, make_user):
    await make_user("ivan@example.org")
    client = await make_client("ivan@example.org")
    next_year = dt.date.today().year + 1
    wrong = await client.put(
        "/api/v1/me/profile",
        json={
            **PROFILE,
            "country": "XX",
            "institution_id": 999,
            "birth_date": "2999-01-01",
            "graduation_year": next_year,
        },
    )
    assert wrong.status_code == 400
    assert set(wrong.json()["fields"]) == {"country", "institution_id", "birth_date", "graduation_year"}
    for field, value in (
        ("country", "ru"),
        ("study_status", "astronaut"),
        ("graduation_year", 1800),
        ("name_latin", "Иван"),
        ("birth_date", "17.05.2001"),
    ):
        response = await client.put("/api/v1/me/profile", json={**PROFILE, field: value})
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["fields"], (field, response.text)
    assert (await client.get("/api/v1/me/profile")).json()["name_native"] == ""


@settings(max_examples=300)
@given(st.text(min_size=0, max_size=3))
def test_only_iso_countries_pass(code):
    if is_country(code):
        assert len(code) == 2
        assert code.isascii()
        assert code.isupper()
        assert code not in {"EU", "UN", "ZZ"}
    assert all(is_country(c) for c in ("CN", "RU", "US", "KZ", "HK", "TW"))


async def test_consents_are_granted_and_withdrawn_with_their_history(make_client, make_user):
    await make_user("ivan@example.org")
    client = await make_client("ivan@example.org")
    start = (await client.get("/api/v1/me/consents")).json()
    assert start["current"] == dict.fromkeys(
        ("terms", "share_sponsors", "share_employers", "share_incubators"), False
    )
    granted = await client.post(
        "/api/v1/me/consents", json={"share_sponsors": True, "share_employers": False}
    )
    assert granted.status_code == 200
    assert granted.json()["current"]["share_sponsors"] is True
    assert len(granted.json()["history"]) == 1  # an unchanged answer is not recorded again
    withdrawn = (await client.post("/api/v1/me/consents", json={"share_sponsors": False})).json()
    assert withdrawn["current"]["share_sponsors"] is False
    assert [(h["kind"], h["granted"]) for h in withdrawn["history"]] == [
        ("share_sponsors", False),
        ("share_sponsors", True),
    ]
    assert withdrawn["versions"]["share_sponsors"] == "2026-11"
    assert await AuditEntry.count().where(AuditEntry.action == "consent.change") == 2
    terms = await client.post("/api/v1/me/consents", json={"terms": False})
    assert terms.status_code == 400  # the terms are accepted at sign-up, not toggled
    assert await Consent.count() == 2


async def test_the_profile_and_sharing_forms_on_the_account_page(make_client, make_user):
    await make_user("ivan@example.org")
    client = await make_client("ivan@example.org")
    client.cookies.set("podium_lang", "en", domain="podium.test")
    csrf = client.headers["X-Podium-CSRF"]
    page = await client.get("/me")
    assert '<option value="RU">Russia</option>' in page.text
    values = {"_csrf_token": csrf, **{k: str(v) for k, v in PROFILE.items()}}
    refused = await client.post("/me/details", data={**values, "graduation_year": "20x4", "country": "xx"})
    assert refused.status_code == 400
    assert 'id="graduation_year-error"' in refused.text
    assert 'id="country-error"' in refused.text
    assert 'value="Иван Петров"' in refused.text  # what was typed stays
    saved = await client.post("/me/details", data=values)
    assert saved.status_code == 303
    assert (await client.get("/api/v1/me/profile")).json()["graduation_year"] == 2024
    shared = await client.post("/me/consents", data={"_csrf_token": csrf, "share_employers": "on"})
    assert shared.status_code == 303
    current = (await client.get("/api/v1/me/consents")).json()["current"]
    assert (current["share_employers"], current["share_sponsors"]) == (True, False)
    page = await client.get("/me?done=consents")
    assert "Your choices about sharing were saved." in page.text
    assert 'name="share_employers" value="on" checked' in page.text
