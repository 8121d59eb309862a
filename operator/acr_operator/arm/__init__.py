"""ARM access: the HTTP client, its error types and long-running operation records.

This layer knows HTTP and ARM's conventions, nothing about Kubernetes or
custom resources; the reconciler above it decides what an answer means for
an object.
"""

from acr_operator.arm.client import ArmClient, ArmResponse
from acr_operator.arm.errors import (
    ArmBlockedError,
    ArmConflict,
    ArmError,
    ArmNotFound,
    ArmThrottled,
    ArmTransientError,
    ArmUserError,
    ErrorClass,
)

__all__ = [
    "ArmBlockedError",
    "ArmClient",
    "ArmConflict",
    "ArmError",
    "ArmNotFound",
    "ArmResponse",
    "ArmThrottled",
    "ArmTransientError",
    "ArmUserError",
    "ErrorClass",
]
