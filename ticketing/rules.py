"""The rules of a check-in list, evaluated purely against a ticket's append-only check-in log.

A list says which ticket types it admits (``types``), when (``windows``, naive local times of the
event), how often (``entries_total`` ever, ``entries_per_day`` per local day), whether a ticket that
went out may come back in (``reentry_after_exit``), how many people may be inside at once
(``capacity``) and whether the ticket must first have entered another list (``after_list``, the venue's
gate before a session).

Nothing here touches the database or the clock: the scan path reads what it needs and asks
:func:`check_static` (types and windows, no log needed) or :func:`evaluate` (everything). A refusal
names the *nearest* reason, in this order: type, time, venue, entries, capacity. Messages are English
message ids with ``{placeholders}`` (translated in ``ticketing_lists.po``), values in ``params``.

Slots. The database admits a ticket at most once per list and slot (a unique index), which is what
makes admission exactly-once under any concurrency. :meth:`ListRules.slot_mode` tells the scan path
how to pick the slot:

- ``"once"``: at most one entry ever and nothing else needs the log: slot 0, so a single conditional
  insert decides;
- ``"daily"``: one entry per local day, no other limit: the slot is the local date's ordinal;
- ``"counted"``: anything else: the ticket's log is read under its row lock and the slot is the number
  of earlier admitted entries.

Semantics of the limits. An entry is a *re-entry* when the ticket's latest admitted scan on the list is
an exit. With ``reentry_after_exit`` a re-entry is allowed whatever ``entries_total`` says (the ticket
left, so it may come back), but it still counts towards ``entries_per_day`` and needs room under
``capacity``. Without it, every entry counts towards ``entries_total``. An exit is admitted only on a
list that records exits (``counted``) and only when the ticket is inside (its latest admitted scan
there is an entry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

# Scan API reasons.
NOT_ALLOWED = "not_allowed"
OUTSIDE_TIME = "outside_time"
ALREADY = "already_checked_in"
CAPACITY = "capacity"

# Message ids (English, with placeholders; translated in ticketing_lists.po).
MSG_WELCOME = "Welcome"
MSG_EXIT = "Exit recorded"
MSG_TYPE = "This ticket type is not admitted here"
MSG_OPENS = "Opens at {time}"
MSG_CLOSED = "Closed at {time}"
MSG_VENUE = "Check in at the venue first"
MSG_ALREADY = "Already checked in at {gate} at {time}"
MSG_ALREADY_TODAY = "Already checked in {count} times today"
MSG_FULL = "Full: {capacity} inside"
MSG_NO_EXITS = "This list records no exits"
MSG_NOT_INSIDE = "Not checked in here"

MESSAGES: tuple[str, ...] = (
    MSG_WELCOME,
    MSG_EXIT,
    MSG_TYPE,
    MSG_OPENS,
    MSG_CLOSED,
    MSG_VENUE,
    MSG_ALREADY,
    MSG_ALREADY_TODAY,
    MSG_FULL,
    MSG_NO_EXITS,
    MSG_NOT_INSIDE,
)

# Field messages of RulesError (English message ids too).
ERR_OBJECT = "must be an object of rules"
ERR_UNKNOWN = "is not a rule"
ERR_TYPES = "must be a list of ticket type numbers, or null for every type"
ERR_TYPES_EMPTY = "choose at least one ticket type, or null for every type"
ERR_TYPE_NUMBER = "must be a ticket type number from 1 to 65535"
ERR_WINDOWS = "must be a list of time windows"
ERR_WINDOWS_MANY = "at most 100 time windows"
ERR_WINDOW = "must be an object with opens and closes"
ERR_WINDOW_KEYS = "must have exactly opens and closes"
ERR_LOCAL_TIME = "must be a local date and time such as 2027-09-01T09:00"
ERR_WINDOW_ORDER = "must be after opens"
ERR_COUNT = "must be a whole number from 1 to 1000000, or null for no limit"
ERR_BOOL = "must be true or false"
ERR_LIST_ID = "must be a list id, or null"

FIELD_MESSAGES: tuple[str, ...] = (
    ERR_OBJECT,
    ERR_UNKNOWN,
    ERR_TYPES,
    ERR_TYPES_EMPTY,
    ERR_TYPE_NUMBER,
    ERR_WINDOWS,
    ERR_WINDOWS_MANY,
    ERR_WINDOW,
    ERR_WINDOW_KEYS,
    ERR_LOCAL_TIME,
    ERR_WINDOW_ORDER,
    ERR_COUNT,
    ERR_BOOL,
    ERR_LIST_ID,
)

MAX_COUNT = 1_000_000
MAX_TYPE_NUMBER = 65535
MAX_WINDOWS = 100
MAX_ID = 2**63 - 1

ENTRY = "entry"
EXIT = "exit"

_KEYS = (
    "types",
    "windows",
    "entries_total",
    "entries_per_day",
    "reentry_after_exit",
    "capacity",
    "after_list",
)


class RulesError(ValueError):
    """Rules that cannot be read: ``fields`` maps each wrong field (``windows[0].opens``) to its
    message (an English message id)."""

    def __init__(self, fields: Mapping[str, str]) -> None:
        self.fields = dict(fields)
        super().__init__("; ".join(f"{k}: {v}" for k, v in self.fields.items()))


@dataclass(frozen=True)
class Window:
    """When a list admits: from ``opens`` (included) to ``closes`` (excluded), naive local times."""

    opens: dt.datetime
    closes: dt.datetime

    def holds(self, now_local: dt.datetime) -> bool:
        return self.opens <= now_local < self.closes


@dataclass(frozen=True)
class ListRules:
    types: frozenset[int] | None = None
    windows: tuple[Window, ...] = ()
    entries_total: int | None = 1
    entries_per_day: int | None = None
    reentry_after_exit: bool = False
    capacity: int | None = None
    after_list: int | None = None

    @classmethod
    def from_json(cls, data: Any) -> ListRules:
        """Read rules from their JSON form (missing keys take the defaults; ``{}`` is the default
        rules). Every wrong field is reported at once in :class:`RulesError`."""
        if not isinstance(data, Mapping):
            raise RulesError({"rules": ERR_OBJECT})
        problems: dict[str, str] = {}
        for key in data:
            if key not in _KEYS:
                problems[str(key)] = ERR_UNKNOWN
        types = _read_types(data.get("types"), problems)
        windows = _read_windows(data.get("windows", []), problems)
        entries_total = _read_count(data, "entries_total", 1, problems)
        entries_per_day = _read_count(data, "entries_per_day", None, problems)
        capacity = _read_count(data, "capacity", None, problems)
        reentry = data.get("reentry_after_exit", False)
        if not isinstance(reentry, bool):
            problems["reentry_after_exit"] = ERR_BOOL
        after_list = data.get("after_list")
        if after_list is not None and not (_is_int(after_list) and 1 <= after_list <= MAX_ID):
            problems["after_list"] = ERR_LIST_ID
        if problems:
            raise RulesError(problems)
        return cls(
            types=types,
            windows=windows,
            entries_total=entries_total,
            entries_per_day=entries_per_day,
            reentry_after_exit=reentry,
            capacity=capacity,
            after_list=after_list,
        )

    def to_json(self) -> dict[str, Any]:
        """The JSON form, every key present; ``from_json(to_json())`` gives the same rules."""
        return {
            "types": None if self.types is None else sorted(self.types),
            "windows": [
                {"opens": _local_text(w.opens), "closes": _local_text(w.closes)} for w in self.windows
            ],
            "entries_total": self.entries_total,
            "entries_per_day": self.entries_per_day,
            "reentry_after_exit": self.reentry_after_exit,
            "capacity": self.capacity,
            "after_list": self.after_list,
        }

    def _needs_nothing_else(self) -> bool:
        return not self.reentry_after_exit and self.capacity is None and self.after_list is None

    def slot_mode(self) -> str:
        """``"once"``, ``"daily"`` or ``"counted"`` (see the module docstring)."""
        if self.entries_total == 1 and self._needs_nothing_else():
            return "once"
        if self.entries_per_day == 1 and self.entries_total is None and self._needs_nothing_else():
            return "daily"
        return "counted"

    def records_exits(self) -> bool:
        return self.slot_mode() == "counted"


@dataclass(frozen=True)
class PastScan:
    """An admitted scan of the ticket's log: ``direction`` "entry" or "exit", ``at`` aware."""

    direction: str
    at: dt.datetime
    gate: str


