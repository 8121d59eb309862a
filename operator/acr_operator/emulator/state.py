"""The emulator's state and the request being served.

One `Emulator` object contains everything a request can change (store,
operations, faults, log, options). The HTTP layer and the control API share
it, and unit tests build one directly with a manual clock.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from acr_operator.emulator import defaults
from acr_operator.emulator.clock import Clock
from acr_operator.emulator.faults import Faults
from acr_operator.emulator.lro import Operations
from acr_operator.emulator.options import Options
from acr_operator.emulator.requestlog import RequestLog
from acr_operator.emulator.routing import Route
from acr_operator.emulator.store import Store


class Emulator:
    def __init__(self, options: Options | None = None, clock: Clock = time.time) -> None:
        self.options = options or Options()
        self.clock = clock
        self.store = Store()
        self.operations = Operations(clock)
        self.faults = Faults()
        self.log = RequestLog(clock)

    def settle(self) -> None:
        """Finish every long-running operation whose time has come."""
        self.operations.settle()

    def reset(self) -> None:
        """Empty the store, the operations, the faults and the log; options stay."""
        self.store.clear()
        self.operations.clear()
        self.faults.clear()
        self.log.clear()


@dataclass
class Call:
    """One ARM request after routing and validation."""

    method: str
    path: str
    query: dict[str, str]
    route: Route
    # Scheme, host and port the client used, so returned URLs lead back here.
    base: str
    token: str | None = None
    body: object = None
    caller: tuple[str, str] = field(default=("", ""))

    @property
    def params(self) -> dict[str, str]:
        return self.route.params

    @classmethod
    def make(cls, method: str, path: str, query: dict[str, str], route: Route, base: str,
             token: str | None, body: object) -> Call:
        return cls(method, path, query, route, base, token, body,
                   defaults.caller_identity(token))
