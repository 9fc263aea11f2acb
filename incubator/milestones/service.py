"""A startup's milestones with their evidence, and the support the programme promised it against
what was delivered: one function per change, each check access → validate → write in one
transaction → audit (``incubator.<kind>``) → answer.

Who does what: everyone who sees the startup's file (``view_startup``: its managers, founders and
mentors) reads its milestones and its support, and downloads their evidence. The programme's managers
and the startup's founders plan milestones, move them along and back them with evidence; only the
managers promise support, withdraw promises and record deliveries. Evidence is removed by whoever
added it or by a manager.

A milestone moves planned → in_progress → achieved or dropped (a planned one may be dropped too);
achieved and dropped are final. It is overdue when its due date has passed and it is neither. Each
state change is made under the milestone's row lock, so two people moving it at once cannot both
succeed from the same state.

A promise's gap is its quantity less what was delivered of it (a withdrawn promise has none left to
give); it is overdue when its due date has passed with a gap left. Deliveries never exceed what is
left of a promise: recorded under the promise's row lock, so concurrent deliveries cannot overshoot.
Quantities are Decimals with two decimals, added up in Python (never as floats, on either engine).

Evidence files are checked from their content (PDF, PNG or JPEG, at most :data:`EVIDENCE_MAX`
bytes, refused the moment the stream passes it) and kept in the storage under
``incubator/<startup>/``; a failed upload leaves no file, a removed evidence's file goes after commit.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import unicodedata
from collections import defaultdict
from collections.abc import AsyncIterable, AsyncIterator, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import anyio

from backend.db import locked_row, on_commit, transaction, utcnow
from backend.errors import Conflict, DomainError, FieldChecks, Forbidden, NotFound, Term
from backend.policy import Action, Principal, decide, refuse_unless_allowed
from backend.teams.materials import is_link
from backend.teams.storage import TooLarge, storage
from incubator.access import StartupAccess, allowed, startup_access
from incubator.history import incubator_changed
from incubator.milestones.schemas import (
    DeliveryIn,
    DeliveryOut,
    EvidenceOut,
    Gap,
    GapLine,
    MilestoneIn,
    MilestoneOut,
    MilestonePatch,
    PromiseIn,
    PromiseOut,
    SupportOut,
)
from incubator.tables import (
    Evidence,
    EvidenceKind,
    Milestone,
    MilestoneState,
    SupportDelivery,
    SupportKind,
    SupportPromise,
)

logger = logging.getLogger("podium.incubator.milestones")

MiB = 1024 * 1024
EVIDENCE_MAX = 10 * MiB
# A file's type, told from its first bytes (never from its name or the type the client claims).
FILE_TYPES = (
    (b"%PDF-", "application/pdf", ".pdf"),
    (b"\x89PNG\r\n\x1a\n", "image/png", ".png"),
    (b"\xff\xd8\xff", "image/jpeg", ".jpg"),
)
FILE_NAME_MAX = 200
CENT = Decimal("0.01")
QUANTITY_MAX = Decimal("999999999999.99")  # NUMERIC(14, 2)
ZERO = Decimal("0.00")

OPEN_STATES = frozenset({MilestoneState.planned, MilestoneState.in_progress})
TRANSITIONS: dict[MilestoneState, frozenset[MilestoneState]] = {
    MilestoneState.planned: frozenset({MilestoneState.in_progress, MilestoneState.dropped}),
    MilestoneState.in_progress: frozenset({MilestoneState.achieved, MilestoneState.dropped}),
    MilestoneState.achieved: frozenset(),
    MilestoneState.dropped: frozenset(),
}

PLANNERS_ONLY = "Only the programme's managers and the startup's founders may do this"
REMOVERS_ONLY = "Only who added the evidence and the programme's managers may remove it"


def today() -> dt.date:
    """The day it is (UTC): what due dates are compared with."""
    return utcnow().date()


# Access -----------------------------------------------------------------------------------------


async def _reader(principal: Principal, startup_id: int) -> StartupAccess:
    return await startup_access(principal, startup_id, Action.view_startup)


def is_manager(principal: Principal, access: StartupAccess) -> bool:
    return allowed(principal, Action.manage_programme, access.context)


def may_plan(principal: Principal, access: StartupAccess) -> bool:
    """Managers and founders plan milestones and back them with evidence."""
    return is_manager(principal, access) or allowed(principal, Action.act_for_startup, access.context)


async def _planner(principal: Principal, startup_id: int) -> StartupAccess:
    access = await _reader(principal, startup_id)
    if not may_plan(principal, access):
        raise Forbidden(PLANNERS_ONLY)
    return access


async def _manager(principal: Principal, startup_id: int) -> StartupAccess:
    access = await _reader(principal, startup_id)
    outcome = decide(principal, Action.manage_programme, programme=access.context)
    refuse_unless_allowed(outcome, Action.manage_programme, "Startup")
    return access


async def _row(table: type, row_id: int, what: str) -> dict[str, Any]:
    row = await table.select().where(table.id == row_id).first()
    if row is None:
        raise NotFound(what)
    return row


async def _delivery_startup(delivery_id: int) -> tuple[dict[str, Any], int]:
    row = await (
        SupportDelivery.select(
            SupportDelivery.all_columns(), SupportDelivery.promise.startup.as_alias("startup")
        )
        .where(SupportDelivery.id == delivery_id)
        .first()
    )
    if row is None:
        raise NotFound("Support delivery")
    return row, row["startup"]


# Answers ----------------------------------------------------------------------------------------


def evidence_out(row: dict[str, Any]) -> EvidenceOut:
    out = EvidenceOut(
        id=row["id"],
        startup_id=row["startup"],
        milestone_id=row["milestone"],
        delivery_id=row["delivery"],
        kind=row["kind"],
        added_by_id=row["added_by"],
        created_at=row["created_at"],
    )
    if row["kind"] == EvidenceKind.link.value:
        out.url = row["url"]
    else:
        out.filename, out.content_type, out.size = row["filename"], row["content_type"], row["size"]
        out.download_url = f"/api/v1/incubator/evidence/{row['id']}/file"
    return out


async def _evidence_of(column: Any, ids: Iterable[int]) -> dict[int, list[EvidenceOut]]:
    ids = list(ids)
    found: dict[int, list[EvidenceOut]] = defaultdict(list)
    if ids:
        for row in await Evidence.select().where(column.is_in(ids)).order_by(Evidence.id):
            found[row[column._meta.name]].append(evidence_out(row))
    return found


def is_overdue(due_on: dt.date, state: str, on: dt.date) -> bool:
    """A milestone past its due date that is neither achieved nor dropped."""
    return due_on < on and MilestoneState(state) in OPEN_STATES


def _milestone_out(row: dict[str, Any], evidence: list[EvidenceOut], on: dt.date) -> MilestoneOut:
    return MilestoneOut(
        id=row["id"],
        startup_id=row["startup"],
        title=row["title"],
        description=row["description"],
        due_on=row["due_on"],
        state=MilestoneState(row["state"]),
        achieved_on=row["achieved_on"],
        overdue=is_overdue(row["due_on"], row["state"], on),
        created_by_id=row["created_by"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        evidence=evidence,
    )


async def _milestone(milestone_id: int) -> MilestoneOut:
    row = await _row(Milestone, milestone_id, "Milestone")
    evidence = await _evidence_of(Evidence.milestone, [milestone_id])
    return _milestone_out(row, evidence[milestone_id], today())


# Milestones -------------------------------------------------------------------------------------


async def list_milestones(principal: Principal, startup_id: int) -> list[MilestoneOut]:
    """The startup's milestones by due date, each with its evidence and overdue flag."""
    await _reader(principal, startup_id)
    rows = (
        await Milestone.select()
        .where(Milestone.startup == startup_id)
        .order_by(Milestone.due_on, Milestone.id)
    )
    evidence = await _evidence_of(Evidence.milestone, (r["id"] for r in rows))
    on = today()
    return [_milestone_out(r, evidence[r["id"]], on) for r in rows]


