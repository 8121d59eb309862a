"""The emulator's aiohttp application and the coroutine that serves it.

`serve` starts the server and returns a handle with its URL and state, so
tests can run the emulator in-process and the CLI can run it until it is
stopped.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Self

from aiohttp import web

from acr_operator.emulator import control, gateway, tls
from acr_operator.emulator.clock import Clock
from acr_operator.emulator.options import Options
from acr_operator.emulator.state import Emulator


def create_app(emulator: Emulator | None = None) -> web.Application:
    app = web.Application(client_max_size=8 * 1024 * 1024)
    app[gateway.EMULATOR_KEY] = emulator or Emulator()
    control.add_routes(app)
    app.router.add_route("*", "/{tail:.*}", gateway.handle)
    return app


@dataclass
class RunningEmulator:
    url: str
    emulator: Emulator
    runner: web.AppRunner
    # The CA certificate clients must trust, when serving HTTPS.
    ca_file: Path | None = None

    async def stop(self) -> None:
        await self.runner.cleanup()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


async def serve(
    host: str = "127.0.0.1",
    port: int = 0,
    *,
    options: Options | None = None,
    clock: Clock = time.time,
    tls_dir: str | os.PathLike | None = None,
    announce: Callable[[str], None] | None = print,
) -> RunningEmulator:
    """Start serving; port 0 picks a free port. Announces `emulator listening on <url>`."""
    emulator = Emulator(options, clock)
    runner = web.AppRunner(create_app(emulator), access_log=None, handle_signals=False)
    await runner.setup()
    ssl_context = tls.server_context(tls_dir) if tls_dir is not None else None
    site = web.TCPSite(runner, host, port, ssl_context=ssl_context)
    await site.start()
    bound_port = runner.addresses[0][1]
    scheme = "https" if ssl_context else "http"
    shown_host = f"[{host}]" if ":" in host else host
    url = f"{scheme}://{shown_host}:{bound_port}"
    if announce is not None:
        announce(f"emulator listening on {url}")
    ca_file = Path(tls_dir) / tls.CA_FILE if tls_dir is not None else None
    return RunningEmulator(url, emulator, runner, ca_file)
