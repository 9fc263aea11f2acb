"""Sign-up with e-mail confirmation: consents recorded, no account enumeration, unconfirmed accounts
kept out with a clear answer, confirmation links used once and only in time, resends limited."""

from __future__ import annotations

import datetime as dt
import re

from backend.accounts.tables import AccountToken, Consent, Profile, User
from backend.audit import AuditEntry
from backend.mail.tables import OutboxEmail
from tests.integration.conftest import PASSWORD

CONFIRM = re.compile(r"https?://\S+/confirm/(acc_[A-Za-z0-9_-]+)")
ADDRESS = "new.student@example.org"


def signup_body(email: str = ADDRESS, **extra) -> dict:
    return {
        "email": email,
        "password": PASSWORD,
        "name_native": "王小明",
        "name_latin": "Wang Xiaoming",
        "locale": "en",
        "terms": True,
        "share_employers": True,
        **extra,
    }


async def mails_to(address: str) -> list[dict]:
    return (
        await OutboxEmail.select(OutboxEmail.subject, OutboxEmail.body_text)
        .where(OutboxEmail.to_address == address)
        .order_by(OutboxEmail.id, ascending=False)
    )


async def confirm_token(address: str = ADDRESS) -> str:
    return CONFIRM.search((await mails_to(address))[0]["body_text"])[1]


async def signed_up(client, email: str = ADDRESS) -> str:
    """Sign up and return the mailed confirmation token."""
    response = await client.post("/api/v1/accounts/signup", json=signup_body(email))
    assert response.status_code == 202, response.text
    return await confirm_token(email)


async def test_sign_up_records_the_account_profile_and_consents_and_logs_in_once_confirmed(client):
    token = await signed_up(client)
    user = await User.select().where(User.email == ADDRESS).first()
    assert user["email_confirmed_at"] is None
    assert user["display_name"] == "王小明"
    profile = await Profile.select().where(Profile.user == user["id"]).first()
    assert (profile["name_native"], profile["name_latin"]) == ("王小明", "Wang Xiaoming")
    answers = {r["kind"]: (r["granted"], r["version"]) for r in await Consent.select()}
    assert answers == {
        "terms": (True, "2026-11"),
        "share_sponsors": (False, "2026-11"),
        "share_employers": (True, "2026-11"),
        "share_incubators": (False, "2026-11"),
    }
    mail = (await mails_to(ADDRESS))[0]
    assert "48" in mail["body_text"]
    assert mail["subject"].startswith("Confirm")

    login = {"email": ADDRESS, "password": PASSWORD}
    refused = await client.post("/api/v1/auth/login", json=login)
    assert refused.status_code == 403
    assert refused.json()["code"] == "email_unconfirmed"
    wrong = await client.post("/api/v1/auth/login", json={**login, "password": "wrong password"})
    assert wrong.json()["code"] == "invalid_credentials"  # only the password's owner learns more

    assert (await client.post("/api/v1/accounts/confirm", json={"token": token})).status_code == 204
    assert (await client.post("/api/v1/auth/login", json=login)).status_code == 200
    again = await client.post("/api/v1/accounts/confirm", json={"token": token})
    assert again.status_code == 410
    assert again.json()["code"] == "link_used"
    actions = [r["action"] for r in await AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)]
    assert actions[0] == "account.signup"
    assert "auth.login_unconfirmed" in actions
    assert "account.confirm_email" in actions


async def test_signing_up_with_a_taken_address_answers_the_same_and_mails_its_owner(client, make_user):
    await make_user("taken@example.org")
    new = await client.post("/api/v1/accounts/signup", json=signup_body("fresh@example.org"))
    taken = await client.post("/api/v1/accounts/signup", json=signup_body("Taken@Example.org"))
    assert (new.status_code, new.json()) == (taken.status_code, taken.json())
    assert await User.count().where(User.email == "taken@example.org") == 1
    mail = (await mails_to("taken@example.org"))[0]
    assert "已经有" in mail["subject"]
    assert "/password-reset" in mail["body_text"]
    assert not CONFIRM.search(mail["body_text"])
    # repeated sign-ups cannot flood the owner: one mail a minute
    await client.post("/api/v1/accounts/signup", json=signup_body("taken@example.org"))
    assert len(await mails_to("taken@example.org")) == 1


async def test_sign_up_refusals_name_the_field(client):
    no_terms = await client.post("/api/v1/accounts/signup", json=signup_body(terms=False))
    assert no_terms.status_code == 400
    assert no_terms.json()["code"] == "terms_required"
    assert no_terms.json()["fields"] == {"terms": "must be accepted"}
    for field, value in (
        ("email", "not-an-address"),
        ("password", "short"),
        ("name_latin", "王小明"),
        ("name_native", "   "),
        ("locale", "fr"),
    ):
        response = await client.post("/api/v1/accounts/signup", json=signup_body(**{field: value}))
        assert response.status_code == 400, (field, response.text)
        assert field in response.json()["fields"], (field, response.text)
    assert await User.count() == 0
    assert await OutboxEmail.count() == 0