async def get_milestone(principal: Principal, milestone_id: int) -> MilestoneOut:
    row = await _row(Milestone, milestone_id, "Milestone")
    await _reader(principal, row["startup"])
    return await _milestone(milestone_id)


async def create_milestone(principal: Principal, startup_id: int, data: MilestoneIn) -> MilestoneOut:
    """Plan a milestone for the startup (managers and founders)."""
    access = await _planner(principal, startup_id)
    async with transaction():
        row = Milestone(
            startup=startup_id,
            title=data.title.strip(),
            description=data.description.strip(),
            due_on=data.due_on,
            created_by=principal.id,
        )
        await row.save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "milestone_created",
            "incubation_milestone",
            row.id,
            startup=startup_id,
        )
    return await _milestone(row.id)


def _state_term(state: str) -> Term:
    return Term(state, "milestone state")


def check_transition(current: MilestoneState, wanted: MilestoneState) -> None:
    """409 unless a milestone may go from ``current`` to ``wanted`` (staying put is no move)."""
    if wanted != current and wanted not in TRANSITIONS[current]:
        raise Conflict(
            "milestone_state",
            "A milestone that is {current} cannot become {wanted}",
            fields={"state": "cannot follow {current}"},
            params={"current": _state_term(current), "wanted": _state_term(wanted)},
        )


