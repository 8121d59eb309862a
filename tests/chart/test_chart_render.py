"""The chart renders valid, locked-down objects for every credential mode and watch scope."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import kubernetes_validate
import kubernetes_validate.utils
import pytest
import yaml

from tests.chart.rbac import CHART_DIR, render_identity

KUBE_GO_MOD = Path(__file__).resolve().parents[1] / "cluster" / "tools" / "kube" / "go.mod"

RELEASE_NS = "acr-system"
CLIENT_ID = "00000000-0000-0000-0000-00000000c11d"
TENANT_ID = "00000000-0000-0000-0000-0000000007e1"

PLURALS = [
    "registries", "replications", "webhooks", "tokens", "scopemaps", "cacherules",
    "credentialsets", "connectedregistries", "exportpipelines", "importpipelines",
    "pipelineruns", "privateendpointconnections", "archives", "archiveversions", "imageimports",
]

SCENARIOS = {
    "defaults": {},
    "workloadIdentity": {"credential": {"mode": "workloadIdentity", "clientId": CLIENT_ID,
                                        "tenantId": TENANT_ID}},
    "clientSecret": {"credential": {"mode": "clientSecret", "clientId": CLIENT_ID, "tenantId": TENANT_ID,
                                    "clientSecret": {"existingSecret": "acr-sp", "key": "password"}}},
    "emulator-value": {"arm": {"endpoint": "http://127.0.0.1:8443"},
                       "credential": {"mode": "emulator", "staticToken": {"value": "emulator-token"}}},
    "emulator-secret": {"credential": {"mode": "emulator",
                                       "staticToken": {"existingSecret": "emu-token", "key": "t"}}},
    "watchNamespaces": {"watchNamespaces": ["team-a", "team-b"]},
    "everything": {
        "subscriptionId": "00000000-0000-0000-0000-000000000sub",
        "resyncSeconds": 120,
        "imagePullSecrets": [{"name": "pull"}],
        "podAnnotations": {"example.com/a": "b"},
        "podLabels": {"team": "platform"},
        "serviceAccount": {"annotations": {"example.com/owner": "platform"}},
        "extraEnv": [{"name": "EXTRA", "value": "1"}],
        "extraArgs": ["--verbose"],
        "priorityClassName": "system-cluster-critical",
        "nodeSelector": {"kubernetes.io/os": "linux"},
        "tolerations": [{"key": "dedicated", "operator": "Exists", "effect": "NoSchedule"}],
        "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
            "nodeSelectorTerms": [{"matchExpressions": [
                {"key": "kubernetes.io/arch", "operator": "In", "values": ["amd64", "arm64"]}]}]}}},
    },
}


def validation_version() -> str:
    """Return the Kubernetes version to validate against: the harness's, else the newest known."""
    match = re.search(r"k8s\.io/kubernetes v(\d+)\.(\d+)\.", KUBE_GO_MOD.read_text())
    known = kubernetes_validate.utils.all_versions()
    if match:
        expected = f"{match.group(1)}.{match.group(2)}.0"
        if expected in known:
            return expected
    return kubernetes_validate.utils.latest_version()


def by_kind(objects: list[dict], kind: str) -> list[dict]:
    return [obj for obj in objects if obj["kind"] == kind]


def one(objects: list[dict], kind: str) -> dict:
    found = by_kind(objects, kind)
    assert len(found) == 1, f"expected one {kind}, got {len(found)}"
    return found[0]


def container(objects: list[dict]) -> dict:
    [operator] = one(objects, "Deployment")["spec"]["template"]["spec"]["containers"]
    return operator


def env_of(objects: list[dict]) -> dict[str, dict]:
    return {item["name"]: item for item in container(objects)["env"]}


def env_values(objects: list[dict]) -> dict[str, str | None]:
    return {name: item.get("value") for name, item in env_of(objects).items()}


