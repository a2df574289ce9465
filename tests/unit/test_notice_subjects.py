"""What a notice is about (issue 12): /deleteme finds every pending notice about a person through these ids."""

from __future__ import annotations

from actions import notices
from actions.buttons import Act, Button
from actions.messages import Notice


def test_subjects_come_from_conditions_buttons_and_named_people() -> None:
    notice = Notice(
        "whistle.notice",
        {"description": "anything at all"},
        (
            (Button("task.button.claim_today", Act.TASK_CLAIM, 11, "today"),),
            (Button("task.button.next", Act.TASK_PAGE, 2, "0"),),
            (Button("reporter.button_approve", Act.REPORTER_APPROVE, 5),),
        ),
    )
    condition = [notices.wish_in(12, "open"), notices.tip_in(7, "new"), notices.holds_role("volunteer")]
    assert notices.subjects(notice, condition, [42]) == {
        "person": [42],
        "wish": [11, 12],
        "tip": [7],
        "application": [5],
    }


def test_a_notice_about_nothing_names_nothing() -> None:
    assert notices.subjects(Notice("privacy.erased_notice"), [notices.holds_role("coordinator")]) == {}
