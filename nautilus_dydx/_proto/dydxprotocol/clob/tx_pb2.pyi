from nautilus_dydx._proto.dydxprotocol.clob import order_pb2 as _order_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2 as _subaccount_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class MsgPlaceOrder(_message.Message):
    __slots__ = ("order",)
    ORDER_FIELD_NUMBER: _ClassVar[int]
    order: _order_pb2.Order
    def __init__(self, order: _Optional[_Union[_order_pb2.Order, _Mapping]] = ...) -> None: ...

class MsgPlaceOrderResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class MsgCancelOrder(_message.Message):
    __slots__ = ("order_id", "good_til_block", "good_til_block_time")
    ORDER_ID_FIELD_NUMBER: _ClassVar[int]
    GOOD_TIL_BLOCK_FIELD_NUMBER: _ClassVar[int]
    GOOD_TIL_BLOCK_TIME_FIELD_NUMBER: _ClassVar[int]
    order_id: _order_pb2.OrderId
    good_til_block: int
    good_til_block_time: int
    def __init__(self, order_id: _Optional[_Union[_order_pb2.OrderId, _Mapping]] = ..., good_til_block: _Optional[int] = ..., good_til_block_time: _Optional[int] = ...) -> None: ...

class MsgCancelOrderResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class OrderBatch(_message.Message):
    __slots__ = ("clob_pair_id", "client_ids")
    CLOB_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    CLIENT_IDS_FIELD_NUMBER: _ClassVar[int]
    clob_pair_id: int
    client_ids: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, clob_pair_id: _Optional[int] = ..., client_ids: _Optional[_Iterable[int]] = ...) -> None: ...

class MsgBatchCancel(_message.Message):
    __slots__ = ("subaccount_id", "short_term_cancels", "good_til_block")
    SUBACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    SHORT_TERM_CANCELS_FIELD_NUMBER: _ClassVar[int]
    GOOD_TIL_BLOCK_FIELD_NUMBER: _ClassVar[int]
    subaccount_id: _subaccount_pb2.SubaccountId
    short_term_cancels: _containers.RepeatedCompositeFieldContainer[OrderBatch]
    good_til_block: int
    def __init__(self, subaccount_id: _Optional[_Union[_subaccount_pb2.SubaccountId, _Mapping]] = ..., short_term_cancels: _Optional[_Iterable[_Union[OrderBatch, _Mapping]]] = ..., good_til_block: _Optional[int] = ...) -> None: ...

class MsgBatchCancelResponse(_message.Message):
    __slots__ = ("short_term_succeeded", "short_term_failed")
    SHORT_TERM_SUCCEEDED_FIELD_NUMBER: _ClassVar[int]
    SHORT_TERM_FAILED_FIELD_NUMBER: _ClassVar[int]
    short_term_succeeded: _containers.RepeatedCompositeFieldContainer[OrderBatch]
    short_term_failed: _containers.RepeatedCompositeFieldContainer[OrderBatch]
    def __init__(self, short_term_succeeded: _Optional[_Iterable[_Union[OrderBatch, _Mapping]]] = ..., short_term_failed: _Optional[_Iterable[_Union[OrderBatch, _Mapping]]] = ...) -> None: ...

class LeverageEntry(_message.Message):
    __slots__ = ("clob_pair_id", "custom_imf_ppm")
    CLOB_PAIR_ID_FIELD_NUMBER: _ClassVar[int]
    CUSTOM_IMF_PPM_FIELD_NUMBER: _ClassVar[int]
    clob_pair_id: int
    custom_imf_ppm: int
    def __init__(self, clob_pair_id: _Optional[int] = ..., custom_imf_ppm: _Optional[int] = ...) -> None: ...

class MsgUpdateLeverage(_message.Message):
    __slots__ = ("subaccount_id", "clob_pair_leverage")
    SUBACCOUNT_ID_FIELD_NUMBER: _ClassVar[int]
    CLOB_PAIR_LEVERAGE_FIELD_NUMBER: _ClassVar[int]
    subaccount_id: _subaccount_pb2.SubaccountId
    clob_pair_leverage: _containers.RepeatedCompositeFieldContainer[LeverageEntry]
    def __init__(self, subaccount_id: _Optional[_Union[_subaccount_pb2.SubaccountId, _Mapping]] = ..., clob_pair_leverage: _Optional[_Iterable[_Union[LeverageEntry, _Mapping]]] = ...) -> None: ...

class MsgUpdateLeverageResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
