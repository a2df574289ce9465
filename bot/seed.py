"""A believable district for the demo: its people, their roles, and a few weeks of wishes, hours and tips.

Everything is written through the same storage and rules functions the bot uses (role applications,
staff grants, the wish lifecycle, the tip lifecycle), so the seeded history has the events, audit
entries and reference numbers a real one would have. Times are set relative to the demo's "now", so
the district always looks recently active. The photos the seed refers to are sample images shipped with
the web chat; the demo registers them with the simulator under `SEED_PHOTOS`' fixed file ids at every
start, because the simulator keeps files only in memory.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncConnection

from rules import applications
from rules import tips as tip_rules
from rules import wishes as wish_rules
from rules.applications import ApplicationAction
from rules.roles import Role
from rules.tips import TipAction
from rules.wishes import Actor, WishDraft
from storage import activities, people, projects, staff, users, volunteers
from storage.db import Database
from storage.errors import NotFound
from storage.tips import MediaItem

# Fixed Telegram ids: the simulator's people and the seeded database must agree across restarts.
WANG_AYI = 7_000_001
XIAO_ZHOU = 7_000_002
ZHANG_JIZHE = 7_000_003
CHEN_ZHUREN = 7_000_004
LIU_BIANJI = 7_000_005
LI_DAYE = 7_000_011
ZHAO_APO = 7_000_012
SUN_XIAOMEI = 7_000_013
EMMA = 7_000_014
LAO_LI = 7_000_021
XIAO_LIN = 7_000_022
XIAO_WU = 7_000_023
LAO_QIAN = 7_000_024
XIAO_HE = 7_000_031

# Sample image name → the file id the seeded wishes and tips refer to.
SEED_PHOTOS: dict[str, str] = {
    "streetlight.jpg": "DEMO-PHOTO-streetlight",
    "river.jpg": "DEMO-PHOTO-river",
    "orchard.jpg": "DEMO-PHOTO-orchard",
    "clinic.jpg": "DEMO-PHOTO-clinic",
    "visit.jpg": "DEMO-PHOTO-visit",
}


@dataclass(frozen=True, slots=True)
class Resident:
    """Someone in the district: who they are in Telegram and what they do in the demo."""

    user_id: int
    name: str
    language: str  # Telegram language_code
    phone: str
    role: str  # what the page calls them: resident, volunteer, reporter, coordinator, editor
    on_page: bool = False  # has a chat pane when the page first opens
    location: tuple[float, float] = (31.2304, 121.4737)
    skills: tuple[str, ...] = field(default_factory=tuple)
    area: str | None = None


CAST: tuple[Resident, ...] = (
    Resident(WANG_AYI, "王阿姨", "zh-hans", "+86 138 0571 0001", "resident", True, (30.2741, 120.1551)),
    Resident(
        XIAO_ZHOU,
        "小周",
        "zh-hans",
        "+86 139 0571 0002",
        "volunteer",
        True,
        (30.2760, 120.1580),
        ("elderly_disabled", "environment", "hardship_help", "other"),
        "东城社区",
    ),
    Resident(ZHANG_JIZHE, "张记者", "zh-hans", "+86 137 0571 0003", "reporter", True, (30.2700, 120.1600)),
    Resident(CHEN_ZHUREN, "陈主任", "zh-hans", "+86 135 0571 0004", "coordinator", True),
    Resident(LIU_BIANJI, "刘编辑", "zh-hans", "+86 136 0571 0005", "editor", True),
    Resident(LI_DAYE, "李大爷", "zh-hans", "+86 138 0571 0011", "resident", location=(30.2790, 120.1500)),
    Resident(ZHAO_APO, "赵阿婆", "zh-hans", "+86 138 0571 0012", "resident", location=(30.2300, 120.2100)),
    Resident(SUN_XIAOMEI, "孙小妹", "zh-hans", "+86 138 0571 0013", "resident", location=(30.2650, 120.1450)),
    Resident(EMMA, "Emma", "en", "+86 138 0571 0014", "resident", location=(30.2720, 120.1620)),
    Resident(
        LAO_LI,
        "老李",
        "zh-hans",
        "+86 139 0571 0021",
        "volunteer",
        location=(30.2310, 120.2080),
        skills=("farm_help", "hardship_help", "environment"),
        area="河口镇",
    ),
    Resident(
        XIAO_LIN,
        "小林",
        "zh-hans",
        "+86 139 0571 0022",
        "volunteer",
        location=(30.2680, 120.1400),
        skills=("free_clinic", "policy_talk", "elderly_disabled"),
        area="西城社区",
    ),
    Resident(XIAO_HE, "小何", "zh-hans", "+86 137 0571 0031", "reporter", location=(30.2600, 120.1700)),
    # The members of 民政 and 交通 (bot/seed_departments.py), who handled their departments' seeded cases.
    Resident(XIAO_WU, "小吴", "zh-hans", "+86 139 0571 0023", "resident", location=(30.2690, 120.1520)),
    Resident(LAO_QIAN, "老钱", "zh-hans", "+86 139 0571 0024", "resident", location=(30.2750, 120.1650)),
)
ADMIN_IDS: tuple[int, ...] = (CHEN_ZHUREN,)


def _ago(now: dt.datetime, *, days: float = 0, hours: float = 0) -> dt.datetime:
    return now - dt.timedelta(days=days, hours=hours)


async def is_seeded(db: Database) -> bool:
    """Whether the district's coordinator is already in the database (the seed ran before)."""
    async with db.read() as conn:
        try:
            await users.get_user(conn, CHEN_ZHUREN)
        except NotFound:
            return False
    return True


