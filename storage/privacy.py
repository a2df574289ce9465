"""Everything stored about one person, found through one registry: for /mydata (export) and /deleteme (erase).

`PERSONAL_DATA` lists, per table, the column that names the person and what erasing them writes
into each identifying column (name, phone, location, photos, free text). Rows stay, so counts and
service hours survive an erasure; only what identifies the person goes. A test fails when a table
exists in the schema that is neither listed here nor declared free of personal data in
`NO_PERSONAL_DATA`, so a feature that adds a table must decide here how it is erased.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Table, and_, cast, delete, func, literal, or_, select, update
from sqlalchemy.ext.asyncio import AsyncConnection

from storage import audit, outbox
from storage.people import TELEGRAM, external_ids_of
from storage.schema import conversation_states, media_refs, metadata, text_terms

ERASED_TEXT = "[erased]"
# What an erased outbox notice becomes (the shape `actions.messages.notice_to_payload` writes).
BLANK_NOTICE: Mapping[str, Any] = {
    "key": "privacy.erased_notice",
    "values": {},
    "buttons": [],
    "photo": None,
    "location": None,
}


@dataclass(frozen=True, slots=True)
class PersonalRows:
    """Rows of `table` that belong to a person through `owner`, and how /deleteme erases them.

    `erase` maps a column to the value written in its place; `delete_rows` drops the rows instead
    (drafts and scratch data that count for nothing).
    """

    table: str
    owner: str
    erase: Mapping[str, object] = field(default_factory=dict)
    delete_rows: bool = False
    # For rows owned through a parent: (this table's column, parent table, parent key). `owner` is then
    # the parent's column naming the person.
    through: tuple[str, str, str] | None = None


PERSONAL_DATA: tuple[PersonalRows, ...] = (
    PersonalRows("users", "id", {"first_name": "", "last_name": None, "username": None, "phone": None}),
    PersonalRows("user_roles", "user_id"),
    # The accounts behind the person: exported, kept by /deleteme (someone writing again is the same person).
    PersonalRows("identities", "person_id"),
    # PTB's scratch data is channel state keyed by the Telegram user id: found through the person's identities.
    PersonalRows("user_data", "person_id", delete_rows=True, through=("user_id", "identities", "external_id")),
    # Their updates not yet handled (the durable inbox, channels/telegram/inbox.py): their messages, deleted like the
    # drafts.
    PersonalRows("update_inbox", "person_id", delete_rows=True, through=("user_id", "identities", "external_id")),
    # What the bot answered while handling those updates (channels/telegram/send_journal.py), deleted with them.
    PersonalRows("update_sends", "person_id", delete_rows=True, through=("user_id", "identities", "external_id")),
    PersonalRows("audit_log", "actor_id"),
    PersonalRows("applications", "user_id", {"reason": None}),
    PersonalRows("application_events", "actor_id", {"note": None}),
    PersonalRows("application_events", "user_id", {"note": None}, through=("application_id", "applications", "id")),
    PersonalRows("invites", "created_by"),
    # Wishes stay (their category, area, times and hours are the statistics); what identifies the
    # resident or the volunteer goes.
    PersonalRows(
        "wishes",
        "resident_id",
        {
            "description": ERASED_TEXT,
            "address": None,
            "latitude": None,
            "longitude": None,
            "phone": None,
            "resident_note": None,
            "reject_reason": None,
        },
    ),
    PersonalRows("wishes", "claimed_by", {"done_note": None}),
    PersonalRows("wish_events", "actor_id", {"note": None}),
    # Notes others wrote about the person's wishes, tips and applications (a reject note may quote them).
    PersonalRows("wish_events", "resident_id", {"note": None}, through=("wish_id", "wishes", "id")),
    PersonalRows("volunteers", "user_id", {"name": "", "phone": None, "latitude": None, "longitude": None}),
    PersonalRows("volunteer_skills", "user_id"),
    PersonalRows("tips", "reporter_id", {"description": ERASED_TEXT, "latitude": None, "longitude": None}),
    PersonalRows(
        "tip_media",
        "reporter_id",
        {"local_path": None},
        through=("tip_id", "tips", "id"),
    ),
    PersonalRows("tip_events", "actor_id", {"note": None}),
    PersonalRows("tip_events", "reporter_id", {"note": None}, through=("tip_id", "tips", "id")),
    PersonalRows("story_leads", "volunteer_id", {"summary": ERASED_TEXT}),
    PersonalRows("outbox", "recipient_id"),
    # A coordinator's own broadcast text may name them; the tally stays.
    PersonalRows("broadcasts", "created_by", {"text": ERASED_TEXT}),
    # Whistles hold ids and times only: exported with /mydata, kept by /deleteme (the dispatch counts stay).
    PersonalRows("whistles", "coordinator_id"),
    PersonalRows("whistles", "claimed_by"),
    # Departments (migration 0012): membership counts for nothing once the person is gone; a case keeps its
    # department, times and rating (the 三率), loses the resident's words and the member's note.
    PersonalRows("departments", "created_by"),
    PersonalRows("department_members", "user_id", delete_rows=True),
    PersonalRows("department_requests", "user_id", delete_rows=True),
    PersonalRows("case_cards", "person_id", delete_rows=True),
    PersonalRows("department_invites", "created_by"),
    PersonalRows("cases", "resident_id", {"summary": ERASED_TEXT}),
    PersonalRows("cases", "acknowledged_by", {"resolution_note": None}),
    PersonalRows("case_events", "actor_id", {"note": None}),
    # Public-opinion events (migration 0026): staff raise, record and close them; the event, its level and clocks
    # stay (the monthly report counts them), the person's own words go.
    PersonalRows("events", "raised_by"),
    PersonalRows("events", "closed_by", {"summary": None}),
    PersonalRows("event_clocks", "met_by", {"met_what": None}),
    PersonalRows("event_records", "actor_id", {"what": ERASED_TEXT}),
    # Following someone else's wish counts for nothing once the person is gone, and notices would reach no one.
    PersonalRows("wish_followers", "user_id", delete_rows=True),
    # A place in a short-lived hold on an offered wish: worth nothing once the person is gone.
    PersonalRows("wish_holds", "user_id", delete_rows=True),
    # Projects, teams and activities (issue 14): ids, times and hours stay (the centre's figures); the name on a
    # certificate and free-text notes go.
    PersonalRows("teams", "leader_id"),
    PersonalRows("team_members", "user_id"),
    PersonalRows("projects", "created_by"),
    PersonalRows("activities", "organizer_id"),
    PersonalRows("signups", "user_id"),
    PersonalRows("activity_events", "actor_id", {"note": None}),
    PersonalRows("activity_photos", "user_id"),
    PersonalRows("certificates", "holder_id", {"holder_name": ERASED_TEXT}),
    # An unused /link code is worth nothing once the person is gone; nor are the requests made to join them, or
    # the wrong codes their accounts sent (kept an hour for the lock-out).
    PersonalRows("link_codes", "person_id", delete_rows=True),
    PersonalRows("link_requests", "person_id", delete_rows=True),
    PersonalRows("link_requests", "person_id", delete_rows=True, through=("external_id", "identities", "external_id")),
    PersonalRows("link_failures", "person_id", delete_rows=True, through=("external_id", "identities", "external_id")),
    # Which of their messages showed them a wish's contact details (message ids only).
    PersonalRows("claim_cards", "person_id", delete_rows=True),
    # Their WeChat callbacks: the account and when they wrote (the text is blanked once handled; handled rows are
    # deleted after KEEP_CALLBACKS by the sweep); the person's go at once.
    PersonalRows("wechat_inbound", "person_id", delete_rows=True, through=("openid", "identities", "external_id")),
    # The WeCom cards a staff member was sent and that wait for an update: their userid and the card's code.
    PersonalRows("wecom_cards", "person_id", delete_rows=True, through=("userid", "identities", "external_id")),
    # The question a WeCom member was asked after a card's button (a case's 办结 note in progress among them).
    PersonalRows("wecom_questions", "person_id", delete_rows=True, through=("userid", "identities", "external_id")),
    # A newsroom lead made from their wish (a story of what was done for them) quotes it.
    PersonalRows("tips", "resident_id", {"description": ERASED_TEXT}, through=("source_wish_ref", "wishes", "ref_no")),
)

# Where a person's photos are referenced: (table, media column, column naming the person, or (column, parent
# table, parent key, parent's column naming the person) for rows owned through a parent). /deleteme deletes their
# channel file references (`media_refs`); the media rows stay as "there was a photo", like the rows pointing at them.
MEDIA_OWNERS: tuple[tuple[str, str, str | tuple[str, str, str, str]], ...] = (
    ("wishes", "photo_media_id", "resident_id"),
    ("wishes", "voice_media_id", "resident_id"),
    ("wishes", "proof_media_id", "claimed_by"),
    ("story_leads", "photo_media_id", "volunteer_id"),
    ("broadcasts", "photo_media_id", "created_by"),
    ("tip_media", "media_id", ("tip_id", "tips", "id", "reporter_id")),
    ("activity_photos", "media_id", "user_id"),
    ("cases", "resolution_media_id", "acknowledged_by"),
    # Saved before any row pointed at it: a WeChat draft's photo (migration 0023).
    ("media", "id", "draft_of"),
)

# Tables that hold nothing that identifies a person (ids and counts only), with the reason.
NO_PERSONAL_DATA: dict[str, str] = {
    "conversation_states": "conversation positions only; erased by key in erase_person",
    "alembic_version": "schema revision",
    "reference_counters": "one counter per kind of reference number",
    "media": "kind and time only; what a channel calls the file is in media_refs",
    "media_refs": "file references of people's photos: erased through the rows that own them (MEDIA_OWNERS)",
    "hot_alerts": "terms and counts over everyone's texts",
    "handled_updates": "Telegram update ids and when they were handled, kept 25 hours; the updates are in update_inbox",
    "wechat_windows": "an account's reply window (last message time, replies since): WeChat's state, kept through "
    "erasure so the confirmation reaches her; the sweep deletes it once closed (forget_stale)",
    "text_terms": "words of wish and tip texts, by text id: erased with the texts in erase_person (_forget_terms)",
    "digest_runs": "which digest occurrences were decided for everyone, and when",
    "leases": "which bot instance leads (host name, process id) and its epoch: no person",
    "wish_status_days": "counts per day and status",
    "wish_category_days": "counts per day and category",
    "wish_area_days": "counts per day and area",
    "wish_confirmed_days": "counts and hours per day",
    "tip_days": "counts per day and status",
    "wish_claim_minutes": "counts per waiting time",
    "wish_done_minutes": "counts per waiting time",
    "term_days": "per day, in how many texts a word appears: a text's words leave with its text_terms rows (a "
    "trigger), and a word no text of that day still holds loses its row",
    "term_weeks": "per week, in how many texts a word appears: kept like term_days (a trigger on text_terms)",
    "text_term_sets": "each text's words in one row, by text id, with its wish's area: a text's row leaves with "
    "its text_terms rows (a trigger)",
}


def registered_tables() -> dict[str, list[PersonalRows]]:
    """The registry by table name, limited to tables that exist in the schema."""
    found: dict[str, list[PersonalRows]] = {}
    for entry in PERSONAL_DATA:
        if entry.table in metadata.tables:
            found.setdefault(entry.table, []).append(entry)
    return found


def _owned(entry: PersonalRows, user_id: int) -> Any:
    """The WHERE clause picking the person's rows of `entry.table`."""
    table = metadata.tables[entry.table]
    if entry.through is None:
        return table.c[entry.owner] == user_id
    column, parent_name, parent_key = entry.through
    parent = metadata.tables[parent_name]
    child = table.c[column]
    if type(child.type) is not type(parent.c[parent_key].type):  # e.g. a Telegram id against identities.external_id
        return cast(child, parent.c[parent_key].type).in_(
            select(parent.c[parent_key]).where(parent.c[entry.owner] == user_id)
        )
    return child.in_(select(parent.c[parent_key]).where(parent.c[entry.owner] == user_id))


