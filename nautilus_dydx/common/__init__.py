# SPDX-License-Identifier: Apache-2.0
"""Constants, network endpoints and secret handling shared by the adapter's modules."""
