"""Fixtures shared by every test folder: the `kube` session cluster.

`kube` starts one local control plane (tests/cluster/controlplane.py) per test
run. With ACR_OPERATOR_USE_EXISTING_CLUSTER=1 it uses the cluster of
$KUBECONFIG instead, still with kubectl and helm from the binary cache.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent / "cluster"))

import controlplane

KUBE_KEY = pytest.StashKey[controlplane.Cluster]()
LOG_TAIL_LINES = 40


def _use_existing_cluster() -> bool:
    return os.environ.get("ACR_OPERATOR_USE_EXISTING_CLUSTER") == "1"


def _print_live(config: pytest.Config, message: str) -> None:
    """Print past pytest's output capture, so long waits show what they wait for."""
    capture = config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(message, file=sys.stderr, flush=True)


def pytest_collection_finish(session: pytest.Session) -> None:
    # Build missing binaries here rather than in the fixture, so that a cold
    # build (many minutes) does not count against the first test's timeout.
    if session.config.option.collectonly:
        return
    if not any("kube" in item.fixturenames for item in session.items):
        return
    names = ["kube", "helm"] if _use_existing_cluster() else None
    controlplane.binary_paths(names, log=lambda message: _print_live(session.config, message))


@pytest.fixture(scope="session")
def kube(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory):
    """Return the session's cluster: a controlplane.ControlPlane, or an ExistingCluster."""
    config = request.config
    if _use_existing_cluster():
        kubeconfig = os.environ.get("KUBECONFIG")
        if not kubeconfig:
            raise pytest.UsageError(
                "ACR_OPERATOR_USE_EXISTING_CLUSTER=1 needs KUBECONFIG set to one file"
            )
        cluster = controlplane.ExistingCluster(
            kubeconfig, home=tmp_path_factory.mktemp("kube-home")
        )
    else:
        started = time.monotonic()
        cluster = controlplane.ControlPlane(
            tmp_path_factory.mktemp("controlplane"),
            die_with_parent=True,
            log=lambda message: _print_live(config, message),
        ).start()
        _print_live(
            config,
            f"\ncontrol plane started in {time.monotonic() - started:.1f} s at {cluster.server}",
        )
    config.stash[KUBE_KEY] = cluster
    yield cluster
    del config.stash[KUBE_KEY]
    # After failures the logs stay for reading; pytest prunes old tmp folders.
    keep = request.session.testsfailed > 0
    cluster.stop(remove_dir=not keep)
    if keep and isinstance(cluster, controlplane.ControlPlane):
        _print_live(config, f"\ncontrol plane logs kept in {cluster.dir}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo):
    report = yield
    if report.failed and "kube" in item.fixturenames:
        cluster = item.config.stash.get(KUBE_KEY, None)
        if cluster is not None:
            for name, text in cluster.tail_logs(LOG_TAIL_LINES).items():
                report.sections.append((f"{name} log (last {LOG_TAIL_LINES} lines)", text))
    return report
