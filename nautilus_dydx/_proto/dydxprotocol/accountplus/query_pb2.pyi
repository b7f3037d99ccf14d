from nautilus_dydx._proto.dydxprotocol.accountplus import models_pb2 as _models_pb2
from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class GetAuthenticatorsRequest(_message.Message):
    __slots__ = ("account",)
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    account: str
    def __init__(self, account: _Optional[str] = ...) -> None: ...

class GetAuthenticatorsResponse(_message.Message):
    __slots__ = ("account_authenticators",)
    ACCOUNT_AUTHENTICATORS_FIELD_NUMBER: _ClassVar[int]
    account_authenticators: _containers.RepeatedCompositeFieldContainer[_models_pb2.AccountAuthenticator]
    def __init__(self, account_authenticators: _Optional[_Iterable[_Union[_models_pb2.AccountAuthenticator, _Mapping]]] = ...) -> None: ...

class GetAuthenticatorRequest(_message.Message):
    __slots__ = ("account", "authenticator_id")
    ACCOUNT_FIELD_NUMBER: _ClassVar[int]
    AUTHENTICATOR_ID_FIELD_NUMBER: _ClassVar[int]
    account: str
    authenticator_id: int
    def __init__(self, account: _Optional[str] = ..., authenticator_id: _Optional[int] = ...) -> None: ...

class GetAuthenticatorResponse(_message.Message):
    __slots__ = ("account_authenticator",)
    ACCOUNT_AUTHENTICATOR_FIELD_NUMBER: _ClassVar[int]
    account_authenticator: _models_pb2.AccountAuthenticator
    def __init__(self, account_authenticator: _Optional[_Union[_models_pb2.AccountAuthenticator, _Mapping]] = ...) -> None: ...
