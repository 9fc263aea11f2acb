"""Office hours in a real Chromium, on the demo: ``founder@`` books one of the open slots on their
startup's mentors tab, ``mentor01@`` sees who booked on their office-hours page and offers a new slot
there; the programme's mentor directory is read by the mentor at 1024 px and by its manager (with
the forms to add, connect and budget) on a phone. On a phone (375 px) in Chinese and at 1024 px in
Russian; axe-core (WCAG 2.1 AA) clean, every control labelled, nothing wider than the screen."""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid

import pytest
from playwright.sync_api import expect

from backend.i18n import translations
from tests.e2e.test_back_office import log_in
from tests.e2e.test_incubator_meetings import FOUNDER, MENTOR, browser_page, founders_startup
from tests.e2e.test_workspace import check

pytestmark = pytest.mark.e2e


def mentor_and_programme(server, startup: int) -> tuple[str, int]:
    """``mentor01@``'s name and the programme of the startup (the demo's database, read as it is)."""
    with sqlite3.connect(server.data_dir / "podium.sqlite") as database:
        (name,) = database.execute(
            "SELECT display_name FROM podium_user WHERE email = ?", (MENTOR,)
        ).fetchone()
        (programme,) = database.execute(
            "SELECT programme FROM incubation_startup WHERE id = ?", (startup,)
        ).fetchone()
    return name, programme


@pytest.mark.parametrize(("lang", "width", "weeks"), [("zh", 375, 5), ("ru", 1024, 6)])
def test_a_founder_books_an_office_hour_and_the_mentor_offers_another(
    new_context, server, lang, width, weeks
):
    t = translations(lang)
    startup, _ = founders_startup(server)
    name, programme = mentor_and_programme(server, startup)
    topic, place = f"Topic {uuid.uuid4().hex[:8]}", f"Room {uuid.uuid4().hex[:6]}"

    founder = browser_page(new_context, server, lang, width)
    log_in(founder, FOUNDER, f"/incubator/startups/{startup}/mentors")
    founder.wait_for_url(f"**/incubator/startups/{startup}/mentors")
    expect(founder.get_by_role("heading", name=t.gettext("Open office hours"))).to_be_visible()
    check(founder, f"the startup's mentors tab ({lang}, {width} px)", width)
    slot = founder.locator("section[aria-labelledby=slots-title] li.card").filter(has_text=name).first
    slot.get_by_label(t.gettext("Topic")).fill(topic)
    slot.get_by_role("button", name=t.gettext("Book")).click()
    expect(founder.get_by_role("status")).to_have_text(
        t.gettext("The office hour is booked; the mentor was told.")
    )
    booking = founder.locator("section[aria-labelledby=bookings-title] tr").filter(has_text=topic)
    expect(booking).to_have_count(1)
    expect(booking.get_by_role("button")).to_have_count(1)  # a week ahead: the founders may still cancel
    check(founder, f"the mentors tab after booking ({lang}, {width} px)", width)

    mentor = browser_page(new_context, server, lang, width)
    log_in(mentor, MENTOR, "/incubator/office-hours")
    mentor.wait_for_url("**/incubator/office-hours")
    check(mentor, f"the mentor's office hours ({lang}, {width} px)", width)
    day = dt.date.today() + dt.timedelta(weeks=weeks)
    mentor.locator("#slot-start").fill(f"{day.isoformat()}T09:00")
    mentor.locator("#slot-end").fill(f"{day.isoformat()}T09:45")
    mentor.locator("#slot-place").fill(place)
    mentor.get_by_role("button", name=t.gettext("Offer"), exact=True).click()
    expect(mentor.get_by_role("status")).to_have_text(
        t.gettext("The office hour is offered to your startups.")
    )
    expect(mentor.locator("tr").filter(has_text=place)).to_contain_text("09:00")
    check(mentor, f"the mentor's office hours after offering ({lang}, {width} px)", width)

    expect(mentor.locator("tr").filter(has_text=topic)).to_have_count(1)  # the founders' booking
    if width > 400:  # the directory as a mentor reads it at 1024 px, as its manager runs it on a phone
        mentor.goto(f"/incubator/programmes/{programme}/mentors")
        expect(mentor.get_by_role("heading", name=t.gettext("Your mentor profile"))).to_be_visible()
        check(mentor, f"the mentor directory ({lang}, {width} px)", width)
        return
    manager = browser_page(new_context, server, lang, width)
    log_in(manager, "incubator@podium.example", f"/incubator/programmes/{programme}/mentors")
    manager.wait_for_url(f"**/incubator/programmes/{programme}/mentors")
    expect(manager.get_by_role("heading", name=t.gettext("Add a mentor"))).to_be_visible()
    check(manager, f"the directory as its manager ({lang}, {width} px)", width)
