"""Piccolo's configuration: the engine from ``PODIUM_DATABASE_URL`` and the one app registry."""

from piccolo.conf.apps import AppRegistry

from backend.db import engine_for
from backend.settings import get_settings

DB = engine_for(get_settings())

APP_REGISTRY = AppRegistry(apps=["backend.piccolo_app"])
