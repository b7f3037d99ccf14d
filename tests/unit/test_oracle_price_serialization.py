# SPDX-License-Identifier: Apache-2.0
"""`DYDXOraclePrice` through Nautilus's serializers: Parquet catalog and message bus."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from decimal import Decimal
from pathlib import Path

from nautilus_trader.model.data import CustomData
from nautilus_trader.model.data import DataType
from nautilus_trader.model.identifiers import InstrumentId
from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog

from nautilus_dydx import DYDXOraclePrice


BTC = InstrumentId.from_str("BTC-USD-PERP.DYDX")
ETH = InstrumentId.from_str("ETH-USD-PERP.DYDX")
ROOT = Path(__file__).resolve().parents[2]


def prices() -> list[DYDXOraclePrice]:
    return [
        DYDXOraclePrice(
            instrument_id=instrument_id,
            price=Decimal(price),
            ts_event=1_767_225_600_000_000_000 + i * 1_000_000_000,
            ts_init=1_767_225_600_000_000_000 + i * 1_000_000_000 + 7,
        )
        for i, (instrument_id, price) in enumerate(
            [(BTC, "65920.5"), (ETH, "3103.01"), (BTC, "65921"), (ETH, "0.000001234")],
        )
    ]


def run_python(code: str) -> str:
    # The message bus registry is per process and keyed by name: each import order gets a
    # fresh interpreter
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=ROOT, capture_output=True, text=True, timeout=120, check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_catalog_write_then_read_returns_equal_prices(tmp_path: Path) -> None:
    # Arrange
    catalog = ParquetDataCatalog(str(tmp_path))
    written = prices()

    # Act
    catalog.write_data(written)
    read = catalog.custom_data(DYDXOraclePrice)
    btc_only = catalog.query(DYDXOraclePrice, identifiers=[BTC.value])

    # Assert
    assert (tmp_path / "data" / "custom_dydx_oracle_price").is_dir()
    assert all(isinstance(item, CustomData) for item in read)
    # One file per instrument: each instrument's prices in time order
    assert sorted((item.data for item in read), key=lambda p: p.ts_init) == written
    assert all(type(item.data) is DYDXOraclePrice for item in read)
    assert [item.data for item in btc_only] == [p for p in written if p.instrument_id == BTC]
    assert {item.data.price for item in read} == {
        Decimal("65920.5"), Decimal("3103.01"), Decimal(65921), Decimal("0.000001234"),
    }


def test_catalog_write_of_custom_data_reads_back_per_instrument(tmp_path: Path) -> None:
    # Arrange
    catalog = ParquetDataCatalog(str(tmp_path))
    written = prices()[:2]

    # Act
    catalog.write_data(
        [
            CustomData(DataType(DYDXOraclePrice, {"instrument_id": p.instrument_id}), p)
            for p in written
        ],
    )
    read = catalog.custom_data(DYDXOraclePrice)

    # Assert
    assert sorted((item.data for item in read), key=lambda p: p.ts_init) == written
    folder = tmp_path / "data" / "custom_dydx_oracle_price"
    assert sorted(path.name for path in folder.iterdir()) == [BTC.value, ETH.value]


def test_message_bus_round_trip_when_imported_alone() -> None:
    output = run_python(
        """
        from decimal import Decimal

        import msgspec
        from nautilus_trader.common.component import MessageBus
        from nautilus_trader.common.component import TestClock
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.model.identifiers import TraderId
        from nautilus_trader.serialization.serializer import MsgSpecSerializer

        from nautilus_dydx import DYDXOraclePrice


        class Listener:
            def __init__(self):
                self.published = []

            def is_closed(self):
                return False

            def publish(self, topic, payload):
                self.published.append((topic, payload))


        serializer = MsgSpecSerializer(msgspec.msgpack)
        bus = MessageBus(TraderId("TESTER-001"), TestClock(), serializer=serializer)
        listener = Listener()
        bus.add_listener(listener)
        price = DYDXOraclePrice(
            instrument_id=InstrumentId.from_str("BTC-USD-PERP.DYDX"),
            price=Decimal("65920.5"), ts_event=1, ts_init=2,
        )
        bus.publish("data.DYDXOraclePrice", price)
        [(topic, payload)] = listener.published
        back = serializer.deserialize(payload)
        assert topic == "data.DYDXOraclePrice", topic
        assert type(back) is DYDXOraclePrice, type(back)
        assert back == price, back
        assert back.price == Decimal("65920.5") and back.ts_init == 2
        # JSON with string timestamps, as the Redis stream writes them
        json = MsgSpecSerializer(msgspec.json, timestamps_as_str=True)
        assert json.deserialize(json.serialize(price)) == price
        print("ok")
        """,
    )
    assert output.strip() == "ok"


def test_built_in_adapter_imported_after_ours_shares_the_class() -> None:
    output = run_python(
        """
        import nautilus_dydx
        import nautilus_trader.adapters.dydx
        from nautilus_trader.adapters.dydx.common.types import DYDXOraclePrice as BuiltIn
        from nautilus_trader.adapters.dydx.data import DYDXDataClient

        assert BuiltIn is nautilus_dydx.DYDXOraclePrice
        print("ok")
        """,
    )
    assert output.strip() == "ok"


def test_built_in_adapter_imported_first_keeps_its_class_and_catalogs_interchange() -> None:
    output = run_python(
        """
        import tempfile
        from decimal import Decimal

        import msgspec
        from nautilus_trader.adapters.dydx.common.types import DYDXOraclePrice as BuiltIn
        from nautilus_trader.model.identifiers import InstrumentId
        from nautilus_trader.persistence.catalog.parquet import ParquetDataCatalog
        from nautilus_trader.serialization.serializer import MsgSpecSerializer

        from nautilus_dydx import DYDXOraclePrice

        assert BuiltIn is not DYDXOraclePrice
        btc = InstrumentId.from_str("BTC-USD-PERP.DYDX")
        theirs = BuiltIn(instrument_id=btc, price=Decimal("65920.5"), ts_event=1, ts_init=2)
        ours = DYDXOraclePrice(instrument_id=btc, price=Decimal("65921"), ts_event=3, ts_init=4)

        # A catalog the built-in node wrote reads with our class, and the other way round
        catalog = ParquetDataCatalog(tempfile.mkdtemp())
        catalog.write_data([theirs])
        catalog.write_data([ours])
        read = [item.data for item in catalog.custom_data(DYDXOraclePrice)]
        assert read == [
            DYDXOraclePrice(instrument_id=btc, price=Decimal("65920.5"), ts_event=1, ts_init=2),
            ours,
        ], read
        read_built_in = [item.data for item in catalog.custom_data(BuiltIn)]
        assert [(p.price, p.ts_event) for p in read_built_in] == [
            (Decimal("65920.5"), 1), (Decimal("65921"), 3),
        ]

        # The built-in class holds the bus name; ours still serializes through it
        serializer = MsgSpecSerializer(msgspec.msgpack)
        fields = msgspec.msgpack.decode(serializer.serialize(ours))
        assert fields["price"] == "65921" and fields["ts_event"] == 3, fields
        print("ok")
        """,
    )
    assert output.strip() == "ok"


def test_data_client_serves_subscriptions_made_with_a_same_named_class() -> None:
    # The built-in adapter's class when it was imported first: same name, other class
    from nautilus_trader.core.data import Data

    from nautilus_dydx.data import _is_oracle_price

    other = type("DYDXOraclePrice", (Data,), {})
    unrelated = type("DYDXOtherPrice", (Data,), {})

    assert _is_oracle_price(DataType(DYDXOraclePrice))
    assert _is_oracle_price(DataType(other, metadata={"instrument_id": BTC}))
    assert not _is_oracle_price(DataType(unrelated))
