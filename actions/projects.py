"""Projects and volunteer teams: coordinators create them; volunteers ask to join a team (or follow its invite
link); the team's leader or a coordinator decides.

Effects, per action:
  create_team (coordinators): the team, its leader a member; audit `team.create`; the leader is told.
  create_project (coordinators): the project; audit `project.create`.
  ask_to_join (anyone): a pending request; the leader (or, without one, every coordinator) is told with
    Approve / Refuse, true while the request is pending.
  join_by_invite (anyone with the team's link): a member at once; the leader is told.
  decide_join (the leader or a coordinator): pending → member | rejected (compare-and-set); the person is told;
    audit `team.approve` / `team.reject`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncConnection

from actions import notices
from actions.buttons import Act, Button
from actions.env import Env
from actions.messages import Notice
from rules import activities as rules
from rules.roles import Role
from rules.wishes import Actor, wish_ref
from storage import audit, users
from storage import projects as store
from storage.errors import Conflict, NotAllowed, NotFound
from storage.projects import Project, ProjectFigures, Team


@dataclass(frozen=True, slots=True)
class Joined:
    """What came of asking to join: `member` (already or by link), `pending` (asked), and the team."""

    team: Team
    status: str


def _coordinator(actor: Actor) -> int:
    if actor.user_id is None or not rules.is_coordinator(actor.roles):
        raise NotAllowed("projects and teams are run by coordinators")
    return actor.user_id


async def create_team(env: Env, actor: Actor, name: str, leader_id: int | None) -> Team:
    """A new team named `name`, led by `leader_id` (a person id) or by nobody yet."""
    by = _coordinator(actor)
    name = rules.check_name(name)
    now = env.now()
    async with env.db.write() as conn:
        if leader_id is not None:
            await users.get_user(conn, leader_id)
        team = await store.create_team(conn, name=name, leader_id=leader_id, by=by, now=now)
        await audit.record(conn, actor_id=by, action="team.create", subject=f"team:{team.id}", now=now, detail=name)
        if leader_id is not None and leader_id != by:
            await notices.queue(
                conn, leader_id, Notice("team.you_lead", {"team": team.name}), now=now, concerns={"team": [team.id]}
            )
    env.wake()
    return team


async def create_project(
    env: Env, actor: Actor, name: str, description: str, categories: tuple[str, ...], team_id: int | None
) -> Project:
    """A new project, run by a team (or by the centre itself)."""
    by = _coordinator(actor)
    name = rules.check_name(name)
    description = description.strip()
    if len(description) > rules.DESCRIPTION_MAX:  # refused, not cut: the coordinator is told its length
        raise rules.InvalidInput("project.error.description_too_long")
    unknown = [c for c in categories if c not in env.settings.categories]
    if unknown:
        raise rules.InvalidInput("project.error.category")
    now = env.now()
    async with env.db.write() as conn:
        if team_id is not None:
            await store.get_team(conn, team_id)
        project = await store.create_project(
            conn, name=name, description=description, categories=categories, team_id=team_id, by=by, now=now
        )
        await audit.record(
            conn, actor_id=by, action="project.create", subject=f"project:{project.id}", now=now, detail=name
        )
    return project


async def ensure_wish_project(env: Env, name: str) -> Project:
    """The project wishes count under (微心愿), created once (the demo seed and first start)."""
    async with env.db.write() as conn:
        for project in await store.all_projects(conn):
            if project.for_wishes:
                return project
        return await store.create_project(
            conn, name=name, description="", categories=(), team_id=None, by=None, now=env.now(), for_wishes=True
        )


async def projects_with_figures(env: Env) -> list[ProjectFigures]:
    """/projects: every project with its figures."""
    async with env.db.read() as conn:
        return await store.project_figures(conn)


async def teams(env: Env) -> list[tuple[Team, int]]:
    """/teams: every team with its member count."""
    async with env.db.read() as conn:
        return await store.all_teams(conn)


async def _tell_deciders(conn: AsyncConnection, team: Team, notice: Notice, *, now: dt.datetime, asking: int) -> None:
    deciders = [team.leader_id] if team.leader_id is not None else await users.ids_with_role(conn, Role.COORDINATOR)
    for decider in deciders:
        await notices.queue(conn, decider, notice, now=now, about=[asking])


async def ask_to_join(env: Env, actor: Actor, team_id: int) -> Joined:
    """Ask to join a team; the leader decides. Asking again while pending changes nothing."""
    if actor.user_id is None:
        raise NotAllowed("nobody")
    now = env.now()
    async with env.db.write() as conn:
        team = await store.get_team(conn, team_id)
        status = await store.membership(conn, team_id, actor.user_id)
        if status in ("member", "pending"):
            return Joined(team, status)
        await store.set_membership(conn, team_id, actor.user_id, "pending", by=None, now=now)
        person = await users.get_user(conn, actor.user_id)
        notice = Notice(
            "team.join_request",
            {"team": team.name, "name": person.display_name},
            buttons=(
                (
                    Button("team.button.approve", Act.TEAM_APPROVE, team.id, str(actor.user_id)),
                    Button("team.button.reject", Act.TEAM_REJECT, team.id, str(actor.user_id)),
                ),
            ),
        )
        await _tell_deciders(conn, team, notice, now=now, asking=actor.user_id)
    env.wake()
    return Joined(team, "pending")


async def join_by_invite(env: Env, actor: Actor, code: str) -> Joined:
    """Join through the team's invite link: a member at once."""
    if actor.user_id is None:
        raise NotAllowed("nobody")
    now = env.now()
    async with env.db.write() as conn:
        team = await store.team_by_invite(conn, code)
        if await store.membership(conn, team.id, actor.user_id) == "member":
            return Joined(team, "member")
        await store.set_membership(conn, team.id, actor.user_id, "member", by=None, now=now)
        await audit.record(conn, actor_id=actor.user_id, action="team.join_link", subject=f"team:{team.id}", now=now)
        if team.leader_id is not None and team.leader_id != actor.user_id:
            person = await users.get_user(conn, actor.user_id)
            await notices.queue(
                conn,
                team.leader_id,
                Notice("team.joined_by_link", {"team": team.name, "name": person.display_name}),
                now=now,
                about=[actor.user_id],
                concerns={"team": [team.id]},
            )
    env.wake()
    return Joined(team, "member")


