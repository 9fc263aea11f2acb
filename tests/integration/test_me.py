"""The person's own account: /me by role with the next step, name and language, and a password change
that ends the account's other sessions; the invitation link's page for each kind of visitor."""

from __future__ import annotations

import re

from backend.accounts.tables import Role, RoleGrant, User
from backend.audit import AuditEntry
from backend.mail.tables import OutboxEmail
from tests.integration.conftest import PASSWORD

HTML = {"accept": "text/html"}


async def english(make_client, *args, **kwargs):
    """A client whose pages are in English (the accounts here read Chinese by default)."""
    client = await make_client(*args, **kwargs)
    client.cookies.set("podium_lang", "en", domain="podium.test")
    return client


LINK = re.compile(r"https?://\S+/invitations/(inv_[A-Za-z0-9_-]+)")


async def test_changing_name_and_language(make_client, make_user):
    await make_user("me@example.org")
    client = await english(make_client, "me@example.org")
    changed = await client.patch("/api/v1/auth/me", json={"display_name": "Wang Fang", "locale": "ru"})
    assert changed.status_code == 200
    assert (changed.json()["display_name"], changed.json()["locale"]) == ("Wang Fang", "ru")
    bad = await client.patch("/api/v1/auth/me", json={"locale": "fr"})
    assert bad.status_code == 400
    assert await AuditEntry.count().where(AuditEntry.action == "user.update_self") == 1
    # the form does the same and makes the language this browser's choice
    form = await client.post("/me/profile", data={"display_name": "Fang", "locale": "en"}, headers=HTML)
    assert form.status_code == 303
    assert form.headers["location"] == "/me?done=profile"
    assert client.cookies["podium_lang"] == "en"
    page = await client.get(form.headers["location"], headers=HTML)
    assert "Fang" in page.text
    assert "Your name and language were saved." in page.text
    empty = await client.post("/me/profile", data={"display_name": "  ", "locale": "en"}, headers=HTML)
    assert empty.status_code == 400
    assert 'aria-invalid="true"' in empty.text


async def test_a_password_change_needs_the_current_one_and_ends_the_other_sessions(make_client, make_user):
    await make_user("me@example.org")
    here = await english(make_client, "me@example.org")
    elsewhere = await english(make_client, "me@example.org")
    token = (await elsewhere.post("/api/v1/auth/tokens", json={"name": "script"})).json()["token"]

    wrong = await here.post(
        "/api/v1/auth/password",
        json={"current_password": "not it at all", "new_password": "brand new secret"},
    )
    assert (wrong.status_code, wrong.json()["code"]) == (400, "wrong_password")
    short = await here.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "short"}
    )
    assert short.status_code == 400

    changed = await here.post(
        "/api/v1/auth/password", json={"current_password": PASSWORD, "new_password": "brand new secret"}
    )
    assert changed.status_code == 204
    assert (await here.get("/api/v1/auth/me")).status_code == 200  # this browser got a new session
    assert (await elsewhere.get("/api/v1/auth/me")).status_code == 401  # every other session ended
    bearer = await english(
        make_client,
    )
    bearer.headers["authorization"] = f"Bearer {token}"
    assert (await bearer.get("/api/v1/auth/me")).status_code == 200  # tokens are revoked on their own
    old = await (
        await english(
            make_client,
        )
    ).post("/api/v1/auth/login", json={"email": "me@example.org", "password": PASSWORD})
    assert old.status_code == 401
    await english(make_client, "me@example.org", password="brand new secret")
    assert await AuditEntry.count().where(AuditEntry.action == "user.change_password") == 1

    # the form: the two new passwords must agree, the current one must be right
    form = {
        "current_password": "brand new secret",
        "new_password": "third secret!",
        "new_password_again": "x",
    }
    differ = await here.post("/me/password", data=form, headers=HTML)
    assert differ.status_code == 400
    assert "The two new passwords differ." in differ.text
    form["new_password_again"] = "third secret!"
    done = await here.post("/me/password", data=form, headers=HTML)
    assert done.status_code == 303
    assert (await here.get("/me", headers=HTML)).status_code == 200