def _plain(value: Any) -> Any:
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode("ascii")
    if isinstance(value, dict | list | str | int | float | bool) or value is None:
        return value
    return str(value)


async def collect_personal_data(conn: AsyncConnection, user_id: int) -> dict[str, list[dict[str, Any]]]:
    """Every row of every registered table that belongs to the person, as JSON-ready dicts by table."""
    document: dict[str, list[dict[str, Any]]] = {}
    for name, entries in registered_tables().items():
        table: Table = metadata.tables[name]
        seen: set[tuple[Any, ...]] = set()
        for entry in entries:
            rows = (await conn.execute(select(table).where(_owned(entry, user_id)))).mappings().all()
            for row in rows:
                key = tuple(row[c.name] for c in table.primary_key.columns) or tuple(row.values())
                if key in seen:
                    continue
                seen.add(key)
                document.setdefault(name, []).append({column: _plain(value) for column, value in row.items()})
    if "media_refs" in metadata.tables:
        refs: dict[tuple[Any, ...], dict[str, Any]] = {}
        for owned in _media_of(user_id):
            for row in (await conn.execute(select(media_refs).where(media_refs.c.media_id.in_(owned)))).mappings():
                refs[(row["media_id"], row["channel"])] = {column: _plain(value) for column, value in row.items()}
        if refs:
            document["media_refs"] = list(refs.values())
    return document


