"""Milestones and their evidence over HTTP: who plans them, how they move (and may not), when they are
overdue, links and files as evidence (types told from content, the size cap, nothing left behind by a
refusal, downloads for whoever sees the startup, removal by the adder or a manager), and two people
moving one milestone at once."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from backend.accounts.tables import ApiToken
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from incubator.milestones import service
from incubator.tables import Evidence, Milestone
from tests.integration.incubator_world import EVIDENCE_PNG, World, build_world
from tests.integration.snapshot import Snapshot

pytestmark = pytest.mark.anyio

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
PDF = b"%PDF-1.7\n1 0 obj\n<< >>\nendobj\nstartxref\n9\n%%EOF\n"
HTML = b"<!DOCTYPE html><html><script>alert(1)</script></html>"
TODAY = service.today()


_WORLD: Snapshot[World] = Snapshot("incubator_milestones")


async def _build() -> World:
    world = await build_world()
    await ApiToken.insert(
        *(
            ApiToken(user=user, name="tests", token_hash=token_digest(f"pdm_ms_{who}"))
            for who, user in world.users.items()
        )
    )
    return world


@pytest.fixture
async def world(db) -> World:
    return await _WORLD.restore(_build)


@pytest.fixture
def as_(make_client, world):
    """``await as_("founder")``: a client with that person's API token."""
    clients = {}

    async def factory(who: str):
        if who not in clients:
            clients[who] = await make_client()
            clients[who].headers["authorization"] = f"Bearer pdm_ms_{who}"
        return clients[who]

    return factory


async def audits(kind: str) -> int:
    return await AuditEntry.count().where(AuditEntry.action == f"incubator.{kind}")


def stored(settings, startup_id: int) -> set[str]:
    folder = settings.data_dir / "files" / "incubator" / str(startup_id)
    return {p.name for p in folder.iterdir()} if folder.exists() else set()


def milestones_url(world: World, who: str = "startup") -> str:
    return f"/api/v1/incubator/startups/{world.ids[who]}/milestones"


async def test_managers_and_founders_plan_milestones_and_move_them_on(world, as_):
    founder, manager = await as_("founder"), await as_("manager")
    created = await founder.post(
        milestones_url(world), json={"title": "  Ship to Kazakhstan ", "due_on": "2027-06-30"}
    )
    assert created.status_code == 201, created.text
    milestone = created.json()
    assert (milestone["title"], milestone["state"], milestone["overdue"]) == (
        "Ship to Kazakhstan",
        "planned",
        False,
    )
    assert await audits("milestone_created") == 1
    url = f"/api/v1/incubator/milestones/{milestone['id']}"
    moved = await manager.patch(url, json={"state": "in_progress"})
    assert moved.json()["state"] == "in_progress"
    achieved = await founder.patch(url, json={"state": "achieved"})
    assert (achieved.json()["state"], achieved.json()["achieved_on"]) == ("achieved", TODAY.isoformat())
    corrected = await founder.patch(url, json={"achieved_on": "2026-11-01"})
    assert corrected.json()["achieved_on"] == "2026-11-01"
    unchanged = await founder.patch(url, json={"title": "Ship to Kazakhstan"})
    assert unchanged.status_code == 200
    assert await audits("milestone_updated") == 3  # nothing changed: no entry
    back = await manager.patch(url, json={"state": "in_progress"})
    assert back.status_code == 409, back.text
    assert (back.json()["code"], set(back.json()["fields"])) == ("milestone_state", {"state"})
    listed = (await (await as_("mentor")).get(milestones_url(world))).json()  # mentors read them
    assert [m["title"] for m in listed] == ["First 100 cross-border orders", "Ship to Kazakhstan"]
    assert [e["kind"] for e in listed[0]["evidence"]] == ["link", "file"]
    assert listed[0]["evidence"][0]["url"] == "https://example.org/orders-dashboard"
    seeded = await founder.get(listed[0]["evidence"][1]["download_url"])
    assert (seeded.status_code, seeded.content) == (200, EVIDENCE_PNG)


