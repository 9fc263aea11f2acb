"""The results pages: the organizers' results with the diagnostics pictures (each an accessible SVG
with its data table), the run and publish forms, the appeals page with its answer form, the public
ranking and a team's own results with the leader's appeal form."""

from __future__ import annotations

import random
import re

import pytest

from backend.accounts.tables import Role
from judging.tables import Appeal, StageJudging
from tests.integration.test_judging_appeals import TEXT
from tests.integration.test_judging_results import inline, lock, login, scored_world

__all__ = ["inline"]

pytestmark = pytest.mark.anyio


def csrf(client) -> str:
    return client.headers["x-podium-csrf"]


async def test_the_organizer_ranks_publishes_and_answers_through_the_pages(
    db, make_client, make_user, grant, inline
):
    world = await scored_world(random.Random(21), teams=12, judges=6)
    await lock(world)
    organizer = await login(make_client, world, world.organizer)
    base = f"/workspace/events/{world.event}/judging/stages/{world.stage}"
    empty = await organizer.get(f"{base}/results")
    assert empty.status_code == 200, empty.text
    assert "Rank the stage now" in empty.text
    queued = await organizer.post(f"{base}/results/run", data={"_csrf_token": csrf(organizer)})
    assert queued.status_code == 303
    assert "run=" in queued.headers["location"]
    running = await organizer.get(queued.headers["location"])
    assert "<progress" in running.text
    assert re.search(r'data-run-status="(queued|running|done)"', running.text)
    await inline.drain()
    page = (await organizer.get(queued.headers["location"])).text
    svgs = re.findall(r"<svg[^>]*role=\"img\"[^>]*>\s*<title id=\"([\w-]+)-title\">", page)
    assert {"leniency", "components", "shared", "spread"} <= set(svgs), svgs
    assert page.count("The figures as a table") == len(svgs)
    assert "Track A" in page
    assert "Publish this ranking" in page
    run_id = int(re.search(r'name="run" value="(\d+)"', page).group(1))
    for hostile in ("99999999999999", "-1", "１２", "x"):
        refused = await organizer.post(
            f"{base}/results/publish", data={"_csrf_token": csrf(organizer), "run": hostile}
        )
        assert refused.status_code == 400, hostile
        assert "There is a problem" in refused.text
    published = await organizer.post(
        f"{base}/results/publish", data={"_csrf_token": csrf(organizer), "run": str(run_id)}
    )
    assert published.status_code == 303
    again = await organizer.post(
        f"{base}/results/publish", data={"_csrf_token": csrf(organizer), "run": str(run_id)}
    )
    assert again.status_code == 409
    assert "There is a problem" in again.text

    # The public page lists every team per track, with the objection period.
    public = await (await make_client()).get(f"/events/judged-2027/stages/{world.stage}/results")
    assert public.status_code == 200
    assert "Objection period ends" in public.text
    assert public.text.count('<th scope="row"') == 12
    assert (
        await (await make_client()).get(f"/events/judged-2027/stages/{world.final}/results")
    ).status_code == 404

    # The leader appeals from the team's page; a member sees it without the form.
    leader = await login(make_client, world, world.leaders[0])
    mine = await leader.get(f"/teams/{world.teams[0]}/results")
    assert "File the appeal" in mine.text
    huge = await leader.post(
        f"/teams/{world.teams[0]}/results/appeal",
        data={"_csrf_token": csrf(leader), "stage": "99999999999999", "text": TEXT},
    )
    assert huge.status_code == 404
    short = await leader.post(
        f"/teams/{world.teams[0]}/results/appeal",
        data={"_csrf_token": csrf(leader), "stage": str(world.stage), "text": "short"},
    )
    assert short.status_code == 400
    filed = await leader.post(
        f"/teams/{world.teams[0]}/results/appeal",
        data={"_csrf_token": csrf(leader), "stage": str(world.stage), "text": TEXT},
    )
    assert filed.status_code == 303
    assert "Withdraw the appeal" in (await leader.get(f"/teams/{world.teams[0]}/results")).text
    stranger = await login(make_client, world, world.leaders[1])
    assert (await stranger.get(f"/teams/{world.teams[0]}/results")).status_code == 404

    # The organizer answers on the appeals page.
    appeals = await organizer.get(f"{base}/appeals")
    assert TEXT in appeals.text
    appeal_id = (await Appeal.select(Appeal.id).first())["id"]
    answered = await organizer.post(
        f"{base}/appeals/{appeal_id}/answer",
        data={"_csrf_token": csrf(organizer), "status": "dismissed", "answer": "Checked; the sheets stand."},
    )
    assert answered.status_code == 303
    assert "Dismissed" in (await leader.get(f"/teams/{world.teams[0]}/results")).text

    # A scoped admin sees their track's rows, not the pictures nor the forms; a judge nothing.
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, world.event, track=world.tracks["A"])
    admin = await make_client("scoped@example.org")
    admin.cookies.set("podium_lang", "en", domain="podium.test")
    theirs = (await admin.get(f"{base}/results?run={run_id}")).text
    assert "Track A" in theirs
    assert "Track B" not in theirs
    assert "<svg" not in theirs
    assert "Publish this ranking" not in theirs
    judge = await login(make_client, world, world.judges[0])
    assert (await judge.get(f"{base}/results")).status_code == 403
    assert await StageJudging.count() == 2
