"""The scanner page's server side: the page, its service worker and manifest (open to anyone: a device
has no session), the WebAssembly decoder served from the site itself (never a CDN), and
``GET /api/v1/checkin/scanner``: a device sees its own lists, a person the lists of the events where
they may scan, nobody else anything."""

from __future__ import annotations

import datetime as dt

from backend.accounts.tables import Role, RoleGrant
from backend.events.tables import Event
from tests.integration.ticketing_world import DEVICE_TOKEN, build_world
from ticketing.access import forget_device
from ticketing.scanner import pages
from ticketing.tables import CheckinList, Device, DeviceList

DEVICE = {"authorization": f"Bearer {DEVICE_TOKEN}"}


async def test_the_page_its_worker_and_manifest_need_no_session(make_client):
    client = await make_client()
    page = await client.get("/scan", headers={"accept": "text/html", "accept-language": "ru"})
    assert page.status_code == 200
    assert "/static/ticketing-scanner.js?v=" + pages.VERSION in page.text
    assert 'data-decoder="wasm"' in page.text  # make built the decoder
    assert "Сканер" in page.text  # the page and its script's texts in the reader's language
    worker = await client.get("/scan/sw.js")
    assert worker.status_code == 200
    assert worker.headers["service-worker-allowed"] == "/scan"
    assert worker.headers["content-type"].startswith("text/javascript")
    for asset in pages.ASSETS:  # everything the page needs offline is kept, the decoder included
        assert f'"{asset}"' in worker.text
        assert (await client.get(asset)).status_code == 200, asset
    manifest = (await client.get("/scan/manifest.webmanifest")).json()
    assert manifest["scope"] == manifest["start_url"] == "/scan"
    # the decoder is the site's own copy (scripts/build-static.sh), never a CDN's
    wasm = await client.get("/static/vendor/zxing/reader/zxing_reader.wasm")
    assert wasm.status_code == 200
    assert wasm.headers["content-type"] == "application/wasm"  # streaming compilation
    assert wasm.content[:4] == b"\0asm"
    worker = (await client.get("/static/ticketing-scanner-worker.js")).text
    assert 'from "/static/vendor/zxing/reader/index.js"' in worker
    assert "locateFile" in worker  # without it zxing-wasm fetches the .wasm from a CDN
    reader = (await client.get("/static/vendor/zxing/reader/index.js")).text
    assert '"../share.js"' in reader  # the copy keeps the package's layout


async def test_a_device_sees_only_its_own_lists(make_client):
    world = await build_world()
    extra = CheckinList(event=world.event, name="VIP lounge", kind="gate", rules={}, position=9)
    await extra.save()
    archived = CheckinList(
        event=world.event, name="Old", kind="gate", rules={}, archived_at=dt.datetime.now(dt.UTC)
    )
    await archived.save()
    await DeviceList(device=world.device, checkin_list=archived.id).save()
    client = await make_client()
    answer = await client.get("/api/v1/checkin/scanner", headers=DEVICE)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert (body["device"], body["gate"]) == ("Scanner 1", "Gate 3")
    assert [(item["id"], item["name"]) for item in body["lists"]] == [
        (world.lists["gate"], "gate"),
        (world.lists["hall"], "hall"),
    ]
    assert body["lists"][0]["time_zone"] == "Asia/Shanghai"
    assert body["lists"][0]["event_name"] == "签到招聘会"  # a device speaks Chinese by default…
    client.cookies.set("podium_lang", "en")  # …or the page's language (the script sends the cookie)
    english = (await client.get("/api/v1/checkin/scanner", headers=DEVICE)).json()
    assert english["lists"][0]["event_name"] == "Check-in fair"


async def test_a_revoked_device_a_forged_token_and_anonymous_callers_are_refused(make_client):
    await build_world()
    client = await make_client()
    assert (await client.get("/api/v1/checkin/scanner", headers=DEVICE)).status_code == 200
    device = await Device.objects().where(Device.name == "Scanner 1").first()
    await Device.update({Device.revoked_at: dt.datetime.now(dt.UTC)}).where(Device.id == device.id)
    forget_device(client._transport.app.state.principals, device.token_hash)  # as the devices service does
    assert (await client.get("/api/v1/checkin/scanner", headers=DEVICE)).status_code == 401
    anonymous = await client.get("/api/v1/checkin/scanner")
    assert anonymous.status_code == 401
    assert set(anonymous.json()) >= {"code", "detail"}
    forged = await client.get("/api/v1/checkin/scanner", headers={"authorization": "Bearer pdv_forged"})
    assert forged.status_code == 401


async def test_people_see_the_lists_of_events_where_they_may_scan(make_client, make_user):
    world = await build_world()
    other = Event(
        organization=world.organization, slug="other-fair", kind="fair", status="running", name_en="Other"
    )
    await other.save()
    other_list = CheckinList(event=other.id, name="Elsewhere", kind="gate", rules={})
    await other_list.save()
    ours = [world.lists["gate"], world.lists["hall"]]
    for user_id, expected in (
        (world.staff, ours),
        (world.organizer, ours),
        (world.outsider, []),
    ):
        client = await make_client(world.email(user_id))
        body = (await client.get("/api/v1/checkin/scanner")).json()
        assert body["device"] is None
        assert [item["id"] for item in body["lists"]] == expected, world.email(user_id)
    # a judge of the event (a role that scans nothing) sees no list either
    judge = await make_user("judge@checkin.example")
    await RoleGrant(user=judge, role=Role.judge.value, event=world.event).save()
    client = await make_client("judge@checkin.example")
    assert (await client.get("/api/v1/checkin/scanner")).json()["lists"] == []
    admin = await make_user("root@checkin.example", platform_admin=True)
    assert admin
    client = await make_client("root@checkin.example")
    listed = {item["id"] for item in (await client.get("/api/v1/checkin/scanner")).json()["lists"]}
    assert listed == {*ours, other_list.id}