async def decide_join(env: Env, actor: Actor, team_id: int, person_id: int, *, approve: bool) -> Team:
    """The leader or a coordinator approves or refuses a pending request; `Conflict` if it was decided."""
    if actor.user_id is None:
        raise NotAllowed("nobody")
    now = env.now()
    async with env.db.write() as conn:
        team = await store.get_team(conn, team_id)
        if team.leader_id != actor.user_id and not rules.is_coordinator(actor.roles):
            raise NotAllowed("only the leader or a coordinator decides")
        to_status = "member" if approve else "rejected"
        moved = await store.move_membership(
            conn, team_id, person_id, from_status="pending", to_status=to_status, by=actor.user_id, now=now
        )
        if not moved:
            raise Conflict("decided", current=await store.membership(conn, team_id, person_id) or "none")
        await audit.record(
            conn,
            actor_id=actor.user_id,
            action="team.approve" if approve else "team.reject",
            subject=f"team:{team_id}",
            now=now,
            detail=str(person_id),
        )
        key = "team.approved" if approve else "team.rejected"
        await notices.queue(conn, person_id, Notice(key, {"team": team.name}), now=now, concerns={"team": [team_id]})
    env.wake()
    return team


async def attach_wish(env: Env, actor: Actor, wish_ref_no: int, project_name: str) -> Project:
    """A coordinator counts a wish under a project (the micro-wish project is every wish's default)."""
    by = _coordinator(actor)
    now = env.now()
    async with env.db.write() as conn:
        project = await store.find_project_by_name(conn, project_name.strip())
        if project is None:
            raise NotFound(f"project {project_name}")
        if not await store.attach_wish(conn, wish_ref_no, None if project.for_wishes else project.id):
            raise NotFound(f"wish {wish_ref_no}")
        await audit.record(
            conn, actor_id=by, action="wish.project", subject=wish_ref(wish_ref_no), now=now, detail=project.name
        )
    return project
