"""Each segmented text's terms in one row, for grouping hot topics (issue 29): `text_term_sets`.

`text_term_sets(source, source_id, at, terms, area)`: per wish ("w") or tip ("t") text with stored terms, its
time, its terms (every non-empty `text_terms.term` of the text, joined by a line break, in no order; '' when
it has none) and, for a wish, its area. Kept exact by triggers on `text_terms` (an insert adds its term to the
text's row, a delete or update recomputes the rows of the texts it touched, a text without `text_terms` rows
has none) and on `wishes.area`; filled here from `text_terms`. Topics read the newest texts of a period from
`ix_text_term_sets_at`, one entry per text (on SQLite the index also holds the terms and the area, so the
table is not read), instead of the newest 8,000 (text, term) pairs from `text_terms` grouped per text and a
wish looked up by primary key for each text (CPU per /hot 90 at 100k: about half of it).

A migration that rebuilds `text_terms` or `wishes` (Alembic batch mode on SQLite) drops their triggers and must
create them again (as 0016 says of its own).

Revision ID: 0036
Revises: 0037
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from storage.types import UTCDateTime

revision = "0036"
down_revision = "0037"
branch_labels = None
depends_on = None

# A wish's area, for the text_terms row `{r}` (NULL for a tip).
_AREA = "(SELECT w.area FROM wishes w WHERE {r}source = 'w' AND w.id = {r}source_id)"


def _recomputed(join: str, where: str, *, concat: str) -> str:
    """The rows of the texts selected by `join`/`where`, computed from their `text_terms` rows."""
    return (
        "INSERT INTO text_term_sets (source, source_id, at, terms, area) "
        f"SELECT t.source, t.source_id, max(t.at), coalesce({concat}(nullif(t.term, ''), chr(10)), ''), "
        f"{_AREA.format(r='t.')} FROM text_terms t {join} WHERE {where} GROUP BY t.source, t.source_id"
    )


def _sqlite_triggers() -> list[str]:
    def recompute(r: str) -> str:
        key = f"source = {r}source AND source_id = {r}source_id"
        rebuilt = _recomputed("", f"t.source = {r}source AND t.source_id = {r}source_id", concat="group_concat")
        return f"DELETE FROM text_term_sets WHERE {key}; {rebuilt.replace('chr(10)', 'char(10)')};"

    add = (
        "INSERT INTO text_term_sets (source, source_id, at, terms, area) "
        "VALUES (NEW.source, NEW.source_id, NEW.at, NEW.term, "
        f"CASE WHEN NEW.term = '' THEN {_AREA.format(r='NEW.')} END) "
        "ON CONFLICT (source, source_id) DO UPDATE SET "
        "terms = CASE WHEN excluded.terms = '' THEN terms WHEN terms = '' THEN excluded.terms "
        "ELSE terms || char(10) || excluded.terms END, area = coalesce(area, excluded.area);"
    )
    return [
        f"CREATE TRIGGER text_term_sets_ins AFTER INSERT ON text_terms BEGIN {add} END",
        f"CREATE TRIGGER text_term_sets_del AFTER DELETE ON text_terms BEGIN {recompute('OLD.')} END",
        "CREATE TRIGGER text_term_sets_upd AFTER UPDATE ON text_terms BEGIN "
        f"{recompute('OLD.')} {recompute('NEW.')} END",
        "CREATE TRIGGER text_term_sets_area AFTER UPDATE OF area ON wishes WHEN OLD.area IS NOT NEW.area BEGIN "
        "UPDATE text_term_sets SET area = NEW.area WHERE source = 'w' AND source_id = NEW.id; END",
    ]


PG_OPS = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _pg_triggers() -> list[str]:
    add = (
        _recomputed("", "TRUE", concat="string_agg").replace("FROM text_terms t", "FROM new_rows t")
        + " ON CONFLICT (source, source_id) DO UPDATE SET terms = CASE WHEN excluded.terms = '' THEN "
        "text_term_sets.terms WHEN text_term_sets.terms = '' THEN excluded.terms "
        "ELSE text_term_sets.terms || chr(10) || excluded.terms END, "
        "area = coalesce(text_term_sets.area, excluded.area);"
    )

    def recompute(keys: str) -> str:
        touched = f"(SELECT DISTINCT source, source_id FROM {keys}) k"
        return (
            f"DELETE FROM text_term_sets s USING {touched} WHERE s.source = k.source AND s.source_id = k.source_id; "
            + _recomputed(
                f"JOIN {touched} ON t.source = k.source AND t.source_id = k.source_id", "TRUE", concat="string_agg"
            )
            + ";"
        )

    bodies = {
        "INSERT": add,
        "DELETE": recompute("old_rows"),
        "UPDATE": recompute("(SELECT source, source_id FROM old_rows UNION SELECT source, source_id FROM new_rows) u"),
    }
    statements = []
    for name, referencing in PG_OPS.items():
        function = f"text_term_sets_{name.lower()}"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {bodies[name]} "
            "RETURN NULL; END $$"
        )
        statements.append(
            f"CREATE TRIGGER {function} AFTER {name} ON text_terms REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    statements.append(
        "CREATE FUNCTION text_term_sets_area() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        "UPDATE text_term_sets SET area = NEW.area WHERE source = 'w' AND source_id = NEW.id; RETURN NULL; END $$"
    )
    statements.append(
        "CREATE TRIGGER text_term_sets_area AFTER UPDATE OF area ON wishes FOR EACH ROW "
        "WHEN (OLD.area IS DISTINCT FROM NEW.area) EXECUTE FUNCTION text_term_sets_area()"
    )
    return statements


def upgrade() -> None:
    sqlite = op.get_bind().dialect.name == "sqlite"
    op.create_table(
        "text_term_sets",
        sa.Column("source", sa.String(1), nullable=False),
        sa.Column("source_id", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("at", UTCDateTime, nullable=False),
        sa.Column("terms", sa.Text, nullable=False),
        sa.Column("area", sa.String(64)),
        sa.PrimaryKeyConstraint("source", "source_id", name="pk_text_term_sets"),
    )
    filled = _recomputed("", "TRUE", concat="group_concat" if sqlite else "string_agg")
    op.execute(filled.replace("chr(10)", "char(10)") if sqlite else filled)
    # SQLite reads the newest texts from the index alone; on PostgreSQL the terms (up to a few KB for a long
    # text) could pass a B-tree entry's limit, so the index leads to the rows.
    covering = ["terms", "area"] if sqlite else []
    op.create_index("ix_text_term_sets_at", "text_term_sets", ["at", "source", "source_id", *covering])
    for statement in _sqlite_triggers() if sqlite else _pg_triggers():
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for suffix in ("ins", "del", "upd", "area"):
            op.execute(f"DROP TRIGGER IF EXISTS text_term_sets_{suffix}")
    else:
        op.execute("DROP TRIGGER IF EXISTS text_term_sets_area ON wishes")
        op.execute("DROP FUNCTION IF EXISTS text_term_sets_area()")
        for name in PG_OPS:
            function = f"text_term_sets_{name.lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {function} ON text_terms")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_index("ix_text_term_sets_at", table_name="text_term_sets")
    op.drop_table("text_term_sets")