def test_chart_metadata():
    chart = yaml.safe_load((CHART_DIR / "Chart.yaml").read_text())
    assert chart["apiVersion"] == "v2"
    assert (chart["name"], chart["version"], chart["appVersion"]) == ("acr-operator", "0.1.0", "0.1.0")
    assert chart["kubeVersion"] == ">=1.30.0-0"


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_helm_lint(helm_bin, helm_environ, tmp_path, scenario):
    values_file = tmp_path / "values.json"
    values_file.write_text(json.dumps(SCENARIOS[scenario]))
    result = subprocess.run(
        [str(helm_bin), "lint", "--strict", str(CHART_DIR), "--values", str(values_file)],
        env=helm_environ, capture_output=True, text=True, check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_strict_schema_validation(render, scenario):
    version = validation_version()
    objects = render(SCENARIOS[scenario])
    assert objects
    for obj in objects:
        try:
            kubernetes_validate.validate(obj, version, strict=True)
        except kubernetes_validate.ValidationError as error:
            where = "/".join(str(part) for part in error.absolute_path)
            pytest.fail(f"{obj['kind']}/{obj['metadata']['name']} is invalid for Kubernetes {version} "
                        f"at {where or 'the top'}: {error.message}")


def test_default_render_objects(render):
    objects = render()
    kinds = sorted(obj["kind"] for obj in objects)
    assert kinds == ["ClusterRole", "ClusterRoleBinding", "Deployment", "ServiceAccount"]
    for obj in objects:
        if obj["kind"] not in ("ClusterRole", "ClusterRoleBinding"):
            assert obj["metadata"]["namespace"] == RELEASE_NS


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_security_context_locked_down(render, scenario):
    objects = render(SCENARIOS[scenario])
    pod = one(objects, "Deployment")["spec"]["template"]["spec"]
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] == 65532
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    context = container(objects)["securityContext"]
    assert context["runAsNonRoot"] is True
    assert context["runAsUser"] == 65532
    assert context["readOnlyRootFilesystem"] is True
    assert context["allowPrivilegeEscalation"] is False
    assert context["capabilities"] == {"drop": ["ALL"]}
    assert context["seccompProfile"] == {"type": "RuntimeDefault"}
    # The read-only root needs a writable /tmp.
    mounts = {mount["name"]: mount["mountPath"] for mount in container(objects)["volumeMounts"]}
    volumes = {volume["name"]: volume for volume in pod["volumes"]}
    assert mounts["tmp"] == "/tmp"
    assert "emptyDir" in volumes["tmp"]


def test_deployment_replicas_and_probe(render):
    objects = render()
    deployment = one(objects, "Deployment")
    assert deployment["spec"]["replicas"] == 1
    assert deployment["spec"]["strategy"] == {"type": "Recreate"}
    operator = container(objects)
    assert operator["image"] == "acr-operator:0.1.0"
    assert operator["imagePullPolicy"] == "IfNotPresent"
    assert "command" not in operator  # the image's ENTRYPOINT is acr-operator
    assert operator["args"] == ["run", "--liveness", "http://0.0.0.0:8080/healthz"]
    probe = operator["livenessProbe"]["httpGet"]
    assert probe["path"] == "/healthz"
    assert {"name": "healthz", "containerPort": 8080, "protocol": "TCP"} in operator["ports"]
    assert operator["resources"] == {"requests": {"cpu": "50m", "memory": "128Mi"},
                                     "limits": {"memory": "256Mi"}}


def test_default_settings_env(render):
    env = env_values(render())
    assert env == {
        "ACR_OPERATOR_ARM_ENDPOINT": "https://management.azure.com",
        "ACR_OPERATOR_ARM_AUDIENCE": "https://management.azure.com/.default",
        "ACR_OPERATOR_RESYNC_SECONDS": "600",
        "ACR_OPERATOR_CREDENTIAL": "default",
    }


