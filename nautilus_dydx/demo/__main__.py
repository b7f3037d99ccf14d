# SPDX-License-Identifier: Apache-2.0
"""`python -m nautilus_dydx.demo`: run the demo and exit 0 when it checks out."""

import os
import sys


# gRPC's C core logs channel shutdowns at info level; the summary is the demo's output
os.environ.setdefault("GRPC_VERBOSITY", "ERROR")

from nautilus_dydx.demo.run import main


sys.exit(main())
