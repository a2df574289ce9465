"""What a notice is about (issue 12): /deleteme finds every pending notice about a person through these ids."""

from __future__ import annotations

import ast
import datetime as dt
from pathlib import Path

import pytest

from actions import notices
from actions.buttons import SPECS, Act, Button
from actions.messages import Notice
from storage import privacy


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


def test_case_activity_and_team_buttons_and_conditions_name_their_records() -> None:
    notice = Notice(
        "case.new",
        {},
        (
            (Button("case.button.ack", Act.CASE_ACK, 4),),
            (Button("activity.button.sign_up", Act.ACTIVITY_SIGN_UP, 9),),
            (Button("team.button.approve", Act.TEAM_APPROVE, 2, "77"),),
        ),
    )
    condition = [notices.case_in(5, "sent"), notices.signed_up_for(8), notices.activity_open(10)]
    assert notices.subjects(notice, condition, [77], {"person": [3]}) == {
        "person": [3, 77],
        "case": [4, 5],
        "activity": [8, 9, 10],
        "team": [2],
    }


def test_a_notice_of_an_unmapped_kind_or_without_its_subject_is_warned_of() -> None:
    with pytest.warns(notices.UnmappedNoticeWarning, match="no entry"):
        notices.check_subjects("newfeature.hello", {})
    with pytest.warns(notices.UnmappedNoticeWarning, match="which case"):
        notices.check_subjects("case.taken", {"person": [1]})
    notices.check_subjects("case.taken", {"case": [1]})


def _notice_keys(tree: ast.AST) -> set[str]:
    """Keys of the notices a module builds: `Notice("k", …)`, `Notice(f"k_{x}")` (its constant head),
    `activity_card(…, "k", …)`, and the constants a `key = "a" if … else "b"` picks between."""
    found: set[str] = set()

    def constants(node: ast.AST) -> list[str]:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return [node.value]
        if isinstance(node, ast.JoinedStr) and node.values and isinstance(node.values[0], ast.Constant):
            return [str(node.values[0].value)]
        if isinstance(node, ast.IfExp):
            return constants(node.body) + constants(node.orelse)
        return []

    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name):
            if node.func.id == "Notice" and node.args:
                found.update(constants(node.args[0]))
            elif node.func.id == "activity_card" and len(node.args) > 1:
                found.update(constants(node.args[1]))
        elif isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "key" for t in node.targets):
            found.update(key for key in constants(node.value) if "." in key and ":" not in key)
    return found


def test_every_notice_the_actions_write_has_a_subject_mapping() -> None:
    modules = (Path(__file__).parents[2] / "actions").glob("*.py")
    keys = {key for path in modules for key in _notice_keys(ast.parse(path.read_text()))}
    assert {"case.new", "activity.invitation", "team.join_request", "case.escalated_"} <= keys
    unmapped = sorted(key for key in keys if key.split(".", 1)[0] not in notices.NOTICE_SUBJECTS)
    assert not unmapped, f"add these notice kinds to actions.notices.NOTICE_SUBJECTS: {unmapped}"


def test_every_kind_a_notice_names_is_known_to_the_erasure() -> None:
    named = set(notices._SUBJECT_KIND.values()) | set(notices._CHECK_KIND.values())
    named |= {kind for kinds in notices.NOTICE_SUBJECTS.values() for kind in kinds}
    known = {"person"} | set(privacy._OWNED_SUBJECTS) | privacy.NOT_OWNED_SUBJECTS
    assert named <= known, f"storage.privacy does not know whose records these are: {sorted(named - known)}"
    owned_checks = {key for key, kind in notices._CHECK_KIND.items() if kind in privacy._OWNED_SUBJECTS}
    assert owned_checks <= set(privacy._CONDITION_KINDS), "older rows without `about` are matched by conditions"


def test_every_condition_key_is_a_subject_or_declared_not_one() -> None:
    checks = [
        notices.wish_in(1, "open"),
        notices.tip_in(1, "new"),
        notices.case_in(1, "sent"),
        notices.application_in(1, "pending"),
        notices.holds_role("coordinator"),
        notices.lacks_role("editor"),
        notices.holds_claim(1),
        notices.claimed_by(1, 2),
        notices.activity_open(1, (dt.datetime(2026, 1, 1, tzinfo=dt.UTC), "站")),
        notices.signed_up_for(1),
    ]
    keys = {key for check in checks for key in check}
    assert keys <= set(notices._CHECK_KIND) | notices.NOT_SUBJECTS, keys - set(notices._CHECK_KIND)


def test_every_numbered_button_names_a_kind_of_record_or_says_why_not() -> None:
    numbered = {act for act, spec in SPECS.items() if spec.subject}
    unclassified = numbered - set(notices._SUBJECT_KIND) - set(notices.NOT_SUBJECT_BUTTONS)
    assert not unclassified, f"say in actions/notices.py what these buttons' numbers name: {sorted(unclassified)}"
    assert not set(notices._SUBJECT_KIND) & set(notices.NOT_SUBJECT_BUTTONS)
