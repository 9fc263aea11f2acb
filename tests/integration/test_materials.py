"""A team's materials: versions, the deadline, files judged by their content and size, hostile names,
and who may read or submit them. Nothing refused leaves a row or a file behind."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import string
import zlib
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.accounts import passwords
from backend.accounts.tables import ApiToken, User
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from backend.events.tables import Stage, Track
from backend.i18n import LANG_COOKIE, translations
from backend.security import CSRF_COOKIE
from backend.teams import materials
from backend.teams.material_controllers import content_disposition
from backend.teams.materials import MaterialKind, safe_file_name
from backend.teams.tables import Material, Team, TeamEvent, TeamMember
from tests.integration.conftest import PASSWORD
from tests.integration.test_error_messages import BACKEND, _message_ids

pytestmark = pytest.mark.anyio  # at collection, so anyio keeps the parameters below
_HASH = passwords.hash_password(PASSWORD)
ERROR_KEYS = {"code", "detail", "fields"}


def pdf(body: bytes = b"") -> bytes:
    """A small well-formed PDF: its header, an object, and a trailer pointing at its xref table."""
    head = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Note (" + body + b") >>\nendobj\n"
    trailer = b"xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n"
    return head + trailer + str(len(head)).encode() + b"\n%%EOF\n"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
ZIP = b"PK\x03\x04" + b"\x00" * 26 + b"plan.pdf" + zlib.compress(pdf())
HTML = b"<!DOCTYPE html><html><script>alert(1)</script>%PDF-1.7 startxref 0 %%EOF</html>"


@dataclass
class World:
    event: int = 0
    track_a: int = 0
    track_b: int = 0
    stage: int = 0
    foreign_stage: int = 0  # a stage of another contest
    team: int = 0  # in track A: leader and member confirmed, an invited seat
    other_team: int = 0  # in track B: its own leader
    users: dict[str, int] = field(default_factory=dict)


async def _user(world: World, name: str, **extra) -> int:
    email = f"{name}@materials.example"
    user = User(username=email, email=email, password=_HASH, display_name=name, active=True, **extra)
    await user.save()
    await ApiToken.insert(ApiToken(user=user.id, name="tests", token_hash=token_digest(f"pdm_mat_{name}")))
    world.users[name] = user.id
    return user.id


async def _team(world: World, track: int, name: str, seats: dict[str, str]) -> int:
    leader = next(user for user, role in seats.items() if role == "leader")
    team = Team(event=world.event, track=track, name=name, join_code=name.upper(), leader=world.users[leader])
    await team.save()
    for user, role in seats.items():
        state = "invited" if role == "invited" else "confirmed"
        await TeamMember.insert(
            TeamMember(
                team=team.id,
                event=world.event,
                track=track,
                user=world.users[user],
                email=f"{user}@materials.example",
                role="member" if role == "invited" else role,
                state=state,
                joined_via="creation" if role == "leader" else "invitation",
            )
        )
    return team.id


@pytest.fixture
async def world(make_event, grant, settings) -> World:
    """An open contest (tracks A and B, one stage), a team in track A, another in track B, and people
    around them: organizers of track A and of track B, a judge, a stranger, a platform admin."""
    from backend.accounts.tables import Role

    shutil.rmtree(settings.data_dir / "files" / "teams", ignore_errors=True)  # ids start at 1 again
    world = World()
    world.event = await make_event("materials-cup", status="open")
    tracks = [Track(event=world.event, code=code, name_en=code) for code in ("A", "B")]
    await Track.insert(*tracks)
    world.track_a, world.track_b = tracks[0].id, tracks[1].id
    stage = Stage(event=world.event, position=1, level="school", name_en="School")
    await stage.save()
    world.stage = stage.id
    elsewhere = await make_event("elsewhere-cup", status="open")
    foreign = Stage(event=elsewhere, position=1, level="school", name_en="School")
    await foreign.save()
    world.foreign_stage = foreign.id
    for name in ("leader", "member", "invitee", "rival", "stranger", "scoped_in", "scoped_out", "judge"):
        await _user(world, name)
    await _user(world, "admin", admin=True, superuser=True)
    world.team = await _team(
        world, world.track_a, "alpha", {"leader": "leader", "member": "member", "invitee": "invited"}
    )
    world.other_team = await _team(world, world.track_b, "beta", {"rival": "leader"})
    await grant(world.users["scoped_in"], Role.organizer, world.event, track=world.track_a)
    await grant(world.users["scoped_out"], Role.organizer, world.event, track=world.track_b)
    await grant(world.users["judge"], Role.judge, world.event)
    return world


@pytest.fixture
def as_(make_client):
    """``await as_("member")``: a client with that person's API token (``None``: anonymous)."""

    async def factory(name: str | None) -> httpx.AsyncClient:
        client = await make_client()
        client.cookies.set(LANG_COOKIE, "en")
        if name is not None:
            client.headers["authorization"] = f"Bearer pdm_mat_{name}"
        return client

    return factory


