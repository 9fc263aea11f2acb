"""The demo: a cross-border e-commerce challenge (3 tracks, school → province → national,
300 teams registered through the team service, 30 judges), an international forum with 6 sessions,
a recruitment fair with 40 companies, and a draft training. Every object is found by a natural key
before it is created, so loading twice changes nothing."""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from backend import tasks
from backend.accounts import passwords
from backend.accounts.tables import Profile, Role, RoleGrant, StudyStatus, User
from backend.db import transaction
from backend.demo.incubator import PEOPLE as INCUBATOR_PEOPLE
from backend.demo.incubator import load_incubator
from backend.demo.judging import load_judging
from backend.demo.ticketing import load_ticketing
from backend.events.tables import Event, EventKind, EventSession, EventStatus, Stage, StageLevel, Track
from backend.institutions.service import import_institutions, parse_csv
from backend.institutions.tables import Institution, InstitutionKind
from backend.organizations.tables import Organization, OrganizationKind
from backend.policy import Principal
from backend.settings import get_settings
from backend.teams import materials, review, service
from backend.teams.review import ReviewIn
from backend.teams.rules import RulesIn
from backend.teams.schemas import ImportedTeam, JoinIn
from backend.teams.tables import MaterialKind, RegistrationRules, Team

DEMO_PASSWORD = "podium-demo"  # noqa: S105 - published demo credentials
DEMO_LOGINS = {
    "platform admin": "admin@podium.example",
    "organization admin": "alliance@podium.example",
    "organizer": "organizer@podium.example",
    "judge": "judge@podium.example",
    "check-in staff": "checkin@podium.example",
    "team leader": "leader@podium.example",
    "school admin": "school@podium.example",
}
CST = ZoneInfo("Asia/Shanghai")

ORGANIZATION = {
    "slug": "cbec-alliance",
    "kind": OrganizationKind.alliance.value,
    "name_zh": "跨境电子商务产教融合联盟",
    "name_en": "Cross-Border E-Commerce Education–Industry Alliance",
    "name_ru": "Альянс образования и индустрии трансграничной электронной торговли",
}
ProgressFactory = Callable[[str, int], Callable[[int], None]]

