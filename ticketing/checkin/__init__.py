"""Scanning: the scan API's hot path, offline scanners' bundle and uploads, and the conflicts page."""
