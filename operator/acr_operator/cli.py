"""The `acr-operator` command: run the operator, serve the emulator, check the setup.

`run` starts kopf with the handlers of every kind, standalone (no peering),
watching the namespaces of ACR_OPERATOR_NAMESPACES or the whole cluster.
`doctor` checks what `run` needs from Azure before a real deployment: a
token, ARM reachable, the subscription visible. `emulator` and `codegen`
hand over to their own packages.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from collections.abc import Sequence

from acr_operator import ARM_API_VERSION, __version__
from acr_operator.config import Settings, SettingsError, is_loopback

# The subscriptions API is Microsoft.Resources, versioned on its own.
SUBSCRIPTIONS_API_VERSION = "2022-12-01"
OPERATIONS_PATH = "/providers/Microsoft.ContainerRegistry/operations"


# Commands whose arguments belong to another package's parser, passed on untouched.
_DELEGATED = {"emulator", "codegen"}


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in _DELEGATED:
        return _emulator(argv[1:]) if argv[0] == "emulator" else _codegen(argv[1:])
    parser = _parser()
    args = parser.parse_args(argv)
    if not getattr(args, "command", None):
        parser.print_help()
        return 2
    return args.handler(args)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="acr-operator",
        description="Kubernetes operator for Azure Container Registry.",
    )
    parser.add_argument("--version", action="version", version=f"acr-operator {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the operator against the current cluster")
    run.add_argument(
        "--namespace", "-n", action="append", default=[],
        help="namespace to watch (repeatable); overrides ACR_OPERATOR_NAMESPACES",
    )
    run.add_argument(
        "--liveness", metavar="URL", default=None,
        help="serve a liveness probe, e.g. http://0.0.0.0:8080/healthz",
    )
    run.add_argument("--verbose", "-v", action="store_true", help="log more")
    run.add_argument("--debug", action="store_true", help="log every step, including HTTP")
    run.set_defaults(handler=_run)

    # Listed for --help only; main() hands their arguments over before parsing.
    commands.add_parser("emulator", help="serve the ARM emulator (see emulator --help)")
    commands.add_parser("codegen", help="regenerate CRDs and the API model")

    doctor = commands.add_parser("doctor", help="check the credential and ARM reachability")
    doctor.set_defaults(handler=_doctor)
    return parser


def _settings(namespaces: Sequence[str] = ()) -> Settings:
    settings = Settings.from_env()
    if namespaces:
        settings = settings.model_copy(update={"namespaces": tuple(namespaces)})
        settings.check()
    return settings


def _run(args: argparse.Namespace) -> int:
    import kopf

    from acr_operator import handlers

    try:
        settings = _settings(args.namespace)
    except SettingsError as exc:
        print(f"acr-operator: {exc}", file=sys.stderr)
        return 2
    kopf.configure(verbose=args.verbose or args.debug, debug=args.debug)
    registry = handlers.register(kopf.OperatorRegistry())
    asyncio.run(kopf.operator(
        registry=registry,
        standalone=True,
        clusterwide=settings.watches_cluster,
        namespaces=list(settings.namespaces),
        liveness_endpoint=args.liveness,
        memo=kopf.Memo(settings=settings),
    ))
    return 0


def _emulator(argv: list[str]) -> int:
    from acr_operator.emulator import cli as emulator_cli

    return emulator_cli.main(argv)


def _codegen(argv: list[str]) -> int:
    from acr_operator.codegen.__main__ import main as codegen_main

    return codegen_main(argv)


def _doctor(args: argparse.Namespace) -> int:
    try:
        settings = _settings()
    except SettingsError as exc:
        print(f"settings: FAILED: {exc}")
        return 2
    print(f"settings: ok (endpoint {settings.arm_endpoint}, credential {settings.credential})")
    return asyncio.run(_check_azure(settings))


async def _check_azure(settings: Settings) -> int:
    from acr_operator.arm import ArmClient, ArmError, ArmNotFound

    failed = False
    async with await ArmClient.open(settings) as client:
        try:
            expiry = await client.check_token()
            if settings.credential == "static-token":
                # A static token is never checked locally; only the ARM request below tests it.
                print("token: ok (static token configured; the ARM check below tests it)")
            else:
                print(f"token: ok (valid for {max(0, int(expiry - time.time())) // 60} minutes)")
        except ArmError as exc:
            print(f"token: FAILED: {exc.message}")
            return 1
        try:
            answer = await client.request("GET", OPERATIONS_PATH)
            count = len((answer.body or {}).get("value") or [])
            print(f"ARM: ok ({count} Microsoft.ContainerRegistry operations "
                  f"at api-version {ARM_API_VERSION})")
        except ArmError as exc:
            print(f"ARM: FAILED: {exc.describe()}")
            if exc.status == 401 and settings.credential == "static-token":
                print("  hint: ACR_OPERATOR_STATIC_TOKEN must equal the token the emulator was "
                      "started with (--token)")
            failed = True
        if not settings.subscription_id:
            print("subscription: not set (every Registry then needs spec.subscriptionId)")
            return 1 if failed else 0
        path = f"/subscriptions/{settings.subscription_id}"
        emulator = is_loopback(_host(settings.arm_endpoint))
        try:
            answer = await client.request(
                "GET", path, params={"api-version": SUBSCRIPTIONS_API_VERSION},
            )
            body = answer.body or {}
            print(f"subscription: ok ({body.get('displayName') or settings.subscription_id}, "
                  f"state {body.get('state') or 'unknown'})")
        except ArmNotFound as exc:
            # The emulator serves only Microsoft.ContainerRegistry, so it answers 404 here.
            note = " (expected from the emulator)" if emulator else ""
            print(f"subscription: not found{note}: {exc.code}")
            failed = failed or not emulator
        except ArmError as exc:
            print(f"subscription: FAILED: {exc.describe()}")
            failed = failed or not emulator
    return 1 if failed else 0


def _host(endpoint: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(endpoint).hostname or ""


if __name__ == "__main__":
    sys.exit(main())
