"""The organizers' list, counts and review of teams: each admin sees and reviews only the teams its
scope covers (a school admin its institution's, a provincial admin its region's, a track admin its
track's), filters and search narrow the list, and approval follows the contest's rules."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from backend.accounts import passwords
from backend.accounts.tables import ApiToken, Profile, Role, User
from backend.accounts.tokens import token_digest
from backend.audit import AuditEntry
from backend.events.tables import Track
from backend.institutions.tables import Institution
from backend.mail.tables import OutboxEmail
from backend.teams.tables import RegistrationRules, Team, TeamEvent, TeamMember
from tests.integration import test_concurrency as concurrency
from tests.integration import test_team_races as races
from tests.integration.test_concurrency import N, race, statuses, the_one_refusal

# The race servers (``podium serve --workers 2`` on each engine) and their admin, as in test_concurrency.
server = concurrency.server
admin = concurrency.admin

_codes = itertools.count(1)
_HASH = passwords.hash_password("correct horse battery")


@dataclass
class Contest:
    event: int
    tracks: dict[str, int]
    institutions: dict[str, int]
    users: dict[str, int] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)


async def add_team(
    contest: Contest,
    name: str,
    track: str,
    institution: str | None,
    *,
    status: str = "complete",
    leader: int | None = None,
    emails: tuple[str, ...] = (),
    entry_title: str = "",
) -> int:
    """A team written to the tables directly: its leader (a user id; a new account unless the team
    is forming) and invited members by e-mail."""
    if leader is None and status != "forming":
        user = User(
            username=f"{name.lower()}@example.org", email=f"{name.lower()}@example.org", password=_HASH
        )
        await user.save()
        leader = user.id
    inst = contest.institutions.get(institution) if institution else None
    region, country = ("", "")
    if inst is not None:
        row = (
            await Institution.select(Institution.region, Institution.country)
            .where(Institution.id == inst)
            .first()
        )
        region, country = row["region"], row["country"]
    team = Team(
        event=contest.event,
        track=contest.tracks[track],
        name=name,
        entry_title=entry_title,
        leader=leader,
        institution=inst,
        region=region,
        country=country,
        join_code=f"CODE{next(_codes):06d}",
        status=status,
    )
    await team.save()
    seats = []
    if leader is not None:
        seats.append(
            TeamMember(
                team=team.id,
                event=contest.event,
                track=contest.tracks[track],
                user=leader,
                email=f"leader{leader}@example.org",
                role="leader",
                state="confirmed",
                joined_via="creation",
            )
        )
    seats += [
        TeamMember(
            team=team.id,
            event=contest.event,
            track=contest.tracks[track],
            email=email,
            role="member",
            state="invited",
            joined_via="invitation",
        )
        for email in emails
    ]
    if seats:
        await TeamMember.insert(*seats)
    contest.teams[name] = team.id
    return team.id


async def new_user(email: str, name: str = "") -> int:
    """An account with a ready-made hash and an API token ``pdm_test_<email>`` (no hashing per test)."""
    user = User(
        username=email, email=email, password=_HASH, display_name=name or email.split("@")[0], active=True
    )
    await user.save()
    await ApiToken.insert(ApiToken(user=user.id, name="test", token_hash=token_digest(f"pdm_test_{email}")))
    return user.id


async def as_(make_client, who: str, lang: str | None = None):
    """A client acting as ``who@example.org`` with its API token (in ``lang`` when given)."""
    client = await make_client()
    client.headers["authorization"] = f"Bearer pdm_test_{who}@example.org"
    if lang:
        client.cookies.set("podium_lang", lang)
    return client


@pytest.fixture
async def contest(make_event, grant) -> Contest:
    return await build_contest(make_event, grant)


async def build_contest(make_event, grant) -> Contest:
    """An open contest with tracks A and B, three institutions (two in Zhejiang), an organizer, a
    school admin, a provincial admin and a track admin, and five teams across them."""
    event = await make_event("review-2027", status="open")
    tracks = [Track(event=event, code=code, name_en=code, team_min=1, team_max=5) for code in ("A", "B")]
    await Track.insert(*tracks)
    institutions = {}
    for key, region in (("zju", "Zhejiang"), ("hzu", "Zhejiang"), ("scu", "Guangdong")):
        inst = Institution(kind="university", country="CN", name_en=key.upper(), name_zh=key, region=region)
        await inst.save()
        institutions[key] = inst.id
    c = Contest(event, {"A": tracks[0].id, "B": tracks[1].id}, institutions)
    for who, scope in (
        ("organizer", {}),
        ("school", {"institution": institutions["zju"]}),
        ("province", {"region": "Zhejiang"}),
        ("trackb", {"track": tracks[1].id}),
    ):
        c.users[who] = await new_user(f"{who}@example.org")
        await grant(c.users[who], Role.organizer, event, **scope)
    c.users["leader"] = await new_user("leader@example.org", name="Lead Person")
    await Profile.insert(Profile(user=c.users["leader"], name_native="李明", name_latin="Li Ming"))
    await add_team(c, "Alpha", "A", "zju", leader=c.users["leader"], entry_title="Silk Road Shop")
    await add_team(c, "Beta", "B", "zju", status="forming", emails=("beta.member@example.org",))
    await add_team(c, "Gamma", "A", "hzu")
    await add_team(c, "Delta", "B", "scu")
    await add_team(c, "Epsilon", "A", None, status="withdrawn")
    other = await make_event("other-2027", status="open")
    other_track = Track(event=other, code="A", name_en="A")
    await other_track.save()
    await Team.insert(Team(event=other, track=other_track.id, name="Elsewhere", join_code="OTHER1"))
    return c


async def names(client, contest: Contest, query: str = "") -> set[str]:
    response = await client.get(f"/api/v1/events/{contest.event}/teams?limit=500{query}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["total"] == len(body["items"])
    return {t["name"] for t in body["items"]}


async def test_each_admin_sees_only_the_teams_its_scope_covers(make_client, contest):
    expected = {
        "organizer": {"Alpha", "Beta", "Gamma", "Delta", "Epsilon"},
        "school": {"Alpha", "Beta"},
        "province": {"Alpha", "Beta", "Gamma"},
        "trackb": {"Beta", "Delta"},
    }
    for who, teams in expected.items():
        client = await as_(make_client, who)
        assert await names(client, contest) == teams, who
        # a filter never widens the scope
        assert await names(client, contest, f"&institution_id={contest.institutions['scu']}") == teams & {
            "Delta"
        }
    leader = await as_(make_client, "leader")
    assert (await leader.get(f"/api/v1/events/{contest.event}/teams")).status_code == 403


async def test_counts_per_status_institution_and_region_stay_in_scope(make_client, contest):
    school = await as_(make_client, "school")
    counts = (await school.get(f"/api/v1/events/{contest.event}/teams/counts")).json()
    assert counts["total"] == 2
    assert {c["key"]: c["count"] for c in counts["by_institution"]} == {str(contest.institutions["zju"]): 2}
    assert {c["key"]: c["count"] for c in counts["by_region"]} == {"Zhejiang": 2}
    assert {c["key"]: c["count"] for c in counts["by_status"]} == {"complete": 1, "forming": 1}
    organizer = await as_(make_client, "organizer")
    counts = (
        await organizer.get(f"/api/v1/events/{contest.event}/teams/counts?track_id={contest.tracks['A']}")
    ).json()
    assert counts["total"] == 3
    assert {c["key"]: c["count"] for c in counts["by_region"]} == {"Zhejiang": 2, "": 1}


async def test_filters_and_search(make_client, contest):
    client = await as_(make_client, "organizer")
    assert await names(client, contest, f"&track_id={contest.tracks['B']}") == {"Beta", "Delta"}
    assert await names(client, contest, "&region=Guangdong") == {"Delta"}
    assert await names(client, contest, "&country=cn") == {"Alpha", "Beta", "Gamma", "Delta"}
    assert await names(client, contest, "&status=withdrawn") == {"Epsilon"}
    assert await names(client, contest, "&complete=true") == {"Alpha", "Gamma", "Delta"}
    assert await names(client, contest, "&complete=false") == {"Beta", "Epsilon"}
    assert await names(client, contest, "&q=silk") == {"Alpha"}  # entry title
    assert await names(client, contest, "&q=gAMm") == {"Gamma"}  # team name, any case
    assert await names(client, contest, "&q=beta.member@") == {"Beta"}  # an invited member's e-mail
    assert await names(client, contest, "&q=李明") == {"Alpha"}  # a member's native name
    assert await names(client, contest, "&q=Lead Person") == {"Alpha"}  # the account's name
    assert await names(client, contest, "&q=100%25") == set()  # % is literal
    page = (await client.get(f"/api/v1/events/{contest.event}/teams?limit=2&offset=1")).json()
    assert page["total"] == 5
    assert [t["name"] for t in page["items"]] == ["Beta", "Gamma"]
    alpha = (await client.get(f"/api/v1/events/{contest.event}/teams?q=Alpha")).json()["items"][0]
    assert alpha["leader"]["name_latin"] == "Li Ming"
    assert alpha["members_confirmed"] == 1
    assert alpha["institution_name"] == "zju"  # accounts read Chinese by default
    assert alpha["complete"] is True
    bad = await client.get(f"/api/v1/events/{contest.event}/teams?status=done&country=CHN")
    assert bad.status_code == 400
    assert {"status", "country"} <= set(bad.json()["fields"])


async def _require_approval(contest: Contest) -> None:
    await RegistrationRules.insert(RegistrationRules(event=contest.event, rules={"approval_required": True}))


async def test_approval_where_the_contest_requires_it(make_client, contest):
    alpha, beta = contest.teams["Alpha"], contest.teams["Beta"]
    school = await as_(make_client, "school")
    refused = await school.post(f"/api/v1/teams/{alpha}/review", json={"decision": "approve"})
    assert refused.status_code == 409
    assert refused.json()["code"] == "approval_not_required"
    await _require_approval(contest)
    forming = await school.post(f"/api/v1/teams/{beta}/review", json={"decision": "approve"})
    assert forming.status_code == 409
    assert forming.json()["code"] == "team_not_complete"
    no_note = await school.post(f"/api/v1/teams/{alpha}/review", json={"decision": "reject", "note": "  "})
    assert no_note.status_code == 400
    assert no_note.json()["code"] == "review_note_required"
    assert set(no_note.json()["fields"]) == {"note"}
    before = await AuditEntry.count()
    approved = await school.post(
        f"/api/v1/teams/{alpha}/review", json={"decision": "approve", "note": "Welcome"}
    )
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "approved"
    assert await AuditEntry.count() == before + 1
    assert await TeamEvent.exists().where((TeamEvent.team == alpha) & (TeamEvent.kind == "approved"))
    mails = await OutboxEmail.select().where(
        OutboxEmail.to_address == f"leader{contest.users['leader']}@example.org"
    )
    assert len(mails) == 1
    assert "Alpha" in mails[0]["subject"]
    again = await school.post(f"/api/v1/teams/{alpha}/review", json={"decision": "approve"})
    assert again.status_code == 409
    assert again.json()["code"] == "team_already_reviewed"
    rejected = await school.post(
        f"/api/v1/teams/{alpha}/review", json={"decision": "reject", "note": "Wrong school"}
    )
    assert rejected.status_code == 200
    assert rejected.json()["review_note"] == "Wrong school"
    withdrawn = await (await as_(make_client, "organizer")).post(
        f"/api/v1/teams/{contest.teams['Epsilon']}/review", json={"decision": "reject", "note": "x"}
    )
    assert withdrawn.status_code == 409
    assert withdrawn.json()["code"] == "team_not_reviewable"


async def test_a_track_may_require_approval_on_its_own(make_client, contest):
    await RegistrationRules.insert(
        RegistrationRules(event=contest.event, track=contest.tracks["B"], rules={"approval_required": True})
    )
    organizer = await as_(make_client, "organizer")
    delta = await organizer.post(
        f"/api/v1/teams/{contest.teams['Delta']}/review", json={"decision": "approve"}
    )
    assert delta.status_code == 200
    gamma = await organizer.post(
        f"/api/v1/teams/{contest.teams['Gamma']}/review", json={"decision": "approve"}
    )
    assert gamma.json()["code"] == "approval_not_required"


async def test_nobody_reviews_a_team_outside_their_scope(make_client, contest):
    await _require_approval(contest)
    attempts = [
        (who, await as_(make_client, who), team)
        for who, team in (
            ("school", "Gamma"),
            ("province", "Delta"),
            ("trackb", "Alpha"),
            ("leader", "Alpha"),
        )
    ]
    before = await AuditEntry.count()
    for who, client, team in attempts:
        response = await client.post(
            f"/api/v1/teams/{contest.teams[team]}/review", json={"decision": "approve"}
        )
        # hidden from organizers elsewhere; the team's own leader sees it but may not review it
        assert response.status_code == (403 if who == "leader" else 404), (who, response.text)
    assert await AuditEntry.count() == before
    assert await Team.count().where(Team.status == "approved") == 0


# The workspace's "Teams" section ---------------------------------------------------------------

HTML = {"accept": "text/html"}


async def test_the_teams_pages_keep_to_the_scope_and_review_through_a_form(make_client, contest):
    await _require_approval(contest)
    school = await as_(make_client, "school", "en")
    base = f"/workspace/events/{contest.event}/teams"
    listing = await school.get(f"{base}?q=a&complete=true", headers=HTML)
    assert listing.status_code == 200, listing.text
    assert "Alpha" in listing.text
    assert "Gamma" not in listing.text  # another school's
    assert (
        f'href="/api/v1/events/{contest.event}/teams/export?format=csv&amp;complete=true&amp;q=a"'
        in listing.text
    )
    assert (await school.get(f"{base}/{contest.teams['Gamma']}", headers=HTML)).status_code == 404
    alpha = f"{base}/{contest.teams['Alpha']}"
    detail = await school.get(alpha, headers=HTML)
    assert detail.status_code == 200
    assert "李明" in detail.text
    refused = await school.post(f"{alpha}/review", data={"decision": "reject", "note": ""}, headers=HTML)
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text
    done = await school.post(f"{alpha}/review", data={"decision": "approve"}, headers=HTML)
    assert done.status_code == 303
    assert done.headers["location"].endswith("?done=approved")
    assert await Team.count().where(Team.status == "approved") == 1
    page = await school.get(alpha + "?done=approved", headers=HTML)
    assert "approved" in page.text


async def test_the_import_page_shows_the_report(make_client, contest):
    organizer = await as_(make_client, "organizer", "en")
    url = f"/workspace/events/{contest.event}/teams/import"
    assert (await organizer.get(url, headers=HTML)).status_code == 200
    content = b"track,team_name,leader_email\nA,Page Team,page@example.org\nQ,Bad,nobody\n"
    response = await organizer.post(
        url, files={"file": ("t.csv", content, "text/csv")}, data={"dry_run": "false"}, headers=HTML
    )
    assert response.status_code == 400
    assert "unknown_track" in response.text
    assert await Team.count().where(Team.name == "Page Team") == 0
    good = await organizer.post(
        url,
        files={"file": ("t.csv", content.splitlines(True)[0] + content.splitlines(True)[1], "text/csv")},
        data={"dry_run": "false"},
        headers=HTML,
    )
    assert good.status_code == 200
    assert await Team.count().where(Team.name == "Page Team") == 1
    bad = await organizer.post(
        url, files={"file": ("t.pdf", b"%PDF-1.4", "application/pdf")}, data={"dry_run": "true"}, headers=HTML
    )
    assert bad.status_code == 400
    assert 'id="error-summary"' in bad.text


# Twenty organizers' decisions racing (real servers on PostgreSQL and SQLite) ----------------------


@pytest.mark.anyio  # at collection, so anyio's backend parameter joins the engines
@pytest.mark.parametrize("server", ["postgresql", "sqlite"], indirect=True)
async def test_twenty_approvals_at_once_approve_once(server, admin):
    """The team's row lock orders the decisions: one approves (one audit entry, one mail), the others
    find it approved."""
    event_id, (track_id,) = await races._open_contest(server, admin, tracks=1)
    await server.execute("UPDATE track SET team_min = 1 WHERE id = ?", track_id)
    rules = await admin.put(f"/api/v1/events/{event_id}/registration-rules", json={"approval_required": True})
    assert rules.status_code == 200, rules.text
    leader = await races._person(server, "leader@example.org")
    try:
        team = await leader.post(
            f"/api/v1/events/{event_id}/teams", json={"track_id": track_id, "name": "Race"}
        )
        assert team.json()["status"] == "complete", team.text
        url = f"/api/v1/teams/{team.json()['id']}/review"
        responses = await race(*[lambda: admin.post(url, json={"decision": "approve"}) for _ in range(N)])
        assert statuses(responses) == {200: 1, 409: N - 1}
        assert the_one_refusal(responses, 409)["code"] == "team_already_reviewed"
        audit = await server.rows("SELECT count(*) FROM audit_entry WHERE action = 'team.approved'")
        assert audit[0][0] == 1
    finally:
        await leader.aclose()
