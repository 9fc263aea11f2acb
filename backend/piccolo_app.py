"""The single Piccolo app: every table of every package, with migrations in the top-level ``migrations/``.

One app per migrations folder avoids Piccolo re-running a migration under another app's name.
"""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

TABLE_MODULES = [
    "backend.accounts.tables",
    "backend.audit",
    "backend.institutions.tables",
    "backend.events.tables",
    "backend.mail.tables",
]

APP_CONFIG = AppConfig(
    app_name="podium",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=table_finder(modules=TABLE_MODULES, exclude_imported=True),
    migration_dependencies=[],
    commands=[],
)
