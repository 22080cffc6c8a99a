"""One poll's view of the batch's items, indexed once for every run of the apply."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from runner import ownership
from runner.item import Item
from runner.ownership import name_key


@dataclass(frozen=True)
class Listing:
    """The items one poll listed: by id; by name, the one kept where several share a name
    (applies raced on Chats: ownership.survivor); and by name, those this command made
    (`Backend.made_here`; empty where the server keeps no mark)."""

    by_id: dict[str, Item]
    by_name: dict[str, Item]
    made_here: dict[str, list[Item]] = field(default_factory=dict)

    @classmethod
    def of(cls, items: Iterable[Item], made_here: Callable[[Item], bool | None]) -> Listing:
        by_id = {item.id: item for item in items}
        mine: dict[str, list[Item]] = {}
        for item in by_id.values():
            if made_here(item):
                mine.setdefault(name_key(item.owner_name, item.name), []).append(item)
        return cls(by_id, ownership.by_name(by_id.values()), mine)

    def kept(self, owner: str, name: str) -> Item | None:
        """The item every run of every apply follows under `owner/name`."""
        return self.by_name.get(name_key(owner, name))

    def own(self, owner: str, name: str) -> Item | None:
        """The item this command made under `owner/name`: the kept one where it made that,
        else the oldest of its others."""
        made = self.made_here.get(name_key(owner, name))
        if not made:
            return None
        return ownership.survivor(made)

    def stray(self, owner: str, name: str) -> Item | None:
        """An item this command made under `owner/name` that is not the kept one (a younger
        duplicate), if there is one."""
        kept = self.kept(owner, name)
        made = self.made_here.get(name_key(owner, name), [])
        return next((item for item in made if kept is None or item.id != kept.id), None)
