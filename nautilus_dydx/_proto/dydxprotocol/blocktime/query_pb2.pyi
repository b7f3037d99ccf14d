from nautilus_dydx._proto.dydxprotocol.blocktime import blocktime_pb2 as _blocktime_pb2
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class QueryPreviousBlockInfoRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class QueryPreviousBlockInfoResponse(_message.Message):
    __slots__ = ("info",)
    INFO_FIELD_NUMBER: _ClassVar[int]
    info: _blocktime_pb2.BlockInfo
    def __init__(self, info: _Optional[_Union[_blocktime_pb2.BlockInfo, _Mapping]] = ...) -> None: ...