@dataclass(frozen=True, slots=True)
class Erasure:
    """What /deleteme changed: rows touched per table, and media files on disk to remove after commit."""

    touched: dict[str, int]
    files: list[str]


async def erase_person(conn: AsyncConnection, user_id: int, *, now: dt.datetime) -> Erasure:
    """Erase what identifies the person in every registered table, in the caller's transaction.

    Queued and sent notices to anyone that quote the person (their name, phone, address or place, a
    fragment of what they wrote, a reference to their photos) are blanked too, and the ones not yet
    sent are dropped. The erasure itself is recorded in the audit log, by id only.
    """
    traces = await _traces(conn, user_id)
    files = await _media_files(conn, user_id)
    touched: dict[str, int] = {}
    for name, entries in registered_tables().items():
        table = metadata.tables[name]
        for entry in entries:
            owned = _owned(entry, user_id)
            if entry.delete_rows:
                result = await conn.execute(delete(table).where(owned))
            elif entry.erase:
                values = dict(entry.erase)
                if name == "users":
                    values["erased_at"] = now
                result = await conn.execute(update(table).where(owned).values(**values))
            else:
                continue
            touched[name] = touched.get(name, 0) + (result.rowcount or 0)
    touched["conversation_states"] = await _forget_conversations(conn, user_id)
    touched["media_refs"] = await _forget_media(conn, user_id)
    for name, count in (await _blank_quotes(conn, traces)).items():
        touched[name] = touched.get(name, 0) + count
    touched["text_terms"] = await _forget_terms(conn, user_id)
    if "outbox" in metadata.tables:
        touched["outbox"] = await _blank_notices(conn, user_id, traces, await _subjects_of(conn, user_id))
    await audit.record(conn, actor_id=user_id, action="privacy.erase", subject=f"user:{user_id}", now=now)
    return Erasure(touched, files)


