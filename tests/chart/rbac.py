"""Render the chart with `helm template`, for the chart tests and the end-to-end suite.

This module imports nothing from the rest of the test tree, so other suites
can load it by path as well as by name.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

import yaml

CHART_DIR = Path(__file__).resolve().parents[2] / "charts" / "acr-operator"
DEFAULT_RELEASE = "acr-operator"
IDENTITY_KINDS = ("ServiceAccount", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding")


def helm_env(home: str | os.PathLike) -> dict[str, str]:
    """Return os.environ with helm's cache, config and data folders under `home`.

    helm otherwise writes repository caches and plugins into the user's home.
    """
    env = dict(os.environ)
    for name in ("CACHE", "CONFIG", "DATA"):
        folder = Path(home) / name.lower()
        folder.mkdir(parents=True, exist_ok=True)
        env[f"HELM_{name}_HOME"] = str(folder)
    return env


def helm_template(
    helm: str | os.PathLike,
    chart_dir: str | os.PathLike = CHART_DIR,
    namespace: str = "acr-operator-system",
    values: dict | None = None,
    *,
    release: str = DEFAULT_RELEASE,
    extra_args: list[str] | None = None,
    env: dict[str, str] | None = None,
) -> list[dict]:
    """Run `helm template` and return the rendered objects, empty documents left out.

    Raises subprocess.CalledProcessError (with helm's stderr) when rendering fails.
    """
    with tempfile.TemporaryDirectory(prefix="helm-template-") as tmp:
        command = [str(helm), "template", release, str(chart_dir), "--namespace", namespace]
        if values:
            values_file = Path(tmp) / "values.json"
            # JSON is YAML, and it keeps types exact where --set would guess them.
            values_file.write_text(json.dumps(values))
            command += ["--values", str(values_file)]
        command += extra_args or []
        result = subprocess.run(
            command,
            env=env if env is not None else helm_env(Path(tmp) / "helm"),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise subprocess.CalledProcessError(
                result.returncode, command, output=result.stdout, stderr=result.stderr
            )
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


def render_identity(
    helm: str | os.PathLike,
    chart_dir: str | os.PathLike,
    namespace: str,
    values: dict | None = None,
    *,
    release: str = DEFAULT_RELEASE,
) -> list[dict]:
    """Return the chart's ServiceAccount and RBAC objects for a release in `namespace`.

    These are the ServiceAccount with the ClusterRole and ClusterRoleBinding, or,
    when `values` sets watchNamespaces, with one Role and RoleBinding per
    namespace, exactly as `helm template` renders them. Apply them and run the operator outside the
    cluster with a TokenRequest token of that ServiceAccount to give it the
    chart's permissions and no more.
    """
    objects = helm_template(helm, chart_dir, namespace, values, release=release)
    return [obj for obj in objects if obj.get("kind") in IDENTITY_KINDS]