async def seed_district(db: Database, *, now: dt.datetime) -> None:
    """Fill an empty, migrated database with the district (one transaction: all or nothing)."""
    async with db.write() as conn:
        start = _ago(now, days=30)
        for person in CAST:
            await users.touch_user(
                conn,
                user_id=person.user_id,
                first_name=person.name,
                last_name=None,
                username=None,
                language="en" if person.language.startswith("en") else "zh-CN",
                now=start,
            )
            # The cast were here before people had internal ids: their person id is their Telegram id.
            await people.add_identity(conn, person.user_id, people.TELEGRAM, person.user_id, now=start)
        await users.set_phone(conn, WANG_AYI, _phone(WANG_AYI))
        await staff.grant(conn, actor_id=CHEN_ZHUREN, user_id=CHEN_ZHUREN, role=Role.COORDINATOR, now=start)
        await staff.grant(conn, actor_id=CHEN_ZHUREN, user_id=LIU_BIANJI, role=Role.EDITOR, now=start)
        for person in CAST:
            if person.role == "volunteer":
                await _approve(conn, person, Role.VOLUNTEER, decided_by=CHEN_ZHUREN, now=_ago(now, days=28))
                await volunteers.save_volunteer(
                    conn,
                    user_id=person.user_id,
                    name=person.name,
                    phone=person.phone,
                    skills=person.skills,
                    area=person.area,
                    location=person.location,
                    now=_ago(now, days=28),
                )
            elif person.role == "reporter":
                await _approve(conn, person, Role.REPORTER, decided_by=LIU_BIANJI, now=_ago(now, days=27))
        await _seed_wishes(conn, now)
        await _seed_tips(conn, now)
        await _seed_projects(conn, now)


def _phone(user_id: int) -> str:
    return next(p.phone for p in CAST if p.user_id == user_id)


async def _approve(conn: AsyncConnection, person: Resident, role: Role, *, decided_by: int, now: dt.datetime) -> None:
    application = await applications.apply(conn, user_id=person.user_id, role=role, now=now)
    await applications.transition(
        conn, application.id, ApplicationAction.APPROVE, actor_id=decided_by, now=now + dt.timedelta(hours=2)
    )


COORDINATOR = Actor(CHEN_ZHUREN, frozenset({Role.RESIDENT, Role.COORDINATOR, Role.ADMIN}))


