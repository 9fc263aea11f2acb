"""The scanner page in Chromium, as a gate keeper's phone uses it: enrolled by its device link, a code
typed and one from a keyboard-wedge scanner answered by the server; the network gone, codes checked
on the device (WebCrypto Ed25519 against the list's offline bundle, a second scan of one ticket
refused locally), the page reloaded offline from its service worker with its queue intact; a second
offline gate admitting the same ticket; both back online and synced, and the conflict on the
organizers' conflicts page. Another browser with a fake camera showing a ticket's QR code scans it
through the WebAssembly decoder, and a picture of another. Nothing is ever fetched from another site.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import re
import secrets
import sqlite3
from contextlib import closing
from zoneinfo import ZoneInfo

import pytest
import qrcode
from playwright.sync_api import Page, expect

from backend.accounts.tokens import token_digest
from tests.e2e.axe import assert_axe_clean
from tests.e2e.conftest import CHROMIUM, CHROMIUM_ARGS, DEMO_PASSWORD, SECRET_KEY
from ticketing import codes
from ticketing.keys import _sealer

TOKENS = {gate: f"pdv_e2e-scanner-{gate}-{secrets.token_hex(6)}" for gate in "AB"}  # unique per run
HOLDERS = ["Li Wei", "Анна Петрова", "王芳", "Camera Holder", "Picture Holder"]


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(sep=" ")


@pytest.fixture(scope="module")
def gate(server) -> dict:
    """In the demo fair: a signing key of its own, a ticket type, five tickets valid today, a gate
    list that admits each ticket once, and two devices on it (gates A and B). Written straight into
    the server's SQLite database, as the tablet test does: this test needs no other area's pages."""
    private, public = codes.new_key()
    with closing(sqlite3.connect(server.data_dir / "podium.sqlite", timeout=30)) as db, db:
        event, tz = db.execute(
            "SELECT id, time_zone FROM event WHERE kind = 'fair' ORDER BY id LIMIT 1"
        ).fetchone()
        key_id = db.execute(
            "SELECT COALESCE(MAX(key_id) + 1, 0) FROM ticket_signing_key WHERE event = ?", (event,)
        ).fetchone()[0]
        nonce = secrets.token_bytes(12)
        sealed = _sealer(SECRET_KEY).encrypt(nonce, private, str(event).encode())
        db.execute(
            "INSERT INTO ticket_signing_key (event, key_id, public_key, private_key, created_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (event, key_id, public.hex(), "v1:" + base64.b64encode(nonce + sealed).decode(), _now()),
        )
        number = db.execute(
            "SELECT COALESCE(MAX(number), 0) + 1 FROM ticket_type WHERE event = ?", (event,)
        ).fetchone()[0]
        ticket_type = db.execute(
            "INSERT INTO ticket_type (event, number, kind, name_zh, name_en, name_ru, colour, auto_issue, created_at)"
            " VALUES (?, ?, 'visitor', '扫描访客', 'Scanner visitor', 'Посетитель сканера', '#1f6feb', 0, ?) RETURNING id",
            (event, number, _now()),
        ).fetchone()[0]
        today = dt.datetime.now(ZoneInfo(tz)).date()
        tickets, codes_ = [], []
        for name in HOLDERS:
            claims = codes.Claims(
                event_id=event,
                key_id=key_id,
                serial=secrets.token_bytes(12),
                kind="visitor",
                type_number=number,
                valid_from=today - dt.timedelta(days=1),
                valid_until=today + dt.timedelta(days=1),
            )
            code = codes.encode(claims, private)
            tickets.append(
                db.execute(
                    "INSERT INTO ticket (event, ticket_type, serial, code, key_id, holder_name, holder_latin,"
                    " holder_email, institution, source, status, valid_from, valid_until, flags, issued_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, '', 'Scanner University', 'organizer', 'valid', ?, ?, 0, ?)"
                    " RETURNING id",
                    (
                        event,
                        ticket_type,
                        claims.serial_hex,
                        code,
                        key_id,
                        name,
                        name,
                        claims.valid_from,
                        claims.valid_until,
                        _now(),
                    ),
                ).fetchone()[0]
            )
            codes_.append(code)
        checkin_list = db.execute(
            "INSERT INTO checkin_list (event, name, kind, rules, inside, position, created_at)"
            " VALUES (?, ?, 'gate', '{}', 0, 99, ?) RETURNING id",
            (event, f"Scanner gate {secrets.token_hex(3)}", _now()),
        ).fetchone()[0]
        for name, token in TOKENS.items():
            device = db.execute(
                "INSERT INTO checkin_device (event, name, gate, token_hash, created_at)"
                " VALUES (?, ?, ?, ?, ?) RETURNING id",
                (event, f"Phone {name}", f"Gate {name}", token_digest(token), _now()),
            ).fetchone()[0]
            db.execute(
                "INSERT INTO checkin_device_list (device, checkin_list) VALUES (?, ?)", (device, checkin_list)
            )
    return {
        "event": event,
        "list": checkin_list,
        "tickets": tickets,
        "codes": codes_,
        "db": server.data_dir / "podium.sqlite",
    }


def _log(gate: dict, tickets: slice = slice(None)) -> list[tuple]:
    """(ticket, status, offline, conflict, gate) of the list's check-in log, in order: the scans of
    ``gate["tickets"][tickets]`` and of codes that are no ticket."""
    wanted = set(gate["tickets"][tickets]) | {None}
    with closing(sqlite3.connect(gate["db"], timeout=30)) as db:
        rows = db.execute(
            "SELECT ticket, status, offline, conflict, gate FROM checkin WHERE checkin_list = ? ORDER BY id",
            (gate["list"],),
        ).fetchall()
    return [row for row in rows if row[0] in wanted]


def _enrol(page: Page, device: str) -> None:
    page.goto(f"/scan#device={TOKENS[device]}")
    # ready once the list's offline bundle is in (the fair's holders, each sealed under its serial)
    expect(page.locator("main[data-ready=true]")).to_be_attached(timeout=20000)
    expect(page.locator("#scan-station")).to_be_visible()
    assert page.evaluate("location.hash") == ""  # the token left the address bar…
    assert (
        page.evaluate("localStorage.getItem('podium-scan:device')") == TOKENS[device]
    )  # …for the page's storage
    assert page.evaluate("navigator.serviceWorker.ready.then(() => true)")


def _type_code(page: Page, code: str) -> None:
    page.locator("#manual-code").fill(code)
    page.get_by_role("button", name="Check this code").click()


def _wedge(page: Page, code: str) -> None:
    """A hardware scanner: the code and Enter as key presses in one burst (as a USB wedge types them,
    which Playwright's keyboard, one round trip per key, cannot promise on a loaded machine), wherever
    the focus is, not in a field."""
    page.locator("#answer-title").click()
    page.evaluate(
        """(keys) => {
          const target = document.activeElement || document.body;
          for (const key of keys) {
            target.dispatchEvent(new KeyboardEvent("keydown", {key, bubbles: true, cancelable: true}));
            target.dispatchEvent(new KeyboardEvent("keyup", {key, bubbles: true}));
          }
        }""",
        [*code, "Enter"],
    )


def _answer(page: Page, title: str, *texts: str) -> None:
    expect(page.locator("#answer-title")).to_have_text(title)
    for text in texts:
        expect(page.locator("#scan-answer")).to_contain_text(text)


def test_two_offline_gates_scan_sync_and_the_conflict_shows(browser, server, gate):
    codes_ = gate["codes"]
    requests: list[str] = []
    a = browser.new_context(base_url=server.url, viewport={"width": 375, "height": 800}, locale="en-US")
    b = browser.new_context(base_url=server.url, viewport={"width": 1024, "height": 800}, locale="en-US")
    for context in (a, b):
        context.set_default_timeout(10000)
        context.on("request", lambda request: requests.append(request.url))
    try:
        phone = a.new_page()
        _enrol(phone, "A")
        assert_axe_clean(phone, "the scanner, ready (375 px)")
        tablet = b.new_page()
        _enrol(tablet, "B")  # gate B loads the list's bundle while the network is here

        # online: the server answers
        _type_code(phone, codes_[0])
        _answer(phone, "Entry allowed", "Li Wei", "Scanner visitor")
        expect(phone.locator("#scan-answer")).to_have_attribute("data-state", "admitted")
        assert_axe_clean(phone, "the scanner, green answer")
        _wedge(phone, codes_[0])
        _answer(phone, "Entry refused", "First checked in at Gate A")
        assert_axe_clean(phone, "the scanner, red answer")

        # offline: checked on the phone, queued
        a.set_offline(True)
        _wedge(phone, codes_[1].lower())  # Caps Lock on: still the code
        _answer(phone, "Entry allowed", "Анна Петрова", "Checked on this device")
        expect(phone.locator("main")).to_have_attribute("data-tier", "offline")
        _type_code(phone, codes_[1])
        _answer(phone, "Entry refused", "First checked in at Gate A")
        altered = codes_[2][:60] + ("A" if codes_[2][60] != "A" else "B") + codes_[2][61:]
        _type_code(phone, altered)
        _answer(phone, "Entry refused", "Not a ticket code of this event")
        expect(phone.locator("main")).to_have_attribute("data-queue", "3")

        # a reload without network: the service worker opens the page, the queue is still there
        phone.reload()
        expect(phone.locator("main[data-ready=true]")).to_be_attached()
        expect(phone.locator("main")).to_have_attribute("data-queue", "3")
        _type_code(phone, codes_[2])
        _answer(phone, "Entry allowed", "王芳")
        expect(phone.locator("main")).to_have_attribute("data-queue", "4")
        assert _log(gate, slice(0, 3)) == [
            (gate["tickets"][0], "admitted", 0, 0, "Gate A"),
            (gate["tickets"][0], "rejected", 0, 0, "Gate A"),
        ]

        # gate B, also offline, lets the same visitor in
        b.set_offline(True)
        _type_code(tablet, codes_[1])
        _answer(tablet, "Entry allowed", "Анна Петрова", "Checked on this device")

        # back online: both queues go up, once each
        a.set_offline(False)
        phone.get_by_role("button", name="Upload the waiting scans now").click()
        expect(phone.locator("main")).to_have_attribute("data-queue", "0")
        expect(phone.locator("main")).to_have_attribute("data-tier", "online")
        b.set_offline(False)
        tablet.get_by_role("button", name="Upload the waiting scans now").click()
        expect(tablet.locator("main")).to_have_attribute("data-queue", "0")
        expect(tablet.locator("#status-conflicts")).to_contain_text("1 offline admissions were refused")
        phone.evaluate("window.PodiumScanner.sync()")  # a second upload of nothing changes nothing
        log = _log(gate, slice(0, 3))
        admitted = [row[0] for row in log if row[1] == "admitted"]
        assert sorted(admitted) == sorted(gate["tickets"][:3])  # each ticket in once
        assert [row for row in log if row[3]] == [(gate["tickets"][1], "rejected", 1, 1, "Gate B")]
        assert len(log) == 7  # 2 online, 4 from A's queue, 1 from B's: no scan twice

        # the organizers see the conflict
        organizer = browser.new_context(base_url=server.url, locale="en-US")
        try:
            page = organizer.new_page()
            page.goto(f"/login?next=/workspace/events/{gate['event']}/ticketing/conflicts")
            page.locator("#email").fill("organizer@podium.example")
            page.locator("#password").fill(DEMO_PASSWORD)
            page.locator("main form button[type=submit]").click()
            expect(page).to_have_url(re.compile(r"/ticketing/conflicts"))
            expect(page.locator("main")).to_contain_text("Анна Петрова")
        finally:
            organizer.close()
    finally:
        a.close()
        b.close()
    assert all(url.startswith(server.url) for url in requests), [
        u for u in requests if not u.startswith(server.url)
    ]


def _qr_png(code: str) -> bytes:
    buffer = io.BytesIO()
    qrcode.make(code, error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=8, border=4).save(buffer)
    return buffer.getvalue()


def _y4m(code: str, path) -> None:
    """A few frames of 640×480 grey video showing the code's QR (what Chromium's fake camera plays)."""
    from PIL import Image

    qr = Image.open(io.BytesIO(_qr_png(code))).convert("L")
    qr = qr.resize((400, 400), Image.NEAREST)
    frame = Image.new("L", (640, 480), 255)
    frame.paste(qr, (120, 40))
    chroma = bytes([128]) * (320 * 240)
    with open(path, "wb") as f:
        f.write(b"YUV4MPEG2 W640 H480 F10:1 Ip A1:1 C420jpeg\n")
        for _ in range(5):
            f.write(b"FRAME\n" + frame.tobytes() + chroma + chroma)


def test_the_camera_and_a_picture_scan_through_the_webassembly_decoder(browser, server, gate, tmp_path):
    video = tmp_path / "ticket.y4m"
    _y4m(gate["codes"][3], video)
    picture = tmp_path / "ticket.png"
    picture.write_bytes(_qr_png(gate["codes"][4]))
    camera = [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-video-capture={video}",
    ]
    requests: list[str] = []
    # a browser of its own (the fake camera is a launch option), from the package's Playwright
    camera_browser = browser.browser_type.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS + camera)
    try:
        context = camera_browser.new_context(base_url=server.url, locale="en-US", permissions=["camera"])
        context.set_default_timeout(10000)
        context.on("request", lambda request: requests.append(request.url))
        page = context.new_page()
        _enrol(page, "A")
        assert page.evaluate("'BarcodeDetector' in window") is False  # so the WebAssembly decoder reads
        page.get_by_role("button", name="Start the camera").click()
        expect(page.locator("main")).to_have_attribute("data-camera", "wasm")
        _answer(page, "Entry allowed", "Camera Holder")
        page.get_by_role("button", name="Stop the camera").click()
        page.locator("#scan-file").set_input_files(str(picture))
        _answer(page, "Entry allowed", "Picture Holder")
        assert any(url.endswith("/static/vendor/zxing/reader/zxing_reader.wasm") for url in requests)
    finally:
        camera_browser.close()
    assert all(url.startswith(server.url) for url in requests), [
        u for u in requests if not u.startswith(server.url)
    ]
    admitted = {row[0] for row in _log(gate) if row[1] == "admitted"}
    assert set(gate["tickets"][3:]) <= admitted