async def test_a_confirmation_link_expires_after_48_hours_and_a_new_one_replaces_it(client):
    token = await signed_up(client)
    await AccountToken.update(
        {AccountToken.expires_at: dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)}, force=True
    )
    expired = await client.post("/api/v1/accounts/confirm", json={"token": token})
    assert expired.status_code == 410
    assert expired.json()["code"] == "link_expired"
    unknown = await client.post("/api/v1/accounts/confirm", json={"token": "acc_nothing"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "link_invalid"

    await AccountToken.update(
        {AccountToken.created_at: dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)}, force=True
    )
    resent = await client.post("/api/v1/accounts/confirm/resend", json={"email": ADDRESS})
    nobody = await client.post("/api/v1/accounts/confirm/resend", json={"email": "nobody@example.org"})
    assert (
        (resent.status_code, resent.json())
        == (nobody.status_code, nobody.json())
        == (
            202,
            {"detail": "If the address has an account that needs it, a message is on its way."},
        )
    )
    fresh = await confirm_token()
    assert fresh != token
    # within a minute of the last link, nothing more is sent
    await client.post("/api/v1/accounts/confirm/resend", json={"email": ADDRESS})
    assert await confirm_token() == fresh
    assert (await client.post("/api/v1/accounts/confirm", json={"token": fresh})).status_code == 204
    assert await User.exists().where(User.email_confirmed_at.is_not_null())


async def test_resends_are_limited_per_address_a_day(client):
    await signed_up(client)
    for _ in range(6):
        await AccountToken.update(
            {AccountToken.created_at: AccountToken.created_at - dt.timedelta(minutes=2)}, force=True
        )
        await client.post("/api/v1/accounts/confirm/resend", json={"email": ADDRESS})
    assert len(await mails_to(ADDRESS)) == 5


async def test_accounts_made_by_admins_and_invitations_are_confirmed(make_client, make_user):
    await make_user("made@example.org")
    assert await User.exists().where(
        (User.email == "made@example.org") & User.email_confirmed_at.is_not_null()
    )
    await make_client("made@example.org")  # logs in


async def english_client(make_client):
    client = await make_client()
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


def form(client, **values) -> dict:
    return {"_csrf_token": client.headers["X-Podium-CSRF"], **values}


async def test_the_sign_up_pages_confirm_and_log_in(make_client):
    client = await english_client(make_client)
    assert (await client.get("/signup")).status_code == 200
    refused = await client.post(
        "/signup", data=form(client, email="bad", password="short", password_again="", name_latin="王")
    )
    assert refused.status_code == 400
    for message in ("Enter a valid e-mail address.", "Use 8 to 128 characters.", "Accept the terms of use"):
        assert message in refused.text
    assert await User.count() == 0
    values = {
        "email": ADDRESS,
        "password": PASSWORD,
        "password_again": PASSWORD,
        "name_native": "Ann Lee",
        "name_latin": "Ann Lee",
        "terms": "on",
        "share_incubators": "on",
    }
    sent = await client.post("/signup", data=form(client, **values))
    assert sent.status_code == 200
    assert "Check your mail" in sent.text
    login = await client.post("/login", data=form(client, email=ADDRESS, password=PASSWORD))
    assert login.status_code == 403
    assert f'href="/confirm?email={ADDRESS.replace("@", "%40")}"' in login.text
    token = await confirm_token()
    assert "Confirm my e-mail address" in (await client.get(f"/confirm/{token}")).text
    assert await User.exists().where(User.email_confirmed_at.is_null())  # opening the link uses nothing
    confirmed = await client.post(f"/confirm/{token}", data=form(client))
    assert confirmed.status_code == 200
    assert "You can log in now." in confirmed.text
    used = await client.post(f"/confirm/{token}", data=form(client))
    assert used.status_code == 410
    assert "already been used" in used.text
    assert (
        await client.post("/login", data=form(client, email=ADDRESS, password=PASSWORD))
    ).status_code == 303
    me = await client.get("/me")
    assert 'id="details-title"' in me.text
    assert 'name="share_incubators" value="on" checked' in me.text


async def test_the_resend_and_reset_pages_answer_the_same_for_any_address(make_client, make_user):
    await make_user("known@example.org")
    client = await english_client(make_client)
    for path in ("/confirm", "/password-reset"):
        assert (await client.get(path)).status_code == 200
        known = await client.post(path, data=form(client, email="known@example.org"))
        unknown = await client.post(path, data=form(client, email="unknown@example.org"))
        assert known.status_code == unknown.status_code == 200
        assert known.text == unknown.text
        bad = await client.post(path, data=form(client, email="not an address"))
        assert bad.status_code == 400
