"""The milestones and support tabs of a startup's file: what each person sees and may do there, the
forms (Post/Redirect/Get, refusals shown next to their fields) and the tabs in Chinese and Russian."""

from __future__ import annotations

import pytest

from backend.i18n import LANG_COOKIE
from backend.teams.storage import storage
from incubator.tables import Evidence, Milestone, SupportDelivery, SupportPromise
from tests.integration import test_incubator_milestones as milestones_tests
from tests.integration.incubator_world import EVIDENCE_PNG, World

pytestmark = pytest.mark.anyio
world = milestones_tests.world  # the same world (fixture)


@pytest.fixture
def as_(make_client, world):
    """``await as_("founder")``: a browser logged in as that person (pages want the site's session)."""

    async def factory(who: str, lang: str = "en"):
        client = await make_client(world.email(who))
        client.cookies.set(LANG_COOKIE, lang)
        client.headers["accept"] = "text/html"
        return client

    return factory


def tab(world: World, name: str) -> str:
    return f"/incubator/startups/{world.ids['startup']}/{name}"


async def test_founders_plan_milestones_and_back_them_on_the_tab(world, as_):
    founder = await as_("founder")
    shown = await founder.get(tab(world, "milestones"))
    assert shown.status_code == 200
    assert "First 100 cross-border orders" in shown.text
    assert "orders.png" in shown.text
    assert "Add a milestone" in shown.text
    added = await founder.post(
        tab(world, "milestones"), data={"title": "Open a store on Ozon", "due_on": "2027-02-28"}
    )
    assert (added.status_code, added.headers["location"]) == (
        303,
        tab(world, "milestones") + "?done=milestone-added",
    )
    wrong = await founder.post(tab(world, "milestones"), data={"title": "", "due_on": "someday"})
    assert wrong.status_code == 400
    assert "There is a problem" in wrong.text
    assert 'aria-invalid="true"' in wrong.text
    created = await Milestone.select().where(Milestone.title == "Open a store on Ozon").first()
    moved = await founder.post(f"/incubator/milestones/{created['id']}", data={"state": "in_progress"})
    assert moved.status_code == 303
    skipped = await founder.post(f"/incubator/milestones/{created['id']}", data={"state": "planned"})
    assert skipped.status_code == 409
    assert "There is a problem" in skipped.text
    edited = await founder.post(
        f"/incubator/milestones/{created['id']}",
        data={"title": "Open a store on Ozon", "due_on": "2027-03-31", "description": ""},
    )
    assert edited.status_code == 303
    link = await founder.post(
        f"/incubator/milestones/{created['id']}/links", data={"url": "https://ozon.example.com/s"}
    )
    assert link.status_code == 303
    upload = await founder.post(
        f"/incubator/milestones/{created['id']}/files",
        files={"file": ("shop.png", EVIDENCE_PNG, "image/png")},
    )
    assert upload.status_code == 303, upload.text
    bad = await founder.post(
        f"/incubator/milestones/{created['id']}/files", files={"file": ("shop.png", b"<html>", "image/png")}
    )
    assert bad.status_code == 415
    assert "PDF, PNG or JPEG" in bad.text
    row = await Milestone.select().where(Milestone.id == created["id"]).first()
    assert (row["state"], str(row["due_on"])) == ("in_progress", "2027-03-31")
    assert await Evidence.count().where(Evidence.milestone == created["id"]) == 2
    evidence = await Evidence.select().where(Evidence.url == "https://ozon.example.com/s").first()
    removed = await founder.post(f"/incubator/evidence/{evidence['id']}/delete")
    assert removed.status_code == 303


async def test_mentors_read_the_tabs_without_forms_and_strangers_find_nothing(world, as_):
    mentor = await as_("mentor")
    for name, text in (
        ("milestones", "First 100 cross-border orders"),
        ("support", "Export compliance training"),
    ):
        shown = await mentor.get(tab(world, name))
        assert shown.status_code == 200, name
        assert text in shown.text, name
        assert '<form method="post" action="/incubator/' not in shown.text.split("</nav>", 2)[-1], name
    refused = await mentor.post(tab(world, "milestones"), data={"title": "x", "due_on": "2027-01-01"})
    assert refused.status_code == 403
    viewer = await as_("viewer")
    assert (await viewer.get(tab(world, "support"))).status_code == 404


async def test_managers_promise_deliver_and_withdraw_on_the_support_tab(world, as_):
    manager = await as_("manager")
    shown = await manager.get(tab(world, "support"))
    assert "Promise support" in shown.text
    assert "10.00" in shown.text
    promised = await manager.post(
        tab(world, "support") + "/promises",
        data={"kind": "cloud_credits", "quantity": "300.5", "unit": "USD", "due_on": "", "description": ""},
    )
    assert promised.status_code == 303, promised.text
    credits = await SupportPromise.select().where(SupportPromise.kind == "cloud_credits").first()
    too_much = await manager.post(
        f"/incubator/promises/{credits['id']}/deliveries",
        data={"quantity": "301", "delivered_on": "2026-11-20"},
    )
    assert too_much.status_code == 409
    assert "300.50" in too_much.text
    delivered = await manager.post(
        f"/incubator/promises/{credits['id']}/deliveries",
        data={"quantity": "100", "delivered_on": "2026-11-20", "note": "First month"},
    )
    assert delivered.status_code == 303
    delivery = await SupportDelivery.select().where(SupportDelivery.promise == credits["id"]).first()
    evidence = await manager.post(
        f"/incubator/deliveries/{delivery['id']}/links", data={"url": "https://cloud.example.com/bill"}
    )
    assert evidence.status_code == 303
    withdrawn = await manager.post(f"/incubator/promises/{credits['id']}/withdraw")
    assert withdrawn.status_code == 303
    page = (await manager.get(tab(world, "support"))).text
    assert "Withdrawn" in page
    assert "https://cloud.example.com/bill" in page
    founder = await as_("founder")
    assert (await founder.post(f"/incubator/promises/{world.ids['promise']}/withdraw")).status_code == 403


@pytest.mark.parametrize("lang", ["zh", "ru"])
async def test_the_tabs_speak_chinese_and_russian(world, as_, lang):
    founder = await as_("founder", lang)
    words = {"zh": ("里程碑", "证据"), "ru": ("Вехи", "Подтверждения")}[lang]
    milestones = (await founder.get(tab(world, "milestones"))).text
    assert all(w in milestones for w in words), lang
    assert "Add a milestone" not in milestones
    assert "Evidence" not in milestones
    support = (await founder.get(tab(world, "support"))).text
    assert "Support promised and delivered" not in support


async def test_a_file_of_several_mib_uploads_through_the_page_form(world, as_):
    """The form's multipart body is read whole by the CSRF check (not streamed): a file well above
    Litestar's in-memory part size still arrives, and one above the cap is refused on the tab."""
    founder = await as_("founder")
    url = f"/incubator/milestones/{world.ids['milestone']}/files"
    big = EVIDENCE_PNG + b"\x00" * (3 * 1024 * 1024)
    sent = await founder.post(url, files={"file": ("scan.png", big, "image/png")})
    assert sent.status_code == 303, sent.text[:500]
    row = await Evidence.select().where(Evidence.filename == "scan.png").first()
    assert row["size"] == len(big)
    await storage().delete(row["storage_key"])  # no megabytes left behind by the tests
    too_big = await founder.post(
        url, files={"file": ("huge.png", EVIDENCE_PNG + b"\x00" * (10 * 1024 * 1024), "image/png")}
    )
    assert too_big.status_code == 413
