"""kubectl and helm from the binary cache, run against the local control plane.

These tests check the harness, not the operator: the written kubeconfig must
work for the Python client, kubectl and helm, and the binaries must report the
versions that tests/cluster/build.py stamps into them.
"""

from __future__ import annotations

import base64
import json
import textwrap

import controlplane
import pytest
import yaml
from kubernetes import client

pytestmark = pytest.mark.e2e

GROUP = "harness.acr-operator.dev"
GADGET_CRD_NAME = f"gadgets.{GROUP}"

GADGET_CRD_YAML = f"""\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: {GADGET_CRD_NAME}
spec:
  group: {GROUP}
  scope: Namespaced
  names:
    plural: gadgets
    singular: gadget
    kind: Gadget
  versions:
    - name: v1alpha1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                color:
                  type: string
"""

GADGET_YAML = f"""\
apiVersion: {GROUP}/v1alpha1
kind: Gadget
metadata:
  name: gizmo
spec:
  color: green
"""


def expected_version(tool: str) -> str:
    """Return the version that the harness's go.mod pins for `tool` (kube or helm)."""
    return controlplane.load_build_module().TOOLSETS[tool].version


# 6. Secrets and kubectl ------------------------------------------------------


def test_secret_created_and_read_back(api, namespace):
    core = client.CoreV1Api(api)
    core.create_namespaced_secret(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": "s3cret"},
        },
    )
    secret = core.read_namespaced_secret("creds", namespace)
    assert secret.type == "Opaque"
    assert base64.b64decode(secret.data["password"]) == b"s3cret"


def test_kubectl_reads_secret(kube, api, namespace):
    client.CoreV1Api(api).create_namespaced_secret(
        namespace,
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": "creds"},
            "stringData": {"password": "s3cret"},
        },
    )
    result = kube.run(
        "kubectl", "get", "secret", "creds", "-n", namespace, "-o", "jsonpath={.data.password}"
    )
    assert base64.b64decode(result.stdout) == b"s3cret"


def test_kubectl_reports_server_version(kube):
    versions = json.loads(kube.run("kubectl", "version", "-o", "json").stdout)
    assert versions["clientVersion"]["gitVersion"] == expected_version("kube")
    assert versions["serverVersion"]["gitVersion"] == expected_version("kube")


def test_kubectl_apply_wait_get(kube, namespace, tmp_path):
    crd_file = tmp_path / "gadget-crd.yaml"
    crd_file.write_text(GADGET_CRD_YAML)
    gadget_file = tmp_path / "gadget.yaml"
    gadget_file.write_text(GADGET_YAML)
    try:
        applied = kube.run("kubectl", "apply", "-f", str(crd_file))
        assert (
            f"customresourcedefinition.apiextensions.k8s.io/{GADGET_CRD_NAME} created"
            in applied.stdout
        )

        waited = kube.run(
            "kubectl",
            "wait",
            "--for=condition=Established",
            "--timeout=60s",
            f"crd/{GADGET_CRD_NAME}",
        )
        assert "condition met" in waited.stdout

        kube.run("kubectl", "apply", "-n", namespace, "-f", str(gadget_file))
        names = kube.run("kubectl", "get", "gadgets", "-n", namespace, "-o", "name").stdout.split()
        assert names == [f"gadget.{GROUP}/gizmo"]

        gadget = json.loads(
            kube.run("kubectl", "get", "gadget", "gizmo", "-n", namespace, "-o", "json").stdout
        )
        assert gadget["spec"] == {"color": "green"}
    finally:
        kube.run("kubectl", "delete", "--ignore-not-found", "--wait=false", "-f", str(crd_file))


# 7. helm -----------------------------------------------------------------------


@pytest.fixture
def helm_env(kube, tmp_path) -> dict[str, str]:
    """Return an environment whose HOME and helm/XDG folders are fresh folders under tmp_path."""
    env = kube.env()
    for variable in (
        "HOME",
        "XDG_CACHE_HOME",
        "XDG_CONFIG_HOME",
        "XDG_DATA_HOME",
        "HELM_CACHE_HOME",
        "HELM_CONFIG_HOME",
        "HELM_DATA_HOME",
    ):
        folder = tmp_path / "home" / variable.lower()
        folder.mkdir(parents=True)
        env[variable] = str(folder)
    return env


@pytest.fixture
def tiny_chart(tmp_path):
    chart = tmp_path / "tiny"
    (chart / "templates").mkdir(parents=True)
    (chart / "Chart.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v2
        name: tiny
        version: 0.1.0
        kubeVersion: ">=1.30.0-0"
        """)
    )
    (chart / "values.yaml").write_text("message: hello\n")
    (chart / "templates" / "configmap.yaml").write_text(
        textwrap.dedent("""\
        apiVersion: v1
        kind: ConfigMap
        metadata:
          name: {{ .Release.Name }}-tiny
        data:
          message: {{ .Values.message | quote }}
          kubeVersion: {{ .Capabilities.KubeVersion.Version | quote }}
        """)
    )
    return chart


def test_helm_reports_version(kube, helm_env):
    result = kube.run("helm", "version", "--template", "{{ .Version }}", env=helm_env)
    assert result.stdout.strip() == expected_version("helm")


def test_helm_template_renders_chart(kube, helm_env, tiny_chart):
    result = kube.run(
        "helm", "template", "demo", str(tiny_chart), "--set", "message=hi", env=helm_env
    )
    documents = [doc for doc in yaml.safe_load_all(result.stdout) if doc]
    assert [doc["kind"] for doc in documents] == ["ConfigMap"]
    assert documents[0]["metadata"]["name"] == "demo-tiny"
    assert documents[0]["data"]["message"] == "hi"


def test_helm_install_and_uninstall(kube, api, helm_env, tiny_chart, namespace):
    core = client.CoreV1Api(api)
    kube.run(
        "helm",
        "install",
        "demo",
        str(tiny_chart),
        "-n",
        namespace,
        "--wait",
        "--timeout",
        "60s",
        env=helm_env,
    )

    config_map = core.read_namespaced_config_map("demo-tiny", namespace)
    assert config_map.data["message"] == "hello"
    # helm fills .Capabilities from the server during install, so this is the control plane's version.
    assert config_map.data["kubeVersion"] == expected_version("kube")

    releases = json.loads(
        kube.run("helm", "list", "-n", namespace, "-o", "json", env=helm_env).stdout
    )
    assert [(release["name"], release["status"]) for release in releases] == [("demo", "deployed")]

    kube.run("helm", "uninstall", "demo", "-n", namespace, "--wait", env=helm_env)
    remaining = core.list_namespaced_config_map(namespace, field_selector="metadata.name=demo-tiny")
    assert remaining.items == []
