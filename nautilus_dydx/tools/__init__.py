# SPDX-License-Identifier: Apache-2.0
"""Command-line tools of nautilus-dydx (wired into the `nautilus-dydx` CLI)."""
