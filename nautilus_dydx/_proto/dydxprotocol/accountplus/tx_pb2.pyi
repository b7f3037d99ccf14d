from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class TxExtension(_message.Message):
    __slots__ = ("selected_authenticators",)
    SELECTED_AUTHENTICATORS_FIELD_NUMBER: _ClassVar[int]
    selected_authenticators: _containers.RepeatedScalarFieldContainer[int]
    def __init__(self, selected_authenticators: _Optional[_Iterable[int]] = ...) -> None: ...