CONTEST = {
    "slug": "cbec-challenge-2027",
    "kind": EventKind.contest.value,
    "name_zh": "第十七届全国大学生电子商务“创新、创意及创业”挑战赛 · 跨境电商赛道",
    "name_en": "17th National College E-Commerce Innovation, Creativity and Entrepreneurship Challenge: Cross-Border Track",
    "name_ru": "17-й национальный студенческий конкурс «Инновации, креатив, предпринимательство» в электронной коммерции: трансграничное направление",
    "edition_zh": "第十七届（2027年）",
    "edition_en": "17th (2027)",
    "edition_ru": "17-й (2027)",
    "venue_zh": "杭州国际博览中心",
    "venue_en": "Hangzhou International Expo Center",
    "venue_ru": "Ханчжоуский международный выставочный центр",
    "description_zh": "面向全国高校学生的跨境电商创新创业赛事：校赛、省赛、全国总决赛三级晋级，总决赛在杭州现场路演答辩。",
    "description_en": "A national contest for college students' cross-border e-commerce ventures: teams advance from the school round through the provincial round to the national final, pitched live in Hangzhou.",
    "description_ru": "Национальный конкурс студенческих проектов в трансграничной электронной коммерции: команды проходят вузовский и региональный этапы, финал — очная защита в Ханчжоу.",
    "starts_on": dt.date(2027, 3, 1),
    "ends_on": dt.date(2027, 7, 25),
    "time_zone": "Asia/Shanghai",
}
TRACKS = [
    ("CBEC-B2C", "跨境零售（B2C）", "Cross-border retail (B2C)", "Трансграничная розница (B2C)"),
    (
        "CBEC-B2B",
        "跨境贸易数字化（B2B）",
        "Digital cross-border trade (B2B)",
        "Цифровая внешняя торговля (B2B)",
    ),
    ("CBEC-SERVICE", "跨境电商服务与物流", "Cross-border services and logistics", "Сервисы и логистика"),
]
STAGES = [
    (
        StageLevel.school,
        "校赛",
        "School round",
        "Вузовский этап",
        dt.datetime(2027, 3, 31, 18, tzinfo=CST),
        dt.datetime(2027, 4, 10, 18, tzinfo=CST),
    ),
    (
        StageLevel.province,
        "省赛",
        "Provincial round",
        "Региональный этап",
        dt.datetime(2027, 5, 10, 18, tzinfo=CST),
        dt.datetime(2027, 5, 25, 18, tzinfo=CST),
    ),
    (
        StageLevel.national,
        "全国总决赛",
        "National final",
        "Национальный финал",
        dt.datetime(2027, 7, 10, 18, tzinfo=CST),
        dt.datetime(2027, 7, 24, 18, tzinfo=CST),
    ),
]
FORUM = {
    "slug": "china-asean-cbec-forum-2027",
    "kind": EventKind.forum.value,
    "name_zh": "中国—东盟教育交流周 · 跨境电商人才培养国际论坛",
    "name_en": "China–ASEAN Education Week: International Forum on Cross-Border E-Commerce Talent",
    "name_ru": "Неделя образования Китай–АСЕАН: международный форум по подготовке кадров для трансграничной электронной коммерции",
    "edition_zh": "2027年",
    "edition_en": "2027",
    "edition_ru": "2027",
    "venue_zh": "贵阳国际生态会议中心",
    "venue_en": "Guiyang International Eco-Conference Center",
    "venue_ru": "Гуйянский международный экологический конференц-центр",
    "description_zh": "院校、企业与东盟伙伴共商跨境电商人才培养：主旨演讲、合作签约与三场分论坛。",
    "description_en": "Universities, companies and ASEAN partners on training cross-border e-commerce talent: keynotes, agreement signings and three parallel sessions.",
    "description_ru": "Вузы, компании и партнёры из стран АСЕАН о подготовке кадров для трансграничной электронной коммерции: пленарные доклады, подписание соглашений и три секции.",
    "starts_on": dt.date(2027, 8, 24),
    "ends_on": dt.date(2027, 8, 25),
    "time_zone": "Asia/Shanghai",
}
FORUM_SESSIONS = [
    (
        "开幕式暨主旨演讲",
        "Opening ceremony and keynotes",
        "Открытие и пленарные доклады",
        "Hall A",
        (24, 9, 0),
        (24, 10, 30),
        600,
    ),
    (
        "产教融合合作协议签约仪式",
        "Signing ceremony of industry–education agreements",
        "Церемония подписания соглашений",
        "Hall A",
        (24, 10, 45),
        (24, 11, 30),
        600,
    ),
    (
        "分论坛一：跨境电商课程共建",
        "Parallel session 1: co-building cross-border curricula",
        "Секция 1: совместные учебные программы",
        "Room 201",
        (24, 14, 0),
        (24, 17, 0),
        150,
    ),
    (
        "分论坛二：海外仓与数字物流",
        "Parallel session 2: overseas warehouses and digital logistics",
        "Секция 2: зарубежные склады и цифровая логистика",
        "Room 202",
        (24, 14, 0),
        (24, 17, 0),
        150,
    ),
    (
        "分论坛三：东盟市场直播电商",
        "Parallel session 3: live commerce for ASEAN markets",
        "Секция 3: live-commerce на рынках АСЕАН",
        "Room 203",
        (25, 9, 0),
        (25, 12, 0),
        120,
    ),
    (
        "圆桌：青年创业与孵化",
        "Round table: youth entrepreneurship and incubation",
        "Круглый стол: молодёжное предпринимательство",
        "Hall B",
        (25, 14, 0),
        (25, 16, 0),
        200,
    ),
]
FAIR = {
    "slug": "e-landing-careers-hangzhou-2027",
    "kind": EventKind.fair.value,
    "name_zh": "“E路出海 · 职等你来”跨境电商专场招聘会（杭州站）",
    "name_en": "E-Landing the World · Careers with You: Cross-Border E-Commerce Recruitment Fair (Hangzhou)",
    "name_ru": "«E-Landing the World»: ярмарка вакансий трансграничной электронной коммерции (Ханчжоу)",
    "edition_zh": "第三期（2027年春季）",
    "edition_en": "Session 3 (spring 2027)",
    "edition_ru": "3-я сессия (весна 2027)",
    "venue_zh": "浙江工商大学下沙校区体育馆",
    "venue_en": "Zhejiang Gongshang University, Xiasha Campus Gymnasium",
    "venue_ru": "Чжэцзянский университет промышленности и торговли, спортзал кампуса Сяша",
    "description_zh": "40家跨境电商企业现场招聘：运营、物流、数字营销与海外仓岗位。",
    "description_en": "40 cross-border e-commerce companies hiring on site: operations, logistics, digital marketing and overseas warehousing.",
    "description_ru": "40 компаний трансграничной электронной коммерции проводят собеседования на месте: операции, логистика, цифровой маркетинг и зарубежные склады.",
    "starts_on": dt.date(2027, 4, 17),
    "ends_on": dt.date(2027, 4, 17),
    "time_zone": "Asia/Shanghai",
}
FAIR_SESSIONS = [
    ("上午场", "Morning session", "Утренняя сессия", "Gymnasium", (17, 9, 0), (17, 12, 0), 4000),
    ("下午场", "Afternoon session", "Дневная сессия", "Gymnasium", (17, 13, 30), (17, 16, 30), 4000),
]
TRAINING = {
    "slug": "cbec-teacher-training-2027",
    "kind": EventKind.training.value,
    "name_zh": "跨境电商师资培训班",
    "name_en": "Cross-Border E-Commerce Teacher Training",
    "name_ru": "Курсы повышения квалификации преподавателей",
    "edition_zh": "2027年",
    "edition_en": "2027",
    "edition_ru": "2027",
    "venue_zh": "浙江国际商务培训中心",
    "venue_en": "Zhejiang International Business Training Center",
    "venue_ru": "Чжэцзянский международный центр бизнес-обучения",
    "description_zh": "为期五天的跨境电商课程教师面授培训，按场次签到。",
    "description_en": "Five days of on-site training for teachers of cross-border e-commerce courses, attendance taken per session.",
    "description_ru": "Пятидневные очные курсы для преподавателей дисциплин по трансграничной электронной коммерции, посещаемость по занятиям.",
    "starts_on": dt.date(2027, 9, 6),
    "ends_on": dt.date(2027, 9, 10),
    "time_zone": "Asia/Shanghai",
}
# The training's ten sessions: mornings and afternoons of its five days, in one room.
TRAINING_SESSIONS = [
    (
        "跨境电商平台规则与选品",
        "Platforms, their rules and product selection",
        "Платформы, их правила и выбор товаров",
        "Room 301",
        (6, 9, 0),
        (6, 12, 0),
        60,
    ),
    (
        "跨境电商课程设计",
        "Designing a cross-border e-commerce course",
        "Проектирование учебного курса",
        "Room 301",
        (6, 14, 0),
        (6, 17, 0),
        60,
    ),
    (
        "海外营销与社交媒体",
        "Marketing abroad and social media",
        "Зарубежный маркетинг и соцсети",
        "Room 301",
        (7, 9, 0),
        (7, 12, 0),
        60,
    ),
    (
        "直播电商实训",
        "Live-commerce workshop",
        "Практикум по live-commerce",
        "Room 301",
        (7, 14, 0),
        (7, 17, 0),
        60,
    ),
    (
        "跨境物流与海外仓",
        "Logistics and overseas warehouses",
        "Логистика и зарубежные склады",
        "Room 301",
        (8, 9, 0),
        (8, 12, 0),
        60,
    ),
    ("企业参访", "Company visit", "Визит в компанию", "Room 301", (8, 14, 0), (8, 17, 0), 60),
    (
        "跨境支付与合规",
        "Payments and compliance",
        "Платежи и соответствие требованиям",
        "Room 301",
        (9, 9, 0),
        (9, 12, 0),
        60,
    ),
    (
        "大赛指导经验分享",
        "Coaching teams for contests",
        "Подготовка команд к конкурсам",
        "Room 301",
        (9, 14, 0),
        (9, 17, 0),
        60,
    ),
    (
        "教学案例展示",
        "Teaching case presentations",
        "Презентация учебных кейсов",
        "Room 301",
        (10, 9, 0),
        (10, 12, 0),
        60,
    ),
    ("结业考核", "Final assessment", "Итоговая аттестация", "Room 301", (10, 14, 0), (10, 17, 0), 60),
]
# Descriptions (zh, en, ru) of tracks by code, stages by level and sessions by English title.
TRACK_DESCRIPTIONS = {
    "CBEC-B2C": (
        "面向海外消费者的店铺、品牌与独立站项目。",
        "Shops, brands and direct-to-consumer sites selling to consumers abroad.",
        "Магазины, бренды и собственные сайты для покупателей за рубежом.",
    ),
    "CBEC-B2B": (
        "外贸企业的数字化获客、交易与供应链项目。",
        "Digital sourcing, sales and supply chains for trading companies.",
        "Цифровые продажи, закупки и цепочки поставок для внешнеторговых компаний.",
    ),
    "CBEC-SERVICE": (
        "支付、物流、海外仓与合规等跨境服务项目。",
        "Payments, logistics, overseas warehousing, compliance and other services.",
        "Платежи, логистика, зарубежные склады, соответствие требованиям и другие сервисы.",
    ),
}
STAGE_DESCRIPTIONS = {
    StageLevel.school: (
        "网络评审：评委在线评阅项目计划书，各校按配额向省赛推荐团队。",
        "Online review of the written business plans; schools recommend their teams to the province under quotas.",
        "Онлайн-оценка бизнес-планов; вузы рекомендуют команды в региональный тур по квотам.",
    ),
    StageLevel.province: (
        "省赛现场决赛：三个赛场路演与答辩，去掉最高分和最低分。",
        "Live final in three rooms: pitch and questions, highest and lowest marks dropped.",
        "Очный финал в трёх залах: презентация и вопросы, высшая и низшая оценки отбрасываются.",
    ),
    StageLevel.national: (
        "现场路演与答辩。",
        "Live pitches and questions from the judges.",
        "Очная презентация и ответы на вопросы жюри.",
    ),
}
SESSION_DESCRIPTIONS = {
    "Opening ceremony and keynotes": (
        "联盟理事长致辞，院校与企业嘉宾主旨演讲。",
        "Welcome by the alliance's chair, then keynotes from universities and industry.",
        "Приветствие председателя альянса и пленарные доклады представителей вузов и компаний.",
    ),
    "Parallel session 2: overseas warehouses and digital logistics": (
        "海外仓运营与数字物流的实践案例。",
        "Case studies from overseas warehouse operators and digital logistics.",
        "Практические кейсы зарубежных складов и цифровой логистики.",
    ),
    "Morning session": (
        "运营与营销岗位。",
        "Operations and marketing positions.",
        "Вакансии в операционной деятельности и маркетинге.",
    ),
    "Afternoon session": (
        "物流与海外仓岗位。",
        "Logistics and overseas warehousing positions.",
        "Вакансии в логистике и на зарубежных складах.",
    ),
}