def test_every_setting_in_env(render):
    objects = render(SCENARIOS["everything"] | {"watchNamespaces": ["a", "b"],
                                                "arm": {"endpoint": "http://127.0.0.1:9",
                                                        "audience": "api://x/.default"}})
    env = env_values(objects)
    assert env["ACR_OPERATOR_ARM_ENDPOINT"] == "http://127.0.0.1:9"
    assert env["ACR_OPERATOR_ARM_AUDIENCE"] == "api://x/.default"
    assert env["ACR_OPERATOR_SUBSCRIPTION_ID"] == SCENARIOS["everything"]["subscriptionId"]
    assert env["ACR_OPERATOR_NAMESPACES"] == "a,b"
    assert env["ACR_OPERATOR_RESYNC_SECONDS"] == "120"
    assert env["EXTRA"] == "1"
    operator = container(objects)
    assert operator["args"][-1] == "--verbose"
    pod = one(objects, "Deployment")["spec"]["template"]
    assert pod["metadata"]["labels"]["team"] == "platform"
    assert pod["metadata"]["annotations"] == {"example.com/a": "b"}
    assert pod["spec"]["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert pod["spec"]["tolerations"] == SCENARIOS["everything"]["tolerations"]
    assert pod["spec"]["affinity"] == SCENARIOS["everything"]["affinity"]
    assert pod["spec"]["imagePullSecrets"] == [{"name": "pull"}]
    assert pod["spec"]["priorityClassName"] == "system-cluster-critical"
    account = one(objects, "ServiceAccount")
    assert account["metadata"]["annotations"] == {"example.com/owner": "platform"}


def test_workload_identity_mode(render):
    objects = render(SCENARIOS["workloadIdentity"])
    env = env_values(objects)
    assert env["ACR_OPERATOR_CREDENTIAL"] == "default"
    assert env["AZURE_CLIENT_ID"] == CLIENT_ID
    assert env["AZURE_TENANT_ID"] == TENANT_ID
    assert "AZURE_CLIENT_SECRET" not in env
    assert "ACR_OPERATOR_STATIC_TOKEN" not in env
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert labels["azure.workload.identity/use"] == "true"
    annotations = one(objects, "ServiceAccount")["metadata"]["annotations"]
    assert annotations["azure.workload.identity/client-id"] == CLIENT_ID
    assert annotations["azure.workload.identity/tenant-id"] == TENANT_ID
    # The selector must not carry the webhook label, or turning it off would orphan pods.
    assert "azure.workload.identity/use" not in one(objects, "Deployment")["spec"]["selector"]["matchLabels"]


def test_client_secret_mode_secret_ref(render):
    values = json.loads(json.dumps(SCENARIOS["clientSecret"]))
    # A value under an unknown key must not be rendered anywhere either.
    values["credential"]["clientSecret"]["value"] = "sentinel-client-secret-value"
    objects = render(values)
    env = env_of(objects)
    assert env["AZURE_CLIENT_ID"]["value"] == CLIENT_ID
    assert env["AZURE_TENANT_ID"]["value"] == TENANT_ID
    assert env["AZURE_CLIENT_SECRET"] == {
        "name": "AZURE_CLIENT_SECRET",
        "valueFrom": {"secretKeyRef": {"name": "acr-sp", "key": "password"}},
    }
    assert env["ACR_OPERATOR_CREDENTIAL"]["value"] == "default"
    assert by_kind(objects, "Secret") == []
    assert "sentinel-client-secret-value" not in yaml.safe_dump_all(objects)
    labels = one(objects, "Deployment")["spec"]["template"]["metadata"]["labels"]
    assert "azure.workload.identity/use" not in labels
    assert "annotations" not in one(objects, "ServiceAccount")["metadata"]


def test_emulator_token_value_creates_secret(render):
    objects = render(SCENARIOS["emulator-value"])
    env = env_of(objects)
    assert env["ACR_OPERATOR_CREDENTIAL"]["value"] == "static-token"
    assert env["ACR_OPERATOR_ARM_ENDPOINT"]["value"] == "http://127.0.0.1:8443"
    ref = env["ACR_OPERATOR_STATIC_TOKEN"]["valueFrom"]["secretKeyRef"]
    secret = one(objects, "Secret")
    assert ref == {"name": secret["metadata"]["name"], "key": "token"}
    assert secret["metadata"]["namespace"] == RELEASE_NS
    assert secret["data"] == {"token": "ZW11bGF0b3ItdG9rZW4="}  # base64 of emulator-token
    assert not {"AZURE_CLIENT_ID", "AZURE_TENANT_ID", "AZURE_CLIENT_SECRET"} & set(env)
    # The token stays out of the Deployment itself.
    assert "emulator-token" not in yaml.safe_dump(one(objects, "Deployment"))


def test_emulator_existing_token_secret(render):
    objects = render(SCENARIOS["emulator-secret"])
    env = env_of(objects)
    assert env["ACR_OPERATOR_CREDENTIAL"]["value"] == "static-token"
    assert env["ACR_OPERATOR_STATIC_TOKEN"]["valueFrom"]["secretKeyRef"] == {"name": "emu-token", "key": "t"}
    assert by_kind(objects, "Secret") == []


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"credential": {"mode": "managedIdentity"}}, "credential.mode must be"),
        ({"credential": {"mode": "clientSecret", "clientId": CLIENT_ID, "tenantId": TENANT_ID}},
         "credential.clientSecret.existingSecret"),
        ({"credential": {"mode": "clientSecret", "clientSecret": {"existingSecret": "s"}}},
         "credential.clientId and credential.tenantId"),
        ({"credential": {"mode": "emulator"}}, "credential.staticToken"),
        ({"replicaCount": 2}, "replicaCount must be 0 or 1"),
    ],
    ids=["unknown-mode", "client-secret-without-secret", "client-secret-without-ids",
         "emulator-without-token", "two-replicas"],
)
def test_invalid_values_fail_clearly(render, values, message):
    with pytest.raises(subprocess.CalledProcessError) as failure:
        render(values)
    assert message in failure.value.stderr


