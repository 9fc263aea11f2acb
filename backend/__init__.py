"""Podium's application shell: settings, database, HTTP app, jobs, and the smaller domains."""
