"""Secrets end to end: token passwords, admin credentials, webhook inputs, no leaks.

All tests of this module share one namespace and one Premium registry, and
record every secret value they see (passwords read from the Secrets the
operator wrote, webhook URIs and headers they wrote themselves). The last
test scans the operator's log, the namespace's Events, the status of every
custom resource and the emulator's request log for those values, so it
must run after the others, as pytest runs a module's tests in file order.
"""

from __future__ import annotations

import base64
import json
import time
import urllib.request
import uuid

import pytest
from kubernetes import client

from tests.e2e.conftest import GROUP, STATIC_TOKEN, VERSION, wait_for
from tests.e2e.kinds import (
    Resources,
    condition_of,
    registry_manifest,
    request_time,
    unique_name,
)

pytestmark = pytest.mark.e2e

LRO_CONFIG = {"lro": "recorded", "operationSeconds": 2, "retryAfter": 1}
API_VERSION = "2025-06-01-preview"
REGISTRY = "secrets-registry"
MANAGED_BY = ("app.kubernetes.io/managed-by", "acr-operator")
PLURALS = ("registries", "scopemaps", "tokens", "webhooks")

# Every secret value a test of this module has seen; the last test scans for them.
SEEN: set[str] = set()


class Bench:
    """The module's namespace, its registry, and readers for Secrets and the emulator."""

    def __init__(self, api, custom, namespace: str, emulator, azure_name: str):
        self.core = client.CoreV1Api(api)
        self.custom = custom
        self.namespace = namespace
        self.emulator = emulator
        self.azure_name = azure_name
        self.login_server = f"{azure_name}.azurecr.io"

    def of(self, plural: str) -> Resources:
        return Resources(self.custom, self.namespace, plural)

    def secret(self, name: str) -> client.V1Secret | None:
        try:
            return self.core.read_namespaced_secret(name, self.namespace)
        except client.ApiException as error:
            if error.status == 404:
                return None
            raise

    def values(self, name: str) -> dict[str, str]:
        """Return the decoded entries of a Secret, and remember them for the leak scan."""
        secret = self.secret(name)
        assert secret is not None, f"Secret {name} does not exist"
        data = {k: base64.b64decode(v).decode() for k, v in (secret.data or {}).items()}
        SEEN.update(v for k, v in data.items() if k.startswith("password"))
        return data

    def login(self, name: str) -> dict:
        """Return the one login of a dockerconfigjson Secret."""
        secret = self.secret(name)
        assert secret.type == "kubernetes.io/dockerconfigjson"
        document = json.loads(base64.b64decode(secret.data[".dockerconfigjson"]))
        assert list(document["auths"]) == [self.login_server]
        entry = document["auths"][self.login_server]
        SEEN.add(entry["password"])
        return entry

    def valid(self, username: str, password: str) -> bool:
        answer = self.emulator.control("POST", "credential-check", {
            "registry": self.login_server, "username": username, "password": password})
        return answer["valid"]

    def arm_post(self, path: str) -> dict:
        """Send an ARM POST (an action without a body) to the emulator, as a client would."""
        request = urllib.request.Request(
            f"{self.emulator.url}{path}?api-version={API_VERSION}", data=b"", method="POST",
            headers={"Authorization": f"Bearer {STATIC_TOKEN}"})
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def calls(self, operation_id: str, contains: str = "") -> list[dict]:
        return [entry for entry in self.emulator.requests(contains=contains)
                if entry["operationId"] == operation_id]

    def registry_id(self) -> str:
        return self.of("registries").get(REGISTRY)["status"]["id"]


