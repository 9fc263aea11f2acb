"""The single Piccolo app: every table of every domain (``backend.domain``), with migrations in the
top-level ``migrations/``.

One app per migrations folder avoids Piccolo re-running a migration under another app's name.
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder
from piccolo.engine.base import Engine

from backend import db
from backend.domain import table_modules
from backend.settings import Settings

APP_CONFIG = AppConfig(
    app_name="podium",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=table_finder(modules=table_modules(), exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)


def use_database(settings: Settings) -> Engine:
    """Bind every table to the database of ``settings`` (see :func:`backend.db.use`)."""
    return db.use(settings, APP_CONFIG.table_classes)
