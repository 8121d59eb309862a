"""The chart ships exactly the generated CRDs.

The code generator writes crds/ at the repository root; Helm installs the
files of charts/acr-operator/crds/ before the templates. Both must contain
the same files, byte for byte, so the chart never ships a stale schema.
"""

from __future__ import annotations

from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parents[2]
GENERATED = REPO_ROOT / "crds"
IN_CHART = REPO_ROOT / "charts" / "acr-operator" / "crds"


def manifests(folder: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in sorted(folder.glob("*.yaml"))}


def test_chart_crds_are_the_generated_crds():
    generated = manifests(GENERATED)
    in_chart = manifests(IN_CHART)
    assert generated, f"no generated CRDs in {GENERATED}; run the code generator"
    assert sorted(in_chart) == sorted(generated), "charts/acr-operator/crds/ and crds/ contain different files"
    stale = [name for name in generated if in_chart[name] != generated[name]]
    assert not stale, f"charts/acr-operator/crds/ differs from crds/ in {stale}"


def test_chart_crds_are_acr_operator_crds():
    for name, text in manifests(IN_CHART).items():
        for crd in yaml.safe_load_all(text):
            if not crd:
                continue
            assert crd["kind"] == "CustomResourceDefinition", name
            assert crd["spec"]["group"] == "acr-operator.dev", name