@pytest.fixture(scope="module")
def bench(api, operator, emulator):
    """Return the module's namespace with a Ready Premium registry; delete it at the end."""
    core = client.CoreV1Api(api)
    custom = client.CustomObjectsApi(api)
    namespace = f"e2e-secrets-{uuid.uuid4().hex[:6]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=namespace)))
    emulator.control("PUT", "config", LRO_CONFIG)
    azure_name = unique_name("acrsec")
    setup = Bench(api, custom, namespace, emulator, azure_name)
    setup.of("registries").create(registry_manifest(
        REGISTRY, azure_name=azure_name, properties={"adminUserEnabled": True}))
    setup.of("registries").wait_condition(REGISTRY, "Ready")
    yield setup
    core.delete_namespace(namespace)


@pytest.fixture
def lro(emulator):
    emulator.control("PUT", "config", LRO_CONFIG)


def scope_map(name: str) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "ScopeMap", "metadata": {"name": name},
            "spec": {"registryRef": {"name": REGISTRY},
                     "properties": {"actions": ["repositories/hello/content/read"]}}}


def token(name: str, scope: str, secret_name: str, **passwords) -> dict:
    return {"apiVersion": f"{GROUP}/{VERSION}", "kind": "Token", "metadata": {"name": name},
            "spec": {"registryRef": {"name": REGISTRY}, "azureName": name,
                     "properties": {"scopeMapRef": {"name": scope}},
                     "passwords": {"secretName": secret_name, **passwords}}}


def ready_token(bench: Bench, name: str, secret_name: str, **passwords) -> dict:
    scope = f"{name}-scope"
    bench.of("scopemaps").create(scope_map(scope))
    bench.of("tokens").create(token(name, scope, secret_name, **passwords))
    return bench.of("tokens").wait_condition(name, "Ready", timeout=90)


def generations(bench: Bench, token_name: str) -> list[dict]:
    """Return the GenerateCredentials requests sent for one token (bodies name the token)."""
    return [entry for entry in bench.calls("Registries_GenerateCredentials")
            if str((entry.get("body") or {}).get("tokenId", "")).endswith(f"/tokens/{token_name}")]


# --- token passwords ---------------------------------------------------------------------

def test_token_passwords_reach_secrets(bench, lro):
    obj = ready_token(bench, "tok-pull", "tok-pull-creds")

    data = bench.values("tok-pull-creds")
    assert data["username"] == "tok-pull"
    assert data["loginServer"] == bench.login_server
    assert bench.valid("tok-pull", data["password1"])
    assert bench.valid("tok-pull", data["password2"])
    login = bench.login("tok-pull-creds-dockerconfig")
    assert login["username"] == "tok-pull"
    assert base64.b64decode(login["auth"]).decode() == f"tok-pull:{login['password']}"
    assert bench.valid(login["username"], login["password"])
    state = obj["status"]["passwords"]
    assert state["secretName"] == "tok-pull-creds"
    assert state["dockerConfigSecretName"] == "tok-pull-creds-dockerconfig"
    assert state["password1"]["rotation"] == 0
    assert len(generations(bench, "tok-pull")) == 2


def test_rotation_keeps_one_password_valid(bench, lro):
    tokens = bench.of("tokens")
    before = bench.values("tok-pull-creds")
    generation = tokens.get("tok-pull")["metadata"]["generation"]

    tokens.patch("tok-pull", {"spec": {"passwords": {"rotation": {"password1": 1}}}})

    samples = 0
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        current = bench.values("tok-pull-creds")
        first = bench.valid("tok-pull", current["password1"])
        second = bench.valid("tok-pull", current["password2"])
        samples += 1
        assert first or second, f"no valid password in the Secret at sample {samples}"
        assert second, f"password2 stopped working at sample {samples}"
        obj = tokens.get("tok-pull")
        ready = condition_of(obj, "Ready") or {}
        if (current["password1"] != before["password1"] and ready.get("status") == "True"
                and ready.get("observedGeneration") == generation + 1):
            break
        time.sleep(0.2)
    else:
        raise AssertionError("the rotation of password1 did not finish within 60 s")
    after = bench.values("tok-pull-creds")
    assert after["password2"] == before["password2"]
    assert not bench.valid("tok-pull", before["password1"])
    assert bench.valid("tok-pull", after["password1"])
    assert obj["status"]["passwords"]["password1"]["rotation"] == 1
    assert obj["status"]["passwords"]["password2"]["rotation"] == 0
    assert len(generations(bench, "tok-pull")) == 3
    login = bench.login("tok-pull-creds-dockerconfig")
    assert bench.valid(login["username"], login["password"])


