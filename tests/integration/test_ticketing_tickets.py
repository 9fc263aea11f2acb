"""Tickets (ticketing.tickets): ticket types and their checks, issuing one ticket, in bulk and by CSV
(idempotent, also under twenty concurrent calls), revoking, reissuing and transferring (the old code
is refused from then on, also under twenty concurrent reissues), mailing, the signing keys' rotation
and retirement, automatic issue on a role grant and a team's approval, the exports, the operator's
commands, and the pages; and every refusal's status and field."""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import random

import pytest
from openpyxl import load_workbook

from backend.accounts.tables import Role, RoleGrant
from backend.audit import AuditEntry
from backend.cli import main
from backend.events.tables import Track
from backend.mail.tables import OutboxEmail
from backend.teams.tables import Team, TeamMember
from tests.integration.ticketing_world import World, build_world
from ticketing import codes, keys
from ticketing.tables import RevokedCode, Ticket, TicketType
from ticketing.tickets import service

pytestmark = pytest.mark.anyio
API = "/api/v1"


async def _organizer(make_client, world: World):
    return await make_client(world.email(world.organizer))


async def _verify(event_id: int, code: str, day: dt.date = dt.date(2027, 9, 2)) -> str | None:
    return codes.check(code, event_id, await keys.live_public_keys(event_id), day).reason


async def _revoked(serial: str) -> bool:
    return await RevokedCode.exists().where(RevokedCode.serial == serial)


async def test_ticket_types_and_their_checks(make_client):
    world = await build_world(holders=1, with_accounts=1)
    client = await _organizer(make_client, world)
    url = f"{API}/events/{world.event}/ticket-types"
    made = await client.post(
        url, json={"number": 7, "kind": "speaker", "name_en": "Speaker", "colour": "#aa0000"}
    )
    assert made.status_code == 201, made.text
    body = made.json()
    assert (body["number"], body["kind"], body["name"], body["issued"]) == (7, "speaker", "Speaker", 0)
    listed = (await client.get(url)).json()
    assert [t["number"] for t in listed] == [1, 2, 7]
    assert listed[0]["issued"] == 1
    taken = await client.post(url, json={"number": 7, "kind": "guest", "name_en": "Guest"})
    assert taken.status_code == 409
    assert taken.json()["code"] == "ticket_type_number_taken"
    assert taken.json()["fields"] == {"number": "taken"}
    bad = await client.post(url, json={"number": 0, "kind": "nobody", "colour": "red"})
    assert bad.status_code == 400
    assert {"number", "kind", "colour"} <= set(bad.json()["fields"])
    nameless = await client.post(
        url, json={"number": 8, "kind": "guest", "valid_from": "2027-09-03", "valid_until": "2027-09-01"}
    )
    assert nameless.status_code == 400
    assert set(nameless.json()["fields"]) == {"name_en", "valid_until"}
    too_long = await client.post(
        url, json={"number": 8, "kind": "guest", "name_en": "Long", "valid_until": "2028-09-01"}
    )
    assert too_long.status_code == 400
    assert too_long.json()["code"] == "invalid_validity"
    # the number and kind are printed in codes: fixed once a ticket exists; names are not
    in_use = await client.patch(f"{API}/ticket-types/{world.types['visitor']}", json={"number": 9})
    assert in_use.status_code == 409
    assert in_use.json()["fields"] == {"number": "cannot change once tickets are issued"}
    renamed = await client.patch(
        f"{API}/ticket-types/{world.types['visitor']}", json={"name_ru": "Посетитель"}
    )
    assert renamed.status_code == 200
    assert renamed.json()["name_ru"] == "Посетитель"
    assert (await client.delete(f"{API}/ticket-types/{world.types['visitor']}")).status_code == 409
    assert (await client.delete(f"{API}/ticket-types/{body['id']}")).status_code == 204
    assert not await TicketType.exists().where(TicketType.id == body["id"])
    # only whole-event organizers: staff are refused, strangers too, and nothing is written
    staff = await make_client(world.email(world.staff))
    before = await AuditEntry.count()
    assert (await staff.post(url, json={"number": 9, "kind": "guest", "name_en": "G"})).status_code == 403
    assert (
        await staff.patch(f"{API}/ticket-types/{world.types['visitor']}", json={"name_en": "X"})
    ).status_code == 403
    assert await AuditEntry.count() == before