def upload_url(
    world: World, kind: str = "business_plan", team: int | None = None, stage: int | None = None
) -> str:
    return f"/api/v1/teams/{team or world.team}/stages/{stage or world.stage}/materials/{kind}"


async def upload(
    client, world: World, data: bytes, name: str = "plan.pdf", kind: str = "business_plan", **kw
):
    return await client.post(upload_url(world, kind, **kw), files={"file": (name, data, "application/pdf")})


def stored_files(settings, team_id: int) -> list[str]:
    folder = settings.data_dir / "files" / "teams" / str(team_id)
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def error(response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert (set(body), body["code"]) == (ERROR_KEYS, code), body
    return body


# Versions --------------------------------------------------------------------------------------


async def test_every_upload_is_a_new_version_and_the_list_shows_the_latest(world, as_, settings):
    leader, member = await as_("leader"), await as_("member")
    first = await upload(leader, world, pdf(b"first"), "plan.pdf")
    assert first.status_code == 201, first.text
    second = await upload(member, world, pdf(b"second"), "plan-v2.pdf")
    assert second.status_code == 201, second.text
    slides = await upload(member, world, pdf(b"slides"), "deck.pdf", kind="slides")
    link = await leader.post(
        upload_url(world, "video_link"), json={"url": "https://www.bilibili.com/video/BV1xx"}
    )
    summary = await leader.post(
        upload_url(world, "summary"), json={"text": "跨境电商 · Кросс-бордер\nLine 2"}
    )
    assert [r.status_code for r in (slides, link, summary)] == [201, 201, 201]
    assert (first.json()["version"], second.json()["version"], slides.json()["version"]) == (1, 2, 1)
    assert second.json()["size"] == len(pdf(b"second"))
    assert second.json()["content_type"] == "application/pdf"
    assert link.json()["url"] == "https://www.bilibili.com/video/BV1xx"
    assert link.json()["download_url"] is None
    assert summary.json()["text"] == "跨境电商 · Кросс-бордер\nLine 2"

    listed = (await member.get(f"/api/v1/teams/{world.team}/materials")).json()
    assert [(m["kind"], m["version"]) for m in listed["versions"]] == [
        ("business_plan", 1),
        ("business_plan", 2),
        ("slides", 1),
        ("video_link", 1),
        ("summary", 1),
    ]
    latest = {m["kind"]: m for m in listed["latest"]}
    assert latest["business_plan"]["id"] == second.json()["id"]
    assert set(latest) == {"business_plan", "slides", "video_link", "summary"}

    old = await member.get(first.json()["download_url"])
    assert old.status_code == 200
    assert old.content == pdf(b"first")
    assert old.headers["content-type"] == "application/pdf"
    assert (
        old.headers["content-disposition"] == "attachment; filename=\"plan.pdf\"; filename*=UTF-8''plan.pdf"
    )
    assert old.headers["x-content-type-options"] == "nosniff"
    assert len(stored_files(settings, world.team)) == 3
    audit = await AuditEntry.select(AuditEntry.action, AuditEntry.data).where(
        AuditEntry.target_id == world.team
    )
    assert [a["action"] for a in audit] == ["team.material_submitted"] * 5
    timeline = await TeamEvent.select(TeamEvent.kind).where(TeamEvent.team == world.team)
    assert [t["kind"] for t in timeline] == ["material_submitted"] * 5


async def test_the_stage_deadline_locks_the_materials(world, as_, settings):
    leader = await as_("leader")
    assert (await upload(leader, world, pdf())).status_code == 201
    deadline = dt.datetime(2026, 3, 1, 10, 0, tzinfo=dt.UTC)
    await Stage.update({Stage.submission_deadline: deadline}).where(Stage.id == world.stage)
    for response in (
        await upload(leader, world, pdf()),
        await leader.post(upload_url(world, "summary"), json={"text": "late"}),
        await leader.post(upload_url(world, "video_link"), json={"url": "https://v.qq.com/x"}),
    ):
        body = error(response, 409, "materials_locked")
        assert "2026-03-01T18:00+08:00" in body["detail"]  # in the contest's time zone
    assert await Material.count() == 1
    assert len(stored_files(settings, world.team)) == 1
    future = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    await Stage.update({Stage.submission_deadline: future}).where(Stage.id == world.stage)
    assert (await upload(leader, world, pdf())).json()["version"] == 2


async def test_a_withdrawn_team_submits_nothing(world, as_):
    await Team.update({Team.status: "withdrawn"}).where(Team.id == world.team)
    response = await (await as_("leader")).post(upload_url(world, "summary"), json={"text": "x"})
    error(response, 409, "team_withdrawn")
    assert await Material.count() == 0


# Files judged by their content -----------------------------------------------------------------


DISGUISED = {
    "png": PNG,
    "zip": ZIP,
    "html": HTML,
    "no trailer": b"%PDF-1.7\nno trailer at all",
    "cut short": pdf()[:-40],  # its trailer is gone
    "empty": b"",
    "late header": b"  " + pdf(),  # the header must come first
}


async def test_disguised_files_are_refused_and_nothing_is_kept(world, as_, settings):
    leader = await as_("leader")
    for what, data in DISGUISED.items():
        response = await leader.post(upload_url(world), files={"file": ("plan.pdf", data, "application/pdf")})
        body = error(response, 415, "not_a_pdf")
        assert body["fields"] == {"file": "must be a PDF document"}, what
    assert await Material.count() == 0
    assert await AuditEntry.count() == 0
    assert stored_files(settings, world.team) == []


async def test_a_real_pdf_is_accepted_whatever_its_name_and_declared_type(world, as_):
    response = await (await as_("leader")).post(
        upload_url(world), files={"file": ("scan.png", pdf(), "image/png")}
    )
    assert response.status_code == 201, response.text
    assert (response.json()["file_name"], response.json()["content_type"]) == (
        "scan.png.pdf",
        "application/pdf",
    )


async def test_an_oversized_file_is_cut_off_while_streaming_and_nothing_is_kept(
    world, as_, settings, monkeypatch
):
    monkeypatch.setitem(materials.FILE_LIMITS, MaterialKind.slides, 1024 * 1024)
    sent = []

    async def body():  # a multipart body sent in pieces, with no Content-Length
        boundary = b"--podium\r\n"
        yield boundary + b'Content-Disposition: form-data; name="file"; filename="big.pdf"\r\n\r\n' + pdf()
        for _ in range(64):
            sent.append(1)
            yield b"\0" * 64 * 1024
        yield b"\r\n--podium--\r\n"

    response = await (await as_("leader")).post(
        upload_url(world, "slides"),
        content=body(),
        headers={"content-type": "multipart/form-data; boundary=podium"},
    )
    body_ = error(response, 413, "material_too_large")
    assert body_["fields"] == {"file": "must be at most 1 MiB"}
    assert len(sent) < 20  # it stopped reading soon after 1 MiB, not at the end of the 4 MiB
    assert await Material.count() == 0
    assert stored_files(settings, world.team) == []


async def test_a_file_announced_larger_than_the_limit_is_refused_before_it_is_read(world, as_, settings):
    big = pdf() + b"\0" * (20 * 1024 * 1024)
    response = await upload(await as_("leader"), world, big)
    assert error(response, 413, "material_too_large")["fields"] == {"file": "must be at most 20 MiB"}
    assert await Material.count() == 0
    assert stored_files(settings, world.team) == []


async def test_a_failed_transaction_deletes_the_stored_file(world, as_, settings, monkeypatch):
    async def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(materials, "team_changed", broken)
    response = await upload(await as_("leader"), world, pdf())
    assert response.status_code == 500
    assert await Material.count() == 0
    assert stored_files(settings, world.team) == []


async def test_malformed_submissions_name_the_field(world, as_):
    leader = await as_("leader")
    no_file = await leader.post(upload_url(world), files={"other": ("x.pdf", pdf(), "application/pdf")})
    assert error(no_file, 400, "validation_error")["fields"] == {"file": "is required"}
    not_a_file = await leader.post(
        upload_url(world), data={"file": "text, not a file"}, files={"x": ("a", b"a")}
    )
    assert error(not_a_file, 400, "validation_error")["fields"] == {"file": "is required"}
    cut = await leader.post(
        upload_url(world),
        content=b'--b\r\nContent-Disposition: form-data; name="file"; filename="a.pdf"\r\n\r\n' + pdf(),
        headers={"content-type": "multipart/form-data; boundary=b"},
    )
    assert error(cut, 400, "bad_request")["fields"] == {"file": "is not a complete multipart/form-data part"}
    as_json = await leader.post(upload_url(world), json={"file": "JVBERi0="})
    error(as_json, 415, "unsupported_media_type")
    form_to_text = await leader.post(upload_url(world, "summary"), files={"file": ("a.pdf", pdf())})
    error(form_to_text, 415, "unsupported_media_type")
    unknown_kind = await leader.post(upload_url(world, "poster"), json={"text": "x"})
    assert "kind" in error(unknown_kind, 400, "validation_error")["fields"]
    fields = await leader.post(upload_url(world, "summary"), json={"txt": "x"})
    assert error(fields, 400, "validation_error")["fields"] == {
        "txt": "is not a field of this request",
        "text": "is required",
    }
    too_long = await leader.post(upload_url(world, "summary"), json={"text": "字" * 5001})
    assert error(too_long, 400, "summary_too_long")["fields"] == {"text": "must be at most 5000 characters"}
    blank = await leader.post(upload_url(world, "summary"), json={"text": " \u200b\n"})
    assert "text" in error(blank, 400, "validation_error")["fields"]
    not_json = await leader.post(
        upload_url(world, "summary"), content=b"{", headers={"content-type": "application/json"}
    )
    error(not_json, 400, "bad_request")
    assert await Material.count() == 0


BAD_LINKS = (
    "http://www.bilibili.com/video/1",
    "javascript:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "https://user:secret@www.bilibili.com/video/1",
    "https:///video",
    "https://localhost/video",
    "https://www.bilibili.com/video/1 2",
    "https://www.bilibili.com:99999/video",
    "//www.bilibili.com/video",
    "https://" + "a" * 2000 + ".com",
    "",
)


async def test_video_links_are_https_addresses_of_a_host(world, as_):
    leader = await as_("leader")
    for url in BAD_LINKS:
        response = await leader.post(upload_url(world, "video_link"), json={"url": url})
        assert "url" in error(response, 400, "invalid_video_link")["fields"], url
    assert await Material.count() == 0


async def test_any_https_video_host_is_accepted(world, as_):
    leader = await as_("leader")
    for url in (
        "https://youtu.be/abc",
        "https://rutube.ru/video/1/",
        "https://videos.example.edu.cn/x?y=1#t=2",
    ):
        response = await leader.post(upload_url(world, "video_link"), json={"url": url})
        assert response.status_code == 201, response.text


async def test_a_stage_must_belong_to_the_teams_contest(world, as_):
    leader = await as_("leader")
    for stage in (world.foreign_stage, 999_999):
        response = await upload(leader, world, pdf(), stage=stage)
        assert error(response, 404, "not_found")["detail"] == "Stage not found"
    assert await Material.count() == 0


# File names ------------------------------------------------------------------------------------


HOSTILE_NAMES = {
    "商业计划书（终版）.pdf": "商业计划书（终版）.pdf",
    "Бизнес-план.PDF": "Бизнес-план.pdf",
    "../../etc/passwd": "passwd.pdf",
    "C:\\Users\\x\\plan.pdf": "plan.pdf",
    "a\r\nSet-Cookie: x=1.pdf": "aSet-Cookie: x=1.pdf",
    '"; filename="evil.exe': '"; filename="evil.exe.pdf',  # harmless once in the header
    "\u202egpj.exe": "gpj.exe.pdf",  # a right-to-left override hides the real extension
    "...": "business_plan.pdf",
    ".hidden.pdf": "hidden.pdf",
    "x" * 300 + ".pdf": "x" * 196 + ".pdf",
}


async def test_hostile_file_names_are_made_harmless(world, as_):
    leader = await as_("leader")
    for given_name, stored in HOSTILE_NAMES.items():
        response = await upload(leader, world, pdf(), given_name)
        assert response.status_code == 201, response.text
        assert response.json()["file_name"] == stored
        download = await leader.get(response.json()["download_url"])
        header = download.headers["content-disposition"]
        assert header.isascii()
        assert "\r" not in header
        assert "\n" not in header
        assert unquote(header.split("filename*=UTF-8''")[1]) == stored


def test_the_download_header_names_a_chinese_file_by_rfc_5987():
    assert content_disposition("计划 v2.pdf") == (
        "attachment; filename=\"__ v2.pdf\"; filename*=UTF-8''%E8%AE%A1%E5%88%92%20v2.pdf"
    )


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(), max_size=400) | st.text(string.printable + "/\\.\"'%;", max_size=50))
def test_any_file_name_becomes_safe_to_store_and_to_send(name):
    safe = safe_file_name(name, MaterialKind.slides)
    assert safe.lower().endswith(".pdf")
    assert 5 <= len(safe) <= materials.FILE_NAME_MAX
    assert not re.search(r"[/\\\x00-\x1f\x7f\u202a-\u202e\u2066-\u2069]", safe)
    assert not safe.startswith((".", " "))
    header = content_disposition(safe)
    assert header.isascii()
    assert "\n" not in header
    assert "\r" not in header
    fallback = header.split('filename="')[1].split('"; filename*=')[0]
    assert '"' not in fallback
    assert ";" not in fallback
    assert unquote(header.split("filename*=UTF-8''")[1]) == safe


