"""What a startup reports each period: a few yes/no questions, and the standard metrics whose being
due follows from the answers (the AcceleratorApp way: a startup without sales is not asked for its
revenue). Programmes add custom metrics (``incubator.tables.CustomMetric``) gated the same way.
Pure: no database, no HTTP.

Financial metrics are hidden from mentors unless the founders share financials; the others are
operations, shared with mentors unless the founders hide them (``backend.policy``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum


class Question(StrEnum):
    live_product = "live_product"  # Is your product live?
    sales = "sales"  # Did you make sales this period?
    recurring_revenue = "recurring_revenue"  # Do you have recurring revenue?
    funding_round = "funding_round"  # Did you raise money this period?


QUESTION_TEXT = {  # English message ids (translated in incubator.po)
    Question.live_product: "Is your product or service live?",
    Question.sales: "Did you make sales this period?",
    Question.recurring_revenue: "Do you have recurring revenue (subscriptions, contracts)?",
    Question.funding_round: "Did you raise funding this period?",
}


class Kind(StrEnum):
    money = "money"  # an amount in the programme's currency, two decimals
    count = "count"  # a whole number


@dataclass(frozen=True)
class Metric:
    key: str
    name: str  # English message id
    kind: Kind
    financial: bool
    question: Question | None  # due only when this question is answered yes; None: always due
    cumulative: bool = False  # a flow added up over periods (revenue) rather than a level (headcount)


STANDARD: tuple[Metric, ...] = (
    Metric("revenue", "Revenue", Kind.money, True, Question.sales, cumulative=True),
    Metric("recurring_revenue", "Recurring revenue", Kind.money, True, Question.recurring_revenue, True),
    Metric("cross_border_gmv", "Cross-border GMV", Kind.money, True, Question.sales, cumulative=True),
    Metric("funding_raised", "Funding raised", Kind.money, True, Question.funding_round, cumulative=True),
    Metric("customers", "Customers", Kind.count, False, Question.live_product),
    Metric("headcount", "Headcount", Kind.count, False, None),
    Metric("jobs_created", "Jobs created", Kind.count, False, None, cumulative=True),
    Metric("graduate_jobs", "of which fresh graduates", Kind.count, False, None, cumulative=True),
    Metric("patents", "Patents", Kind.count, False, None),
)
BY_KEY: Mapping[str, Metric] = {m.key: m for m in STANDARD}
FINANCIAL_KEYS = frozenset(m.key for m in STANDARD if m.financial)
OPERATIONS_KEYS = frozenset(m.key for m in STANDARD if not m.financial)


def due(metrics: Iterable[Metric], answers: Mapping[str, bool]) -> list[Metric]:
    """The metrics due given the period's answers: those without a question, and those whose
    question was answered yes."""
    return [m for m in metrics if m.question is None or answers.get(m.question) is True]
