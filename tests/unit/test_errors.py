"""The error-code registry, and how failures become ``{code, detail, fields}``."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Annotated

import msgspec
import pytest
from litestar import Litestar, get, post
from litestar.config.csrf import CSRFConfig
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import DefineMiddleware
from litestar.params import JSONBody
from litestar.testing import TestClient

from backend.errors import CODES, Conflict, DomainError
from backend.http_errors import error_response, exception_handler_for
from backend.security import TokenAwareCSRFMiddleware

BACKEND = Path(__file__).resolve().parents[2] / "backend"


def test_an_unregistered_code_cannot_be_raised():
    with pytest.raises(ValueError, match="unregistered error code 'slug_tkaen'"):
        Conflict("slug_tkaen", "Another event uses this slug")
    assert DomainError("slug_taken", "Another event uses this slug").code == "slug_taken"


def _codes_in_source() -> dict[str, str]:
    """Every string literal passed as the code of a DomainError (or subclass) in the backend."""
    found: dict[str, str] = {}
    for path in BACKEND.rglob("*.py"):
        tree = ast.parse(path.read_text(), filename=str(path))
        error_classes = {"DomainError", "Conflict"}
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id in ("DomainError", "Conflict", "Forbidden", "NotFound")
                for b in node.bases
            ):
                error_classes.add(node.name)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            func = node.func
            name = (
                func.id
                if isinstance(func, ast.Name)
                else func.attr
                if isinstance(func, ast.Attribute)
                else ""
            )
            is_super_init = (
                name == "__init__" and isinstance(func, ast.Attribute) and isinstance(func.value, ast.Call)
            )
            first = node.args[0]
            if (
                (name in error_classes or is_super_init)
                and isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and first.value.isidentifier()
            ):
                found[first.value] = f"{path.relative_to(BACKEND.parent)}:{node.lineno}"
    return found


def test_every_code_raised_in_the_backend_is_registered():
    found = _codes_in_source()
    assert {"not_found", "invalid_csv", "name_required"} <= set(found)  # the scan works
    unregistered = {code: where for code, where in found.items() if code not in CODES}
    assert not unregistered


def test_the_openapi_component_lists_every_code_with_its_meaning():
    schema = error_response().content["application/json"].schema
    code = schema.properties["code"]
    assert code.enum == list(CODES)
    for name, meaning in CODES.items():  # the description's table gives each meaning
        assert f"| `{name}` | {meaning} |" in code.description
    assert all(meaning for meaning in CODES.values())


class Inner(msgspec.Struct, forbid_unknown_fields=True):
    x: int


class Body(msgspec.Struct, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=3)]
    inner: Inner | None = None


@post("/body")
async def body_handler(data: JSONBody[Body]) -> None:
    return None


@get("/page")
async def page_handler() -> str:
    return "a page"


@post("/forbidden")
async def forbidden_handler() -> None:
    raise PermissionDeniedException("not yours")


def _client() -> TestClient:
    csrf = CSRFConfig(secret="s" * 32, cookie_name="csrf", header_name="x-csrf")
    app = Litestar(
        [body_handler, page_handler, forbidden_handler],
        middleware=[DefineMiddleware(TokenAwareCSRFMiddleware, config=csrf)],
        exception_handlers={Exception: exception_handler_for()},
    )
    return TestClient(app)


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "abcd"}, {"name": "must be at most 3 characters"}),
        ({}, {"name": "is required"}),
        ({"name": "a", "zz": 1}, {"zz": "is not a field of this request"}),
        ({"name": "a", "inner": {"x": "s"}}, {"inner.x": "must be a whole number"}),
        ({"name": "a", "inner": {}}, {"inner.x": "is required"}),
        ([1], {"body": "must be an object"}),
        # every wrong field at once, not only the first msgspec meets
        (
            {"name": "abcd", "zz": 1, "inner": {"x": "s", "y": 2}},
            {
                "name": "must be at most 3 characters",
                "zz": "is not a field of this request",
                "inner.x": "must be a whole number",
                "inner.y": "is not a field of this request",
            },
        ),
    ],
)
def test_validation_errors_name_the_field_at_fault(body, fields):
    with _client() as client:
        response = client.post("/body", json=body, headers={"authorization": "Bearer x"})
    assert response.status_code == 400
    assert response.json()["code"] == "validation_error"
    assert response.json()["fields"] == fields


def test_csrf_failure_has_its_own_code_and_other_refusals_keep_theirs():
    with _client() as client:
        refused = client.post("/body", json={"name": "a"})
        assert (refused.status_code, refused.json()["code"]) == (403, "csrf_failed")
        token = client.get("/page").cookies.get("csrf")
        assert token
        downstream = client.post("/forbidden", headers={"x-csrf": token})
    # the handler's own PermissionDeniedException passed the CSRF check: it is not a CSRF failure
    assert (downstream.status_code, downstream.json()["code"]) == (403, "forbidden")