@dataclass(frozen=True)
class Decision:
    admitted: bool
    reason: str | None
    message: str
    params: dict[str, str] = field(default_factory=dict)
    previous: PastScan | None = None
    slot: int | None = None


# --- reading -------------------------------------------------------------------------------------


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _read_types(value: Any, problems: dict[str, str]) -> frozenset[int] | None:
    if value is None:
        return None
    if not isinstance(value, list | tuple):
        problems["types"] = ERR_TYPES
        return None
    if not value:
        problems["types"] = ERR_TYPES_EMPTY
        return None
    numbers: set[int] = set()
    for i, number in enumerate(value):
        if _is_int(number) and 1 <= number <= MAX_TYPE_NUMBER:
            numbers.add(number)
        else:
            problems[f"types[{i}]"] = ERR_TYPE_NUMBER
    return frozenset(numbers)


def _read_local(value: Any) -> dt.datetime | None:
    if not isinstance(value, str) or not 16 <= len(value) <= 19:
        return None
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if moment.tzinfo is not None or value[10] != "T":
        return None
    return moment


def _read_windows(value: Any, problems: dict[str, str]) -> tuple[Window, ...]:
    if value is None:
        return ()
    if not isinstance(value, list | tuple):
        problems["windows"] = ERR_WINDOWS
        return ()
    if len(value) > MAX_WINDOWS:
        problems["windows"] = ERR_WINDOWS_MANY
        return ()
    windows: list[Window] = []
    for i, item in enumerate(value):
        at = f"windows[{i}]"
        if not isinstance(item, Mapping):
            problems[at] = ERR_WINDOW
            continue
        if set(item) != {"opens", "closes"}:
            problems[at] = ERR_WINDOW_KEYS
            continue
        opens = _read_local(item["opens"])
        closes = _read_local(item["closes"])
        if opens is None:
            problems[f"{at}.opens"] = ERR_LOCAL_TIME
        if closes is None:
            problems[f"{at}.closes"] = ERR_LOCAL_TIME
        if opens is not None and closes is not None:
            if closes <= opens:
                problems[f"{at}.closes"] = ERR_WINDOW_ORDER
            else:
                windows.append(Window(opens, closes))
    return tuple(sorted(windows, key=lambda w: (w.opens, w.closes)))


