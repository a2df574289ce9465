"""Projects, teams and activities: the practice centre's service projects, the volunteer teams that run them,
dated activities with sign-ups and a waitlist, on-the-spot check-in/out with the hours it gives, the photos
people send from them for the newsroom, and the volunteer-service certificates issued from the hours. A wish may
name the project it counts under (`wishes.project_id`; none: the micro-wish project).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("leader_id", sa.BigInteger),
        sa.Column("invite_code", sa.String(32), nullable=False),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_teams"),
        sa.ForeignKeyConstraint(["leader_id"], ["users.id"], name="fk_teams_leader_id_users", ondelete="SET NULL"),
        sa.UniqueConstraint("name", name="uq_teams_name"),
        sa.UniqueConstraint("invite_code", name="uq_teams_invite_code"),
    )
    op.create_table(
        "team_members",
        sa.Column("team_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("requested_at", UTCDateTime, nullable=False),
        sa.Column("decided_by", sa.BigInteger),
        sa.Column("decided_at", UTCDateTime),
        sa.PrimaryKeyConstraint("team_id", "user_id", name="pk_team_members"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_team_members_team_id_teams", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_team_members_user_id_users", ondelete="CASCADE"),
    )
    op.create_index("ix_team_members_user_id", "team_members", ["user_id"])
    op.create_table(
        "projects",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("categories", sa.JSON, nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("for_wishes", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("created_by", sa.BigInteger),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_projects"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_projects_team_id_teams", ondelete="SET NULL"),
        sa.UniqueConstraint("name", name="uq_projects_name"),
    )
    op.create_table(
        "activities",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("ref_no", sa.Integer, nullable=False),
        sa.Column("project_id", sa.Integer, nullable=False),
        sa.Column("team_id", sa.Integer),
        sa.Column("organizer_id", sa.BigInteger),
        sa.Column("title", sa.String(100), nullable=False),
        sa.Column("starts_at", UTCDateTime, nullable=False),
        sa.Column("duration_minutes", sa.Integer, nullable=False),
        sa.Column("place", sa.String(200), nullable=False),
        sa.Column("area", sa.String(64)),
        sa.Column("latitude", sa.Float),
        sa.Column("longitude", sa.Float),
        sa.Column("headcount", sa.Integer, nullable=False),
        sa.Column("skills", sa.JSON, nullable=False),
        sa.Column("notes", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("code", sa.String(12)),
        sa.Column("code_expires_at", UTCDateTime),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activities"),
        sa.ForeignKeyConstraint(
            ["organizer_id"], ["users.id"], name="fk_activities_organizer_id_users", ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(["project_id"], ["projects.id"], name="fk_activities_project_id_projects"),
        sa.ForeignKeyConstraint(["team_id"], ["teams.id"], name="fk_activities_team_id_teams", ondelete="SET NULL"),
        sa.UniqueConstraint("ref_no", name="uq_activities_ref_no"),
    )
    op.create_index("ix_activities_starts_at", "activities", ["starts_at"])
    op.create_index("ix_activities_code", "activities", ["code"])
    op.create_table(
        "signups",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("activity_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.Column("updated_at", UTCDateTime, nullable=False),
        sa.Column("checked_in_at", UTCDateTime),
        sa.Column("checked_out_at", UTCDateTime),
        sa.Column("hours", sa.Float),
        sa.Column("no_show", sa.Boolean, nullable=False, server_default="0"),
        sa.Column("confirmed_at", UTCDateTime),
        sa.Column("confirmed_by", sa.BigInteger),
        sa.PrimaryKeyConstraint("id", name="pk_signups"),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name="fk_signups_activity_id_activities", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_signups_user_id_users", ondelete="CASCADE"),
        sa.UniqueConstraint("activity_id", "user_id", name="uq_signups_activity_user"),
    )
    op.create_index("ix_signups_user_id", "signups", ["user_id"])
    op.create_table(
        "activity_events",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("activity_id", sa.Integer, nullable=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("actor_id", sa.BigInteger),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("subject_id", sa.BigInteger),
        sa.Column("note", sa.Text),
        sa.PrimaryKeyConstraint("id", name="pk_activity_events"),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name="fk_activity_events_activity_id_activities", ondelete="CASCADE"
        ),
    )
    op.create_index("ix_activity_events_activity_id", "activity_events", ["activity_id"])
    op.create_table(
        "activity_photos",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("activity_id", sa.Integer, nullable=False),
        sa.Column("user_id", sa.BigInteger, nullable=False),
        sa.Column("media_id", sa.Integer, nullable=False),
        sa.Column("tip_id", sa.Integer),
        sa.Column("created_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_activity_photos"),
        sa.ForeignKeyConstraint(
            ["activity_id"], ["activities.id"], name="fk_activity_photos_activity_id_activities", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["media_id"], ["media.id"], name="fk_activity_photos_media_id_media"),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name="fk_activity_photos_user_id_users", ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["tip_id"], ["tips.id"], name="fk_activity_photos_tip_id_tips", ondelete="SET NULL"),
    )
    op.create_index("ix_activity_photos_activity_id", "activity_photos", ["activity_id"])
    with op.batch_alter_table("wishes") as batch:
        batch.add_column(sa.Column("project_id", sa.Integer))
        batch.create_foreign_key(
            "fk_wishes_project_id_projects", "projects", ["project_id"], ["id"], ondelete="SET NULL"
        )
    op.create_table(
        "certificates",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("number", sa.String(24), nullable=False),
        sa.Column("code", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.BigInteger),
        sa.Column("holder_name", sa.String(64), nullable=False),
        sa.Column("volunteer_no", sa.String(24), nullable=False),
        sa.Column("period_from", sa.String(10), nullable=False),
        sa.Column("period_to", sa.String(10), nullable=False),
        sa.Column("hours", sa.Float, nullable=False),
        sa.Column("issued_at", UTCDateTime, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_certificates"),
        sa.ForeignKeyConstraint(
            ["holder_id"], ["users.id"], name="fk_certificates_holder_id_users", ondelete="SET NULL"
        ),
        sa.UniqueConstraint("number", name="uq_certificates_number"),
        sa.UniqueConstraint("code", name="uq_certificates_code"),
    )


def downgrade() -> None:
    with op.batch_alter_table("wishes") as batch:
        batch.drop_constraint("fk_wishes_project_id_projects", type_="foreignkey")
        batch.drop_column("project_id")
    op.drop_table("certificates")
    op.drop_table("activity_photos")
    op.drop_table("activity_events")
    op.drop_table("signups")
    op.drop_table("activities")
    op.drop_table("projects")
    op.drop_table("team_members")
    op.drop_table("teams")
