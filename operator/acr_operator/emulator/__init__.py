"""An emulator of the ARM API of Azure Container Registry, for tests and demos.

It serves every operation of the generated api.json from an in-memory store,
responds as the recorded Azure traffic does, and offers a control API under
`/_emulator/` for faults, configuration and inspection. Start it with
`acr-operator emulator` or, in-process, with `await serve()`.
"""

from acr_operator.emulator.app import RunningEmulator, create_app, serve
from acr_operator.emulator.options import Options
from acr_operator.emulator.state import Emulator

__all__ = ["Emulator", "Options", "RunningEmulator", "create_app", "serve"]
