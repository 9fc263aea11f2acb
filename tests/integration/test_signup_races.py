"""Twenty racing uses of one confirmation link, on PostgreSQL and on SQLite
(real ``podium serve --workers 2``, see ``test_concurrency``): exactly one succeeds. A reset link is claimed by
the same code (``backend.accounts.signup._use_link``)."""

from __future__ import annotations

import re

import httpx
import pytest

from tests.integration.test_concurrency import PASSWORD, N, race, server, statuses, the_one_refusal

__all__ = ["server"]  # the fixture, shared with the core's race tests

pytestmark = [
    pytest.mark.anyio,
    pytest.mark.parametrize("server", ["postgresql", "sqlite"], indirect=True, scope="module"),
]

LINK = re.compile(r"/(?:confirm|password-reset)/(acc_[A-Za-z0-9_-]+)")


async def _link(server, address: str) -> str:
    body = await server.value(
        "SELECT body_text FROM outbox_email WHERE to_address = ? ORDER BY id DESC LIMIT 1", address
    )
    return LINK.search(body)[1]


async def test_one_confirmation_link_confirms_once(server):
    address = "racer@example.org"
    async with httpx.AsyncClient(base_url=server.url, timeout=60) as client:
        body = {"email": address, "password": PASSWORD, "name_native": "R", "name_latin": "R", "terms": True}
        assert (await client.post("/api/v1/accounts/signup", json=body)).status_code == 202
        token = await _link(server, address)
        responses = await race(*[lambda: client.post("/api/v1/accounts/confirm", json={"token": token})] * N)
        assert statuses(responses) == {204: 1, 410: N - 1}
        assert the_one_refusal(responses, 410)["code"] == "link_used"
        assert await server.audit_count("account.confirm_email") == 1