async def update_milestone(principal: Principal, milestone_id: int, data: MilestonePatch) -> MilestoneOut:
    """Change a milestone's title, description, due date or state (managers and founders)."""
    found = await _row(Milestone, milestone_id, "Milestone")
    access = await _planner(principal, found["startup"])
    checks = FieldChecks()
    changes: dict[Any, Any] = {}
    if data.title is not None:
        changes[Milestone.title] = data.title.strip()
    if data.description is not None:
        changes[Milestone.description] = data.description.strip()
    if data.due_on is not None:
        changes[Milestone.due_on] = data.due_on
    on = today()
    if data.achieved_on is not None and data.achieved_on > on:
        checks.add(
            "validation_error", "Invalid input: {problems}", "achieved_on", "must not be in the future"
        )
    checks.raise_if_any(422)
    async with transaction():
        row = await locked_row(Milestone, milestone_id)
        if row is None:
            raise NotFound("Milestone")
        current = MilestoneState(row["state"])
        state = data.state or current
        check_transition(current, state)
        if data.achieved_on is not None and state is not MilestoneState.achieved:
            raise DomainError(
                "validation_error",
                "Invalid input: {problems}",
                status_code=422,
                fields={"achieved_on": "goes with the state achieved only"},
            )
        if state != current:
            changes[Milestone.state] = state.value
            if state is MilestoneState.achieved:
                changes[Milestone.achieved_on] = data.achieved_on or on
        elif data.achieved_on is not None:
            changes[Milestone.achieved_on] = data.achieved_on
        changed = {column._meta.name for column, value in changes.items() if row[column._meta.name] != value}
        if not changed:
            return await _milestone(milestone_id)
        changes[Milestone.updated_at] = utcnow()
        await Milestone.update(changes).where(Milestone.id == milestone_id)
        extra = {"state": state.value, "from_state": current.value} if state != current else {}
        await incubator_changed(
            principal.id,
            access.programme_id,
            "milestone_updated",
            "incubation_milestone",
            milestone_id,
            startup=row["startup"],
            fields=sorted(changed),
            **extra,
        )
    return await _milestone(milestone_id)


# Evidence ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class EvidenceTarget:
    """What evidence is being added to: a milestone or a delivery of a startup."""

    access: StartupAccess
    milestone_id: int | None = None
    delivery_id: int | None = None


async def milestone_target(principal: Principal, milestone_id: int) -> EvidenceTarget:
    """A milestone the caller may back with evidence (asked before an upload's body is read)."""
    row = await _row(Milestone, milestone_id, "Milestone")
    return EvidenceTarget(await _planner(principal, row["startup"]), milestone_id=milestone_id)


async def delivery_target(principal: Principal, delivery_id: int) -> EvidenceTarget:
    """A delivery the caller (a manager) may back with evidence."""
    _, startup_id = await _delivery_startup(delivery_id)
    return EvidenceTarget(await _manager(principal, startup_id), delivery_id=delivery_id)