def _read_count(data: Mapping, key: str, default: int | None, problems: dict[str, str]) -> int | None:
    value = data.get(key, default)
    if value is None:
        return None
    if _is_int(value) and 1 <= value <= MAX_COUNT:
        return value
    problems[key] = ERR_COUNT
    return default


def _local_text(moment: dt.datetime) -> str:
    return moment.isoformat(timespec="minutes" if moment.second == 0 else "seconds")


# --- deciding ------------------------------------------------------------------------------------


def _clock(moment: dt.datetime, now_local: dt.datetime) -> str:
    """``09:12`` on the same local day as now, else ``2027-09-01 09:12``."""
    if moment.date() == now_local.date():
        return moment.strftime("%H:%M")
    return moment.strftime("%Y-%m-%d %H:%M")


def _refuse(reason: str, message: str, previous: PastScan | None = None, **params: str) -> Decision:
    return Decision(False, reason, message, dict(params), previous)


def check_static(rules: ListRules, *, type_number: int, now_local: dt.datetime) -> Decision | None:
    """The checks that need no log (ticket type, time windows) for an entry: a refusal, or None
    when they pass."""
    if rules.types is not None and type_number not in rules.types:
        return _refuse(NOT_ALLOWED, MSG_TYPE)
    if rules.windows and not any(w.holds(now_local) for w in rules.windows):
        coming = [w.opens for w in rules.windows if w.opens > now_local]
        if coming:
            return _refuse(OUTSIDE_TIME, MSG_OPENS, time=_clock(min(coming), now_local))
        closed = max(w.closes for w in rules.windows)
        return _refuse(OUTSIDE_TIME, MSG_CLOSED, time=_clock(closed, now_local))
    return None


