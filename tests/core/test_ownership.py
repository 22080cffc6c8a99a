"""`runner.ownership` on its own: the marks that make an item a batch's, and which of two items
of one name every apply keeps."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone

from runner import ownership


def test_the_marker_is_stable_and_the_name_fits_coders_limit() -> None:
    assert ownership.marker("nightly") == ownership.marker("nightly")
    assert ownership.marker("nightly") != ownership.marker("nightly-2")
    name = ownership.coder_name("nightly", "a" * ownership.MAX_TASK_NAME_LENGTH)
    assert len(name) == ownership.MAX_CODER_NAME_LENGTH
    assert ownership.base_name("nightly", ownership.coder_name("nightly", "auth")) == "auth"


def test_only_every_mark_agreeing_owns() -> None:
    mine = ownership.coder_name("nightly", "auth")
    assert ownership.owns("nightly", mine, None)  # v2.28: no display names, the name decides
    assert ownership.owns("nightly", mine, "nightly: auth")
    assert ownership.owns("nightly", mine.upper(), None)  # Coder's names are case-insensitive
    assert not ownership.owns("nightly", mine, "nightly-2: auth")  # a display name disagrees
    assert not ownership.owns("nightly-2", mine, None)  # another batch's marker
    assert not ownership.owns("nightly", "nightly-auth", "nightly: auth")  # hand-made
    assert not ownership.owns("nightly", f"-{ownership.marker('nightly')}", None)  # no name


@dataclass(frozen=True)
class Item:
    id: str
    created_at: datetime | None
    owner_name: str = "admin"
    name: str = "auth"


def test_the_oldest_then_the_smallest_id_survives_whatever_the_order() -> None:
    early = datetime(2026, 1, 1, tzinfo=timezone.utc)
    late = datetime(2026, 1, 2, tzinfo=timezone.utc)
    items = [Item("b", late), Item("c", early), Item("a", early), Item("z", None)]
    assert ownership.survivor(items).id == "a"
    assert ownership.survivor(reversed(items)).id == "a"
    assert ownership.survivor([Item("z", None), Item("y", None)]).id == "y"
    shouted = Item("q", late, owner_name="ADMIN", name="AUTH")
    assert ownership.by_name([*items, shouted]) == {"admin/auth": Item("a", early)}
