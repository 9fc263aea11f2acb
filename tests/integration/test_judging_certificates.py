"""Prize tiers, awards and certificates over HTTP: tiers validated and kept once given, awards in the
published order (a tie across a tier's end gets the higher tier and says so) and idempotent,
certificates once per person and award with unguessable serials, the PDF (one A4 landscape page,
the CJK font embedded, the QR code of the verification page) for the holder, the team and the
organizers only, revocation, and the public verification page (valid, revoked, unknown)."""

from __future__ import annotations

import re

import pytest

from backend.accounts.tables import Profile
from backend.teams.tables import TeamMember
from judging.advancement import documents
from judging.tables import Award, Certificate
from tests.integration.judging_world import build_world
from tests.integration.test_judging_advancement import bearer, publish_ranking, scoped_admin

pytestmark = pytest.mark.anyio

TIERS = [
    {
        "code": "special",
        "size": 1,
        "name_zh": "特等奖",
        "name_en": "Special prize",
        "name_ru": "Особая премия",
    },
    {"code": "first", "size": 2, "name_zh": "一等奖", "name_en": "First prize", "name_ru": "Первая премия"},
    {"code": "second", "size": 3, "name_en": "Second prize"},
]


@pytest.fixture
async def world(db):
    return await build_world(teams=10, judges=3)


@pytest.fixture
async def organizer(make_client, world):
    return await bearer(make_client, world.organizer, "organizer")


def url(world, rest: str) -> str:
    return f"/api/v1/stages/{world.stage}/{rest}"


async def test_tiers_are_validated_and_a_given_tier_stays(organizer, world):
    duplicate = await organizer.put(url(world, "prize-tiers"), json={"tiers": [TIERS[0], TIERS[0]]})
    assert duplicate.status_code == 422
    assert "tiers[1].code" in duplicate.json()["fields"]
    nameless = await organizer.put(url(world, "prize-tiers"), json={"tiers": [{"code": "x", "size": 1}]})
    assert nameless.status_code == 422
    assert "tiers[0].name_en" in nameless.json()["fields"]
    for bad in ({"code": "x", "size": 0, "name_en": "X"}, {"code": "a b", "size": 1, "name_en": "X"}):
        response = await organizer.put(url(world, "prize-tiers"), json={"tiers": [bad]})
        assert response.status_code in (400, 422), response.text
    saved = await organizer.put(url(world, "prize-tiers"), json={"tiers": TIERS})
    assert saved.status_code == 200, saved.text
    assert [(t["code"], t["size"], t["position"]) for t in saved.json()] == [
        ("special", 1, 1),
        ("first", 2, 2),
        ("second", 3, 3),
    ]
    await publish_ranking(world)
    assert (await organizer.post(url(world, "awards"))).status_code == 200
    removed = await organizer.put(url(world, "prize-tiers"), json={"tiers": TIERS[:2]})
    assert removed.status_code == 409
    assert removed.json()["code"] == "tier_awarded"
    renamed = await organizer.put(
        url(world, "prize-tiers"), json={"tiers": [{**TIERS[0], "name_en": "Grand prize"}, *TIERS[1:]]}
    )
    assert renamed.status_code == 200
    assert renamed.json()[0]["name_en"] == "Grand prize"


async def test_awards_follow_the_order_a_tie_takes_the_higher_tier_and_a_rerun_changes_nothing(
    make_client, organizer, world
):
    assert (await organizer.post(url(world, "awards"))).json()["code"] == "judging_state"
    # entries 2 and 3 tie in every step of the chain at the end of the first tier
    scores = [95.0, 90.0, 85.0, 85.0, 80.0, 75.0, 70.0, 65.0, 60.0, 55.0]
    await publish_ranking(world, scores)
    assert (await organizer.post(url(world, "awards"))).json()["code"] == "no_prize_tiers"
    assert (await organizer.put(url(world, "prize-tiers"), json={"tiers": TIERS})).status_code == 200
    _, scoped = await scoped_admin(make_client, world, "scoped", track=world.tracks["A"])
    assert (await scoped.post(url(world, "awards"))).status_code == 403
    given = await organizer.post(url(world, "awards"))
    assert given.status_code == 200, given.text
    body = given.json()
    tier_of = {a["team_id"]: a["tier"] for a in body["awards"]}
    teams = world.teams
    assert tier_of[teams[0]] == "special"
    assert tier_of[teams[1]] == tier_of[teams[2]] == tier_of[teams[3]] == "first"  # the tie of 2 and 3
    assert [tier_of.get(t) for t in teams[4:]] == ["second", "second", None, None, None, None]
    assert body["given"] == 6
    assert body["ties"] == [{"place": 3, "teams": sorted([teams[2], teams[3]])}]
    again = (await organizer.post(url(world, "awards"))).json()
    assert again["given"] == 0
    assert again["awards"] == body["awards"]
    assert await Award.count() == 6
    listed = (await scoped.get(url(world, "awards"))).json()
    assert listed["awards"] == body["awards"]