def _volunteer(user_id: int) -> Actor:
    return Actor(user_id, frozenset({Role.RESIDENT, Role.VOLUNTEER}))


def _resident(user_id: int) -> Actor:
    return Actor(user_id, frozenset({Role.RESIDENT}))


@dataclass(frozen=True, slots=True)
class _WishStory:
    """How far one seeded wish got, and when it was submitted."""

    resident_id: int
    draft: WishDraft
    days_ago: float
    reach: str  # pending_review | rejected | open | claimed | done | confirmed
    volunteer_id: int | None = None
    hours: float = 1.0
    rating: int | None = None
    reject_reason: str | None = None


_WISHES: tuple[_WishStory, ...] = (
    _WishStory(
        WANG_AYI,
        WishDraft(
            "elderly_disabled",
            "家门口楼梯的扶手松了，上下楼不安全，想请人帮忙加固一下。",
            "东城社区",
            "东城社区幸福里 3 幢",
        ),
        24,
        "confirmed",
        XIAO_ZHOU,
        1.5,
        5,
    ),
    _WishStory(
        LI_DAYE,
        WishDraft(
            "elderly_disabled", "家里厨房的灯泡坏了，我腿脚不便，想请人帮忙换一下。", "东城社区", "东城社区和平路 12 号"
        ),
        18,
        "confirmed",
        XIAO_ZHOU,
        1.0,
        5,
    ),
    _WishStory(
        ZHAO_APO,
        WishDraft("hardship_help", "老伴住院了，想请人帮忙代购一周的米、油和蔬菜。", "河口镇", "河口镇前进村 5 组"),
        14,
        "confirmed",
        LAO_LI,
        2.0,
        5,
    ),
    _WishStory(
        EMMA,
        WishDraft(
            "policy_talk",
            "I would like someone to explain how to register for the community health service.",
            "西城社区",
        ),
        12,
        "confirmed",
        XIAO_LIN,
        1.0,
        4,
    ),
    _WishStory(
        SUN_XIAOMEI,
        WishDraft("other", "想请志愿者帮我在网上卖掉家里的旧电视。", "南湖社区"),
        9,
        "rejected",
        reject_reason="微心愿只受理公益帮扶，二手买卖请通过其他渠道。",
    ),
    _WishStory(
        SUN_XIAOMEI,
        WishDraft(
            "environment",
            "小区后面的河道边有很多垃圾，希望组织一次清理。",
            "东城社区",
            "东城社区河滨路",
            photo_file_id=SEED_PHOTOS["river.jpg"],
        ),
        4,
        "done",
        XIAO_ZHOU,
        3.0,
    ),
    _WishStory(
        LI_DAYE,
        WishDraft("free_clinic", "想预约社区义诊，请医生帮我量量血压、看看用药。", "西城社区"),
        2,
        "claimed",
        XIAO_LIN,
    ),
    _WishStory(
        ZHAO_APO,
        WishDraft(
            "farm_help",
            "家里的橘子熟了，人手不够，想请志愿者帮忙采摘。",
            "河口镇",
            "河口镇前进村 5 组",
            photo_file_id=SEED_PHOTOS["orchard.jpg"],
        ),
        1.5,
        "open",
    ),
    _WishStory(
        SUN_XIAOMEI,
        WishDraft(
            "elderly_disabled", "楼上独居的刘奶奶下周要去医院复诊，想请人陪同。", "东城社区", "东城社区幸福里 5 幢"
        ),
        0.4,
        "open",
    ),
    _WishStory(
        LI_DAYE,
        WishDraft("policy_talk", "想了解今年新农合的报销政策，有没有人能上门讲讲？", "东城社区"),
        0.15,
        "pending_review",
    ),
)


