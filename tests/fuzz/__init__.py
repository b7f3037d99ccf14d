# SPDX-License-Identifier: Apache-2.0
"""Fuzzing support: a corpus of real-shaped frames, a seeded mutator, a differential runner."""
