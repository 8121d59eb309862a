#!/usr/bin/env python3
"""Build the control-plane binaries that the test harness runs.

kube-apiserver, kube-controller-manager and kubectl come from k8s.io/kubernetes,
etcd from go.etcd.io/etcd/server/v3 and helm from helm.sh/helm/v4, all compiled
with the local Go toolchain from the module proxy. The Go modules under
tests/cluster/tools/ pin the versions. Each binary set is cached outside the
repository in $ACR_OPERATOR_CACHE (default ~/.cache/acr-operator) under
NAME/VERSION/, so a second run only checks the cache.

Usage: python tests/cluster/build.py [--force] [--only kube,etcd,helm]
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

TOOLS_DIR = Path(__file__).resolve().parent / "tools"
STAMP_NAME = ".build-info.json"


def cache_root() -> Path:
    """Return the cache folder: $ACR_OPERATOR_CACHE or ~/.cache/acr-operator."""
    value = os.environ.get("ACR_OPERATOR_CACHE")
    return Path(value).expanduser() if value else Path.home() / ".cache" / "acr-operator"


def required_version(module_dir: Path, module: str) -> str:
    """Read the version of `module` from the `require` lines of module_dir/go.mod."""
    text = (module_dir / "go.mod").read_text()
    match = re.search(rf"^\s*(?:require\s+)?{re.escape(module)}\s+(v\S+)", text, re.MULTILINE)
    if not match:
        raise RuntimeError(f"{module} is missing from the require lines of {module_dir}/go.mod")
    return match.group(1)


@dataclass(frozen=True)
class ToolSet:
    """One `go build` run: the Go module that pins it and the binaries it writes."""

    name: str
    module: str
    packages: dict[str, str]  # binary name -> Go main package

    @property
    def module_dir(self) -> Path:
        return TOOLS_DIR / self.name

    @property
    def version(self) -> str:
        return required_version(self.module_dir, self.module)

    @property
    def install_dir(self) -> Path:
        return cache_root() / self.name / self.version

    def paths(self) -> dict[str, Path]:
        return {binary: self.install_dir / binary for binary in self.packages}

    def ldflags(self, build_date: str | None = None) -> str:
        """Return the linker flags: stripped, with the release version (and build date) stamped in."""
        flags = ["-s", "-w"]
        version = self.version
        if self.name == "kube":
            major, minor = version.lstrip("v").split(".")[:2]
            stamp = {
                "gitVersion": version,
                "gitMajor": major,
                "gitMinor": minor,
                "gitTreeState": "clean",
            }
            if build_date:
                stamp["buildDate"] = build_date
            flags += [
                f"-X k8s.io/component-base/version.{key}={value}" for key, value in stamp.items()
            ]
        elif self.name == "helm":
            flags += [
                f"-X helm.sh/helm/v4/internal/version.version={version}",
                "-X helm.sh/helm/v4/internal/version.gitTreeState=clean",
            ]
        # etcd needs no flags: its version is a constant in go.etcd.io/etcd/api/v3/version.
        return " ".join(flags)


TOOLSETS = {
    "kube": ToolSet(
        "kube",
        "k8s.io/kubernetes",
        {
            "kube-apiserver": "k8s.io/kubernetes/cmd/kube-apiserver",
            "kube-controller-manager": "k8s.io/kubernetes/cmd/kube-controller-manager",
            "kubectl": "k8s.io/kubernetes/cmd/kubectl",
        },
    ),
    "etcd": ToolSet("etcd", "go.etcd.io/etcd/server/v3", {"etcd": "go.etcd.io/etcd/server/v3"}),
    "helm": ToolSet("helm", "helm.sh/helm/v4", {"helm": "helm.sh/helm/v4/cmd/helm"}),
}


def module_time(module_dir: Path, module: str) -> str | None:
    """Return the release time of `module` as recorded by the module proxy, or None."""
    result = subprocess.run(
        [
            "go",
            "list",
            "-m",
            "-f",
            '{{with .Time}}{{.UTC.Format "2006-01-02T15:04:05Z"}}{{end}}',
            module,
        ],
        cwd=module_dir,
        env=go_env(),
        check=False,
        capture_output=True,
        text=True,
    )
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def go_env() -> dict[str, str]:
    env = dict(os.environ)
    # A go.work further up would pull other modules into these builds.
    env["GOWORK"] = "off"
    return env


def recipe(toolset: ToolSet) -> dict:
    """Return what decides the binaries' content; a cache entry is valid only for the same recipe.

    The build date is left out, so that checking the cache needs no Go toolchain.
    """
    return {"packages": toolset.packages, "ldflags": toolset.ldflags(), "trimpath": True}


def is_cached(toolset: ToolSet) -> bool:
    stamp = toolset.install_dir / STAMP_NAME
    if not stamp.is_file():
        return False
    try:
        recorded = json.loads(stamp.read_text())
    except ValueError:
        return False
    if recorded.get("recipe") != recipe(toolset):
        return False
    return all(os.access(path, os.X_OK) for path in toolset.paths().values())


@contextlib.contextmanager
def build_lock():
    """Serialize builds across processes, because two test runs may start at once."""
    root = cache_root()
    root.mkdir(parents=True, exist_ok=True)
    with open(root / ".build.lock", "w") as lock_file:
        fcntl.flock(lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock_file, fcntl.LOCK_UN)


def build(toolset: ToolSet, log=print) -> float:
    """Build one tool set into its cache folder and return the seconds it took.

    The binaries are written to a temporary folder beside the cache folder and
    renamed into place, and the stamp file is written last, so an interrupted
    build never leaves a binary that counts as cached.
    """
    install_dir = toolset.install_dir
    install_dir.mkdir(parents=True, exist_ok=True)
    # Folders left by a killed build; the caller holds build_lock, so none is in use.
    for leftover in install_dir.parent.glob(".tmp-build-*"):
        shutil.rmtree(leftover, ignore_errors=True)
    go_recipe = recipe(toolset)
    log(
        f"building {toolset.name} {toolset.version} in {toolset.module_dir} (go build, this can take many minutes)"
    )
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix=".tmp-build-", dir=install_dir.parent) as tmp:
        tmp_dir = Path(tmp)
        if len(toolset.packages) == 1:
            # With one package, -o names the output file. Given a folder, go build
            # would name etcd's binary `server`, after go.etcd.io/etcd/server/v3.
            [binary] = toolset.packages
            output = str(tmp_dir / binary)
        else:
            output = str(tmp_dir) + os.sep
        build_date = (
            module_time(toolset.module_dir, toolset.module) if toolset.name == "kube" else None
        )
        ldflags = toolset.ldflags(build_date=build_date)
        command = ["go", "build", "-trimpath", "-ldflags", ldflags, "-o", output]
        command += list(toolset.packages.values())
        result = subprocess.run(command, cwd=toolset.module_dir, env=go_env(), check=False)
        if result.returncode != 0:
            raise RuntimeError(
                f"go build of {toolset.name} {toolset.version} failed with exit code "
                f"{result.returncode}: {' '.join(command)} (in {toolset.module_dir})"
            )
        for binary in toolset.packages:
            built = tmp_dir / binary
            if not built.is_file():
                raise RuntimeError(f"go build finished but did not write {built}")
            os.replace(built, install_dir / binary)
    elapsed = time.monotonic() - started
    go_version = subprocess.run(
        ["go", "version"], check=False, capture_output=True, text=True
    ).stdout.strip()
    stamp = {
        "recipe": go_recipe,
        "ldflags": ldflags,
        "go": go_version,
        "seconds": round(elapsed, 1),
        "builtAt": time.time(),
    }
    stamp_tmp = install_dir / (STAMP_NAME + ".tmp")
    stamp_tmp.write_text(json.dumps(stamp, indent=2) + "\n")
    os.replace(stamp_tmp, install_dir / STAMP_NAME)
    log(f"built {toolset.name} {toolset.version} in {elapsed:.1f} s")
    return elapsed


def ensure(names=None, force: bool = False, log=print) -> dict[str, Path]:
    """Build every missing tool set of `names` (all by default) and return binary name -> path."""
    selected = [TOOLSETS[name] for name in (names or TOOLSETS)]
    paths: dict[str, Path] = {}
    missing = [toolset for toolset in selected if force or not is_cached(toolset)]
    if missing:
        if shutil.which("go") is None:
            raise RuntimeError(
                "the Go toolchain (go) is not on PATH; it is needed to build "
                + ", ".join(toolset.name for toolset in missing)
            )
        with build_lock():
            # Builds run one after another: each go build already uses every core.
            for toolset in missing:
                if force or not is_cached(toolset):
                    build(toolset, log=log)
    for toolset in selected:
        paths.update(toolset.paths())
    return paths


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true", help="rebuild even when the cache is valid")
    parser.add_argument(
        "--only",
        default=",".join(TOOLSETS),
        help="comma-separated tool sets to build (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    names = [name.strip() for name in args.only.split(",") if name.strip()]
    unknown = [name for name in names if name not in TOOLSETS]
    if unknown:
        parser.error(f"unknown tool set {', '.join(unknown)}; choose from {', '.join(TOOLSETS)}")
    started = time.monotonic()
    cached_before = {name for name in names if not args.force and is_cached(TOOLSETS[name])}
    try:
        paths = ensure(names, force=args.force, log=lambda message: print(message, flush=True))
    except RuntimeError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    for toolset in (TOOLSETS[name] for name in names):
        stamp = json.loads((toolset.install_dir / STAMP_NAME).read_text())
        origin = "cached" if toolset.name in cached_before else "built now"
        print(
            f"{toolset.name} {toolset.version}: {toolset.install_dir} ({origin}; the build took {stamp['seconds']} s)"
        )
    for binary, path in paths.items():
        print(f"  {binary}: {path}")
    print(f"done in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