async def _seed_wishes(conn: AsyncConnection, now: dt.datetime) -> None:
    for story in _WISHES:
        at = _ago(now, days=story.days_ago)
        draft = story.draft
        if draft.phone is None:
            draft = WishDraft(
                draft.category,
                draft.description,
                draft.area,
                draft.address,
                draft.location or next(p.location for p in CAST if p.user_id == story.resident_id),
                draft.photo_file_id,
                _phone(story.resident_id),
            )
        wish = await wish_rules.submit_wish(
            conn, draft, resident_id=story.resident_id, now=at, review=True, daily_limit=1000
        )
        if story.reach == "pending_review":
            continue
        at += dt.timedelta(hours=2)
        if story.reach == "rejected":
            await wish_rules.reject_wish(conn, wish.id, actor=COORDINATOR, now=at, reason=story.reject_reason or "")
            continue
        await wish_rules.approve_wish(conn, wish.id, actor=COORDINATOR, now=at)
        if story.reach == "open" or story.volunteer_id is None:
            continue
        at += dt.timedelta(hours=3)
        volunteer = _volunteer(story.volunteer_id)
        await wish_rules.claim_wish(conn, wish.id, actor=volunteer, now=at, due_at=at + dt.timedelta(hours=48))
        if story.reach == "claimed":
            continue
        at += dt.timedelta(hours=20)
        await wish_rules.finish_wish(
            conn,
            wish.id,
            actor=volunteer,
            now=at,
            hours=story.hours,
            proof_file_id=SEED_PHOTOS["visit.jpg"] if story.resident_id == WANG_AYI else None,
        )
        if story.reach == "done":
            continue
        at += dt.timedelta(hours=5)
        await wish_rules.confirm_wish(conn, wish.id, actor=_resident(story.resident_id), now=at, rating=story.rating)


EDITOR_ROLES = frozenset({Role.RESIDENT, Role.EDITOR})


async def _seed_tips(conn: AsyncConnection, now: dt.datetime) -> None:
    published = await tip_rules.create_tip(
        conn,
        reporter_id=ZHANG_JIZHE,
        by_reporter=True,
        category="good_deeds",
        description="东城社区志愿者小周上门为独居老人加固楼梯扶手，老人竖起大拇指。",
        location=(30.2741, 120.1551),
        media=[MediaItem("photo", SEED_PHOTOS["visit.jpg"])],
        now=_ago(now, days=22),
    )
    await tip_rules.transition(
        conn,
        published.id,
        TipAction.PUBLISH,
        actor_id=LIU_BIANJI,
        actor_roles=EDITOR_ROLES,
        now=_ago(now, days=21),
        link="https://news.example.cn/dongcheng/volunteers-handrail",
    )
    accepted = await tip_rules.create_tip(
        conn,
        reporter_id=ZHANG_JIZHE,
        by_reporter=True,
        category="civilization_practice",
        description="河口镇橘子丰收，村里正在招募志愿者助农采摘。",
        location=(30.2300, 120.2100),
        media=[MediaItem("photo", SEED_PHOTOS["orchard.jpg"])],
        now=_ago(now, days=3),
    )
    await tip_rules.transition(
        conn, accepted.id, TipAction.ACCEPT, actor_id=LIU_BIANJI, actor_roles=EDITOR_ROLES, now=_ago(now, days=2)
    )
    declined = await tip_rules.create_tip(
        conn,
        reporter_id=XIAO_HE,
        by_reporter=True,
        category="other",
        description="听说西城社区要修路。",
        location=None,
        media=[],
        now=_ago(now, days=6),
    )
    await tip_rules.transition(
        conn,
        declined.id,
        TipAction.DECLINE,
        actor_id=LIU_BIANJI,
        actor_roles=EDITOR_ROLES,
        now=_ago(now, days=5),
        note="消息来源不明，请补充后重新报料。",
    )
    await tip_rules.create_tip(
        conn,
        reporter_id=XIAO_HE,
        by_reporter=True,
        category="livelihood",
        description="南湖社区湖滨路有两盏路灯坏了一个多星期，晚上散步的老人看不清路。",
        location=(30.2600, 120.1700),
        media=[MediaItem("photo", SEED_PHOTOS["streetlight.jpg"])],
        now=_ago(now, hours=20),
    )
    await tip_rules.create_tip(
        conn,
        reporter_id=ZHANG_JIZHE,
        by_reporter=True,
        category="civilization_practice",
        description="西城社区新时代文明实践站今天上午举办义诊，来了六十多位居民。",
        location=(30.2680, 120.1400),
        media=[MediaItem("photo", SEED_PHOTOS["clinic.jpg"])],
        now=_ago(now, hours=5),
    )


