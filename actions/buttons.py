"""Every button a person can press, as a typed action: `(action, subject, argument)`.

A button is data, not a channel's format: `Button("task.button.done", Act.TASK_DONE, wish.id)`. Each
channel turns it into what it can carry (Telegram: `callback_data`, see `channels/telegram/callbacks.py`;
WeChat later: a menu id or a number) and back. `SPECS` says, per action, whether it carries a subject
(a bounded id) and which arguments it accepts, so a forged press is refused before any handler runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

# Ids people can press on are database ids: bounded so a forged 26-digit id is refused, not an OverflowError.
MAX_SUBJECT = 2**31 - 1


class Act(StrEnum):
    """What a button does. The value is also its stable wire name (Telegram callback prefix)."""

    # /start, /language
    LANGUAGE = "lang"
    # plain words and unknown commands (handlers/plain_words.py)
    MENU = "menu"
    WISH_FROM_TEXT = "plain:wish"
    TIP_FROM_TEXT = "plain:tip"
    PLAIN_NO = "plain:no"
    # /wish conversation
    WISH_NEW = "wish:new"
    WISH_CATEGORY = "wish:cat"
    WISH_AREA = "wish:area"
    WISH_SUBMIT = "wish:submit"
    WISH_EDIT = "wish:edit"
    WISH_FIELD = "wish:field"
    WISH_DISCARD = "wish:discard"
    WISH_JOIN = "wish:join"
    # /mywishes
    WISH_CONFIRM = "wish:confirm"
    WISH_NOT_YET = "wish:notyet"
    WISH_CANCEL = "wish:cancel"
    WISH_RATE = "wish:rate"
    # Channels without reply keyboards (WeChat): "skip this step" and "my wishes" as menu choices
    STEP_SKIP = "step:skip"
    WISH_MINE = "wish:mine"
    WISH_MINE_PAGE = "wish:mypage"
    WISH_SHOW = "wish:show"
    # /volunteer registration
    VOLUNTEER_NEW = "vreg:new"  # "我想当志愿者" in plain words: start the registration
    VOLUNTEER_NAME = "vreg:name"
    VOLUNTEER_SKILL = "vreg:skill"
    VOLUNTEER_SKILLS_DONE = "vreg:skills_done"
    VOLUNTEER_AREA = "vreg:area"
    # /tasks, /mytasks
    TASK_VIEW = "task:view"
    TASK_PAGE = "task:page"
    TASK_CLAIM = "task:claim"
    TASK_DONE = "task:done"
    TASK_RELEASE = "task:release"
    TASK_HOURS = "task:hours"
    TASK_SKIP = "task:skip"
    TASK_MINE_PAGE = "task:mine"
    TASK_SHOW = "task:show"
    # /pending (coordinators)
    PENDING_LIST = "pending:list"
    PENDING_PAGE = "pending:page"
    PENDING_VIEW = "pending:view"
    PENDING_VOLUNTEER_VIEW = "pending:vview"
    PENDING_APPROVE = "pending:approve"
    PENDING_REJECT = "pending:reject"
    PENDING_CATEGORY = "pending:cat"
    PENDING_SET_CATEGORY = "pending:setcat"
    PENDING_SUMMARY = "pending:summary"
    PENDING_VOLUNTEER_APPROVE = "pending:vapprove"
    PENDING_VOLUNTEER_REJECT = "pending:vreject"
    WHISTLE = "whistle"
    # /broadcast
    BROADCAST_AUDIENCE = "bc:aud"
    BROADCAST_SEND = "bc:send"
    BROADCAST_CANCEL = "bc:cancel"
    # /export without a kind
    EXPORT_KIND = "export:kind"
    # /privacy, /deleteme
    # /link: the person asked whether an account may join them
    LINK_YES = "link:yes"
    LINK_NO = "link:no"
    ERASE_YES = "privacy:erase:yes"
    ERASE_NO = "privacy:erase:no"
    # Channels without commands (WeChat): "my data" and "delete my data" as menu choices
    PRIVACY_DATA = "privacy:mydata"
    PRIVACY_ERASE = "privacy:deleteme"
    # /tip (reporters)
    TIP_NEW = "tipnew"
    TIP_CATEGORY = "tipcat"
    TIP_SUBMIT = "tipsubmit"
    TIP_CANCEL = "tipcancel"
    TIP_ANSWER = "tipans"
    LEAD_YES = "tiplead:yes"
    LEAD_NO = "tiplead:no"
    # /review (editors)
    TIP_ACCEPT = "tip:accept"
    TIP_DECLINE = "tip:decline"
    TIP_MORE = "tip:more"
    TIP_PUBLISH = "tip:publish"
    REVIEW_ACCEPTED = "tiprev:accepted"
    REVIEW_APPLICATIONS = "tiprev:apps"
    REVIEW_PAGE = "tiprev:page"
    REVIEW_ACCEPTED_PAGE = "tiprev:apage"
    REVIEW_VIEW = "tiprev:view"
    REPORTER_APPROVE = "tipapp:approve"
    REPORTER_REJECT = "tipapp:reject"
    # /invite, /invites (coordinators, editors)
    INVITE_MINT = "inv:mint"
    INVITE_REVOKE = "inv:revoke"
    INVITE_PAGE = "inv:page"
    # hot-topic alerts (monitors)
    HOT_WISH = "hot:wish"
    HOT_LEAD = "hot:lead"
    # projects, teams and activities (issue 14)
    TEAM_JOIN = "team:join"
    TEAM_APPROVE = "team:ok"
    TEAM_REJECT = "team:no"
    ACTIVITY_PROJECT = "actnew:proj"
    ACTIVITY_AREA = "actnew:area"
    ACTIVITY_SKILL = "actnew:skill"
    ACTIVITY_SKILLS_DONE = "actnew:skills_done"
    ACTIVITY_SKIP = "actnew:skip"
    ACTIVITY_PUBLISH = "actnew:publish"
    ACTIVITY_DISCARD = "actnew:discard"
    ACTIVITY_SIGN_UP = "act:signup"
    ACTIVITY_CANCEL = "act:cancel"
    ACTIVITY_PAGE = "act:page"
    ACTIVITY_ROSTER = "act:roster"
    ACTIVITY_CODE = "act:code"
    ROSTER_MORE = "roster:up"
    ROSTER_LESS = "roster:down"
    ROSTER_NO_SHOW = "roster:noshow"
    ROSTER_CONFIRM = "roster:confirm"
    ACTIVITY_PHOTOS = "act:photos"
    ACTIVITY_PHOTOS_DONE = "actphoto:done"
    ACTIVITY_SHARE_YES = "actphoto:yes"
    ACTIVITY_SHARE_NO = "actphoto:no"
    # departments and cases (issue 15)
    DEPARTMENT_INVITE = "dept:invite"
    DEPARTMENT_APPROVE = "dept:approve"
    DEPARTMENT_REJECT = "dept:reject"
    DEPARTMENT_MEMBERS = "dept:members"
    DEPARTMENT_REMOVE = "dept:remove"
    DEPARTMENT_CATEGORY = "dept:cat"
    DEPARTMENT_CATEGORIES_DONE = "dept:catdone"
    CASE_TIER = "dept:tier"  # a department (the subject); "case:" would name a case
    CASE_ACK = "case:ack"
    CASE_RESOLVE = "case:resolve"
    CASE_RETURN = "case:return"
    CASE_NO_PHOTO = "case:nophoto"
    CASE_RATE = "case:rate"
    CASE_PAGE = "case:page"  # a page of a member's /cases
    CASE_SHOW = "case:show"  # one case from /cases: its card with what the member can do
    TIP_TO_CHANNEL = "tip:channel"
    # public-opinion events (issue 29): /event's level buttons
    EVENT_LEVEL = "event:level"


@dataclass(frozen=True, slots=True)
class Spec:
    """What a press of one action carries: a subject id or not, and the arguments it accepts."""

    subject: bool = False
    arg: str | None = None  # a regular expression every argument must match in full; None: no argument

    def accepts(self, subject: int | None, arg: str | None) -> bool:
        """Whether a press with this subject and argument is well formed."""
        if self.subject != (subject is not None):
            return False
        if subject is not None and not 0 <= subject <= MAX_SUBJECT:
            return False
        if self.arg is None:
            return arg is None
        return arg is not None and re.fullmatch(self.arg, arg) is not None


_KEY = r"[a-z][a-z0-9_]{0,31}"
_ID = Spec(subject=True)
_NONE = Spec()

SPECS: dict[Act, Spec] = {
    Act.LANGUAGE: Spec(arg=r"zh-CN|en"),
    Act.MENU: Spec(arg=_KEY),
    # The subject numbers the plain words offered, so an older offer's button is caught as expired.
    Act.WISH_FROM_TEXT: _ID,
    Act.TIP_FROM_TEXT: _ID,
    Act.PLAIN_NO: _ID,
    Act.WISH_NEW: _NONE,
    Act.WISH_CATEGORY: Spec(arg=_KEY),
    Act.WISH_AREA: Spec(arg=r"\d{1,3}|skip"),
    Act.WISH_SUBMIT: _NONE,
    Act.WISH_EDIT: _NONE,
    Act.WISH_FIELD: Spec(arg=_KEY),
    Act.WISH_DISCARD: _NONE,
    Act.WISH_JOIN: _ID,
    Act.WISH_CONFIRM: _ID,
    Act.WISH_NOT_YET: _ID,
    Act.WISH_CANCEL: _ID,
    Act.WISH_RATE: Spec(subject=True, arg=r"[1-5]"),
    Act.STEP_SKIP: _NONE,
    Act.WISH_MINE: _NONE,
    Act.WISH_MINE_PAGE: Spec(subject=True),  # the page of /mywishes
    Act.WISH_SHOW: _ID,  # one of the resident's wishes, from /mywishes
    Act.VOLUNTEER_NEW: _NONE,
    Act.VOLUNTEER_NAME: _NONE,
    Act.VOLUNTEER_SKILL: Spec(arg=_KEY),
    Act.VOLUNTEER_SKILLS_DONE: _NONE,
    Act.VOLUNTEER_AREA: Spec(arg=r"\d{1,3}"),
    Act.TASK_VIEW: _ID,
    # /tasks paging: the page number, then "show all?" and optionally the edge wish of the page seen
    # (n42: the page after wish 42, p42: the page before it; keyset pagination).
    Act.TASK_PAGE: Spec(subject=True, arg=r"[01](?:[np]\d{1,10})?"),
    Act.TASK_CLAIM: Spec(subject=True, arg=r"today|tomorrow|week"),
    Act.TASK_DONE: _ID,
    Act.TASK_RELEASE: _ID,
    Act.TASK_HOURS: Spec(arg=r"\d{1,2}(\.5)?"),
    Act.TASK_SKIP: Spec(arg=r"proof|note"),  # which optional step: a double tap must not skip the next one
    Act.TASK_MINE_PAGE: Spec(subject=True),  # the page of /mytasks
    Act.TASK_SHOW: _ID,  # one held task's details, from /mytasks
    Act.PENDING_LIST: _NONE,
    Act.PENDING_PAGE: Spec(subject=True),  # the page of /pending
    Act.PENDING_VIEW: _ID,  # a waiting wish's card, from /pending
    Act.PENDING_VOLUNTEER_VIEW: _ID,  # a volunteer application's card, from /pending
    Act.PENDING_APPROVE: _ID,
    Act.PENDING_REJECT: _ID,
    Act.PENDING_CATEGORY: _ID,
    Act.PENDING_SET_CATEGORY: Spec(subject=True, arg=_KEY),
    Act.PENDING_SUMMARY: _ID,
    Act.PENDING_VOLUNTEER_APPROVE: _ID,
    Act.PENDING_VOLUNTEER_REJECT: _ID,
    Act.WHISTLE: _ID,
    Act.BROADCAST_AUDIENCE: Spec(arg=_KEY),
    Act.BROADCAST_SEND: _NONE,
    Act.BROADCAST_CANCEL: _NONE,
    # The kind and the local dates of the range asked for (`rules.exports.kind_choice`).
    Act.EXPORT_KIND: Spec(arg=r"(wishes|tips|hours|cases)(_\d{4}-\d{2}-\d{2}){2}"),
    Act.LINK_YES: _ID,
    Act.LINK_NO: _ID,
    Act.ERASE_YES: _NONE,
    Act.ERASE_NO: _NONE,
    Act.PRIVACY_DATA: _NONE,
    Act.PRIVACY_ERASE: _NONE,
    Act.TIP_NEW: _NONE,
    Act.TIP_CATEGORY: Spec(arg=_KEY),
    Act.TIP_SUBMIT: _NONE,
    Act.TIP_CANCEL: _NONE,
    Act.TIP_ANSWER: _ID,
    Act.LEAD_YES: _ID,
    Act.LEAD_NO: _ID,
    # Review buttons carry the status the editor saw, so a press on a stale card is caught.
    Act.TIP_ACCEPT: Spec(subject=True, arg=r"[a-z]{1,3}"),
    Act.TIP_DECLINE: Spec(subject=True, arg=r"[a-z]{1,3}"),
    Act.TIP_MORE: Spec(subject=True, arg=r"[a-z]{1,3}"),
    Act.TIP_PUBLISH: Spec(subject=True, arg=r"[a-z]{1,3}"),
    Act.REVIEW_ACCEPTED: _NONE,
    Act.REVIEW_APPLICATIONS: _NONE,
    Act.REVIEW_PAGE: Spec(subject=True),  # the page of /review
    Act.REVIEW_ACCEPTED_PAGE: Spec(subject=True),  # the page of the accepted tips
    Act.REVIEW_VIEW: _ID,  # a tip's media and card, from either list
    Act.REPORTER_APPROVE: _ID,
    Act.REPORTER_REJECT: _ID,
    Act.HOT_WISH: _ID,
    Act.HOT_LEAD: _ID,
    Act.TEAM_JOIN: _ID,
    # Join requests: the team as subject, the person asking as argument.
    Act.TEAM_APPROVE: Spec(subject=True, arg=r"\d{1,19}"),
    Act.TEAM_REJECT: Spec(subject=True, arg=r"\d{1,19}"),
    Act.ACTIVITY_PROJECT: _ID,
    Act.ACTIVITY_AREA: Spec(arg=r"\d{1,3}|any"),
    Act.ACTIVITY_SKILL: Spec(arg=_KEY),
    Act.ACTIVITY_SKILLS_DONE: _NONE,
    Act.ACTIVITY_SKIP: _NONE,
    Act.ACTIVITY_PUBLISH: _NONE,
    Act.ACTIVITY_DISCARD: _NONE,
    Act.ACTIVITY_SIGN_UP: _ID,
    Act.ACTIVITY_CANCEL: _ID,
    Act.ACTIVITY_PAGE: Spec(subject=True),  # the page of the upcoming activities
    Act.ACTIVITY_ROSTER: _ID,
    Act.ACTIVITY_CODE: _ID,
    Act.ROSTER_MORE: _ID,
    Act.ROSTER_LESS: _ID,
    Act.ROSTER_NO_SHOW: _ID,
    Act.ROSTER_CONFIRM: _ID,
    Act.ACTIVITY_PHOTOS: _ID,
    Act.ACTIVITY_PHOTOS_DONE: _NONE,
    Act.ACTIVITY_SHARE_YES: _ID,
    Act.ACTIVITY_SHARE_NO: _ID,
    Act.DEPARTMENT_INVITE: _ID,
    Act.DEPARTMENT_APPROVE: _ID,  # a request to join
    Act.DEPARTMENT_REJECT: _ID,
    Act.DEPARTMENT_MEMBERS: _ID,  # a department
    Act.DEPARTMENT_REMOVE: Spec(subject=True, arg=r"\d{1,15}"),  # a department; the member's person id
    # /newdept without categories: the draft's number (an older draft's buttons are caught), a category to toggle.
    Act.DEPARTMENT_CATEGORY: Spec(subject=True, arg=_KEY),
    Act.DEPARTMENT_CATEGORIES_DONE: _ID,
    # /case without a tier: the department, then the source and the tier (`rules.cases.tier_choice`).
    Act.CASE_TIER: Spec(subject=True, arg=r"[wth]\d{1,9}\.[a-z]{1,8}"),
    Act.CASE_ACK: _ID,
    Act.CASE_RESOLVE: _ID,
    Act.CASE_RETURN: _ID,
    Act.CASE_NO_PHOTO: _ID,
    Act.CASE_RATE: Spec(subject=True, arg=r"[1-5]"),
    Act.CASE_PAGE: Spec(subject=True),  # the page of /cases
    Act.CASE_SHOW: _ID,
    Act.TIP_TO_CHANNEL: _ID,
    # The source (h3: hot alert H-3, w42, c1, x7: the person's own topic draft 7) and the level chosen (1–4).
    Act.EVENT_LEVEL: Spec(arg=r"[hwcx]\d{1,9}\.[1-4]"),
    Act.INVITE_MINT: Spec(arg=r"(volunteer|reporter)_(open|review)"),
    Act.INVITE_REVOKE: Spec(arg=r"[A-Za-z0-9_-]{1,32}"),
    Act.INVITE_PAGE: Spec(subject=True),  # the page of /invites
}


@dataclass(frozen=True, slots=True)
class Press:
    """A decoded, well-formed button press."""

    act: Act
    subject: int | None = None
    arg: str | None = None

    @property
    def id(self) -> int:
        """The subject id (for actions that carry one; 0 otherwise)."""
        return self.subject if self.subject is not None else 0


@dataclass(frozen=True, slots=True)
class Button:
    """A button: a label (a message key; a label starting with "=" is shown as is) and what it does."""

    label: str
    act: Act
    subject: int | None = None
    arg: str | None = None

    def __post_init__(self) -> None:
        if not SPECS[self.act].accepts(self.subject, self.arg):
            raise ValueError(f"malformed button {self.act.value} {self.subject!r} {self.arg!r}")

    @property
    def press(self) -> Press:
        """What pressing it means."""
        return Press(self.act, self.subject, self.arg)


# --- the wire format every channel carries a press in: `<action>[:<subject>][:<argument>]` ---------------------

# Longest action names first, so `privacy:erase:yes` is not read as a shorter action plus an argument.
_BY_LENGTH = sorted(Act, key=lambda act: len(act.value), reverse=True)


def press_data(act: Act, subject: int | None = None, arg: str | None = None) -> str:
    """A press as the text a channel carries (Telegram's callback data, WeChat's menu id); ValueError if malformed."""
    if not SPECS[act].accepts(subject, arg):
        raise ValueError(f"malformed press {act.value} {subject!r} {arg!r}")
    return ":".join([act.value, *([str(subject)] if subject is not None else []), *([arg] if arg is not None else [])])


def parse_press(data: str) -> Press | None:
    """The press behind `press_data`'s text, or None when it is not one this bot could have made."""
    for act in _BY_LENGTH:
        if data == act.value:
            rest: list[str] = []
        elif data.startswith(act.value + ":"):
            rest = data[len(act.value) + 1 :].split(":")
        else:
            continue
        spec = SPECS[act]
        subject: int | None = None
        if spec.subject:
            if not rest or not re.fullmatch(r"\d{1,10}", rest[0]):
                return None
            subject = int(rest.pop(0))
        arg = rest.pop(0) if spec.arg is not None and rest else None
        if rest or not spec.accepts(subject, arg):
            return None
        return Press(act, subject, arg)
    return None
