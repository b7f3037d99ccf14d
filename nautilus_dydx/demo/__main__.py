# SPDX-License-Identifier: Apache-2.0
"""`python -m nautilus_dydx.demo`: run the demo and exit 0 when it checks out."""

import sys

from nautilus_dydx.demo.run import main


sys.exit(main())