# The upcoming activity's place: the 东城 practice station, about 100 m from 小周 (inside the check-in radius).
STATION = (30.2769, 120.1580)


async def _seed_projects(conn: AsyncConnection, now: dt.datetime) -> None:
    """The micro-wish project, the 东城 volunteer team (led by 小周) with its project, one activity held last week
    with confirmed hours, and one starting in about an hour and a half that 小林 has signed up for: 小周 can sign
    up, 陈主任 can show the check-in QR at once (`/checkin`), and "+1 hour" brings the reminder."""
    start = _ago(now, days=29)
    await projects.create_project(
        conn,
        name="微心愿",
        description="居民的微心愿，志愿者认领完成。",
        categories=(),
        team_id=None,
        by=CHEN_ZHUREN,
        now=start,
        for_wishes=True,
    )
    team = await projects.create_team(conn, name="东城志愿服务队", leader_id=XIAO_ZHOU, by=CHEN_ZHUREN, now=start)
    await projects.set_membership(conn, team.id, XIAO_LIN, "member", by=XIAO_ZHOU, now=start)
    project = await projects.create_project(
        conn,
        name="文明实践进社区",
        description="义诊、政策宣讲、助老服务进社区。",
        categories=("free_clinic", "policy_talk", "elderly_disabled"),
        team_id=team.id,
        by=CHEN_ZHUREN,
        now=start,
    )
    held_at = _ago(now, days=7)
    held = await activities.insert_activity(
        conn,
        activities.NewActivity(
            project_id=project.id,
            team_id=team.id,
            title="社区义诊",
            starts_at=held_at,
            duration_minutes=180,
            place="西城社区新时代文明实践站",
            area="西城社区",
            location=None,
            headcount=4,
            skills=("free_clinic",),
            notes="",
        ),
        organizer_id=CHEN_ZHUREN,
        now=_ago(now, days=10),
    )
    for volunteer, hours in ((XIAO_LIN, 3.0), (XIAO_ZHOU, 2.5)):
        await activities.put_signup(conn, held.id, volunteer, "signed_up", _ago(now, days=9))
        signup = await activities.find_signup(conn, held.id, volunteer)
        if signup is not None:
            await activities.check_in(conn, signup.id, held_at)
            await activities.check_out(conn, signup.id, held_at + dt.timedelta(hours=hours), hours)
    await activities.confirm_all(conn, held.id, by=CHEN_ZHUREN, now=held_at + dt.timedelta(hours=4))
    await activities.set_status(conn, held.id, from_status="published", to_status="held", now=held_at)
    # Upcoming: the next half hour, plus an hour (so the check-in window is open from the start of the demo).
    soon = (now + dt.timedelta(hours=1, minutes=30)).replace(second=0, microsecond=0)
    soon += dt.timedelta(minutes=(30 - soon.minute % 30) % 30)
    upcoming = await activities.insert_activity(
        conn,
        activities.NewActivity(
            project_id=project.id,
            team_id=team.id,
            title="敬老院助老服务",
            starts_at=soon,
            duration_minutes=120,
            place="东城社区新时代文明实践站",
            area="东城社区",
            location=STATION,
            headcount=3,
            skills=("elderly_disabled",),
            notes="请带好志愿者马甲。",
        ),
        organizer_id=CHEN_ZHUREN,
        now=_ago(now, days=1),
    )
    await activities.put_signup(conn, upcoming.id, XIAO_LIN, "signed_up", _ago(now, hours=20))