async def test_me_lists_events_by_role_with_the_next_step(
    make_client, make_user, make_event, grant, organizer
):
    _, event_id = organizer
    opened = await make_event(slug="opened", status="open", name_en="Open Cup")
    judge = await make_user("judge@example.org")
    await grant(judge, Role.judge, opened)
    await grant(judge, Role.judge, event_id)  # a draft: not shown to a judge
    page = await (await english(make_client, "judge@example.org")).get("/me", headers=HTML)
    assert "Open Cup" in page.text
    assert "Scoring opens when the organizer assigns entries to you." in page.text
    assert "Event cbec-2027" not in page.text
    org_page = await (await english(make_client, "organizer@example.org")).get("/me", headers=HTML)
    assert f'href="/workspace/events/{event_id}"' in org_page.text


async def test_the_invitation_page_for_each_visitor(make_client, make_user, organizer):
    _, event_id = organizer
    await make_user("known@example.org")
    await make_user("other@example.org")
    org = await english(make_client, "organizer@example.org")
    for email in ("new@example.org", "known@example.org"):
        response = await org.post(
            f"/api/v1/events/{event_id}/invitations", json={"email": email, "role": "judge"}
        )
        assert response.status_code == 201

    async def token_for(address: str) -> str:
        row = await OutboxEmail.select(OutboxEmail.body_text).where(OutboxEmail.to_address == address).first()
        return LINK.search(row["body_text"])[1]

    new_token, known_token = await token_for("new@example.org"), await token_for("known@example.org")
    anonymous = await english(
        make_client,
    )
    assert (await anonymous.get("/invitations/inv_nothing", headers=HTML)).status_code == 404
    create = await anonymous.get(f"/invitations/{new_token}", headers=HTML)
    assert create.status_code == 200
    assert 'name="password_again"' in create.text
    log_in = await anonymous.get(f"/invitations/{known_token}", headers=HTML)
    assert f"/login?next=/invitations/{known_token}" in log_in.text
    other = await english(make_client, "other@example.org")
    assert (await other.get(f"/invitations/{known_token}", headers=HTML)).status_code == 403
    refused = await other.post(f"/invitations/{known_token}", headers=HTML)
    assert refused.status_code == 403
    assert not await RoleGrant.exists().where(RoleGrant.role == "judge")

    # a new account: name and password, then logged in and sent to /me
    differ = {"display_name": "New Judge", "password": PASSWORD, "password_again": "other"}
    assert (await anonymous.post(f"/invitations/{new_token}", data=differ, headers=HTML)).status_code == 400
    accepted = await anonymous.post(
        f"/invitations/{new_token}",
        data={"display_name": "New Judge", "password": PASSWORD, "password_again": PASSWORD},
        headers=HTML,
    )
    assert accepted.status_code == 303
    assert accepted.headers["location"] == "/me?done=invitation"
    me = await anonymous.get("/me", headers=HTML)
    assert me.status_code == 200
    assert "New Judge" in me.text
    assert await User.exists().where(User.email == "new@example.org")
    assert (await anonymous.get(f"/invitations/{new_token}", headers=HTML)).status_code == 200  # yours

    known = await english(make_client, "known@example.org")
    button = await known.get(f"/invitations/{known_token}", headers=HTML)
    assert "Accept the invitation" in button.text
    assert (await known.post(f"/invitations/{known_token}", headers=HTML)).status_code == 303
    assert await RoleGrant.count().where(RoleGrant.role == "judge") == 2
    stale = await (
        await english(
            make_client,
        )
    ).get(f"/invitations/{known_token}", headers=HTML)
    assert stale.status_code == 410


async def test_guessing_the_current_password_locks_the_account_like_failed_logins(
    make_client, make_user, settings
):
    await make_user("me@example.org")
    client = await english(make_client, "me@example.org")
    guess = {"current_password": "a wrong guess", "new_password": "brand new secret"}
    for _ in range(settings.login_lockout_after):
        assert (await client.post("/api/v1/auth/password", json=guess)).status_code == 400
    locked = await client.post("/api/v1/auth/password", json={**guess, "current_password": PASSWORD})
    assert locked.status_code == 429
    login = await (await make_client()).post(
        "/api/v1/auth/login", json={"email": "me@example.org", "password": PASSWORD}
    )
    assert login.status_code == 429
    assert not await AuditEntry.exists().where(AuditEntry.action == "user.change_password")
