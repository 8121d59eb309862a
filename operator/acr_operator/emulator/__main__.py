"""`python -m acr_operator.emulator`: the emulator command without the package CLI."""

import sys

from acr_operator.emulator.cli import main

sys.exit(main())
