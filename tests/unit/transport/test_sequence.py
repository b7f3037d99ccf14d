# SPDX-License-Identifier: Apache-2.0
"""Sequence helpers, timestamp nonces, node-info window, broadcast encoding, SerializableInt."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
from nautilus_dydx.grpc.client import encode_broadcast_request
from nautilus_dydx.grpc.sequence import TIMESTAMP_NONCE_MIN
from nautilus_dydx.grpc.sequence import TimestampNonces
from nautilus_dydx.grpc.sequence import expected_sequence
from nautilus_dydx.grpc.sequence import is_sequence_error
from nautilus_dydx.grpc.types import NodeInfo
from nautilus_dydx.grpc.types import serializable_int
from nautilus_dydx.http.client import normalize_base_url


def test_expected_sequence_is_read_from_the_mismatch_log() -> None:
    log = "account sequence mismatch, expected 42, got 7: incorrect account sequence"
    assert expected_sequence(log) == 42
    assert expected_sequence("timestamp nonce 1 rejected: incorrect account sequence") is None


@pytest.mark.parametrize(
    ("code", "codespace", "log", "expected"),
    [
        (32, "sdk", "account sequence mismatch", True),
        (4, "sdk", "signature verification failed; wrong sequence", True),
        (104, "accountplus", "sequence check failed", True),
        (4, "sdk", "signature verification failed; please verify account number", False),
        (32, "clob", "Existing stateful order cancellation", False),
        (3002, "clob", "Stateful orders cannot require immediate execution", False),
    ],
)
def test_sequence_errors_are_told_apart(
    code: int, codespace: str, log: str, expected: bool,
) -> None:
    assert is_sequence_error(code, codespace, log) is expected


def test_timestamp_nonces_are_unique_increasing_and_follow_the_chain_clock() -> None:
    clock = [TIMESTAMP_NONCE_MIN + 5_000]
    nonces = TimestampNonces(lambda: clock[0])
    drawn = [nonces.next() for _ in range(5)]
    assert drawn == [clock[0] + i for i in range(5)]
    clock[0] += 1_000
    assert nonces.next() == clock[0]
    clock[0] -= 500  # the clock steps back: still increasing
    assert nonces.next() == clock[0] + 501


def test_timestamp_nonces_rebase_after_running_ahead() -> None:
    clock = [TIMESTAMP_NONCE_MIN]
    nonces = TimestampNonces(lambda: clock[0])
    nonces.last = clock[0] + 60_000
    nonces.rebase()
    assert nonces.next() == clock[0] + 1


def test_timestamp_nonces_refuse_an_implausible_clock() -> None:
    with pytest.raises(RuntimeError):
        TimestampNonces(lambda: 1_000).next()


@settings(max_examples=50)
@given(st.binary(max_size=70_000))
def test_broadcast_request_matches_protobuf(tx_bytes: bytes) -> None:
    expected = service_pb2.BroadcastTxRequest(tx_bytes=tx_bytes, mode=2).SerializeToString()
    assert encode_broadcast_request(tx_bytes) == expected


@pytest.mark.parametrize(
    ("data", "value"),
    [(b"", 0), (b"\x02", 0), (b"\x02\x01\x31\x2d\x00", 20_000_000), (b"\x03\x05", -5)],
)
def test_serializable_int(data: bytes, value: int) -> None:
    assert serializable_int(data) == value


def test_serializable_int_refuses_a_bad_sign_byte() -> None:
    with pytest.raises(ValueError):
        serializable_int(b"\x07\x01")


@pytest.mark.parametrize(
    ("version", "major", "window"),
    [("v9.4.0", 9, 40), ("10.0.1", 10, 40), ("v8.0.0-rc1", 8, 20), ("", None, 20)],
)
def test_short_block_window_by_app_version(version: str, major: int | None, window: int) -> None:
    info = NodeInfo(chain_id="dydx-mainnet-1", app_version=version)
    assert (info.major_version, info.short_block_window) == (major, window)


@pytest.mark.parametrize(
    "url",
    [
        "https://indexer.dydx.trade",
        "https://indexer.dydx.trade/",
        "https://indexer.dydx.trade/v4",
        "https://indexer.dydx.trade/v4/",
    ],
)
def test_base_url_is_normalized_with_or_without_v4(url: str) -> None:
    assert normalize_base_url(url) == "https://indexer.dydx.trade/v4"


@pytest.mark.parametrize("url", ["indexer.dydx.trade", "ws://x/v4", ""])
def test_invalid_base_url_is_refused(url: str) -> None:
    with pytest.raises(ValueError):
        normalize_base_url(url)
