"""The back office: Piccolo Admin at ``/admin``, entered with the site's session (one login).

A platform admin logged in on the site opens ``/admin/`` and uses it with no second login; anyone
else is refused (anonymous: to the site's login, or 401 for the admin's API; other users: a 403
page, organizers pointed at their workspace; bearer tokens: 403). The site session is the only
session: logging out, its end, deactivating the account or losing platform-admin rights close the
back office at once. Piccolo Admin's own CSRF check guards its writes. Tables whose rows follow the
services' rules are read-only (405, nothing written); the other tables' writes are audited.
"""

from __future__ import annotations

import dataclasses
import datetime as dt

import httpx
import pytest

from backend.accounts.tables import AdminSession, ApiToken, Invitation, Role, RoleGrant, User
from backend.accounts.tokens import token_digest
from backend.admin import admin_app
from backend.app import create_app
from backend.audit import AuditEntry
from backend.events.tables import Event, EventSession, Stage, Track
from backend.organizations.tables import Organization
from backend.security import CSRF_COOKIE, SESSION_COOKIE
from tests.integration.conftest import PASSWORD, prime_csrf

pytestmark = pytest.mark.anyio  # at collection, so anyio's backend parameter joins the ones below

HTML = {"accept": "text/html,application/xhtml+xml", "accept-language": "en"}
# what the admin's single-page app sends with its API calls (axios)
JSON = {"accept": "application/json, text/plain, */*"}

EDITABLE = {"institution", "podium_user", "outbox_email"}
READ_ONLY = {
    "api_token",  # a token never outgrows its parent: the API's rule, not the back office's
    "event",
    "track",
    "stage",
    "event_session",
    "role_grant",
    "invitation",
    "organization",
    "audit_entry",
}
TABLES = EDITABLE | READ_ONLY


async def site_login(make_client, email: str, language: str = "en") -> httpx.AsyncClient:
    """A browser logged in on the site (``/api/v1/auth/login``, as the login form does), its pages
    in ``language`` (the language switch's cookie)."""
    client = await make_client(email)
    client.cookies.set("podium_lang", language)
    return client


async def open_back_office(client: httpx.AsyncClient) -> httpx.Response:
    """Load ``/admin/`` as a browser does; Piccolo Admin sets its CSRF cookie there, which its app
    echoes in ``X-CSRFToken`` on every write."""
    response = await client.get("/admin/", headers=HTML)
    if response.status_code == 200:
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
    return response


async def admin_client(make_client, make_user) -> tuple[httpx.AsyncClient, int]:
    """A platform admin logged in on the site, with the back office open."""
    admin_id = await make_user("root@example.org", platform_admin=True, name="Root")
    client = await site_login(make_client, "root@example.org")
    assert (await open_back_office(client)).status_code == 200
    return client, admin_id


async def audit_rows() -> list[dict]:
    return (
        await AuditEntry.select(
            AuditEntry.id,
            AuditEntry.actor_id,
            AuditEntry.actor_email,
            AuditEntry.channel,
            AuditEntry.client_address,
            AuditEntry.action,
            AuditEntry.target_type,
            AuditEntry.target_id,
            AuditEntry.data,
            AuditEntry.created_at,
        )
        .order_by(AuditEntry.id)
        .output(load_json=True)
    )


# Entering with the site session ------------------------------------------------------------------


async def test_a_platform_admin_enters_with_the_site_session_and_no_second_login(make_client, make_user):
    client, _ = await admin_client(make_client, make_user)

    page = await client.get("/admin/", headers=HTML)
    tables = await client.get("/admin/api/tables/", headers=JSON)
    me = await client.get("/admin/api/user/", headers=JSON)
    users = await client.get("/admin/api/tables/podium_user/", headers=JSON)

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert '<div id="app"></div>' in page.text
    assert tables.status_code == 200, tables.text
    assert set(tables.json()) == TABLES
    assert me.json()["username"] == "root@example.org"
    rows = users.json()["rows"]
    assert [row["email"] for row in rows] == ["root@example.org"]
    assert rows[0]["password"] is None  # a secret column: the argon2 hash never leaves the server
    assert "id" not in client.cookies  # no Piccolo Admin session of its own
    assert await AdminSession.count() == 0


