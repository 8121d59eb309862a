"""The in-memory resource store.

Resources are kept as the documents ARM returns, keyed by the lowercased
ARM id, because ARM looks ids up case-insensitively but returns them with
the casing the resource was created with. Values that the API never
returns in a GET (webhook callback settings, generated passwords, imported
tags, webhook events) sit beside the document in `hidden`, so that no
read path can leak them by accident.
"""

from __future__ import annotations

import copy
import itertools
from dataclasses import dataclass, field

from acr_operator.emulator import ids


@dataclass
class Entry:
    doc: dict
    hidden: dict = field(default_factory=dict)
    # Creation order, so lists come back in a stable order as ARM's do.
    seq: int = 0

    @property
    def id(self) -> str:
        return self.doc["id"]

    @property
    def type(self) -> str:
        return self.doc["type"]


class Store:
    def __init__(self) -> None:
        self._entries: dict[str, Entry] = {}
        self._counter = itertools.count()

    def get(self, resource_id: str) -> Entry | None:
        return self._entries.get(ids.key(resource_id))

    def put(self, doc: dict, hidden: dict | None = None) -> Entry:
        """Store `doc` under its `id`, keeping creation order and hidden values of a replaced entry."""
        key = ids.key(doc["id"])
        old = self._entries.get(key)
        if old is None:
            entry = Entry(doc, hidden or {}, next(self._counter))
        else:
            entry = Entry(doc, old.hidden if hidden is None else hidden, old.seq)
        self._entries[key] = entry
        return entry

    def remove_tree(self, resource_id: str) -> list[str]:
        """Remove a resource and every resource below it; return the removed ids."""
        key = ids.key(resource_id)
        doomed = [k for k in self._entries if k == key or k.startswith(key + "/")]
        return [self._entries.pop(k).id for k in doomed]

    def children(self, collection_path: str) -> list[Entry]:
        """Entries directly below a collection path such as `.../registries/r/webhooks`."""
        prefix = ids.key(collection_path) + "/"
        found = [e for k, e in self._entries.items()
                 if k.startswith(prefix) and "/" not in k[len(prefix):]]
        return sorted(found, key=lambda e: e.seq)

    def of_type(self, arm_type: str, *, subscription: str | None = None) -> list[Entry]:
        wanted = arm_type.lower()
        found = [e for e in self._entries.values() if e.type.lower() == wanted]
        if subscription is not None:
            prefix = f"/subscriptions/{subscription.lower()}/"
            found = [e for e in found if ids.key(e.id).startswith(prefix)]
        return sorted(found, key=lambda e: e.seq)

    def entries(self) -> list[Entry]:
        return sorted(self._entries.values(), key=lambda e: e.seq)

    def snapshot(self) -> dict[str, dict]:
        """Copy every document into a dict keyed by id."""
        return {e.id: copy.deepcopy(e.doc) for e in self.entries()}

    def clear(self) -> None:
        self._entries.clear()
