"""Hot topics as fast as the word counts were (issue 29): weekly term roll-ups, covering indexes on
`text_terms`, and the alert's topic.

`term_weeks(week, term, n)`: in how many texts of a UTC week (keyed by its Monday, 'YYYY-MM-DD') each term
appears, the empty term counting the texts, kept exact by triggers on `text_terms` beside `term_days` (row
triggers on SQLite, statement triggers with transition tables on PostgreSQL, as in 0016); filled here from
`term_days`. /hot 90 sums 90 days against the 360 before: whole weeks from here and only the days around
them from `term_days` (at most 25 and 64 rows per term instead of 90 and 360).

`ix_text_terms_at_term` becomes `(at, term, source, source_id)`: the newest (text, term) pairs of the period's
leading terms are read from the index alone, in its order (no table row, no sort). `ix_text_terms_term_at`
`(term, at, source, source_id)`: the texts of one term within a period (a topic's exact count when a rising
term joined it).

`hot_alerts` keeps the topic the daily alert names: its leading terms in `term` (as before: one string),
its rise, areas and a quoted example (names and numbers removed).

Revision ID: 0030
Revises: 0029
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0030"
down_revision = "0029"
branch_labels = None
depends_on = None

SQLITE_WEEK = "date(substr({c}, 1, 10), '-6 days', 'weekday 1')"  # the Monday on or before the day
PG_WEEK = "to_char(date_trunc('week', {c} AT TIME ZONE 'UTC'), 'YYYY-MM-DD')"
PG_OPS = {
    "INSERT": "NEW TABLE AS new_rows",
    "DELETE": "OLD TABLE AS old_rows",
    "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
}


def _sqlite_triggers() -> list[str]:
    def week(r: str) -> str:
        return SQLITE_WEEK.format(c=f"{r}at")

    def add(r: str) -> str:
        return (
            f"INSERT INTO term_weeks (week, term, n) SELECT {week(r)}, coalesce({r}term, ''), 1 WHERE 1 = 1 "
            "ON CONFLICT (week, term) DO UPDATE SET n = term_weeks.n + excluded.n;"
        )

    def remove(r: str) -> str:
        match = f"week = {week(r)} AND term = coalesce({r}term, '')"
        return f"UPDATE term_weeks SET n = n - 1 WHERE {match}; DELETE FROM term_weeks WHERE {match} AND n <= 0;"

    return [
        f"CREATE TRIGGER term_weeks_ins AFTER INSERT ON text_terms BEGIN {add('NEW.')} END",
        f"CREATE TRIGGER term_weeks_del AFTER DELETE ON text_terms BEGIN {remove('OLD.')} END",
        "CREATE TRIGGER term_weeks_upd AFTER UPDATE ON text_terms WHEN OLD.at IS NOT NEW.at OR OLD.term IS NOT "
        f"NEW.term BEGIN {remove('OLD.')} {add('NEW.')} END",
    ]


def _pg_triggers() -> list[str]:
    def rows(table: str, sign: str) -> str:
        return f"SELECT {PG_WEEK.format(c='r.at')} AS week, coalesce(r.term, '') AS term, {sign}1 AS n FROM {table} r"

    def body(parts: list[str], shrinks: bool) -> str:
        upsert = (
            f"INSERT INTO term_weeks (week, term, n) SELECT week, term, sum(n) FROM ({' UNION ALL '.join(parts)}) d "
            "GROUP BY week, term HAVING sum(n) <> 0 "
            "ON CONFLICT (week, term) DO UPDATE SET n = term_weeks.n + excluded.n;"
        )
        if not shrinks:
            return upsert
        return (
            f"{upsert} DELETE FROM term_weeks t USING (SELECT DISTINCT {PG_WEEK.format(c='r.at')} AS week, "
            "coalesce(r.term, '') AS term FROM old_rows r) o WHERE t.n <= 0 AND t.week = o.week AND t.term = o.term;"
        )

    bodies = {
        "INSERT": body([rows("new_rows", "")], False),
        "DELETE": body([rows("old_rows", "-")], True),
        "UPDATE": body([rows("old_rows", "-"), rows("new_rows", "")], True),
    }
    statements = []
    for name, referencing in PG_OPS.items():
        function = f"text_terms_weeks_{name.lower()}"
        statements.append(
            f"CREATE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN {bodies[name]} "
            "RETURN NULL; END $$"
        )
        statements.append(
            f"CREATE TRIGGER {function} AFTER {name} ON text_terms REFERENCING {referencing} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION {function}()"
        )
    return statements


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.create_table(
        "term_weeks",
        sa.Column("week", sa.String(10), nullable=False),
        sa.Column("term", sa.String(16), nullable=False),
        sa.Column("n", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("week", "term", name="pk_term_weeks"),
    )
    week = (SQLITE_WEEK if dialect == "sqlite" else PG_WEEK).format(
        c="day" if dialect == "sqlite" else "CAST(day AS date)"
    )
    op.execute(f"INSERT INTO term_weeks (week, term, n) SELECT {week}, term, sum(n) FROM term_days GROUP BY 1, 2")
    for statement in _sqlite_triggers() if dialect == "sqlite" else _pg_triggers():
        op.execute(statement)
    op.drop_index("ix_text_terms_at_term", table_name="text_terms")
    op.create_index("ix_text_terms_at_term", "text_terms", ["at", "term", "source", "source_id"])
    op.create_index("ix_text_terms_term_at", "text_terms", ["term", "at", "source", "source_id"])
    op.add_column("hot_alerts", sa.Column("rise", sa.Float))
    op.add_column("hot_alerts", sa.Column("areas", sa.String(200)))
    op.add_column("hot_alerts", sa.Column("example", sa.String(200)))


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    with op.batch_alter_table("hot_alerts") as batch:
        batch.drop_column("example")
        batch.drop_column("areas")
        batch.drop_column("rise")
    op.drop_index("ix_text_terms_term_at", table_name="text_terms")
    op.drop_index("ix_text_terms_at_term", table_name="text_terms")
    op.create_index("ix_text_terms_at_term", "text_terms", ["at", "term"])
    if dialect == "sqlite":
        for suffix in ("ins", "del", "upd"):
            op.execute(f"DROP TRIGGER IF EXISTS term_weeks_{suffix}")
    else:
        for name in PG_OPS:
            function = f"text_terms_weeks_{name.lower()}"
            op.execute(f"DROP TRIGGER IF EXISTS {function} ON text_terms")
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("term_weeks")
