"""`helm install` into the local control plane creates the CRDs, the identity and the Deployment.

The control plane has no nodes, so the operator's pod is never scheduled and
the test does not wait for a rollout.
"""

from __future__ import annotations

import json
import uuid

import pytest
import yaml

from tests.chart.rbac import CHART_DIR

pytestmark = pytest.mark.e2e

CRD_TIMEOUT = "60s"


def chart_crd_names() -> list[str]:
    names = []
    for path in sorted((CHART_DIR / "crds").glob("*.yaml")):
        for crd in yaml.safe_load_all(path.read_text()):
            if crd:
                names.append(crd["metadata"]["name"])
    return names


def get_json(kube, *args: str) -> dict:
    return json.loads(kube.run("kubectl", "get", *args, "-o", "json").stdout)


def can_i(kube, account: str, verb: str, resource: str, namespace: str) -> bool:
    """Check with a SubjectAccessReview whether the API server lets `account` do `verb` on `resource`.

    `resource` is written as for kubectl: "plural[.group][/subresource]". A
    review needs no discovery, so it also works before the CRDs exist.
    """
    name, _, subresource = resource.partition("/")
    plural, _, group = name.partition(".")
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SubjectAccessReview",
        "spec": {
            "user": account,
            "resourceAttributes": {"namespace": namespace, "verb": verb, "group": group,
                                   "resource": plural, "subresource": subresource},
        },
    }
    result = kube.run("kubectl", "create", "--filename", "-", "--output", "json", input=json.dumps(review))
    return json.loads(result.stdout)["status"]["allowed"]


@pytest.fixture
def install(kube):
    """Return a function that installs the chart as a new release, uninstalled after the test."""
    installed: list[tuple[str, str, list[str]]] = []

    def _install(*helm_args: str, extra_namespaces: tuple[str, ...] = ()) -> tuple[str, str]:
        suffix = uuid.uuid4().hex[:6]
        release, namespace = f"acr-{suffix}", f"acr-chart-{suffix}"
        for extra in extra_namespaces:
            kube.run("kubectl", "create", "namespace", extra)
        installed.append((release, namespace, list(extra_namespaces)))
        kube.run("helm", "install", release, str(CHART_DIR), "--namespace", namespace,
                 "--create-namespace", *helm_args)
        return release, namespace

    yield _install

    for release, namespace, extra_namespaces in installed:
        kube.run("helm", "uninstall", release, "--namespace", namespace, check=False)
        for name in [namespace, *extra_namespaces]:
            kube.run("kubectl", "delete", "namespace", name, "--wait=false", "--ignore-not-found", check=False)
    # NOTE: helm never deletes the CRDs of crds/, so they stay for the rest of the session.


def test_install_establishes_crds(kube, install):
    crds = chart_crd_names()
    assert crds, "charts/acr-operator/crds/ has no CRDs; the code generator must write them there too"
    install()

    for crd in crds:
        kube.run("kubectl", "wait", "--for=condition=Established", f"crd/{crd}", f"--timeout={CRD_TIMEOUT}")


def test_install_cluster_wide(kube, install):
    release, namespace = install()
    name = f"{release}-acr-operator"

    account = get_json(kube, "serviceaccount", name, "--namespace", namespace)
    assert account["metadata"]["name"] == name
    role = get_json(kube, "clusterrole", name)
    assert any("registries" in rule["resources"] for rule in role["rules"])
    binding = get_json(kube, "clusterrolebinding", name)
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": name, "namespace": namespace}]
    deployment = get_json(kube, "deployment", name, "--namespace", namespace)
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["template"]["spec"]["serviceAccountName"] == name

    # The API server's own authorizer agrees with the rules.
    subject = f"system:serviceaccount:{namespace}:{name}"
    assert can_i(kube, subject, "watch", "registries.acr-operator.dev", "default")
    assert can_i(kube, subject, "patch", "registries.acr-operator.dev/status", "default")
    assert can_i(kube, subject, "create", "secrets", "default")
    assert can_i(kube, subject, "create", "events", "default")
    assert not can_i(kube, subject, "get", "registries.acr-operator.dev", "default")
    assert not can_i(kube, subject, "get", "registries.acr-operator.dev/status", "default")
    assert not can_i(kube, subject, "patch", "events", "default")
    assert not can_i(kube, subject, "list", "customresourcedefinitions.apiextensions.k8s.io", "default")
    assert not can_i(kube, subject, "list", "namespaces", "default")
    assert not can_i(kube, subject, "delete", "registries.acr-operator.dev", "default")
    assert not can_i(kube, subject, "delete", "secrets", "default")
    assert not can_i(kube, subject, "create", "pods", "default")


def test_install_watch_namespaces(kube, install):
    suffix = uuid.uuid4().hex[:6]
    watched, other = f"team-{suffix}", f"other-{suffix}"
    release, namespace = install(
        "--set", f"watchNamespaces={{{watched}}}",
        "--set", "credential.mode=emulator",
        "--set", "credential.staticToken.value=emulator-token",
        extra_namespaces=(watched, other),
    )
    name = f"{release}-acr-operator"

    role = get_json(kube, "role", name, "--namespace", watched)
    assert any("registries" in rule["resources"] for rule in role["rules"])
    get_json(kube, "rolebinding", name, "--namespace", watched)
    cluster_wide = kube.run("kubectl", "get", "clusterrole,clusterrolebinding", name,
                            "--ignore-not-found", "--output", "name")
    assert cluster_wide.stdout == ""
    secret = get_json(kube, "secret", f"{name}-static-token", "--namespace", namespace)
    assert set(secret["data"]) == {"token"}
    env = {item["name"]: item for item in
           get_json(kube, "deployment", name, "--namespace", namespace)
           ["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["ACR_OPERATOR_NAMESPACES"]["value"] == watched
    assert env["ACR_OPERATOR_CREDENTIAL"]["value"] == "static-token"

    subject = f"system:serviceaccount:{namespace}:{name}"
    assert can_i(kube, subject, "watch", "registries.acr-operator.dev", watched)
    assert can_i(kube, subject, "patch", "secrets", watched)
    assert not can_i(kube, subject, "update", "secrets", watched)
    assert not can_i(kube, subject, "watch", "registries.acr-operator.dev", other)
    assert not can_i(kube, subject, "get", "secrets", other)
    assert not can_i(kube, subject, "watch", "namespaces", other)