def check_link(url: str) -> str:
    """``url`` if it is an http(s) address of a host with nothing hidden in it, else a 422."""
    url = url.strip()
    if not is_link(url, ("http", "https")):
        raise DomainError(
            "validation_error",
            "Invalid input: {problems}",
            status_code=422,
            fields={"url": "must be an http:// or https:// link, such as https://example.com/report"},
        )
    return url


async def _add(principal: Principal, target: EvidenceTarget, values: dict[str, Any]) -> EvidenceOut:
    access = target.access
    async with transaction():
        parent = (
            await locked_row(Milestone, target.milestone_id)
            if target.milestone_id is not None
            else await locked_row(SupportDelivery, target.delivery_id)
        )
        if parent is None:  # removed since the check
            raise NotFound("Milestone" if target.milestone_id is not None else "Support delivery")
        row = Evidence(
            startup=access.startup_id,
            milestone=target.milestone_id,
            delivery=target.delivery_id,
            added_by=principal.id,
            **values,
        )
        await row.save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "evidence_added",
            "incubation_evidence",
            row.id,
            startup=access.startup_id,
            milestone=target.milestone_id,
            delivery=target.delivery_id,
            evidence=values["kind"],
        )
    return evidence_out(row.to_dict())


async def add_link(principal: Principal, target: EvidenceTarget, url: str) -> EvidenceOut:
    """A link as evidence."""
    return await _add(principal, target, {"kind": EvidenceKind.link.value, "url": check_link(url)})