def _description(texts: tuple[str, str, str] | None) -> dict[str, str]:
    """``description_zh/en/ru`` from (zh, en, ru), or nothing."""
    if texts is None:
        return {}
    return dict(zip(("description_zh", "description_en", "description_ru"), texts, strict=True))


COMPANY_CITIES = ["Hangzhou", "Yiwu", "Ningbo", "Shenzhen", "Guangzhou", "Xiamen", "Shanghai", "Suzhou"]
COMPANY_KINDS = [
    ("跨境电商", "Cross-Border E-Commerce"),
    ("供应链管理", "Supply Chain Management"),
    ("国际物流", "International Logistics"),
    ("数字营销", "Digital Marketing"),
    ("海外仓储", "Overseas Warehousing"),
]
COMPANY_CITY_ZH = {
    "Hangzhou": "杭州",
    "Yiwu": "义乌",
    "Ningbo": "宁波",
    "Shenzhen": "深圳",
    "Guangzhou": "广州",
    "Xiamen": "厦门",
    "Shanghai": "上海",
    "Suzhou": "苏州",
}
COMPANY_BRANDS = ["丝路", "云帆", "海星", "启航", "锦程"]
COMPANY_BRANDS_EN = ["Silk Road", "Cloud Sail", "Sea Star", "Qihang", "Jincheng"]


