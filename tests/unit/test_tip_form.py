"""The tip form's typed drafts (conversations/tip.py): a JSON round trip, a draft Telegram's own /tip kept before
the form was written once still reads (a restart mid-way goes on), and a damaged one starts afresh."""

from __future__ import annotations

import json

import pytest

from conversations.tip import AnswerDraft, TipFile, TipForm


def test_a_form_survives_its_json_round_trip() -> None:
    form = TipForm(
        media=(TipFile("photo", "file-1", "u1", 2048), TipFile("photo", media_id=42)),
        description="桥头积水很深",
        location=(29.3, 117.2),
        category="breaking",
        album="album-7",
        refused_album="album-6",
    )
    assert TipForm.from_json(json.loads(json.dumps(form.to_json()))) == form


def test_a_draft_telegram_kept_before_the_form_still_reads() -> None:
    old = {
        "media": [{"kind": "photo", "file_id": "AgAD", "unique": "u", "size": 100}, {"kind": "video", "file_id": "BA"}],
        "step": "category",
        "album": "9001",
        "description": "东城社区义诊",
        "location": [31.2, 121.5],
        "category": None,
    }
    form = TipForm.from_json(old)
    assert [(f.kind, f.file_id, f.media_id) for f in form.media] == [("photo", "AgAD", None), ("video", "BA", None)]
    assert (form.description, form.location, form.category, form.album) == ("东城社区义诊", (31.2, 121.5), None, "9001")
    assert [f.item().file_id for f in form.media] == ["AgAD", "BA"]
    assert AnswerDraft.from_json({"tip": 3, "album": None}) == AnswerDraft(tip_id=3)


@pytest.mark.parametrize(
    "stored",
    [None, "text", [], {"media": "x"}, {"media": [{"kind": "photo"}], "location": ["north", 1], "category": "spam"}],
)
def test_a_damaged_draft_starts_afresh(stored: object) -> None:
    assert TipForm.from_json(stored) == TipForm()