class _Sniff:
    """Keeps a stream's first bytes as it passes, to tell its type from its content."""

    def __init__(self) -> None:
        self.head = b""

    async def watch(self, chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
        async for chunk in chunks:
            if len(self.head) < 16:
                self.head = (self.head + chunk)[:16]
            yield chunk

    def type(self) -> tuple[str, str] | None:
        """The content type and file extension, or ``None`` for a type evidence may not be."""
        for magic, content_type, extension in FILE_TYPES:
            if self.head.startswith(magic):
                return content_type, extension
        return None


def safe_name(name: str | None, extension: str) -> str:
    """The client's file name, harmless to show and send back: its last path component, without
    control, format or bidirectional characters, not hidden, at most :data:`FILE_NAME_MAX`
    characters, ending in the extension of its real type (``evidence<ext>`` when nothing is left)."""
    name = unicodedata.normalize("NFC", name or "")
    name = re.split(r"[/\\]", name)[-1]
    name = "".join(c for c in name if not unicodedata.category(c).startswith(("C", "Z")) or c == " ")
    name = " ".join(name.split()).lstrip(". ")
    stem, dot, ext = name.rpartition(".")
    if dot and f".{ext.lower()}" in {e for _, _, e in FILE_TYPES} | {".jpeg"}:
        name = stem
    name = name[: FILE_NAME_MAX - len(extension)].rstrip(". ")
    return f"{name or 'evidence'}{extension}"


def file_too_large() -> DomainError:
    return DomainError(
        "evidence_too_large",
        "The file is larger than {limit} MiB",
        status_code=413,
        fields={"file": "must be at most {limit} MiB"},
        params={"limit": EVIDENCE_MAX // MiB},
    )


def not_a_file_type() -> DomainError:
    return DomainError(
        "evidence_type",
        "Evidence files must be PDF documents or PNG or JPEG images",
        status_code=415,
        fields={"file": "must be a PDF, PNG or JPEG file"},
    )


async def add_file(
    principal: Principal, target: EvidenceTarget, file_name: str | None, chunks: AsyncIterable[bytes]
) -> EvidenceOut:
    """An uploaded file as evidence: at most :data:`EVIDENCE_MAX` bytes, a PDF, PNG or JPEG by its
    content. Nothing is left behind when it is refused."""
    sniff = _Sniff()
    try:
        stored = await storage().save(
            f"incubator/{target.access.startup_id}", sniff.watch(chunks), EVIDENCE_MAX
        )
    except TooLarge:
        raise file_too_large() from None
    try:
        kind = sniff.type()
        if kind is None or stored.size == 0:
            raise not_a_file_type()
        content_type, extension = kind
        values = {
            "kind": EvidenceKind.file.value,
            "storage_key": stored.key,
            "filename": safe_name(file_name, extension),
            "content_type": content_type,
            "size": stored.size,
        }
        return await _add(principal, target, values)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await storage().delete(stored.key)
        raise


async def _evidence(principal: Principal, evidence_id: int) -> tuple[dict[str, Any], StartupAccess]:
    row = await _row(Evidence, evidence_id, "Evidence")
    return row, await _reader(principal, row["startup"])


async def open_file(principal: Principal, evidence_id: int) -> tuple[EvidenceOut, AsyncIterator[bytes]]:
    """An evidence file, if the caller sees its startup, with its bytes."""
    row, _ = await _evidence(principal, evidence_id)
    if row["kind"] != EvidenceKind.file.value:
        raise DomainError("not_found", "This evidence is a link, not a file", status_code=404)
    files = storage()
    if not await files.exists(row["storage_key"]):  # removed from the disk by hand: say so first
        logger.error("evidence %s: its file %s is missing", evidence_id, row["storage_key"])
        raise NotFound("Evidence")
    return evidence_out(row), files.open(row["storage_key"])


def may_remove(principal: Principal, access: StartupAccess, row: dict[str, Any]) -> bool:
    """Managers, and whoever added it while they may still add evidence there."""
    if is_manager(principal, access):
        return True
    return row["added_by"] == principal.id and row["milestone"] is not None and may_plan(principal, access)


async def delete_evidence(principal: Principal, evidence_id: int) -> None:
    """Remove a link or a file (its file goes once the removal is committed)."""
    row, access = await _evidence(principal, evidence_id)
    if not may_remove(principal, access, row):
        raise Forbidden(REMOVERS_ONLY)
    async with transaction():
        await Evidence.delete().where(Evidence.id == evidence_id)
        await incubator_changed(
            principal.id,
            access.programme_id,
            "evidence_removed",
            "incubation_evidence",
            evidence_id,
            startup=row["startup"],
            milestone=row["milestone"],
            delivery=row["delivery"],
        )
        if row["storage_key"]:
            key = row["storage_key"]

            async def remove() -> None:
                await storage().delete(key)

            on_commit(remove)


# Support: the arithmetic ------------------------------------------------------------------------


def check_quantity(checks: FieldChecks, value: Decimal, field: str = "quantity") -> Decimal:
    """A quantity above zero with at most two decimals, within the column."""
    if not value.is_finite() or value <= 0:
        checks.add("validation_error", "Invalid input: {problems}", field, "must be above zero")
    elif value > QUANTITY_MAX:
        checks.add(
            "validation_error", "Invalid input: {problems}", field, "must be at most {max}", max=QUANTITY_MAX
        )
    elif value != value.quantize(CENT):
        checks.add("validation_error", "Invalid input: {problems}", field, "must have at most two decimals")
    else:
        return value.quantize(CENT)
    return value


@dataclass(frozen=True)
class Figures:
    """A promise's delivered quantity, its gap and whether it is overdue."""

    delivered: Decimal
    gap: Decimal
    overdue: bool


def figures(
    quantity: Decimal, delivered: Iterable[Decimal], due_on: dt.date | None, withdrawn: bool, on: dt.date
) -> Figures:
    """What is left of a promise: nothing once withdrawn; overdue past its due date with a gap left."""
    total = sum((Decimal(d) for d in delivered), ZERO).quantize(CENT)
    gap = ZERO if withdrawn else max(Decimal(quantity) - total, ZERO).quantize(CENT)
    return Figures(total, gap, bool(gap > 0 and due_on is not None and due_on < on))


@dataclass(frozen=True)
class PromiseFigures:
    """One promise as the gap adds it up."""

    kind: str
    unit: str
    quantity: Decimal
    withdrawn: bool
    figures: Figures


def gap_of(promises: Iterable[PromiseFigures]) -> Gap:
    """A startup's gap: its live promises counted and added up per kind and unit (in the order of
    :class:`SupportKind`, then unit)."""
    lines: dict[tuple[str, str], list[Decimal]] = {}
    count = open_ = overdue = 0
    for p in promises:
        if p.withdrawn:
            continue
        count += 1
        open_ += p.figures.gap > 0
        overdue += p.figures.overdue
        line = lines.setdefault((p.kind, p.unit), [ZERO, ZERO, ZERO])
        line[0] += p.quantity
        line[1] += p.figures.delivered
        line[2] += p.figures.gap
    order = list(SupportKind)
    return Gap(
        promises=count,
        open=open_,
        overdue=overdue,
        lines=[
            GapLine(kind=SupportKind(kind), unit=unit, promised=v[0], delivered=v[1], gap=v[2])
            for (kind, unit), v in sorted(
                lines.items(), key=lambda i: (order.index(SupportKind(i[0][0])), i[0][1])
            )
        ],
    )


async def _promise_rows(
    startup_ids: list[int],
) -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    if not startup_ids:
        return [], {}
    promises = (
        await SupportPromise.select()
        .where(SupportPromise.startup.is_in(startup_ids))
        .order_by(SupportPromise.id)
    )
    deliveries: dict[int, list[dict[str, Any]]] = defaultdict(list)
    if promises:
        rows = await (
            SupportDelivery.select()
            .where(SupportDelivery.promise.is_in([p["id"] for p in promises]))
            .order_by(SupportDelivery.delivered_on, SupportDelivery.id)
        )
        for row in rows:
            deliveries[row["promise"]].append(row)
    return promises, deliveries


def _figures(promise: dict[str, Any], deliveries: list[dict[str, Any]], on: dt.date) -> PromiseFigures:
    withdrawn = promise["withdrawn_at"] is not None
    return PromiseFigures(
        kind=promise["kind"],
        unit=promise["unit"],
        quantity=Decimal(promise["quantity"]).quantize(CENT),
        withdrawn=withdrawn,
        figures=figures(
            promise["quantity"], (d["quantity"] for d in deliveries), promise["due_on"], withdrawn, on
        ),
    )


async def support_gap(startup_ids: Iterable[int], on: dt.date | None = None) -> dict[int, Gap]:
    """Each startup's support gap (every startup asked for has one, maybe empty): for the dashboards.
    No access check: the caller has made it."""
    ids = sorted(set(startup_ids))
    on = on or today()
    promises, deliveries = await _promise_rows(ids)
    per_startup: dict[int, list[PromiseFigures]] = {startup_id: [] for startup_id in ids}
    for promise in promises:
        per_startup[promise["startup"]].append(_figures(promise, deliveries[promise["id"]], on))
    return {startup_id: gap_of(found) for startup_id, found in per_startup.items()}


def _delivery_out(row: dict[str, Any], evidence: list[EvidenceOut]) -> DeliveryOut:
    return DeliveryOut(
        id=row["id"],
        promise_id=row["promise"],
        quantity=Decimal(row["quantity"]).quantize(CENT),
        delivered_on=row["delivered_on"],
        note=row["note"],
        recorded_by_id=row["recorded_by"],
        created_at=row["created_at"],
        evidence=evidence,
    )


def _promise_out(
    promise: dict[str, Any],
    deliveries: list[dict[str, Any]],
    evidence: dict[int, list[EvidenceOut]],
    on: dt.date,
) -> PromiseOut:
    found = _figures(promise, deliveries, on)
    return PromiseOut(
        id=promise["id"],
        startup_id=promise["startup"],
        kind=SupportKind(promise["kind"]),
        description=promise["description"],
        quantity=found.quantity,
        unit=promise["unit"],
        due_on=promise["due_on"],
        withdrawn_at=promise["withdrawn_at"],
        promised_by_id=promise["promised_by"],
        created_at=promise["created_at"],
        delivered=found.figures.delivered,
        gap=found.figures.gap,
        overdue=found.figures.overdue,
        deliveries=[_delivery_out(d, evidence[d["id"]]) for d in deliveries],
    )


async def _support(startup_id: int) -> SupportOut:
    promises, deliveries = await _promise_rows([startup_id])
    evidence = await _evidence_of(
        Evidence.delivery, (d["id"] for found in deliveries.values() for d in found)
    )
    on = today()
    return SupportOut(
        startup_id=startup_id,
        promises=[_promise_out(p, deliveries[p["id"]], evidence, on) for p in promises],
        gap=gap_of(_figures(p, deliveries[p["id"]], on) for p in promises),
    )


async def _promise(promise_id: int) -> PromiseOut:
    promise = await _row(SupportPromise, promise_id, "Support promise")
    support = await _support(promise["startup"])
    return next(p for p in support.promises if p.id == promise_id)


# Support: reading and changing ------------------------------------------------------------------


async def get_support(principal: Principal, startup_id: int) -> SupportOut:
    """What was promised to the startup and delivered, with the gap (whoever sees the startup)."""
    await _reader(principal, startup_id)
    return await _support(startup_id)


async def create_promise(principal: Principal, startup_id: int, data: PromiseIn) -> PromiseOut:
    """Promise the startup support (managers)."""
    access = await _manager(principal, startup_id)
    checks = FieldChecks()
    quantity = check_quantity(checks, data.quantity)
    checks.raise_if_any(422)
    async with transaction():
        row = SupportPromise(
            startup=startup_id,
            kind=data.kind.value,
            description=data.description.strip(),
            quantity=quantity,
            unit=data.unit.strip(),
            due_on=data.due_on,
            promised_by=principal.id,
        )
        await row.save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "support_promised",
            "incubation_support_promise",
            row.id,
            startup=startup_id,
            support=data.kind.value,
            quantity=str(quantity),
            unit=row.unit,
        )
    return await _promise(row.id)


async def _promise_access(principal: Principal, promise_id: int) -> StartupAccess:
    promise = await _row(SupportPromise, promise_id, "Support promise")
    return await _manager(principal, promise["startup"])


def _withdrawn() -> Conflict:
    return Conflict("promise_withdrawn", "The promise was withdrawn", fields={"promise_id": "was withdrawn"})


async def withdraw_promise(principal: Principal, promise_id: int) -> PromiseOut:
    """Withdraw a promise (managers): what was delivered stays, nothing is left to deliver."""
    access = await _promise_access(principal, promise_id)
    async with transaction():
        row = await locked_row(SupportPromise, promise_id)
        if row is None:
            raise NotFound("Support promise")
        if row["withdrawn_at"] is not None:
            raise _withdrawn()
        await SupportPromise.update({SupportPromise.withdrawn_at: utcnow()}).where(
            SupportPromise.id == promise_id
        )
        await incubator_changed(
            principal.id,
            access.programme_id,
            "support_withdrawn",
            "incubation_support_promise",
            promise_id,
            startup=row["startup"],
        )
    return await _promise(promise_id)


async def record_delivery(principal: Principal, promise_id: int, data: DeliveryIn) -> PromiseOut:
    """Record part (or the rest) of a promise as delivered (managers): never more than is left, never
    on a withdrawn promise, never on a day still to come."""
    access = await _promise_access(principal, promise_id)
    checks = FieldChecks()
    quantity = check_quantity(checks, data.quantity)
    if data.delivered_on > today():
        checks.add(
            "validation_error", "Invalid input: {problems}", "delivered_on", "must not be in the future"
        )
    checks.raise_if_any(422)
    async with transaction():
        promise = await locked_row(SupportPromise, promise_id)
        if promise is None:
            raise NotFound("Support promise")
        if promise["withdrawn_at"] is not None:
            raise _withdrawn()
        delivered = await SupportDelivery.select(SupportDelivery.quantity).where(
            SupportDelivery.promise == promise_id
        )
        left = figures(promise["quantity"], (d["quantity"] for d in delivered), None, False, today()).gap
        if quantity > left:
            raise Conflict(
                "delivery_exceeds_promise",
                "Only {left} of the promise is left to deliver",
                fields={"quantity": "must be at most {left}"},
                params={"left": str(left)},
            )
        row = SupportDelivery(
            promise=promise_id,
            quantity=quantity,
            delivered_on=data.delivered_on,
            note=data.note.strip(),
            recorded_by=principal.id,
        )
        await row.save()
        await incubator_changed(
            principal.id,
            access.programme_id,
            "support_delivered",
            "incubation_support_delivery",
            row.id,
            startup=promise["startup"],
            promise=promise_id,
            quantity=str(quantity),
        )
    return await _promise(promise_id)
