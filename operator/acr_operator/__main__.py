"""`python -m acr_operator` runs the same command as `acr-operator`."""

import sys

from acr_operator.cli import main

sys.exit(main())