async def test_a_milestone_moves_only_forward_and_its_dates_are_checked(world, as_):
    founder = await as_("founder")
    planned = (
        await founder.post(milestones_url(world), json={"title": "Pilot", "due_on": "2027-01-31"})
    ).json()
    url = f"/api/v1/incubator/milestones/{planned['id']}"
    skipped = await founder.patch(url, json={"state": "achieved"})
    assert skipped.status_code == 409
    future = (TODAY + dt.timedelta(days=1)).isoformat()
    early = await founder.patch(url, json={"state": "in_progress", "achieved_on": future})
    assert (early.status_code, set(early.json()["fields"])) == (422, {"achieved_on"})
    not_achieved = await founder.patch(url, json={"state": "in_progress", "achieved_on": "2026-10-01"})
    assert (not_achieved.status_code, set(not_achieved.json()["fields"])) == (422, {"achieved_on"})
    blank = await founder.patch(url, json={"title": " \u200b "})
    assert (blank.status_code, set(blank.json()["fields"])) == (400, {"title"})
    dropped = await founder.patch(url, json={"state": "dropped"})
    assert dropped.json()["state"] == "dropped"
    for state in ("planned", "in_progress", "achieved"):
        assert (await founder.patch(url, json={"state": state})).status_code == 409, state
    row = await Milestone.select().where(Milestone.id == planned["id"]).first()
    assert (row["state"], row["achieved_on"]) == ("dropped", None)


async def test_mentors_read_but_do_not_plan_and_strangers_see_nothing(world, as_):
    body = {"title": "Pilot", "due_on": "2027-01-31"}
    mentor = await as_("mentor")
    refused = await mentor.post(milestones_url(world), json=body)
    assert (refused.status_code, refused.json()["code"]) == (403, "forbidden")
    moved = await mentor.patch(
        f"/api/v1/incubator/milestones/{world.ids['milestone']}", json={"state": "achieved"}
    )
    assert moved.status_code == 403
    for who in ("viewer", "outsider", "other_founder"):
        client = await as_(who)
        assert (await client.get(milestones_url(world))).status_code == 404, who
        assert (await client.post(milestones_url(world), json=body)).status_code == 404, who
        assert (await client.get(f"/api/v1/incubator/milestones/{world.ids['milestone']}")).status_code == 404
    assert await Milestone.count() == 1


async def test_overdue_is_past_due_and_neither_achieved_nor_dropped(world, as_):
    founder = await as_("founder")
    yesterday = (TODAY - dt.timedelta(days=1)).isoformat()
    made = {}
    for title, due in (
        ("late", yesterday),
        ("today", TODAY.isoformat()),
        ("done", yesterday),
        ("gone", yesterday),
    ):
        made[title] = (await founder.post(milestones_url(world), json={"title": title, "due_on": due})).json()
    for title, states in (("done", ("in_progress", "achieved")), ("gone", ("dropped",))):
        for state in states:
            await founder.patch(f"/api/v1/incubator/milestones/{made[title]['id']}", json={"state": state})
    overdue = {m["title"]: m["overdue"] for m in (await founder.get(milestones_url(world))).json()}
    assert overdue == {
        "late": True,
        "today": False,
        "done": False,
        "gone": False,
        "First 100 cross-border orders": False,
    }
    assert service.is_overdue(dt.date(2026, 1, 1), "in_progress", dt.date(2026, 1, 2))
    assert not service.is_overdue(dt.date(2026, 1, 1), "in_progress", dt.date(2026, 1, 1))


async def test_two_people_moving_one_milestone_at_once_cannot_both_win(world, as_):
    founder, manager = await as_("founder"), await as_("manager")
    url = f"/api/v1/incubator/milestones/{world.ids['milestone']}"  # in progress
    bodies = [{"state": "achieved"} if i % 2 else {"state": "dropped"} for i in range(20)]
    answers = await asyncio.gather(
        *((founder if i % 3 else manager).patch(url, json=b) for i, b in enumerate(bodies))
    )
    assert sorted({r.status_code for r in answers}) == [200, 409]
    won = {r.json()["state"] for r in answers if r.status_code == 200}  # the winner, and repeats of it
    assert len(won) == 1
    lost = {b["state"] for b, r in zip(bodies, answers, strict=True) if r.status_code == 409}
    assert lost == {"achieved", "dropped"} - won
    assert await audits("milestone_updated") == 1


# Evidence ---------------------------------------------------------------------------------------


def links_url(world: World) -> str:
    return f"/api/v1/incubator/milestones/{world.ids['milestone']}/evidence/links"


def files_url(world: World) -> str:
    return f"/api/v1/incubator/milestones/{world.ids['milestone']}/evidence/files"


async def test_links_must_be_web_addresses(world, as_):
    founder = await as_("founder")
    good = await founder.post(links_url(world), json={"url": " https://shop.example.com/orders?month=10 "})
    assert (good.status_code, good.json()["url"]) == (201, "https://shop.example.com/orders?month=10")
    for bad in (
        "javascript:alert(1)",
        "ftp://files.example.com/a",
        "https://user:pw@example.com/",
        "https://localhost/",
        'https://example.com/"><script>',
        "https://example.com:99999/",
    ):
        refused = await founder.post(links_url(world), json={"url": bad})
        assert (refused.status_code, set(refused.json()["fields"])) == (422, {"url"}), bad
    assert await Evidence.count() == 3  # the world's link and file, and the good one
    assert await audits("evidence_added") == 1