@dataclass(frozen=True)
class Quoting:
    """A free text column that may quote someone, and what is written in place of a text that does. `fragments`:
    a text holding a fragment of what the person wrote quotes them too; not for texts people write for
    themselves (another resident's wish may well say "停水三天了" in the same words)."""

    table: str
    column: str
    blank: str | None = None
    fragments: bool = True


# Free texts written about anyone, blanked wherever they quote an erased person, whoever's row it is: what staff
# write (an audit detail, a note on an event, a case's resolution or return reason, an activity's notes, a
# broadcast), a volunteer's done note naming the resident and her phone, and what other people wrote themselves (a
# neighbour's wish or a reporter's tip naming her).
QUOTING_COLUMNS: tuple[Quoting, ...] = (
    Quoting("audit_log", "detail"),
    Quoting("wish_events", "note"),
    Quoting("tip_events", "note"),
    Quoting("application_events", "note"),
    Quoting("activity_events", "note"),
    Quoting("case_events", "note"),
    Quoting("cases", "resolution_note"),
    Quoting("cases", "return_reason"),
    Quoting("cases", "summary", ERASED_TEXT),
    Quoting("events", "title", ERASED_TEXT),
    Quoting("events", "summary"),
    Quoting("event_clocks", "met_what"),
    Quoting("event_records", "what", ERASED_TEXT),
    Quoting("wishes", "done_note"),
    Quoting("wishes", "resident_note"),
    Quoting("wishes", "description", ERASED_TEXT, fragments=False),
    Quoting("tips", "description", ERASED_TEXT, fragments=False),
    Quoting("story_leads", "summary", ERASED_TEXT),
    Quoting("activities", "title", ERASED_TEXT),
    Quoting("activities", "notes", ""),
    Quoting("activities", "extension_reason"),
    Quoting("broadcasts", "text", ERASED_TEXT),
)