def test_restart_does_not_regenerate(bench, lro, operator, emulator):
    before = bench.values("tok-pull-creds")
    sent = len(generations(bench, "tok-pull"))
    token_id = bench.of("tokens").get("tok-pull")["status"]["id"]

    operator.kill()
    restarted = time.time()
    operator.start()

    # The restarted operator reads the token at least twice (start-up, then a resync).
    wait_for(lambda: len([e for e in emulator.requests(method="GET", contains=token_id)
                          if request_time(e) > restarted]) >= 2,
             timeout=60, what="the restarted operator to read the token twice")
    assert len(generations(bench, "tok-pull")) == sent
    assert bench.values("tok-pull-creds") == before


def test_restart_while_generating_sends_once(bench, operator, emulator):
    emulator.control("PUT", "config", {**LRO_CONFIG, "operationSeconds": 8})
    tokens = bench.of("tokens")
    sent = len(generations(bench, "tok-pull"))
    tokens.patch("tok-pull", {"spec": {"passwords": {"rotation": {"password2": 1}}}})
    wait_for(lambda: (tokens.get("tok-pull")["status"].get("passwords") or {}).get("pending"),
             timeout=30, what="status.passwords.pending")

    operator.kill()
    operator.start()

    obj = tokens.wait_condition("tok-pull", "Ready", timeout=90)
    assert len(generations(bench, "tok-pull")) == sent + 1
    assert obj["status"]["passwords"]["password2"]["rotation"] == 1
    data = bench.values("tok-pull-creds")
    assert bench.valid("tok-pull", data["password2"])
    assert bench.valid("tok-pull", data["password1"])


def test_lost_secret_is_regenerated(bench, lro):
    ready_token(bench, "tok-lost", "tok-lost-creds")
    old = bench.values("tok-lost-creds")

    bench.core.delete_namespaced_secret("tok-lost-creds", bench.namespace)

    wait_for(lambda: (bench.secret("tok-lost-creds") is not None
                      and bench.values("tok-lost-creds")["password1"] != old["password1"]),
             timeout=60, what="the lost Secret to be written again")
    data = bench.values("tok-lost-creds")
    assert bench.valid("tok-lost", data["password1"])
    assert not bench.valid("tok-lost", old["password1"])
    events = bench.core.list_namespaced_event(
        bench.namespace, field_selector="involvedObject.name=tok-lost").items
    assert "SecretLost" in {event.reason for event in events}


def test_foreign_secret_is_not_overwritten(bench, lro):
    bench.core.create_namespaced_secret(bench.namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="taken-creds"), string_data={"note": "mine"}))

    bench.of("scopemaps").create(scope_map("tok-taken-scope"))
    bench.of("tokens").create(token("tok-taken", "tok-taken-scope", "taken-creds"))

    obj = bench.of("tokens").wait_condition("tok-taken", "Stalled", timeout=90)
    assert condition_of(obj, "Ready")["reason"] == "SecretNotOwned"
    assert bench.values("taken-creds") == {"note": "mine"}
    assert generations(bench, "tok-taken") == []


# --- registry admin credentials ----------------------------------------------------------

