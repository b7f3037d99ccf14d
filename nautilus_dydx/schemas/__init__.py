# SPDX-License-Identifier: Apache-2.0
"""msgspec structs for the cold-path Indexer REST payloads."""
