"""Fixtures of the chart tests: the helm binary, helm's private folders and a renderer."""

from __future__ import annotations

from pathlib import Path

import controlplane  # on sys.path through tests/conftest.py
import pytest

from tests.chart.rbac import CHART_DIR, helm_env, helm_template


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    """The cached helm binary, built by tests/cluster/build.py when missing."""
    return Path(controlplane.binary_paths(["helm"], log=lambda message: None)["helm"])


@pytest.fixture(scope="session")
def helm_environ(tmp_path_factory) -> dict[str, str]:
    return helm_env(tmp_path_factory.mktemp("helm-home"))


@pytest.fixture(scope="session")
def render(helm_bin, helm_environ):
    """Return a function that renders the chart with the given values into a list of objects."""

    def _render(values: dict | None = None, namespace: str = "acr-system", **kwargs) -> list[dict]:
        return helm_template(helm_bin, CHART_DIR, namespace, values, env=helm_environ, **kwargs)

    return _render