def _companies() -> list[dict[str, str]]:
    """40 fair exhibitors: five brands × eight cities, each with a line of business."""
    rows = []
    for b, (brand_zh, brand_en) in enumerate(zip(COMPANY_BRANDS, COMPANY_BRANDS_EN, strict=True)):
        for c, city in enumerate(COMPANY_CITIES):
            kind_zh, kind_en = COMPANY_KINDS[(b + c) % len(COMPANY_KINDS)]
            rows.append(
                {
                    "name_zh": f"{COMPANY_CITY_ZH[city]}{brand_zh}{kind_zh}有限公司",
                    "name_en": f"{city} {brand_en} {kind_en} Co., Ltd.",
                    "kind": InstitutionKind.enterprise.value,
                    "country": "CN",
                    "region": city,
                }
            )
    return rows


async def _organization() -> int:
    row = await Organization.select(Organization.id).where(Organization.slug == ORGANIZATION["slug"]).first()
    if row:
        return row["id"]
    organization = Organization(**ORGANIZATION)
    await organization.save()
    return organization.id


async def _event(values: dict[str, Any], status: EventStatus, organization_id: int) -> int:
    row = await Event.select(Event.id).where(Event.slug == values["slug"]).first()
    if row:
        return row["id"]
    event = Event(**values, organization=organization_id, status=status.value)
    await event.save()
    return event.id


