# SPDX-License-Identifier: Apache-2.0
"""The project's protobuf subset: regeneration is reproducible and bytes equal the official ones."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pool
from google.protobuf import message_factory
from google.protobuf.descriptor import FieldDescriptor
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

import nautilus_dydx._proto as our_proto
from tests.conftest import REPO_ROOT


sys.path.insert(0, str(REPO_ROOT / "proto"))
generate = importlib.import_module("generate")

# Official modules holding every message of the subset (the byte-level oracle)
OFFICIAL_MODULES = [
    "v4_proto.dydxprotocol.clob.order_pb2",
    "v4_proto.dydxprotocol.clob.tx_pb2",
    "v4_proto.dydxprotocol.subaccounts.subaccount_pb2",
    "v4_proto.dydxprotocol.feetiers.params_pb2",
    "v4_proto.dydxprotocol.feetiers.query_pb2",
    "v4_proto.dydxprotocol.accountplus.tx_pb2",
    "v4_proto.dydxprotocol.accountplus.models_pb2",
    "v4_proto.dydxprotocol.accountplus.query_pb2",
    "v4_proto.cosmos.tx.v1beta1.tx_pb2",
    "v4_proto.cosmos.tx.v1beta1.service_pb2",
    "v4_proto.cosmos.base.abci.v1beta1.abci_pb2",
    "v4_proto.cosmos.base.v1beta1.coin_pb2",
    "v4_proto.cosmos.auth.v1beta1.auth_pb2",
    "v4_proto.cosmos.auth.v1beta1.query_pb2",
    "v4_proto.cosmos.crypto.secp256k1.keys_pb2",
    "v4_proto.cosmos.base.tendermint.v1beta1.query_pb2",
    "v4_proto.tendermint.types.block_pb2",
    "v4_proto.tendermint.types.types_pb2",
    "v4_proto.tendermint.p2p.types_pb2",
    "v4_proto.cosmos.base.query.v1beta1.pagination_pb2",
    "v4_proto.cosmos.bank.v1beta1.query_pb2",
    "v4_proto.dydxprotocol.blocktime.blocktime_pb2",
    "v4_proto.dydxprotocol.blocktime.query_pb2",
    "v4_proto.dydxprotocol.clob.clob_pair_pb2",
    "v4_proto.dydxprotocol.clob.equity_tier_limit_config_pb2",
    "v4_proto.dydxprotocol.clob.block_rate_limit_config_pb2",
    "v4_proto.dydxprotocol.clob.query_pb2",
    "v4_proto.dydxprotocol.sending.transfer_pb2",
    "v4_proto.dydxprotocol.sending.tx_pb2",
    "v4_proto.dydxprotocol.subaccounts.asset_position_pb2",
    "v4_proto.dydxprotocol.subaccounts.perpetual_position_pb2",
    "v4_proto.dydxprotocol.subaccounts.query_pb2",
]


def _our_modules() -> list:
    root = Path(our_proto.__file__).parent
    names = sorted(
        "nautilus_dydx._proto." + ".".join(p.relative_to(root).with_suffix("").parts)
        for p in root.rglob("*_pb2.py")
    )
    return [importlib.import_module(name) for name in names]


def _our_messages() -> dict[str, type]:
    classes = {}
    for module in _our_modules():
        for descriptor in module.DESCRIPTOR.message_types_by_name.values():
            stack = [descriptor]
            while stack:
                desc = stack.pop()
                classes[desc.full_name] = message_factory.GetMessageClass(desc)
                stack.extend(desc.nested_types)
    return classes


OUR_MESSAGES = _our_messages()


def _official_class(full_name: str) -> type:
    for module in OFFICIAL_MODULES:
        importlib.import_module(module)
    desc = descriptor_pool.Default().FindMessageTypeByName(full_name)
    return message_factory.GetMessageClass(desc)


_INT_RANGES = {
    FieldDescriptor.TYPE_INT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SINT32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_SFIXED32: (-(2**31), 2**31 - 1),
    FieldDescriptor.TYPE_INT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SINT64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_SFIXED64: (-(2**63), 2**63 - 1),
    FieldDescriptor.TYPE_UINT32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_FIXED32: (0, 2**32 - 1),
    FieldDescriptor.TYPE_UINT64: (0, 2**64 - 1),
    FieldDescriptor.TYPE_FIXED64: (0, 2**64 - 1),
}


def _scalar(field: FieldDescriptor) -> st.SearchStrategy:
    if field.type in _INT_RANGES:
        low, high = _INT_RANGES[field.type]
        # Bias towards varint length boundaries, where encoders go wrong
        edges = [v for v in (0, 1, 127, 128, 16383, 16384, 2**32 - 1, 2**63 - 1) if low <= v <= high]
        return st.sampled_from(edges) | st.integers(low, high)
    if field.type == FieldDescriptor.TYPE_BOOL:
        return st.booleans()
    if field.type == FieldDescriptor.TYPE_STRING:
        return st.text(max_size=24)
    if field.type == FieldDescriptor.TYPE_BYTES:
        return st.binary(max_size=48)
    if field.type == FieldDescriptor.TYPE_ENUM:
        return st.sampled_from([v.number for v in field.enum_type.values])
    raise AssertionError(f"unhandled field type {field.type} of {field.full_name}")


def _values(desc, depth: int = 0) -> st.SearchStrategy:
    # A dict of field name -> value (nested dicts for messages); one member per oneof at most
    oneof_members = {f.name for o in desc.oneofs for f in o.fields}
    plain = {}
    for field in desc.fields:
        if field.name in oneof_members:
            continue
        plain[field.name] = _field_values(field, depth)
    strategies = [st.fixed_dictionaries({}, optional=plain)]
    for oneof in desc.oneofs:
        choices = [st.just({})] + [
            _field_values(f, depth).map(lambda v, n=f.name: {n: v}) for f in oneof.fields
        ]
        strategies.append(st.one_of(choices))
    return st.tuples(*strategies).map(lambda parts: {k: v for p in parts for k, v in p.items()})


def _field_values(field: FieldDescriptor, depth: int) -> st.SearchStrategy:
    if field.type == FieldDescriptor.TYPE_MESSAGE:
        if depth >= 3:
            single = st.just({})
        else:
            single = st.deferred(lambda: _values(field.message_type, depth + 1))
    else:
        single = _scalar(field)
    if field.is_repeated:
        return st.lists(single, max_size=3)
    return single


def _fill(message, values: dict) -> None:
    for name, value in values.items():
        field = message.DESCRIPTOR.fields_by_name[name]
        if field.type == FieldDescriptor.TYPE_MESSAGE:
            if field.is_repeated:
                for item in value:
                    _fill(getattr(message, name).add(), item)
            else:
                getattr(message, name).SetInParent()
                _fill(getattr(message, name), value)
        elif field.is_repeated:
            getattr(message, name).extend(value)
        else:
            setattr(message, name, value)


@pytest.mark.parametrize("full_name", sorted(OUR_MESSAGES))
def test_fields_match_the_official_definition(full_name: str) -> None:
    ours = OUR_MESSAGES[full_name].DESCRIPTOR
    official = _official_class(full_name).DESCRIPTOR

    for field in ours.fields:
        other = official.fields_by_number[field.number]
        assert (field.name, field.type, field.is_repeated) == (
            other.name,
            other.type,
            other.is_repeated,
        )
        if field.message_type is not None:
            assert field.message_type.full_name == other.message_type.full_name
        if field.containing_oneof is not None:
            assert other.containing_oneof.name == field.containing_oneof.name


@pytest.mark.parametrize("full_name", sorted(OUR_MESSAGES))
def test_serialization_is_byte_identical_to_official(full_name: str) -> None:
    ours_cls = OUR_MESSAGES[full_name]
    official_cls = _official_class(full_name)

    @settings(max_examples=150)
    @given(values=_values(ours_cls.DESCRIPTOR))
    def check(values: dict) -> None:
        ours, official = ours_cls(), official_cls()
        _fill(ours, values)
        _fill(official, values)

        data = ours.SerializeToString(deterministic=True)

        assert data == official.SerializeToString(deterministic=True)
        assert ours_cls.FromString(data) == ours

    check()


def test_subset_covers_the_messages_the_adapter_needs() -> None:
    required = {
        "dydxprotocol.clob.Order",
        "dydxprotocol.clob.OrderId",
        "dydxprotocol.clob.MsgPlaceOrder",
        "dydxprotocol.clob.MsgPlaceOrderResponse",
        "dydxprotocol.clob.MsgCancelOrder",
        "dydxprotocol.clob.MsgCancelOrderResponse",
        "dydxprotocol.clob.MsgBatchCancel",
        "dydxprotocol.clob.MsgBatchCancelResponse",
        "dydxprotocol.clob.OrderBatch",
        "dydxprotocol.subaccounts.SubaccountId",
        "dydxprotocol.feetiers.QueryUserFeeTierResponse",
        "dydxprotocol.feetiers.PerpetualFeeParams",
        "cosmos.tx.v1beta1.TxBody",
        "cosmos.tx.v1beta1.AuthInfo",
        "cosmos.tx.v1beta1.SignerInfo",
        "cosmos.tx.v1beta1.ModeInfo",
        "cosmos.tx.v1beta1.Fee",
        "cosmos.tx.v1beta1.SignDoc",
        "cosmos.tx.v1beta1.TxRaw",
        "cosmos.tx.v1beta1.BroadcastTxRequest",
        "cosmos.tx.v1beta1.BroadcastTxResponse",
        "cosmos.tx.v1beta1.SimulateRequest",
        "cosmos.tx.v1beta1.GetTxResponse",
        "cosmos.base.v1beta1.Coin",
        "cosmos.auth.v1beta1.BaseAccount",
        "cosmos.auth.v1beta1.QueryAccountResponse",
        "cosmos.crypto.secp256k1.PubKey",
        "cosmos.base.tendermint.v1beta1.GetLatestBlockResponse",
        "google.protobuf.Any",
        "cosmos.base.tendermint.v1beta1.GetNodeInfoResponse",
        "dydxprotocol.blocktime.QueryPreviousBlockInfoResponse",
        "dydxprotocol.clob.ClobPair",
        "dydxprotocol.clob.QueryStatefulOrderResponse",
        "dydxprotocol.clob.QueryEquityTierLimitConfigurationResponse",
        "dydxprotocol.clob.QueryBlockRateLimitConfigurationResponse",
        "dydxprotocol.clob.MsgUpdateLeverage",
        "dydxprotocol.sending.MsgCreateTransfer",
        "dydxprotocol.subaccounts.QuerySubaccountAllResponse",
        "cosmos.bank.v1beta1.QueryAllBalancesResponse",
    }
    assert required <= set(OUR_MESSAGES)


def test_services_use_the_chain_method_paths() -> None:
    from nautilus_dydx._proto.cosmos.auth.v1beta1 import query_pb2 as auth_query
    from nautilus_dydx._proto.cosmos.bank.v1beta1 import query_pb2 as bank_query
    from nautilus_dydx._proto.cosmos.base.tendermint.v1beta1 import query_pb2 as tm_query
    from nautilus_dydx._proto.cosmos.tx.v1beta1 import service_pb2
    from nautilus_dydx._proto.dydxprotocol.blocktime import query_pb2 as blocktime_query
    from nautilus_dydx._proto.dydxprotocol.clob import query_pb2 as clob_query
    from nautilus_dydx._proto.dydxprotocol.feetiers import query_pb2 as fee_query
    from nautilus_dydx._proto.dydxprotocol.subaccounts import query_pb2 as subaccount_query

    methods = {
        m.full_name
        for module in (
            service_pb2,
            auth_query,
            bank_query,
            tm_query,
            fee_query,
            blocktime_query,
            clob_query,
            subaccount_query,
        )
        for s in module.DESCRIPTOR.services_by_name.values()
        for m in s.methods
    }

    assert {
        "cosmos.tx.v1beta1.Service.BroadcastTx",
        "cosmos.tx.v1beta1.Service.Simulate",
        "cosmos.tx.v1beta1.Service.GetTx",
        "cosmos.auth.v1beta1.Query.Account",
        "cosmos.base.tendermint.v1beta1.Service.GetLatestBlock",
        "dydxprotocol.feetiers.Query.UserFeeTier",
        "dydxprotocol.feetiers.Query.PerpetualFeeParams",
        "cosmos.base.tendermint.v1beta1.Service.GetNodeInfo",
        "dydxprotocol.blocktime.Query.PreviousBlockInfo",
        "dydxprotocol.clob.Query.ClobPair",
        "dydxprotocol.clob.Query.ClobPairAll",
        "dydxprotocol.clob.Query.EquityTierLimitConfiguration",
        "dydxprotocol.clob.Query.BlockRateLimitConfiguration",
        "dydxprotocol.clob.Query.StatefulOrder",
        "dydxprotocol.clob.Query.Leverage",
        "dydxprotocol.subaccounts.Query.Subaccount",
        "dydxprotocol.subaccounts.Query.SubaccountAll",
        "cosmos.bank.v1beta1.Query.Balance",
        "cosmos.bank.v1beta1.Query.AllBalances",
    } <= methods


def test_regeneration_reproduces_committed_output(tmp_path: Path) -> None:
    committed = REPO_ROOT / "nautilus_dydx" / "_proto"
    fresh = tmp_path / "_proto"

    written = generate.generate(fresh)

    committed_files = sorted(
        p.relative_to(committed)
        for p in committed.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts
    )
    assert committed_files == written
    for rel in written:
        assert (fresh / rel).read_text() == (committed / rel).read_text(), f"{rel} differs"


def test_private_pool_coexists_with_official_classes() -> None:
    from v4_proto.dydxprotocol.clob import order_pb2 as official

    from nautilus_dydx._proto.dydxprotocol.clob import order_pb2 as ours

    assert ours.Order.DESCRIPTOR.file.pool is not official.Order.DESCRIPTOR.file.pool
    assert ours.Order.DESCRIPTOR.full_name == official.Order.DESCRIPTOR.full_name
