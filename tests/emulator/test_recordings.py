"""Recorded Azure traffic (go-vcr cassettes), replayed against the emulator in recorded mode.

Every interaction with Microsoft.ContainerRegistry is sent again, with the
api-version rewritten to this one and the host to the emulator. The
response must have the recorded status, and every field of the recorded
body (bar timestamps and systemData) must be in the emulator's body with the
same value. Polls follow the emulator's own polling URL until the operation
ends, however many polls the recording made, and must end as the recording
did. Resource-group calls (Microsoft.Resources) are not sent; deleting the
group is imitated by resetting the emulator, as it held only that group.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import yaml

from acr_operator.emulator.options import Options

RECORDINGS = Path(__file__).resolve().parents[3] / "shared" / "arm-recordings" / "aso"
HOST = "https://management.azure.com"

_GROUP_GONE = (
    "Azure answers 404 ResourceGroupNotFound after the group was deleted; the emulator's "
    "resource groups always exist, so deleting the vanished registry answers 204.")

# Interactions where the emulator's response differs on purpose:
# (cassette, interaction index) -> (the emulator's status, its error code or None, reason).
EXCEPTIONS = {
    **{(name, index): (202, None, (
        "In 2022 Azure deleted a registry synchronously (200); the emulator answers 202 with "
        "Location as the 2025-2026 recordings do, and the replay polls that Location until its "
        "final 200."))
       for name, index in [
           ("Test_ContainerRegistry_Registry_CRUD.yaml", 6),
           ("Test_ContainerRegistry_Samples_CreationAndDeletion.yaml", 4),
           ("Test_ContainerRegistry_Samples_CreationAndDeletion.yaml", 8),
           ("Test_Containerregistry_CreationAndDeletion.yaml", 4),
           ("Test_Containerregistry_CreationAndDeletion.yaml", 8),
       ]},
    ("Test_Containerregistry_v1api20230701_CreationAndDeletion.yaml", 17): (
        204, None, _GROUP_GONE),
    ("Test_Containerregistry_v1api20230701_CreationAndDeletion.yaml", 18): (
        404, "ParentResourceNotFound", (
            "Azure answers ResourceGroupNotFound after the group was deleted; the emulator's "
            "groups always exist, so it reports the missing registry instead.")),
    ("Test_Containerregistry_v1api_CreationAndDeletion.yaml", 10): (
        204, None, _GROUP_GONE),
}

# Body fields whose recorded values are times or caller identities.
_VOLATILE = {"systemData", "creationDate", "lastUpdatedTime", "timestamp"}
# A replication reports Syncing for a while after it was provisioned, then Ready. The
# emulator reports Ready at once, as the other recordings show.
_ALSO_ACCEPTED = {("displayStatus", "Syncing"): {"Ready"}}
_POLL = re.compile(r"/(operationStatuses|operationResults)/", re.IGNORECASE)


def _cassettes() -> list:
    if not RECORDINGS.exists():
        return []
    return [pytest.param(p, id=p.stem) for p in sorted(RECORDINGS.glob("*.yaml"))]


def _interactions(path: Path) -> list[tuple[int, dict, dict]]:
    cassette = yaml.safe_load(path.read_text())
    return [(item.get("id", index), item["request"], item["response"])
            for index, item in enumerate(cassette["interactions"])]


def _status(response: dict) -> int:
    return response.get("code") or int(str(response["status"]).split()[0])


def _body(text: str | None) -> object:
    return json.loads(text) if text else None


def _path(url: str) -> str:
    return url.removeprefix(HOST).split("?", 1)[0]


def assert_resembles(recorded: object, actual: object, where: str = "body") -> None:
    """Every recorded field is in `actual` with an equal value, volatile fields excepted."""
    if isinstance(recorded, dict):
        assert isinstance(actual, dict), f"{where}: expected an object, got {actual!r}"
        for name, value in recorded.items():
            if name in _VOLATILE:
                continue
            assert name in actual, f"{where}.{name} is missing from {sorted(actual)}"
            assert_resembles(value, actual[name], f"{where}.{name}")
    elif isinstance(recorded, list):
        assert isinstance(actual, list) and len(actual) == len(recorded), f"{where}: {actual!r}"
        for index, (left, right) in enumerate(zip(recorded, actual)):
            assert_resembles(left, right, f"{where}[{index}]")
    else:
        also = _ALSO_ACCEPTED.get((where.rsplit(".", 1)[-1], recorded), set())
        assert recorded == actual or actual in also, (
            f"{where}: recorded {recorded!r}, emulator {actual!r}")


@pytest.fixture
def options() -> Options:
    return Options(lro="recorded", operation_seconds=2.0, retry_after=0)


@pytest.mark.parametrize("cassette", _cassettes())
async def test_recording_replays(arm, clock, cassette: Path) -> None:
    last_operation = None
    steps = _interactions(cassette)
    index = 0
    while index < len(steps):
        number, request, response = steps[index]
        index += 1
        path = _path(request["url"])
        if "Microsoft.ContainerRegistry" not in path:
            if request["method"] == "DELETE" and "/resourceGroups/" in path:
                assert (await arm.control("POST", "reset")).status == 204
            continue
        if _POLL.search(path):
            # Consume the recorded polls of this operation; the emulator's may be fewer or more.
            while index < len(steps) and _path(steps[index][1]["url"]) == path:
                number, request, response = steps[index]
                index += 1
            assert last_operation is not None, f"#{number}: a poll without an operation"
            polled = await arm.poll_until_done(last_operation, clock)
            assert polled.status == _status(response), (number, polled.body)
            if _body(response.get("body")) is not None:
                assert_resembles(_body(response["body"]), polled.body, f"#{number}")
            continue

        answer = await arm.request(request["method"], path, _body(request.get("body")))

        expected, code, _reason = EXCEPTIONS.get((cassette.name, number),
                                                 (_status(response), None, ""))
        assert answer.status == expected, (number, request["method"], path, answer.body)
        if answer.header("Azure-AsyncOperation") or answer.header("Location"):
            last_operation = answer
        if (cassette.name, number) in EXCEPTIONS:
            if code is not None:
                assert answer.body["error"]["code"] == code
            if expected == 202 and _status(response) == 200:
                assert (await arm.poll_until_done(answer, clock)).status == 200
            continue
        recorded = _body(response.get("body"))
        if isinstance(recorded, dict) and "error" in recorded:
            assert answer.body["error"]["code"] == recorded["error"]["code"], (number, answer.body)
        elif recorded is not None:
            assert_resembles(recorded, answer.body, f"#{number}")


def test_every_cassette_is_replayed() -> None:
    if not RECORDINGS.exists():
        pytest.skip("the recordings are not beside the repository")
    names = {p.name for p in RECORDINGS.glob("*.yaml")}
    assert len(_cassettes()) == len(names) == 12
    assert {name for name, _ in EXCEPTIONS} <= names