async def test_the_admin_is_built_once_and_sets_no_podium_cookies(make_client, make_user):
    client, _ = await admin_client(make_client, make_user)
    admin_app.cache_clear()

    first = await client.get("/admin/", headers=HTML)
    second = await client.get("/admin/", headers=HTML)

    for response in (first, second):
        assert response.status_code == 200
        assert "<title>Piccolo Admin</title>" in response.text
        assert CSRF_COOKIE not in response.cookies
        assert SESSION_COOKIE not in response.cookies
    assert admin_app.cache_info().misses == 1  # built on the first request, reused after
    meta = (await client.get("/admin/public/meta/", headers=JSON)).json()
    assert meta["site_name"] == "Podium back office"


async def test_the_admin_app_sends_the_browser_to_the_site_login_instead_of_its_own(make_client, make_user):
    """Piccolo Admin's app shows its login form on a 401 (the session ended while it was open) and
    has a change-password form; the page sends the browser to the site's login and ``/me``."""
    client, _ = await admin_client(make_client, make_user)

    page = (await client.get("/admin/", headers=HTML)).text

    head = page.split("</head>")[0]
    assert 'location.replace("/login?next=" + encodeURIComponent(target))' in head
    assert 'location.replace("/me")' in head


async def test_admin_without_its_slash_leads_to_the_app(make_client, make_user):
    """The app's links are relative (``./assets/...``): ``/admin`` must become ``/admin/``."""
    client, _ = await admin_client(make_client, make_user)

    response = await client.get("/admin", headers=HTML)

    assert response.status_code == 308
    assert response.headers["location"] == "/admin/"


async def test_anonymous_browsers_are_sent_to_the_site_login_and_back(make_client):
    client = await make_client()

    for path in ("/admin/", "/admin", "/admin/public/meta/"):
        response = await client.get(path, headers=HTML)
        assert response.status_code == 303, path
        assert response.headers["location"] == f"/login?next={path}"
    api = await client.get("/admin/api/tables/", headers=HTML)  # the admin's API answers JSON anyway
    assert api.status_code == 401
    assert api.json()["code"] == "not_authenticated"


async def test_anonymous_callers_get_401_from_the_admin_api(make_client):
    client = await make_client()

    for path in ("/admin/api/tables/", "/admin/api/tables/podium_user/", "/admin/api/user/", "/admin/"):
        response = await client.get(path, headers=JSON)
        assert response.status_code == 401, path
        assert response.json()["code"] == "not_authenticated"
    posted = await client.post("/admin/api/tables/podium_user/", json={"email": "x@example.org"})
    assert posted.status_code == 401
    assert await User.count() == 0


async def test_an_organizer_gets_a_403_page_pointing_to_the_workspace(make_client, organizer):
    client = await site_login(make_client, "organizer@example.org")

    page = await client.get("/admin/", headers=HTML)
    api = await client.get("/admin/api/tables/event/", headers=JSON)

    assert page.status_code == 403
    assert page.headers["content-type"].startswith("text/html")
    assert "The back office is for platform admins" in page.text
    assert "organizer@example.org" in page.text
    assert '<a href="/workspace">Open your workspace</a>' in page.text
    assert f'name="_csrf_token" value="{client.cookies[CSRF_COOKIE]}"' in page.text  # the header's forms work
    assert api.status_code == 403
    assert api.json() == {
        "code": "forbidden",
        "detail": "The back office is for platform admins",
        "fields": {},
    }
    assert "cbec-2027" not in api.text


async def test_an_organization_admin_is_pointed_at_the_workspace_too(
    make_client, make_user, make_organization
):
    user_id = await make_user("orgadmin@example.org")
    await RoleGrant.insert(RoleGrant(user=user_id, role="org_admin", organization=await make_organization()))
    client = await site_login(make_client, "orgadmin@example.org")

    page = await client.get("/admin/", headers=HTML)

    assert page.status_code == 403
    assert 'href="/workspace"' in page.text


async def test_a_plain_member_gets_the_403_page_without_a_workspace_link(make_client, make_user):
    await make_user("member@example.org")
    client = await site_login(make_client, "member@example.org")

    page = await client.get("/admin/", headers=HTML)
    written = await client.post(
        "/admin/api/tables/podium_user/",
        json={"email": "x@example.org", "username": "x@example.org", "password": "long-enough-1"},
        headers={"X-CSRFToken": "t"},
        cookies={"csrftoken": "t"},
    )

    assert page.status_code == 403
    assert "/workspace" not in page.text
    assert "If your work needs it, ask a platform admin." in page.text
    assert written.status_code == 403
    assert await User.count() == 1