async def _blank_quotes(conn: AsyncConnection, traces: Traces) -> dict[str, int]:
    """Blank the free texts in `QUOTING_COLUMNS` that quote the person (a reject reason naming them); rows stay.

    One UPDATE per column: a text holding any form of a name, phone, address or photo reference (`variants`), or
    that is a fragment of one of their texts, is blanked by the database; no row is read into Python."""
    contains = func.strpos if conn.dialect.name == "postgresql" else func.instr
    touched: dict[str, int] = {}
    for quoting_column in QUOTING_COLUMNS:
        name, blank = quoting_column.table, quoting_column.blank
        if name not in metadata.tables:
            continue
        text = metadata.tables[name].c[quoting_column.column]
        quoting = [
            text.contains(form, autoescape=True)
            for needle in traces.needles | traces.files
            for form in variants(needle)
        ]
        if quoting_column.fragments:
            quoting += [
                and_(func.length(text) >= FRAGMENT_MIN, contains(literal(said), text) > 0) for said in traces.texts
            ]
        if not quoting:
            continue
        result = await conn.execute(
            update(metadata.tables[name]).where(text.is_not(None), or_(*quoting)).values({text.name: blank})
        )
        touched[name] = touched.get(name, 0) + (result.rowcount or 0)
    return touched


async def saved_media_files(conn: AsyncConnection, user_id: int) -> list[str]:
    """The person's photos kept as files under MEDIA_DIR (a `file` reference, relative to it: e.g. the photos
    王阿姨 sent on WeChat, whose media ids expire), read before erasure deletes the references."""
    found: list[str] = []
    for owned in _media_of(user_id):
        rows = await conn.execute(
            select(media_refs.c.file_ref).where(media_refs.c.channel == "file", media_refs.c.media_id.in_(owned))
        )
        found.extend(ref for ref in rows.scalars() if ref)
    return found


def remove_saved_files(media_dir: Path, refs: list[str]) -> None:
    """Delete saved media files (references relative to `media_dir`; none outside it), after the erasure."""
    root = media_dir.resolve()
    for ref in refs:
        path = (media_dir / ref).resolve()
        if path.is_relative_to(root):
            path.unlink(missing_ok=True)


async def _forget_terms(conn: AsyncConnection, user_id: int) -> int:
    """The hot-topic terms stored for the person's wish and tip texts (words of what they wrote) go with the texts,
    and so do those of anyone's text blanked for quoting them (its words may hold her name)."""
    wishes, tips = metadata.tables["wishes"], metadata.tables["tips"]
    removed = 0
    for source, table, owner in (("w", wishes, wishes.c.resident_id), ("t", tips, tips.c.reporter_id)):
        texts = select(table.c.id).where(or_(owner == user_id, table.c.description == ERASED_TEXT))
        result = await conn.execute(
            delete(text_terms).where(text_terms.c.source == source, text_terms.c.source_id.in_(texts))
        )
        removed += result.rowcount or 0
    return removed


def remove_media_files(paths: list[str]) -> None:
    """Delete erased media from disk (after the erasure committed); a file already gone is fine."""
    for path in paths:
        Path(path).unlink(missing_ok=True)


@dataclass
class Traces:
    """What a notice could quote of the person: names, phones and addresses (found anywhere in it), longer
    texts they wrote (a notice value that is a fragment of one quotes them), their places and photo references."""

    needles: set[str] = field(default_factory=set)
    texts: set[str] = field(default_factory=set)
    places: set[tuple[float, float]] = field(default_factory=set)
    files: set[str] = field(default_factory=set)


