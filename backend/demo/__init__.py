"""Realistic demo data (``podium demo``): loading it twice changes nothing."""

from backend.demo.load import DEMO_LOGINS, DEMO_PASSWORD, load_demo

__all__ = ["DEMO_LOGINS", "DEMO_PASSWORD", "load_demo"]