def namespaced_rule_set() -> list[dict]:
    return [
        {"apiGroups": ["acr-operator.dev"], "resources": PLURALS,
         "verbs": ["list", "watch", "patch"]},
        {"apiGroups": ["acr-operator.dev"], "resources": [f"{plural}/status" for plural in PLURALS],
         "verbs": ["patch"]},
        {"apiGroups": [""], "resources": ["secrets"],
         "verbs": ["get", "list", "watch", "create", "patch"]},
        {"apiGroups": [""], "resources": ["events"], "verbs": ["create"]},
    ]


def test_cluster_wide_rbac(render):
    objects = render()
    role = one(objects, "ClusterRole")
    assert role["rules"] == namespaced_rule_set()
    binding = one(objects, "ClusterRoleBinding")
    account = one(objects, "ServiceAccount")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": role["metadata"]["name"]}
    assert binding["subjects"] == [{"kind": "ServiceAccount", "name": account["metadata"]["name"],
                                    "namespace": RELEASE_NS}]
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == \
        account["metadata"]["name"]
    assert by_kind(objects, "Role") == []
    assert by_kind(objects, "RoleBinding") == []
    assert "ACR_OPERATOR_NAMESPACES" not in env_values(objects)


def test_namespaced_rbac_per_namespace(render):
    objects = render(SCENARIOS["watchNamespaces"])
    assert env_values(objects)["ACR_OPERATOR_NAMESPACES"] == "team-a,team-b"
    # The operator needs nothing cluster-scoped, so nothing is granted cluster-wide.
    assert by_kind(objects, "ClusterRole") == []
    assert by_kind(objects, "ClusterRoleBinding") == []
    account = one(objects, "ServiceAccount")["metadata"]["name"]
    roles = {role["metadata"]["namespace"]: role for role in by_kind(objects, "Role")}
    bindings = {binding["metadata"]["namespace"]: binding for binding in by_kind(objects, "RoleBinding")}
    assert sorted(roles) == sorted(bindings) == ["team-a", "team-b"]
    for namespace, role in roles.items():
        assert role["rules"] == namespaced_rule_set()
        assert bindings[namespace]["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role",
                                                  "name": role["metadata"]["name"]}
        assert bindings[namespace]["subjects"] == [{"kind": "ServiceAccount", "name": account,
                                                    "namespace": RELEASE_NS}]


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_rbac_no_wildcards_or_delete(render, scenario):
    for obj in render(SCENARIOS[scenario]):
        for rule in obj.get("rules", []):
            for field in ("apiGroups", "resources", "verbs"):
                assert "*" not in rule[field], rule
            assert not {"delete", "deletecollection", "escalate", "bind", "impersonate"} & set(rule["verbs"])


def test_rbac_can_be_turned_off(render):
    objects = render({"rbac": {"create": False}, "watchNamespaces": ["a"]})
    assert sorted(obj["kind"] for obj in objects) == ["Deployment", "ServiceAccount"]


def test_existing_service_account(render):
    objects = render({"serviceAccount": {"create": False, "name": "mine"}})
    assert by_kind(objects, "ServiceAccount") == []
    assert one(objects, "Deployment")["spec"]["template"]["spec"]["serviceAccountName"] == "mine"
    assert one(objects, "ClusterRoleBinding")["subjects"][0]["name"] == "mine"


def test_render_identity(helm_bin):
    identity = render_identity(helm_bin, CHART_DIR, "ops")
    assert sorted(obj["kind"] for obj in identity) == ["ClusterRole", "ClusterRoleBinding", "ServiceAccount"]
    account = one(identity, "ServiceAccount")
    assert account["metadata"]["namespace"] == "ops"
    assert one(identity, "ClusterRoleBinding")["subjects"][0] == {
        "kind": "ServiceAccount", "name": account["metadata"]["name"], "namespace": "ops"}

    scoped = render_identity(helm_bin, CHART_DIR, "ops", {"watchNamespaces": ["a", "b"]})
    assert sorted(obj["kind"] for obj in scoped) == [
        "Role", "Role", "RoleBinding", "RoleBinding", "ServiceAccount"]
