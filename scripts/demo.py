"""Run acr-operator end to end on this machine and show the result.

Starts a local control plane (or uses the current kube context with
--use-current-context), the ARM emulator and the operator, applies
examples/registry.yaml, waits until the Registry is Ready, prints what the
operator reported, deletes the Registry again and stops everything it started.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "cluster"))

import controlplane  # the harness module lives beside the tests

EXAMPLE = ROOT / "examples" / "registry.yaml"
TOKEN = "demo-token"
SUBSCRIPTION = "00000000-0000-0000-0000-000000000000"


def say(message: str) -> None:
    print(f"demo: {message}", flush=True)


def start_emulator(log_path: Path) -> tuple[subprocess.Popen, str]:
    log = open(log_path, "w")  # noqa: SIM115 (open for the child's lifetime)
    process = subprocess.Popen(
        [sys.executable, "-m", "acr_operator", "emulator", "--host", "127.0.0.1", "--port", "0",
         "--token", TOKEN, "--operation-seconds", "3", "--retry-after", "1"],
        stdout=log, stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        match = re.search(r"emulator listening on (http://\S+)", log_path.read_text())
        if match:
            return process, match.group(1)
        if process.poll() is not None:
            break
        time.sleep(0.2)
    process.kill()
    raise SystemExit(f"demo: the emulator did not start; its log:\n{log_path.read_text()}")


def start_operator(kubeconfig: Path, emulator_url: str, log_path: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "KUBECONFIG": str(kubeconfig),
        "ACR_OPERATOR_ARM_ENDPOINT": emulator_url,
        "ACR_OPERATOR_CREDENTIAL": "static-token",
        "ACR_OPERATOR_STATIC_TOKEN": TOKEN,
        "ACR_OPERATOR_ALLOW_HTTP": "true",
        "ACR_OPERATOR_SUBSCRIPTION_ID": SUBSCRIPTION,
        "ACR_OPERATOR_DEFAULT_POLL_SECONDS": "1",
    }
    return subprocess.Popen([sys.executable, "-m", "acr_operator", "run"],
                            stdout=open(log_path, "w"), stderr=subprocess.STDOUT, env=env)


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--use-current-context", action="store_true",
                        help="use the cluster of $KUBECONFIG instead of starting a local one")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="acr-operator-demo-"))
    cluster = emulator = operator = None
    try:
        if args.use_current_context:
            cluster = controlplane.ExistingCluster(os.environ["KUBECONFIG"], work)
        else:
            say("starting a local control plane (the first run builds the binaries)")
            cluster = controlplane.ControlPlane(work / "cluster", die_with_parent=True).start()
        emulator, url = start_emulator(work / "emulator.log")
        say(f"ARM emulator listening on {url}")

        cluster.run("kubectl", "apply", "--server-side", "-f", str(ROOT / "crds"))
        cluster.run("kubectl", "wait", "--for=condition=Established", "--timeout=60s",
                    "-f", str(ROOT / "crds"))
        say("CRDs installed")

        operator = start_operator(cluster.kubeconfig, url, work / "operator.log")
        cluster.run("kubectl", "apply", "-n", "default", "-f", str(EXAMPLE))
        say(f"applied {EXAMPLE.relative_to(ROOT)}; waiting for Ready")
        waited = cluster.run("kubectl", "wait", "--for=condition=Ready", "--timeout=120s",
                             "-n", "default", "-f", str(EXAMPLE), check=False)
        print(cluster.run("kubectl", "get", "acr", "-o", "wide").stdout)
        shown = json.loads(cluster.run("kubectl", "get", "-n", "default", "-f", str(EXAMPLE), "-o", "json").stdout)
        print(yaml.safe_dump({"status": shown.get("status", {})}, sort_keys=False))
        if waited.returncode != 0:
            say("the Registry did not become Ready; the operator's log follows")
            print((work / "operator.log").read_text()[-4000:])
            return 1

        say("deleting the Registry; the finalizer holds it until ARM reports it gone")
        cluster.run("kubectl", "delete", "-n", "default", "-f", str(EXAMPLE), "--timeout=120s")
        say("done")
        return 0
    finally:
        stop(operator)
        stop(emulator)
        if cluster is not None:
            cluster.stop()


if __name__ == "__main__":
    sys.exit(main())