def already_checked_in(previous: PastScan, *, now_local: dt.datetime, tz: dt.tzinfo) -> Decision:
    """The refusal of an entry already admitted by ``previous`` (the scan path's answer when its
    conditional insert finds the slot taken)."""
    return _refuse(
        ALREADY,
        MSG_ALREADY,
        previous,
        gate=previous.gate,
        time=_clock(previous.at.astimezone(tz).replace(tzinfo=None), now_local),
    )


def slot_of(rules: ListRules, now_local: dt.datetime) -> int:
    """The slot of an entry on a ``once`` or ``daily`` list (no log needed)."""
    mode = rules.slot_mode()
    if mode == "once":
        return 0
    if mode == "daily":
        return now_local.date().toordinal()
    raise ValueError("a counted list's slot comes from the ticket's log")


def _ordered(scans: Sequence[PastScan]) -> list[PastScan]:
    return sorted(scans, key=lambda s: s.at)


def evaluate(
    rules: ListRules,
    *,
    type_number: int,
    now_local: dt.datetime,
    direction: str,
    history: Sequence[PastScan],
    venue_entries: Sequence[PastScan],
    inside: int,
    tz: dt.tzinfo,
) -> Decision:
    """Decide a scan. ``history`` is the ticket's admitted scans on this list, ``venue_entries`` its
    admitted scans on ``rules.after_list`` (entries; exits are taken into account when given),
    ``inside`` the list's count of people inside now, ``tz`` the event's time zone (for local days)."""
    log = _ordered(history)
    last = log[-1] if log else None
    is_inside = last is not None and last.direction == ENTRY
    if direction == EXIT:
        if not rules.records_exits():
            return _refuse(NOT_ALLOWED, MSG_NO_EXITS)
        if not is_inside:
            return _refuse(NOT_ALLOWED, MSG_NOT_INSIDE)
        return Decision(True, None, MSG_EXIT)
    if direction != ENTRY:
        raise ValueError(f"unknown direction {direction!r}")

    static = check_static(rules, type_number=type_number, now_local=now_local)
    if static is not None:
        return static

    if rules.after_list is not None:
        venue = _ordered(venue_entries)
        if not venue or venue[-1].direction != ENTRY:
            return _refuse(NOT_ALLOWED, MSG_VENUE)

    entries = [s for s in log if s.direction == ENTRY]
    today = now_local.date()
    mode = rules.slot_mode()
    if mode == "daily":
        taken = [s for s in entries if s.at.astimezone(tz).date() == today]
        if taken:
            return already_checked_in(taken[-1], now_local=now_local, tz=tz)
        return Decision(True, None, MSG_WELCOME, slot=today.toordinal())
    if mode == "once":
        if entries:
            return already_checked_in(entries[-1], now_local=now_local, tz=tz)
        return Decision(True, None, MSG_WELCOME, slot=0)

    reentry = rules.reentry_after_exit and last is not None and last.direction == EXIT
    if not reentry and rules.entries_total is not None:
        # Entries that count: every entry not admitted as a re-entry after an exit.
        counted = 0
        previous: PastScan | None = None
        for scan in log:
            if scan.direction == ENTRY and not (
                rules.reentry_after_exit and previous is not None and previous.direction == EXIT
            ):
                counted += 1
            previous = scan
        if counted >= rules.entries_total:
            return already_checked_in(entries[-1], now_local=now_local, tz=tz)
    if rules.entries_per_day is not None:
        taken = [s for s in entries if s.at.astimezone(tz).date() == today]
        if len(taken) >= rules.entries_per_day:
            if rules.entries_per_day == 1:
                return already_checked_in(taken[-1], now_local=now_local, tz=tz)
            return _refuse(ALREADY, MSG_ALREADY_TODAY, taken[-1], count=str(len(taken)))
    if rules.capacity is not None and inside >= rules.capacity:
        return _refuse(CAPACITY, MSG_FULL, capacity=str(rules.capacity))
    return Decision(True, None, MSG_WELCOME, slot=len(entries))


__all__ = [
    "ALREADY",
    "CAPACITY",
    "MESSAGES",
    "NOT_ALLOWED",
    "OUTSIDE_TIME",
    "Decision",
    "ListRules",
    "PastScan",
    "RulesError",
    "Window",
    "already_checked_in",
    "check_static",
    "evaluate",
    "slot_of",
]
