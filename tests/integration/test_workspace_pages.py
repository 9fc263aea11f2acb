"""The organizer's workspace pages: who sees them, every form's success and failure, and that each
change goes through the services (an audit entry per change, nothing written by a refused form)."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from backend.accounts.tables import Role, RoleGrant
from backend.audit import AuditEntry
from backend.events.tables import Event, EventSession, Stage, Track
from backend.organizations.tables import Organization

pytestmark = pytest.mark.anyio

HTML = {"accept": "text/html"}


@pytest.fixture
async def org_admin(make_user, make_organization) -> tuple[int, int]:
    """(user id, organization id) of the admin of the organization ``alliance``."""
    organization_id = await make_organization("alliance")
    user_id = await make_user("orgadmin@example.org", name="Org Admin")
    await RoleGrant.insert(RoleGrant(user=user_id, role="org_admin", organization=organization_id))
    return user_id, organization_id


@pytest.fixture
def login(make_client):
    """A client logged in as ``email``, reading the pages in English (accounts default to zh)."""

    async def factory(email: str | None = None, lang: str = "en"):
        client = await make_client(email)
        client.cookies.set("podium_lang", lang, domain="podium.test")
        return client

    return factory


def csrf(client) -> str:
    return client.cookies["podium_csrf"]


async def post_form(client, url: str, data: dict | None = None):
    return await client.post(url, data={"_csrf_token": csrf(client), **(data or {})}, headers=HTML)


async def audit_actions(event_id: int | None = None) -> list[str]:
    """The audited changes (of the event), leaving out the logins and accounts the tests make."""
    query = AuditEntry.select(AuditEntry.action).order_by(AuditEntry.id)
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    return [r["action"] for r in await query if not r["action"].startswith(("auth.", "user."))]


def main_text(html: str) -> str:
    main = html.split('<main id="main"', 1)[1].split("</main>", 1)[0]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


EVENT_FORM = {
    "kind": "contest",
    "slug": "cbec-2028",
    "name_zh": "跨境电商大赛",
    "name_en": "CBEC Contest 2028",
    "name_ru": "",
    "edition_en": "2028",
    "venue_en": "Hangzhou",
    "starts_on": "2028-03-01",
    "ends_on": "2028-07-25",
    "time_zone": "Asia/Shanghai",
}


# The start page --------------------------------------------------------------------------------


async def test_the_start_page_lists_the_callers_organizations_and_events(
    login, org_admin, make_event, make_organization
):
    _user_id, organization_id = org_admin
    event_id = await make_event("cbec-2027", name_en="CBEC 2027")
    await make_event("other-2027", organization="elsewhere", name_en="Not mine")
    client = await login("orgadmin@example.org")
    response = await client.get("/workspace", headers=HTML)
    assert response.status_code == 200
    text = main_text(response.text)
    assert "Organization alliance" in text
    assert "CBEC 2027" in text
    assert "Draft" in text
    assert "Not mine" not in text
    assert "Organization elsewhere" not in text
    assert f'href="/workspace/events/new?organization_id={organization_id}"' in response.text
    assert f'href="/workspace/events/{event_id}"' in response.text
    assert "/workspace/organizations/new" not in response.text  # platform admins only
    # the header links to the workspace; the back office is for platform admins only
    header = response.text.split("</header>")[0]
    assert 'href="/workspace" aria-current="page"' in header
    assert 'href="/admin/"' not in response.text


async def test_a_platform_admin_sees_every_organization(login, admin, make_organization):
    await make_organization("elsewhere")
    client = await login("admin@example.org")
    response = await client.get("/workspace", headers=HTML)
    text = main_text(response.text)
    assert "Organization alliance" in text
    assert "Organization elsewhere" in text
    assert 'href="/workspace/organizations/new"' in response.text


async def test_someone_without_a_role_sees_an_empty_workspace_and_no_link(login, make_user):
    await make_user("judge@example.org")
    client = await login("judge@example.org")
    response = await client.get("/workspace", headers=HTML)
    assert response.status_code == 200
    assert "You organize no events yet" in response.text
    for page in ("/workspace", "/me", "/"):
        header = (await client.get(page, headers=HTML)).text.split("</header>")[0]
        assert 'href="/workspace"' not in header, page
        assert 'href="/admin/"' not in header, page


async def test_the_header_links_to_the_workspace_for_organizers_and_admins(
    login, make_event, make_user, grant, admin
):
    organizer = await make_user("organizer@example.org")
    await grant(organizer, Role.organizer, await make_event())
    for email in ("organizer@example.org", "admin@example.org"):
        client = await login(email)
        header = (await client.get("/", headers=HTML)).text.split("</header>")[0]
        assert 'href="/workspace"' in header, email
        assert ('href="/admin/"' in header) is (email == "admin@example.org")


async def test_anonymous_visitors_are_sent_to_the_login(client):
    response = await client.get("/workspace", headers=HTML)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/workspace"


# Organizations ---------------------------------------------------------------------------------


async def test_a_platform_admin_creates_an_organization(login, admin):
    client = await login("admin@example.org")
    assert (await client.get("/workspace/organizations/new", headers=HTML)).status_code == 200
    response = await post_form(
        client,
        "/workspace/organizations",
        {"kind": "university", "slug": "zju", "name_zh": "浙江大学", "name_en": "", "name_ru": ""},
    )
    assert response.status_code == 303, response.text
    row = await Organization.select().where(Organization.slug == "zju").first()
    assert response.headers["location"] == f"/workspace/organizations/{row['id']}?done=organization-created"
    assert row["name_zh"] == "浙江大学"
    assert row["kind"] == "university"
    assert await audit_actions() == ["organization.create"]


async def test_a_bad_organization_form_shows_every_problem_and_keeps_the_values(login, admin):
    client = await login("admin@example.org")
    response = await post_form(
        client,
        "/workspace/organizations",
        {"kind": "castle", "slug": "Not A Slug", "name_zh": "", "name_en": "x" * 301, "name_ru": "Союз"},
    )
    assert response.status_code == 400
    assert 'id="error-summary"' in response.text
    for field in ("kind", "slug", "name_en"):
        assert f'id="organization-{field}-error"' in response.text, field
        assert re.search(rf'id="organization-{field}"[^>]*aria-invalid="true"', response.text, re.S), field
    assert 'value="Союз"' in response.text  # what was typed stays
    assert await Organization.count() == 1
    assert await audit_actions() == []


async def test_the_organization_page_for_its_admin(login, org_admin, make_event, make_user, grant):
    _user_id, organization_id = org_admin
    draft = await make_event("cbec-2027", name_en="CBEC 2027")
    client = await login("orgadmin@example.org")
    response = await client.get(f"/workspace/organizations/{organization_id}", headers=HTML)
    assert response.status_code == 200
    text = main_text(response.text)
    assert "CBEC 2027" in text
    assert "orgadmin@example.org" in text
    assert f"/workspace/organizations/{organization_id}/roles" in response.text  # may grant
    assert f'href="/workspace/events/{draft}"' in response.text


async def test_an_org_admin_grants_and_revokes_organization_roles(
    login, org_admin, make_event, make_user, grant
):
    _user_id, organization_id = org_admin
    event_id = await make_event()
    judge = await make_user("judge@example.org")
    await grant(judge, Role.judge, event_id)  # someone the admin knows: a judge of their event
    client = await login("orgadmin@example.org")
    url = f"/workspace/organizations/{organization_id}/roles"
    response = await post_form(client, url, {"user_id": str(judge), "role": "organizer"})
    assert response.status_code == 303, response.text
    assert response.headers["location"].endswith("?done=role-granted#people")
    row = (
        await RoleGrant.select()
        .where(RoleGrant.organization == organization_id)
        .order_by(RoleGrant.id, ascending=False)
        .first()
    )
    assert (row["user"], row["role"]) == (judge, "organizer")
    # the same again: the form says so and nothing changes
    again = await post_form(client, url, {"user_id": str(judge), "role": "organizer"})
    assert again.status_code == 409
    assert 'id="error-summary"' in again.text
    # a stranger and nonsense: refused, nothing written
    stranger = await make_user("stranger@example.org")
    refused = await post_form(client, url, {"user_id": str(stranger), "role": "organizer"})
    assert refused.status_code == 400
    assert 'id="grant-user_id-error"' in refused.text
    bad = await post_form(client, url, {"user_id": "abc", "role": "king"})
    assert bad.status_code == 400
    assert 'id="grant-user_id-error"' in bad.text
    assert 'id="grant-role-error"' in bad.text
    revoke = await post_form(client, f"{url}/{row['id']}/revoke")
    assert revoke.status_code == 303
    assert not await RoleGrant.exists().where(RoleGrant.id == row["id"])
    assert await audit_actions() == ["organization.role_grant", "organization.role_revoke"]


async def test_organization_pages_refuse_others(
    login, org_admin, make_organization, make_user, grant, make_event
):
    _, organization_id = org_admin
    other_org = await make_organization("elsewhere")
    other_admin = await make_user("otheradmin@example.org")
    await RoleGrant.insert(RoleGrant(user=other_admin, role="org_admin", organization=other_org))
    event_organizer = await make_user("organizer@example.org")
    await grant(event_organizer, Role.organizer, await make_event())
    for email in ("otheradmin@example.org", "organizer@example.org"):
        client = await login(email)
        page = await client.get(f"/workspace/organizations/{organization_id}", headers=HTML)
        assert page.status_code == 403, email
        new = await client.get(f"/workspace/events/new?organization_id={organization_id}", headers=HTML)
        assert new.status_code == 403, email
        created = await post_form(
            client, "/workspace/events", {**EVENT_FORM, "organization_id": str(organization_id)}
        )
        assert created.status_code == 403, email
        grant_attempt = await post_form(
            client, f"/workspace/organizations/{organization_id}/roles", {"user_id": "1", "role": "org_admin"}
        )
        assert grant_attempt.status_code == 403, email
    missing = await client.get("/workspace/organizations/999", headers=HTML)
    assert missing.status_code == 404
    assert await audit_actions() == []
    assert await Event.count() == 1


# Creating an event -----------------------------------------------------------------------------


async def test_an_org_admin_creates_an_event(login, org_admin):
    _, organization_id = org_admin
    client = await login("orgadmin@example.org")
    form = await client.get(f"/workspace/events/new?organization_id={organization_id}", headers=HTML)
    assert form.status_code == 200
    assert 'name="organization_id"' in form.text
    response = await post_form(
        client, "/workspace/events", {**EVENT_FORM, "organization_id": str(organization_id)}
    )
    assert response.status_code == 303, response.text
    row = await Event.select().where(Event.slug == "cbec-2028").first()
    assert response.headers["location"] == f"/workspace/events/{row['id']}?done=created"
    assert row["organization"] == organization_id
    assert row["status"] == "draft"
    assert (row["name_zh"], row["venue_en"], row["starts_on"]) == (
        "跨境电商大赛",
        "Hangzhou",
        dt.date(2028, 3, 1),
    )
    assert await audit_actions(row["id"]) == ["event.create"]
    overview = await client.get(response.headers["location"], headers=HTML)
    assert overview.status_code == 200
    assert "The event was created as a draft" in overview.text
    assert "Add at least one track before opening the contest." in overview.text


async def test_a_bad_event_form_reports_every_field_at_once(login, org_admin):
    _, organization_id = org_admin
    client = await login("orgadmin@example.org")
    response = await post_form(
        client,
        "/workspace/events",
        {
            **EVENT_FORM,
            "organization_id": str(organization_id),
            "slug": "Bad Slug!",
            "starts_on": "2027-02-30",
            "ends_on": "",
            "kind": "party",
        },
    )
    assert response.status_code == 400
    for field in ("slug", "starts_on", "ends_on", "kind"):
        assert f'id="event-{field}-error"' in response.text, field
    assert "2027-02-30 is not a date" in response.text
    assert 'value="跨境电商大赛"' in response.text
    # the services' own rules: the event ends before it starts, in the page's language
    ru = await post_form(
        client,
        "/workspace/events",
        {**EVENT_FORM, "organization_id": str(organization_id), "ends_on": "2028-01-01"},
    )
    assert ru.status_code == 400
    assert 'id="event-ends_on-error"' in ru.text
    assert await Event.count() == 0
    assert await audit_actions() == []


async def test_a_taken_slug_is_shown_next_to_its_field(login, org_admin, make_event):
    _, organization_id = org_admin
    await make_event("cbec-2028")
    client = await login("orgadmin@example.org")
    response = await post_form(
        client, "/workspace/events", {**EVENT_FORM, "organization_id": str(organization_id)}
    )
    assert response.status_code == 409
    assert 'id="event-slug-error"' in response.text


# One event -------------------------------------------------------------------------------------


@pytest.fixture
async def contest(org_admin, make_event) -> int:
    return await make_event("cbec-2027", name_en="CBEC 2027")


async def test_the_overview_offers_the_allowed_steps_only(login, contest, make_user, grant):
    client = await login("orgadmin@example.org")
    page = await client.get(f"/workspace/events/{contest}", headers=HTML)
    assert page.status_code == 200
    assert f'action="/workspace/events/{contest}/open"' in page.text
    assert f'action="/workspace/events/{contest}/archive"' not in page.text
    # opening a contest without a track: refused with the reason, nothing changed
    refused = await post_form(client, f"/workspace/events/{contest}/open")
    assert refused.status_code == 400
    assert "Add at least one track before opening the contest" in main_text(refused.text)
    assert 'id="error-summary"' in refused.text
    assert (await Event.select(Event.status).where(Event.id == contest).first())["status"] == "draft"
    # with a track and a stage it opens, starts, closes and is archived by the org admin
    await post_form(
        client,
        f"/workspace/events/{contest}/tracks",
        {
            "code": "A",
            "name_en": "Track A",
            "team_min": "1",
            "team_max": "5",
            "university_advisors_max": "2",
            "enterprise_advisors_max": "2",
            "entries_per_advisor_max": "4",
        },
    )
    await post_form(client, f"/workspace/events/{contest}/stages", {"level": "school"})
    for step, status in (
        ("open", "open"),
        ("start", "running"),
        ("close", "closed"),
        ("archive", "archived"),
    ):
        response = await post_form(client, f"/workspace/events/{contest}/{step}")
        assert response.status_code == 303, (step, response.text[:300])
        assert response.headers["location"] == f"/workspace/events/{contest}?done={step}"
        assert (await Event.select(Event.status).where(Event.id == contest).first())["status"] == status
    assert (await audit_actions(contest))[-4:] == [
        "event.open",
        "event.running",
        "event.closed",
        "event.archived",
    ]


async def test_an_event_organizer_may_run_but_not_archive(login, make_event, make_user, grant):
    event_id = await make_event("closed-one", status="closed")
    organizer = await make_user("organizer@example.org")
    await grant(organizer, Role.organizer, event_id)
    client = await login("organizer@example.org")
    page = await client.get(f"/workspace/events/{event_id}", headers=HTML)
    assert page.status_code == 200
    assert f'action="/workspace/events/{event_id}/archive"' not in page.text
    assert (await post_form(client, f"/workspace/events/{event_id}/archive")).status_code == 403
    assert await audit_actions() == []


async def test_event_pages_refuse_outsiders(login, contest, make_user, grant, make_organization):
    other_org = await make_organization("elsewhere")
    other_admin = await make_user("otheradmin@example.org")
    await RoleGrant.insert(RoleGrant(user=other_admin, role="org_admin", organization=other_org))
    judge = await make_user("judge@example.org")
    await grant(judge, Role.judge, contest)
    for email in ("otheradmin@example.org", "judge@example.org"):
        client = await login(email)
        for path in ("", "/settings", "/structure", "/audit"):
            response = await client.get(f"/workspace/events/{contest}{path}", headers=HTML)
            assert response.status_code == 404, (email, path)  # a draft: it does not exist for them
        for path in ("/open", "/settings", "/tracks"):
            response = await post_form(client, f"/workspace/events/{contest}{path}", {"code": "X"})
            assert response.status_code == 404, (email, path)
    assert await audit_actions() == []


async def test_settings_save_and_refuse(login, contest):
    client = await login("orgadmin@example.org")
    page = await client.get(f"/workspace/events/{contest}/settings", headers=HTML)
    assert page.status_code == 200
    assert 'value="CBEC 2027"' in page.text
    form = {
        "name_zh": "大赛",
        "name_en": "CBEC 2027",
        "name_ru": "Конкурс",
        "edition_en": "7th",
        "venue_en": "Ningbo",
        "description_ru": "Конкурс для студентов\nи преподавателей",
        "starts_on": "2027-03-01",
        "ends_on": "2027-07-25",
        "time_zone": "Asia/Shanghai",
    }
    saved = await post_form(client, f"/workspace/events/{contest}/settings", form)
    assert saved.status_code == 303
    assert saved.headers["location"] == f"/workspace/events/{contest}/settings?done=saved"
    row = await Event.select().where(Event.id == contest).first()
    assert (row["name_ru"], row["venue_en"], row["edition_en"]) == ("Конкурс", "Ningbo", "7th")
    assert row["description_ru"] == "Конкурс для студентов\nи преподавателей"  # several lines kept
    page = await client.get(f"/workspace/events/{contest}/settings", headers=HTML)
    assert 'lang="ru">Конкурс для студентов\nи преподавателей</textarea>' in page.text
    bad = await post_form(
        client,
        f"/workspace/events/{contest}/settings",
        {**form, "time_zone": "Mars/Olympus", "venue_en": "Beijing"},
    )
    assert bad.status_code == 400
    assert 'id="event-time_zone-error"' in bad.text
    assert 'value="Beijing"' in bad.text
    assert (await Event.select(Event.venue_en).where(Event.id == contest).first())["venue_en"] == "Ningbo"
    assert await audit_actions(contest) == ["event.update"]


# Structure -------------------------------------------------------------------------------------

TRACK = {
    "code": "B2B",
    "name_zh": "",
    "name_en": "Business to business",
    "name_ru": "",
    "team_min": "2",
    "team_max": "6",
    "university_advisors_max": "2",
    "enterprise_advisors_max": "1",
    "entries_per_advisor_max": "3",
}


async def test_tracks_are_added_edited_and_removed(login, contest):
    client = await login("orgadmin@example.org")
    added = await post_form(client, f"/workspace/events/{contest}/tracks", TRACK)
    assert added.status_code == 303
    assert added.headers["location"] == f"/workspace/events/{contest}/structure?done=track-added#tracks"
    track = await Track.select().where(Track.event == contest).first()
    assert (track["code"], track["team_min"], track["team_max"], track["enterprise_advisors_max"]) == (
        "B2B",
        2,
        6,
        1,
    )
    bad = await post_form(
        client,
        f"/workspace/events/{contest}/tracks/{track['id']}",
        {**TRACK, "team_min": "7", "team_max": "x"},
    )
    assert bad.status_code == 400
    assert f'id="track-{track["id"]}-team_max-error"' in bad.text
    assert re.search(r"<details open>\s*<summary><strong>Business to business", bad.text)
    too_big = await post_form(
        client, f"/workspace/events/{contest}/tracks/{track['id']}", {**TRACK, "team_min": "7"}
    )
    assert too_big.status_code == 400
    assert f'id="track-{track["id"]}-team_min-error"' in too_big.text
    saved = await post_form(
        client, f"/workspace/events/{contest}/tracks/{track['id']}", {**TRACK, "team_max": "8"}
    )
    assert saved.status_code == 303
    assert (await Track.select(Track.team_max).where(Track.id == track["id"]).first())["team_max"] == 8
    removed = await post_form(client, f"/workspace/events/{contest}/tracks/{track['id']}/delete")
    assert removed.status_code == 303
    assert await Track.count() == 0
    assert await audit_actions(contest) == ["track.create", "track.update", "track.delete"]


async def test_stages_take_deadlines_in_the_events_time_zone(login, contest):
    client = await login("orgadmin@example.org")
    first = await post_form(
        client,
        f"/workspace/events/{contest}/stages",
        {
            "level": "school",
            "name_en": "",
            "submission_deadline": "2027-04-01T18:00",
            "judging_deadline": "2027-04-10T12:00",
        },
    )
    assert first.status_code == 303, first.text
    stage = await Stage.select().where(Stage.event == contest).first()
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert stage["submission_deadline"] == dt.datetime(2027, 4, 1, 18, tzinfo=shanghai)
    # the page shows it back as it was typed, in the event's time zone
    page = await client.get(f"/workspace/events/{contest}/structure", headers=HTML)
    assert 'value="2027-04-01T18:00"' in page.text
    # out of order: the province stage closes before the school stage's judging ends
    bad = await post_form(
        client,
        f"/workspace/events/{contest}/stages",
        {"level": "province", "submission_deadline": "2027-04-05T18:00", "judging_deadline": "not a time"},
    )
    assert bad.status_code == 400
    assert 'id="stage-new-judging_deadline-error"' in bad.text
    worse = await post_form(
        client,
        f"/workspace/events/{contest}/stages",
        {"level": "province", "submission_deadline": "2027-04-05T18:00"},
    )
    assert worse.status_code == 400
    assert 'id="stage-new-submission_deadline-error"' in worse.text
    assert await Stage.count() == 1
    edited = await post_form(
        client,
        f"/workspace/events/{contest}/stages/{stage['id']}",
        {"level": "school", "name_en": "Campus round", "submission_deadline": "2027-04-02T09:30"},
    )
    assert edited.status_code == 303
    row = await Stage.select().where(Stage.id == stage["id"]).first()
    assert row["name_en"] == "Campus round"
    assert row["judging_deadline"] is None
    assert (
        await post_form(client, f"/workspace/events/{contest}/stages/{stage['id']}/delete")
    ).status_code == 303
    assert await audit_actions(contest) == ["stage.create", "stage.update", "stage.delete"]


async def test_sessions_of_a_forum(login, org_admin, make_event):
    forum = await make_event("forum-2027", kind="forum", time_zone="Europe/Moscow")
    client = await login("orgadmin@example.org")
    page = await client.get(f"/workspace/events/{forum}/structure", headers=HTML)
    assert page.status_code == 200
    assert "Add a session" in page.text
    assert "Add a track" not in page.text
    form = {
        "title_en": "Opening",
        "room": "A1",
        "starts_at": "2027-03-02T10:00",
        "ends_at": "2027-03-02T11:30",
        "capacity": "120",
    }
    added = await post_form(client, f"/workspace/events/{forum}/sessions", form)
    assert added.status_code == 303, added.text
    session = await EventSession.select().where(EventSession.event == forum).first()
    moscow = dt.timezone(dt.timedelta(hours=3))
    assert session["ends_at"] == dt.datetime(2027, 3, 2, 11, 30, tzinfo=moscow)
    bad = await post_form(
        client, f"/workspace/events/{forum}/sessions/{session['id']}", {**form, "ends_at": "2027-03-02T09:00"}
    )
    assert bad.status_code == 400
    assert f'id="session-{session["id"]}-ends_at-error"' in bad.text
    assert (
        await post_form(client, f"/workspace/events/{forum}/sessions/{session['id']}/delete")
    ).status_code == 303
    assert await audit_actions(forum) == ["session.create", "session.delete"]


async def test_a_scoped_admin_sees_and_edits_only_its_track(login, contest, make_user, grant):
    a = Track(event=contest, code="A", name_en="Track A")
    b = Track(event=contest, code="B", name_en="Track B")
    await Track.insert(a, b)
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, contest, track=a.id)
    client = await login("scoped@example.org")
    page = await client.get(f"/workspace/events/{contest}/structure", headers=HTML)
    assert page.status_code == 200
    assert "Track A" in page.text
    assert "Track B" not in page.text
    assert "Add a track" not in page.text
    assert "/delete" not in page.text
    overview = await client.get(f"/workspace/events/{contest}", headers=HTML)
    assert f'href="/workspace/events/{contest}/settings"' not in overview.text  # not its section
    assert f'href="/workspace/events/{contest}/audit"' not in overview.text
    ok = await post_form(client, f"/workspace/events/{contest}/tracks/{a.id}", {**TRACK, "code": "A"})
    assert ok.status_code == 303
    for url in (
        f"/workspace/events/{contest}/tracks/{b.id}",
        f"/workspace/events/{contest}/tracks",
        f"/workspace/events/{contest}/tracks/{a.id}/delete",
        f"/workspace/events/{contest}/open",
        f"/workspace/events/{contest}/settings",
    ):
        assert (await post_form(client, url, {**TRACK, "code": "Z"})).status_code == 403, url
    for path in ("/settings", "/audit"):
        assert (await client.get(f"/workspace/events/{contest}{path}", headers=HTML)).status_code == 403
    assert await audit_actions(contest) == ["track.update"]


# Audit trail -----------------------------------------------------------------------------------


async def test_the_audit_trail_page_and_api(login, contest):
    client = await login("orgadmin@example.org")
    for code in ("A", "B", "C"):
        await post_form(client, f"/workspace/events/{contest}/tracks", {**TRACK, "code": code})
    page = await client.get(f"/workspace/events/{contest}/audit", headers=HTML)
    assert page.status_code == 200
    text = main_text(page.text)
    assert text.count("track.create") == 3
    assert "orgadmin@example.org" in text
    api = (await client.get(f"/api/v1/events/{contest}/audit?limit=2")).json()
    assert api["total"] == 3
    assert len(api["items"]) == 2
    newest = api["items"][0]
    assert newest["action"] == "track.create"
    assert newest["data"] == {"code": "C"}
    assert newest["actor_email"] == "orgadmin@example.org"
    assert newest["channel"] == "session"
    assert newest["client_address"]


async def test_the_audit_trail_is_paginated(login, contest):
    for i in range(55):
        await AuditEntry.insert(
            AuditEntry(action=f"test.{i}", target_type="event", target_id=contest, event_id=contest)
        )
    client = await login("orgadmin@example.org")
    first = await client.get(f"/workspace/events/{contest}/audit", headers=HTML)
    assert "test.54" in first.text
    assert "test.4<" not in first.text
    assert 'rel="next"' in first.text
    second = await client.get(f"/workspace/events/{contest}/audit?page_number=2", headers=HTML)
    assert "test.4<" in second.text
    assert "test.54" not in second.text
    assert 'rel="prev"' in second.text


async def test_other_domains_add_sections_the_policy_shows_to_whom_it_allows(
    login, contest, make_user, grant, monkeypatch
):
    from backend import domain

    installed = domain.installed()
    extra = domain.Domain(
        name="later",
        workspace_sections=(
            domain.WorkspaceSection(
                "ceremony", "Ceremony", "/workspace/events/{event_id}/ceremony", "edit_event", 50
            ),
            domain.WorkspaceSection(
                "agenda", "Agenda", "/workspace/events/{event_id}/agenda", "edit_track", 60, kinds=("forum",)
            ),
        ),
    )
    monkeypatch.setattr(domain, "installed", lambda: (*installed, extra))
    track = Track(event=contest, code="A")
    await track.save()
    scoped = await make_user("scoped@example.org")
    await grant(scoped, Role.organizer, contest, track=track.id)
    admin_page = (
        await (await login("orgadmin@example.org")).get(f"/workspace/events/{contest}", headers=HTML)
    ).text
    nav = admin_page.split('class="subnav"')[1].split("</nav>")[0]
    assert f'href="/workspace/events/{contest}/ceremony"' in nav
    assert "/agenda" not in nav  # a forum's section, and this is a contest
    hrefs = re.findall(r'href="([^"]+)"', nav)
    assert (
        hrefs.index(f"/workspace/events/{contest}/structure")
        < hrefs.index(f"/workspace/events/{contest}/ceremony")
        < hrefs.index(f"/workspace/events/{contest}/audit")
    )  # in the sections' order
    scoped_page = (
        await (await login("scoped@example.org")).get(f"/workspace/events/{contest}", headers=HTML)
    ).text
    assert "/ceremony" not in scoped_page  # edit_event: not for a scoped admin
