"""The same committed migrations apply from empty on SQLite and PostgreSQL; the command line
works on the embedded default and fails fast on bad settings."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys

import asyncpg
import pytest

from backend.piccolo_app import APP_CONFIG
from tests.conftest import PG_SERVER

TABLES = {t._meta.tablename for t in APP_CONFIG.table_classes}


def podium(*args: str, env: dict[str, str], timeout: int = 180) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "backend", *args], capture_output=True, text=True, env=env, timeout=timeout
    )


def embedded_env(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PODIUM_")}
    env["PODIUM_DATA_DIR"] = str(tmp_path / "data")
    return env


def test_migrations_apply_from_empty_on_sqlite(tmp_path):
    env = embedded_env(tmp_path)
    result = podium("migrate", env=env)
    assert result.returncode == 0, result.stderr
    with sqlite3.connect(tmp_path / "data" / "podium.sqlite") as conn:
        names = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert names >= TABLES
    assert podium("migrate", env=env).returncode == 0  # a second run has nothing to do


def test_migrations_apply_from_empty_on_postgresql(tmp_path):
    name = f"podium_migrate_{os.getpid()}"

    async def admin(sql: str) -> None:
        conn = await asyncpg.connect(f"{PG_SERVER}/postgres")
        try:
            await conn.execute(sql)
        finally:
            await conn.close()

    async def tables() -> set[str]:
        conn = await asyncpg.connect(f"{PG_SERVER}/{name}")
        try:
            return {
                r[0] for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            }
        finally:
            await conn.close()

    async def search_plan() -> str:
        """The plan of the institution picker's search (``backend.schemas.contains``) over a few
        thousand institutions, sequential scans discouraged: the trigram indexes serve it."""
        conn = await asyncpg.connect(f"{PG_SERVER}/{name}")
        try:
            await conn.execute(
                "INSERT INTO institution (name_zh, name_en, kind, country, region, created_at) "
                "SELECT '大学' || i, 'University ' || i, 'university', 'CN', '', now() "
                "FROM generate_series(1, 3000) AS i"
            )
            await conn.execute("ANALYZE institution")
            await conn.execute("SET enable_seqscan = off")
            rows = await conn.fetch(
                "EXPLAIN SELECT id FROM institution "
                "WHERE (name_en ILIKE $1 ESCAPE '\\' OR name_zh ILIKE $1 ESCAPE '\\')",
                "%sity 12%",
            )
            return "\n".join(r[0] for r in rows)
        finally:
            await conn.close()

    asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}"'))
    asyncio.run(admin(f'CREATE DATABASE "{name}"'))
    try:
        env = {**embedded_env(tmp_path), "PODIUM_DATABASE_URL": f"{PG_SERVER}/{name}"}
        result = podium("migrate", env=env)
        assert result.returncode == 0, result.stderr
        assert asyncio.run(tables()) >= TABLES
        plan = asyncio.run(search_plan())
        assert "institution_name_en_trgm" in plan
        assert "institution_name_zh_trgm" in plan
    finally:
        asyncio.run(admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def test_demo_loads_on_the_embedded_default_and_is_idempotent(tmp_path):
    env = embedded_env(tmp_path)
    first = podium("demo", env=env)
    assert first.returncode == 0, first.stderr
    assert "Traceback" not in first.stderr, first.stderr  # e.g. a job queued with no queue to run it
    counts_sql = "SELECT (SELECT count(*) FROM podium_user), (SELECT count(*) FROM role_grant), (SELECT count(*) FROM institution), (SELECT count(*) FROM event_session), (SELECT count(*) FROM event), (SELECT count(*) FROM team_member), (SELECT count(*) FROM material)"
    with sqlite3.connect(tmp_path / "data" / "podium.sqlite") as conn:
        counts = conn.execute(counts_sql).fetchone()
        countries = conn.execute(
            "SELECT count(DISTINCT country) FROM institution WHERE kind != 'enterprise'"
        ).fetchone()[0]
        judges = conn.execute("SELECT count(*) FROM role_grant WHERE role = 'judge'").fetchone()[0]
        leaders = conn.execute("SELECT count(*) FROM role_grant WHERE role = 'team_member'").fetchone()[0]
        exhibitors = conn.execute("SELECT count(*) FROM role_grant WHERE role = 'exhibitor'").fetchone()[0]
        tracks = conn.execute("SELECT count(*) FROM track").fetchone()[0]
        stages = [r[0] for r in conn.execute("SELECT level FROM stage ORDER BY position")]
        teams = dict(conn.execute("SELECT status, count(*) FROM team GROUP BY status").fetchall())
        school_admins = conn.execute(
            "SELECT count(*) FROM role_grant WHERE role = 'organizer' AND institution IS NOT NULL"
        ).fetchone()[0]
    assert (countries, judges, leaders, exhibitors, tracks) == (8, 30, 300, 40, 3)
    assert sum(teams.values()) == 300  # the demo's teams, through the team service
    assert set(teams) == {"forming", "complete", "approved", "withdrawn"}
    assert school_admins == 1
    assert "school@podium.example" in first.stdout
    assert stages == ["school", "province", "national"]
    assert podium("demo", env=env).returncode == 0
    with sqlite3.connect(tmp_path / "data" / "podium.sqlite") as conn:
        assert conn.execute(counts_sql).fetchone() == counts


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        (
            "PODIUM_DATABASE_URL",
            "mysql://db/podium",
            "PODIUM_DATABASE_URL must start with sqlite:/// or postgresql://, got 'mysql://db/podium'",
        ),
        ("PODIUM_PORT", "eighty", "PODIUM_PORT must be a whole number, got 'eighty'"),
        ("PODIUM_ENV", "production", "PODIUM_SECRET_KEY is required when PODIUM_ENV=production"),
    ],
)
def test_bad_settings_stop_the_command_with_a_clear_message(tmp_path, variable, value, message):
    result = podium("migrate", env={**embedded_env(tmp_path), variable: value})
    assert result.returncode == 2
    assert result.stderr.strip() == f"Configuration error: {message}"
