"""The database schema as SQLAlchemy Core tables: the single description every query and migration follows.

Migrations under `storage/migrations/versions` create these tables step by step; `tests/storage`
checks that the migrated database matches this metadata.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from storage.types import UTCDateTime

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "ck": "ck_%(table_name)s_%(constraint_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

# People who have written to the bot. The id is the internal person id: never a chat id. Which Telegram user
# (or other channel's account) a person is goes through `identities` (migration 0009).
users = Table(
    "users",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=False),
    Column("first_name", String(128), nullable=False, server_default=""),
    Column("last_name", String(128)),
    Column("username", String(64)),
    Column("language", String(8), nullable=False, server_default="zh-CN"),
    Column("phone", String(32)),
    Column("blocked", Boolean, nullable=False, server_default="0"),
    Column("unreachable", Boolean, nullable=False, server_default="0"),
    Column("digest_enabled", Boolean, nullable=False, server_default="1"),
    Column("created_at", UTCDateTime, nullable=False),
    Column("last_seen_at", UTCDateTime, nullable=False),
    Column("erased_at", UTCDateTime),
    # When /digest last switched the digest (migration 0024): the sweep finds who turned it on during a morning.
    Column("digest_changed_at", UTCDateTime),
)
Index("ix_users_digest_changed_at", users.c.digest_changed_at)

# Channel accounts of a person: ('telegram', '<Telegram user id>') → users.id. People from before migration 0009
# kept their Telegram id as person id; new people take theirs from the `person` row of `reference_counters`.
identities = Table(
    "identities",
    metadata,
    Column("channel", String(16), primary_key=True),
    Column("external_id", String(64), primary_key=True),
    Column("person_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_identities_person_id", identities.c.person_id)

# Granted roles. `admin` is never stored: it comes from ADMIN_IDS at every check.
user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("granted_by", BigInteger),
    Column("granted_at", UTCDateTime, nullable=False),
)
# The holders of a role (staff to notify, digest recipients): the primary key starts with user_id.
Index("ix_user_roles_role", user_roles.c.role, user_roles.c.user_id)
# Who was granted a role lately: the digest sweep's readers since its last pass (migration 0024).
Index("ix_user_roles_role_granted", user_roles.c.role, user_roles.c.granted_at)

# PTB conversation state and per-user scratch data (drafts), so a restart loses nothing.
conversation_states = Table(
    "conversation_states",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("key", String(128), primary_key=True),
    Column("state", JSON, nullable=False),
)

user_data = Table(
    "user_data",
    metadata,
    Column("user_id", BigInteger, primary_key=True, autoincrement=False),
    Column("data", JSON, nullable=False),
)

# Staff actions, for /audit.
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("action", String(64), nullable=False),
    Column("subject", String(64)),
    Column("detail", Text),
)
Index("ix_audit_log_at", audit_log.c.at)

# Team invite links (t.me/<bot>?start=<prefix>_<code>): approve an application at once.
invites = Table(
    "invites",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("role", String(16), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default="0"),
    # Migration 0014: an invite either approves at once or only lets the person apply for review; staff revoke.
    Column("needs_review", Boolean, nullable=False, server_default="0"),
    Column("revoked_at", UTCDateTime),
)

# Applications for the volunteer and reporter roles: pending → approved | rejected; approved → suspended.
applications = Table(
    "applications",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("role", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", BigInteger),
    Column("decided_at", UTCDateTime),
    Column("reason", Text),
    Column("invite_code", String(32)),
    UniqueConstraint("user_id", "role", name="uq_applications_user_role"),
)
Index("ix_applications_role_status", applications.c.role, applications.c.status)

application_events = Table(
    "application_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("application_id", Integer, ForeignKey("applications.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("note", Text),
)

# Scheduler: the outbox every message that is not a direct reply goes through (one row per message to send).
outbox = Table(
    "outbox",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("dedupe_key", String(160), nullable=False, unique=True),
    # urgent | normal | bulk; `lane_rank` orders the sender's queue (0 first) without a CASE in every query.
    Column("lane", String(8), nullable=False),
    Column("lane_rank", Integer, nullable=False),
    Column("recipient_id", BigInteger, nullable=False),
    Column("payload", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("not_before", UTCDateTime, nullable=False),
    # pending → sending → sent | failed | dropped | unknown (killed while on the wire);
    # superseded: what it said stopped being true before its turn came; skipped: decided, nothing to send
    # withdrawn: sent while /deleteme erased someone it is about, then deleted from the chat (last_error says so)
    Column("status", String(16), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("last_error", String(300)),
    Column("sent_at", UTCDateTime),
    # The facts the notice was written under, re-checked before sending (actions/notices.py; migration 0008).
    Column("condition", JSON),
    # The channel's ids of the messages it became once sent, where the channel has them (migration 0021): what a
    # later notice may take back (a removed member's case cards).
    Column("message_ids", JSON),
)
Index("ix_outbox_due", outbox.c.status, outbox.c.lane_rank, outbox.c.id)
Index("ix_outbox_recipient_id", outbox.c.recipient_id, outbox.c.status)
Index("ix_outbox_created_at", outbox.c.created_at)

# --- Media (migration 0009): a photo, video or document people sent, and how each channel refers to it. Rows of
# other tables point at `media.id`; a channel's file reference (a Telegram file_id, later a WeChat media_id) lives
# in `media_refs`, one per channel, so the same photo can be shown on a channel it did not arrive on.
media = Table(
    "media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # Who sent it, while it waits for a draft of theirs to be submitted (a WeChat photo is saved at once: WeChat
    # keeps it 3 days); cleared when a row takes it (`storage.media.take`; migration 0023).
    Column("draft_of", BigInteger),
)
Index("ix_media_draft_of_created", media.c.draft_of, media.c.created_at)

media_refs = Table(
    "media_refs",
    metadata,
    Column("media_id", Integer, ForeignKey("media.id", ondelete="CASCADE"), primary_key=True),
    Column("channel", String(16), primary_key=True),
    Column("file_ref", String(256), nullable=False),
    Column("file_unique_id", String(64)),
)

# --- Wishes (the practice-centre loop): pending_review → open → claimed → done → confirmed, see rules/wishes.py.
# Per-deployment reference numbers (W-0001…): a counter row per kind, bumped inside the inserting transaction.
reference_counters = Table(
    "reference_counters",
    metadata,
    Column("name", String(16), primary_key=True),
    # BigInteger since 0009: the `person` counter starts above the largest Telegram id.
    Column("value", BigInteger, nullable=False),
)

wishes = Table(
    "wishes",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ref_no", Integer, nullable=False, unique=True),
    Column("resident_id", BigInteger, ForeignKey("users.id"), nullable=False),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("area", String(64)),
    Column("address", String(200)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("photo_media_id", Integer, ForeignKey("media.id")),
    Column("phone", String(32)),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("reject_reason", Text),
    Column("claimed_by", BigInteger, ForeignKey("users.id")),
    Column("claimed_at", UTCDateTime),
    Column("due_at", UTCDateTime),
    # Service record: filled in by the volunteer at "done"; counted once the resident confirms.
    Column("done_at", UTCDateTime),
    Column("hours", Float),
    Column("proof_media_id", Integer, ForeignKey("media.id")),
    Column("done_note", Text),
    Column("resident_note", Text),
    Column("confirmed_at", UTCDateTime),
    Column("rating", Integer),
    # After an auto-release: until then only the volunteers in `wish_holds` may claim it (migration 0007).
    Column("held_until", UTCDateTime),
    # The service project it counts under (migration 0010); none: the project `for_wishes` (微心愿).
    Column("project_id", Integer, ForeignKey("projects.id", ondelete="SET NULL")),
    # A spoken wish: the resident's voice note and its length (migration 0013).
    Column("voice_media_id", Integer, ForeignKey("media.id")),
    Column("voice_seconds", Integer),
)
Index("ix_wishes_status_created_at", wishes.c.status, wishes.c.created_at)
Index("ix_wishes_resident_id", wishes.c.resident_id)
Index("ix_wishes_claimed_by", wishes.c.claimed_by)
# Scale (migration 0015): every query on the growing wishes table has an index — periods of time (hot
# topics, /stats, /export), the sweep's due conditions, and the leaderboard of confirmed service.
Index("ix_wishes_created_at", wishes.c.created_at, wishes.c.id)
Index("ix_wishes_confirmed_at", wishes.c.confirmed_at)
Index("ix_wishes_area_created_at", wishes.c.area, wishes.c.created_at)
# /stats medians (time to claim, time to done) read these instead of the table.
Index("ix_wishes_claimed_at_created_at", wishes.c.claimed_at, wishes.c.created_at)
Index("ix_wishes_done_at_created_at", wishes.c.done_at, wishes.c.created_at)
Index("ix_wishes_status_updated_at", wishes.c.status, wishes.c.updated_at)
Index("ix_wishes_status_due_at", wishes.c.status, wishes.c.due_at)
# /tasks: open wishes of some categories, in a latitude band (bounding boxes), not held; covering, so matching,
# counting and ordering by distance read the index only.
Index(
    "ix_wishes_match",
    wishes.c.status,
    wishes.c.category,
    wishes.c.latitude,
    wishes.c.longitude,
    wishes.c.held_until,
    wishes.c.created_at,
    wishes.c.id,
)

wish_events = Table(
    "wish_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wish_id", Integer, ForeignKey("wishes.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("note", Text),
)
Index("ix_wish_events_wish_id", wish_events.c.wish_id)
# The daily bound on claims and releases counts one volunteer's events of today (migration 0014).
Index("ix_wish_events_actor_at", wish_events.c.actor_id, wish_events.c.at)

# --- Volunteers: the profile behind the `volunteer` role (the role itself is granted via applications).
volunteers = Table(
    "volunteers",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, autoincrement=False),
    Column("name", String(64), nullable=False),
    Column("phone", String(32)),
    Column("area", String(64)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
)

volunteer_skills = Table(
    "volunteer_skills",
    metadata,
    Column("user_id", BigInteger, ForeignKey("volunteers.user_id", ondelete="CASCADE"), primary_key=True),
    Column("category", String(32), primary_key=True),
)

# --- Staff tools and hot topics (issue 6) ---------------------------------------------------------------------

# Hot-topic alerts already sent: one per term per local day, so the daily job never repeats itself.
hot_alerts = Table(
    "hot_alerts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("day", String(10), nullable=False),
    Column("term", String(64), nullable=False),
    Column("current_count", Integer, nullable=False),
    Column("previous_count", Integer, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    # What staff turned the alert into (one of each at most, so a second tap creates nothing).
    Column("wish_id", Integer),
    Column("tip_id", Integer),
    # The topic alerted (migration 0030): `term` holds its leading terms; its rise, areas and a quoted example.
    Column("rise", Float),
    Column("areas", String(200)),
    Column("example", String(200)),
    UniqueConstraint("day", "term", name="uq_hot_alerts_day_term"),
)

# The terms of each wish ("w") and tip ("t") text, segmented once (off the event loop) and summed per period
# by a query, so /hot 90 costs a GROUP BY, not a re-segmentation (migration 0015). Every segmented text
# has a row with the empty term, so texts not yet segmented are found by their missing rows.
text_terms = Table(
    "text_terms",
    metadata,
    Column("source", String(1), nullable=False),
    Column("source_id", Integer, nullable=False),
    Column("term", String(16), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    PrimaryKeyConstraint("source", "source_id", "term", name="pk_text_terms"),
)
# The newest pairs of a period read from the index alone; one term's texts within a period (migration 0030).
Index("ix_text_terms_at_term", text_terms.c.at, text_terms.c.term, text_terms.c.source, text_terms.c.source_id)
Index("ix_text_terms_term_at", text_terms.c.term, text_terms.c.at, text_terms.c.source, text_terms.c.source_id)

# Each text's terms in one row (joined by a line break; '' for none) with its time and a wish's area, kept by
# triggers on text_terms and wishes (migration 0036): topics read a period's newest texts from the index (on
# SQLite the index also holds terms and area).
text_term_sets = Table(
    "text_term_sets",
    metadata,
    Column("source", String(1), nullable=False),
    Column("source_id", Integer, nullable=False, autoincrement=False),
    Column("at", UTCDateTime, nullable=False),
    Column("terms", Text, nullable=False),
    Column("area", String(64)),
    PrimaryKeyConstraint("source", "source_id", name="pk_text_term_sets"),
)
Index("ix_text_term_sets_at", text_term_sets.c.at, text_term_sets.c.source, text_term_sets.c.source_id)

# Daily roll-ups (migration 0016): counts per UTC day ('YYYY-MM-DD') kept exact by triggers on wishes, tips
# and text_terms, so /stats and /hot sum days instead of rows. A count that reaches zero loses its row.


def _daily(name: str, key: tuple[str, int] | None, *extra: Column[Any]) -> Table:
    """A roll-up table: counts `n` per day ('YYYY-MM-DD', UTC) and, when given, per value of `key` (name, size)."""
    keys = ["day"] + ([key[0]] if key else [])
    return Table(
        name,
        metadata,
        Column("day", String(10), nullable=False),
        *([Column(key[0], String(key[1]), nullable=False)] if key else []),
        Column("n", Integer, nullable=False),
        *extra,
        PrimaryKeyConstraint(*keys, name=f"pk_{name}"),
    )


wish_status_days = _daily("wish_status_days", ("status", 24))
wish_category_days = _daily("wish_category_days", ("category", 32))
wish_area_days = _daily("wish_area_days", ("area", 64))  # '' for wishes without an area
# Confirmed tasks and their hours by day of confirmation.
wish_confirmed_days = _daily("wish_confirmed_days", None, Column("hours", Float, nullable=False))
tip_days = _daily("tip_days", ("status", 24))
# In how many texts of a day each term appears; the empty term counts the texts.
term_days = _daily("term_days", ("term", 16))
# The same per UTC week, keyed by its Monday ('YYYY-MM-DD'; migration 0030): long periods sum weeks, not days.
term_weeks = Table(
    "term_weeks",
    metadata,
    Column("week", String(10), nullable=False),
    Column("term", String(16), nullable=False),
    Column("n", Integer, nullable=False),
    PrimaryKeyConstraint("week", "term", name="pk_term_weeks"),
)

# How many wishes waited that many whole minutes from submission to claim / done (the all-time medians); the
# indexes on the waiting time itself (ix_wishes_claim_minutes, ix_wishes_done_minutes) are expressions,
# created by the migration only.
wish_claim_minutes, wish_done_minutes = (
    Table(
        name,
        metadata,
        Column("minute", Integer, nullable=False),
        Column("n", Integer, nullable=False),
        PrimaryKeyConstraint("minute", name=f"pk_{name}"),
    )
    for name in ("wish_claim_minutes", "wish_done_minutes")
)

# Broadcasts by coordinators: the message, its audience and the running tally of its delivery.
broadcasts = Table(
    "broadcasts",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("created_by", BigInteger, nullable=False),
    Column("audience", String(16), nullable=False),
    Column("text", Text),
    Column("photo_media_id", Integer, ForeignKey("media.id")),
    Column("status", String(16), nullable=False),
    Column("total", Integer, nullable=False, server_default="0"),
    Column("delivered", Integer, nullable=False, server_default="0"),
    Column("unreachable", Integer, nullable=False, server_default="0"),
    Column("progress_message_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("finished_at", UTCDateTime),
)

# Whistles: an urgent dispatch of one wish to matching volunteers, and the coordinator's running summary.
whistles = Table(
    "whistles",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("wish_id", Integer, nullable=False),
    Column("coordinator_id", BigInteger, nullable=False),
    Column("sent_count", Integer, nullable=False),
    Column("summary_message_id", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("claimed_by", BigInteger),
    Column("claimed_at", UTCDateTime),
)
Index("ix_whistles_wish_id", whistles.c.wish_id)

# Residents who joined someone else's similar open wish instead of submitting their own; they are told
# of its progress (claimed, done) like its resident.
wish_followers = Table(
    "wish_followers",
    metadata,
    Column("wish_id", Integer, ForeignKey("wishes.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
)
Index("ix_wish_followers_user_id", wish_followers.c.user_id)

# Tips (the newsroom loop): leads reporters send, their media, every status change, and the story
# leads offered from confirmed wishes (the volunteer's consent comes first). A wish is referred to by
# its `ref_no` (the number people see as W-0042), which is unique.
tips = Table(
    "tips",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("reporter_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("by_reporter", Boolean, nullable=False, server_default="0"),
    Column("status", String(24), nullable=False),
    Column("category", String(32), nullable=False),
    Column("description", Text, nullable=False),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("source_wish_ref", Integer),
    Column("published_url", String(512)),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("decided_by", BigInteger),
)
Index("ix_tips_status_created_at", tips.c.status, tips.c.created_at)
Index("ix_tips_reporter_id", tips.c.reporter_id)
Index("ix_tips_created_at", tips.c.created_at, tips.c.id)

tip_media = Table(
    "tip_media",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("media_id", Integer, ForeignKey("media.id"), nullable=False),
    Column("file_size", Integer),
    Column("local_path", String(512)),
    Column("added_at", UTCDateTime, nullable=False),
)
Index("ix_tip_media_tip_id", tip_media.c.tip_id)

tip_events = Table(
    "tip_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("from_status", String(24)),
    Column("to_status", String(24), nullable=False),
    Column("note", Text),
)
Index("ix_tip_events_tip_id", tip_events.c.tip_id)
Index("ix_tip_events_to_status_at", tip_events.c.to_status, tip_events.c.at)

story_leads = Table(
    "story_leads",
    metadata,
    Column("wish_ref", Integer, primary_key=True, autoincrement=False),
    Column("volunteer_id", BigInteger, nullable=False),
    Column("photo_media_id", Integer, ForeignKey("media.id"), nullable=False),
    Column("summary", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="SET NULL")),
)

# --- Time-limited holds (migration 0007): the volunteers an auto-released wish was offered to, who alone
# may claim it until `wishes.held_until`.
wish_holds = Table(
    "wish_holds",
    metadata,
    Column("wish_id", Integer, ForeignKey("wishes.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
)
Index("ix_wish_holds_user_id", wish_holds.c.user_id)

# --- Projects, teams and activities (migration 0010): the practice centre's service projects, the volunteer
# teams that run them, dated activities with sign-ups (a waitlist when full), on-the-spot check-in/out, and the
# certificates (志愿服务记录证明) issued from the hours. Activities are referred to as A-0007 (`ref_no`).
teams = Table(
    "teams",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("leader_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    # The team's invite link (t.me/<bot>?start=team_<code>): joining through it needs no approval.
    Column("invite_code", String(32), nullable=False, unique=True),
    Column("created_by", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
)

# pending → member | rejected (a join request); a leader approves, or a coordinator.
team_members = Table(
    "team_members",
    metadata,
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("status", String(16), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("decided_by", BigInteger),
    Column("decided_at", UTCDateTime),
)
Index("ix_team_members_user_id", team_members.c.user_id)

projects = Table(
    "projects",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("categories", JSON, nullable=False),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="SET NULL")),
    # The project wishes count under (微心愿): one at most.
    Column("for_wishes", Boolean, nullable=False, server_default="0"),
    Column("created_by", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
)

activities = Table(
    "activities",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ref_no", Integer, nullable=False, unique=True),
    Column("project_id", Integer, ForeignKey("projects.id"), nullable=False),
    Column("team_id", Integer, ForeignKey("teams.id", ondelete="SET NULL")),
    Column("organizer_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("title", String(100), nullable=False),
    Column("starts_at", UTCDateTime, nullable=False),
    Column("duration_minutes", Integer, nullable=False),
    Column("place", String(200), nullable=False),
    # The town or community it is in (settings.areas): volunteers of that area are invited; none: everyone.
    Column("area", String(64)),
    Column("latitude", Float),
    Column("longitude", Float),
    Column("headcount", Integer, nullable=False),
    Column("skills", JSON, nullable=False),
    Column("notes", Text, nullable=False, server_default=""),
    # published → held (hours confirmed) | cancelled
    Column("status", String(16), nullable=False),
    # The short-lived check-in/out code the organizer shows (QR + deep link), and until when it works.
    Column("code", String(12)),
    Column("code_expires_at", UTCDateTime),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    # Hours count no further than the planned end plus what a coordinator extended it by, with why (migration 0022).
    Column("extended_minutes", Integer, nullable=False, server_default="0"),
    Column("extension_reason", Text),
)
Index("ix_activities_starts_at", activities.c.starts_at)
Index("ix_activities_code", activities.c.code)

# One person on one activity: signed_up | waitlisted | cancelled; then the check-in record and the hours.
signups = Table(
    "signups",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("checked_in_at", UTCDateTime),
    Column("checked_out_at", UTCDateTime),
    Column("hours", Float),
    Column("no_show", Boolean, nullable=False, server_default="0"),
    Column("confirmed_at", UTCDateTime),
    Column("confirmed_by", BigInteger),
    UniqueConstraint("activity_id", "user_id", name="uq_signups_activity_user"),
)
Index("ix_signups_user_id", signups.c.user_id)

# Every change to an activity or a sign-up: who, when, what (created, signed_up, promoted, checked_in, …).
activity_events = Table(
    "activity_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("kind", String(24), nullable=False),
    Column("subject_id", BigInteger),
    Column("note", Text),
)
Index("ix_activity_events_activity_id", activity_events.c.activity_id)

# Photos people sent from an activity for the newsroom (their consent given), gathered into one tip.
activity_photos = Table(
    "activity_photos",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("activity_id", Integer, ForeignKey("activities.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("media_id", Integer, ForeignKey("media.id"), nullable=False),
    Column("tip_id", Integer, ForeignKey("tips.id", ondelete="SET NULL")),
    Column("created_at", UTCDateTime, nullable=False),
)
Index("ix_activity_photos_activity_id", activity_photos.c.activity_id)

# 志愿服务记录证明: what was certified, so /verify can confirm it later.
certificates = Table(
    "certificates",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("number", String(24), nullable=False, unique=True),
    Column("code", String(16), nullable=False, unique=True),
    Column("holder_id", BigInteger, ForeignKey("users.id", ondelete="SET NULL")),
    Column("holder_name", String(64), nullable=False),
    Column("volunteer_no", String(24), nullable=False),
    Column("period_from", String(10), nullable=False),
    Column("period_to", String(10), nullable=False),
    Column("hours", Float, nullable=False),
    Column("issued_at", UTCDateTime, nullable=False),
    # Of `hours`: activity hours an organizer confirmed, and wish hours the volunteer reported (migration 0019; both
    # empty on certificates issued before).
    Column("verified_hours", Float),
    Column("reported_hours", Float),
)

# --- WeChat service account (migration 0011) -------------------------------------------------------------------
# Every callback WeChat delivered, keyed by its MsgId (events: sender + time + event), stored before `success` is
# answered: a retry of the same callback finds its row and is not handled twice, and a restart handles what was
# stored but not yet handled (`handled_at` empty).
wechat_inbound = Table(
    "wechat_inbound",
    metadata,
    Column("msg_key", String(128), primary_key=True),
    Column("openid", String(64), nullable=False),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("handled_at", UTCDateTime),
)
Index("ix_wechat_inbound_handled_at", wechat_inbound.c.handled_at)

# The customer-service quotas of each WeChat account (storage/wechat.py): the person's last message opens 5 messages
# within 48 hours (`last_inbound_at`, `sent`); their last menu click, follow, QR scan or menu-item tap opens 3 within
# 1 minute (`click_at`, `click_sent`; migration 0027).
wechat_windows = Table(
    "wechat_windows",
    metadata,
    Column("openid", String(64), primary_key=True),
    Column("last_inbound_at", UTCDateTime),
    Column("sent", Integer, nullable=False, server_default="0"),
    Column("click_at", UTCDateTime),
    Column("click_sent", Integer, nullable=False, server_default="0"),
)

# Digest occurrences (`coord:2026-11-27`) decided for every reader: the sweep reads this row, not the readers again
# (migration 0024).
digest_runs = Table(
    "digest_runs",
    metadata,
    Column("label", String(64), primary_key=True),
    Column("done_at", UTCDateTime, nullable=False),
)

# One-time codes that join a second channel's account to a person (/link).
link_codes = Table(
    "link_codes",
    metadata,
    Column("code", String(16), primary_key=True),
    Column("person_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("used_at", UTCDateTime),
    # Wrong codes anyone tried while this one was live: at 5 it is void (migration 0020).
    Column("wrong_guesses", Integer, nullable=False, server_default="0"),
)

# A right code asks; the account joins the person only once the person says yes on the account being joined:
# pending → joined | declined (migration 0020).
link_requests = Table(
    "link_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("person_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("decided_at", UTCDateTime),
)

# Each wrong code an account sent: five within an hour lock it out of redeeming for the rest of that hour.
link_failures = Table(
    "link_failures",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("channel", String(16), nullable=False),
    Column("external_id", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
)
Index("ix_link_failures_account", link_failures.c.channel, link_failures.c.external_id, link_failures.c.at)

# --- Departments and cases (migration 0012): government departments that take cases with a response tier;
# members join by invite and hold the `department` role. Case: sent → acknowledged → resolved, or returned
# (handed back with a reason); see rules/cases.py.
departments = Table(
    "departments",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("name", String(64), nullable=False, unique=True),
    Column("categories", JSON, nullable=False),
    Column("areas", JSON, nullable=False),
    Column("created_by", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
)

department_members = Table(
    "department_members",
    metadata,
    Column("department_id", Integer, ForeignKey("departments.id", ondelete="CASCADE"), primary_key=True),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("joined_at", UTCDateTime, nullable=False),
)
Index("ix_department_members_user_id", department_members.c.user_id)

# Someone followed a department's invite link: a coordinator approves (they become a member) or rejects
# (pending → approved | rejected; migration 0021).
department_requests = Table(
    "department_requests",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("department_id", Integer, ForeignKey("departments.id", ondelete="CASCADE"), nullable=False),
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("invite_code", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("decided_by", BigInteger),
    Column("decided_at", UTCDateTime),
)
Index("ix_department_requests_user", department_requests.c.user_id, department_requests.c.status)

department_invites = Table(
    "department_invites",
    metadata,
    Column("code", String(32), primary_key=True),
    Column("department_id", Integer, ForeignKey("departments.id", ondelete="CASCADE"), nullable=False),
    Column("created_by", BigInteger, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("max_uses", Integer, nullable=False),
    Column("uses", Integer, nullable=False, server_default="0"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ref_no", Integer, nullable=False, unique=True),
    Column("department_id", Integer, ForeignKey("departments.id"), nullable=False),
    # wish | tip | hot (a hot-topic alert): where the case came from, and its id there.
    Column("source", String(8), nullable=False),
    Column("source_id", Integer, nullable=False),
    # Who is told each step and rates the result (the wish's resident, the tip's reporter; none for a hot topic).
    Column("resident_id", BigInteger),
    Column("category", String(32), nullable=False),
    Column("area", String(64)),
    Column("summary", Text, nullable=False),
    Column("tier", String(12), nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_by", BigInteger),
    Column("created_at", UTCDateTime, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("ack_due_at", UTCDateTime, nullable=False),
    Column("resolve_due_at", UTCDateTime, nullable=False),
    Column("acknowledged_by", BigInteger),
    Column("acknowledged_at", UTCDateTime),
    Column("resolved_at", UTCDateTime),
    Column("resolution_note", Text),
    Column("resolution_media_id", Integer, ForeignKey("media.id")),
    Column("returned_at", UTCDateTime),
    Column("return_reason", Text),
    Column("rating", Integer),
    Column("rated_at", UTCDateTime),
)
Index("ix_cases_status_created_at", cases.c.status, cases.c.created_at)
Index("ix_cases_department_id_created_at", cases.c.department_id, cases.c.created_at)
Index("ix_cases_created_at", cases.c.created_at, cases.c.id)
Index("ix_cases_source_source_id", cases.c.source, cases.c.source_id)

case_events = Table(
    "case_events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("note", Text),
)
Index("ix_case_events_case_id", case_events.c.case_id)

# --- Claim cards (migration 0014): the messages in which a claimer was shown a wish's contact details (a
# channel's message id), so they can be withdrawn — edited to say the wish is no longer theirs — when the claim
# ends by a release or an auto-release.
claim_cards = Table(
    "claim_cards",
    metadata,
    Column("wish_id", Integer, ForeignKey("wishes.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", BigInteger, primary_key=True),
    Column("message_id", BigInteger, primary_key=True),
    # card: edited to say the wish is no longer theirs; pin or media (the place, the photo or voice): deleted.
    Column("kind", String(8), nullable=False, server_default="card"),
)

# Case cards shown to a member as direct replies (their /cases, the card after 签收), which the outbox does not
# record: taken back, like those it sent, when the member leaves the department (migration 0021).
case_cards = Table(
    "case_cards",
    metadata,
    Column("case_id", Integer, ForeignKey("cases.id", ondelete="CASCADE"), primary_key=True),
    Column("person_id", BigInteger, primary_key=True),
    Column("message_id", BigInteger, primary_key=True),
)

# The durable inbox of Telegram updates (channels/telegram/inbox.py): each update as it arrives, deleted in the
# transaction that writes the conversation state after it was handled; what is left at start-up is handled again.
update_inbox = Table(
    "update_inbox",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("chat_key", BigInteger, nullable=False),
    Column("user_id", BigInteger),
    Column("payload", Text, nullable=False),
    Column("received_at", UTCDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
)

# Telegram updates handled, by id, kept 25 hours (issue 30, migration 0029): Telegram keeps an update a day and may
# deliver it again (a webhook retry after a lost answer, a takeover); one found here is not handled twice.
handled_updates = Table(
    "handled_updates",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("handled_at", UTCDateTime, nullable=False),
)
Index("ix_handled_updates_handled_at", handled_updates.c.handled_at)

# The Bot API requests made while handling an update still in the inbox, each recorded as soon as Telegram answered
# it (issue 30, migration 0037, channels/telegram/send_journal.py): handling the update again after a kill, a freeze or
# a cut returns the recorded answer instead of asking Telegram twice. `digest` is the request (method and parameters),
# `occurrence` its count within the update; deleted with the update's inbox row.
update_sends = Table(
    "update_sends",
    metadata,
    Column("update_id", BigInteger, primary_key=True, autoincrement=False),
    Column("digest", String(64), primary_key=True),
    Column("occurrence", Integer, primary_key=True, autoincrement=False),
    Column("user_id", BigInteger),
    Column("answer", Text, nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
)

# Public-opinion events (issue 29, migration 0026): a hot alert, a wish (its whistle), a case or a topic's words
# raised to a level I–IV; each level runs clocks (rules/events.py) that warn, escalate once when missed and stay
# marked; what was done against them is recorded.
events = Table(
    "events",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("ref_no", Integer, nullable=False, unique=True),
    # hot | wish | case | text (a topic's words, in `title`), and its id there (none for text).
    Column("source", String(8), nullable=False),
    Column("source_id", Integer),
    Column("level", Integer, nullable=False),
    Column("title", String(120), nullable=False),
    Column("raised_by", BigInteger),
    Column("raised_at", UTCDateTime, nullable=False),
    Column("status", String(8), nullable=False),
    Column("summary", Text),
    Column("closed_by", BigInteger),
    Column("closed_at", UTCDateTime),
)
Index("ix_events_status_level", events.c.status, events.c.level)
Index("ix_events_source_source_id", events.c.source, events.c.source_id)

event_clocks = Table(
    "event_clocks",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(16), nullable=False),
    Column("due_at", UTCDateTime, nullable=False),
    Column("met_at", UTCDateTime),
    Column("met_by", BigInteger),
    Column("met_what", Text),
    Column("warned_at", UTCDateTime),
    # Set once when the clock ran out unmet: it stays missed even if met later.
    Column("escalated_at", UTCDateTime),
    UniqueConstraint("event_id", "kind", name="uq_event_clocks_event_kind"),
)
Index("ix_event_clocks_open_due", event_clocks.c.met_at, event_clocks.c.due_at)

event_records = Table(
    "event_records",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("event_id", Integer, ForeignKey("events.id", ondelete="CASCADE"), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("actor_id", BigInteger),
    # The clock the record stopped (None: a note, the raise, the close).
    Column("clock", String(16)),
    Column("what", Text, nullable=False),
)
Index("ix_event_records_event_id", event_records.c.event_id)

# Who leads (issue 30, migration 0028): one row per lease `name` ("bot"), its `holder` (an instance id), the fencing
# `epoch` (incremented at every takeover), and `expires_at` in database time (storage/lease.py). (name, epoch) is
# unique so that a takeover, which changes the epoch, waits for the leader's transactions that checked it (they
# hold FOR KEY SHARE on the row), while a renewal, which does not, never waits for them.
leases = Table(
    "leases",
    metadata,
    Column("name", String(40), primary_key=True),
    Column("holder", String(120), nullable=False),
    Column("epoch", Integer, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
    Column("renewed_at", UTCDateTime, nullable=False),
    UniqueConstraint("name", "epoch", name="uq_leases_name_epoch"),
)

# WeCom cards sent and not yet updated (storage/wecom.py, migration 0031): per subject ("wish:12", "case:3") each
# recipient's userid and the response code `message/send` gave for their card, which updates it once within 72
# hours; kept in the database so any instance that receives the press updates every card, after a restart too.
wecom_cards = Table(
    "wecom_cards",
    metadata,
    Column("id", Integer, primary_key=True),
    Column("subject", String(32), nullable=False),
    Column("userid", String(64), nullable=False),
    Column("response_code", String(512), nullable=False),
    Column("sent_at", UTCDateTime, nullable=False),
)
Index("ix_wecom_cards_subject", wecom_cards.c.subject)
Index("ix_wecom_cards_sent_at", wecom_cards.c.sent_at)

# A question a WeCom member was asked after pressing a card's button (storage/wecom.py, migration 0034): why
# 退回, the note or the photo of 办结. One per member, until answered, cancelled or expired; kept in the database
# so whichever instance receives the answer takes it, after a restart too.
wecom_questions = Table(
    "wecom_questions",
    metadata,
    Column("userid", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("subject_id", BigInteger, nullable=False),
    Column("note", Text),
    Column("asked_at", UTCDateTime, nullable=False),
    Column("expires_at", UTCDateTime, nullable=False),
)