async def test_files_are_kept_downloaded_by_whoever_sees_the_startup_and_named_safely(world, as_, settings):
    founder = await as_("founder")
    before = stored(settings, world.ids["startup"])
    sent = await founder.post(
        files_url(world), files={"file": ("../../etc/收据\u202e.png.exe", PNG, "text/html")}
    )
    assert sent.status_code == 201, sent.text
    evidence = sent.json()
    assert (evidence["content_type"], evidence["size"]) == ("image/png", len(PNG))
    assert evidence["filename"] == "收据.png.exe.png"
    assert len(stored(settings, world.ids["startup"]) - before) == 1
    for who in ("mentor", "manager", "cofounder", "org_admin"):
        got = await (await as_(who)).get(evidence["download_url"])
        assert (got.status_code, got.content) == (200, PNG), who
        assert got.headers["x-content-type-options"] == "nosniff"
        assert got.headers["content-type"].startswith("image/png")
    for who in ("viewer", "outsider", "other_founder"):
        assert (await (await as_(who)).get(evidence["download_url"])).status_code == 404, who
    link = f"/api/v1/incubator/evidence/{world.ids['evidence']}/file"
    assert (await founder.get(link)).status_code == 404  # a link has no file
    pdf = await founder.post(files_url(world), files={"file": ("report", PDF, "application/pdf")})
    assert (pdf.json()["filename"], pdf.json()["content_type"]) == ("report.pdf", "application/pdf")


async def test_refused_files_leave_nothing_behind(world, as_, settings, monkeypatch):
    founder = await as_("founder")
    before = stored(settings, world.ids["startup"])
    html = await founder.post(files_url(world), files={"file": ("evidence.pdf", HTML, "application/pdf")})
    assert (html.status_code, html.json()["code"], set(html.json()["fields"])) == (
        415,
        "evidence_type",
        {"file"},
    )
    empty = await founder.post(files_url(world), files={"file": ("empty.png", b"", "image/png")})
    assert empty.status_code == 415
    monkeypatch.setattr(service, "EVIDENCE_MAX", 1000)
    large = await founder.post(
        files_url(world), files={"file": ("big.png", PNG + b"\x00" * 1000, "image/png")}
    )
    assert (large.status_code, large.json()["code"]) == (413, "evidence_too_large")
    just = await founder.post(
        files_url(world), files={"file": ("ok.png", PNG.ljust(1000, b"\x00"), "image/png")}
    )
    assert just.status_code == 201, just.text
    assert len(stored(settings, world.ids["startup"]) - before) == 1
    assert await Evidence.count() == 3  # the world's two and the one that fit
    missing = await founder.post(files_url(world), data={"note": "no file"}, files={"other": ("a", b"x")})
    assert (missing.status_code, set(missing.json()["fields"])) == (400, {"file"})
    as_json = await founder.post(files_url(world), json={"url": "https://example.com"})
    assert as_json.status_code == 415


async def test_a_stranger_upload_is_refused_before_a_byte_is_stored(world, as_, settings):
    before = stored(settings, world.ids["startup"])
    for who in ("mentor", "viewer", "outsider"):
        refused = await (await as_(who)).post(files_url(world), files={"file": ("a.png", PNG, "image/png")})
        assert refused.status_code in (403, 404), who
    assert stored(settings, world.ids["startup"]) == before


async def test_evidence_is_removed_by_who_added_it_or_a_manager(world, as_, settings):
    founder, cofounder, manager = await as_("founder"), await as_("cofounder"), await as_("manager")
    mine = (await cofounder.post(files_url(world), files={"file": ("a.png", PNG, "image/png")})).json()
    before = stored(settings, world.ids["startup"])
    for who in ("founder", "mentor"):  # the world's link is the founder's; this file is the cofounder's
        refused = await (await as_(who)).delete(f"/api/v1/incubator/evidence/{mine['id']}")
        assert refused.status_code == 403, who
    assert (
        await (await as_("outsider")).delete(f"/api/v1/incubator/evidence/{mine['id']}")
    ).status_code == 404
    assert (await cofounder.delete(f"/api/v1/incubator/evidence/{mine['id']}")).status_code == 204
    assert len(before - stored(settings, world.ids["startup"])) == 1  # its file went too
    assert (await cofounder.get(mine["download_url"])).status_code == 404
    assert (await manager.delete(f"/api/v1/incubator/evidence/{world.ids['evidence']}")).status_code == 204
    assert (await founder.delete(f"/api/v1/incubator/evidence/{world.ids['evidence']}")).status_code == 404
    assert await Evidence.count() == 1  # the world's file
    assert await audits("evidence_removed") == 2
