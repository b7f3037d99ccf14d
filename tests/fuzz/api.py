# SPDX-License-Identifier: Apache-2.0
"""Random calls to the public `_core` API; run in a child process so an abort is reported.

`python -m tests.fuzz.api --seed 1 --calls 5000` exits 0 when every call returned or raised a
Python exception; a C abort or Rust panic kills the process (negative exit status). `--trace`
prints each call before making it, to name the one that aborts.
"""

from __future__ import annotations

import argparse
import random
import sys

from nautilus_trader.model.identifiers import InstrumentId

from nautilus_dydx._core import book
from nautilus_dydx._core import decimal
from nautilus_dydx._core import orders
from nautilus_dydx._core import session


IID = InstrumentId.from_str("BTC-USD-PERP.DYDX")
E16 = 10**16
INTS = (
    0, 1, -1, 2, 3, 7, 9, 16, 17, 18, 19, 20, 255, 256, 2**31 - 1, 2**31, 2**32 - 1, 2**32,
    2**53, 2**62, 2**63 - 1, 2**63, 2**64 - 1, 2**64, 2**128, -(2**31), -(2**63), -(2**63) - 1,
    -(2**64), E16, 17014118346046 * E16, 17014118346047 * E16, 34028236692093 * E16,
    34028236692094 * E16, -17014118346046 * E16,
)
ODD = (None, "", "1", "x", b"", b"1", b"\x00" * 32, 1.5, float("nan"), float("inf"), [], (), {},
       True, object())
TEXTS = ("0", "1", "-1", "0.1", "1e5", "1" * 40, "0." + "1" * 40, "x", "", "\u00e9", "1e-7")


