"""The /wish conversation's typed draft: a JSON round trip, drafts stored before it still read, and a
damaged one starts afresh instead of failing the person's next step."""

from __future__ import annotations

import json

import pytest

from conversations.wish import WishForm


def test_a_form_survives_its_json_round_trip() -> None:
    form = WishForm(
        category="elderly_disabled",
        description="帮忙买菜",
        area="东城社区",
        address="幸福路12号",
        location=(31.2, 121.5),
        photo="file-1",
        phone="13912345678",
        editing=True,
        similar_offered=7,
    )
    assert WishForm.from_json(json.loads(json.dumps(form.to_json()))) == form


def test_a_plain_dict_draft_stored_before_the_form_still_reads() -> None:
    old = {"category": "environment", "description": "垃圾堆积", "location": [31.0, 121.0], "similar_offered": 3}
    form = WishForm.from_json(old)
    assert (form.category, form.description, form.location, form.similar_offered) == (
        "environment",
        "垃圾堆积",
        (31.0, 121.0),
        3,
    )
    assert form.to_draft().location == (31.0, 121.0)


@pytest.mark.parametrize("stored", [None, "text", [], {"location": ["north", 1]}, {"location": [1]}])
def test_a_damaged_draft_starts_an_empty_form(stored: object) -> None:
    assert WishForm.from_json(stored) == WishForm()


def test_wrongly_typed_fields_are_dropped() -> None:
    assert WishForm.from_json({"category": 5, "similar_offered": "7", "phone": None}) == WishForm()