async def _sessions(event_id: int, event: dict[str, Any], sessions: list[tuple]) -> None:
    have = {
        r["title_en"]
        for r in await EventSession.select(EventSession.title_en).where(EventSession.event == event_id)
    }
    year, month = event["starts_on"].year, event["starts_on"].month
    for zh, en, ru, room, start, end, capacity in sessions:
        if en in have:
            continue
        await EventSession.insert(
            EventSession(
                event=event_id,
                title_zh=zh,
                title_en=en,
                title_ru=ru,
                room=room,
                capacity=capacity,
                **_description(SESSION_DESCRIPTIONS.get(en)),
                starts_at=dt.datetime(year, month, start[0], start[1], start[2], tzinfo=CST),
                ends_at=dt.datetime(year, month, end[0], end[1], end[2], tzinfo=CST),
            )
        )


async def _users(people: list[dict[str, Any]], password_hash: str) -> dict[str, int]:
    emails = [p["email"] for p in people]
    have = {
        r["email"]: r["id"] for r in await User.select(User.id, User.email).where(User.email.is_in(emails))
    }
    new = [
        User.account(
            p["email"],
            password_hash,
            p["display_name"],
            p.get("locale", "zh"),
            platform_admin=p.get("admin", False),
        )
        for p in people
        if p["email"] not in have
    ]
    if new:
        await User.insert(*new)
        have = {
            r["email"]: r["id"]
            for r in await User.select(User.id, User.email).where(User.email.is_in(emails))
        }
    return have


async def _grants(grants: list[dict[str, Any]]) -> None:
    def key(g: dict[str, Any]) -> tuple:
        return (
            g["user"],
            g["role"],
            g.get("event"),
            g.get("organization"),
            g.get("track"),
            g.get("institution"),
        )

    existing = {
        key(r)
        for r in await RoleGrant.select(
            RoleGrant.user,
            RoleGrant.role,
            RoleGrant.event,
            RoleGrant.organization,
            RoleGrant.track,
            RoleGrant.institution,
        )
    }
    new = [RoleGrant(**g) for g in grants if key(g) not in existing]
    if new:
        await RoleGrant.insert(*new)


TEAM_WORDS = ["丝路", "云帆", "海星", "启航", "锦程", "远洋", "星火", "青禾", "鲲鹏", "蓝海"]
ENTRY_TITLES = [
    "东南亚直播电商选品平台",
    "海外仓智能补货系统",
    "非遗手工艺品出海品牌",
    "跨境物流时效预测工具",
    "中小外贸企业数字化获客",
    "俄语区独立站运营服务",
    "跨境支付合规助手",
    "农产品跨境供应链平台",
]
SUMMARY = (
    "我们的项目面向{market}市场，以数据驱动选品与本地化运营，已完成小规模试销。\n"
    "Our venture serves the {market} market with data-driven sourcing and local operations; a small "
    "pilot has sold out."
)
MARKETS = ["Southeast Asia", "Central Asia", "Russia", "the Middle East", "Latin America", "Europe"]
ADVISORS = 150  # university advisors: each the first advisor of two teams
MENTORS = 25  # enterprise advisors: each the second advisor of four teams
TEAMS_PER_TRANSACTION = 20


def _team_plan(i: int) -> dict[str, Any]:
    """What team ``i`` (0..299) looks like: members by e-mail, advisors, and its fate. A few stay
    incomplete (a member invited without an account yet, and a join request), a few withdraw; a
    third are approved; every fourth has uploaded a business plan and a summary."""
    incomplete, withdrawn = i % 25 == 7, i % 50 == 13
    members = [f"student{i:03d}{k}@podium.example" for k in "abc"[: 2 + i % 2]]
    if incomplete:
        members = [members[0], f"invitee{i:03d}@podium.example"]
    advisors = [(f"advisor{i // 2:03d}@podium.example", "university_advisor")]
    if i % 3 == 1:
        advisors.append((f"mentor{i // 12:02d}@podium.example", "enterprise_advisor"))
    return {
        "members": members,
        "advisors": advisors,
        "joiner": f"joiner{i:03d}@podium.example" if incomplete else None,
        "withdrawn": withdrawn,
        "approved": not (incomplete or withdrawn) and i % 3 == 0,
        "materials": not (incomplete or withdrawn) and i % 4 == 0,
    }


def _pdf(text: str) -> bytes:
    """A one-page PDF showing ``text`` (ASCII), small and valid enough for the upload's checks."""
    content = f"BT /F1 20 Tf 72 760 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for n, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (n, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


async def _chunks(data: bytes):
    yield data