@pytest.mark.parametrize(
    ("locale", "title", "workspace"),
    [
        ("zh", "后台仅供平台管理员使用", "进入工作台"),
        ("ru", "Администрирование доступно только администраторам платформы", "Открыть рабочее место"),
    ],
)
async def test_the_403_page_speaks_the_readers_language(make_client, organizer, locale, title, workspace):
    client = await site_login(make_client, "organizer@example.org", locale)

    page = await client.get("/admin/", headers=HTML)

    assert page.status_code == 403
    assert f'<html lang="{"zh-CN" if locale == "zh" else locale}">' in page.text
    assert title in page.text
    assert workspace in page.text
    assert "platform admins" not in page.text


async def test_bearer_tokens_do_not_open_the_back_office(make_client, make_user):
    admin_id = await make_user("root@example.org", platform_admin=True)
    await ApiToken.insert(ApiToken(user=admin_id, name="script", token_hash=token_digest("pdm_admin_script")))
    client = await make_client()
    client.headers["authorization"] = "Bearer pdm_admin_script"

    for path in ("/admin/", "/admin/api/tables/"):
        response = await client.get(path, headers=JSON)
        assert response.status_code == 403, path
        assert response.json()["code"] == "session_required"


# The site session is the only session ------------------------------------------------------------


async def test_logging_out_of_the_site_closes_the_back_office(make_client, make_user):
    client, _ = await admin_client(make_client, make_user)

    assert (await client.post("/api/v1/auth/logout")).status_code in (200, 204)

    assert (await client.get("/admin/api/tables/", headers=JSON)).status_code == 401
    assert (await client.get("/admin/", headers=HTML)).headers["location"] == "/login?next=/admin/"


async def test_deactivating_the_account_closes_the_back_office_for_good(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)

    await User.update({User.active: False}).where(
        User.id == admin_id
    )  # any path: the trigger bumps the epoch
    refused = await client.get("/admin/api/tables/", headers=JSON)
    await User.update({User.active: True}).where(User.id == admin_id)
    after_reactivation = await client.get("/admin/api/tables/", headers=JSON)

    assert refused.status_code == 401
    assert after_reactivation.status_code == 401  # the old session does not come back to life


async def test_a_new_auth_epoch_closes_the_back_office(make_client, make_user):
    """Whatever ends the user's sessions (a password change, a deactivation) bumps the epoch."""
    client, admin_id = await admin_client(make_client, make_user)

    await User.update({User.auth_epoch: User.auth_epoch + 1}).where(User.id == admin_id)

    assert (await client.get("/admin/api/tables/", headers=JSON)).status_code == 401


async def test_losing_platform_admin_rights_closes_the_back_office(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)

    await User.update({User.superuser: False, User.admin: False}).where(User.id == admin_id)

    assert (await client.get("/admin/api/tables/", headers=JSON)).status_code == 403
    assert (await client.get("/admin/", headers=HTML)).status_code == 403


async def test_the_back_office_logout_ends_the_site_session_with_one_entry(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)
    start = len(await audit_rows())

    forged = await client.post("/admin/public/logout/", headers={"X-CSRFToken": "forged"})
    still_in = await client.get("/api/v1/auth/me")
    logout = await client.post("/admin/public/logout/")

    assert forged.status_code == 403  # Piccolo Admin's CSRF check guards the logout too
    assert still_in.status_code == 200
    assert logout.status_code == 200, logout.text
    assert (await client.get("/api/v1/auth/me")).status_code == 401
    assert (await client.get("/admin/api/tables/", headers=JSON)).status_code == 401
    rows = (await audit_rows())[start:]
    assert [(r["actor_id"], r["channel"], r["action"], r["target_id"]) for r in rows] == [
        (admin_id, "admin", "auth.logout", admin_id)
    ]


async def test_piccolo_admins_own_login_and_password_change_are_not_served(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)
    before = await User.select(User.password).where(User.id == admin_id).first()

    login = await client.post(
        "/admin/public/login/", json={"username": "root@example.org", "password": PASSWORD}
    )
    change = await client.post(
        "/admin/api/change-password/",
        json={
            "current_password": PASSWORD,
            "new_password": "another-long-one",
            "confirm_new_password": "another-long-one",
        },
    )
    anonymous = await (await make_client()).post(
        "/admin/public/login/", json={"username": "root@example.org", "password": PASSWORD}
    )

    assert login.status_code == 404
    assert "/login" in login.json()["detail"]
    assert change.status_code == 404
    assert "/me" in change.json()["detail"]
    assert anonymous.status_code == 401
    assert "id" not in client.cookies
    assert await AdminSession.count() == 0
    assert await User.select(User.password).where(User.id == admin_id).first() == before


