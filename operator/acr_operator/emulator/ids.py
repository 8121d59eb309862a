"""Parsing ARM resource ids of the Microsoft.ContainerRegistry provider.

Error messages, parent checks, listing and polling URLs all need the parts
of an id (subscription, resource group, the type and name pairs below the
provider), so they are split in one place.
"""

from __future__ import annotations

from dataclasses import dataclass

from acr_operator import ARM_PROVIDER

REGISTRY_TYPE = f"{ARM_PROVIDER}/registries"

# Path segments that group resources without being resources themselves:
# archives sit below `registries/<r>/packages/<packageType>`.
_GROUPING_TYPES = {"registries/packages"}


@dataclass(frozen=True)
class ResourceId:
    """An ARM id split into its parts; names keep the caller's casing."""

    subscription: str
    resource_group: str | None
    types: tuple[str, ...]
    names: tuple[str, ...]

    @property
    def type(self) -> str:
        """The ARM resource type, for example `Microsoft.ContainerRegistry/registries/webhooks`."""
        return "/".join((ARM_PROVIDER, *self.types))

    @property
    def name(self) -> str:
        return self.names[-1]

    @property
    def typed_name(self) -> str:
        """The provider path with names, as ARM's ResourceNotFound message shows it."""
        pairs = [f"{t}/{n}" for t, n in zip(self.types, self.names)]
        return "/".join((ARM_PROVIDER, *pairs))

    @property
    def short_type(self) -> str:
        """The type below the provider, for example `registries/webhooks`."""
        return "/".join(self.types)

    @property
    def parent(self) -> ResourceId | None:
        """The nearest resource above this one, skipping grouping segments."""
        types, names = self.types[:-1], self.names[:-1]
        while types and "/".join(types).lower() in _GROUPING_TYPES:
            types, names = types[:-1], names[:-1]
        if not types:
            return None
        return ResourceId(self.subscription, self.resource_group, types, names)

    @property
    def registry(self) -> ResourceId:
        return ResourceId(self.subscription, self.resource_group, self.types[:1], self.names[:1])

    def __str__(self) -> str:
        head = f"/subscriptions/{self.subscription}"
        if self.resource_group is not None:
            head += f"/resourceGroups/{self.resource_group}"
        pairs = "".join(f"/{t}/{n}" for t, n in zip(self.types, self.names))
        return f"{head}/providers/{ARM_PROVIDER}{pairs}"


def parse(resource_id: str) -> ResourceId | None:
    """Split an id of this provider; None when it is not one."""
    parts = resource_id.strip("/").split("/")
    if len(parts) < 4 or parts[0].lower() != "subscriptions":
        return None
    subscription, rest = parts[1], parts[2:]
    group = None
    if rest[0].lower() == "resourcegroups":
        if len(rest) < 2:
            return None
        group, rest = rest[1], rest[2:]
    if len(rest) < 4 or rest[0].lower() != "providers" or rest[1].lower() != ARM_PROVIDER.lower():
        return None
    pairs = rest[2:]
    if len(pairs) % 2 or any(not p for p in pairs):
        return None
    return ResourceId(subscription, group, tuple(pairs[0::2]), tuple(pairs[1::2]))


def key(resource_id: str) -> str:
    """Return the store key of an id, lowercased because ARM compares ids case-insensitively."""
    return resource_id.rstrip("/").lower()
