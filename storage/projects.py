"""Projects and volunteer teams: the service projects the practice centre runs, the teams (志愿服务队) that
carry them out, their leaders, members and join requests (pending → member | rejected)."""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import and_, func, insert, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection

from storage.errors import Conflict, NotFound
from storage.schema import activities, projects, signups, team_members, teams, wishes


@dataclass(frozen=True, slots=True)
class Team:
    """A volunteer team."""

    id: int
    name: str
    leader_id: int | None
    invite_code: str

    @property
    def payload(self) -> str:
        """The /start payload of the team's invite link."""
        return f"team_{self.invite_code}"


@dataclass(frozen=True, slots=True)
class Project:
    """A service project."""

    id: int
    name: str
    description: str
    categories: tuple[str, ...]
    team_id: int | None
    for_wishes: bool


@dataclass(frozen=True, slots=True)
class ProjectFigures:
    """What /projects shows of a project: activities held and planned, participants, verified hours."""

    project: Project
    team_name: str | None
    activities: int
    participants: int
    hours: float
    wishes_done: int


def _team(row: Any) -> Team:
    m = row._mapping
    return Team(m["id"], m["name"], m["leader_id"], m["invite_code"])


def _project(row: Any) -> Project:
    m = row._mapping
    return Project(m["id"], m["name"], m["description"], tuple(m["categories"] or ()), m["team_id"], m["for_wishes"])


async def create_team(conn: AsyncConnection, *, name: str, leader_id: int | None, by: int, now: dt.datetime) -> Team:
    """A new team (its leader a member at once); `Conflict` if the name is taken."""
    code = secrets.token_urlsafe(9)
    try:
        async with conn.begin_nested():
            team_id = (
                await conn.execute(
                    insert(teams)
                    .values(name=name, leader_id=leader_id, invite_code=code, created_by=by, created_at=now)
                    .returning(teams.c.id)
                )
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"team {name} exists", current="exists") from None
    if leader_id is not None:
        await set_membership(conn, team_id, leader_id, "member", by=by, now=now)
    return Team(team_id, name, leader_id, code)


async def get_team(conn: AsyncConnection, team_id: int) -> Team:
    """The team; `NotFound` otherwise."""
    row = (await conn.execute(select(teams).where(teams.c.id == team_id))).first()
    if row is None:
        raise NotFound(f"team {team_id}")
    return _team(row)


async def find_team_by_name(conn: AsyncConnection, name: str) -> Team | None:
    """The team of that name."""
    row = (await conn.execute(select(teams).where(teams.c.name == name))).first()
    return _team(row) if row is not None else None


async def team_by_invite(conn: AsyncConnection, code: str) -> Team:
    """The team behind an invite code; `NotFound` otherwise."""
    row = (await conn.execute(select(teams).where(teams.c.invite_code == code))).first()
    if row is None:
        raise NotFound(f"team invite {code}")
    return _team(row)


async def all_teams(conn: AsyncConnection, *, limit: int = 50) -> list[tuple[Team, int]]:
    """Teams with their member counts, by name."""
    members = (
        select(team_members.c.team_id, func.count().label("n"))
        .where(team_members.c.status == "member")
        .group_by(team_members.c.team_id)
        .subquery()
    )
    rows = (
        await conn.execute(
            select(teams, func.coalesce(members.c.n, 0).label("members"))
            .outerjoin(members, members.c.team_id == teams.c.id)
            .order_by(teams.c.name)
            .limit(limit)
        )
    ).all()
    return [(_team(row), int(row.members)) for row in rows]


async def membership(conn: AsyncConnection, team_id: int, user_id: int) -> str | None:
    """The person's status in the team (pending, member, rejected), None if they never asked."""
    return (
        await conn.execute(
            select(team_members.c.status).where(team_members.c.team_id == team_id, team_members.c.user_id == user_id)
        )
    ).scalar_one_or_none()


async def set_membership(
    conn: AsyncConnection, team_id: int, user_id: int, status: str, *, by: int | None, now: dt.datetime
) -> None:
    """Record the person's status in the team (a request, an approval, a refusal)."""
    updated = await conn.execute(
        update(team_members)
        .where(team_members.c.team_id == team_id, team_members.c.user_id == user_id)
        .values(status=status, decided_by=by, decided_at=now)
    )
    if updated.rowcount == 0:
        await conn.execute(
            insert(team_members).values(
                team_id=team_id,
                user_id=user_id,
                status=status,
                requested_at=now,
                decided_by=by if status != "pending" else None,
                decided_at=now if status != "pending" else None,
            )
        )


