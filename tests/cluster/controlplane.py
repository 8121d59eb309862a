#!/usr/bin/env python3
"""Run a real Kubernetes control plane on 127.0.0.1 for tests, in the manner of envtest.

The control plane is etcd, kube-apiserver and kube-controller-manager (with the
garbage-collector, namespace, serviceaccount, serviceaccount-token and
root-ca-certificate-publisher controllers). It has no scheduler and no kubelet,
so pods never run. Every server listens on 127.0.0.1 on a free port, and all
state lives in one data folder: certificates, kubeconfigs, PID files, logs and
the etcd data.

CLI:
    python tests/cluster/controlplane.py up [--dir DIR]     # prints the kubeconfig path last
    python tests/cluster/controlplane.py down [--dir DIR]
    python tests/cluster/controlplane.py logs [--dir DIR] [-n LINES]

Python:
    cluster = ControlPlane(tmp_dir, die_with_parent=True).start()
    ...  # cluster.kubeconfig, cluster.server, cluster.ca_file, cluster.kubectl, cluster.helm
    cluster.stop()
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import ctypes
import datetime
import http.client
import importlib.util
import ipaddress
import json
import os
import shutil
import signal
import socket
import ssl
import subprocess
import sys
import time
from collections import deque
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

HERE = Path(__file__).resolve().parent
REPO_ROOT = HERE.parents[1]
DEFAULT_DIR = REPO_ROOT / ".cluster"
STATE_FILE = "controlplane.json"

# Start order; stop runs in reverse.
COMPONENTS = ("etcd", "kube-apiserver", "kube-controller-manager")
CONTROLLERS = (
    "garbage-collector-controller",
    "namespace-controller",
    "serviceaccount-controller",
    "serviceaccount-token-controller",
    "root-ca-certificate-publisher-controller",
)
SERVICE_CLUSTER_IP_RANGE = "10.0.0.0/24"
# The first address of the range, which the apiserver gives to the `kubernetes` Service.
KUBERNETES_SERVICE_IP = "10.0.0.1"
SERVICE_ACCOUNT_ISSUER = "https://kubernetes.default.svc.cluster.local"
STOP_TIMEOUT_SECONDS = 15.0
# Every request at level Metadata: user, verb, resource, subresource, namespace,
# name and response code, without bodies. Stage RequestReceived is left out, so
# a request is logged once, at ResponseComplete, and a watch also when it opens.
AUDIT_POLICY = """\
apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: ["RequestReceived"]
rules:
  - level: Metadata