async def test_an_old_piccolo_admin_session_cookie_opens_nothing(make_client, make_user):
    admin_id = await make_user("root@example.org", platform_admin=True)
    session = await AdminSession.create_session(admin_id)
    client = await make_client()

    response = await client.get("/admin/api/tables/", headers=JSON, cookies={"id": session.token})

    assert response.status_code == 401


async def test_writes_need_piccolo_admins_csrf_token(make_client, make_user):
    client, _ = await admin_client(make_client, make_user)
    member_id = await make_user("member@example.org")
    start = len(await audit_rows())
    del client.headers["X-CSRFToken"]

    missing = await client.patch(f"/admin/api/tables/podium_user/{member_id}/", json={"superuser": True})
    wrong = await client.patch(
        f"/admin/api/tables/podium_user/{member_id}/",
        json={"superuser": True},
        headers={"X-CSRFToken": "nope"},
    )

    assert missing.status_code == 403
    assert wrong.status_code == 403
    assert await User.select(User.superuser).where(User.id == member_id).first() == {"superuser": False}
    assert len(await audit_rows()) == start


async def test_in_production_back_office_writes_must_come_from_the_sites_own_origin(db, settings, make_user):
    """Piccolo Admin's CSRF check also compares Origin/Referer with the allowed hosts over HTTPS:
    the host of ``PODIUM_BASE_URL``, without which every write in production would be refused."""
    production = dataclasses.replace(settings, environment="production", base_url="https://podium.example")
    await make_user("root@example.org", platform_admin=True)
    member_id = await make_user("member@example.org")
    app = create_app(production)
    async with (
        app.lifespan(),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="https://podium.example"
        ) as client,
    ):
        await prime_csrf(client)
        assert (
            await client.post("/api/v1/auth/login", json={"email": "root@example.org", "password": PASSWORD})
        ).status_code == 200
        assert (await open_back_office(client)).status_code == 200
        path = f"/admin/api/tables/podium_user/{member_id}/"

        foreign = await client.patch(
            path, json={"display_name": "x"}, headers={"origin": "https://evil.example"}
        )
        unnamed = await client.patch(path, json={"display_name": "y"})
        own = await client.patch(
            path, json={"display_name": "z"}, headers={"origin": "https://podium.example"}
        )

    assert foreign.status_code == 403
    assert unnamed.status_code == 403
    assert own.status_code == 200, own.text
    assert (await User.select(User.display_name).where(User.id == member_id).first())["display_name"] == "z"


# Read-only tables ------------------------------------------------------------------------------------


async def snapshot() -> dict[str, list[dict]]:
    tables = (Event, Track, Stage, EventSession, RoleGrant, Invitation, Organization, AuditEntry)
    return {t._meta.tablename: await t.select().order_by(t.id) for t in tables}


