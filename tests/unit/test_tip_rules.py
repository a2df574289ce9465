"""The tip lifecycle and the checks on what people send for a tip, without Telegram or a database."""

from __future__ import annotations

import pytest

from rules.roles import Role
from rules.tips import (
    MAX_DOWNLOAD_BYTES,
    LeadStatus,
    TipAction,
    TipInputError,
    TipStatus,
    actions_for,
    check_category,
    check_may_act,
    check_media,
    clean_description,
    clean_link,
    decide_lead,
    next_status,
    parse_tip_reference,
    tip_reference,
)
from storage.errors import Conflict, NotAllowed


@pytest.mark.parametrize(
    ("current", "action", "expected"),
    [
        (TipStatus.NEW, TipAction.ACCEPT, TipStatus.ACCEPTED),
        (TipStatus.NEW, TipAction.DECLINE, TipStatus.DECLINED),
        (TipStatus.NEW, TipAction.ASK_MORE, TipStatus.MORE_INFO_REQUESTED),
        (TipStatus.NEW, TipAction.PUBLISH, TipStatus.PUBLISHED),
        (TipStatus.ACCEPTED, TipAction.PUBLISH, TipStatus.PUBLISHED),
        (TipStatus.ACCEPTED, TipAction.DECLINE, TipStatus.DECLINED),
        (TipStatus.MORE_INFO_REQUESTED, TipAction.ANSWER, TipStatus.NEW),
    ],
)
def test_allowed_transitions(current: TipStatus, action: TipAction, expected: TipStatus) -> None:
    assert next_status(current, action) is expected


@pytest.mark.parametrize(
    ("current", "action"),
    [
        (TipStatus.ACCEPTED, TipAction.ACCEPT),
        (TipStatus.PUBLISHED, TipAction.DECLINE),
        (TipStatus.DECLINED, TipAction.ACCEPT),
        (TipStatus.NEW, TipAction.ANSWER),
        (TipStatus.MORE_INFO_REQUESTED, TipAction.ACCEPT),
    ],
)
def test_refused_transitions_carry_the_current_status(current: TipStatus, action: TipAction) -> None:
    with pytest.raises(Conflict) as caught:
        next_status(current, action)
    assert caught.value.current == current


def test_card_buttons_follow_the_status() -> None:
    assert actions_for(TipStatus.NEW) == [TipAction.ACCEPT, TipAction.DECLINE, TipAction.ASK_MORE, TipAction.PUBLISH]
    assert actions_for(TipStatus.ACCEPTED) == [TipAction.PUBLISH, TipAction.DECLINE]
    assert actions_for(TipStatus.PUBLISHED) == []


def test_only_editors_decide_and_only_the_reporter_answers() -> None:
    check_may_act(TipAction.ACCEPT, actor_id=1, roles={Role.EDITOR}, reporter_id=2)
    with pytest.raises(NotAllowed):
        check_may_act(TipAction.ACCEPT, actor_id=2, roles={Role.RESIDENT, Role.REPORTER}, reporter_id=2)
    check_may_act(TipAction.ANSWER, actor_id=2, roles={Role.RESIDENT}, reporter_id=2)
    with pytest.raises(NotAllowed):
        check_may_act(TipAction.ANSWER, actor_id=1, roles={Role.EDITOR}, reporter_id=2)


@pytest.mark.parametrize(
    "link",
    ["https://news.example.cn/a.html", "http://tv.example.com/v?id=1&x=2", "HTTPS://Example.org/path"],
)
def test_valid_links(link: str) -> None:
    assert clean_link(f"  {link} ") == link


@pytest.mark.parametrize(
    "link",
    ["", "news.example.cn", "ftp://example.com/a", "javascript:alert(1)", "https://", "https://host", "https://a.cn/ b",
     "https://a.cn/" + "x" * 600],
)  # fmt: skip
def test_invalid_links(link: str) -> None:
    with pytest.raises(TipInputError) as caught:
        clean_link(link)
    assert caught.value.key == "review.link_invalid"


def test_description_bounds() -> None:
    assert clean_description("  路灯坏了 ") == "路灯坏了"
    with pytest.raises(TipInputError):
        clean_description("   ")
    with pytest.raises(TipInputError) as caught:
        clean_description("字" * 1001)
    assert caught.value.values["limit"] == 1000


@pytest.mark.parametrize(
    ("kind", "mime", "size", "already", "key"),
    [
        ("photo", "image/jpeg", 1000, 0, None),
        ("video", "video/mp4", MAX_DOWNLOAD_BYTES, 9, None),
        ("document", "image/png", 1000, 0, None),
        ("document", "application/pdf", 1000, 0, "tip.media_unsupported"),
        ("other", None, None, 0, "tip.media_unsupported"),
        ("video", "video/mp4", MAX_DOWNLOAD_BYTES + 1, 0, "tip.media_too_big"),
        ("photo", "image/jpeg", 1000, 10, "tip.media_too_many"),
    ],
)
def test_media_checks(kind: str, mime: str | None, size: int | None, already: int, key: str | None) -> None:
    if key is None:
        check_media(kind, mime_type=mime, file_size=size, already=already)
        return
    with pytest.raises(TipInputError) as caught:
        check_media(kind, mime_type=mime, file_size=size, already=already)
    assert caught.value.key == key


def test_categories_and_references() -> None:
    assert check_category("good_deeds") == "good_deeds"
    with pytest.raises(TipInputError):
        check_category("crafted")
    assert tip_reference(7) == "T-0007"
    assert parse_tip_reference("t-0007") == 7
    assert parse_tip_reference("W-0007") is None


def test_a_lead_is_answered_once() -> None:
    assert decide_lead(LeadStatus.ASKED, agree=True) is LeadStatus.AGREED
    assert decide_lead(LeadStatus.ASKED, agree=False) is LeadStatus.REFUSED
    with pytest.raises(Conflict):
        decide_lead(LeadStatus.AGREED, agree=False)
