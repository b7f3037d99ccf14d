# SPDX-License-Identifier: Apache-2.0
"""The demo: a TradingNode with the dYdX clients against a venue, a checked summary and a chart."""
