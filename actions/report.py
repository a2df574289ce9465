"""The monthly report (/report, `/export 月报`): coordinators and admins read one local month's figures.

Effects: none; a read of the month's figures (`rules.monthly_report`). The PDF is drawn by the channel from the
outcome (`rules.report_pdf`), in the reader's language.
"""

from __future__ import annotations

from actions.env import Env
from rules.monthly_report import MonthlyFigures, monthly_figures, parse_report_month
from rules.staff import may
from rules.wishes import Actor
from storage.errors import NotAllowed

# Who reads the report: those who export the centre's data (coordinators and admins).
REPORT_ACTION = "export"


async def month_report(env: Env, actor: Actor, word: str | None) -> MonthlyFigures:
    """The figures of the month `word` names (None: the last full month); `NotAllowed` for anyone but coordinators
    and admins, `ReportMonthError` for a month that cannot be read or has not begun."""
    if actor.user_id is None or not may(actor.roles, REPORT_ACTION):
        raise NotAllowed("report")
    tz = env.settings.tz
    month = parse_report_month(word, env.now(), tz)
    async with env.db.read() as conn:
        return await monthly_figures(conn, month, tz)