"""


def load_build_module():
    """Import build.py beside this file under a private name, so no other `build` module is shadowed."""
    name = "acr_operator_cluster_build"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def binary_paths(names=None, log=print) -> dict[str, Path]:
    """Return binary name -> path in the cache, building the missing binaries first."""
    return load_build_module().ensure(names, log=log)


def free_port() -> int:
    # NOTE: another process can take the port before the server binds it. The
    # server then exits, and start() raises StartError with the server's log.
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


# Certificates ---------------------------------------------------------------


def _new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _key_pem(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _cert_pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def _issue(
    common_name: str,
    key,
    issuer: tuple[x509.Certificate, object] | None,
    *,
    organizations: tuple[str, ...] = (),
    is_ca: bool = False,
    server_names: tuple[str, ...] = (),
    server_ips: tuple[str, ...] = (),
    client: bool = False,
) -> x509.Certificate:
    """Issue a certificate for `key`, signed by `issuer` (certificate, key) or self-signed."""
    attributes = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, org) for org in organizations]
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    subject = x509.Name(attributes)
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        # Backdated so that a clock a little behind still accepts it.
        .not_valid_before(now - datetime.timedelta(hours=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=None), critical=True)
    )
    if is_ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        builder = builder.add_extension(
            x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
        )
    else:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=True,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        usages = []
        if server_names or server_ips:
            usages.append(ExtendedKeyUsageOID.SERVER_AUTH)
        if client:
            usages.append(ExtendedKeyUsageOID.CLIENT_AUTH)
        builder = builder.add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        alt_names = [x509.DNSName(name) for name in server_names]
        alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in server_ips]
        if alt_names:
            builder = builder.add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
    if issuer_cert is not None:
        builder = builder.add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()),
            critical=False,
        )
    return builder.sign(issuer_key, hashes.SHA256())


def _write_private(path: Path, data: bytes) -> None:
    path.write_bytes(data)
    path.chmod(0o600)


def write_pki(pki: Path) -> dict[str, Path]:
    """Write the CA, serving and client certificates and the service-account key pair."""
    pki.mkdir(parents=True, exist_ok=True)
    files: dict[str, Path] = {}

    ca_key = _new_key()
    ca_cert = _issue("acr-operator-test-ca", ca_key, None, is_ca=True)
    ca = (ca_cert, ca_key)

    def store(name: str, cert: x509.Certificate, key) -> None:
        files[f"{name}.crt"] = pki / f"{name}.crt"
        files[f"{name}.key"] = pki / f"{name}.key"
        files[f"{name}.crt"].write_bytes(_cert_pem(cert))
        _write_private(files[f"{name}.key"], _key_pem(key))

    store("ca", ca_cert, ca_key)

    key = _new_key()
    apiserver_names = (
        "localhost",
        "kubernetes",
        "kubernetes.default",
        "kubernetes.default.svc",
        "kubernetes.default.svc.cluster.local",
    )
    cert = _issue(
        "kube-apiserver",
        key,
        ca,
        server_names=apiserver_names,
        server_ips=("127.0.0.1", KUBERNETES_SERVICE_IP),
    )
    store("apiserver", cert, key)

    key = _new_key()
    cert = _issue(
        "kube-controller-manager", key, ca, server_names=("localhost",), server_ips=("127.0.0.1",)
    )
    store("controller-manager-serving", cert, key)

    # Group system:masters is bound to cluster-admin by the bootstrap RBAC policy.
    key = _new_key()
    cert = _issue("admin", key, ca, organizations=("system:masters",), client=True)
    store("admin", cert, key)

    # The bootstrap RBAC policy grants this user name what the controller manager needs.
    key = _new_key()
    cert = _issue("system:kube-controller-manager", key, ca, client=True)
    store("controller-manager", cert, key)

    # A separate CA for the aggregation layer, so that no ordinary client
    # certificate can pass as the front proxy that sets X-Remote-User.
    front_proxy_ca_key = _new_key()
    front_proxy_ca_cert = _issue("front-proxy-ca", front_proxy_ca_key, None, is_ca=True)
    store("front-proxy-ca", front_proxy_ca_cert, front_proxy_ca_key)
    key = _new_key()
    cert = _issue("front-proxy-client", key, (front_proxy_ca_cert, front_proxy_ca_key), client=True)
    store("front-proxy-client", cert, key)

    sa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    files["sa.key"] = pki / "sa.key"
    files["sa.pub"] = pki / "sa.pub"
    _write_private(files["sa.key"], _key_pem(sa_key))
    files["sa.pub"].write_bytes(
        sa_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return files


def kubeconfig_text(server: str, ca_file: Path, cert_file: Path, key_file: Path, user: str) -> str:
    """Return a kubeconfig with the certificates embedded, so the file works on its own."""

    def b64(path: Path) -> str:
        return base64.b64encode(path.read_bytes()).decode()

    return (
        "apiVersion: v1\n"
        "kind: Config\n"
        "clusters:\n"
        "- name: acr-operator-test\n"
        "  cluster:\n"
        f"    server: {server}\n"
        f"    certificate-authority-data: {b64(ca_file)}\n"
        "users:\n"
        f"- name: {user}\n"
        "  user:\n"
        f"    client-certificate-data: {b64(cert_file)}\n"
        f"    client-key-data: {b64(key_file)}\n"
        "contexts:\n"
        "- name: acr-operator-test\n"
        "  context:\n"
        "    cluster: acr-operator-test\n"
        f"    user: {user}\n"
        "    namespace: default\n"
        "current-context: acr-operator-test\n"
    )


# Processes ------------------------------------------------------------------


PR_SET_PDEATHSIG = 1  # from <linux/prctl.h>


def _parent_death_signal_setter():
    """Return a preexec_fn that makes the kernel SIGKILL the child when its parent thread exits.

    SIGKILL, because on SIGTERM all servers would stop at once, and
    kube-apiserver's graceful shutdown then hangs without etcd. The C function
    is looked up here, in the parent, so that the child runs no dlopen between
    fork and exec, where a lock held by another thread could block it.
    """
    prctl = ctypes.CDLL(None, use_errno=True).prctl

    def set_parent_death_signal() -> None:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)

    return set_parent_death_signal


def _process_state(pid: int) -> str | None:
    """Return the state letter from /proc/PID/stat, or None when no such process exists."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name in brackets may contain spaces, so split after the last ')'.
    return stat.rsplit(")", 1)[1].split()[0]