async def _awarded(organizer, world) -> None:
    await publish_ranking(world)
    assert (await organizer.put(url(world, "prize-tiers"), json={"tiers": TIERS})).status_code == 200
    assert (await organizer.post(url(world, "awards"))).status_code == 200


async def test_certificates_once_per_person_with_their_profile_names(organizer, world):
    await _awarded(organizer, world)
    leader = world.leaders[0]
    await Profile(user=leader, name_native="王小明", name_latin="Wang Xiaoming").save()
    # an advisor of the winning team, and a member whose seat is still an invitation (no certificate)
    await TeamMember(
        team=world.teams[0],
        event=world.event,
        track=world.tracks["A"],
        user=world.judges[0],
        email=world.email(world.judges[0]),
        role="university_advisor",
        state="confirmed",
        joined_via="invitation",
    ).save()
    await TeamMember(
        team=world.teams[0],
        event=world.event,
        track=world.tracks["A"],
        email="pending@example.org",
        role="member",
        state="invited",
        joined_via="invitation",
    ).save()
    issued = await organizer.post(url(world, "certificates"))
    assert issued.status_code == 200, issued.text
    body = issued.json()
    assert body["issued"] == 7  # six awarded teams' leaders and the advisor
    mine = [c for c in body["certificates"] if c["user_id"] == leader]
    assert len(mine) == 1
    assert (mine[0]["holder_name"], mine[0]["holder_name_latin"], mine[0]["role"]) == (
        "王小明",
        "Wang Xiaoming",
        "member",
    )
    advisor = [c for c in body["certificates"] if c["user_id"] == world.judges[0]]
    assert advisor[0]["role"] == "advisor"
    serials = [c["serial"] for c in body["certificates"]]
    assert len(set(serials)) == len(serials)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", s) for s in serials)  # 128 random bits each
    assert all(c["verify_url"].endswith(f"/verify/{c['serial']}") for c in body["certificates"])
    again = (await organizer.post(url(world, "certificates"))).json()
    assert again["issued"] == 0
    assert await Certificate.count() == 7


def _pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


async def test_the_pdf_for_its_holder_team_and_organizers_only(
    make_client, organizer, world, monkeypatch, caplog
):
    await _awarded(organizer, world)
    await Profile(user=world.leaders[0], name_native="王小明", name_latin="Wang Xiaoming").save()
    certificate = (await organizer.post(url(world, "certificates"))).json()["certificates"][0]
    pdf_url = certificate["pdf_url"]
    holder = await bearer(make_client, certificate["user_id"], "holder")
    encoded: list[str] = []
    real = documents.qr_png
    monkeypatch.setattr(documents, "qr_png", lambda text: encoded.append(text) or real(text))
    for lang in ("zh", "en", "ru"):
        response = await holder.get(f"{pdf_url}?lang={lang}")
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == "application/pdf"
        pdf = response.content
        assert pdf.startswith(b"%PDF")
        assert _pages(pdf) == 1
        assert b"/FontFile2" in pdf or b"/FontFile3" in pdf  # the font is embedded
        assert b"NotoSansCJK" in pdf or b"Noto" in pdf
        assert b"/MediaBox [0 0 841.89 595.28]" in pdf  # A4 landscape
    assert encoded == [certificate["verify_url"]] * 3
    assert "missing the following glyphs" not in caplog.text  # e.g. the narrow space of Russian dates
    # the organizer and a scoped admin of its track see it; another team's leader and a judge do not
    assert (await organizer.get(pdf_url)).status_code == 200
    _, scoped = await scoped_admin(make_client, world, "scoped", track=world.tracks["A"])
    assert (await scoped.get(pdf_url)).status_code == 200
    _, elsewhere = await scoped_admin(make_client, world, "elsewhere", track=world.tracks["B"])
    assert (await elsewhere.get(pdf_url)).status_code == 404
    other_leader = await bearer(make_client, world.leaders[1], "other")
    assert (await other_leader.get(pdf_url)).status_code == 404
    judge = await bearer(make_client, world.judges[1], "judge")
    assert (await judge.get(pdf_url)).status_code == 404
    assert (await (await make_client()).get(pdf_url)).status_code == 401
    assert (await holder.get("/api/v1/certificates/nope.pdf")).status_code == 404
    assert (await holder.get(f"{pdf_url}?lang=fr")).status_code == 400
    assert (await holder.get("/api/v1/certificates/a%20b.pdf")).status_code == 400


