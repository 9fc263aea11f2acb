"""The institution picker: the public directory search it calls (names in zh or en, literal
wildcards, invisible characters ignored, limits), checked against a plain Python filter over random
queries, and the profile form's flow without JavaScript (search, short list, choice kept, save)."""

from __future__ import annotations

import random
import re

import pytest

from backend.institutions.service import PICKER_LIMIT, search_term
from backend.institutions.tables import Institution

pytestmark = pytest.mark.anyio  # at collection, so anyio's backend parameter joins parametrize

NAMES = [(f"浙江学院{i}", f"Zhejiang College {i}", "CN") for i in range(25)] + [
    ("", "Kazan Federal University", "RU"),
    ("莫斯科大学", "Moscow State University", "RU"),
    ("", "100% Science_Lab", "TH"),
    ("", "1000 Science Lab", "TH"),
    ("北京\\大学", "Back\\slash College", "CN"),
]
ALPHABET = "zZhejiangCollege 0123%_\\'\"浙江学院大\u200b\u200d\ufeff\u202e\t\u00ad"


@pytest.fixture
async def directory(db) -> dict[str, int]:
    rows = [Institution(name_zh=zh, name_en=en, kind="university", country=c) for zh, en, c in NAMES]
    await Institution.insert(*rows)
    return {r["name_en"]: r["id"] for r in await Institution.select(Institution.id, Institution.name_en)}


async def search(client, **params) -> dict:
    answer = await client.get("/api/v1/institutions", params=params)
    assert answer.status_code == 200, answer.text
    return answer.json()


async def test_the_search_finds_names_in_either_language_within_its_limit(client, directory):
    english = await search(client, q="zhejiang college", limit=PICKER_LIMIT)  # anonymous: it is public
    assert (len(english["items"]), english["total"]) == (PICKER_LIMIT, 25)
    chinese = await search(client, q="浙江学院1", limit=PICKER_LIMIT)
    assert {i["name_zh"] for i in chinese["items"]} == {"浙江学院1"} | {f"浙江学院{i}" for i in range(10, 20)}
    by_country = await search(client, q="university", country="ru")
    assert {i["name_en"] for i in by_country["items"]} == {
        "Kazan Federal University",
        "Moscow State University",
    }


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("%", ["100% Science_Lab"]),  # a wildcard is a letter like any other
        ("_", ["100% Science_Lab"]),
        ("\\", ["Back\\slash College"]),
        ("0% s", ["100% Science_Lab"]),
        ("Mos\u200bcow\u200d", ["Moscow State University"]),  # zero-width characters are not searched for
        ("\ufeff  莫斯科 \u202e", ["Moscow State University"]),
        ("' OR 1=1 --", []),
    ],
)
async def test_hostile_queries_are_plain_text(client, directory, query, found):
    assert [i["name_en"] for i in (await search(client, q=query))["items"]] == found


async def test_invisible_or_oversized_queries(client, directory):
    everything = (await search(client, limit=1))["total"]
    assert (await search(client, q="\u200b\u200b", limit=1))["total"] == everything  # nothing to search for
    too_long = await client.get("/api/v1/institutions", params={"q": "x" * 101})
    assert too_long.status_code == 400
    assert "q" in too_long.text
    control = await client.get("/api/v1/institutions", params={"q": "a\x00b"})
    assert control.status_code == 400
    too_many = await client.get("/api/v1/institutions", params={"limit": 501})
    assert too_many.status_code == 400


async def test_random_queries_match_a_plain_python_filter(client, directory):
    rng = random.Random(20261128)
    for _ in range(40):
        query = "".join(rng.choice(ALPHABET) for _ in range(rng.randint(1, 6)))
        term = search_term(query).lower()
        expected = {en for zh, en, _ in NAMES if not term or term in en.lower() or term in zh.lower()}
        page = await search(client, q=query, limit=100)
        assert ({i["name_en"] for i in page["items"]}, page["total"]) == (expected, len(expected)), query


def options(html: str) -> list[tuple[str, bool]]:
    """The (value, selected) of every option of the picker's select."""
    select = html[
        html.index('<select id="institution_id"') : html.index("</select>", html.index('id="institution_id"'))
    ]
    return [(v, bool(s)) for v, s in re.findall(r'<option value="(\d*)"( selected)?', select)]


async def test_the_profile_form_searches_and_saves_without_javascript(make_client, make_user, directory):
    await make_user("ivan@example.org")
    client = await make_client("ivan@example.org")
    client.cookies.set("podium_lang", "en", domain="podium.test")
    moscow = directory["Moscow State University"]
    assert (
        await client.put(
            "/api/v1/me/profile", json={"name_native": "Иван", "name_latin": "Ivan", "institution_id": moscow}
        )
    ).status_code == 200

    page = (await client.get("/me")).text  # no search yet: the current choice only, not the directory
    assert options(page) == [("", False), (str(moscow), True)]
    assert 'form="institution-search"' in page
    assert '<form id="institution-search" method="get"' in page
    assert '<script src="/static/institution-picker.js" defer></script>' in page

    found = (await client.get("/me", params={"institution_q": " zhejiang\u200b "})).text
    listed = options(found)
    assert listed[:2] == [("", False), (str(moscow), True)]  # the current one stays chosen
    assert len(listed) == 2 + PICKER_LIMIT
    assert "Institutions found: 25" in found
    assert "Showing the first 20" in found
    assert 'value="zhejiang"' in found  # the search box keeps what was searched

    none = (await client.get("/me", params={"institution_q": "%"})).text
    assert "No institution matches." in none
    for hostile in ("\x00", "x" * 5000, "\u200b", "' OR 1=1 --"):
        assert (await client.get("/me", params={"institution_q": hostile})).status_code == 200

    csrf = client.headers["X-Podium-CSRF"]
    chosen = listed[5][0]
    form = {"_csrf_token": csrf, "name_native": "Иван", "name_latin": "Ivan", "study_status": "student"}
    saved = await client.post("/me/details", data={**form, "institution_id": chosen})
    assert saved.status_code == 303
    assert (await client.get("/api/v1/me/profile")).json()["institution_id"] == int(chosen)
    refused = await client.post("/me/details", data={**form, "institution_id": "99999"})
    assert refused.status_code == 400
    assert 'id="institution_id-error"' in refused.text
    cleared = await client.post("/me/details", data={**form, "institution_id": ""})
    assert cleared.status_code == 303
    assert (await client.get("/api/v1/me/profile")).json()["institution_id"] is None
