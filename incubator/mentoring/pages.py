"""The mentoring pages (placeholder until written)."""

from litestar import Controller


class MentoringPages(Controller):
    path = "/incubator"
