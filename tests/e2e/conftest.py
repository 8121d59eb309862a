"""Fixtures of the end-to-end suite: emulator, CRDs, the chart's identity, the operator.

The operator runs as a local process, because the control plane has no
nodes. It talks to the API server with a TokenRequest token of the chart's
ServiceAccount, so a verb missing from the chart's RBAC fails here just as
it would in a cluster.
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import pytest
import yaml
from kubernetes import client

from tests.chart.rbac import render_identity
from tests.e2e.rbac_audit import (
    Access,
    granted_access,
    rbac_denials,
    read_events,
    service_account_user,
    unused_grants,
    used_access,
)

ROOT = Path(__file__).resolve().parents[2]
GROUP = "acr-operator.dev"
VERSION = "v1alpha1"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"
OPERATOR_NAMESPACE = "acr-operator-system"
# The operator's own resync interval in the suite: short, so drift tests finish quickly.
RESYNC_SECONDS = 6
STATIC_TOKEN = "emulator-token"
E2E_DIR = Path(__file__).resolve().parent
# Grants that the suite may leave unused, each with the reason. Every other
# grant of the chart must be used by the operator during a run of the whole suite.
RBAC_UNUSED_ALLOWED: dict[Access, str] = {}


def wait_for(predicate, *, timeout: float = 60, interval: float = 0.5, what: str = "condition"):
    """Call predicate until it returns a truthy value, and return that value."""
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = predicate()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}; last value: {last!r}")


class Emulator:
    """A running `acr-operator emulator` process and a client for its control API."""

    def __init__(self, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "w")  # noqa: SIM115 (closed in stop())  # noqa: SIM115 (open for the child's lifetime)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "acr_operator", "emulator", "--host", "127.0.0.1",
             "--port", "0", "--token", STATIC_TOKEN],
            stdout=self._log, stderr=subprocess.STDOUT, cwd=ROOT,
        )
        self.url = wait_for(self._read_url, timeout=30, what="the emulator to listen")

    def _read_url(self) -> str | None:
        if self.process.poll() is not None:
            raise RuntimeError(f"emulator exited: {self.log_path.read_text()[-2000:]}")
        match = re.search(r"emulator listening on (http://127\.0\.0\.1:\d+)", self.log_path.read_text())
        return match.group(1) if match else None

    def control(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            f"{self.url}/_emulator/{path}", data=data, method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def requests(self, *, method: str | None = None, contains: str = "") -> list[dict]:
        """Return the logged ARM requests, optionally only one method and path fragment."""
        entries = self.control("GET", "requests")
        return [
            entry for entry in entries
            if (method is None or entry["method"] == method)
            and contains.lower() in entry["path"].lower()
        ]

    def writes(self, contains: str) -> list[dict]:
        return [
            entry for entry in self.requests(contains=contains)
            if entry["method"] in ("PUT", "PATCH", "DELETE")
            and not entry["path"].lower().endswith("checknameavailability")
        ]

    def resource(self, arm_id: str) -> dict | None:
        resources = self.control("GET", "resources")
        for key, value in resources.items():
            if key.lower() == arm_id.lower():
                return value
        return None

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._log.close()


class Operator:
    """`acr-operator run` as a local process under the chart's ServiceAccount."""

    def __init__(self, *, kubeconfig: Path, emulator_url: str, log_path: Path):
        self.kubeconfig = kubeconfig
        self.log_path = log_path
        self.env = {
            **os.environ,
            "KUBECONFIG": str(kubeconfig),
            "ACR_OPERATOR_ARM_ENDPOINT": emulator_url,
            "ACR_OPERATOR_CREDENTIAL": "static-token",
            "ACR_OPERATOR_STATIC_TOKEN": STATIC_TOKEN,
            "ACR_OPERATOR_ALLOW_HTTP": "true",
            "ACR_OPERATOR_SUBSCRIPTION_ID": SUBSCRIPTION,
            "ACR_OPERATOR_RESYNC_SECONDS": str(RESYNC_SECONDS),
            "ACR_OPERATOR_DEFAULT_POLL_SECONDS": "1",
        }
        self.process: subprocess.Popen | None = None
        self._log = open(log_path, "a")  # noqa: SIM115 (kept for restarts)

    def start(self) -> None:
        self._log.write(f"--- operator start {time.strftime('%H:%M:%S')}\n")
        self._log.flush()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "acr_operator", "run"],
            stdout=self._log, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT,
        )

    def kill(self) -> None:
        """Stop the process with SIGKILL, as a crashed or evicted pod would stop."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def log_text(self) -> str:
        self._log.flush()
        return self.log_path.read_text()


@pytest.fixture(scope="session")
def e2e_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("e2e")


@pytest.fixture(scope="session")
def emulator(e2e_dir):
    instance = Emulator(e2e_dir / "emulator.log")
    yield instance
    instance.stop()


@pytest.fixture(scope="session")
def api(kube):
    api_client = kube.api_client()
    yield api_client
    api_client.close()


@pytest.fixture(scope="session")
def crds(kube):
    kube.run("kubectl", "apply", "--server-side", "-f", str(ROOT / "crds"))
    kube.run("kubectl", "wait", "--for=condition=Established", "--timeout=60s",
             "-f", str(ROOT / "crds"))
    return sorted((ROOT / "crds").glob("*.yaml"))


@pytest.fixture(scope="session")
def operator_kubeconfig(kube, api, e2e_dir) -> Path:
    """Apply the chart's ServiceAccount and RBAC and write a kubeconfig with its token."""
    core = client.CoreV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=OPERATOR_NAMESPACE)))
    manifests = render_identity(kube.helm, ROOT / "charts" / "acr-operator", OPERATOR_NAMESPACE)
    manifest_file = e2e_dir / "identity.yaml"
    manifest_file.write_text(yaml.safe_dump_all(manifests))
    kube.run("kubectl", "apply", "-f", str(manifest_file))
    account = next(m for m in manifests if m["kind"] == "ServiceAccount")["metadata"]["name"]
    token = core.create_namespaced_service_account_token(
        account, OPERATOR_NAMESPACE,
        client.AuthenticationV1TokenRequest(spec=client.V1TokenRequestSpec(
            audiences=[], expiration_seconds=24 * 3600)),
    ).status.token
    ca = base64.b64encode(Path(kube.ca_file).read_bytes()).decode()
    config = {
        "apiVersion": "v1", "kind": "Config", "current-context": "operator",
        "clusters": [{"name": "local", "cluster": {"server": kube.server,
                                                  "certificate-authority-data": ca}}],
        "users": [{"name": "operator", "user": {"token": token}}],
        "contexts": [{"name": "operator", "context": {"cluster": "local", "user": "operator"}}],
    }
    path = e2e_dir / "operator.kubeconfig"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.fixture(scope="session")
