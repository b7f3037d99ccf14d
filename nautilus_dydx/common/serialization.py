# SPDX-License-Identifier: Apache-2.0
"""Nautilus serialization (message bus and Parquet catalog) of `DYDXOraclePrice`."""

from __future__ import annotations

import importlib.machinery
import sys
import types
from typing import Any

import pyarrow as pa
from nautilus_trader.serialization.arrow.serializer import register_arrow
from nautilus_trader.serialization.base import register_serializable_type


# The built-in adapter's module of the same class, and its Parquet schema: a catalog written
# by either adapter reads with the other (same `custom_dydx_oracle_price` folder and columns)
BUILT_IN_TYPES_MODULE = "nautilus_trader.adapters.dydx.common.types"
ORACLE_PRICE_SCHEMA = pa.schema(
    {
        "instrument_id": pa.string(),
        "price": pa.string(),
        "ts_event": pa.int64(),
        "ts_init": pa.int64(),
    },
    metadata={"type": "DYDXOraclePrice"},
)


def register_oracle_price(cls: type) -> bool:
    """
    Register `cls` (``DYDXOraclePrice``) with Nautilus's serializers; idempotent.

    The Parquet (Arrow) registry is keyed by class, so both adapters' classes register there.
    The message bus registry is keyed by class name, and the built-in adapter's
    ``@customdataclass`` raises if the name is taken. So when the built-in class is not
    imported yet, `cls` takes the name and also stands in for the built-in module: the
    built-in adapter, if imported later in the process, then uses this same class. When the
    built-in class was imported first, it keeps the name; its ``to_dict`` reads the same
    fields, so instances of `cls` still serialize.

    Parameters
    ----------
    cls : type
        The oracle price class, with ``to_dict`` and ``from_dict``.

    Returns
    -------
    bool
        True if `cls` owns the message bus name, False if the built-in class does.

    """
    register_arrow(cls, ORACLE_PRICE_SCHEMA, _to_arrow, _decoder(cls))
    built_in = sys.modules.get(BUILT_IN_TYPES_MODULE)
    if built_in is not None:
        return getattr(built_in, cls.__name__, None) is cls
    try:
        register_serializable_type(cls, cls.to_dict, cls.from_dict)
    except KeyError:
        # Another class of this name holds it (registered without its module): leave it
        return False
    sys.modules[BUILT_IN_TYPES_MODULE] = _stand_in_module(cls)
    return True


def _stand_in_module(cls: type) -> types.ModuleType:
    module = types.ModuleType(BUILT_IN_TYPES_MODULE, f"Stand-in: {cls.__module__}.{cls.__name__}")
    module.__spec__ = importlib.machinery.ModuleSpec(BUILT_IN_TYPES_MODULE, loader=None)
    setattr(module, cls.__name__, cls)
    return module


def _row(obj: Any) -> dict[str, Any]:
    return {
        "instrument_id": obj.instrument_id.value,
        "price": str(obj.price),
        "ts_event": obj.ts_event,
        "ts_init": obj.ts_init,
    }


def _to_arrow(obj: Any) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist([_row(obj)], schema=ORACLE_PRICE_SCHEMA)


def _decoder(cls: type) -> Any:
    def from_arrow(table: pa.Table | pa.RecordBatch) -> list:
        return [cls.from_dict(row) for row in table.to_pylist()]

    return from_arrow
