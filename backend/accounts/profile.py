"""The caller's profile: what registration asks of a person (``Profile``), checked against the
directory (the institution) and ISO 3166-1 (the country)."""

from __future__ import annotations

import datetime as dt
import functools

from babel import Locale

from backend import audit
from backend.accounts.schemas import ProfileIn, ProfileOut
from backend.accounts.service import _forget_after_commit
from backend.accounts.tables import Profile, StudyStatus, User
from backend.db import transaction, utcnow
from backend.errors import FieldChecks
from backend.institutions.tables import Institution
from backend.policy import Principal

_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "ZZ"}  # CLDR territories that are groupings, not countries


@functools.cache
def countries(locale: str) -> list[tuple[str, str]]:
    """ISO 3166-1 alpha-2 codes with their names in ``locale``, sorted by name."""
    names = Locale.parse("zh_Hans_CN" if locale == "zh" else locale).territories
    found = [(c, n) for c, n in names.items() if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES]
    return sorted(found, key=lambda item: item[1])


def is_country(code: str) -> bool:
    return code in dict(countries("en"))


_COLUMNS = (
    Profile.name_native,
    Profile.name_latin,
    Profile.institution,
    Profile.study_status,
    Profile.graduation_year,
    Profile.birth_date,
    Profile.country,
    Profile.updated_at,
)


async def get_profile(actor: Principal) -> ProfileOut:
    row = await Profile.select(*_COLUMNS).where(Profile.user == actor.id).first()
    if row is None:
        return ProfileOut("", "", None, StudyStatus.other.value, None, None, "", None)
    return ProfileOut(
        **{**{k: v for k, v in row.items() if k != "institution"}, "institution_id": row["institution"]}
    )


async def update_profile(actor: Principal, data: ProfileIn) -> ProfileOut:
    """Replace the caller's profile (created on first save); every field problem in one answer."""
    checks = FieldChecks()
    today = utcnow().date()
    if data.country and not is_country(data.country):
        checks.add("unknown_country", "No such country", "country", "not an ISO 3166-1 country code")
    if data.birth_date is not None and not dt.date(1900, 1, 1) <= data.birth_date <= today:
        checks.add("invalid_birth_date", "The date of birth is not possible", "birth_date", "not possible")
    graduated = data.study_status is StudyStatus.graduate
    if graduated and data.graduation_year is not None and data.graduation_year > today.year:
        checks.add(
            "invalid_graduation_year",
            "A graduate's graduation year cannot lie in the future",
            "graduation_year",
            "lies in the future",
        )
    if data.institution_id is not None and not await Institution.exists().where(
        Institution.id == data.institution_id
    ):
        checks.add("unknown_institution", "No such institution", "institution_id", "unknown")
    checks.raise_if_any()
    values = {
        Profile.name_native: data.name_native,
        Profile.name_latin: data.name_latin,
        Profile.institution: data.institution_id,
        Profile.study_status: data.study_status.value,
        Profile.graduation_year: data.graduation_year,
        Profile.birth_date: data.birth_date,
        Profile.country: data.country,
        Profile.updated_at: utcnow(),
    }
    async with transaction():
        if await Profile.exists().where(Profile.user == actor.id):
            await Profile.update(values).where(Profile.user == actor.id)
        else:
            await Profile(user=actor.id, **{c._meta.name: v for c, v in values.items()}).save()
        await User.update({User.display_name: data.name_native}).where(User.id == actor.id)
        _forget_after_commit(actor.id)
        await audit.record(
            actor.id,
            "profile.update",
            "user",
            actor.id,
            data={"fields": sorted(c._meta.name for c in values if c is not Profile.updated_at)},
        )
    return await get_profile(actor)
