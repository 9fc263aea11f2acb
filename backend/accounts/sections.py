"""What the account page (``/me``) shows of the self-service account: the profile form, the
consents, the data export and erasure (the forms post to ``backend.accounts.pages``)."""

from __future__ import annotations

from typing import Any

from backend.accounts import consents, profile
from backend.accounts.tables import ConsentKind, StudyStatus
from backend.institutions.tables import Institution
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


async def me_sections(principal: Principal, locale: str, forms: dict[str, Any]) -> dict[str, Any]:
    """The template context of the account sections; ``forms`` holds a refused form's values and
    errors (``details``, ``erase``)."""
    institutions = await Institution.select(
        Institution.id, Institution.name_zh, Institution.name_en, Institution.country
    ).order_by(Institution.name_en)
    return {
        "details_profile": await profile.get_profile(principal),
        "details": forms.get("details", {}),
        "erase": forms.get("erase", {}),
        "consents": await consents.get_consents(principal),
        "countries": profile.countries(locale),
        "institutions": institutions,
        "study_statuses": [(s.value, label) for s, label in STUDY_STATUSES.items()],
        "sharing": [(k.value, label) for k, label in SHARING_LABELS.items()],
    }
