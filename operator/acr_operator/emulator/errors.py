"""ARM's error responses: the status code plus `{"error": {"code", "message", ...}}`.

Every failure the emulator reports, from the gateway checks to the service
rules, is raised as an `ArmError` and turned into that body in one place,
so clients see the same shape Azure sends.
"""

from __future__ import annotations

from acr_operator.emulator.ids import ResourceId

NOT_FOUND_HELP = "For more details please go to https://aka.ms/ARMResourceNotFoundFix"


class ArmError(Exception):
    """An error response; `details` are nested `{"code", "message", "target"}` objects."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        target: str | None = None,
        details: list[dict] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}

    def body(self) -> dict:
        error: dict = {"code": self.code, "message": self.message}
        if self.target is not None:
            error["target"] = self.target
        if self.details:
            error["details"] = self.details
        return {"error": error}


def bad_request(code: str, message: str, *, target: str | None = None) -> ArmError:
    return ArmError(400, code, message, target=target)


def conflict(code: str, message: str) -> ArmError:
    return ArmError(409, code, message)


def resource_not_found(rid: ResourceId) -> ArmError:
    group = rid.resource_group or ""
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{rid.typed_name}' under resource group '{group}' was not found. "
        + NOT_FOUND_HELP,
    )


def parent_not_found(rid: ResourceId, parent: ResourceId, verb: str) -> ArmError:
    """Build ARM's error for a child whose parent is missing; `verb` is read, write, delete or action."""
    return ArmError(
        404,
        "ParentResourceNotFound",
        f"Failed to perform '{verb}' on resource(s) of type '{rid.short_type}', because the "
        f"parent resource '{parent}' could not be found.",
    )