def operator(request, kube, crds, emulator, operator_kubeconfig, e2e_dir):
    instance = Operator(kubeconfig=operator_kubeconfig, emulator_url=emulator.url,
                        log_path=e2e_dir / "operator.log")
    instance.start()
    yield instance
    instance.stop()
    if kube.audit_log is None:
        assert_no_forbidden_lines(instance.log_text())
        return
    # The audit log records the authorizer's decision for every request, so a
    # verb missing from the chart shows up there, and so does a verb never used.
    account = operator_account(e2e_dir)
    denied = rbac_denials(read_events(kube.audit_log), account)
    assert not denied, "the chart's RBAC denied the operator:\n" + "\n".join(denied[:10])
    check_rbac_usage(request.session, kube.audit_log, e2e_dir)


def operator_account(e2e_dir: Path) -> str:
    """Return the user name of the chart's ServiceAccount, which the operator runs as."""
    manifests = list(yaml.safe_load_all((e2e_dir / "identity.yaml").read_text()))
    account = next(m for m in manifests if m["kind"] == "ServiceAccount")["metadata"]
    return service_account_user(account["namespace"], account["name"])


def assert_no_forbidden_lines(log: str) -> None:
    """Fail on a 403 in the operator's log: the check for a cluster without an audit log.

    A 403 for a write into a terminating namespace comes from admission, not
    RBAC. The API server's body names NamespaceTerminating a few lines below
    the exception, so those lines are not counted.
    """
    lines = log.splitlines()
    forbidden = [
        line for number, line in enumerate(lines)
        if "403" in line and "forbidden" in line.lower()
        and not any("NamespaceTerminating" in near for near in lines[number:number + 6])
    ]
    assert not forbidden, "the operator was denied by RBAC:\n" + "\n".join(forbidden[:10])