def _is_alive(pid: int) -> bool:
    state = _process_state(pid)
    return state is not None and state not in ("Z", "X")


def _started_from(pid: int, data_dir: Path) -> bool:
    """Check that PID is still a server of this data folder, not a process that reused the PID."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except (FileNotFoundError, ProcessLookupError):
        return False
    # Every server's command line names a path inside the folder; the separator
    # keeps /x/.cluster from matching a server of /x/.cluster2.
    return (str(data_dir) + os.sep).encode() in cmdline


def tail_file(path: Path, lines: int) -> str:
    try:
        with open(path, errors="replace") as handle:
            return "".join(deque(handle, maxlen=lines))
    except FileNotFoundError:
        return f"(no log file at {path})\n"


class StartError(RuntimeError):
    """A server exited or did not become ready in time."""


class ToolError(subprocess.CalledProcessError):
    """A failed kubectl or helm command, whose message includes its output."""

    def __str__(self) -> str:
        return f"{super().__str__()}\nstdout:\n{self.stdout}\nstderr:\n{self.stderr}"


# Clusters -------------------------------------------------------------------


class Cluster:
    """A Kubernetes API server that tests talk to, with the cached kubectl and helm binaries."""

    kubeconfig: Path
    server: str
    ca_file: Path | None
    kubectl: Path
    helm: Path
    home: Path
    logs: dict[str, Path]
    # The API server's audit log (JSON lines), or None when this harness did not start the server.
    audit_log: Path | None = None

    def env(self) -> dict[str, str]:
        """Return os.environ with KUBECONFIG set and helm's cache, config and data folders under self.home."""
        env = dict(os.environ)
        env["KUBECONFIG"] = str(self.kubeconfig)
        for variable in ("HELM_CACHE_HOME", "HELM_CONFIG_HOME", "HELM_DATA_HOME"):
            folder = self.home / variable.lower()
            folder.mkdir(parents=True, exist_ok=True)
            env[variable] = str(folder)
        return env

    def run(
        self,
        tool: str,
        *args: str,
        check: bool = True,
        timeout: float = 120,
        input: str | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess:
        """Run kubectl or helm against this cluster and return the completed process (text output)."""
        binaries = {"kubectl": self.kubectl, "helm": self.helm}
        if tool not in binaries:
            raise ValueError(f"tool must be kubectl or helm, not {tool!r}")
        command = [str(binaries[tool]), *args]
        result = subprocess.run(
            command,
            env=env or self.env(),
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and result.returncode != 0:
            raise ToolError(result.returncode, command, result.stdout, result.stderr)
        return result

    def api_client(self):
        """Return a kubernetes.client.ApiClient for this cluster; the caller closes it."""
        from kubernetes import config

        return config.new_client_from_config(config_file=str(self.kubeconfig))

    def tail_logs(self, lines: int = 40) -> dict[str, str]:
        """Return the last `lines` lines of each server log, keyed by server name."""
        return {name: tail_file(path, lines) for name, path in self.logs.items()}

    def stop(self, remove_dir: bool = True) -> None:
        raise NotImplementedError


class ExistingCluster(Cluster):
    """A cluster started elsewhere and reached through a kubeconfig; stop() leaves it running."""

    def __init__(self, kubeconfig: str | Path, home: Path, log=print):
        self.kubeconfig = Path(kubeconfig)
        if not self.kubeconfig.is_file():
            raise FileNotFoundError(f"kubeconfig {self.kubeconfig} not found")
        self.home = Path(home)
        self.logs = {}
        paths = binary_paths(["kube", "helm"], log=log)
        self.kubectl = paths["kubectl"]
        self.helm = paths["helm"]
        self.ca_file = None
        view = self.run("kubectl", "config", "view", "--minify", "-o", "json").stdout
        self.server = json.loads(view)["clusters"][0]["cluster"]["server"]

    def stop(self, remove_dir: bool = True) -> None:
        """Leave the cluster running: this harness did not start it."""


class ControlPlane(Cluster):
    """etcd, kube-apiserver and kube-controller-manager started from one data folder.

    die_with_parent=True makes the kernel kill the servers when the thread that
    called start() exits, so a killed test run leaves no servers behind. The CLI
    `up` leaves it False, because its servers must outlive the command.
    """

    def __init__(
        self, data_dir: str | Path | None = None, *, die_with_parent: bool = False, log=None
    ):
        self.dir = Path(data_dir or DEFAULT_DIR).resolve()
        self.die_with_parent = die_with_parent
        self.log = log or (lambda message: print(message, file=sys.stderr, flush=True))
        self.kubeconfig = self.dir / "kubeconfig"
        self.ca_file = self.dir / "pki" / "ca.crt"
        self.home = self.dir / "home"
        self.logs = {name: self.dir / f"{name}.log" for name in COMPONENTS}
        self.audit_log = self.dir / "audit.log"
        self.pid_files = {name: self.dir / f"{name}.pid" for name in COMPONENTS}
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = {}
        self.server = ""
        self.timings: dict[str, float] = {}
        self.kubectl = self.helm = Path()

    # Data folder and state.

    def running_pids(self) -> dict[str, int]:
        """Return server name -> PID for the PID files of this folder whose process still runs."""
        pids = {}
        for name, pid_file in self.pid_files.items():
            try:
                pid = int(pid_file.read_text().strip())
            except (FileNotFoundError, ValueError):
                continue
            if _is_alive(pid) and _started_from(pid, self.dir):
                pids[name] = pid
        return pids

    def _prepare_dir(self) -> None:
        if self.dir.exists():
            running = self.running_pids()
            if running:
                listed = ", ".join(f"{name} {pid}" for name, pid in running.items())
                raise StartError(
                    f"a control plane is already running in {self.dir} ({listed}); "
                    f"stop it with `controlplane.py down --dir {self.dir}`"
                )
            if any(self.dir.iterdir()) and not (self.dir / STATE_FILE).exists():
                raise StartError(
                    f"{self.dir} is not empty and contains no {STATE_FILE}; "
                    "choose an empty or new folder"
                )
            shutil.rmtree(self.dir)
        self.dir.mkdir(parents=True)
        self._write_state("starting")

    def _write_state(self, phase: str) -> None:
        state = {
            "phase": phase,
            "server": self.server,
            "kubeconfig": str(self.kubeconfig),
            "caFile": str(self.ca_file),
            "ports": self.ports,
            "pids": {name: proc.pid for name, proc in self.processes.items()},
            "logs": {name: str(path) for name, path in self.logs.items()},
            "auditLog": str(self.audit_log),
            "kubectl": str(self.kubectl),
            "helm": str(self.helm),
        }
        tmp = self.dir / (STATE_FILE + ".tmp")
        tmp.write_text(json.dumps(state, indent=2) + "\n")
        os.replace(tmp, self.dir / STATE_FILE)

    # Start.

    def start(self, timeout: float = 120.0) -> ControlPlane:
        """Start the servers, wait until they are ready and return self.

        A server that exits or is not ready within `timeout` seconds raises
        StartError with the tail of its log. The servers already started are
        then stopped, and the data folder stays for reading the logs.
        """
        started = time.monotonic()
        paths = binary_paths(log=self.log)
        self.timings["binaries"] = time.monotonic() - started
        self.kubectl = paths["kubectl"]
        self.helm = paths["helm"]
        self._prepare_dir()
        try:
            self._start_servers(paths, timeout)
        except BaseException:
            self.stop(remove_dir=False)
            raise
        self.timings["total"] = time.monotonic() - started
        self._write_state("running")
        return self

    def _start_servers(self, paths: dict[str, Path], timeout: float) -> None:
        step = time.monotonic()
        pki = write_pki(self.dir / "pki")
        self.timings["certificates"] = time.monotonic() - step

        self.ports = {
            "etcd-client": free_port(),
            "etcd-peer": free_port(),
            "kube-apiserver": free_port(),
            "kube-controller-manager": free_port(),
        }
        self.server = f"https://127.0.0.1:{self.ports['kube-apiserver']}"
        self.kubeconfig.write_text(
            kubeconfig_text(self.server, pki["ca.crt"], pki["admin.crt"], pki["admin.key"], "admin")
        )
        kcm_kubeconfig = self.dir / "controller-manager.kubeconfig"
        kcm_kubeconfig.write_text(
            kubeconfig_text(
                self.server,
                pki["ca.crt"],
                pki["controller-manager.crt"],
                pki["controller-manager.key"],
                "system:kube-controller-manager",
            )
        )
        self.kubeconfig.chmod(0o600)
        kcm_kubeconfig.chmod(0o600)

        step = time.monotonic()
        self._spawn("etcd", self._etcd_args(paths["etcd"]))
        self._wait("etcd", timeout, self._etcd_healthy)
        self.timings["etcd"] = time.monotonic() - step

        (self.dir / "audit-policy.yaml").write_text(AUDIT_POLICY)
        step = time.monotonic()
        self._spawn("kube-apiserver", self._apiserver_args(paths["kube-apiserver"], pki))
        self._wait(
            "kube-apiserver",
            timeout,
            lambda: self._https_ok(self.ports["kube-apiserver"], "/readyz"),
        )
        self.timings["kube-apiserver"] = time.monotonic() - step

        step = time.monotonic()
        self._spawn(
            "kube-controller-manager",
            self._controller_manager_args(paths["kube-controller-manager"], pki, kcm_kubeconfig),
        )
        self._wait(
            "kube-controller-manager",
            timeout,
            lambda: self._https_ok(self.ports["kube-controller-manager"], "/healthz"),
        )
        self.timings["kube-controller-manager"] = time.monotonic() - step

        # The serviceaccount controller creates this account, which proves the controllers run.
        step = time.monotonic()
        self._wait(
            "kube-controller-manager",
            timeout,
            lambda: self._https_ok(
                self.ports["kube-apiserver"], "/api/v1/namespaces/default/serviceaccounts/default"
            ),
            what="the default ServiceAccount in namespace default",
        )
        self.timings["default ServiceAccount"] = time.monotonic() - step

    def _etcd_args(self, binary: Path) -> list[str]:
        client = f"http://127.0.0.1:{self.ports['etcd-client']}"
        peer = f"http://127.0.0.1:{self.ports['etcd-peer']}"
        return [
            str(binary),
            "--name=controlplane",
            f"--data-dir={self.dir / 'etcd'}",
            f"--listen-client-urls={client}",
            f"--advertise-client-urls={client}",
            f"--listen-peer-urls={peer}",
            f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=controlplane={peer}",
            "--initial-cluster-state=new",
            # Test data is thrown away, so durability is traded for speed.
            "--unsafe-no-fsync",
            "--log-level=warn",
        ]

    def _apiserver_args(self, binary: Path, pki: dict[str, Path]) -> list[str]:
        return [
            str(binary),
            f"--etcd-servers=http://127.0.0.1:{self.ports['etcd-client']}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={self.ports['kube-apiserver']}",
            f"--cert-dir={self.dir / 'apiserver'}",
            f"--tls-cert-file={pki['apiserver.crt']}",
            f"--tls-private-key-file={pki['apiserver.key']}",
            f"--client-ca-file={pki['ca.crt']}",
            f"--service-account-issuer={SERVICE_ACCOUNT_ISSUER}",
            f"--service-account-key-file={pki['sa.pub']}",
            f"--service-account-signing-key-file={pki['sa.key']}",
            f"--service-cluster-ip-range={SERVICE_CLUSTER_IP_RANGE}",
            "--authorization-mode=RBAC",
            # The endpoint reconciler would publish 127.0.0.1 as the `kubernetes`
            # Service endpoint, which Endpoints validation rejects as loopback.
            "--endpoint-reconciler-type=none",
            f"--requestheader-client-ca-file={pki['front-proxy-ca.crt']}",
            "--requestheader-allowed-names=front-proxy-client",
            "--requestheader-username-headers=X-Remote-User",
            "--requestheader-group-headers=X-Remote-Group",
            "--requestheader-extra-headers-prefix=X-Remote-Extra-",
            f"--proxy-client-cert-file={pki['front-proxy-client.crt']}",
            f"--proxy-client-key-file={pki['front-proxy-client.key']}",
            f"--audit-policy-file={self.dir / 'audit-policy.yaml'}",
            f"--audit-log-path={self.audit_log}",
            "--audit-log-format=json",
            # Blocking: the request's own handler writes its line, so the line is
            # in the file by the time the client has read the whole response.
            "--audit-log-mode=blocking",
            # No rotation (the default rotates at 100 MB), so no line is moved to another file.
            "--audit-log-maxsize=0",
            "--allow-privileged=true",
            "--profiling=false",
        ]

    def _controller_manager_args(
        self, binary: Path, pki: dict[str, Path], kubeconfig: Path
    ) -> list[str]:
        return [
            str(binary),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={self.ports['kube-controller-manager']}",
            f"--tls-cert-file={pki['controller-manager-serving.crt']}",
            f"--tls-private-key-file={pki['controller-manager-serving.key']}",
            f"--client-ca-file={pki['ca.crt']}",
            f"--controllers={','.join(CONTROLLERS)}",
            f"--service-account-private-key-file={pki['sa.key']}",
            f"--root-ca-file={pki['ca.crt']}",
            "--use-service-account-credentials=true",
            "--leader-elect=false",
            "--profiling=false",
        ]

    def _spawn(self, name: str, args: list[str]) -> None:
        with open(self.logs[name], "ab") as log_file:
            log_file.write(f"$ {' '.join(args)}\n".encode())
            log_file.flush()
            process = subprocess.Popen(
                args,
                cwd=self.dir,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                # A new session keeps Ctrl-C in the terminal from reaching the servers.
                start_new_session=True,
                preexec_fn=_parent_death_signal_setter() if self.die_with_parent else None,  # noqa: PLW1509
            )
        self.processes[name] = process
        self.pid_files[name].write_text(f"{process.pid}\n")
        self._write_state("starting")

    def _wait(self, name: str, timeout: float, ready, what: str | None = None) -> None:
        """Poll `ready()` until it returns True; fail early when server `name` exits."""
        what = what or f"{name} readiness"
        deadline = time.monotonic() + timeout
        last_error = "no check finished yet"
        process = self.processes[name]
        while True:
            if process.poll() is not None:
                raise StartError(
                    f"{name} exited with code {process.returncode} while waiting for {what}; "
                    f"last lines of {self.logs[name]}:\n{tail_file(self.logs[name], 30)}"
                )
            try:
                if ready():
                    return
                last_error = "not ready"
            except (OSError, http.client.HTTPException, ssl.SSLError) as error:
                last_error = f"{type(error).__name__}: {error}"
            if time.monotonic() > deadline:
                raise StartError(
                    f"timed out after {timeout:.0f} s waiting for {what} ({last_error}); "
                    f"last lines of {self.logs[name]}:\n{tail_file(self.logs[name], 30)}"
                )
            time.sleep(0.2)

    def _etcd_healthy(self) -> bool:
        connection = http.client.HTTPConnection("127.0.0.1", self.ports["etcd-client"], timeout=5)
        try:
            connection.request("GET", "/health")
            response = connection.getresponse()
            body = response.read()
        finally:
            connection.close()
        return response.status == 200 and json.loads(body).get("health") == "true"

    def _tls_context(self) -> ssl.SSLContext:
        pki = self.dir / "pki"
        context = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        context.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))
        return context

    def _https_ok(self, port: int, path: str) -> bool:
        connection = http.client.HTTPSConnection(
            "127.0.0.1", port, timeout=5, context=self._tls_context()
        )
        try:
            connection.request("GET", path)
            response = connection.getresponse()
            response.read()
        finally:
            connection.close()
        return response.status == 200

    # Stop.

    def stop(self, remove_dir: bool = True, timeout: float = STOP_TIMEOUT_SECONDS) -> None:
        """Stop the servers of this folder (SIGTERM, then SIGKILL after `timeout` s), then remove the folder.

        Only the PIDs recorded in this folder's PID files are signalled, and only
        while their command line still names this folder. With remove_dir=False
        the logs, certificates and kubeconfig stay, but the etcd data goes,
        because etcd preallocates over 100 MB of write-ahead log.
        """
        for name in reversed(COMPONENTS):
            process = self.processes.pop(name, None)
            if process is not None:
                _stop_child(process, timeout)
            else:
                pid = self.running_pids().get(name)
                if pid is not None:
                    _stop_pid(pid, timeout)
            self.pid_files[name].unlink(missing_ok=True)
        if not self.dir.exists():
            return
        if not (self.dir / STATE_FILE).exists():
            raise RuntimeError(f"not removing {self.dir}: it contains no {STATE_FILE}")
        shutil.rmtree(self.dir if remove_dir else self.dir / "etcd", ignore_errors=not remove_dir)

    def describe(self) -> str:
        lines = [
            f"control plane in {self.dir}",
            f"  server:     {self.server}",
            f"  kubeconfig: {self.kubeconfig}",
            f"  kubectl:    {self.kubectl}",
            f"  helm:       {self.helm}",
        ]
        lines += [f"  {name} log: {path}" for name, path in self.logs.items()]
        lines.append(f"  audit log:  {self.audit_log}")
        return "\n".join(lines)


