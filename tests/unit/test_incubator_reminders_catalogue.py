"""The report reminder mails are translated into Chinese and Russian, with the same placeholders."""

from __future__ import annotations

import pytest

from incubator.reminders import service
from tests.unit.catalogues import AREA_NO_FAULTS, LOCALES, area_faults

IDS = {service.SUBJECT_AHEAD, service.SUBJECT_LATE, service.BODY_AHEAD, service.BODY_LATE}


@pytest.mark.parametrize("locale", LOCALES)
def test_every_reminder_text_is_translated(locale):
    assert area_faults(locale, IDS, "incubator_reminders") == AREA_NO_FAULTS
