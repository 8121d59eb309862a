"""Steps that run after a resource matches its spec: actions and outputs.

Some kinds have more to do than keep one ARM resource in line: export
credentials to a Secret, ping a webhook, refresh usage figures. Each such
step is a hook, an async function that receives a `Step`. A hook may add
its own keys to `step.status`, write Secrets through `ctx.effects`, call ARM
actions through `ctx.client`, and ask for an earlier reconcile through
`step.request_delay`. Hooks run in the order listed in `reconciler.hooks`,
on every reconcile that finds the resource Ready (the resync included), so
each must be idempotent and must send nothing when nothing is due.

A hook returns None when all is well, or a `Verdict` that replaces Ready
(for example when the Secret it must write is refused). An `ArmError` it
raises is handled like any other ARM error of the reconcile.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable

from acr_operator.reconciler.conditions import Verdict
from acr_operator.reconciler.context import Context
from acr_operator.reconciler.placement import Placement


@dataclasses.dataclass
class Step:
    """The part of one reconcile a hook receives: the object, its status being built, the last GET."""

    obj: dict
    status: dict
    placement: Placement
    observed: dict
    ctx: Context
    # The shortest delay a hook asked for, in seconds; None keeps the resync.
    delay: float | None = None

    @property
    def spec(self) -> dict:
        return self.obj.get("spec") or {}

    @property
    def generation(self) -> int | None:
        return self.obj["metadata"].get("generation")

    @property
    def namespace(self) -> str:
        return self.obj["metadata"].get("namespace", "")

    @property
    def name(self) -> str:
        return self.obj["metadata"]["name"]

    def request_delay(self, seconds: float) -> None:
        """Ask for the next reconcile within `seconds` (a rotation or a ping is due then)."""
        self.delay = seconds if self.delay is None else min(self.delay, seconds)


Hook = Callable[[Step], Awaitable[Verdict | None]]


async def run_hooks(hooks: tuple[Hook, ...], step: Step) -> Verdict | None:
    """Run every hook in order; return the first verdict one of them gave, if any.

    The hooks after a failing one still run, because they are independent
    (a failed ping must not stop the usage refresh).
    """
    verdict: Verdict | None = None
    for hook in hooks:
        given = await hook(step)
        if verdict is None:
            verdict = given
    return verdict
