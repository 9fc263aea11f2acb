"""QR codes and badges (``ticketing.render``): the fast QR symbol is ``qrcode``'s own, module for
module; every QR PNG and badge rendered decodes with an independent decoder (zbar's ``zbarimg``,
from Debian's zbar-tools) to the same text, over random families of codes, names and colours;
Chinese and Cyrillic names are drawn with glyphs, not "missing glyph" boxes; a machine without the
CJK font gets an error naming the package."""

from __future__ import annotations

import datetime as dt
import io
import random
import shutil
import subprocess
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import qrcode
from PIL import Image
from qrcode.constants import ERROR_CORRECT_M

from backend.fonts import FontMissing
from ticketing import codes, render

SEED = 1129
ZBAR = shutil.which("zbarimg")

CHINESE = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史黎贺顾毛郝龚邵万钱覃武戴孔汤庞樊兰殷施陶洪翟安颜倪严牛温芦季俞章鲁葛伍申尤毕聂柴焦向柳邢岳齐沿梅莫庄辛管祝左涂谷祁时舒耿牟卜路詹关苗凌费纪靳盛童欧甄项曲成游阳裴席卫查屈鲍位覃霍翁隋植甘景薄单包司柏宁柯阮桂闵欧阳解强丛华车冉房边辜吉饶刁瞿戚丘古米池滕晋苑邬臧畅宫来嵺苟全褚廉简娄盖符奚木穆党燕郎邸冀谈姬屠连郜晏栾郁商蒙计喻揭窦迟宇敖糜鄢冷卓花艾蓝都巩稽井练仲乐虞卞封竺冼原官衣楚佟栗匡宗应台巫鞠僧桑荆谌银扬明沙薄伏岑习胥保和蔺水云昌凤酆常皮康元平萧湛禹无贝茅麻危骆支咎经裘缪干宣贲杭诸钮嵇滑荣荀羊於惠家芮羿储汲邴松富乌巴弓牧隗山宓蓬郗班仰秋伊仇暴钭厉戎祖束幸韶蓟印宿怀蒲鄂索咸籍赖乔阴能苍双闻莘贡逢扶堵宰郦雍却璩濮寿通扈郏浦尚农别阎充慕茹宦鱼容易慎戈庚终暨居衡步满弘国文寇广禄阙东殳沃利蔚越夔隆师厍晁勾融訾阚那空毋乜养须丰巢蒯相后红权逯盖益桓公晓明华国建伟芳娜敏静丽强磊军洋勇艳杰娟涛超秀霞平刚桂英"
CYRILLIC = "АБВГДЕЁЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЫЬЭЮЯабвгдеёжзийклмнопрстуфхцчшщъыьэюя"
LATIN = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def decode_all(images: dict[str, bytes], tmp_path: Path) -> dict[str, list[str]]:
    """What zbar reads in each image (name → texts), with one run of ``zbarimg`` for them all."""
    assert ZBAR, "zbarimg is missing: apt-get install zbar-tools (scripts/ensure-chromium.sh does)"
    paths = {}
    for name, data in images.items():
        path = tmp_path / f"{name}.png"
        path.write_bytes(data)
        paths[str(path)] = name
    result = subprocess.run(
        [ZBAR, "--xml", "-q", "--set", "*.enable=0", "--set", "qrcode.enable=1", *paths],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    found: dict[str, list[str]] = {name: [] for name in images}
    root = ET.fromstring(result.stdout)  # noqa: S314 - zbar's output on our own images
    ns = {"z": "http://zbar.sourceforge.net/2008/barcode"}
    for source in root.findall("z:source", ns):
        name = paths[source.get("href")]
        found[name] = [(d.text or "") for d in source.iterfind(".//z:data", ns)]
    return found


def random_code(rng: random.Random, private: bytes) -> str:
    first = dt.date(2027, 1, 1) + dt.timedelta(days=rng.randrange(365))
    claims = codes.Claims(
        event_id=rng.randrange(1, 2**31),
        key_id=rng.randrange(16),
        serial=rng.randbytes(12),
        kind=rng.choice(codes.KINDS),
        type_number=rng.randrange(1, 65536),
        valid_from=first,
        valid_until=first + dt.timedelta(days=rng.randrange(30)),
    )
    return codes.encode(claims, private)


def name(rng: random.Random, letters: str, low: int, high: int) -> str:
    return "".join(rng.choice(letters) for _ in range(rng.randint(low, high)))


def test_the_symbol_is_qrcodes_own_module_for_module():
    """The fast path (alphanumeric text, versions 1–11) against ``qrcode`` with its own mask choice,
    and the slow path (other text) through ``qrcode`` itself."""
    rng = random.Random(SEED)
    private, _ = codes.new_key()
    texts = [random_code(rng, private) for _ in range(8)]
    texts += [name(rng, render.ALPHANUMERIC, 1, 330) for _ in range(20)]
    texts += ["/scan#device=pdv_" + name(rng, LATIN, 20, 40), "王小明"]
    for text in texts:
        q = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=0)
        q.add_data(text)
        q.make(fit=True)
        expected = np.array(q.get_matrix(), dtype=bool)
        got = render.qr_matrix(text)
        assert got.shape == expected.shape, text
        assert (got == expected).all(), text


