"""Command line of the code generator (`python -m acr_operator.codegen`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from acr_operator.codegen import generate

# The repository root: operator/acr_operator/codegen/__main__.py is three levels down.
# NOTE: this holds only in a source checkout (editable install), not in an installed wheel.
REPO_ROOT = Path(__file__).resolve().parents[3]
DEFAULT_SPEC_DIR = "../shared/azure-spec/containerregistry/2025-06-01-preview"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acr_operator.codegen",
                                     description="Regenerate api.json, kinds.json and crds/.")
    parser.add_argument("--spec-dir", default=DEFAULT_SPEC_DIR,
                        help="folder of containerregistry.json; relative paths start at the "
                             "repository root (default: %(default)s)")
    parser.add_argument("--out", default=None,
                        help="root to write into (default: the repository root)")
    args = parser.parse_args(argv)
    spec_dir = _from_root(args.spec_dir)
    out_dir = _from_root(args.out) if args.out else REPO_ROOT
    if not (spec_dir / "containerregistry.json").is_file():
        print(f"error: no containerregistry.json in {spec_dir}", file=sys.stderr)
        return 2
    for path in generate(spec_dir, _display(args.spec_dir), out_dir):
        print(f"wrote {out_dir / path}")
    return 0


def _from_root(value: str) -> Path:
    path = Path(value)
    return path if path.is_absolute() else (REPO_ROOT / path).resolve()


def _display(spec_dir: str) -> str:
    # Headers name the source relative to the repository so they match on every machine.
    path = Path(spec_dir)
    if not path.is_absolute():
        return spec_dir
    try:
        return str(Path("..") / path.resolve().relative_to(REPO_ROOT.parent))
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