# Who may read and submit -----------------------------------------------------------------------


async def test_who_may_list_submit_and_download(world, as_):
    leader = await as_("leader")
    material = (await upload(leader, world, pdf())).json()
    rival_material = (await upload(await as_("rival"), world, pdf(), team=world.other_team)).json()
    assert rival_material["version"] == 1
    outcomes = {}
    for name in (
        "leader",
        "member",
        "invitee",
        "rival",
        "stranger",
        "scoped_in",
        "scoped_out",
        "judge",
        "admin",
        None,
    ):
        client = await as_(name)
        outcomes[name] = (
            (await client.get(f"/api/v1/teams/{world.team}/materials")).status_code,
            (await client.post(upload_url(world, "summary"), json={"text": "x"})).status_code,
            (await client.get(material["download_url"])).status_code,
        )
    assert outcomes == {
        "leader": (200, 201, 200),
        "member": (200, 201, 200),
        "invitee": (404, 404, 404),  # invited, not yet confirmed
        "rival": (404, 404, 404),  # a member of another team
        "stranger": (404, 404, 404),
        "scoped_in": (200, 201, 200),  # an organizer of the team's track
        "scoped_out": (404, 404, 404),  # an organizer of the other track
        "judge": (404, 404, 404),  # judges read materials once judging assigns them
        "admin": (200, 201, 200),
        None: (401, 401, 401),
    }
    # another team's file stays out of reach, by its id too
    assert (await leader.get(rival_material["download_url"])).status_code == 404
    assert (await leader.get("/api/v1/materials/999999/file")).status_code == 404
    assert await Material.count().where(Material.team == world.team) == 1 + 4


