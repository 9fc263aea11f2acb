"""Podium's application shell: settings, database, HTTP app, jobs, and the smaller domains."""

import os

os.environ.setdefault("PICCOLO_CONF", "backend.piccolo_conf")
