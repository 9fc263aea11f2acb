from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Integer, Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-11-28T15:41:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit entries snapshot their actor"

_COLUMNS = [
    ("actor_id", Integer, {"default": None, "index": True}),
    ("actor_email", Varchar, {"length": 255, "default": None, "index": False}),
    ("client_address", Varchar, {"length": 100, "default": None, "index": False}),
    ("channel", Varchar, {"length": 20, "default": None, "index": False}),
    ("token_id", Integer, {"default": None, "index": False}),
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="podium", description=DESCRIPTION)

    for name, column_class, params in _COLUMNS:
        manager.add_column(
            table_class_name="AuditEntry",
            tablename="audit_entry",
            column_name=name,
            db_column_name=name,
            column_class_name=column_class.__name__,
            column_class=column_class,
            params={
                **params,
                "null": True,
                "primary_key": False,
                "unique": False,
                "index_method": IndexMethod.btree,
                "choices": None,
                "db_column_name": None,
                "secret": False,
            },
            schema=None,
        )

    return manager
