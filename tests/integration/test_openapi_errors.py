"""The OpenAPI document lists the real error answers of each operation, with the ``{code, detail,
fields}`` body and the registry of codes, instead of Litestar's own ValidationException schema."""

from __future__ import annotations

import re
from typing import Any

import pytest

from backend.errors import CODES
from backend.security import CSRF_HEADER

ERROR_REF = "#/components/responses/Error"
WRITES = {"post", "put", "patch", "delete"}


@pytest.fixture
async def document(client) -> dict[str, Any]:
    response = await client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict[str, Any]):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield method, path, operation


def error_statuses(operation: dict[str, Any]) -> set[int]:
    return {int(s) for s in operation["responses"] if s[0] in "45"}


def by_id(document: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {op["operationId"]: op for _, _, op in operations(document)}


async def test_every_error_answer_is_the_error_body_never_litestars_own(document):
    seen = 0
    for method, path, operation in operations(document):
        for status, answer in operation["responses"].items():
            if status[0] not in "45":
                continue
            seen += 1
            assert answer.get("$ref") == ERROR_REF, (method, path, status, answer)
            assert answer.get("description"), (method, path, status)
    assert seen > 100
    text = str(document)
    assert "Validation Exception" not in text
    assert "status_code" not in str(document["components"].get("schemas", {}))


# Reads answer 409 only where what they read depends on a state: a revoked ticket has no images to
# show, a badge run's zip exists once the run is done (ticketing.badges).
READS_OF_A_STATE = frozenset({"GetTicketQr", "GetTicketBadge", "DownloadBadgeRun"})


async def test_each_operation_lists_the_statuses_it_can_answer(document):
    ops = by_id(document)
    expected = {
        # an anonymous read with no id and a query: only bad input
        "ListEvents": {400},
        # an id in the path: 404, nothing about logging in
        "GetEvent": {400, 404},
        # login: wrong password 401, too many attempts 429, a body (413, 415), CSRF with a cookie
        "Login": {400, 401, 403, 413, 415, 429},
        # a guarded write with an id and a body
        "UpdateEvent": {400, 401, 403, 404, 409, 413, 415},
        "CreateTrack": {400, 401, 403, 404, 409, 413, 415},
        # a guarded delete: no body, an id, a state that can refuse
        "DeleteTrack": {400, 401, 403, 404, 409},
        # the caller's own account: login needed, no input
        "Me": {401, 403},
        "CreateEvent": {400, 401, 403, 409, 413, 415},
    }
    for operation_id, statuses in expected.items():
        assert error_statuses(ops[operation_id]) == statuses, operation_id
    assert not error_statuses(ops["Health"])
    for method, path, operation in operations(document):
        statuses = error_statuses(operation)
        if "{" in path:
            assert 404 in statuses, (method, path)
        if "requestBody" in operation:
            assert {400, 413, 415} <= statuses, (method, path)
        else:
            assert 413 not in statuses, (method, path)
        if method in WRITES:
            assert 403 in statuses, (method, path)  # the CSRF check of cookie-authenticated writes
        elif operation["operationId"] not in READS_OF_A_STATE:
            assert 409 not in statuses, (method, path)
        assert statuses <= {400, 401, 403, 404, 409, 410, 413, 415, 422, 429}, (method, path)


async def test_the_error_component_carries_the_registry_of_codes(document):
    error = document["components"]["responses"]["Error"]
    schema = error["content"]["application/json"]["schema"]
    assert schema["required"] == ["code", "detail", "fields"]
    code = schema["properties"]["code"]
    assert code["enum"] == list(CODES)
    table = dict(re.findall(r"^\| `(\w+)` \| (.+) \|$", code["description"], re.MULTILINE))
    assert table == CODES
    assert schema["properties"]["fields"]["additionalProperties"] == {"type": "string"}
    example = schema["examples"][0]
    assert set(example) == {"code", "detail", "fields"}
    assert example["code"] in CODES
    assert "language" in document["info"]["description"]


# The document against the app: every error status an operation really answers is listed ------


def _url(path: str) -> str:
    return re.sub(r"{[^}]+}", "424242", path)


async def _answers(client, method: str, path: str, operation: dict[str, Any]) -> set[int]:
    """Statuses of a few wrong requests: unknown ids, an unknown field, a list for a body, a body
    that is too large or no JSON."""
    url = _url(path)
    has_body = "requestBody" in operation
    statuses = set()
    attempts: list[dict[str, Any]] = [{"json": {"unexpected_field": 1}} if has_body else {}]
    if has_body:
        attempts += [
            {"json": ["a", "list"]},
            {"content": b"x=1", "headers": {"content-type": "text/plain"}},
            {
                "content": b"[" + b"1," * (1024 * 1024 + 10) + b"1]",
                "headers": {"content-type": "application/json"},
            },
        ]
    if operation.get("parameters"):
        query = {p["name"]: "-1" for p in operation["parameters"] if p["in"] == "query"}
        if query:
            attempts.append({"params": query, **attempts[0]})
    for kwargs in attempts:
        response = await client.request(method.upper(), url, **kwargs)
        assert response.status_code < 500, (method, path, response.text)
        statuses.add(response.status_code)
    return {s for s in statuses if s >= 400}


async def test_the_statuses_the_app_answers_are_documented(
    make_client, document, admin, make_user, organizer
):
    """Anonymous, a stranger, an event organizer and a platform admin, each without and with the
    CSRF header on writes: whatever error status comes back is in the operation's list."""
    await make_user("stranger@example.org")
    callers = {
        who: await make_client(who)
        for who in (None, "stranger@example.org", "organizer@example.org", "admin@example.org")
    }
    undocumented = []
    for method, path, operation in operations(document):
        if operation["operationId"] == "Logout":
            continue  # would end the session the next operations use; checked on its own below
        documented = error_statuses(operation)
        for who, client in callers.items():
            seen = await _answers(client, method, path, operation)
            if method in WRITES and who is not None:
                csrf = client.headers.pop(CSRF_HEADER)
                seen |= await _answers(client, method, path, operation)
                client.headers[CSRF_HEADER] = csrf
            undocumented += [(operation["operationId"], who, s) for s in seen - documented]
    assert not undocumented, undocumented
    logout = by_id(document)["Logout"]
    anonymous = await make_client()
    assert (await anonymous.post("/api/v1/auth/logout")).status_code in error_statuses(logout)