async def move_membership(
    conn: AsyncConnection, team_id: int, user_id: int, *, from_status: str, to_status: str, by: int, now: dt.datetime
) -> bool:
    """Compare-and-set a membership (approve or refuse a pending request); False if it was not `from_status`."""
    updated = await conn.execute(
        update(team_members)
        .where(
            team_members.c.team_id == team_id,
            team_members.c.user_id == user_id,
            team_members.c.status == from_status,
        )
        .values(status=to_status, decided_by=by, decided_at=now)
    )
    return updated.rowcount == 1


async def team_member_ids(conn: AsyncConnection, team_id: int) -> list[int]:
    """The members of a team."""
    rows = await conn.execute(
        select(team_members.c.user_id).where(team_members.c.team_id == team_id, team_members.c.status == "member")
    )
    return [int(user_id) for user_id in rows.scalars()]


async def teams_led_by(conn: AsyncConnection, user_id: int) -> list[Team]:
    """The teams this person leads."""
    rows = await conn.execute(select(teams).where(teams.c.leader_id == user_id).order_by(teams.c.id))
    return [_team(row) for row in rows]


async def create_project(
    conn: AsyncConnection,
    *,
    name: str,
    description: str,
    categories: tuple[str, ...],
    team_id: int | None,
    by: int | None,
    now: dt.datetime,
    for_wishes: bool = False,
) -> Project:
    """A new project; `Conflict` if the name is taken."""
    try:
        async with conn.begin_nested():
            project_id = (
                await conn.execute(
                    insert(projects)
                    .values(
                        name=name,
                        description=description,
                        categories=list(categories),
                        team_id=team_id,
                        for_wishes=for_wishes,
                        created_by=by,
                        created_at=now,
                    )
                    .returning(projects.c.id)
                )
            ).scalar_one()
    except IntegrityError:
        raise Conflict(f"project {name} exists", current="exists") from None
    return Project(project_id, name, description, categories, team_id, for_wishes)


async def get_project(conn: AsyncConnection, project_id: int) -> Project:
    """The project; `NotFound` otherwise."""
    row = (await conn.execute(select(projects).where(projects.c.id == project_id))).first()
    if row is None:
        raise NotFound(f"project {project_id}")
    return _project(row)


async def all_projects(conn: AsyncConnection, *, limit: int = 50) -> list[Project]:
    """Projects, oldest first."""
    rows = await conn.execute(select(projects).order_by(projects.c.id).limit(limit))
    return [_project(row) for row in rows]


async def projects_for_organizer(conn: AsyncConnection, team_ids: list[int], *, everything: bool) -> list[Project]:
    """The projects someone may create activities in: all of them (coordinators), or their teams' projects."""
    query = select(projects).order_by(projects.c.id).limit(50)
    if not everything:
        query = query.where(projects.c.team_id.in_(team_ids))
    return [_project(row) for row in await conn.execute(query)]


async def project_figures(conn: AsyncConnection, *, limit: int = 50) -> list[ProjectFigures]:
    """Every project with its figures (activities not cancelled, distinct participants, confirmed hours)."""
    result: list[ProjectFigures] = []
    for project in await all_projects(conn, limit=limit):
        held = (
            await conn.execute(
                select(func.count())
                .select_from(activities)
                .where(activities.c.project_id == project.id, activities.c.status != "cancelled")
            )
        ).scalar_one()
        people, hours = (
            await conn.execute(
                select(func.count(func.distinct(signups.c.user_id)), func.coalesce(func.sum(signups.c.hours), 0))
                .select_from(signups.join(activities, activities.c.id == signups.c.activity_id))
                .where(and_(activities.c.project_id == project.id, signups.c.confirmed_at.is_not(None)))
                .where(signups.c.no_show.is_(False))
            )
        ).one()
        # Wishes count under the project they name; those naming none under the micro-wish project.
        counted = wishes.c.project_id == project.id
        if project.for_wishes:
            counted = or_(counted, wishes.c.project_id.is_(None))
        wishes_done = (
            await conn.execute(select(func.count()).select_from(wishes).where(wishes.c.status == "confirmed", counted))
        ).scalar_one()
        team_name = None
        if project.team_id is not None:
            team_name = (await get_team(conn, project.team_id)).name
        result.append(ProjectFigures(project, team_name, int(held), int(people), float(hours), int(wishes_done)))
    return result


async def find_project_by_name(conn: AsyncConnection, name: str) -> Project | None:
    """The project of that name."""
    row = (await conn.execute(select(projects).where(projects.c.name == name))).first()
    return _project(row) if row is not None else None


async def attach_wish(conn: AsyncConnection, wish_ref_no: int, project_id: int | None) -> bool:
    """Count the wish W-<ref_no> under a project (None: the micro-wish project again); False if no such wish."""
    updated = await conn.execute(update(wishes).where(wishes.c.ref_no == wish_ref_no).values(project_id=project_id))
    return updated.rowcount == 1