async def test_issue_one_ticket_then_revoke_reissue_transfer(make_client):
    world = await build_world(holders=2, with_accounts=1)
    client = await _organizer(make_client, world)
    url = f"{API}/events/{world.event}/tickets"
    guest = {"ticket_type": world.types["visitor"], "name_native": "王小明", "name_latin": "Wang Xiaoming",
             "email": "wang@example.cn", "institution": "浙江大学", "attention": True}  # fmt: skip
    made = await client.post(url, json=guest)
    assert made.status_code == 201, made.text
    ticket = made.json()
    assert (ticket["holder_name"], ticket["status"], ticket["attention"], ticket["source"]) == (
        "王小明", "valid", True, "organizer",
    )  # fmt: skip
    assert await _verify(world.event, ticket["code"]) is None
    claims = codes.read(ticket["code"]).claims
    assert (claims.serial_hex, claims.type_number, claims.kind) == (ticket["serial"], 1, "visitor")
    assert claims.flags & codes.Flag.attention
    racing = {**guest, "email": "race@example.cn"}
    raced = await asyncio.gather(*(client.post(url, json=racing) for _ in range(20)))
    assert sorted(r.status_code for r in raced) == [201] + [409] * 19
    again = await client.post(url, json={**guest, "email": "WANG@example.cn"})
    assert again.status_code == 409
    assert again.json()["code"] == "ticket_held"
    nobody = await client.post(url, json={"ticket_type": world.types["visitor"]})
    assert nobody.status_code == 400
    assert set(nobody.json()["fields"]) == {"name_native", "email"}
    foreign = await client.post(url, json={**guest, "ticket_type": 999999})
    assert foreign.status_code == 400
    assert foreign.json()["fields"] == {"ticket_type": "unknown"}
    unknown = await client.post(url, json={"ticket_type": world.types["visitor"], "user_id": 999999})
    assert unknown.status_code == 400
    assert unknown.json()["fields"] == {"user_id": "unknown"}

    tid = ticket["id"]
    reissued = (await client.post(f"{API}/tickets/{tid}/reissue")).json()
    assert reissued["serial"] != ticket["serial"]
    assert await _revoked(ticket["serial"])
    assert await _verify(world.event, reissued["code"]) is None
    holder = world.holders[0]
    moved = await client.post(f"{API}/tickets/{tid}/transfer", json={"user_id": holder})
    assert moved.status_code == 409
    assert moved.json()["code"] == "ticket_held"
    moved = await client.post(
        f"{API}/tickets/{tid}/transfer", json={"name_native": "李雷", "email": "li@example.cn"}
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["holder_name"], moved.json()["holder_email"]) == ("李雷", "li@example.cn")
    assert await _revoked(reissued["serial"])
    revoked = await client.post(f"{API}/tickets/{tid}/revoke")
    assert revoked.status_code == 200
    assert revoked.json()["status"] == "revoked"
    assert await _revoked(moved.json()["serial"])
    for action in ("revoke", "reissue", "mail"):
        refused = await client.post(f"{API}/tickets/{tid}/{action}")
        assert (refused.status_code, refused.json()["code"]) == (409, "ticket_revoked"), action
    kinds = [
        r["action"] for r in await AuditEntry.select(AuditEntry.action).where(AuditEntry.target_id == tid)
    ]
    assert kinds == [
        "ticketing.ticket_issued", "ticketing.ticket_reissued", "ticketing.ticket_transferred", "ticketing.ticket_revoked",
    ]  # fmt: skip


async def test_a_ticket_is_its_holders_and_the_organizers(make_client):
    world = await build_world(holders=2, with_accounts=2)
    mine, other = world.tickets
    holder = await make_client(world.email(world.holders[0]))
    seen = await holder.get(f"{API}/tickets/{mine}")
    assert seen.status_code == 200
    assert seen.json()["code"] == world.codes[0]
    assert [t["id"] for t in (await holder.get(f"{API}/tickets/mine")).json()] == [mine]
    assert (await holder.get(f"{API}/tickets/{other}")).status_code == 404  # someone else's: no such ticket
    assert (
        await holder.post(f"{API}/tickets/{mine}/reissue")
    ).status_code == 403  # theirs, but not theirs to change
    assert (await holder.post(f"{API}/tickets/{other}/revoke")).status_code == 404
    staff = await make_client(world.email(world.staff))
    assert (await staff.get(f"{API}/tickets/{mine}")).status_code == 404
    page = await holder.get(f"/tickets/{mine}", headers={"accept": "text/html"})
    assert page.status_code == 200
    assert f"/tickets/{mine}/qr.png" in page.text
    assert world.codes[0] in page.text
    listing = await holder.get("/tickets", headers={"accept": "text/html"})
    assert listing.status_code == 200
    assert f'href="/tickets/{mine}"' in listing.text
    assert (await holder.get(f"/tickets/{other}", headers={"accept": "text/html"})).status_code == 404
    assert (await holder.get(f"{API}/tickets/{mine}/../{other}")).status_code == 404


