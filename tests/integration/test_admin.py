"""Piccolo Admin at ``/admin``: served by the app, built once, and open only to platform admins, who
log in with their Podium e-mail and password (``User`` extends ``BaseUser`` with argon2 hashes).

Piccolo Admin has its own CSRF check (cookie ``csrftoken``, header ``X-CSRFToken``) and its own
session cookie; Podium's CSRF and session middleware stay out of its way.
"""

from __future__ import annotations

import httpx

from backend.accounts.tables import AdminSession, User
from backend.admin import admin_app
from backend.audit import AuditEntry
from backend.security import CSRF_COOKIE
from tests.integration.conftest import PASSWORD

TABLES = {
    "event",
    "track",
    "stage",
    "event_session",
    "institution",
    "podium_user",
    "role_grant",
    "api_token",
    "audit_entry",
    "outbox_email",
}


async def admin_csrf(client: httpx.AsyncClient) -> str:
    """Load the admin page as a browser would; Piccolo Admin sets its CSRF cookie there."""
    response = await client.get("/admin/")
    assert response.status_code == 200
    return client.cookies["csrftoken"]


async def admin_login(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    token = await admin_csrf(client)
    return await client.post(
        "/admin/public/login/",
        json={"username": username, "password": password},
        headers={"X-CSRFToken": token},
    )


async def test_admin_page_is_served_and_built_once(make_client):
    client = await make_client()
    admin_app.cache_clear()

    first = await client.get("/admin/")
    second = await client.get("/admin/")

    for response in (first, second):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/html")
        assert "<title>Piccolo Admin</title>" in response.text
        assert '<div id="app"></div>' in response.text
    assert admin_app.cache_info().misses == 1  # built on the first request, reused after
    meta = (await client.get("/admin/public/meta/")).json()
    assert meta["site_name"] == "Podium back office"


async def test_admin_page_does_not_set_podium_cookies(make_client):
    client = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=make_client.app), base_url="http://podium.test"
    )
    async with client:
        response = await client.get("/admin/")
    assert response.status_code == 200
    assert "csrftoken" in response.cookies
    assert CSRF_COOKIE not in response.cookies


async def test_platform_admin_logs_in_with_podium_credentials_and_lists_tables(make_client, make_user):
    await make_user("root@example.org", platform_admin=True, name="Root")
    client = await make_client()

    response = await admin_login(client, "Root@Example.org", PASSWORD)

    assert response.status_code == 200, response.text
    assert response.json() == {"message": "logged in"}
    tables = await client.get("/admin/api/tables/")
    assert tables.status_code == 200
    assert set(tables.json()) == TABLES
    me = await client.get("/admin/api/user/")
    assert me.status_code == 200
    assert me.json()["username"] == "root@example.org"
    users = await client.get("/admin/api/tables/podium_user/")
    assert users.status_code == 200
    rows = users.json()["rows"]
    assert [row["email"] for row in rows] == ["root@example.org"]
    assert rows[0]["password"] is None  # a secret column: the argon2 hash never leaves the server


async def test_admin_login_needs_piccolo_admins_csrf_token(make_client, make_user):
    await make_user("root@example.org", platform_admin=True)
    client = await make_client()
    await admin_csrf(client)

    response = await client.post(
        "/admin/public/login/", json={"username": "root@example.org", "password": PASSWORD}
    )

    assert response.status_code == 403
    assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_wrong_password_is_refused(make_client, make_user):
    await make_user("root@example.org", platform_admin=True)
    client = await make_client()

    response = await admin_login(client, "root@example.org", PASSWORD + "!")

    assert response.status_code == 401
    assert "id" not in client.cookies
    assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_plain_account_is_refused(make_client, make_user):
    await make_user("member@example.org")
    client = await make_client()

    response = await admin_login(client, "member@example.org", PASSWORD)

    assert response.status_code == 401
    assert await AdminSession.count() == 0
    tables = await client.get("/admin/api/tables/")
    assert tables.status_code == 401
    assert "event" not in tables.text
    rows = await client.get("/admin/api/tables/podium_user/")
    assert rows.status_code == 401
    assert "member@example.org" not in rows.text


async def test_deactivated_platform_admin_is_refused(make_client, make_user):
    user_id = await make_user("root@example.org", platform_admin=True)
    await User.update({User.active: False}).where(User.id == user_id)
    client = await make_client()

    response = await admin_login(client, "root@example.org", PASSWORD)

    assert response.status_code == 401
    assert (await client.get("/admin/api/tables/")).status_code == 401


async def test_anonymous_callers_cannot_use_the_admin_api(make_client):
    client = await make_client()

    for path in ("/admin/api/tables/", "/admin/api/tables/podium_user/", "/admin/api/user/"):
        response = await client.get(path)
        assert response.status_code == 401, path


async def test_podium_session_does_not_open_the_admin(make_client, make_user):
    """A Podium page session, even a platform admin's, is not a Piccolo Admin session."""
    await make_user("root@example.org", platform_admin=True)
    client = await make_client("root@example.org")

    assert (await client.get("/api/v1/auth/me")).status_code == 200
    assert (await client.get("/admin/api/tables/")).status_code == 401


# The audit log in the back office ---------------------------------------------------------------


async def admin_client(make_client, make_user) -> tuple[httpx.AsyncClient, int]:
    """A client logged in to the back office as a platform admin, with its CSRF header set."""
    admin_id = await make_user("root@example.org", platform_admin=True)
    client = await make_client()
    assert (await admin_login(client, "root@example.org", PASSWORD)).status_code == 200
    client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
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


async def test_the_audit_log_is_listed_but_cannot_be_written_in_the_back_office(make_client, make_user):
    client, admin_id = await admin_client(make_client, make_user)
    before = await audit_rows()
    entry_id = before[0]["id"]

    listing = await client.get("/admin/api/tables/audit_entry/")
    forged = await client.post(
        "/admin/api/tables/audit_entry/",
        json={"actor_id": admin_id + 1, "action": "event.create", "target_type": "event", "data": "{}"},
    )
    edited = await client.patch(f"/admin/api/tables/audit_entry/{entry_id}/", json={"action": "forged"})
    replaced = await client.put(f"/admin/api/tables/audit_entry/{entry_id}/", json={"action": "forged"})
    deleted = await client.delete(f"/admin/api/tables/audit_entry/{entry_id}/")
    wiped = await client.delete("/admin/api/tables/audit_entry/")

    assert listing.status_code == 200
    assert sorted(row["id"] for row in listing.json()["rows"]) == [row["id"] for row in before]
    for response in (forged, edited, replaced, deleted, wiped):
        assert response.status_code == 405, response.request.method
    assert await audit_rows() == before  # and refusals are not audited either


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


async def test_back_office_logins_failed_logins_and_logouts_write_one_entry_each(make_client, make_user):
    admin_id = await make_user("root@example.org", platform_admin=True)
    client = await make_client()
    start = len(await audit_rows())

    assert (await admin_login(client, "root@example.org", PASSWORD + "!")).status_code == 401
    assert (await admin_login(client, "Root@Example.org", PASSWORD)).status_code == 200
    logout = await client.post("/admin/public/logout/", headers={"X-CSRFToken": client.cookies["csrftoken"]})

    assert logout.status_code == 200
    rows = (await audit_rows())[start:]
    assert [(r["actor_id"], r["actor_email"], r["channel"], r["action"], r["data"]) for r in rows] == [
        (None, None, "admin", "auth.login_failed", {"email": "root@example.org"}),
        (admin_id, "root@example.org", "admin", "auth.login", {}),
        (admin_id, "root@example.org", "admin", "auth.logout", {}),
    ]