def test_admin_credentials_export_and_rotate(bench, lro):
    registries = bench.of("registries")
    registries.patch(REGISTRY, {"spec": {"adminCredentials": {"secretName": "admin-creds"}}})
    registries.wait_condition(REGISTRY, "Ready")
    first = wait_for(lambda: bench.secret("admin-creds") and bench.values("admin-creds"),
                     timeout=30, what="the admin Secret")
    assert first["username"] == bench.azure_name
    assert bench.valid(first["username"], first["password"])
    assert bench.valid(first["username"], first["password2"])
    login = bench.login("admin-creds-dockerconfig")
    assert bench.valid(login["username"], login["password"])

    registries.patch(REGISTRY, {"spec": {"adminCredentials": {"rotation": {"password": 1}}}})
    obj = registries.wait_condition(REGISTRY, "Ready")

    def rotated() -> dict | None:
        data = bench.values("admin-creds")
        return data if data["password"] != first["password"] else None

    after = wait_for(rotated, timeout=30, what="the new admin password")
    assert after["password2"] == first["password2"]
    assert bench.valid(after["username"], after["password"])
    assert not bench.valid(after["username"], first["password"])
    regenerated = bench.calls("Registries_RegenerateCredential", bench.azure_name)
    assert [entry["body"] for entry in regenerated] == [{"name": "password"}]
    assert obj["status"]["adminCredentials"]["password"]["rotation"] == 1
    login = bench.login("admin-creds-dockerconfig")
    assert login["password"] == after["password"]


def test_admin_credentials_need_admin_user(bench, lro):
    registries = bench.of("registries")
    registries.patch(REGISTRY, {"spec": {"properties": {"adminUserEnabled": False}}})

    obj = registries.wait_condition(REGISTRY, "Stalled")

    ready = condition_of(obj, "Ready")
    assert ready["reason"] == "AdminUserDisabled"
    assert "spec.properties.adminUserEnabled" in ready["message"]
    assert "spec.adminCredentials" in ready["message"]
    registries.patch(REGISTRY, {"spec": {"properties": {"adminUserEnabled": True}}})
    registries.wait_condition(REGISTRY, "Ready")


# --- webhook secret inputs ---------------------------------------------------------------

def _hook_uri() -> str:
    value = f"https://hooks.example.test/acr/{uuid.uuid4().hex}?code={uuid.uuid4().hex}"
    SEEN.add(value)
    return value


def _header_value() -> str:
    value = f"Bearer {uuid.uuid4().hex}{uuid.uuid4().hex}"
    SEEN.add(value)
    return value


def test_webhook_follows_secret_change(bench, lro, emulator):
    first_uri, header = _hook_uri(), _header_value()
    bench.core.create_namespaced_secret(bench.namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="hook-target"), string_data={"uri": first_uri}))
    hooks = bench.of("webhooks")
    hooks.create({
        "apiVersion": f"{GROUP}/{VERSION}", "kind": "Webhook", "metadata": {"name": "pushhook"},
        "spec": {"registryRef": {"name": REGISTRY}, "location": "westus2",
                 "properties": {"actions": ["push"],
                                "serviceUriSecretRef": {"name": "hook-target", "key": "uri"},
                                "customHeadersSecretRef": {"name": "hook-headers"}}}})
    bench.core.create_namespaced_secret(bench.namespace, client.V1Secret(
        metadata=client.V1ObjectMeta(name="hook-headers"),
        string_data={"Authorization": header}))
    obj = hooks.wait_condition("pushhook", "Ready", timeout=90)
    hook_id = obj["status"]["id"]
    generation = obj["metadata"]["generation"]
    assert bench.arm_post(f"{hook_id}/getCallbackConfig")["serviceUri"] == first_uri

    new_uri = _hook_uri()
    # Right after a resync read, so that only the Secret watch can explain a prompt PATCH.
    seen = len(emulator.requests(method="GET", contains=hook_id))
    wait_for(lambda: len(emulator.requests(method="GET", contains=hook_id)) > seen, timeout=30,
             what="a resync read of the webhook")
    patches = len(emulator.requests(method="PATCH", contains=hook_id))
    changed = time.monotonic()
    bench.core.patch_namespaced_secret("hook-target", bench.namespace,
                                       {"stringData": {"uri": new_uri}})

    wait_for(lambda: len(emulator.requests(method="PATCH", contains=hook_id)) > patches,
             timeout=30, what="a PATCH of the webhook")
    elapsed = time.monotonic() - changed
    assert elapsed < 4, f"the PATCH came {elapsed:.1f} s after the Secret change"
    assert bench.arm_post(f"{hook_id}/getCallbackConfig")["serviceUri"] == new_uri
    assert hooks.get("pushhook")["metadata"]["generation"] == generation
    config = bench.arm_post(f"{hook_id}/getCallbackConfig")
    assert config["customHeaders"] == {"Authorization": header}


