"""Daily roll-ups behind /stats and /hot, so their cost grows with the number of days, not of rows.

`wish_status_days(day, status, n)`, `wish_category_days(day, category, n)`, `wish_area_days(day, area, n)`:
wishes by UTC day of submission and their current status, category, area (one table each, so a period sums
days × a handful of values);
`wish_confirmed_days(day, n, hours)`: confirmed tasks and their hours by UTC day of confirmation;
`tip_days(day, status, n)`: tips by UTC day received and current status; `term_days(day, term, n)`: in how
many texts of a UTC day each term appears (summed from `text_terms`, the empty term counting the texts);
`wish_claim_minutes(minute, n)`, `wish_done_minutes(minute, n)`: how many wishes waited that many whole
minutes from submission to claim / done, so the all-time median waiting time finds its minute from these and
reads the few wishes of that minute through an index on the waiting time (`ix_wishes_claim_minutes`,
`ix_wishes_done_minutes`, partial: end at or after submission).

Kept exact by triggers on the source tables, so every write path (a status change long after the day of
submission, an erasure dropping a person's `text_terms`) moves the counts in the same transaction: row
triggers on SQLite, statement triggers with transition tables on PostgreSQL (one grouped upsert per
statement, so bulk inserts stay bulk). A count that reaches zero loses its row, so no day keeps a word of an
erased text. Existing rows are rolled up here by INSERT … SELECT … GROUP BY. A later SQLite migration that
rebuilds `wishes`, `tips` or `text_terms` (Alembic batch mode: copy and move) drops their triggers and must
create them again.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

from typing import Any, NamedTuple

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


class Rollup(NamedTuple):
    table: str
    source: str
    day_column: str
    keys: tuple[tuple[str, str], ...]  # (roll-up column, source column: NULL becomes '')
    condition: str = ""  # on the source row, with {r} for the row prefix
    hours: bool = False  # also sums the source's `hours`
    minutes: bool = False  # keyed by whole minutes from `created_at` to `day_column`, not by day


def _waited(column: str) -> str:
    return f"{{r}}{column} IS NOT NULL AND {{r}}{column} >= {{r}}created_at"


ROLLUPS = (
    Rollup("wish_status_days", "wishes", "created_at", (("status", "status"),)),
    Rollup("wish_category_days", "wishes", "created_at", (("category", "category"),)),
    Rollup("wish_area_days", "wishes", "created_at", (("area", "area"),)),
    Rollup("wish_confirmed_days", "wishes", "confirmed_at", (), "{r}confirmed_at IS NOT NULL", hours=True),
    Rollup("tip_days", "tips", "created_at", (("status", "status"),)),
    Rollup("term_days", "text_terms", "at", (("term", "term"),)),
    Rollup("wish_claim_minutes", "wishes", "claimed_at", (), _waited("claimed_at"), minutes=True),
    Rollup("wish_done_minutes", "wishes", "done_at", (), _waited("done_at"), minutes=True),
)


def minutes_waited(dialect: str, r: str, column: str) -> str:
    """Minutes (fractional) from submission to `column`: the expression the waiting-time indexes hold and the
    median queries of `storage.stats` repeat verbatim."""
    if dialect == "sqlite":
        return f"((julianday({r}{column}) - julianday({r}created_at)) * 1440)"
    return f"(extract(epoch from ({r}{column} - {r}created_at)) / 60)"


# The waiting-time indexes: the median's rows within one minute bucket, in order.
WAIT_INDEXES = (("ix_wishes_claim_minutes", "claimed_at"), ("ix_wishes_done_minutes", "done_at"))


def _day(dialect: str, column: str) -> str:
    if dialect == "sqlite":
        return f"substr({column}, 1, 10)"  # stored as 'YYYY-MM-DD HH:MM:SS.ffffff' in UTC
    return f"to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD')"


def _key_values(dialect: str, rollup: Rollup, r: str) -> list[str]:
    if rollup.minutes:
        waited = minutes_waited(dialect, r, rollup.day_column)  # never negative (the condition): CAST floors
        first = f"CAST({waited} AS INTEGER)" if dialect == "sqlite" else f"CAST(floor({waited}) AS INTEGER)"
    else:
        first = _day(dialect, f"{r}{rollup.day_column}")
    return [first, *(f"coalesce({r}{src}, '')" for _col, src in rollup.keys)]


def _columns(rollup: Rollup) -> list[str]:
    return ["minute" if rollup.minutes else "day", *(col for col, _src in rollup.keys)]


def _where(rollup: Rollup, r: str) -> str:
    return rollup.condition.format(r=r) if rollup.condition else "1 = 1"


def _upsert_set(rollup: Rollup) -> str:
    sets = [f"n = {rollup.table}.n + excluded.n"]
    if rollup.hours:
        sets.append(f"hours = {rollup.table}.hours + excluded.hours")
    return ", ".join(sets)


def _backfill(dialect: str, rollup: Rollup) -> str:
    keys = _key_values(dialect, rollup, "")
    values = ["count(*)"] + (["coalesce(sum(hours), 0)"] if rollup.hours else [])
    columns = _columns(rollup) + ["n"] + (["hours"] if rollup.hours else [])
    return (
        f"INSERT INTO {rollup.table} ({', '.join(columns)}) SELECT {', '.join(keys + values)} "
        f"FROM {rollup.source} WHERE {_where(rollup, '')} GROUP BY {', '.join(keys)}"
    )


def _sqlite_triggers(rollup: Rollup) -> list[str]:
    columns = _columns(rollup)
    insert_columns = ", ".join(columns + ["n"] + (["hours"] if rollup.hours else []))

    def add(r: str) -> str:
        values = _key_values("sqlite", rollup, r) + ["1"] + ([f"coalesce({r}hours, 0)"] if rollup.hours else [])
        return (
            f"INSERT INTO {rollup.table} ({insert_columns}) SELECT {', '.join(values)} WHERE {_where(rollup, r)} "
            f"ON CONFLICT ({', '.join(columns)}) DO UPDATE SET {_upsert_set(rollup)};"
        )

    def remove(r: str) -> str:
        match = " AND ".join(f"{c} = {v}" for c, v in zip(columns, _key_values("sqlite", rollup, r), strict=True))
        sets = "n = n - 1" + (f", hours = hours - coalesce({r}hours, 0)" if rollup.hours else "")
        return (
            f"UPDATE {rollup.table} SET {sets} WHERE {match} AND {_where(rollup, r)}; "
            f"DELETE FROM {rollup.table} WHERE {match} AND n <= 0;"
        )

    watched = [rollup.day_column, *(src for _c, src in rollup.keys)] + (["hours"] if rollup.hours else [])
    watched += ["created_at"] if rollup.minutes else []
    changed = " OR ".join(f"OLD.{c} IS NOT NEW.{c}" for c in watched)
    name = rollup.table
    return [
        f"CREATE TRIGGER {name}_ins AFTER INSERT ON {rollup.source} BEGIN {add('NEW.')} END",
        f"CREATE TRIGGER {name}_del AFTER DELETE ON {rollup.source} BEGIN {remove('OLD.')} END",
        f"CREATE TRIGGER {name}_upd AFTER UPDATE ON {rollup.source} WHEN {changed} "
        f"BEGIN {remove('OLD.')} {add('NEW.')} END",
    ]


def _pg_body(rollup: Rollup) -> dict[str, str]:
    """Per operation, the statements that move `rollup` by the rows a statement wrote."""
    columns = _columns(rollup)
    keys = ", ".join(columns)
    insert_columns = ", ".join(columns + ["n"] + (["hours"] if rollup.hours else []))

    def rows(table: str, sign: str) -> str:
        values = _key_values("postgresql", rollup, "r.")
        named = [f"{v} AS {c}" for v, c in zip(values, columns, strict=True)]
        named.append(f"{sign}1 AS n")
        if rollup.hours:
            named.append(f"{sign}coalesce(r.hours, 0) AS hours")
        return f"SELECT {', '.join(named)} FROM {table} r WHERE {_where(rollup, 'r.')}"

    def body(parts: list[str], shrinks: bool) -> str:
        sums = "sum(n)" + (", sum(hours)" if rollup.hours else "")
        delta = " UNION ALL ".join(parts)
        upsert = (
            f"INSERT INTO {rollup.table} ({insert_columns}) SELECT {keys}, {sums} FROM ({delta}) d "
            f"GROUP BY {keys} HAVING sum(n) <> 0"
            + (" OR sum(hours) <> 0" if rollup.hours else "")
            + f" ON CONFLICT ({keys}) DO UPDATE SET {_upsert_set(rollup)};"
        )
        if not shrinks:
            return upsert
        # A separate statement: the upsert's own changes are not visible to a later part of the same statement.
        old_keys = ", ".join(
            f"{v} AS {c}" for v, c in zip(_key_values("postgresql", rollup, "r."), columns, strict=True)
        )
        match = " AND ".join(f"t.{c} = o.{c}" for c in columns)
        return (
            f"{upsert} DELETE FROM {rollup.table} t USING (SELECT DISTINCT {old_keys} FROM old_rows r "
            f"WHERE {_where(rollup, 'r.')}) o WHERE t.n <= 0 AND {match};"
        )

    return {
        "INSERT": body([rows("new_rows", "")], False),
        "DELETE": body([rows("old_rows", "-")], True),
        "UPDATE": body([rows("old_rows", "-"), rows("new_rows", "")], True),
    }


REFERENCING = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}
SOURCES = ("wishes", "tips", "text_terms")


def _pg_triggers() -> list[str]:
    """One statement trigger per source table and operation, running the upserts of all its roll-ups."""
    statements = []
    for source in SOURCES:
        for op_name, referencing in REFERENCING.items():
            bodies = " ".join(_pg_body(rollup)[op_name] for rollup in ROLLUPS if rollup.source == source)
            function = f"{source}_rollups_{op_name.lower()}"
            statements.append(
                f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {bodies} "
                "RETURN NULL; END $$"
            )
            statements.append(
                f"CREATE TRIGGER {function} AFTER {op_name} ON {source} REFERENCING {referencing} "
                f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
            )
    return statements


def _create_table(rollup: Rollup) -> None:
    sizes = {"status": 24, "category": 32, "area": 64, "term": 16}
    columns: list[sa.Column[Any]] = [
        sa.Column("minute", sa.Integer, nullable=False)
        if rollup.minutes
        else sa.Column("day", sa.String(10), nullable=False)
    ]
    columns += [sa.Column(col, sa.String(sizes[col]), nullable=False) for col, _src in rollup.keys]
    columns.append(sa.Column("n", sa.Integer, nullable=False))
    if rollup.hours:
        columns.append(sa.Column("hours", sa.Float, nullable=False))
    op.create_table(rollup.table, *columns, sa.PrimaryKeyConstraint(*_columns(rollup), name=f"pk_{rollup.table}"))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for rollup in ROLLUPS:
        _create_table(rollup)
        op.execute(_backfill(dialect, rollup))
        if dialect == "sqlite":
            for statement in _sqlite_triggers(rollup):
                op.execute(statement)
    if dialect != "sqlite":
        for statement in _pg_triggers():
            op.execute(statement)
    for name, column in WAIT_INDEXES:
        op.execute(
            f"CREATE INDEX {name} ON wishes ({minutes_waited(dialect, '', column)}) WHERE {column} >= created_at"
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    for name, _column in WAIT_INDEXES:
        op.drop_index(name, table_name="wishes")
    if dialect == "sqlite":
        for rollup in ROLLUPS:
            for suffix in ("ins", "del", "upd"):
                op.execute(f"DROP TRIGGER IF EXISTS {rollup.table}_{suffix}")
    else:
        for source in SOURCES:
            for op_name in REFERENCING:
                function = f"{source}_rollups_{op_name.lower()}"
                op.execute(f"DROP TRIGGER IF EXISTS {function} ON {source}")
                op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    for rollup in reversed(ROLLUPS):
        op.drop_table(rollup.table)
