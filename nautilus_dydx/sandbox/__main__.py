# SPDX-License-Identifier: Apache-2.0
"""`python -m nautilus_dydx.sandbox`: run the offline venue on loopback."""

import sys

from nautilus_dydx.sandbox.cli import main


sys.exit(main())
