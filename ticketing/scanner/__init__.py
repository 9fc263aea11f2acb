"""The scanner page for staff devices (``/scan``): camera, keyboard-wedge and manual scanning with a
big answer and a sound, and offline scanning (local Ed25519 verification, a queue of scans synced
when the network is back). See ``backend/static/ticketing-scanner.js``."""
