# SPDX-License-Identifier: Apache-2.0
"""Table-driven CheckTx rules: each case broadcasts one tx over gRPC and checks code/codespace."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from nautilus_dydx.sandbox import AccountConfig
from nautilus_dydx.sandbox import SandboxNode
from tests.integration.sandbox.helpers import ALICE
from tests.integration.sandbox.helpers import BOB
from tests.integration.sandbox.helpers import BUY
from tests.integration.sandbox.helpers import CONDITIONAL
from tests.integration.sandbox.helpers import ETH
from tests.integration.sandbox.helpers import FOK
from tests.integration.sandbox.helpers import IOC
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K2_ADDRESS
from tests.integration.sandbox.helpers import LONG_TERM
from tests.integration.sandbox.helpers import POST_ONLY
from tests.integration.sandbox.helpers import SELL
from tests.integration.sandbox.helpers import Client
from tests.integration.sandbox.helpers import Signer
from tests.integration.sandbox.helpers import batch_cancel
from tests.integration.sandbox.helpers import block_seconds
from tests.integration.sandbox.helpers import cancel
from tests.integration.sandbox.helpers import make_config
from tests.integration.sandbox.helpers import place
from tests.integration.sandbox.helpers import running_node


A = K1_ADDRESS
B = K2_ADDRESS
Q = 1_000_000  # One BTC step (0.0001 BTC)
P = 6_500_000_000  # 65 000 USD in BTC subticks
DAY = 86_400
WINDOW_95D = 95 * DAY
Build = Callable[[SandboxNode, Client], Awaitable[bytes]]


@dataclass(frozen=True)
class Case:
    name: str
    build: Build
    codespace: str
    code: int
    config: dict | None = None


async def _ok(client: Client, tx: bytes) -> None:
    response = await client.broadcast(tx)
    assert response.code == 0, f"setup tx failed: {response.codespace} {response.code} " \
        f"{response.raw_log}"


def st(node: SandboxNode, *args, signer: Signer = ALICE, **kwargs) -> bytes:
    return signer.sign_tx([place(*args, **kwargs)])


def lt(node: SandboxNode, owner: str, cid: int, side: int, q: int, p: int, seq: int,
       signer: Signer = ALICE, gtbt: int | None = None, **kwargs) -> bytes:
    gtbt = block_seconds(node) + 3600 if gtbt is None else gtbt
    return signer.sign_tx(
        [place(owner, cid, side, q, p, gtbt=gtbt, flags=kwargs.pop("flags", LONG_TERM), **kwargs)],
        sequence=seq,
    )


def simple(fn: Callable[[SandboxNode], bytes]) -> Build:
    async def build(node: SandboxNode, client: Client) -> bytes:
        return fn(node)

    return build


async def _post_only_cross(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, B, 1, SELL, Q, P, gtb=node.height + 5, signer=BOB))
    return st(node, A, 1, BUY, Q, P, gtb=node.height + 5, tif=POST_ONLY)


async def _replace_side(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, A, 1, BUY, Q, P - 100_000, gtb=node.height + 5))
    return st(node, A, 1, SELL, Q, P + 100_000, gtb=node.height + 6)


async def _replace_lower_gtb(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, A, 1, BUY, Q, P - 100_000, gtb=node.height + 6))
    return st(node, A, 1, BUY, Q, P - 200_000, gtb=node.height + 5)


async def _replace_ok(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, A, 1, BUY, Q, P - 100_000, gtb=node.height + 5))
    return st(node, A, 1, BUY, 2 * Q, P - 200_000, gtb=node.height + 6)


async def _ioc_replaces_partial(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, A, 1, BUY, 3 * Q, P, gtb=node.height + 5))
    await _ok(client, st(node, B, 1, SELL, Q, P, gtb=node.height + 5, signer=BOB, tif=IOC))
    return st(node, A, 1, BUY, 3 * Q, P, gtb=node.height + 6, tif=IOC)


async def _fully_filled(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, A, 1, BUY, 2 * Q, P, gtb=node.height + 5))
    await _ok(client, st(node, B, 1, SELL, 2 * Q, P, gtb=node.height + 5, signer=BOB, tif=IOC))
    return st(node, A, 1, BUY, 2 * Q, P, gtb=node.height + 7)


async def _place_after_cancel(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, ALICE.sign_tx([cancel(A, 1, gtb=node.height + 8)]))
    return st(node, A, 1, BUY, Q, P, gtb=node.height + 6)


async def _second_cancel_lower(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, ALICE.sign_tx([cancel(A, 1, gtb=node.height + 8)]))
    return ALICE.sign_tx([cancel(A, 1, gtb=node.height + 8)], memo="again")


async def _cancel_gtbt_below_order(node: SandboxNode, client: Client) -> bytes:
    gtbt = block_seconds(node) + 3600
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7, gtbt=gtbt))
    node.step_blocks(1)
    return ALICE.sign_tx([cancel(A, 1, gtbt=gtbt - 1, flags=LONG_TERM)], sequence=8)


async def _stateful_cancel_ok(node: SandboxNode, client: Client) -> bytes:
    gtbt = block_seconds(node) + 3600
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7, gtbt=gtbt))
    return ALICE.sign_tx([cancel(A, 1, gtbt=gtbt, flags=LONG_TERM)], sequence=8)


async def _second_stateful_cancel(node: SandboxNode, client: Client) -> bytes:
    gtbt = block_seconds(node) + 3600
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7, gtbt=gtbt))
    node.step_blocks(1)
    await _ok(client, ALICE.sign_tx([cancel(A, 1, gtbt=gtbt + 10, flags=LONG_TERM)], sequence=8))
    return ALICE.sign_tx([cancel(A, 1, gtbt=gtbt + 20, flags=LONG_TERM)], sequence=9)


async def _duplicate_stateful_pending(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7))
    return lt(node, A, 1, BUY, Q, P - 1_100_000_000, 8)


async def _duplicate_stateful_in_state(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7))
    node.step_blocks(1)
    return lt(node, A, 1, BUY, Q, P - 1_100_000_000, 8)


async def _duplicate_bytes(node: SandboxNode, client: Client) -> bytes:
    tx = st(node, A, 1, BUY, Q, P, gtb=node.height + 5)
    await _ok(client, tx)
    return tx


async def _rate_limited(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, lt(node, A, 1, BUY, Q, P - 1_000_000_000, 7))
    await _ok(client, lt(node, A, 2, BUY, Q, P - 1_000_000_000, 8))
    return lt(node, A, 3, BUY, Q, P - 1_000_000_000, 9)


async def _short_rate_limited(node: SandboxNode, client: Client) -> bytes:
    for cid in range(1, 4):
        await _ok(client, st(node, A, cid, BUY, Q, P - cid * 100_000, gtb=node.height + 5))
    return st(node, A, 9, BUY, Q, P - 900_000, gtb=node.height + 5)


async def _batch_all_failed(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, ALICE.sign_tx([batch_cancel(A, [(0, [1, 2])], node.height + 5)]))
    return ALICE.sign_tx([batch_cancel(A, [(0, [1, 2])], node.height + 5)], memo="again")


async def _reduce_only_wrong_side(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, B, 1, SELL, Q, P, gtb=node.height + 5, signer=BOB))
    await _ok(client, st(node, A, 1, BUY, Q, P, gtb=node.height + 5, tif=IOC))
    # Alice is long: a reduce-only buy would increase the position
    return st(node, A, 2, BUY, Q, P, gtb=node.height + 5, tif=IOC, reduce_only=True)


async def _reduce_only_ok(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, B, 1, SELL, Q, P, gtb=node.height + 5, signer=BOB))
    await _ok(client, st(node, A, 1, BUY, Q, P, gtb=node.height + 5, tif=IOC))
    return st(node, A, 2, SELL, 5 * Q, P, gtb=node.height + 5, tif=IOC, reduce_only=True)


async def _final_settlement(node: SandboxNode, client: Client) -> bytes:
    node.set_market_status("BTC-USD", "FINAL_SETTLEMENT")
    return st(node, A, 1, BUY, Q, P, gtb=node.height + 5)


async def _initializing_not_post_only(node: SandboxNode, client: Client) -> bytes:
    node.set_market_status("BTC-USD", "INITIALIZING")
    return st(node, A, 1, BUY, Q, P - 100_000_000, gtb=node.height + 5)


async def _initializing_post_only_ok(node: SandboxNode, client: Client) -> bytes:
    node.set_market_status("BTC-USD", "INITIALIZING")
    return st(node, A, 1, BUY, Q, P - 100_000_000, gtb=node.height + 5, tif=POST_ONLY)


async def _initializing_crosses_oracle(node: SandboxNode, client: Client) -> bytes:
    node.set_market_status("BTC-USD", "INITIALIZING")
    return st(node, A, 1, BUY, Q, P + 100_000_000, gtb=node.height + 5, tif=POST_ONLY)


async def _place_after_executed_cancel(node: SandboxNode, client: Client) -> bytes:
    gtbt = block_seconds(node) + 3600
    await _ok(client, lt(node, A, 1, BUY, Q, P - 10**9, 7, gtbt=gtbt))
    node.step_blocks(1)
    await _ok(client, ALICE.sign_tx([cancel(A, 1, gtbt=gtbt, flags=LONG_TERM)], sequence=8))
    node.step_blocks(1)
    return lt(node, A, 1, BUY, Q, P - 10**9, 9, gtbt=gtbt)


async def _cancel_after_executed_cancel(node: SandboxNode, client: Client) -> bytes:
    gtbt = block_seconds(node) + 3600
    await _ok(client, lt(node, A, 1, BUY, Q, P - 10**9, 7, gtbt=gtbt))
    node.step_blocks(1)
    await _ok(client, ALICE.sign_tx([cancel(A, 1, gtbt=gtbt, flags=LONG_TERM)], sequence=8))
    node.step_blocks(1)
    return ALICE.sign_tx([cancel(A, 1, gtbt=gtbt + 1, flags=LONG_TERM)], sequence=9)


async def _place_after_removal(node: SandboxNode, client: Client) -> bytes:
    await _ok(client, st(node, B, 1, SELL, Q, P, gtb=node.height + 5, signer=BOB))
    await _ok(client, lt(node, A, 1, BUY, Q, P, 7, tif=POST_ONLY))
    node.step_blocks(1)
    return lt(node, A, 1, BUY, Q, P - 10**9, 8)


async def _unknown_type(node: SandboxNode, client: Client) -> bytes:
    url, msg = place(A, 1, BUY, Q, P, gtb=node.height + 5)
    return ALICE.sign_tx([("/cosmos.bank.v1beta1.MsgSend", msg)])


POOR = {"accounts": (
    AccountConfig(private_key="0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe",
                  account_number=12345, sequence=7, subaccounts={0: 10_000_000}),
    AccountConfig(private_key="e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
                  account_number=2),
)}
SMALL = {"accounts": (
    AccountConfig(private_key="0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe",
                  account_number=12345, sequence=7, subaccounts={0: 100_000_000}),
)}
ONLY_BOB = {"accounts": (
    AccountConfig(private_key="e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
                  account_number=2),
)}


CASES = [
    Case("short-term ok", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5)), "", 0),
    Case("gtb zero", simple(lambda n: st(n, A, 1, BUY, Q, P)), "clob", 5),
    Case("gtb below next", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height)), "clob", 10),
    Case("gtb at next", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 1)), "", 0),
    Case("gtb at window", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 21)), "", 0),
    Case("gtb past window", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 22)),
         "clob", 11),
    Case("gtb window 40 configured",
         simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 41)), "", 0,
         {"short_block_window": 40}),
    Case("gtbt zero", simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, gtbt=0)), "clob", 3001),
    Case("gtbt at block time",
         simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, gtbt=block_seconds(n))), "clob", 3003),
    Case("gtbt at 95 days",
         simple(lambda n: lt(n, A, 1, BUY, Q, P - 10**9, 7, gtbt=block_seconds(n) + WINDOW_95D)),
         "", 0),
    Case("gtbt past 95 days",
         simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, gtbt=block_seconds(n) + WINDOW_95D + 1)),
         "clob", 3004),
    Case("quantums off step", simple(lambda n: st(n, A, 1, BUY, Q + 1, P, gtb=n.height + 5)),
         "clob", 12),
    Case("subticks off tick", simple(lambda n: st(n, A, 1, BUY, Q, P + 1, gtb=n.height + 5)),
         "clob", 12),
    Case("trigger off tick",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, flags=CONDITIONAL, condition_type=1,
                             trigger=P + 1)), "clob", 12),
    Case("quantums zero", simple(lambda n: st(n, A, 1, BUY, 0, P, gtb=n.height + 5)), "clob", 4),
    Case("subticks zero", simple(lambda n: st(n, A, 1, BUY, Q, 0, gtb=n.height + 5)), "clob", 6),
    Case("side unspecified", simple(lambda n: st(n, A, 1, 0, Q, P, gtb=n.height + 5)),
         "clob", 3),
    Case("flags 8", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, flags=8)),
         "clob", 3000),
    Case("flags 256 internal",
         simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, flags=256)), "clob", 3000),
    Case("long-term IOC", simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, tif=IOC)), "clob", 3002),
    Case("short-term FOK", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, tif=FOK)),
         "clob", 48),
    Case("long-term FOK", simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, tif=FOK)), "clob", 48),
    Case("conditional FOK",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, flags=CONDITIONAL, tif=FOK,
                             condition_type=1, trigger=P)), "clob", 48),
    Case("reduce-only GTC short-term",
         simple(lambda n: st(n, A, 1, SELL, Q, P, gtb=n.height + 5, reduce_only=True)),
         "clob", 9003),
    Case("reduce-only long-term",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, reduce_only=True)), "clob", 9003),
    Case("conditional without type",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, flags=CONDITIONAL, trigger=P)),
         "clob", 6000),
    Case("conditional without trigger",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, flags=CONDITIONAL, condition_type=1)),
         "clob", 6001),
    Case("trigger on short-term",
         simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, trigger=P)), "clob", 6001),
    Case("condition type on long-term",
         simple(lambda n: lt(n, A, 1, BUY, Q, P, 7, condition_type=2)), "clob", 6000),
    Case("conditional IOC reduce-only ok",
         simple(lambda n: lt(n, A, 1, SELL, Q, P, 7, flags=CONDITIONAL, tif=IOC,
                             reduce_only=True, condition_type=1, trigger=P - 10**9)), "", 0),
    Case("reduce-only without position",
         simple(lambda n: st(n, A, 1, SELL, Q, P, gtb=n.height + 5, tif=IOC, reduce_only=True)),
         "clob", 2001),
    Case("reduce-only same side as position", _reduce_only_wrong_side, "clob", 2001),
    Case("reduce-only opposite side ok", _reduce_only_ok, "", 0),
    Case("post-only crossing short-term", _post_only_cross, "clob", 2003),
    Case("replacement changes side", _replace_side, "clob", 20),
    Case("replacement lower gtb", _replace_lower_gtb, "clob", 20),
    Case("replacement ok", _replace_ok, "", 0),
    Case("IOC replaces partially filled", _ioc_replaces_partial, "clob", 20),
    Case("reuse fully filled id", _fully_filled, "clob", 24),
    Case("place after cancel", _place_after_cancel, "clob", 7),
    Case("cancel not above existing cancel", _second_cancel_lower, "clob", 9),
    Case("cancel of unknown short-term order ok",
         simple(lambda n: ALICE.sign_tx([cancel(A, 77, gtb=n.height + 3)])), "", 0),
    Case("short-term cancel gtb zero", simple(lambda n: ALICE.sign_tx([cancel(A, 77)])),
         "clob", 5),
    Case("short-term cancel gtb stale",
         simple(lambda n: ALICE.sign_tx([cancel(A, 77, gtb=n.height)])), "clob", 10),
    Case("stateful cancel gtbt below order", _cancel_gtbt_below_order, "clob", 29),
    Case("stateful cancel ok (pending order)", _stateful_cancel_ok, "", 0),
    Case("stateful cancel unknown order",
         simple(lambda n: ALICE.sign_tx(
             [cancel(A, 5, gtbt=block_seconds(n) + 60, flags=LONG_TERM)], sequence=7)),
         "clob", 3006),
    Case("stateful cancel gtbt zero",
         simple(lambda n: ALICE.sign_tx([cancel(A, 5, flags=LONG_TERM)], sequence=7)),
         "clob", 3001),
    Case("stateful cancel gtbt past",
         simple(lambda n: ALICE.sign_tx(
             [cancel(A, 5, gtbt=block_seconds(n), flags=LONG_TERM)], sequence=7)), "clob", 3003),
    Case("stateful cancel gtbt too far",
         simple(lambda n: ALICE.sign_tx(
             [cancel(A, 5, gtbt=block_seconds(n) + WINDOW_95D + 1, flags=LONG_TERM)],
             sequence=7)), "clob", 3004),
    Case("second stateful cancel", _second_stateful_cancel, "clob", 32),
    Case("place after cancel executed in last block", _place_after_executed_cancel,
         "clob", 3008),
    Case("cancel after cancel executed in last block", _cancel_after_executed_cancel,
         "clob", 3010),
    Case("place after removal in last block", _place_after_removal, "clob", 3009),
    Case("duplicate stateful id pending", _duplicate_stateful_pending, "clob", 3005),
    Case("duplicate stateful id in state", _duplicate_stateful_in_state, "clob", 3005),
    Case("batch cancel ok",
         simple(lambda n: ALICE.sign_tx([batch_cancel(A, [(0, [1, 2]), (1, [3])], n.height + 5)])),
         "", 0),
    Case("batch cancel over 100 ids",
         simple(lambda n: ALICE.sign_tx(
             [batch_cancel(A, [(0, list(range(1, 60))), (1, list(range(1, 43)))], n.height + 5)])),
         "clob", 45),
    Case("batch cancel duplicate clob",
         simple(lambda n: ALICE.sign_tx([batch_cancel(A, [(0, [1]), (0, [2])], n.height + 5)])),
         "clob", 45),
    Case("batch cancel empty ids",
         simple(lambda n: ALICE.sign_tx([batch_cancel(A, [(0, [])], n.height + 5)])),
         "clob", 45),
    Case("batch cancel duplicate ids",
         simple(lambda n: ALICE.sign_tx([batch_cancel(A, [(0, [4, 4])], n.height + 5)])),
         "clob", 45),
    Case("batch cancel unknown clob",
         simple(lambda n: ALICE.sign_tx([batch_cancel(A, [(99, [1])], n.height + 5)])),
         "clob", 27),
    Case("batch cancel all failed", _batch_all_failed, "clob", 46),
    Case("duplicate tx bytes", _duplicate_bytes, "sdk", 19),
    Case("stateful rate limit", _rate_limited, "clob", 5001,
         {"stateful_rate_limits": ((1, 2), (100, 20))}),
    Case("short-term rate limit", _short_rate_limited, "clob", 5001,
         {"short_term_rate_limits": ((5, 3),)}),
    Case("equity tier zero", simple(lambda n: lt(n, A, 1, BUY, Q, P - 10**9, 7)),
         "clob", 10001, POOR),
    Case("collateral check", simple(lambda n: lt(n, A, 1, BUY, 10_000 * Q, P - 10**8, 7)),
         "clob", 3007, SMALL),
    Case("final settlement", _final_settlement, "clob", 34),
    Case("initializing needs post-only", _initializing_not_post_only, "clob", 34),
    Case("initializing post-only below oracle ok", _initializing_post_only_ok, "", 0),
    Case("initializing crossing oracle", _initializing_crosses_oracle, "clob", 34),
    Case("unknown clob pair",
         simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, clob_pair_id=42)), "clob", 8),
    Case("two short-term messages",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5),
                                         place(A, 2, BUY, Q, P, gtb=n.height + 5)])), "sdk", 18),
    Case("short-term with stateful message",
         simple(lambda n: ALICE.sign_tx(
             [place(A, 1, BUY, Q, P, gtb=n.height + 5),
              place(A, 2, BUY, Q, P, gtbt=block_seconds(n) + 60, flags=LONG_TERM)],
             sequence=7)), "sdk", 18),
    Case("two stateful messages ok",
         simple(lambda n: ALICE.sign_tx(
             [place(A, 1, BUY, Q, P - 10**9, gtbt=block_seconds(n) + 60, flags=LONG_TERM),
              place(A, 2, BUY, Q, P - 10**9, gtbt=block_seconds(n) + 60, flags=LONG_TERM,
                    clob_pair_id=ETH)], sequence=7)), "", 0),
    Case("timeout height below gtb",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        timeout_height=n.height + 3)), "sdk", 18),
    Case("signer is not the owner",
         simple(lambda n: BOB.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)])), "sdk", 8),
    Case("wrong chain id",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        chain_id="dydx-mainnet-1")), "sdk", 4),
    Case("wrong account number",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        account_number=1)), "sdk", 4),
    Case("high-S signature",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        high_s=True)), "sdk", 4),
    Case("no pubkey on first tx",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        include_pubkey=False)), "sdk", 8),
    Case("unknown account", simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5)),
         "sdk", 9, ONLY_BOB),
    Case("subaccount number too large",
         simple(lambda n: st(n, A, 1, BUY, Q, P, gtb=n.height + 5, number=128_001)),
         "subaccounts", 200),
    Case("invalid owner",
         simple(lambda n: st(n, "dydx1notanaddress", 1, BUY, Q, P, gtb=n.height + 5)),
         "subaccounts", 201),
    Case("garbage bytes", simple(lambda n: b"\xff\xff\xff"), "sdk", 2),
    Case("unknown message type", _unknown_type, "sdk", 2),
    Case("memo too long",
         simple(lambda n: ALICE.sign_tx([place(A, 1, BUY, Q, P, gtb=n.height + 5)],
                                        memo="x" * 257)), "sdk", 12),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_check_tx_rule(case: Case) -> None:
    async def scenario() -> tuple[str, int, str]:
        config = make_config(**(case.config or {}))
        async with running_node(config) as (node, client):
            tx = await case.build(node, client)
            response = await client.broadcast(tx)
            return response.codespace, response.code, response.raw_log

    codespace, code, raw_log = asyncio.run(scenario())
    assert (codespace, code) == (case.codespace, case.code), raw_log
