"""Institution search: trigram indexes for the picker's contains-search.

``backend.institutions.service.list_institutions`` searches ``name_en ILIKE '%…%' OR name_zh ILIKE
'%…%'`` (``backend.schemas.contains``): no B-tree serves a pattern with a leading ``%``. On PostgreSQL,
GIN trigram indexes (``pg_trgm``, ``gin_trgm_ops``) on the plain columns serve ``ILIKE`` as written
(an index on ``lower(...)`` would not). Terms under three characters yield no trigram and still scan.

SQLite: nothing (it has no trigram index; ``LIKE`` there scans, which its small databases afford).
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-11-28T23:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "institution search: trigram indexes on the names (PostgreSQL)"

POSTGRES = (
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX institution_name_en_trgm ON institution USING gin (name_en gin_trgm_ops)",
    "CREATE INDEX institution_name_zh_trgm ON institution USING gin (name_zh gin_trgm_ops)",
)


async def forwards_sql() -> None:
    engine = engine_finder()
    if isinstance(engine, PostgresEngine):
        for sql in POSTGRES:
            await engine.run_ddl(sql)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)
    manager.add_raw(forwards_sql)
    return manager
