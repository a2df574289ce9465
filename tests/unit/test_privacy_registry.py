"""The /deleteme registry covers the whole schema: a new table must say how its personal data is erased."""

from __future__ import annotations

from storage.privacy import NO_PERSONAL_DATA, PERSONAL_DATA
from storage.schema import metadata


def test_every_table_is_either_erasable_or_declared_free_of_personal_data() -> None:
    registered = {entry.table for entry in PERSONAL_DATA}
    unaccounted = set(metadata.tables) - registered - set(NO_PERSONAL_DATA)
    assert not unaccounted, (
        f"tables {sorted(unaccounted)} are not in storage/privacy.py: add a PersonalRows entry saying how "
        "/deleteme erases them, or list them in NO_PERSONAL_DATA with the reason"
    )


def test_registry_names_real_columns() -> None:
    for entry in PERSONAL_DATA:
        if entry.table not in metadata.tables:
            continue
        columns = set(metadata.tables[entry.table].columns.keys())
        if entry.through is None:
            assert entry.owner in columns, entry
        else:
            column, parent, key = entry.through
            assert column in columns, entry
            assert {entry.owner, key} <= set(metadata.tables[parent].columns.keys()), entry
        assert set(entry.erase) <= columns, entry


def test_a_place_in_a_hold_is_dropped_with_the_person() -> None:
    [entry] = [entry for entry in PERSONAL_DATA if entry.table == "wish_holds"]
    assert (entry.owner, entry.delete_rows) == ("user_id", True)
