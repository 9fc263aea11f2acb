"""Users, roles scoped to events, API tokens and login."""
