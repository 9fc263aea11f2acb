"""Badges and QR images (ticketing.badges): one ticket's QR code and badge for its holder and the
organizers only; badge runs of a whole event through the jobs (every valid ticket rendered once,
progress counted once per batch even when batches are delivered twice or at once, the zip); the
mailed badge link, which works without an account and dies with a reissue; the command line; the
organizer's page; and the refusals with their status and field."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
import zipfile

import pytest
from PIL import Image

from backend import tasks
from backend.audit import AuditEntry
from backend.cli import main
from backend.domain import jobs
from backend.mail.tables import OutboxEmail
from backend.tasks import InlineQueue
from tests.integration.ticketing_world import build_world
from ticketing.badges import jobs as badge_jobs
from ticketing.badges import service
from ticketing.badges.tables import BadgeRunBatch
from ticketing.tables import BadgeRun, Ticket

pytestmark = pytest.mark.anyio
API = "/api/v1"


def zbar(data: bytes, tmp_path, name: str) -> str:
    path = tmp_path / f"{name}.png"
    path.write_bytes(data)
    zbarimg = shutil.which("zbarimg")
    assert zbarimg, "zbarimg is missing: apt-get install zbar-tools (scripts/ensure-chromium.sh does)"
    out = subprocess.run([zbarimg, "--raw", "-q", str(path)], capture_output=True, text=True, check=False)
    return out.stdout.strip()


@pytest.fixture
async def inline(settings):
    """The embedded default's in-process queue instead of the test app's arq queue."""
    queue = InlineQueue(settings, jobs())
    previous = tasks.install(queue)
    yield queue
    await queue.drain()
    tasks.install(previous)


async def test_a_tickets_images_are_its_holders_and_the_organizers(make_client, tmp_path):
    world = await build_world(holders=2, with_accounts=1)
    holder = await make_client(world.email(world.holders[0]))
    for path in (f"{API}/tickets/{world.tickets[0]}/qr.png", f"/tickets/{world.tickets[0]}/qr.png"):
        answer = await holder.get(path)
        assert answer.status_code == 200, answer.text
        assert answer.headers["content-type"] == "image/png"
        assert "no-store" in answer.headers["cache-control"]
        assert zbar(answer.content, tmp_path, "qr") == world.codes[0]
    badge = await holder.get(f"/tickets/{world.tickets[0]}/badge.png", params={"format": "label"})
    assert badge.status_code == 200
    assert Image.open(io.BytesIO(badge.content)).size == (1200, 900)
    assert zbar(badge.content, tmp_path, "badge") == world.codes[0]
    organizer = await make_client(world.email(world.organizer))
    # twenty first requests at once for one badge not yet drawn: each writer renames its own file
    # over the badge's, so every answer is the whole badge
    answers = await asyncio.gather(
        *(organizer.get(f"{API}/tickets/{world.tickets[1]}/badge.png") for _ in range(20))
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.content for a in answers}) == 1
    assert Image.open(io.BytesIO(answers[0].content)).size == (1240, 1748)
    assert not list(service.badge_root().rglob("*.part"))
    # check-in staff, an outsider and the holder of another ticket find nothing; anonymous: 401
    for email in (world.email(world.staff), world.email(world.outsider)):
        other = await make_client(email)
        assert (await other.get(f"{API}/tickets/{world.tickets[0]}/qr.png")).status_code == 404
        assert (await other.get(f"{API}/tickets/{world.tickets[0]}/badge.png")).status_code == 404
    assert (await holder.get(f"{API}/tickets/{world.tickets[1]}/qr.png")).status_code == 404
    assert (await (await make_client()).get(f"{API}/tickets/{world.tickets[0]}/qr.png")).status_code == 401
    wrong = await holder.get(f"{API}/tickets/{world.tickets[0]}/badge.png", params={"format": "a4"})
    assert wrong.status_code == 400
    assert set(wrong.json()["fields"]) == {"format"}
    # a revoked ticket has no images any more
    assert (await organizer.post(f"{API}/tickets/{world.tickets[0]}/revoke")).status_code == 200
    gone = await holder.get(f"{API}/tickets/{world.tickets[0]}/qr.png")
    assert (gone.status_code, gone.json()["code"]) == (409, "ticket_revoked")
    assert (await holder.get(f"/tickets/{world.tickets[0]}/badge.png")).status_code == 409


async def test_a_badge_run_renders_every_valid_ticket_once(make_client, inline, tmp_path):
    world = await build_world(holders=7, with_accounts=2)
    organizer = await make_client(world.email(world.organizer))
    await organizer.post(f"{API}/tickets/{world.tickets[6]}/revoke")
    created = await organizer.post(f"{API}/events/{world.event}/badge-runs", json={"format": "a6"})
    assert created.status_code == 201, created.text
    run = created.json()
    assert (run["status"], run["total"], run["download"]) == ("queued", 6, None)
    assert (await organizer.get(f"{API}/badge-runs/{run['id']}/badges.zip")).json()[
        "code"
    ] == "badges_not_ready"
    await inline.drain()
    run = (await organizer.get(f"{API}/badge-runs/{run['id']}")).json()
    assert (run["status"], run["done"], run["total"], run["progress"]) == ("done", 6, 6, 100)
    listed = (await organizer.get(f"{API}/events/{world.event}/badge-runs")).json()
    assert [r["id"] for r in listed] == [run["id"]]
    answer = await organizer.get(run["download"])
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(answer.content))
    names = sorted(archive.namelist())
    assert names == sorted(f"type1/badge-{t}.png" for t in world.tickets[:6])
    decoded = {zbar(archive.read(n), tmp_path, n.replace("/", "-")) for n in names[:3]}
    assert decoded <= set(world.codes[:6])
    assert len(decoded) == 3
    assert await AuditEntry.count().where(AuditEntry.action == "ticketing.badges_requested") == 1

    # a second run draws nothing again (files kept per ticket, serial and format) and finishes
    files = sorted(service.badge_root().rglob("*.png"))
    stamps = [f.stat().st_mtime_ns for f in files]
    again = (await organizer.post(f"{API}/events/{world.event}/badge-runs", json={})).json()
    await inline.drain()
    assert (await organizer.get(f"{API}/badge-runs/{again['id']}")).json()["status"] == "done"
    assert [f.stat().st_mtime_ns for f in sorted(service.badge_root().rglob("*.png"))] == stamps

    bad = await organizer.post(f"{API}/events/{world.event}/badge-runs", json={"format": "a4"})
    assert bad.status_code == 400
    assert set(bad.json()["fields"]) == {"format"}
    staff = await make_client(world.email(world.staff))
    assert (await staff.post(f"{API}/events/{world.event}/badge-runs", json={})).status_code == 403
    assert (await staff.get(f"{API}/badge-runs/{run['id']}")).status_code == 403
    assert (await staff.get(f"{API}/badge-runs/{run['id']}/badges.zip")).status_code == 403
    outsider = await make_client(world.email(world.outsider))  # sees the running event, not its runs
    assert (await outsider.get(f"{API}/badge-runs/{run['id']}")).status_code == 403


async def test_batches_delivered_twice_or_at_once_count_once(make_client, monkeypatch):
    """arq delivers at least once: the same batch run twice, and every batch run by several workers
    at the same moment, still bring ``done`` to exactly ``total``, and the run ends ``done``."""
    world = await build_world(holders=25, with_accounts=0)
    monkeypatch.setattr(badge_jobs, "BATCH", 10)
    organizer = await make_client(world.email(world.organizer))
    queued: list[tuple] = []

    async def enqueue(name, *args, job_id=None):
        queued.append((name, *args))

    monkeypatch.setattr(tasks, "enqueue", enqueue)
    run = (await organizer.post(f"{API}/events/{world.event}/badge-runs", json={"format": "label"})).json()
    assert await badge_jobs.render_badges({}, run["id"]) == "running"
    assert await badge_jobs.render_badges({}, run["id"]) == "running"  # a second delivery: already claimed
    batches = [args for name, *args in queued if name == service.BATCH_JOB]
    assert len(batches) == 3
    assert sum(len(ids) for _, ids in batches) == 25
    assert (await BadgeRun.select(BadgeRun.status).where(BadgeRun.id == run["id"]).first())[
        "status"
    ] == "running"
    # every batch three times at once (three workers that each got it), then once more
    await asyncio.gather(*(badge_jobs.render_badge_batch({}, *args) for args in batches * 3))
    await badge_jobs.render_badge_batch({}, *batches[0])
    row = await BadgeRun.select().where(BadgeRun.id == run["id"]).first()
    assert (row["status"], row["done"], row["total"]) == ("done", 25, 25)
    assert row["finished_at"] is not None
    assert await BadgeRunBatch.count().where(BadgeRunBatch.run == run["id"]) == 3
    tickets = await Ticket.select(Ticket.id, Ticket.serial).where(Ticket.event == world.event)
    assert all(service.badge_path(world.event, t["id"], t["serial"], "label").is_file() for t in tickets)
    assert not list(service.badge_root().rglob("*.part"))  # every write finished with its rename


async def test_a_missing_font_fails_the_run_with_the_package_named(make_client, inline, monkeypatch):
    world = await build_world(holders=2, with_accounts=1)
    organizer = await make_client(world.email(world.organizer))

    def no_font(row, fmt):
        raise service.render.FontMissing("No font for Chinese text: install the package fonts-noto-cjk")

    monkeypatch.setattr(badge_jobs, "render_to_file", no_font)
    run = (await organizer.post(f"{API}/events/{world.event}/badge-runs", json={})).json()
    await inline.drain()
    run = (await organizer.get(f"{API}/badge-runs/{run['id']}")).json()
    assert run["status"] == "failed"
    assert "fonts-noto-cjk" in run["error"]
    monkeypatch.setattr(service, "render_to_file", no_font)
    answer = await organizer.get(f"{API}/tickets/{world.tickets[0]}/badge.png")
    assert (answer.status_code, answer.json()["code"]) == (503, "font_missing")
    assert "fonts-noto-cjk" in answer.json()["detail"]


async def test_mailed_badge_links_work_without_an_account_until_reissued(make_client, inline, tmp_path):
    world = await build_world(holders=3, with_accounts=1)
    await Ticket.update({Ticket.holder_email: ""}).where(Ticket.id == world.tickets[2])
    organizer = await make_client(world.email(world.organizer))
    answer = await organizer.post(f"{API}/events/{world.event}/badges/mail")
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"mailed": 2, "without_address": 1}
    mails = await OutboxEmail.select().order_by(OutboxEmail.id)
    assert [m["to_address"] for m in mails] == ["visitor1@checkin.example", "visitor2@checkin.example"]
    link = next(line for line in mails[1]["body_text"].splitlines() if "/badges/" in line)
    path = link.split("podium.test", 1)[-1] if "podium.test" in link else "/" + link.split("/", 3)[3]
    anonymous = await make_client()
    badge = await anonymous.get(path)
    assert badge.status_code == 200, (path, badge.text)
    assert zbar(badge.content, tmp_path, "linked") == world.codes[1]
    ticket_id, token = world.tickets[1], path.split("/")[3].split("?")[0]
    for wrong in (token[:-1] + ("0" if token[-1] != "0" else "1"), "x" * 40, token[:20]):
        assert (await anonymous.get(f"/badges/{ticket_id}/{wrong}")).status_code == 404
    assert (await anonymous.get(f"/badges/{world.tickets[0]}/{token}")).status_code == 404  # another ticket's
    assert (await organizer.post(f"{API}/tickets/{ticket_id}/reissue")).status_code == 200
    assert (await anonymous.get(path)).status_code == 404
    assert await AuditEntry.count().where(AuditEntry.action == "ticketing.badges_mailed") == 1
    staff = await make_client(world.email(world.staff))
    assert (await staff.post(f"{API}/events/{world.event}/badges/mail")).status_code == 403


async def test_the_command_renders_every_badge_into_a_folder(db, tmp_path, capsys):
    world = await build_world(holders=3, with_accounts=1, slug="badges-cli")
    out = tmp_path / "badges"
    code = await asyncio.to_thread(
        main, ["badges", "render", "badges-cli", "--out", str(out), "--format", "label"]
    )
    assert code == 0
    files = sorted(out.rglob("*.png"))
    assert [f.name for f in files] == sorted(f"badge-{t}.png" for t in world.tickets)
    assert Image.open(files[0]).size == (1200, 900)
    assert "Badges: 3/3 (100%)" in capsys.readouterr().err
    assert await asyncio.to_thread(main, ["badges", "render", "no-such-event", "--out", str(out)]) == 2


async def test_the_badges_page(make_client, inline):
    world = await build_world(holders=2, with_accounts=1)
    organizer = await make_client(world.email(world.organizer))
    organizer.cookies.set("podium_lang", "en", domain="podium.test")
    base = f"/workspace/events/{world.event}/ticketing/badges"
    page = await organizer.get(base)
    assert page.status_code == 200
    assert "Render every badge" in page.text
    assert "No badges rendered yet." in page.text
    posted = await organizer.post(f"{base}/render", data={"format": "label"})
    assert posted.status_code == 303
    assert posted.headers["location"] == f"{base}?done=render"
    await inline.drain()
    page = await organizer.get(f"{base}?done=render")
    assert "The badges are being rendered" in page.text
    assert "/badges.zip" in page.text
    wrong = await organizer.post(f"{base}/render", data={"format": "poster"})
    assert wrong.status_code == 400
    assert "Choose a badge format" in wrong.text
    mailed = await organizer.post(f"{base}/mail")
    assert (mailed.status_code, mailed.headers["location"]) == (303, f"{base}?done=mail")
    zh = await make_client(world.email(world.organizer))
    zh.cookies.set("podium_lang", "zh", domain="podium.test")
    assert "渲染全部胸牌" in (await zh.get(base)).text
    staff = await make_client(world.email(world.staff))
    assert (await staff.get(base)).status_code == 403
