"""Consents: the terms (required to sign up) and three separate, optional kinds of sharing, each
recorded with the version of its text, the time and the client address. The history is append-only;
the current state of a kind is its latest row."""

from __future__ import annotations

from typing import Any

from msgspec import UNSET

from backend import audit
from backend.accounts.schemas import SHARING, ConsentOut, ConsentsIn, ConsentsOut
from backend.accounts.tables import Consent, ConsentKind
from backend.db import transaction
from backend.policy import Principal

# The version of each text in force: raise one when its wording changes (the history keeps the old).
VERSIONS: dict[ConsentKind, str] = {
    ConsentKind.terms: "2026-11",
    ConsentKind.share_sponsors: "2026-11",
    ConsentKind.share_employers: "2026-11",
    ConsentKind.share_incubators: "2026-11",
}


def _client_address() -> str:
    actor = audit.current_actor.get()
    return (actor.client_address or "")[:45] if actor else ""


async def record(user_id: int, answers: dict[ConsentKind, bool]) -> None:
    """Append one row per answer, at the current versions; inside the caller's transaction."""
    address = _client_address()
    for kind, granted in answers.items():
        await Consent(
            user=user_id, kind=kind.value, version=VERSIONS[kind], granted=granted, client_address=address
        ).save()


async def history(user_id: int) -> list[dict[str, Any]]:
    return (
        await Consent.select(
            Consent.kind, Consent.version, Consent.granted, Consent.client_address, Consent.created_at
        )
        .where(Consent.user == user_id)
        .order_by(Consent.id, ascending=False)
    )


async def get_consents(actor: Principal) -> ConsentsOut:
    rows = await history(actor.id)
    current = {kind.value: False for kind in ConsentKind}
    for row in reversed(rows):  # oldest first: the latest answer of each kind wins
        current[row["kind"]] = row["granted"]
    return ConsentsOut(
        current=current,
        versions={kind.value: version for kind, version in VERSIONS.items()},
        history=[
            ConsentOut(kind=r["kind"], version=r["version"], granted=r["granted"], created_at=r["created_at"])
            for r in rows
        ],
    )


async def set_consents(actor: Principal, data: ConsentsIn) -> ConsentsOut:
    """Grant or withdraw sharing consents; only answers that differ from the current state are
    recorded (and audited)."""
    current = (await get_consents(actor)).current
    changes = {
        kind: value
        for kind in SHARING
        if (value := getattr(data, kind.value)) is not UNSET and value != current[kind.value]
    }
    if changes:
        async with transaction():
            await record(actor.id, changes)
            await audit.record(
                actor.id,
                "consent.change",
                "user",
                actor.id,
                data={k.value: {"granted": v, "version": VERSIONS[k]} for k, v in changes.items()},
            )
    return await get_consents(actor)
