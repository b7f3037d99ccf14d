# SPDX-License-Identifier: Apache-2.0
"""A recorded-style Indexer session of book and trade frames for the end-to-end benchmark."""

from __future__ import annotations

import argparse
import random
from dataclasses import dataclass
from pathlib import Path

import orjson


CONNECTION_ID = "5f0c7a3e-2b1d-4e8f-9a6c-0d1e2f3a4b5c"
START_NS = 1_767_225_600_000_000_000


@dataclass(frozen=True)
class StreamMarket:
    """A market of the generated session: ticker, mid price in ticks, tick and step sizes."""

    ticker: str
    mid_ticks: int
    price_precision: int
    size_precision: int

    def price(self, ticks: int) -> str:
        """Return `ticks` as the venue's decimal price text."""
        return _decimal(ticks, self.price_precision)

    def size(self, steps: int) -> str:
        """Return `steps` as the venue's decimal size text."""
        return _decimal(steps, self.size_precision)


MARKETS = (
    StreamMarket("BTC-USD", 90_000, 0, 4),
    StreamMarket("ETH-USD", 31_200, 1, 3),
    StreamMarket("SOL-USD", 15_000, 2, 1),
)


def _decimal(units: int, precision: int) -> str:
    if precision == 0:
        return str(units)
    text = f"{units:0{precision + 1}d}"
    text = f"{text[:-precision]}.{text[-precision:]}".rstrip("0").rstrip(".")
    return text


def generate_session(frames: int = 60_000, seed: int = 7) -> list[bytes]:
    """
    Return a session of `frames` book and trade updates after the connect and snapshots.

    Book updates carry one or two absolute price levels on either side of a drifting mid
    and never cross; every update changes at least one level, and trades have unique ids,
    so every frame yields Nautilus objects. Seeded: the same arguments give the same bytes.

    Parameters
    ----------
    frames : int, default 60_000
        The number of ``channel_data`` frames (about 80 % book, 20 % trades).
    seed : int, default 7
        The random seed.

    Returns
    -------
    list[bytes]

    """
    rng = random.Random(seed)
    out = [orjson.dumps({"type": "connected", "connection_id": CONNECTION_ID, "message_id": 0})]
    message_id = 0
    books: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    for market in MARKETS:
        bids = {market.mid_ticks - 1 - i: rng.randint(1, 500) for i in range(50)}
        asks = {market.mid_ticks + 1 + i: rng.randint(1, 500) for i in range(50)}
        books[market.ticker] = (bids, asks)
        message_id += 1
        out.append(orjson.dumps({
            "type": "subscribed", "connection_id": CONNECTION_ID, "message_id": message_id,
            "channel": "v4_orderbook", "id": market.ticker,
            "contents": {
                "bids": [
                    {"price": market.price(p), "size": market.size(s)}
                    for p, s in sorted(bids.items(), reverse=True)
                ],
                "asks": [
                    {"price": market.price(p), "size": market.size(s)}
                    for p, s in sorted(asks.items())
                ],
            },
        }))
        message_id += 1
        out.append(orjson.dumps({
            "type": "subscribed", "connection_id": CONNECTION_ID, "message_id": message_id,
            "channel": "v4_trades", "id": market.ticker, "contents": {"trades": []},
        }))
    trade_number = 0
    for n in range(frames):
        market = MARKETS[rng.randrange(len(MARKETS))]
        bids, asks = books[market.ticker]
        message_id += 1
        if rng.random() < 0.8:
            contents: dict = {}
            for _ in range(rng.choice((1, 1, 1, 2))):
                is_bid = rng.random() < 0.5
                side = bids if is_bid else asks
                best_bid, best_ask = max(bids), min(asks)
                if is_bid:
                    price = best_ask - 1 - rng.randint(0, 30)
                else:
                    price = best_bid + 1 + rng.randint(0, 30)
                if price in side and len(side) > 5 and rng.random() < 0.3:
                    size = 0
                    del side[price]
                else:
                    size = side.get(price, 0) + rng.randint(1, 200)
                    side[price] = size
                key = "bids" if is_bid else "asks"
                contents.setdefault(key, []).append([market.price(price), market.size(size)])
            out.append(orjson.dumps({
                "type": "channel_data", "connection_id": CONNECTION_ID,
                "message_id": message_id, "id": market.ticker, "channel": "v4_orderbook",
                "version": "1.0.0", "contents": contents,
            }))
            continue
        trades = []
        for _ in range(rng.choice((1, 1, 2))):
            trade_number += 1
            buy = rng.random() < 0.5
            price = min(asks) if buy else max(bids)
            millis = n * 7 + trade_number % 7
            trades.append({
                "id": f"{0x03F89A5A00000000 + trade_number:016x}{trade_number:08x}",
                "side": "BUY" if buy else "SELL",
                "size": market.size(rng.randint(1, 50)),
                "price": market.price(price),
                "type": "LIMIT",
                "createdAt": _iso(START_NS + millis * 1_000_000),
                "createdAtHeight": str(66_000_000 + n // 50),
            })
        out.append(orjson.dumps({
            "type": "channel_data", "connection_id": CONNECTION_ID, "message_id": message_id,
            "id": market.ticker, "channel": "v4_trades", "version": "2.1.0",
            "contents": {"trades": trades},
        }))
    return out


def _iso(ns: int) -> str:
    seconds, rest = divmod(ns, 1_000_000_000)
    days, day_seconds = divmod(seconds - START_NS // 1_000_000_000, 86_400)
    hours, remainder = divmod(day_seconds, 3600)
    minutes, secs = divmod(remainder, 60)
    return f"2026-01-{1 + days:02d}T{hours:02d}:{minutes:02d}:{secs:02d}.{rest // 1_000_000:03d}Z"


def write_session(path: str | Path, frames: int = 60_000, seed: int = 7) -> int:
    """
    Write the generated session to `path` as NDJSON (the replay server's format).

    Parameters
    ----------
    path : str | Path
        The file to write.
    frames : int, default 60_000
        The number of update frames.
    seed : int, default 7
        The random seed.

    Returns
    -------
    int
        The number of lines written.

    """
    lines = generate_session(frames, seed)
    Path(path).write_bytes(b"\n".join(lines) + b"\n")
    return len(lines)


def main() -> None:
    """Write a session file: ``python -m benchmarks.ws_stream OUT.ndjson [--frames N]``."""
    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("path")
    parser.add_argument("--frames", type=int, default=60_000)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    print(write_session(args.path, args.frames, args.seed))


if __name__ == "__main__":
    main()