def _team_people(
    leaders: list[dict[str, Any]], universities: list[dict[str, Any]], company_ids: list[int]
) -> list[dict[str, Any]]:
    """The teams' members, join requesters and advisors, with profiles (the leaders' are added to
    ``leaders``): students at their leader's institution, advisors at a university, mentors at a
    company of the directory."""
    people = []
    for i, leader in enumerate(leaders):
        university = universities[(3 * i + 1) % len(universities)]
        plan = _team_plan(i)
        students = [leader["email"], *plan["members"], *([plan["joiner"]] if plan["joiner"] else [])]
        for k, email in enumerate(students):
            profile = {
                "name_native": leader["display_name"] if k == 0 else f"学生 {i + 1:03d}-{k}",
                "name_latin": f"Student {i + 1:03d}-{k}",
                "institution": university["id"],
                "study_status": StudyStatus.student.value,
                "graduation_year": 2027 + (i + k) % 3,
                "birth_date": dt.date(2003 + (i + k) % 4, 1 + (i + k) % 12, 1 + (i * 7 + k) % 28),
                "country": university["country"],
            }
            if k == 0:
                leader["profile"] = profile
            elif not email.startswith("invitee"):  # invited, with no account yet
                person = {"email": email, "display_name": profile["name_latin"], "locale": leader["locale"]}
                people.append(person | {"profile": profile})
    for j in range(ADVISORS):
        university = universities[(6 * j + 1) % len(universities)]
        profile = {"institution": university["id"], "study_status": StudyStatus.teacher.value}
        profile |= {"name_latin": f"Advisor {j:03d}", "country": university["country"]}
        people.append(
            {
                "email": f"advisor{j:03d}@podium.example",
                "display_name": f"Prof. Advisor {j:03d}",
                "profile": profile,
            }
        )
    for j in range(MENTORS):
        profile = {
            "institution": company_ids[j % len(company_ids)],
            "study_status": StudyStatus.professional.value,
        }
        profile |= {"name_latin": f"Mentor {j:02d}", "country": "CN"}
        people.append(
            {"email": f"mentor{j:02d}@podium.example", "display_name": f"Mentor {j:02d}", "profile": profile}
        )
    return people


class _OutboxLater:
    """The demo's mails stay in the outbox while it loads: the app's sweep (or the worker's flush)
    delivers them once Podium runs, instead of a delivery job per mail during the load."""

    async def enqueue(self, name: str, *args: Any, job_id: str | None = None) -> None:
        return None

    async def close(self) -> None:
        return None


def _principal(user_id: int, email: str) -> Principal:
    return Principal(
        id=user_id, email=email, display_name=email, locale="zh", is_platform_admin=False, via="cli"
    )


async def _profiles(ids: dict[str, int], people: list[dict[str, Any]]) -> None:
    """Profiles (institution, status, birth date...) for the people that have none yet."""
    have = {r["user"] for r in await Profile.select(Profile.user)}
    new = [
        Profile(user=ids[p["email"]], **p["profile"])
        for p in people
        if "profile" in p and ids[p["email"]] not in have
    ]
    if new:
        await Profile.insert(*new)


async def _registration_rules(contest_id: int, organizer: Principal) -> None:
    """The contest asks for approval, and registration closes before the school round."""
    if await RegistrationRules.exists().where(RegistrationRules.event == contest_id):
        return
    rules = RulesIn(
        approval_required=True,
        registration_opens_at=dt.datetime(2026, 11, 1, 0, tzinfo=CST),
        registration_closes_at=dt.datetime(2027, 3, 20, 18, tzinfo=CST),
    )
    await service.set_rules(organizer, contest_id, None, rules)


async def _team(i: int, leader: dict[str, Any], ids: dict[str, int], context: dict[str, Any]) -> None:
    """Register team ``i`` as :func:`_team_plan` says, in the caller's transaction."""
    plan, organizer = _team_plan(i), context["organizer"]
    lead = _principal(ids[leader["email"]], leader["email"])
    team_id = await service.import_team(
        organizer,
        context["contest"],
        ImportedTeam(
            track_id=context["tracks"][i % len(context["tracks"])],
            name=f"{TEAM_WORDS[i % len(TEAM_WORDS)]}{i + 1:03d}",
            entry_title=ENTRY_TITLES[i % len(ENTRY_TITLES)],
            leader_email=leader["email"],
            institution_id=leader["profile"]["institution"],
            member_emails=plan["members"],
            advisors=plan["advisors"],
            locale=leader["locale"],
        ),
    )
    if plan["joiner"]:
        code = (await Team.select(Team.join_code).where(Team.id == team_id).first())["join_code"]
        await service.join_by_code(_principal(ids[plan["joiner"]], plan["joiner"]), JoinIn(code=code))
    if plan["withdrawn"]:
        await service.withdraw(lead, team_id)
    if plan["materials"]:
        school = context["school_stage"]
        access = await materials.submittable(lead, team_id, school)
        data = _pdf(f"Business plan of team {i + 1:03d}")
        await materials.submit_file(
            lead, access, school, MaterialKind.business_plan, "business-plan.pdf", _chunks(data)
        )
        await materials.submit_summary(lead, access, school, SUMMARY.format(market=MARKETS[i % len(MARKETS)]))
    if plan["approved"]:
        await review.review_team(organizer, team_id, ReviewIn(decision="approve"), context["base_url"])