# Per table: the column naming the person, their identifying short values, their free texts, their photo
# references, and their coordinates. (Photos are media ids now: their references come from `media_refs`
# through MEDIA_OWNERS.)
_TRACES: dict[
    str, tuple[tuple[str, tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, str] | None], ...]
] = {
    "users": (("id", ("first_name", "last_name", "username", "phone"), (), (), None),),
    "volunteers": (("user_id", ("name", "phone"), (), (), ("latitude", "longitude")),),
    "wishes": (
        (
            "resident_id",
            ("phone", "address"),
            ("description", "resident_note"),
            (),
            ("latitude", "longitude"),
        ),
        ("claimed_by", (), ("done_note",), (), None),
    ),
    "tips": (("reporter_id", (), ("description",), (), ("latitude", "longitude")),),
}
# A fragment shorter than this identifies no one alone (and would match half the texts in Chinese).
FRAGMENT_MIN = 6


async def _traces(conn: AsyncConnection, user_id: int) -> Traces:
    """The person's names, phones, addresses, texts, places and photo references, before erasure."""
    traces = Traces()
    for name, owners in _TRACES.items():
        if name not in metadata.tables:
            continue
        table = metadata.tables[name]
        for owner, short_columns, text_columns, file_columns, coordinates in owners:
            rows = (await conn.execute(select(table).where(table.c[owner] == user_id))).mappings().all()
            for row in rows:
                # One-character names would match half the texts in Chinese; they identify no one alone.
                traces.needles.update(str(row[c]) for c in short_columns if row[c] and len(str(row[c])) >= 2)
                traces.texts.update(str(row[c]) for c in text_columns if row[c] and len(str(row[c])) >= FRAGMENT_MIN)
                traces.files.update(str(row[c]) for c in file_columns if row[c])
                if coordinates and row[coordinates[0]] is not None and row[coordinates[1]] is not None:
                    traces.places.add((float(row[coordinates[0]]), float(row[coordinates[1]])))
    if "media_refs" in metadata.tables:
        # Their photos as each channel names them (a notice with `media` shows none once the refs are gone).
        for owned in _media_of(user_id):
            found = await conn.execute(select(media_refs.c.file_ref).where(media_refs.c.media_id.in_(owned)))
            traces.files.update(ref for ref in found.scalars() if ref)
    return traces


async def _media_files(conn: AsyncConnection, user_id: int) -> list[str]:
    """Local copies of the person's tip media."""
    if "tip_media" not in metadata.tables:
        return []
    entry = next(e for e in PERSONAL_DATA if e.table == "tip_media")
    media = metadata.tables["tip_media"]
    rows = await conn.execute(select(media.c.local_path).where(_owned(entry, user_id)))
    return [path for path in rows.scalars() if path]