class Calls:
    """Seeded random arguments and calls."""

    def __init__(self, seed: int, trace: bool) -> None:
        self.rng = random.Random(seed)
        self.trace = trace
        self.returned = 0
        self.raised = 0
        self.memory_errors = 0

    def integer(self) -> object:
        roll = self.rng.random()
        if roll < 0.6:
            return self.rng.choice(INTS)
        if roll < 0.9:
            return self.rng.randint(-(2**70), 2**70)
        return self.rng.choice(ODD)

    def small(self) -> object:
        return self.rng.randint(-3, 40) if self.rng.random() < 0.8 else self.integer()

    def exponent(self) -> object:
        return -self.rng.randint(0, 40) if self.rng.random() < 0.8 else self.integer()

    def text(self) -> object:
        roll = self.rng.random()
        if roll < 0.5:
            return self.rng.choice(TEXTS)
        if roll < 0.8:
            return self.rng.choice(TEXTS).encode()
        return self.rng.choice(ODD)

    def blob(self) -> object:
        if self.rng.random() < 0.85:
            return bytes(self.rng.getrandbits(8) for _ in range(self.rng.randrange(80)))
        return self.rng.choice(ODD)

    def levels(self) -> object:
        rng = self.rng
        if rng.random() < 0.1:
            return rng.choice(ODD)
        out = []
        for _ in range(rng.randrange(6)):
            if rng.random() < 0.8:
                out.append((rng.randrange(1, 100) * E16 if rng.random() < 0.5 else self.integer(),
                            rng.randrange(0, 5) * E16 if rng.random() < 0.5 else self.integer()))
            else:
                out.append(rng.choice(ODD))
        return out

    def call(self, name: str, function, *args) -> object:
        if self.trace:
            print(name, repr(args)[:500], file=sys.stderr, flush=True)
        try:
            result = function(*args)
        except MemoryError:
            # A bounded input must not need unbounded memory: report it like an abort
            print(f"MemoryError in {name}{repr(args)[:300]}", file=sys.stderr, flush=True)
            self.memory_errors += 1
            return None
        except Exception:
            self.raised += 1
            return None
        self.returned += 1
        repr(result)  # Nautilus objects format their raws in Rust
        return result

    def one(self) -> None:
        rng = self.rng
        kind = rng.randrange(5)
        if kind == 0:
            self.call("parse_decimal", decimal.parse_decimal, self.text())
            self.call("price_raw", decimal.price_raw, self.text())
            self.call("quantity_raw", decimal.quantity_raw, self.text())
            self.call("format_raw", decimal.format_raw, self.integer(), self.small())
            self.call("parse_decimal_rounded", decimal.parse_decimal_rounded, self.text(),
                      self.small())
        elif kind == 1:
            l2 = self.call("L2Book", book.L2Book, IID if rng.random() < 0.9 else None,
                           self.small(), self.small(), self.integer())
            if l2 is None:
                return
            for _ in range(rng.randrange(1, 6)):
                method = rng.choice(("apply_snapshot", "apply_update", "apply_update"))
                self.call(method, getattr(l2, method), self.levels(), self.levels(),
                          self.integer(), self.integer(), self.integer())
            self.call("quote", l2.quote, self.integer(), self.integer())
            self.call("check_cross", l2.check_cross, self.integer())
            self.call("view", l2.view, self.small())
            self.call("depth10", l2.depth10, self.integer(), self.integer())
            self.call("levels", l2.levels)
        elif kind == 2:
            encoder = self.call(
                "MarketEncoder", orders.MarketEncoder,
                "dydx1n88uc38xhjgxzw9nwre4ep2c8ga4fjxcar6mn7" if rng.random() < 0.9 else None,
                self.small(), self.small(), self.exponent(), self.exponent(), self.integer(),
                self.integer(),
            )
            if encoder is None:
                encoder = orders.MarketEncoder(
                    "dydx1n88uc38xhjgxzw9nwre4ep2c8ga4fjxcar6mn7", 0, 0, -10, -9, 1_000_000,
                    100_000,
                )
            for method in ("subticks", "quantums"):
                self.call(method, getattr(encoder, method), self.integer(), self.small())
            for method in ("price_raw_from_subticks", "size_raw_from_quantums"):
                self.call(method, getattr(encoder, method), self.integer())
            self.call("quote_quantums", encoder.quote_quantums, self.integer(), self.integer())
            self.call("encode_order_id", encoder.encode_order_id, self.integer(), self.integer())
            self.call("encode_order", encoder.encode_order,
                      *[self.integer() for _ in range(9)], bool(rng.getrandbits(1)),
                      *[self.integer() for _ in range(3)])
            self.call("encode_cancel_order", encoder.encode_cancel_order,
                      *[self.integer() for _ in range(4)])
            self.call("encode_batch_cancel", encoder.encode_batch_cancel,
                      [(self.integer(), [self.integer() for _ in range(rng.randrange(3))])
                       for _ in range(rng.randrange(3))], self.integer())
        elif kind == 3:
            self.call("encode_any", orders.encode_any, rng.choice(("/x", "", None)), self.blob())
            self.call("encode_tx_body", orders.encode_tx_body, [self.blob()], "memo",
                      self.integer(), [self.integer()])
            self.call("encode_auth_info", orders.encode_auth_info, self.blob(), self.integer(),
                      self.integer(), [("adv4tnt", self.integer())])
            self.call("encode_sign_doc", orders.encode_sign_doc, self.blob(), self.blob(),
                      rng.choice(("dydx-testnet-4", "", None)), self.integer())
            self.call("encode_tx_raw", orders.encode_tx_raw, self.blob(), self.blob(),
                      [self.blob()])
            self.call("tx_hash", orders.tx_hash, self.blob())
            signer = self.call("TxSigner", orders.TxSigner, self.blob(), "dydx-testnet-4",
                               self.integer(), self.integer())
            if signer is not None:
                self.call("sign_digest", signer.sign_digest, self.blob())
                self.call("sign_tx", signer.sign_tx, [self.blob()], self.integer(), "",
                          self.integer())
        else:
            self.call("scan_message_id", session.scan_message_id, self.blob())
            tracker = session.MessageIdTracker()
            for _ in range(rng.randrange(1, 20)):
                self.call("observe", tracker.observe,
                          rng.randrange(50) if rng.random() < 0.7 else self.integer())
            self.call("check", tracker.check)
            self.call("holes", tracker.holes)


def main(argv: list[str] | None = None) -> int:
    """Make the calls and print how many returned and raised."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--calls", type=int, default=2_000, help="groups of calls")
    parser.add_argument("--trace", action="store_true")
    args = parser.parse_args(argv)
    calls = Calls(args.seed, args.trace)
    for _ in range(args.calls):
        calls.one()
    print(f"returned {calls.returned} raised {calls.raised} memory errors {calls.memory_errors}")
    return 1 if calls.memory_errors else 0


if __name__ == "__main__":
    sys.exit(main())
