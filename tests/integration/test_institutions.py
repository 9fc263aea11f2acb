"""The institutions directory over HTTP and its CSV import (service and command)."""

from __future__ import annotations

import sys

import anyio
import pytest

from backend.institutions.service import CsvRowError, import_institutions, parse_csv
from backend.institutions.tables import Institution

CSV = """name_zh,name_en,kind,country,region
浙江大学,Zhejiang University,university,CN,Zhejiang
,Kazan Federal University,university,ru,Tatarstan
泰国电子商务协会,Thai E-Commerce Association,association,TH,Bangkok
"""


async def test_import_is_idempotent_and_updates_changed_rows(db):
    first = await import_institutions(parse_csv(CSV))
    assert (first.created, first.updated, first.unchanged) == (3, 0, 0)
    again = await import_institutions(parse_csv(CSV))
    assert (again.created, again.updated, again.unchanged) == (0, 0, 3)
    changed = await import_institutions(parse_csv(CSV.replace("Tatarstan", "Republic of Tatarstan")))
    assert (changed.created, changed.updated, changed.unchanged) == (0, 1, 2)
    assert await Institution.count() == 3
    kazan = (
        await Institution.select(Institution.country, Institution.region)
        .where(Institution.name_en == "Kazan Federal University")
        .first()
    )
    assert kazan == {"country": "RU", "region": "Republic of Tatarstan"}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "line 1: the file is empty"),
        (
            "name_en,country\nX,CN\n",
            "line 1: missing column(s): kind (expected name_zh,name_en,kind,country,region)",
        ),
        ("name_en,kind,country\n", "line 2: the file has a header but no rows"),
        (
            "name_en,kind,country\nA,university,CN\nB,castle,CN\n",
            "line 3: Invalid enum value 'castle' - at `$.kind`",
        ),
        (
            "name_en,kind,country\nA,university,China\n",
            "line 2: Expected `str` of length <= 2 - at `$.country`",
        ),
        ("name_zh,name_en,kind,country\n,,university,CN\n", "line 2: Give a Chinese or an English name"),
    ],
)
def test_bad_csv_names_the_line(text, message):
    with pytest.raises(CsvRowError) as info:
        parse_csv(text)
    assert info.value.detail == message


async def test_directory_api_filters_and_guards(make_client, admin, make_user):
    await import_institutions(parse_csv(CSV))
    anonymous = await make_client()
    page = (await anonymous.get("/api/v1/institutions", params={"country": "ru"})).json()
    assert [i["name_en"] for i in page["items"]] == ["Kazan Federal University"]
    assert (await anonymous.get("/api/v1/institutions", params={"q": "zhejiang"})).json()["total"] == 1
    assert (await anonymous.get("/api/v1/institutions", params={"kind": "association"})).json()["total"] == 1
    payload = {"kind": "enterprise", "country": "CN", "name_en": "Yiwu Trade Co."}
    assert (await anonymous.post("/api/v1/institutions", json=payload)).status_code == 401
    await make_user("plain@example.org")
    plain = await make_client("plain@example.org")
    assert (await plain.post("/api/v1/institutions", json=payload)).status_code == 403
    client = await make_client("admin@example.org")
    created = await client.post("/api/v1/institutions", json=payload)
    assert created.status_code == 201
    updated = await client.put(
        f"/api/v1/institutions/{created.json()['id']}", json={**payload, "region": "Zhejiang"}
    )
    assert (updated.status_code, updated.json()["region"]) == (200, "Zhejiang")
    assert (await client.get("/api/v1/institutions/999999")).status_code == 404


async def podium_import(path) -> tuple[int, str]:
    """Run ``podium institutions import PATH``; its exit status and the last line it printed."""
    with anyio.fail_after(120):
        done = await anyio.run_process(
            [sys.executable, "-m", "backend", "institutions", "import", str(path)], check=False
        )
    return done.returncode, done.stderr.decode().strip().splitlines()[-1]


async def test_import_command_reports_and_fails_cleanly(tmp_path, db):
    good = tmp_path / "institutions.csv"
    good.write_text(CSV, encoding="utf-8")
    assert await podium_import(good) == (0, "3 created, 0 updated, 0 unchanged")
    assert await Institution.count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_text("name_en,kind,country\nB,university,CN\nA,castle,CN\n", encoding="utf-8")
    assert await podium_import(bad) == (2, f"{bad}: line 3: Invalid enum value 'castle' - at `$.kind`")
    status, message = await podium_import(tmp_path / "nope.csv")
    assert (status, message.startswith(f"{tmp_path / 'nope.csv'}: cannot read")) == (2, True)
    assert await Institution.count() == 3  # the good row before the bad one was not written either