def _strings(value: Any) -> list[str]:
    """Every string inside a JSON value."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [text for item in value.values() for text in _strings(item)]
    if isinstance(value, list | tuple):
        return [text for item in value for text in _strings(item)]
    return []


def variants(value: str) -> set[str]:
    """A value as it may be stored: raw, HTML-escaped (older notices), JSON-escaped (with or without ASCII escapes)."""
    markup = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return {
        value,
        markup,  # what an HTML renderer made of it before notices held raw values
        markup.replace('"', "&quot;").replace("'", "&#x27;"),
        json.dumps(value)[1:-1],
        json.dumps(value, ensure_ascii=False)[1:-1],
    }


def _quotes(payload: Any, traces: Traces) -> bool:
    """Whether a stored notice quotes the person (values are raw: channels escape only when rendering; rows
    written before that may hold escaped values)."""
    text = json.dumps(payload, ensure_ascii=False, default=str)
    if any(form in text for needle in traces.needles | traces.files for form in variants(needle)):
        return True
    values = payload.get("values") if isinstance(payload, dict) else None
    for value in _strings(values):
        fragment = value.strip().removesuffix("…").strip()
        if len(fragment) >= FRAGMENT_MIN and any(fragment in written for written in traces.texts):
            return True
    location = payload.get("location") if isinstance(payload, dict) else None
    if not location:
        return False
    return any(
        abs(float(location[0]) - lat) < 1e-9 and abs(float(location[1]) - lon) < 1e-9 for lat, lon in traces.places
    )


# The records a person owns, by the kind a notice's subjects name them with (see `actions.notices.subjects`).
_OWNED_SUBJECTS: dict[str, tuple[str, str]] = {
    "wish": ("wishes", "resident_id"),
    "tip": ("tips", "reporter_id"),
    "application": ("applications", "user_id"),
    # A department's case about their wish or tip (its notices name the case, and them as `person`).
    "case": ("cases", "resident_id"),
}
# Kinds of record a notice may name that belong to no one person: an activity, a team (their notices quoting
# someone name that person too, as `person`), a page number of an older row.
NOT_OWNED_SUBJECTS = frozenset({"activity", "team", "page", "event"})
# Notices written before they carried `about`: the kind of record a button's subject names, by action prefix.
_LEGACY_BUTTON_KINDS: tuple[tuple[str, str], ...] = (
    ("pending:vapprove", "application"),
    ("pending:vreject", "application"),
    ("tipapp:", "application"),
    ("tipans", "tip"),
    ("tip:", "tip"),
    ("task:page", "page"),  # a page number, not a record
    ("wish:", "wish"),
    ("task:", "wish"),
    ("pending:", "wish"),
    ("whistle", "wish"),
)
_CONDITION_KINDS = {
    "wish": "wish",
    "claimed": "wish",
    "claimer_of": "wish",
    "tip": "tip",
    "application": "application",
    "case": "case",
}


async def _subjects_of(conn: AsyncConnection, user_id: int) -> dict[str, set[int]]:
    """The person and the records that are about them (their wishes, tips, applications), by kind."""
    found: dict[str, set[int]] = {"person": {user_id}}
    for kind, (name, owner) in _OWNED_SUBJECTS.items():
        if name in metadata.tables:
            table = metadata.tables[name]
            ids = await conn.execute(select(table.c.id).where(table.c[owner] == user_id))
            found[kind] = {int(i) for i in ids.scalars()}
    return found


def _notice_subjects(payload: Any, condition: Any) -> dict[str, set[int]]:
    """What a stored notice is about: its `about`, or for older rows its conditions and buttons."""
    found: dict[str, set[int]] = {}
    if not isinstance(payload, dict):
        return found
    about = payload.get("about")
    if isinstance(about, dict):
        for kind, ids in about.items():
            found[str(kind)] = {int(i) for i in ids if isinstance(i, int)}
        return found
    for check in condition if isinstance(condition, list) else []:
        for key, kind in _CONDITION_KINDS.items():
            if isinstance(check, dict) and isinstance(check.get(key), int):
                found.setdefault(kind, set()).add(int(check[key]))
    for row in payload.get("buttons") or []:
        for button in row:
            if not (isinstance(button, list) and len(button) == 4 and isinstance(button[2], int)):
                continue
            act = str(button[1])
            kind = next((k for prefix, k in _LEGACY_BUTTON_KINDS if act.startswith(prefix)), None)
            if kind is not None:
                found.setdefault(kind, set()).add(button[2])
    return found


def _about(payload: Any, condition: Any, subjects: dict[str, set[int]]) -> bool:
    """Whether a stored notice is about the person or one of their records, whatever its text says."""
    return any(ids & subjects.get(kind, set()) for kind, ids in _notice_subjects(payload, condition).items())


async def _blank_notices(conn: AsyncConnection, user_id: int, traces: Traces, subjects: dict[str, set[int]]) -> int:
    """Blank outbox notices to the person, about them or quoting them; the unsent ones are dropped, not delivered."""
    table = metadata.tables["outbox"]
    rows = (await conn.execute(select(table.c.id, table.c.recipient_id, table.c.payload, table.c.condition))).all()
    blanked = 0
    for row in rows:
        if (
            row.recipient_id != user_id
            and not _about(row.payload, row.condition, subjects)
            and not _quotes(row.payload, traces)
        ):
            continue
        # Dropped only if still pending when the row is written: one the sender took meanwhile is on the wire, and
        # the mark tells the sender to take it back when Telegram answers.
        still_pending = (table.c.id == row.id) & (table.c.status == "pending")
        await conn.execute(update(table).where(still_pending).values(status="dropped"))
        values = {"payload": dict(BLANK_NOTICE), "last_error": outbox.ERASED}
        await conn.execute(update(table).where(table.c.id == row.id).values(values))
        blanked += 1
    return blanked


def _media_of(user_id: int) -> list[Any]:
    """SELECTs of the media ids the person's rows point at (see MEDIA_OWNERS)."""
    found = []
    for name, column, owner in MEDIA_OWNERS:
        if name not in metadata.tables:
            continue
        table = metadata.tables[name]
        if isinstance(owner, str):
            found.append(select(table.c[column]).where(table.c[owner] == user_id))
        else:
            child, parent_name, parent_key, parent_owner = owner
            parent = metadata.tables[parent_name]
            owned = select(parent.c[parent_key]).where(parent.c[parent_owner] == user_id)
            found.append(select(table.c[column]).where(table.c[child].in_(owned)))
    return found


