"""The response a handler produces, before it becomes an aiohttp response.

Handlers return plain `Reply` values so that they can be unit-tested
without a server, and so that the gateway can log and finish every response
in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Reply:
    status: int
    # A JSON value, or None for an empty body.
    body: object = None
    headers: dict[str, str] = field(default_factory=dict)


class Drop(Exception):
    """Raised to close the connection without a response (an injected fault)."""
