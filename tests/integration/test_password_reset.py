"""Password reset by a mailed one-time link: the same answer for any address, one hour, once, and
afterwards every session, API token and other link of the account is gone."""

from __future__ import annotations

import datetime as dt
import re

from backend.accounts.tables import AccountToken, ApiToken, User
from backend.mail.tables import OutboxEmail
from tests.integration.conftest import PASSWORD

RESET = re.compile(r"https?://\S+/password-reset/(acc_[A-Za-z0-9_-]+)")
ADDRESS = "forgetful@example.org"
NEW = "a brand new secret"


async def reset_token(address: str = ADDRESS) -> str:
    row = (
        await OutboxEmail.select(OutboxEmail.body_text)
        .where(OutboxEmail.to_address == address)
        .order_by(OutboxEmail.id, ascending=False)
        .first()
    )
    return RESET.search(row["body_text"])[1]


async def test_a_reset_ends_every_session_and_token_and_works_once(make_client, make_user):
    await make_user(ADDRESS)
    session = await make_client(ADDRESS)
    created = await session.post("/api/v1/auth/tokens", json={"name": "script"})
    bearer = {"Authorization": f"Bearer {created.json()['token']}"}
    anonymous = await make_client()

    asked = await anonymous.post("/api/v1/accounts/password-reset", json={"email": ADDRESS.upper()})
    nobody = await anonymous.post("/api/v1/accounts/password-reset", json={"email": "nobody@example.org"})
    assert (asked.status_code, asked.json()) == (nobody.status_code, nobody.json())
    assert asked.status_code == 202
    assert await OutboxEmail.count() == 1
    token = await reset_token()

    done = await anonymous.post(
        "/api/v1/accounts/password-reset/confirm", json={"token": token, "password": NEW}
    )
    assert done.status_code == 204, done.text
    assert (await session.get("/api/v1/auth/me")).status_code == 401
    assert (await anonymous.get("/api/v1/auth/me", headers=bearer)).status_code == 401
    assert await ApiToken.count().where(ApiToken.revoked_at.is_null()) == 0
    old = await anonymous.post("/api/v1/auth/login", json={"email": ADDRESS, "password": PASSWORD})
    assert old.status_code == 401
    assert (
        await anonymous.post("/api/v1/auth/login", json={"email": ADDRESS, "password": NEW})
    ).status_code == 200

    again = await anonymous.post(
        "/api/v1/accounts/password-reset/confirm", json={"token": token, "password": "yet another one"}
    )
    assert again.status_code == 410
    assert again.json()["code"] == "link_used"


async def test_a_reset_link_expires_after_an_hour_and_bad_input_is_refused(client, make_user):
    await make_user(ADDRESS)
    await client.post("/api/v1/accounts/password-reset", json={"email": ADDRESS})
    token = await reset_token()
    link = await AccountToken.select().first()
    assert dt.timedelta(minutes=59) < link["expires_at"] - link["created_at"] <= dt.timedelta(hours=1)
    short = await client.post(
        "/api/v1/accounts/password-reset/confirm", json={"token": token, "password": "x"}
    )
    assert short.status_code == 400
    assert "password" in short.json()["fields"]
    await AccountToken.update({AccountToken.expires_at: dt.datetime.now(dt.UTC)}, force=True)
    expired = await client.post(
        "/api/v1/accounts/password-reset/confirm", json={"token": token, "password": NEW}
    )
    assert expired.status_code == 410
    assert expired.json()["code"] == "link_expired"
    confirm_link = await client.post("/api/v1/accounts/confirm", json={"token": token})
    assert confirm_link.status_code == 404  # a reset link confirms nothing else
    bad = await client.post("/api/v1/accounts/password-reset", json={"email": ""})
    assert bad.status_code == 400


async def test_a_reset_link_confirms_an_unconfirmed_address(client):
    body = {
        "email": ADDRESS,
        "password": PASSWORD,
        "name_native": "Ann",
        "name_latin": "Ann",
        "terms": True,
    }
    assert (await client.post("/api/v1/accounts/signup", json=body)).status_code == 202
    await client.post("/api/v1/accounts/password-reset", json={"email": ADDRESS})
    token = await reset_token()
    assert (
        await client.post("/api/v1/accounts/password-reset/confirm", json={"token": token, "password": NEW})
    ).status_code == 204
    assert await User.exists().where(User.email_confirmed_at.is_not_null())
    assert (
        await client.post("/api/v1/auth/login", json={"email": ADDRESS, "password": NEW})
    ).status_code == 200