async def test_tables_that_follow_the_services_rules_are_read_only(make_client, make_user, make_event, grant):
    client, admin_id = await admin_client(make_client, make_user)
    contest = await make_event()
    forum = await make_event("forum-2027", kind="forum")
    track = await Track.insert(Track(event=contest, code="A", name_en="Track A")).returning(Track.id)
    stage = await Stage.insert(Stage(event=contest, level="school", position=1, name_en="School")).returning(
        Stage.id
    )
    opening = dt.datetime(2027, 3, 2, 9, tzinfo=dt.UTC)
    session = await EventSession.insert(
        EventSession(
            event=forum, title_en="Opening", starts_at=opening, ends_at=opening + dt.timedelta(hours=1)
        )
    ).returning(EventSession.id)
    invitation = await Invitation.insert(
        Invitation(
            email="judge@example.org",
            role="judge",
            event=contest,
            token_hash="0" * 64,
            expires_at=opening,
        )
    ).returning(Invitation.id)
    member_id = await make_user("member@example.org")
    await grant(member_id, Role.judge, contest)
    role = await RoleGrant.select(RoleGrant.id).first()
    rows = {
        "event": contest,
        "track": track[0]["id"],
        "stage": stage[0]["id"],
        "event_session": session[0]["id"],
        "role_grant": role["id"],
        "invitation": invitation[0]["id"],
        "organization": (await Organization.select(Organization.id).first())["id"],
        "audit_entry": (await AuditEntry.select(AuditEntry.id).first())["id"],
    }
    before = await snapshot()

    failures = []
    for table, row in rows.items():
        listing = await client.get(f"/admin/api/tables/{table}/", headers=JSON)
        if listing.status_code != 200 or not listing.json()["rows"]:
            failures.append(f"{table}: listing {listing.status_code}")
        for method, path, body in (
            (
                "POST",
                f"/admin/api/tables/{table}/",
                {"event": contest, "user": admin_id, "role": "organizer"},
            ),
            ("PUT", f"/admin/api/tables/{table}/{row}/", {"status": "archived"}),
            ("PATCH", f"/admin/api/tables/{table}/{row}/", {"status": "archived", "role": "organizer"}),
            ("DELETE", f"/admin/api/tables/{table}/{row}/", None),
            ("DELETE", f"/admin/api/tables/{table}/", None),
            ("DELETE", f"/admin/api/tables/{table}/?id={row}", None),
        ):
            response = await client.request(method, path, json=body, headers=JSON)
            if response.status_code != 405 or "read-only" not in response.json()["detail"]:
                failures.append(f"{table}: {method} {path} -> {response.status_code} {response.text[:100]}")

    assert not failures, "\n".join(failures)
    assert await snapshot() == before  # nothing written, and refusals are not audited either


async def test_the_read_only_views_refuse_writes_on_their_own_too():
    """Should the back office ever serve a read-only view without its 405 check, the view's own
    validators still refuse every write."""
    from backend.admin import views
    from backend.admin_views import ReadOnlyTable

    read_only = [v for v in views() if isinstance(v, ReadOnlyTable)]
    assert {v.table_class._meta.tablename for v in read_only} == READ_ONLY
    for view in read_only:
        validators = view.validators
        for name in ("post_single", "put_single", "patch_single", "delete_single", "delete_all"):
            assert getattr(validators, name), f"{view.table_class._meta.tablename}: {name}"


# Audited writes on the editable tables -------------------------------------------------------------


async def test_promoting_a_user_in_the_back_office_writes_one_entry_naming_the_admin(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)
    member_id = await make_user("member@example.org")
    start = len(await audit_rows())

    refused = await client.patch(f"/admin/api/tables/podium_user/{member_id}/", json={"no_such_column": 1})
    response = await client.patch(
        f"/admin/api/tables/podium_user/{member_id}/", json={"superuser": True, "admin": True}
    )

    assert refused.status_code == 400  # a refused write is rolled back with no entry
    assert response.status_code == 200, response.text
    assert await User.select(User.superuser).where(User.id == member_id).first() == {"superuser": True}
    new = [
        {k: v for k, v in row.items() if k not in ("id", "created_at")}
        for row in (await audit_rows())[start:]
    ]
    assert new == [
        {
            "actor_id": admin_id,
            "actor_email": "root@example.org",
            "channel": "admin",
            "client_address": "127.0.0.1",
            "action": "admin.update",
            "target_type": "podium_user",
            "target_id": member_id,
            "data": {"fields": {"superuser": True, "admin": True}},
        }
    ]


async def test_back_office_creates_and_deletes_are_audited_without_secrets(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)
    start = len(await audit_rows())

    form = (await client.get("/admin/api/tables/podium_user/new/")).json()  # defaults, as the UI does
    user = {"username": "new@example.org", "email": "new@example.org", "password": "a-long-secret-1"}
    created = await client.post("/admin/api/tables/podium_user/", json={**form, **user})
    assert created.status_code == 201, created.text
    new_id = (await User.select(User.id).where(User.email == "new@example.org").first())["id"]
    deleted = await client.delete(f"/admin/api/tables/podium_user/{new_id}/")
    assert deleted.status_code == 204

    rows = (await audit_rows())[start:]
    assert [(r["actor_id"], r["action"], r["target_type"], r["target_id"]) for r in rows] == [
        (admin_id, "admin.create", "podium_user", new_id),
        (admin_id, "admin.delete", "podium_user", new_id),
    ]
    assert rows[0]["data"]["fields"]["password"] == "(secret)"
    assert "a-long-secret-1" not in str(rows)