async def test_mail_goes_through_the_outbox(make_client):
    world = await build_world(holders=1, with_accounts=1)
    client = await _organizer(make_client, world)
    answer = await client.post(f"{API}/tickets/{world.tickets[0]}/mail")
    assert answer.status_code == 202
    assert answer.json() == {"mailed": True}
    row = await OutboxEmail.select().first()
    assert row["to_address"] == "visitor1@checkin.example"
    assert f"/tickets/{world.tickets[0]}" in row["body_text"]
    assert world.codes[0] in row["body_text"]
    assert "Check-in fair" in row["subject"]  # the holder's language (English)


CSV_HEAD = "name_native,name_latin,email,institution,type\n"


async def test_csv_import_checks_every_row_and_is_idempotent(make_client):
    world = await build_world(holders=0, with_accounts=0)
    client = await _organizer(make_client, world)
    url = f"{API}/events/{world.event}/tickets/import"
    bad = (
        CSV_HEAD
        + "张三,Zhang San,zhang@example.cn,,1\n李四,,not-an-address,,1\n王五,,wang@example.cn,,9\n,,,,\n"
    )
    refused = await client.post(url, json={"csv": bad})
    assert refused.status_code == 400
    assert refused.json()["code"] == "import_rows_invalid"
    assert refused.json()["fields"] == {
        "rows[3].email": "is invalid",
        "rows[4].type": "is not the number of a ticket type of the event",
    }
    assert await Ticket.count() == 0
    assert (await client.post(url, json={"csv": "name,email\nA,a@b.cn\n"})).json()["code"] == "invalid_csv"
    repeated = CSV_HEAD + "A,,a@example.cn,,1\nB,,A@example.cn,,1\n"
    assert (await client.post(url, json={"csv": repeated})).json()["fields"] == {
        "rows[3].email": "is repeated in the file for the same ticket type"
    }
    rng = random.Random(11)
    rows = [
        f"访客{i},Visitor {i},v{i}@example.cn,{rng.choice(['', '浙江大学'])},{1 + i % 2}" for i in range(40)
    ]
    text = "\ufeff" + CSV_HEAD + "\n".join(rows) + "\n"
    first = await client.post(url, json={"csv": text})
    assert first.status_code == 200
    assert first.json() == {"issued": 40, "already": 0}
    assert (await client.post(url, json={"csv": text})).json() == {"issued": 0, "already": 40}
    # twenty imports of a longer file at once still issue each ticket once
    more = text + "\n".join(f"新{i},,n{i}@example.cn,,1" for i in range(30)) + "\n"
    answers = await asyncio.gather(*(client.post(url, json={"csv": more}) for _ in range(20)))
    assert all(a.status_code == 200 for a in answers), [a.text for a in answers if a.status_code != 200]
    assert sum(a.json()["issued"] for a in answers) == 30
    assert await Ticket.count() == 70
    for t in await Ticket.select(Ticket.code, Ticket.source).where(Ticket.holder_email.like("n%")):
        assert t["source"] == "import"
        assert await _verify(world.event, t["code"]) is None