def test_webhook_headers_follow_secret(bench, lro, emulator):
    hook_id = bench.of("webhooks").get("pushhook")["status"]["id"]
    header = _header_value()

    bench.core.patch_namespaced_secret("hook-headers", bench.namespace,
                                       {"stringData": {"Authorization": header}})

    wait_for(lambda: bench.arm_post(f"{hook_id}/getCallbackConfig")["customHeaders"]
             == {"Authorization": header}, timeout=30, what="the new header in Azure")


# --- ownership and garbage collection ----------------------------------------------------

def test_written_secrets_are_owned(bench):
    owners = {}
    for plural in PLURALS:
        listing = bench.custom.list_namespaced_custom_object(GROUP, VERSION, bench.namespace,
                                                             plural)
        owners.update({obj["metadata"]["uid"]: obj for obj in listing["items"]})
    selector = f"{MANAGED_BY[0]}={MANAGED_BY[1]}"
    written = bench.core.list_namespaced_secret(bench.namespace, label_selector=selector).items
    names = {secret.metadata.name for secret in written}
    assert {"tok-pull-creds", "tok-pull-creds-dockerconfig", "admin-creds",
            "admin-creds-dockerconfig", "tok-lost-creds"} <= names
    for secret in written:
        [reference] = secret.metadata.owner_references
        assert reference.controller is True
        assert reference.block_owner_deletion is False
        assert reference.api_version == f"{GROUP}/{VERSION}"
        owner = owners.get(reference.uid)
        assert owner is not None, f"Secret {secret.metadata.name} has no live owner"
        assert owner["kind"] == reference.kind
        assert owner["metadata"]["name"] == reference.name


def test_deleting_token_collects_its_secrets(bench):
    bench.values("tok-lost-creds")  # the last values, for the leak scan

    bench.of("tokens").delete("tok-lost")

    bench.of("tokens").wait_gone("tok-lost", timeout=60)
    # The controller-manager's garbage collector finds new CRD types after about 30 s.
    wait_for(lambda: bench.secret("tok-lost-creds") is None
             and bench.secret("tok-lost-creds-dockerconfig") is None,
             timeout=90, what="garbage collection of the token's Secrets")
    assert bench.secret("tok-pull-creds") is not None


# --- no secret value anywhere else -------------------------------------------------------

def test_no_secret_value_leaks(bench, operator, emulator):
    for name in ("tok-pull-creds", "admin-creds"):
        bench.values(name)
    assert len(SEEN) >= 10, "the earlier tests of this module did not run"
    places = {
        "the operator log": operator.log_text(),
        "the emulator request log": json.dumps(emulator.control("GET", "requests")),
        "the namespace's Events": "\n".join(
            f"{event.reason} {event.message}"
            for event in bench.core.list_namespaced_event(bench.namespace).items),
    }
    for plural in PLURALS:
        listing = bench.custom.list_namespaced_custom_object(GROUP, VERSION, bench.namespace,
                                                             plural)
        places[f"the status of {plural}"] = json.dumps(
            [obj.get("status") for obj in listing["items"]])
    for where, text in places.items():
        # The message counts the values and never shows one.
        leaked = sum(1 for value in SEEN if value in text)
        assert leaked == 0, f"{leaked} secret values appear in {where}"