async def _teams(
    contest_id: int, tracks: list[int], ids: dict[str, int], leaders: list[dict[str, Any]], step: Callable
) -> None:
    """The contest's 300 teams, through the team service (the organizers' import: the people's
    seats confirmed at once; then join requests, withdrawals, uploads and approvals as their
    leaders and the organizer would make them), :data:`TEAMS_PER_TRANSACTION` teams per
    transaction (SQLite pays for each commit). Teams whose leader already leads one are skipped, so
    a second load changes nothing."""
    organizer = _principal(ids[DEMO_LOGINS["organizer"]], DEMO_LOGINS["organizer"])
    await _registration_rules(contest_id, organizer)
    school = (
        await Stage.select(Stage.id)
        .where((Stage.event == contest_id) & (Stage.level == StageLevel.school.value))
        .first()
    )["id"]
    context = {
        "organizer": organizer,
        "contest": contest_id,
        "tracks": tracks,
        "school_stage": school,
        "base_url": get_settings().base_url,
    }
    done = {r["leader"] for r in await Team.select(Team.leader).where(Team.event == contest_id)}
    todo = [(i, leader) for i, leader in enumerate(leaders) if ids[leader["email"]] not in done]
    step(len(leaders) - len(todo))
    previous = tasks.install(_OutboxLater())
    try:
        for start in range(0, len(todo), TEAMS_PER_TRANSACTION):
            async with transaction():
                for i, leader in todo[start : start + TEAMS_PER_TRANSACTION]:
                    await _team(i, leader, ids, context)
            step(len(leaders) - len(todo) + min(start + TEAMS_PER_TRANSACTION, len(todo)))
    finally:
        tasks.install(previous)