async def test_issue_missing_and_automatic_issue(make_client, make_user, grant):
    world = await build_world(holders=0, with_accounts=0, kind="contest")
    judges = TicketType(event=world.event, number=3, kind="judge", name_en="Judge", auto_issue=True)
    staff = TicketType(event=world.event, number=4, kind="staff", name_en="Staff", auto_issue=True)
    members = TicketType(event=world.event, number=5, kind="team_member", name_en="Finalist", auto_issue=True)
    await TicketType.insert(judges, staff, members)
    client = await _organizer(make_client, world)
    # the organizer and the check-in staff exist already: the bulk issue finds them (twenty at once: once)
    url = f"{API}/events/{world.event}/tickets/issue-missing"
    answers = await asyncio.gather(*(client.post(url, json={}) for _ in range(20)))
    assert all(a.status_code == 200 for a in answers)
    assert sum(a.json()["issued"] for a in answers) == 2
    held = {r["holder"] for r in await Ticket.select(Ticket.holder).where(Ticket.ticket_type == staff.id)}
    assert held == {world.organizer, world.staff}
    assert (await client.post(url, json={})).json() == {"issued": 0, "already": 2}
    # a judge granted through the API gets a judge ticket once the grant commits
    await make_user("admin@checkin.example", platform_admin=True)
    admin = await make_client("admin@checkin.example")
    made = await admin.post(
        f"{API}/events/{world.event}/roles", json={"user_id": world.outsider, "role": "judge"}
    )
    assert made.status_code == 201, made.text
    ticket = (
        await Ticket.select()
        .where((Ticket.holder == world.outsider) & (Ticket.ticket_type == judges.id))
        .first()
    )
    assert ticket is not None
    assert ticket["source"] == "role"
    # a team's approval: its confirmed members (not the invited one) get the finalist type
    track = Track(event=world.event, code="A", name_en="A")
    await track.save()
    team = Team(
        event=world.event,
        track=track.id,
        name="T",
        leader=world.organizer,
        join_code="TICKET23",
        status="approved",
    )
    await team.save()
    seats = [
        (world.organizer, "leader", "confirmed"),
        (world.staff, "member", "confirmed"),
        (world.outsider, "member", "invited"),
    ]
    for user, role, state in seats:
        await TeamMember(
            team=team.id, event=world.event, track=track.id, user=user, email=world.email(user),
            role=role, state=state, joined_via="creation",
        ).save()  # fmt: skip
    assert await service.issue_for_team(world.event, team.id) == 2
    assert await service.issue_for_team(world.event, team.id) == 0
    finalists = await Ticket.select(Ticket.holder, Ticket.team).where(Ticket.ticket_type == members.id)
    assert sorted((r["holder"], r["team"]) for r in finalists) == sorted(
        [(world.organizer, team.id), (world.staff, team.id)]
    )
    # the safety net finds nothing left; an event without automatic types is left alone
    assert (await service.auto_issue_everywhere())["issued"] == 0
    await grant(world.outsider, Role.exhibitor, world.event)
    assert await service.issue_for_role(world.event, world.outsider, "exhibitor") == 0  # no exhibitor type
    assert await RoleGrant.count() >= 3


async def test_twenty_concurrent_reissues_leave_one_live_code(make_client):
    world = await build_world(holders=1, with_accounts=0)
    client = await _organizer(make_client, world)
    tid = world.tickets[0]
    answers = await asyncio.gather(*(client.post(f"{API}/tickets/{tid}/reissue") for _ in range(20)))
    assert all(a.status_code == 200 for a in answers)
    row = await Ticket.select(Ticket.serial, Ticket.code).where(Ticket.id == tid).first()
    revoked = await RevokedCode.select(RevokedCode.serial).where(RevokedCode.ticket == tid)
    assert len(revoked) == 20
    assert row["serial"] not in {r["serial"] for r in revoked}
    assert codes.read(world.codes[0]).claims.serial_hex in {r["serial"] for r in revoked}
    assert await _verify(world.event, row["code"]) is None


async def test_signing_keys_rotate_and_retire(make_client):
    world = await build_world(holders=1, with_accounts=0)
    client = await _organizer(make_client, world)
    url = f"{API}/events/{world.event}/signing-keys"
    assert [(k["key_id"], k["signing"], k["tickets"]) for k in (await client.get(url)).json()] == [
        (0, True, 1)
    ]
    rotated = await client.post(url)
    assert rotated.status_code == 201
    assert rotated.json()["key_id"] == 1
    assert rotated.json()["signing"]
    issued = await client.post(
        f"{API}/events/{world.event}/tickets",
        json={"ticket_type": world.types["visitor"], "name_native": "New", "email": "new@example.cn"},
    )
    assert issued.json()["key_id"] == 1
    assert await _verify(world.event, world.codes[0]) is None  # the old key's codes stay valid
    retired = await client.post(f"{url}/0/retire")
    assert retired.status_code == 200
    assert retired.json()["retired_at"] is not None
    assert await _verify(world.event, world.codes[0]) == "invalid"
    assert await _verify(world.event, issued.json()["code"]) is None
    assert (await client.post(f"{url}/0/retire")).json()["code"] == "key_retired"
    assert (await client.post(f"{url}/9/retire")).status_code == 404
    assert (await client.post(f"{url}/16/retire")).status_code == 400
    staff = await make_client(world.email(world.staff))
    assert (await staff.post(url)).status_code == 403


