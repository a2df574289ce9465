"""The database schema as SQLAlchemy Core tables: the single description every query and migration follows.

Migrations under `storage/migrations/versions` create these tables step by step; `tests/storage`
checks that the migrated database matches this metadata.
"""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
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

# People who have written to the bot. The id is the Telegram user id (also their private chat id).
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
)

# Granted roles. `admin` is never stored: it comes from ADMIN_IDS at every check.
user_roles = Table(
    "user_roles",
    metadata,
    Column("user_id", BigInteger, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True),
    Column("role", String(16), primary_key=True),
    Column("granted_by", BigInteger),
    Column("granted_at", UTCDateTime, nullable=False),
)

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
