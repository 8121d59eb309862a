"""The `acr-operator emulator` command: argument parsing and the serving loop.

`add_arguments` and `run` plug into the package CLI; `main` lets
`python -m acr_operator.emulator` run the same command on its own.
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys

from acr_operator.emulator.app import serve
from acr_operator.emulator.options import LRO_MODES, Options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = Options()
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8080,
                        help="port to listen on; 0 picks a free one (default 8080)")
    parser.add_argument("--token", default=None,
                        help="the only bearer token to accept (default: any token)")
    parser.add_argument("--lro", choices=LRO_MODES, default=defaults.lro,
                        help="long-running operation behaviour (default recorded)")
    parser.add_argument("--operation-seconds", type=float, default=defaults.operation_seconds,
                        help=f"duration of long-running operations in seconds "
                             f"(default {defaults.operation_seconds:g})")
    parser.add_argument("--retry-after", type=int, default=defaults.retry_after,
                        help=f"Retry-After seconds sent with polling URLs "
                             f"(default {defaults.retry_after})")
    parser.add_argument("--page-size", type=int, default=defaults.page_size,
                        help=f"items per list page (default {defaults.page_size})")
    parser.add_argument("--tls-dir", default=None,
                        help="serve HTTPS with a certificate generated into this folder "
                             "(clients trust its ca.crt)")


def options_from(args: argparse.Namespace) -> Options:
    options = Options(token=args.token)
    options.update({"lro": args.lro, "operationSeconds": args.operation_seconds,
                    "retryAfter": args.retry_after, "pageSize": args.page_size})
    return options


def run(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status."""
    try:
        options = options_from(args)
    except (ValueError, TypeError) as exc:
        print(f"acr-operator emulator: {exc}", file=sys.stderr)
        return 2
    return asyncio.run(_serve_forever(args, options))


async def _serve_forever(args: argparse.Namespace, options: Options) -> int:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stopped.set)
    running = await serve(args.host, args.port, options=options, tls_dir=args.tls_dir,
                          announce=lambda line: print(line, flush=True))
    try:
        await stopped.wait()
    finally:
        await running.stop()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="acr-operator emulator",
                                     description="Serve the emulated ARM API of Azure Container "
                                                 "Registry.")
    add_arguments(parser)
    return run(parser.parse_args(argv))