async def _forget_media(conn: AsyncConnection, user_id: int) -> int:
    """Delete every channel's reference to the person's photos, videos and documents."""
    forgotten = 0
    for owned in _media_of(user_id):
        result = await conn.execute(delete(media_refs).where(media_refs.c.media_id.in_(owned)))
        forgotten += result.rowcount or 0
    return forgotten


async def _forget_conversations(conn: AsyncConnection, user_id: int) -> int:
    """Drop the person's unfinished conversations (their keys are JSON lists of Telegram chat and user ids, or
    of a WeChat openid)."""
    telegram_ids: set[int | str] = {int(x) for x in await external_ids_of(conn, user_id, TELEGRAM)}
    telegram_ids |= set(await external_ids_of(conn, user_id, "wechat"))
    rows = (await conn.execute(select(conversation_states.c.name, conversation_states.c.key))).all()
    forgotten = 0
    for row in rows:
        try:
            ids = json.loads(row.key)
        except ValueError:
            continue
        if isinstance(ids, list) and telegram_ids & set(ids):
            await conn.execute(
                delete(conversation_states).where(
                    conversation_states.c.name == row.name, conversation_states.c.key == row.key
                )
            )
            forgotten += 1
    return forgotten


# Handled WeChat callbacks (an account and when it wrote) and photos saved for drafts nobody submitted are kept this
# long, then forgotten by the sweep (`forget_stale`); a WeChat reply window once it has closed (48 hours).
KEEP_CALLBACKS = dt.timedelta(days=7)
KEEP_ABANDONED_PHOTOS = dt.timedelta(days=7)
KEEP_WINDOWS = dt.timedelta(hours=48)


async def forget_stale(conn: AsyncConnection, now: dt.datetime) -> list[str]:
    """Delete handled WeChat callbacks older than `KEEP_CALLBACKS` and reply windows closed for `KEEP_WINDOWS`, and
    forget the photos saved for a draft that no row took (`storage.media.take`) within `KEEP_ABANDONED_PHOTOS` (their
    channel references go; the media row stays as "there was a photo"). Returns the saved files to delete (relative
    to MEDIA_DIR) once the transaction commits."""
    if "wechat_inbound" in metadata.tables:
        inbound = metadata.tables["wechat_inbound"]
        await conn.execute(delete(inbound).where(inbound.c.handled_at < now - KEEP_CALLBACKS))
        windows = metadata.tables["wechat_windows"]
        closed = now - KEEP_WINDOWS
        await conn.execute(
            delete(windows).where(
                or_(windows.c.last_inbound_at.is_(None), windows.c.last_inbound_at < closed),
                or_(windows.c.click_at.is_(None), windows.c.click_at < closed),
            )
        )
    media = metadata.tables["media"]
    abandoned = select(media.c.id).where(
        media.c.draft_of.is_not(None), media.c.created_at < now - KEEP_ABANDONED_PHOTOS
    )
    ids = [int(i) for i in (await conn.execute(abandoned)).scalars()]
    if not ids:
        return []
    files = await conn.execute(
        select(media_refs.c.file_ref).where(media_refs.c.channel == "file", media_refs.c.media_id.in_(ids))
    )
    found = [ref for ref in files.scalars() if ref]
    await conn.execute(delete(media_refs).where(media_refs.c.media_id.in_(ids)))
    await conn.execute(update(media).where(media.c.id.in_(ids)).values(draft_of=None))
    return found
