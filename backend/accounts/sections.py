"""What the account page (``/me``) shows of the self-service account: the profile form, the
consents, the data export and erasure (the forms post to ``backend.accounts.pages``)."""

from __future__ import annotations

import re
from typing import Any

from backend.accounts import consents, profile
from backend.accounts.tables import ConsentKind, StudyStatus
from backend.institutions.service import PICKER_LIMIT, picker_choices, search_term
from backend.policy import Principal

STUDY_STATUSES = {
    StudyStatus.student: "Student (enrolled)",
    StudyStatus.graduate: "Graduated",
    StudyStatus.teacher: "University teacher",
    StudyStatus.professional: "Working in a company",
    StudyStatus.other: "Something else",
}
SHARING_LABELS = {
    ConsentKind.share_sponsors: "Share my profile with the contest's sponsors",
    ConsentKind.share_employers: "Share my profile with employers looking for talent",
    ConsentKind.share_incubators: "Share my profile with incubators and investors",
}


async def me_sections(
    principal: Principal, locale: str, forms: dict[str, Any], institution_query: str = ""
) -> dict[str, Any]:
    """The template context of the account sections; ``forms`` holds a refused form's values and
    errors (``details``, ``erase``); ``institution_query`` the institution picker's search."""
    details_profile = await profile.get_profile(principal)
    details = forms.get("details", {})
    chosen = details.get("values", {}).get("institution_id", details_profile.institution_id)
    query = search_term(institution_query)
    chosen_id = int(chosen) if re.fullmatch(r"[0-9]{1,9}", str(chosen)) else None  # a refused form's text
    choices, matches = await picker_choices(query, chosen_id)
    return {
        "details_profile": details_profile,
        "details": details,
        "erase": forms.get("erase", {}),
        "consents": await consents.get_consents(principal),
        "countries": profile.countries(locale),
        "institution_picker": {
            "query": query,
            "choices": choices,
            "matches": matches,
            "limit": PICKER_LIMIT,
        },
        "study_statuses": [(s.value, label) for s, label in STUDY_STATUSES.items()],
        "sharing": [(k.value, label) for k, label in SHARING_LABELS.items()],
    }
