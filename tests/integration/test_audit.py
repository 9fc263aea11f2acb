"""The audit log is append-only in the database itself, snapshots who acted (so deleting the user
changes nothing), and logins, logouts and the language switch each write exactly one entry (the
switch of a visitor who is not logged in sets a cookie only and writes none)."""

from __future__ import annotations

import sqlite3

import pytest

from backend import audit
from backend.accounts.tables import User
from backend.audit import AuditEntry
from backend.db import engine
from tests.integration.conftest import PASSWORD
from tests.integration.test_migrations_and_cli import embedded_env, podium

SNAPSHOT = (
    AuditEntry.actor_id,
    AuditEntry.actor_email,
    AuditEntry.client_address,
    AuditEntry.channel,
    AuditEntry.token_id,
    AuditEntry.action,
    AuditEntry.target_type,
    AuditEntry.target_id,
    AuditEntry.data,
)


async def entries() -> list[dict]:
    return await AuditEntry.select(*SNAPSHOT).order_by(AuditEntry.id).output(load_json=True)


async def test_postgresql_refuses_update_and_delete_of_audit_rows(db):
    await audit.record(None, "event.create", "event", 1)
    before = await entries()

    with pytest.raises(Exception, match="audit_entry is append-only"):
        await engine().run_ddl("UPDATE audit_entry SET action = 'forged', created_at = '2001-01-01'")
    with pytest.raises(Exception, match="audit_entry is append-only"):
        await engine().run_ddl("DELETE FROM audit_entry")
    with pytest.raises(Exception, match="audit_entry is append-only"):
        await AuditEntry.delete(force=True)

    assert await entries() == before
    await engine().run_ddl("TRUNCATE audit_entry")  # kept possible: the fixtures reset with it
    assert await AuditEntry.count() == 0


def test_sqlite_refuses_update_and_delete_of_audit_rows_and_the_cli_is_the_actor(tmp_path):
    env = embedded_env(tmp_path)
    assert podium("migrate", env=env).returncode == 0
    created = podium("createadmin", "--email", "ops@example.org", "--password", PASSWORD, env=env)
    assert created.returncode == 0, created.stderr

    with sqlite3.connect(tmp_path / "data" / "podium.sqlite") as conn:
        rows = conn.execute("SELECT action, channel, client_address FROM audit_entry").fetchall()
        assert [(action, channel) for action, channel, _ in rows] == [("user.create", "cli")]
        assert rows[0][2]  # the host the command ran on
        for statement in ("UPDATE audit_entry SET action = 'forged'", "DELETE FROM audit_entry"):
            with pytest.raises(sqlite3.IntegrityError, match="audit_entry is append-only"):
                conn.execute(statement)
        assert conn.execute("SELECT count(*), max(action) FROM audit_entry").fetchone() == (1, "user.create")


async def test_api_login_and_logout_each_write_one_entry_with_the_snapshot(make_client, make_user):
    user_id = await make_user("li.na@example.org")
    client = await make_client()
    start = await AuditEntry.count()

    assert (
        await client.post("/api/v1/auth/login", json={"email": "li.na@example.org", "password": PASSWORD})
    ).status_code == 200
    assert (await client.post("/api/v1/auth/logout")).status_code == 204

    assert (await entries())[start:] == [
        {
            "actor_id": user_id,
            "actor_email": "li.na@example.org",
            "client_address": "127.0.0.1",  # httpx's ASGI transport is the client 127.0.0.1
            "channel": None,  # not logged in yet when the request came in
            "token_id": None,
            "action": "auth.login",
            "target_type": "user",
            "target_id": user_id,
            "data": {},
        },
        {
            "actor_id": user_id,
            "actor_email": "li.na@example.org",
            "client_address": "127.0.0.1",
            "channel": "session",
            "token_id": None,
            "action": "auth.logout",
            "target_type": "user",
            "target_id": user_id,
            "data": {},
        },
    ]


async def test_a_failed_login_writes_one_entry_with_the_email_tried_and_no_actor(make_client, make_user):
    await make_user("judge@example.org")
    client = await make_client()
    start = await AuditEntry.count()

    for email in ("judge@example.org", "ghost@example.org"):
        response = await client.post("/api/v1/auth/login", json={"email": email, "password": "nope-nope"})
        assert response.status_code == 401

    rows = (await entries())[start:]
    assert [(r["action"], r["actor_id"], r["actor_email"], r["data"]) for r in rows] == [
        ("auth.login_failed", None, None, {"email": "judge@example.org"}),
        ("auth.login_failed", None, None, {"email": "ghost@example.org"}),
    ]
    assert {r["client_address"] for r in rows} == {"127.0.0.1"}


async def test_page_login_language_and_logout_each_write_one_entry(make_client, make_user):
    user_id = await make_user("team@example.org")
    client = await make_client()
    csrf = client.headers["x-podium-csrf"]
    start = await AuditEntry.count()

    anonymous = await client.post("/language", data={"lang": "en", "next": "/", "_csrf_token": csrf})
    assert anonymous.status_code == 303
    assert await AuditEntry.count() == start  # only a cookie: nothing in the database changed
    failed = await client.post(
        "/login", data={"email": "team@example.org", "password": "x", "_csrf_token": csrf}
    )
    login = await client.post(
        "/login", data={"email": "team@example.org", "password": PASSWORD, "_csrf_token": csrf}
    )
    language = await client.post("/language", data={"lang": "ru", "next": "/me", "_csrf_token": csrf})
    logout = await client.post("/logout", data={"_csrf_token": csrf})

    assert (failed.status_code, login.status_code, language.status_code, logout.status_code) == (
        400,
        303,
        303,
        303,
    )
    assert [(r["action"], r["actor_id"], r["data"]) for r in (await entries())[start:]] == [
        ("auth.login_failed", None, {"email": "team@example.org"}),
        ("auth.login", user_id, {}),
        ("user.set_locale", user_id, {"locale": "ru"}),
        ("auth.logout", user_id, {}),
    ]
    assert await User.select(User.locale).where(User.id == user_id).first() == {"locale": "ru"}


async def test_a_bearer_token_request_records_the_token(make_client, make_user):
    user_id = await make_user("scanner@example.org")
    owner = await make_client("scanner@example.org")
    created = (await owner.post("/api/v1/auth/tokens", json={"name": "door 1"})).json()
    device = await make_client()
    device.headers["authorization"] = f"Bearer {created['token']}"
    start = await AuditEntry.count()

    response = await device.delete(f"/api/v1/auth/tokens/{created['info']['id']}")

    assert response.status_code == 204
    rows = (await entries())[start:]
    assert [(r["action"], r["actor_id"], r["channel"], r["token_id"]) for r in rows] == [
        ("token.revoke", user_id, "token", created["info"]["id"])
    ]


async def test_deleting_a_user_keeps_their_entries_with_id_and_email(make_client, make_user):
    user_id = await make_user("leaving@example.org")
    await make_client("leaving@example.org")

    await User.delete().where(User.id == user_id)

    rows = await AuditEntry.select(AuditEntry.actor_id, AuditEntry.actor_email).where(
        AuditEntry.action == "auth.login"
    )
    assert rows == [{"actor_id": user_id, "actor_email": "leaving@example.org"}]
