"""Support promised versus delivered over HTTP: managers promise, deliver and withdraw; everyone who
sees the startup reads the gap; quantities are exact decimals; deliveries never exceed a promise,
not even twenty at once; and ``support_gap`` agrees with a plain model over random promises and
deliveries."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from backend.audit import AuditEntry
from incubator.milestones import service
from incubator.tables import SupportDelivery, SupportPromise
from tests.integration import test_incubator_milestones as milestones_tests
from tests.integration.incubator_world import World

pytestmark = pytest.mark.anyio
world, as_ = milestones_tests.world, milestones_tests.as_  # the same world and clients (fixtures)

TODAY = service.today()


def support_url(world: World, who: str = "startup") -> str:
    return f"/api/v1/incubator/startups/{world.ids[who]}/support"


async def promise(client, world: World, **body) -> dict:
    body = {"kind": "cloud_credits", "quantity": "1000", "unit": "USD", **body}
    answer = await client.post(f"{support_url(world)}/promises", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()


async def deliver(client, promise_id: int, quantity, on: dt.date = TODAY, note: str = ""):
    body = {"quantity": quantity, "delivered_on": on.isoformat(), "note": note}
    return await client.post(f"/api/v1/incubator/promises/{promise_id}/deliveries", json=body)


async def test_managers_promise_and_deliver_and_everyone_on_the_file_reads_the_gap(world, as_):
    manager = await as_("manager")
    credits = await promise(
        manager, world, quantity=1000.5, due_on=(TODAY - dt.timedelta(days=1)).isoformat()
    )
    assert (credits["quantity"], credits["gap"], credits["overdue"]) == ("1000.50", "1000.50", True)
    first = await deliver(manager, credits["id"], "0.25", note="First tranche")
    assert first.status_code == 201, first.text
    second = await deliver(manager, credits["id"], 0.25)
    assert (second.json()["delivered"], second.json()["gap"]) == ("0.50", "1000.00")
    rest = await deliver(manager, credits["id"], "1000.00")
    assert (rest.json()["gap"], rest.json()["overdue"]) == ("0.00", False)
    for who in ("founder", "mentor", "cohort_mentor", "org_admin"):
        support = (await (await as_(who)).get(support_url(world))).json()
        assert support["gap"]["promises"] == 2, who  # the world's training hours and these credits
        lines = {
            (x["kind"], x["unit"]): (x["promised"], x["delivered"], x["gap"]) for x in support["gap"]["lines"]
        }
        assert lines == {
            ("cloud_credits", "USD"): ("1000.50", "1000.50", "0.00"),
            ("training_hours", "hours"): ("20.00", "10.00", "10.00"),
        }
        assert (support["gap"]["open"], support["gap"]["overdue"]) == (1, 0)
    for who in ("viewer", "outsider", "other_founder"):
        assert (await (await as_(who)).get(support_url(world))).status_code == 404, who
    assert await AuditEntry.count().where(AuditEntry.action == "incubator.support_delivered") == 3


async def test_only_managers_change_support(world, as_):
    body = {"kind": "funding", "quantity": "5", "unit": "k CNY"}
    for who, status in (("founder", 403), ("mentor", 403), ("viewer", 404), ("outsider", 404)):
        client = await as_(who)
        assert (await client.post(f"{support_url(world)}/promises", json=body)).status_code == status, who
        assert (await deliver(client, world.ids["promise"], "1")).status_code == status, who
        assert (
            await client.post(f"/api/v1/incubator/promises/{world.ids['promise']}/withdraw")
        ).status_code == status
        evidence = {"url": "https://example.com/receipt"}
        url = f"/api/v1/incubator/deliveries/{world.ids['delivery']}/evidence/links"
        assert (await client.post(url, json=evidence)).status_code == status, who
    assert await SupportPromise.count() == 1
    assert await SupportDelivery.count() == 1


async def test_quantities_and_dates_are_checked(world, as_):
    manager = await as_("manager")
    url = f"{support_url(world)}/promises"
    for quantity in ("0", "-1", "0.001", "1e15", "NaN", "Infinity", 0, -0.5, "abc", "1,5", True, [1]):
        refused = await manager.post(url, json={"kind": "funding", "quantity": quantity})
        assert refused.status_code in (400, 422), quantity
        assert set(refused.json()["fields"]) == {"quantity"}, quantity
    left = await deliver(manager, world.ids["promise"], "10.01")
    assert (left.status_code, left.json()["code"], set(left.json()["fields"])) == (
        409,
        "delivery_exceeds_promise",
        {"quantity"},
    )
    assert "10.00" in left.json()["detail"]
    future = await deliver(manager, world.ids["promise"], "1", on=TODAY + dt.timedelta(days=1))
    assert (future.status_code, set(future.json()["fields"])) == (422, {"delivered_on"})
    withdrawn = await manager.post(f"/api/v1/incubator/promises/{world.ids['promise']}/withdraw")
    assert (withdrawn.json()["gap"], withdrawn.json()["delivered"]) == ("0.00", "10.00")
    again = await manager.post(f"/api/v1/incubator/promises/{world.ids['promise']}/withdraw")
    assert (again.status_code, again.json()["code"]) == (409, "promise_withdrawn")
    late = await deliver(manager, world.ids["promise"], "1")
    assert (late.status_code, late.json()["code"]) == (409, "promise_withdrawn")
    gap = (await manager.get(support_url(world))).json()["gap"]
    assert (gap["promises"], gap["lines"]) == (0, [])


async def test_delivery_evidence_is_a_managers_link_or_file(world, as_):
    manager = await as_("manager")
    base = f"/api/v1/incubator/deliveries/{world.ids['delivery']}/evidence"
    link = await manager.post(f"{base}/links", json={"url": "https://example.com/attendance.pdf"})
    assert link.status_code == 201, link.text
    sent = await manager.post(
        f"{base}/files", files={"file": ("sheet.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 32, "image/jpeg")}
    )
    assert (sent.status_code, sent.json()["content_type"]) == (201, "image/jpeg")
    delivery = (await (await as_("founder")).get(support_url(world))).json()["promises"][0]["deliveries"][0]
    assert [e["kind"] for e in delivery["evidence"]] == ["link", "file"]
    got = await (await as_("founder")).get(sent.json()["download_url"])
    assert got.status_code == 200
    # founders may not remove what managers added
    assert (
        await (await as_("founder")).delete(f"/api/v1/incubator/evidence/{link.json()['id']}")
    ).status_code == 403


async def test_twenty_deliveries_at_once_never_exceed_the_promise(world, as_):
    manager = await as_("manager")
    answers = await asyncio.gather(*(deliver(manager, world.ids["promise"], "1.5") for _ in range(20)))
    codes = [r.status_code for r in answers]
    assert codes.count(201) == 6, codes  # 10 left: six deliveries of 1.5 fit, the seventh would not
    assert set(codes) == {201, 409}
    support = (await manager.get(support_url(world))).json()["promises"][0]
    assert (support["delivered"], support["gap"]) == ("19.00", "1.00")
    assert await SupportDelivery.count() == 7


# The gap against a plain model -------------------------------------------------------------------

AMOUNT = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("100000"), places=2)
PROMISES = st.lists(
    st.tuples(
        st.integers(0, 2),  # which startup
        st.sampled_from(["cloud_credits", "funding", "training_hours"]),
        st.sampled_from(["", "USD", "hours"]),
        AMOUNT,
        st.one_of(st.none(), st.integers(-30, 30)),  # due in days from today
        st.booleans(),  # withdrawn
        st.lists(st.integers(1, 100), max_size=4),  # deliveries, in percent of what is left
    ),
    max_size=8,
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(promises=PROMISES)
async def test_support_gap_adds_up_like_a_plain_model(world, promises):
    await SupportDelivery.delete(force=True)
    await SupportPromise.delete(force=True)
    startups = [world.ids["startup"], world.ids["other_startup"], 10_000]  # the last one is no startup
    want: dict[int, dict] = {s: {"promises": 0, "open": 0, "overdue": 0, "lines": {}} for s in startups}
    rows, parts_of = [], []
    for which, kind, unit, quantity, due, withdrawn, parts in promises:
        startup = startups[min(which, 1)]
        due_on = None if due is None else TODAY + dt.timedelta(days=due)
        withdrawn_at = dt.datetime.now(dt.UTC) if withdrawn else None
        rows.append(
            SupportPromise(
                startup=startup,
                kind=kind,
                quantity=quantity,
                unit=unit,
                due_on=due_on,
                withdrawn_at=withdrawn_at,
            )
        )
        delivered, amounts = Decimal("0"), []
        for percent in parts:
            part = ((quantity - delivered) * percent / 100).quantize(Decimal("0.01"))
            if part > 0:
                amounts.append(part)
                delivered += part
        parts_of.append(amounts)
        if withdrawn:
            continue
        gap = quantity - delivered
        model = want[startup]
        model["promises"] += 1
        model["open"] += gap > 0
        model["overdue"] += gap > 0 and due_on is not None and due_on < TODAY
        line = model["lines"].setdefault((kind, unit), [Decimal(0), Decimal(0), Decimal(0)])
        for i, value in enumerate((quantity, delivered, gap)):
            line[i] += value
    if rows:
        ids = [r["id"] for r in await SupportPromise.insert(*rows)]
        deliveries = [
            SupportDelivery(promise=promise_id, quantity=amount, delivered_on=TODAY)
            for promise_id, amounts in zip(ids, parts_of, strict=True)
            for amount in amounts
        ]
        if deliveries:
            await SupportDelivery.insert(*deliveries)
    found = await service.support_gap(startups)
    assert set(found) == set(startups)
    for startup, model in want.items():
        gap = found[startup]
        assert (gap.promises, gap.open, gap.overdue) == (model["promises"], model["open"], model["overdue"])
        lines = {(x.kind.value, x.unit): [x.promised, x.delivered, x.gap] for x in gap.lines}
        assert lines == model["lines"]
        for x in gap.lines:
            assert x.promised - x.delivered == x.gap
            assert all(v == v.quantize(Decimal("0.01")) for v in (x.promised, x.delivered, x.gap))