def test_the_qr_code_holds_the_verification_url():
    import qrcode

    url = "https://podium.example/verify/AbCdEfGhIjKlMnOpQrStUv"
    png = documents.qr_png(url)
    assert png.startswith(b"\x89PNG")
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=4)
    code.add_data(url)
    code.make(fit=True)
    size = (code.modules_count + 8) * 8
    import io

    from PIL import Image

    assert Image.open(io.BytesIO(png)).size == (size, size)


async def test_revocation_and_the_public_verification_page(make_client, organizer, world):
    await _awarded(organizer, world)
    await Profile(user=world.leaders[0], name_native="王小明", name_latin="Wang Xiaoming").save()
    certificate = (await organizer.post(url(world, "certificates"))).json()["certificates"][0]
    serial = certificate["serial"]
    anonymous = await make_client()
    valid = await anonymous.get(f"/verify/{serial}", headers={"accept-language": "zh"})
    assert valid.status_code == 200
    assert "王小明" in valid.text
    assert "Wang Xiaoming" in valid.text
    assert "特等奖" in valid.text
    assert world.email(world.leaders[0]) not in valid.text  # no other personal data
    assert "verify-valid" in valid.text
    _, scoped = await scoped_admin(make_client, world, "scoped", track=world.tracks["A"])
    refused = await scoped.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "x"})
    assert refused.status_code == 403
    revoked = await organizer.post(
        f"/api/v1/certificates/{serial}/revoke", json={"reason": "Plagiarism found"}
    )
    assert revoked.status_code == 200, revoked.text
    assert revoked.json()["revoked_at"] is not None
    twice = await organizer.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "again"})
    assert twice.json()["code"] == "certificate_revoked"
    page = await anonymous.get(f"/verify/{serial}", headers={"accept-language": "en"})
    assert page.status_code == 200
    assert "verify-revoked" in page.text
    assert "Plagiarism" not in page.text
    holder = await bearer(make_client, certificate["user_id"], "holder")
    assert (await holder.get(certificate["pdf_url"])).json()["code"] == "certificate_revoked"
    for unknown in ("AAAAAAAAAAAAAAAAAAAAAA", "not a serial", "x" * 150):
        missing = await anonymous.get(f"/verify/{unknown}", headers={"accept-language": "ru"})
        assert missing.status_code == 404
        assert "verify-unknown" in missing.text
    assert (
        await anonymous.post(f"/api/v1/certificates/{serial}/revoke", json={"reason": "x"})
    ).status_code == 401


async def test_the_team_certificates_page(make_client, organizer, world):
    await _awarded(organizer, world)
    certificate = (await organizer.post(url(world, "certificates"))).json()["certificates"][0]
    leader = await make_client(world.email(world.leaders[0]))
    page = await leader.get(f"/teams/{world.teams[0]}/certificates")
    assert page.status_code == 200
    assert certificate["serial"] in page.text
    other = await make_client(world.email(world.leaders[1]))
    assert (await other.get(f"/teams/{world.teams[0]}/certificates")).status_code == 404
