"""The check-in lists and devices pages of the organizer's workspace.

Server-side forms over the same service as the API (Post/Redirect/Get with ``?done=``; a refused
change renders the page again with the values typed and each field's message next to its input).
A list's rules are edited as plain inputs: ticket types as check boxes (none ticked: every type), up
to :data:`WINDOW_ROWS` opening windows as pairs of ``datetime-local`` inputs in the event's time
zone, entry limits and capacity as numbers (blank: no limit), re-entry as a check box and the venue
list as a choice. A new device's token is shown on the answer to its form only (200, not a
redirect: it is never stored in the clear, so it cannot be shown again).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.response import Template

from backend.errors import DomainError, NotFound
from backend.guards import current, may
from backend.http_errors import Message, localized_error, value_problems
from backend.i18n import localized, request_locale, translations
from backend.policy import Action, Principal
from backend.schemas import IdPath
from backend.workspace.controllers import Form, _failed_form, _redirect, event_page
from backend.workspace.forms import FormErrors
from ticketing import rules
from ticketing.lists import service
from ticketing.lists.schemas import DeviceCreatedOut, DeviceIn, DevicePatch, ListIn, ListOut, ListPatch
from ticketing.tables import TicketType

WINDOW_ROWS = 3  # opening windows a list's form offers (the API takes up to 100)
KINDS = ("gate", "session", "meal", "booth")
KIND_NAMES = {"gate": "Gate", "session": "Session", "meal": "Meal", "booth": "Booth"}
MODE_NAMES = {
    "once": "Admits each ticket once",
    "daily": "Admits each ticket once a day",
    "counted": "Counts every entry and exit",
}

DONE = {
    "list-added": "The check-in list was added.",
    "list-saved": "The check-in list was saved.",
    "list-archived": "The check-in list was archived.",
    "list-restored": "The check-in list is back.",
    "session-lists": "Each session has its check-in list.",
    "device-saved": "The device was saved.",
    "device-revoked": "The device was revoked: its token no longer scans.",
}

# Field labels (English message ids) for the error summary.
LABELS = {
    "name": "Name",
    "kind": "Kind",
    "session_id": "Session",
    "position": "Place in the list",
    "types": "Ticket types",
    "entries_total": "Entries per ticket",
    "entries_per_day": "Entries per day",
    "reentry_after_exit": "Re-entry after exit",
    "capacity": "Capacity",
    "after_list": "Only after entering",
    "gate": "Gate",
    "lists": "Check-in lists",
    **{f"opens_{i}": "Opens" for i in range(WINDOW_ROWS)},
    **{f"closes_{i}": "Closes" for i in range(WINDOW_ROWS)},
}

_WINDOW_FIELD = re.compile(r"^rules\.windows\[(\d+)\](?:\.(opens|closes))?$")


def _done(request: Request) -> str | None:
    return DONE.get(request.query_params.get("done", ""))


async def _form(request: Request) -> tuple[dict[str, Any], list[str]]:
    """The posted fields (without the CSRF token) and the ticked values of multi-valued ones."""
    form = await request.form()
    values = {k: v for k, v in form.items() if k != "_csrf_token" and isinstance(v, str)}
    ticked = [v for v in form.getall("types") if isinstance(v, str)] if "types" in form else []
    lists = [v for v in form.getall("lists") if isinstance(v, str)] if "lists" in form else []
    values["types"] = ticked
    values["lists"] = lists
    return values, ticked


def _number(value: Any) -> Any:
    """A posted number as an int when it reads as one (the checker reports what does not)."""
    text = str(value or "").strip()
    if text == "":
        return None
    try:
        return int(text)
    except ValueError:
        return text


def _list_body(values: dict[str, Any], partial: bool) -> tuple[dict[str, Any], list[int]]:
    """The API body of a list's form, and for each window of the body the form's row it came from."""
    windows, rows = [], []
    for i in range(WINDOW_ROWS):
        opens, closes = (values.get(f"{side}_{i}", "").strip() for side in ("opens", "closes"))
        if opens or closes:
            windows.append({"opens": opens, "closes": closes})
            rows.append(i)
    given = {
        "types": [_number(v) for v in values.get("types", [])] or None,
        "windows": windows,
        "entries_total": _number(values.get("entries_total")),
        "entries_per_day": _number(values.get("entries_per_day")),
        "reentry_after_exit": values.get("reentry_after_exit") == "on",
        "capacity": _number(values.get("capacity")),
        "after_list": _number(values.get("after_list")),
    }
    body: dict[str, Any] = {
        "name": values.get("name", ""),
        "kind": values.get("kind") or "gate",
        "rules": given,
        "position": _number(values.get("position")) or 0,
    }
    session = _number(values.get("session_id"))
    if partial:
        body["session_id"] = session or 0
    elif session is not None:
        body["session_id"] = session
    return body, rows


def _device_body(values: dict[str, Any]) -> dict[str, Any]:
    """A device's form as the API's body (a new device's or a change of one)."""
    return {
        "name": values.get("name", ""),
        "gate": values.get("gate", ""),
        "lists": [_number(v) for v in values["lists"]],
    }


def _form_name(name: str, rows: list[int]) -> str:
    """An API field path (``rules.windows[1].closes``) as the form input it came from (``closes_2``)."""
    window = _WINDOW_FIELD.match(name)
    if window:
        index = int(window.group(1))
        row = rows[index] if index < len(rows) else 0
        return f"{window.group(2) or 'opens'}_{row}"
    if name.startswith("rules.types"):
        return "types"
    if name.startswith("lists"):
        return "lists"
    if name == "rules":
        return "entries_total"
    return name.removeprefix("rules.")


def _decode(struct: type, body: dict[str, Any], rows: list[int]) -> Any:
    """The struct for a form's body, or every wrong field at once: the types the API checks and,
    beside them, what the rules module refuses (a window that closes before it opens)."""
    problems = value_problems(body, struct)
    if problems and isinstance(body.get("rules"), dict):
        try:
            rules.ListRules.from_json(body["rules"])
        except rules.RulesError as exc:
            for name, message in exc.fields.items():
                problems.setdefault(f"rules.{name}", Message(message))
    if problems:
        raise FormErrors({_form_name(k, rows): v for k, v in problems.items()})
    return msgspec.convert(body, struct)


def _failed(request: Request, exc: Exception, prefix: str, values: dict[str, Any], rows: list[int]) -> Form:
    if isinstance(exc, FormErrors):
        exc = FormErrors({_form_name(k, rows): v for k, v in exc.fields.items()})
    form = _failed_form(request, exc, prefix, values)
    if isinstance(exc, DomainError):
        form.errors = {_form_name(k, rows): v for k, v in form.errors.items()}
    t = translations(request_locale(request))
    form.labels = {name: t.gettext(LABELS.get(name, "Value")) for name in form.errors}
    if form.errors and not form.summary and isinstance(exc, DomainError) and exc.code != "validation_error":
        form.summary = localized_detail(exc, request)
    return form


def localized_detail(exc: DomainError, request: Request) -> str:
    return localized_error(exc, request_locale(request))[0]


def _list_values(item: ListOut) -> dict[str, Any]:
    shown = item.rules
    values: dict[str, Any] = {
        "name": item.name,
        "kind": item.kind,
        "session_id": str(item.session_id or ""),
        "position": str(item.position),
        "types": [str(n) for n in shown["types"] or []],
        "entries_total": "" if shown["entries_total"] is None else str(shown["entries_total"]),
        "entries_per_day": "" if shown["entries_per_day"] is None else str(shown["entries_per_day"]),
        "reentry_after_exit": "on" if shown["reentry_after_exit"] else "",
        "capacity": "" if shown["capacity"] is None else str(shown["capacity"]),
        "after_list": str(shown["after_list"] or ""),
    }
    for i, window in enumerate(shown["windows"][:WINDOW_ROWS]):
        values[f"opens_{i}"] = window["opens"][:16]
        values[f"closes_{i}"] = window["closes"][:16]
    return values


def _summary(item: ListOut, type_names: dict[int, str], list_names: dict[int, str], t: Any) -> list[str]:
    """The list's rules in words, one line each."""
    shown, lines = item.rules, []
    if shown["types"] is None:
        lines.append(t.gettext("Every ticket type"))
    else:
        names = ", ".join(type_names.get(n, f"#{n}") for n in shown["types"])
        lines.append(t.gettext("Ticket types: {types}").format(types=names))
    for window in shown["windows"]:
        lines.append(
            t.gettext("Open {opens} – {closes}").format(
                opens=window["opens"].replace("T", " ")[:16], closes=window["closes"].replace("T", " ")[:16]
            )
        )
    if shown["entries_total"] is None:
        lines.append(t.gettext("No limit of entries per ticket"))
    elif shown["entries_total"] == 1:
        lines.append(t.gettext("One entry per ticket"))
    else:
        lines.append(t.gettext("{count} entries per ticket").format(count=shown["entries_total"]))
    if shown["entries_per_day"] is not None:
        lines.append(t.gettext("{count} entries per day").format(count=shown["entries_per_day"]))
    if shown["reentry_after_exit"]:
        lines.append(t.gettext("Re-entry after an exit"))
    if shown["capacity"] is not None:
        lines.append(t.gettext("Capacity {capacity}").format(capacity=shown["capacity"]))
    if shown["after_list"] is not None:
        venue = list_names.get(shown["after_list"], f"#{shown['after_list']}")
        lines.append(t.gettext("Only after entering {list}").format(list=venue))
    return lines


class ListPages(Controller):
    path = "/workspace/events/{event_id:int}/ticketing/lists"
    include_in_schema = False

    async def _page(
        self, request: Request, event_id: int, failed: Form | None = None, status_code: int = 200
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        t = translations(locale)
        lists = await service.list_lists(principal, event_id, locale)
        types = await TicketType.select().where(TicketType.event == event_id).order_by(TicketType.number)
        sessions = await service.event_sessions(event_id, locale)
        forms = {f"list-{x.id}-": Form(f"list-{x.id}-", _list_values(x)) for x in lists}
        forms["list-new-"] = Form("list-new-", {"kind": "gate", "entries_total": "1", "position": "0"})
        if failed is not None:
            forms[failed.prefix] = failed
        type_names = {r["number"]: localized(r, "name", locale) or r["kind"] for r in types}
        list_names = {x.id: x.name for x in lists}
        return await event_page(
            request,
            "ticketing/lists/lists.html.jinja",
            event_id,
            "ticketing",
            status_code,
            lists=lists,
            forms=forms,
            failed=failed,
            done_here=_done(request),
            window_rows=range(WINDOW_ROWS),
            kind_options=[(k, t.gettext(KIND_NAMES[k])) for k in KINDS],
            kind_names={k: t.gettext(v) for k, v in KIND_NAMES.items()},
            mode_names={k: t.gettext(v) for k, v in MODE_NAMES.items()},
            type_options=[(str(n), name) for n, name in type_names.items()],
            session_options=[("", t.gettext("No session")), *sessions],
            venue_options=[("", t.gettext("No venue list")), *((str(x.id), x.name) for x in lists)],
            summaries={x.id: _summary(x, type_names, list_names, t) for x in lists},
            has_sessions=bool(sessions),
        )

    @get("", guards=[may(Action.manage_checkin)])
    async def show(self, request: Request, event_id: IdPath) -> Template:
        """The event's check-in lists with their rules, forms to change them and to add one."""
        return await self._page(request, event_id)

    async def _change(self, request: Request, event_id: int, prefix: str, change: Any, done: str) -> Response:
        values, _ = await _form(request)
        rows: list[int] = []
        try:
            rows = await change(values)
        except (FormErrors, DomainError) as exc:
            if getattr(exc, "status_code", 400) == 404:
                raise
            form = _failed(request, exc, prefix, values, rows or _list_body(values, False)[1])
            return await self._page(request, event_id, form, getattr(exc, "status_code", 400))
        anchor = "" if prefix == "list-new-" else f"#{prefix.rstrip('-')}"
        return _redirect(f"/workspace/events/{event_id}/ticketing/lists", done, anchor)

    @post("", guards=[may(Action.manage_checkin)])
    async def create(self, request: Request, event_id: IdPath) -> Response:
        """Add a list from the form."""
        principal, locale = current(request), request_locale(request)

        async def change(values: dict[str, Any]) -> list[int]:
            body, rows = _list_body(values, partial=False)
            await service.create_list(principal, event_id, _decode(ListIn, body, rows), locale)
            return rows

        return await self._change(request, event_id, "list-new-", change, "list-added")

    @post("/sessions", guards=[may(Action.manage_checkin)])
    async def sessions(self, request: Request, event_id: IdPath) -> Response:
        """A list for every session without one."""
        await service.create_session_lists(current(request), event_id, request_locale(request))
        return _redirect(f"/workspace/events/{event_id}/ticketing/lists", "session-lists")

    @post("/{list_id:int}", guards=[may(Action.manage_checkin)])
    async def save(self, request: Request, event_id: IdPath, list_id: IdPath) -> Response:
        """Save a list's form."""
        principal, locale = current(request), request_locale(request)
        await _own_list(event_id, list_id)

        async def change(values: dict[str, Any]) -> list[int]:
            body, rows = _list_body(values, partial=True)
            await service.update_list(principal, list_id, _decode(ListPatch, body, rows), locale)
            return rows

        return await self._change(request, event_id, f"list-{list_id}-", change, "list-saved")

    @post("/{list_id:int}/archive", guards=[may(Action.manage_checkin)])
    async def archive(self, request: Request, event_id: IdPath, list_id: IdPath) -> Response:
        """Archive a list."""
        return await self._on_list(request, event_id, list_id, service.archive_list, "list-archived")

    @post("/{list_id:int}/restore", guards=[may(Action.manage_checkin)])
    async def restore(self, request: Request, event_id: IdPath, list_id: IdPath) -> Response:
        """Bring an archived list back."""
        return await self._on_list(request, event_id, list_id, service.restore_list, "list-restored")

    async def _on_list(
        self,
        request: Request,
        event_id: int,
        list_id: int,
        act: Callable[[Principal, int], Awaitable[Any]],
        done: str,
    ) -> Response:
        """A change of a list without fields (archive, restore): a refusal shows at the list's form."""
        principal = current(request)
        await _own_list(event_id, list_id)

        async def change(values: dict[str, Any]) -> list[int]:
            await act(principal, list_id)
            return []

        return await self._change(request, event_id, f"list-{list_id}-", change, done)


async def _own_list(event_id: int, list_id: int) -> None:
    """404 unless the list is one of the page's event (a path mixing two events finds nothing)."""
    row = await service.list_row(list_id)
    if row["event"] != event_id:
        raise NotFound("Check-in list")


async def _own_device(event_id: int, device_id: int) -> None:
    row = await service.device_row(device_id)
    if row["event"] != event_id:
        raise NotFound("Device")


def _device_values(device: Any) -> dict[str, Any]:
    return {"name": device.name, "gate": device.gate, "lists": [str(x.id) for x in device.lists]}


class DevicePages(Controller):
    path = "/workspace/events/{event_id:int}/ticketing/devices"
    include_in_schema = False

    async def _page(
        self,
        request: Request,
        event_id: int,
        failed: Form | None = None,
        status_code: int = 200,
        created: DeviceCreatedOut | None = None,
    ) -> Template:
        principal, locale = current(request), request_locale(request)
        devices = await service.list_devices(principal, event_id)
        lists = await service.list_lists(principal, event_id, locale, archived=False)
        forms = {f"device-{d.id}-": Form(f"device-{d.id}-", _device_values(d)) for d in devices}
        forms["device-new-"] = Form("device-new-", {"lists": [str(x.id) for x in lists[:1]]})
        if failed is not None:
            forms[failed.prefix] = failed
        return await event_page(
            request,
            "ticketing/lists/devices.html.jinja",
            event_id,
            "ticketing",
            status_code,
            devices=devices,
            list_options=[(str(x.id), x.name) for x in lists],
            forms=forms,
            failed=failed,
            done_here=_done(request),
            created=created,
        )

    @get("", guards=[may(Action.manage_checkin)])
    async def show(self, request: Request, event_id: IdPath) -> Template:
        """The event's scanning devices with their lists and last contact; a form to add one."""
        return await self._page(request, event_id)

    async def _failed_page(
        self, request: Request, event_id: int, exc: Exception, prefix: str, values: dict
    ) -> Template:
        if getattr(exc, "status_code", 400) == 404:
            raise exc
        form = _failed(request, exc, prefix, values, [])
        return await self._page(request, event_id, form, getattr(exc, "status_code", 400))

    @post("", guards=[may(Action.manage_checkin)])
    async def create(self, request: Request, event_id: IdPath) -> Template:
        """Register a device; the answer shows its token and enrolment QR code once."""
        values, _ = await _form(request)
        try:
            data = _decode(DeviceIn, _device_body(values), [])
            created = await service.create_device(
                current(request), event_id, data, request.app.state.settings.base_url
            )
        except (FormErrors, DomainError) as exc:
            return await self._failed_page(request, event_id, exc, "device-new-", values)
        return await self._page(request, event_id, created=created)

    @post("/{device_id:int}", guards=[may(Action.manage_checkin)])
    async def save(self, request: Request, event_id: IdPath, device_id: IdPath) -> Response:
        """Save a device's name, gate and lists."""
        await _own_device(event_id, device_id)
        values, _ = await _form(request)
        try:
            data = _decode(DevicePatch, _device_body(values), [])
            await service.update_device(
                current(request), device_id, data, request.app.state.get("principals")
            )
        except (FormErrors, DomainError) as exc:
            return await self._failed_page(request, event_id, exc, f"device-{device_id}-", values)
        return _redirect(
            f"/workspace/events/{event_id}/ticketing/devices", "device-saved", f"#device-{device_id}"
        )

    @post("/{device_id:int}/revoke", guards=[may(Action.manage_checkin)])
    async def revoke(self, request: Request, event_id: IdPath, device_id: IdPath) -> Response:
        """Revoke a device's token."""
        await _own_device(event_id, device_id)
        try:
            await service.revoke_device(current(request), device_id, request.app.state.get("principals"))
        except DomainError as exc:
            return await self._failed_page(request, event_id, exc, f"device-{device_id}-", {})
        return _redirect(f"/workspace/events/{event_id}/ticketing/devices", "device-revoked")
