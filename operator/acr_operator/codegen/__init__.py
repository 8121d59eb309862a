"""Code generator: reads the OpenAPI document, writes the API model and CRDs.

Run `python -m acr_operator.codegen` to rewrite the generated files in the
repository, or pass `--out` to write them elsewhere. `render` builds every
file in memory, so a test can compare the output with the committed files.
"""

from __future__ import annotations

from pathlib import Path

from acr_operator import ARM_API_VERSION
from acr_operator.codegen import crds, kinds, operations, schemas, swagger, writer

GENERATED_DIR = Path("operator/acr_operator/generated")
CRD_DIR = Path("crds")
# Helm installs the files of a chart's crds/ folder before its templates, and
# a chart cannot read files outside its own folder, so the CRDs go there too.
CHART_CRD_DIR = Path("charts/acr-operator/crds")


def render(spec_dir: Path, display_dir: str) -> dict[Path, str]:
    """Build every generated file, as text keyed by its path relative to the repo root."""
    source = swagger.load(spec_dir, display_dir)
    api = build_api(source.doc)
    descriptors = kinds.build(api, source.doc)
    files = {
        GENERATED_DIR / "api.json": writer.json_text(source, api),
        GENERATED_DIR / "kinds.json": writer.json_text(source, descriptors),
    }
    for kind, desc in descriptors.items():
        crd = crds.build(kind, desc, api, descriptors)
        text = writer.yaml_text(source, crd)
        files[CRD_DIR / f"{desc['plural']}.yaml"] = text
        files[CHART_CRD_DIR / f"{desc['plural']}.yaml"] = text
    return files


def build_api(doc: dict) -> dict:
    return {
        "apiVersion": ARM_API_VERSION,
        "operations": operations.build(doc),
        "definitions": schemas.definitions(doc),
    }


def generate(spec_dir: Path, display_dir: str, out_dir: Path) -> list[Path]:
    files = render(spec_dir, display_dir)
    for relative, text in files.items():
        writer.write(out_dir / relative, text)
    return sorted(files)