def test_ticket_codes_are_version_6():
    private, _ = codes.new_key()
    code = random_code(random.Random(SEED), private)
    assert render.qr_matrix(code).shape == (41, 41)


def test_every_rendered_image_decodes_to_its_text(tmp_path):
    """QR PNGs at random scales and badges (A6 and label) with random names in three scripts,
    institutions and band colours: zbar reads back exactly the code each one carries."""
    rng = random.Random(SEED + 1)
    private, _ = codes.new_key()
    images, expected = {}, {}
    for i in range(15):
        text = random_code(rng, private) if i % 3 else name(rng, render.ALPHANUMERIC.replace(" ", ""), 1, 200)
        images[f"qr{i}"] = render.qr_png(text, scale=rng.randint(2, 10))
        expected[f"qr{i}"] = text
    images["qr-link"] = render.qr_png("https://podium.example/scan#device=pdv_Ab9-x_", scale=4)
    expected["qr-link"] = "https://podium.example/scan#device=pdv_Ab9-x_"
    for i in range(6):
        code = random_code(rng, private)
        letters = rng.choice((CHINESE, CYRILLIC, LATIN))
        data = render.BadgeData(
            name_native=name(rng, letters, 2, 40),
            name_latin=name(rng, LATIN, 3, 60),
            institution=name(rng, rng.choice((CHINESE, CYRILLIC, LATIN)), 0, 80),
            type_name=name(rng, letters, 1, 30),
            kind=rng.choice(codes.KINDS),
            colour=f"#{rng.randrange(1 << 24):06x}",
            event_name=name(rng, letters, 1, 90),
            code=code,
        )
        fmt = "a6" if i % 2 else "label"
        images[f"badge{i}"] = render.badge_png(data, fmt)
        expected[f"badge{i}"] = code
        size = Image.open(io.BytesIO(images[f"badge{i}"])).size
        assert size == ((1240, 1748) if fmt == "a6" else (1200, 900))
    assert decode_all(images, tmp_path) == {k: [v] for k, v in expected.items()}


def test_chinese_and_cyrillic_names_are_drawn_with_glyphs():
    rng = random.Random(SEED + 2)
    for _ in range(20):
        text = name(rng, CHINESE, 2, 12) + " " + name(rng, CYRILLIC, 2, 12) + " " + name(rng, LATIN, 2, 12)
        assert render.missing_glyphs(text) == []
    assert render.missing_glyphs("王\U0010fffdИ") == ["\U0010fffd"]  # the check sees a box when there is one


def test_the_names_are_on_the_badge():
    """Two badges that differ only in the name differ in the name's area, and a badge's name area is
    not blank: the text is drawn, in black, where the names go."""
    private, _ = codes.new_key()
    code = random_code(random.Random(SEED + 3), private)
    base = render.BadgeData(
        "王小明", "Wang Xiaoming", "清华大学", "观众 · Visitor", "visitor", "#d73a49", "招聘会", code
    )
    one, _ = render.badge_indices(base)
    other, _ = render.badge_indices(render.BadgeData(**{**base.__dict__, "name_native": "Иван Петров"}))
    left, top, right, _ = render.PAGES["a6"].text_box
    area = (slice(top, top + 170), slice(left, right))
    assert (one[area] == 1).sum() > 2000
    assert (one[area] != other[area]).sum() > 2000
    band = render.PAGES["a6"].band
    assert set(np.unique(one[:band])) == {2, 3}  # the band and the words on it


def test_a_missing_cjk_font_is_a_clear_error(monkeypatch):
    def missing():
        raise FontMissing("No font for Chinese text is installed: install the package fonts-noto-cjk")

    monkeypatch.setattr(render, "cjk_font", missing)
    render._font.cache_clear()
    render._template.cache_clear()
    try:
        private, _ = codes.new_key()
        code = random_code(random.Random(SEED + 4), private)
        with pytest.raises(FontMissing, match="fonts-noto-cjk"):
            render.badge_png(render.BadgeData("王", "", "", "Guest", "guest", "#000000", "Event", code))
    finally:
        render._font.cache_clear()
        render._template.cache_clear()


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="scale"):
        render.qr_png("A", scale=0)
    with pytest.raises(ValueError, match="a6"):
        render.badge_png(render.BadgeData("a", "", "", "", "guest", "#000000", "", "A"), "a4")  # type: ignore[arg-type]