# The RBAC usage check needs a run of the whole suite, because a part of it
# leaves some granted verbs unused. These record what the run left out.
_e2e_files: set[Path] = set()
_e2e_deselected: list[str] = []
_e2e_set_up: set[str] = set()


def _in_e2e(item) -> bool:
    return E2E_DIR in Path(item.path).parents


def pytest_collection_finish(session):
    # Read now: a test file added while the suite runs is not part of this run.
    _e2e_files.update(E2E_DIR.rglob("test_*.py"))


def pytest_deselected(items):
    _e2e_deselected.extend(item.nodeid for item in items if _in_e2e(item))


def pytest_runtest_logreport(report):
    if report.when == "setup":
        _e2e_set_up.add(report.nodeid)


def partial_run_reason(session: pytest.Session) -> str | None:
    """Return why this run is only a part of the e2e suite, or None for the whole suite."""
    items = [item for item in session.items if _in_e2e(item)]
    collected = {Path(item.path) for item in items}
    missing = sorted(path.name for path in _e2e_files - collected)
    if missing:
        return f"{', '.join(missing)} not collected"
    if _e2e_deselected:
        return f"{len(_e2e_deselected)} e2e tests deselected"
    root = session.config.invocation_params.dir
    narrowed = [arg for arg in session.config.args
                if "::" in arg and E2E_DIR in (root / arg.split("::")[0]).resolve().parents]
    if narrowed:
        return f"only some tests of a file selected ({', '.join(narrowed)})"
    not_run = [item.nodeid for item in items if item.nodeid not in _e2e_set_up]
    if not_run:
        return f"{len(not_run)} e2e tests did not run"
    return None


def check_rbac_usage(session: pytest.Session, audit_log: Path, e2e_dir: Path) -> None:
    """Fail when the chart grants the operator an access that it never used in this run."""
    used = used_access(read_events(audit_log), operator_account(e2e_dir))
    used_file = e2e_dir / "rbac-used.txt"
    used_file.write_text("".join(f"{access}\n" for access in sorted(used)))
    reason = partial_run_reason(session)
    if reason is not None:
        capture = session.config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled():
            print(f"\nRBAC usage check not run, because {reason}; the access used is in {used_file}.",
                  file=sys.stderr, flush=True)
        return
    # Each plural is compared on its own: the suite creates objects of every kind.
    manifests = list(yaml.safe_load_all((e2e_dir / "identity.yaml").read_text()))
    unused = [access for access in unused_grants(granted_access(manifests), used)
              if access not in RBAC_UNUSED_ALLOWED]
    assert not unused, (
        "the chart grants the operator access that it never used in the whole e2e run; "
        "remove it from charts/acr-operator/templates/_rbac-rules.tpl, or add an e2e test "
        "that makes the operator use it, or list it in RBAC_UNUSED_ALLOWED with the reason:\n"
        + "\n".join(f"  {access}" for access in unused)
        + "\nthe access it used:\n"
        + "\n".join(f"  {access}" for access in sorted(used))
    )


@pytest.fixture
def namespace(api):
    core = client.CoreV1Api(api)
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    yield name
    core.delete_namespace(name)


@pytest.fixture
def custom(api):
    return client.CustomObjectsApi(api)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when != "call" or not report.failed:
        return
    for name in ("operator", "emulator"):
        instance = item.funcargs.get(name)
        if instance is not None:
            text = instance.log_path.read_text()
            report.sections.append((f"{name} log (tail)", "\n".join(text.splitlines()[-80:])))
