"""Incubator follow-up: programmes and cohorts, startups, mentors, meetings, milestones, support,
periodic KPI reports with reminders, and outcome dashboards: see ``incubator.domain``."""