def _stop_child(process: subprocess.Popen, timeout: float) -> None:
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _stop_pid(pid: int, timeout: float) -> None:
    """Stop a server that another process started, polling /proc because it cannot be waited for."""
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + timeout
    while _is_alive(pid):
        if time.monotonic() > deadline:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
            break
        time.sleep(0.1)
    deadline = time.monotonic() + 5
    while _is_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.1)


# CLI ------------------------------------------------------------------------


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description="Start or stop the local Kubernetes control plane for tests."
    )
    commands = parser.add_subparsers(dest="command", required=True)
    for name, help_text in (
        ("up", "build missing binaries, start the servers and print the kubeconfig path last"),
        ("down", "stop the servers recorded in the data folder and remove the folder"),
        ("logs", "print the last lines of each server log"),
    ):
        command = commands.add_parser(name, help=help_text)
        command.add_argument(
            "--dir", type=Path, default=DEFAULT_DIR, help="data folder (default: %(default)s)"
        )
        if name == "logs":
            command.add_argument(
                "-n", "--lines", type=int, default=40, help="lines per log (default: 40)"
            )
    args = parser.parse_args(argv)

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    if args.command == "up":
        plane = ControlPlane(args.dir, log=log)
        try:
            plane.start()
        except (StartError, RuntimeError) as error:
            log(f"error: {error}")
            return 1
        steps = ", ".join(
            f"{name} {seconds:.1f} s" for name, seconds in plane.timings.items() if name != "total"
        )
        log(f"started in {plane.timings['total']:.1f} s ({steps})")
        log(plane.describe())
        log(f"stop it with: {sys.executable} {Path(__file__).resolve()} down --dir {plane.dir}")
        print(plane.kubeconfig, flush=True)
        return 0

    plane = ControlPlane(args.dir, log=log)
    if args.command == "logs":
        for name, text in plane.tail_logs(args.lines).items():
            print(f"==> {plane.logs[name]} <==\n{text}")
        return 0

    # down
    if not plane.dir.exists():
        log(f"nothing to stop: {plane.dir} does not exist")
        return 0
    running = plane.running_pids()
    try:
        plane.stop()
    except RuntimeError as error:
        log(f"error: {error}")
        return 1
    stopped = ", ".join(f"{name} {pid}" for name, pid in running.items()) or "no running servers"
    log(f"stopped {stopped}; removed {plane.dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
