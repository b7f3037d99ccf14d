# SPDX-License-Identifier: Apache-2.0
"""Model-based test: encode, release, prune, time passing and restarts never lose a live ID."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine
from hypothesis.stateful import invariant
from hypothesis.stateful import precondition
from hypothesis.stateful import rule

from nautilus_dydx.client_id_store import ClientIdStore
from nautilus_dydx.client_ids import ClientIdCodec


ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
DAY = 86_400
ORDER_WINDOW = 95 * DAY

# A small pool, so that IDs often share a store row (same second, counts >= 16384)
POOL = (
    [f"O-20260101-00000{s}-001-002-{n}" for s in (0, 1) for n in (1, 2, 16_384, 16_385, 16_386)]
    + [f"O20260101{s:06d}ALPHAMOM{n}" for s in (0, 1) for n in (1, 2, 3)]
)
UUIDS = st.uuids().map(str) | st.uuids().map(lambda u: u.hex)


class FakeTime:
    def __init__(self) -> None:
        self.now = 1_767_225_600.0

    def __call__(self) -> float:
        return self.now


class CodecMachine(RuleBasedStateMachine):
    """The model: live IDs with their pair and last encode time."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = Path(tempfile.mkdtemp(prefix="ids-"))
        self.clock = FakeTime()
        self.codec = self._open()
        self.live: dict[str, tuple[tuple[int, int], float]] = {}
        self.released: set[str] = set()

    def _open(self) -> ClientIdCodec:
        store = ClientIdStore.open(self.directory, "chain", ADDRESS, 0, self.clock)
        return ClientIdCodec(store, release_grace_seconds=60)

    @rule(client_order_id=st.sampled_from(POOL))
    def encode_generated(self, client_order_id: str) -> None:
        self.encode(client_order_id)

    @rule(client_order_id=UUIDS)
    def encode_uuid(self, client_order_id: str) -> None:
        self.encode(client_order_id)

    def encode(self, client_order_id: str) -> None:
        if client_order_id in self.released:
            return  # Nautilus never reuses a closed order's ID
        pair = self.codec.encode(client_order_id)
        if client_order_id in self.live:
            assert pair == self.live[client_order_id][0]
        self.live[client_order_id] = (pair, self.clock.now)

    @precondition(lambda self: self.live)
    @rule(data=st.data())
    def release(self, data: st.DataObject) -> None:
        client_order_id = data.draw(st.sampled_from(sorted(self.live)))
        self.codec.release(client_order_id)
        del self.live[client_order_id]
        self.released.add(client_order_id)

    @rule(seconds=st.sampled_from([61, 3_601, 10 * DAY, 40 * DAY]))
    def advance(self, seconds: int) -> None:
        self.clock.now += seconds
        # Orders placed more than 95 days ago cannot be live on the venue any more
        for client_order_id, (_, at) in list(self.live.items()):
            if self.clock.now - at > ORDER_WINDOW:
                del self.live[client_order_id]
                self.released.add(client_order_id)

    @rule()
    def prune(self) -> None:
        self.codec.prune()

    @rule()
    def restart(self) -> None:
        self.codec.store.close()
        self.codec = self._open()

    @invariant()
    def live_ids_decode_and_are_unique(self) -> None:
        for client_order_id, (pair, _) in self.live.items():
            assert self.codec.decode(*pair) == client_order_id
        assert len({pair[0] for pair, _ in self.live.values()}) == len(self.live)

    def teardown(self) -> None:
        self.codec.store.close()
        shutil.rmtree(self.directory, ignore_errors=True)


CodecMachine.TestCase.settings = settings(
    max_examples=50, stateful_step_count=15, deadline=None,
)
TestCodecMachine = CodecMachine.TestCase