async def load_demo(progress: ProgressFactory | None = None) -> dict[str, int]:
    """Load (or complete) the demo; returns the ids of the demo events."""
    rng = random.Random(2027)
    items = parse_csv((Path(__file__).parent / "institutions.csv").read_text(encoding="utf-8"))
    await import_institutions(items, progress=progress("Institutions", len(items)) if progress else None)
    companies = parse_csv(
        "name_zh,name_en,kind,country,region\n"
        + "\n".join(
            ",".join(f'"{c[k]}"' for k in ("name_zh", "name_en", "kind", "country", "region"))
            for c in _companies()
        )
    )
    await import_institutions(
        companies, progress=progress("Fair companies", len(companies)) if progress else None
    )
    step = progress("Events, accounts and roles", 5) if progress else (lambda _: None)

    async with transaction():
        organization_id = await _organization()
        contest_id = await _event(CONTEST, EventStatus.open, organization_id)
        if not await Track.exists().where(Track.event == contest_id):
            await Track.insert(
                *[
                    Track(
                        event=contest_id,
                        code=code,
                        name_zh=zh,
                        name_en=en,
                        name_ru=ru,
                        **_description(TRACK_DESCRIPTIONS.get(code)),
                        team_min=3,
                        team_max=5,
                        university_advisors_max=2,
                        enterprise_advisors_max=2,
                        entries_per_advisor_max=4,
                    )
                    for code, zh, en, ru in TRACKS
                ]
            )
        if not await Stage.exists().where(Stage.event == contest_id):
            await Stage.insert(
                *[
                    Stage(
                        event=contest_id,
                        position=i,
                        level=level.value,
                        name_zh=zh,
                        name_en=en,
                        name_ru=ru,
                        **_description(STAGE_DESCRIPTIONS.get(level)),
                        submission_deadline=sub,
                        judging_deadline=judge,
                    )
                    for i, (level, zh, en, ru, sub, judge) in enumerate(STAGES, 1)
                ]
            )
        forum_id = await _event(FORUM, EventStatus.open, organization_id)
        await _sessions(forum_id, FORUM, FORUM_SESSIONS)
        fair_id = await _event(FAIR, EventStatus.open, organization_id)
        await _sessions(fair_id, FAIR, FAIR_SESSIONS)
        training_id = await _event(TRAINING, EventStatus.draft, organization_id)
        await _sessions(training_id, TRAINING, TRAINING_SESSIONS)
    step(1)

    tracks = [
        r["id"] for r in await Track.select(Track.id).where(Track.event == contest_id).order_by(Track.id)
    ]
    universities = (
        await Institution.select(Institution.id, Institution.country)
        .where(
            Institution.kind.is_in(
                [InstitutionKind.university.value, InstitutionKind.vocational_college.value]
            )
        )
        .order_by(Institution.id)
    )
    company_ids = [
        r["id"]
        for r in await Institution.select(Institution.id)
        .where(Institution.kind == InstitutionKind.enterprise.value)
        .order_by(Institution.id)
    ]

    staff = [
        {
            "email": DEMO_LOGINS["platform admin"],
            "display_name": "Platform Admin · 平台管理员",
            "admin": True,
            "locale": "en",
        },
        {"email": DEMO_LOGINS["organization admin"], "display_name": "Zhang Wei · 张伟", "locale": "zh"},
        {"email": DEMO_LOGINS["organizer"], "display_name": "Li Na · 李娜", "locale": "zh"},
        {"email": DEMO_LOGINS["check-in staff"], "display_name": "Zhou Kai · 周凯", "locale": "zh"},
    ]
    judges = [{"email": DEMO_LOGINS["judge"], "display_name": "Prof. Wang Lei · 王磊", "locale": "zh"}] + [
        {
            "email": f"judge{i:02d}@podium.example",
            "display_name": f"Judge {i:02d}",
            "locale": rng.choice(["zh", "en", "ru"]),
        }
        for i in range(2, 31)
    ]
    leaders = [{"email": DEMO_LOGINS["team leader"], "display_name": "Chen Yu · 陈宇", "locale": "zh"}] + [
        {
            "email": f"team{i:03d}@podium.example",
            "display_name": f"Team {i:03d} leader",
            "locale": rng.choice(["zh", "zh", "en", "ru"]),
        }
        for i in range(2, 301)
    ]
    exhibitors = [
        {"email": f"booth{i:02d}@podium.example", "display_name": f"Exhibitor {i:02d}", "locale": "zh"}
        for i in range(1, 41)
    ]
    staff.append({"email": DEMO_LOGINS["school admin"], "display_name": "Wang Fang · 王芳", "locale": "zh"})
    team_people = _team_people(leaders, universities, company_ids)
    step(2)

    async with transaction():
        ids = await _users(
            staff + judges + leaders + exhibitors + team_people + INCUBATOR_PEOPLE,
            passwords.hash_password(DEMO_PASSWORD),
        )
        await _profiles(ids, leaders + team_people)
        step(3)
        organizer, checkin = ids[DEMO_LOGINS["organizer"]], ids[DEMO_LOGINS["check-in staff"]]
        # The alliance's head and the organizer both administer the alliance: either creates events.
        grants: list[dict[str, Any]] = [
            {"user": ids[DEMO_LOGINS[login]], "role": Role.org_admin.value, "organization": organization_id}
            for login in ("organization admin", "organizer")
        ]
        for event_id in (contest_id, forum_id, fair_id, training_id):
            grants.append({"user": organizer, "role": Role.organizer.value, "event": event_id})
        for event_id in (contest_id, forum_id, fair_id):
            grants.append({"user": checkin, "role": Role.checkin_staff.value, "event": event_id})
        for i, judge in enumerate(judges):
            inst = universities[(7 * i) % len(universities)]["id"]
            grants.append(
                {
                    "user": ids[judge["email"]],
                    "role": Role.judge.value,
                    "event": contest_id,
                    "track": tracks[i % len(tracks)],
                    "institution": inst,
                }
            )
        for i, leader in enumerate(leaders):
            inst = universities[(3 * i + 1) % len(universities)]["id"]
            grants.append(
                {
                    "user": ids[leader["email"]],
                    "role": Role.team_member.value,
                    "event": contest_id,
                    "track": tracks[i % len(tracks)],
                    "institution": inst,
                }
            )
        # A school admin: an organizer of the contest for the demo team leader's institution only.
        grants.append(
            {
                "user": ids[DEMO_LOGINS["school admin"]],
                "role": Role.organizer.value,
                "event": contest_id,
                "institution": leaders[0]["profile"]["institution"],
            }
        )
        for exhibitor, company in zip(exhibitors, company_ids, strict=False):
            grants.append(
                {
                    "user": ids[exhibitor["email"]],
                    "role": Role.exhibitor.value,
                    "event": fair_id,
                    "institution": company,
                }
            )
        await _grants(grants)
        step(4)
    step(5)
    team_step = progress("Teams", len(leaders)) if progress else (lambda _: None)
    await _teams(contest_id, tracks, ids, leaders, team_step)
    await load_judging(contest_id, ids, progress)
    events = {"contest": contest_id, "forum": forum_id, "fair": fair_id, "training": training_id}
    await load_ticketing(events, ids, progress)
    await load_incubator(events, ids, progress)
    return events
