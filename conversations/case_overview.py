"""The coordinators' overview of open cases (/cases on Telegram, 案件 in the WeCom application), written once: every
department's open cases as one message, a heading per department, overdue cases first. A channel passes how it
fills a catalogue text as plain text (`Fill`) and renders the notice its own way."""

from __future__ import annotations

import datetime as dt

from actions import cases
from actions.departments import OpenCase
from actions.messages import Notice
from conversations.figures import Fill
from rules.cases import CaseStatus

SHOWN = 40  # open cases listed (one message within Telegram's 4096 characters)


def overview(
    plain: Fill, now: dt.datetime, tz: dt.tzinfo, groups: list[tuple[str, list[OpenCase]]], *, more: str
) -> Notice:
    """Every department's open cases as one message: a heading per department, overdue cases first; `more` is the
    channel's line for the cases not listed (it names how to export them there)."""
    total = sum(len(found) for _, found in groups)
    overdue = sum(o.missed is not None for _, found in groups for o in found)
    if not total:
        return Notice("case.overview_none", {})
    lines: list[str] = []
    shown = 0
    for name, found in groups:
        if shown >= SHOWN:
            break
        late = sum(o.missed is not None for o in found)
        lines.append(plain("case.overview_department", department=name, count=len(found), overdue=late))
        listed = found[: SHOWN - shown]
        lines += [overview_line(plain, now, tz, o) for o in listed]
        shown += len(listed)
    if shown < total:
        lines.append(plain(more, count=total - shown))
    return Notice("case.overview", {"count": total, "overdue": overdue, "lines": "\n".join(lines)})


def overview_line(plain: Fill, now: dt.datetime, tz: dt.tzinfo, open_case: OpenCase) -> str:
    """One open case on the overview: waiting to be acknowledged or taken (by whom), and overdue by how long or due
    when."""
    case = open_case.shown.case
    values = {
        "ref": open_case.shown.ref,
        "source": cases.source_ref(case),
        "tier": plain(f"case.tier.{case.tier}"),
        "who": open_case.shown.acknowledged_by or "—",
    }
    step = "sent" if case.status == CaseStatus.SENT else "taken"
    if open_case.missed is not None:
        late = round((now - open_case.missed).total_seconds() / 3600, 1)
        return plain(f"case.overview_late_{step}", late=f"{late:g}", **values)
    due = case.ack_due_at if case.status == CaseStatus.SENT else case.resolve_due_at
    return plain(f"case.overview_{step}", due=due.astimezone(tz).strftime("%m-%d %H:%M"), **values)
