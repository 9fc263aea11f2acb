"""Server-rendered pages: base layout, login, language switch, events."""