async def test_exports_search_and_commands(make_client, tmp_path, capsys):
    world = await build_world(holders=3, with_accounts=1)
    client = await _organizer(make_client, world)
    base = f"{API}/events/{world.event}/tickets"
    await client.post(f"{API}/tickets/{world.tickets[2]}/revoke")
    found = (await client.get(base, params={"q": "visitor 2"})).json()
    assert [t["id"] for t in found["items"]] == [world.tickets[1]]
    assert found["total"] == 1
    assert (await client.get(base, params={"status": "revoked"})).json()["total"] == 1
    assert (await client.get(base, params={"q": "100%_"})).json()["total"] == 0
    exported = await client.get(f"{base}/export", params={"format": "csv"})
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert [r["code"] for r in rows] == world.codes
    assert rows[2]["status"] == "revoked"
    xlsx = await client.get(f"{base}/export", params={"format": "xlsx"})
    sheet = load_workbook(io.BytesIO(xlsx.content)).active
    assert [c.value for c in sheet[1]][:4] == ["ticket", "holder", "type", "code"]
    assert sheet.max_row == 4
    assert (await client.get(f"{base}/export", params={"format": "pdf"})).status_code == 400

    out = tmp_path / "tickets.csv"
    assert await asyncio.to_thread(main, ["tickets", "export", "checkin-2027", "--out", str(out)]) == 0
    text = out.read_text(encoding="utf-8")
    assert text.splitlines()[0] == "ticket,holder,type,code"
    assert [r["code"] for r in csv.DictReader(io.StringIO(text))] == world.codes
    assert await asyncio.to_thread(main, ["tickets", "issue", str(world.event), "--kind", "staff"]) == 0
    assert "0 issued" in capsys.readouterr().out  # no staff ticket type
    assert await asyncio.to_thread(main, ["tickets", "issue", "no-such-event"]) == 2


async def test_pages(make_client):
    world = await build_world(holders=2, with_accounts=1)
    client = await _organizer(make_client, world)
    hub = await client.get(f"/workspace/events/{world.event}/ticketing", headers={"accept": "text/html"})
    assert hub.status_code == 200
    for link in ("tickets", "badges", "lists", "devices", "attendance", "conflicts"):
        assert f'href="/workspace/events/{world.event}/ticketing/{link}"' in hub.text
    page = await client.get(
        f"/workspace/events/{world.event}/ticketing/tickets",
        params={"q": "Visitor 2", "ticket_type": "", "status": ""},  # as the search form sends "all"
        headers={"accept": "text/html"},
    )
    assert page.status_code == 200
    assert f'data-ticket="{world.tickets[1]}"' in page.text
    assert f'data-ticket="{world.tickets[0]}"' not in page.text
    assert f'data-api="/api/v1/tickets/{world.tickets[1]}/reissue"' in page.text
    zh = await client.get(
        f"/workspace/events/{world.event}/ticketing/tickets",
        headers={"accept": "text/html", "accept-language": "zh"},
    )
    assert zh.status_code == 200
    staff = await make_client(world.email(world.staff))
    assert (
        await staff.get(f"/workspace/events/{world.event}/ticketing/tickets", headers={"accept": "text/html"})
    ).status_code == 403


async def test_a_teams_approval_issues_its_tickets_after_commit(make_client):
    """The review service tells ``team_approved`` once the approval commits; the listener issues."""
    from backend.teams.review import ReviewIn, review_team
    from backend.teams.tables import RegistrationRules

    world = await build_world(holders=0, with_accounts=0, kind="contest")
    finalists = TicketType(
        event=world.event, number=5, kind="team_member", name_en="Finalist", auto_issue=True
    )
    await finalists.save()
    track = Track(event=world.event, code="A", name_en="A", team_min=1, team_max=3)
    await track.save()
    await RegistrationRules(event=world.event, rules={"approval_required": True}).save()
    team = Team(
        event=world.event,
        track=track.id,
        name="T",
        leader=world.staff,
        join_code="TICKET24",
        status="complete",
    )
    await team.save()
    await TeamMember(
        team=team.id, event=world.event, track=track.id, user=world.staff, email=world.email(world.staff),
        role="leader", state="confirmed", joined_via="creation",
    ).save()  # fmt: skip
    await review_team(
        await _principal(world.organizer), team.id, ReviewIn(decision="approve"), "http://podium.test"
    )
    held = await Ticket.select(Ticket.holder, Ticket.source).where(Ticket.ticket_type == finalists.id)
    assert held == [{"holder": world.staff, "source": "registration"}]


async def _principal(user_id: int):
    from backend.policy import Principal

    return Principal(
        id=user_id, email="", display_name="", locale="en", is_platform_admin=False, via="session"
    )