async def test_a_refusal_reads_nothing_of_the_body(world, as_, settings):
    """A stranger's upload is refused before its body is read: no byte reaches the storage."""
    pulled = []

    async def body():
        pulled.append(1)
        yield b"--b\r\n"

    response = await (await as_("stranger")).post(
        upload_url(world), content=body(), headers={"content-type": "multipart/form-data; boundary=b"}
    )
    error(response, 404, "not_found")
    assert pulled == []
    assert stored_files(settings, world.team) == []


async def test_a_page_form_with_its_csrf_token_as_a_field_uploads_too(world, make_client, settings):
    """A form posted by a page without JavaScript sends the CSRF token as a field, not a header: the
    CSRF check reads the form first, and the upload takes the file from there."""
    client = await make_client("leader@materials.example")
    client.cookies.set(LANG_COOKIE, "en")
    token = client.headers.pop("x-podium-csrf")
    assert token == client.cookies[CSRF_COOKIE]
    response = await client.post(
        upload_url(world), data={"_csrf_token": token}, files={"file": ("plan.pdf", pdf(), "application/pdf")}
    )
    assert response.status_code == 201, response.text
    assert len(stored_files(settings, world.team)) == 1
    without_file = await client.post(upload_url(world), data={"_csrf_token": token}, files={"x": ("a", b"a")})
    assert error(without_file, 400, "validation_error")["fields"] == {"file": "is required"}
    forged = await client.post(upload_url(world), files={"file": ("plan.pdf", pdf(), "application/pdf")})
    error(forged, 403, "csrf_failed")
    assert await Material.count() == 1


async def test_a_file_lost_from_the_disk_is_not_found_not_a_broken_download(world, as_, settings):
    leader = await as_("leader")
    material = (await upload(leader, world, pdf())).json()
    for name in stored_files(settings, world.team):
        (settings.data_dir / "files" / "teams" / str(world.team) / name).unlink()
    error(await leader.get(material["download_url"]), 404, "not_found")


@pytest.mark.parametrize("module", ["teams/materials.py", "teams/material_controllers.py"])
@pytest.mark.parametrize("locale", ["zh", "ru"])
def test_every_message_of_the_materials_is_translated(module, locale):
    t = translations(locale)
    ids, _ = _message_ids(BACKEND / module)
    assert ids, module
    assert [m for m in ids if t.gettext(m) == m] == []
    assert t.pgettext("object", "Material") != "Material"
