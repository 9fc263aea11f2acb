"""Piccolo Admin at ``/admin``: served by the app, built once, and open only to platform admins, who
log in with their Podium e-mail and password (``User`` extends ``BaseUser`` with argon2 hashes).

Piccolo Admin has its own CSRF check (cookie ``csrftoken``, header ``X-CSRFToken``) and its own
session cookie; Podium's CSRF and session middleware stay out of its way.
"""

from __future__ import annotations

import httpx

from backend.accounts.tables import AdminSession, User
from backend.admin import admin_app
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
