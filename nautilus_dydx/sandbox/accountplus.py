# SPDX-License-Identifier: Apache-2.0
"""Sandbox `x/accountplus`: permissioned-key authenticators, their messages, checks and query."""

from __future__ import annotations

import base64
import binascii
import itertools
import json
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field
from typing import TYPE_CHECKING

import grpc
from google.protobuf.message import DecodeError

from nautilus_dydx._proto.dydxprotocol.accountplus import models_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import query_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import query_pb2_grpc
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx.sandbox.chain_errors import ChainError
from nautilus_dydx.sandbox.keys import is_valid_address


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState
    from nautilus_dydx.sandbox.node import SandboxNode


URL_ADD_AUTHENTICATOR = "/dydxprotocol.accountplus.MsgAddAuthenticator"
URL_REMOVE_AUTHENTICATOR = "/dydxprotocol.accountplus.MsgRemoveAuthenticator"
URL_TX_EXTENSION = "/dydxprotocol.accountplus.TxExtension"
CODESPACE = "accountplus"
# The chain's AUTHENTICATOR_DATA_MAX_LENGTH (MsgAddAuthenticator.ValidateBasic)
MAX_DATA_LENGTH = 1024
SEPARATOR = ","
SIGNATURE_VERIFICATION = "SignatureVerification"
MESSAGE_FILTER = "MessageFilter"
SUBACCOUNT_FILTER = "SubaccountFilter"
CLOB_PAIR_ID_FILTER = "ClobPairIdFilter"
ALL_OF = "AllOf"
ANY_OF = "AnyOf"
AUTHENTICATOR_TYPES = (
    SIGNATURE_VERIFICATION, MESSAGE_FILTER, SUBACCOUNT_FILTER, CLOB_PAIR_ID_FILTER, ALL_OF, ANY_OF,
)
MESSAGE_CLASSES: dict[str, type] = {
    URL_ADD_AUTHENTICATOR: tx_pb2.MsgAddAuthenticator,
    URL_REMOVE_AUTHENTICATOR: tx_pb2.MsgRemoveAuthenticator,
}
_TYPES = tuple(MESSAGE_CLASSES.values())
_UINT32_MAX = (1 << 32) - 1

# Error codes of codespace `accountplus` (x/accountplus/types/errors.go)
ERR_AUTHENTICATOR_NOT_FOUND = 1
ERR_INVALID_ACCOUNT_ADDRESS = 2
ERR_DATA_TOO_LONG = 3
ERR_INITIALIZING_AUTHENTICATOR = 5
ERR_SIGNATURE_VERIFICATION = 100
ERR_MESSAGE_TYPE_VERIFICATION = 101
ERR_CLOB_PAIR_ID_VERIFICATION = 102
ERR_SUBACCOUNT_VERIFICATION = 103


def _error(code: int, log: str) -> ChainError:
    return ChainError(CODESPACE, code, log)


@dataclass(frozen=True)
class Authenticator:
    """
    An initialized authenticator tree (a leaf or an `AllOf`/`AnyOf` of sub-authenticators).

    Parameters
    ----------
    type : str
        One of `AUTHENTICATOR_TYPES`.
    config : bytes
        The configuration bytes as registered.
    public_key : bytes
        The 33-byte key of a `SignatureVerification` (else empty).
    whitelist : frozenset
        The message type URLs (`MessageFilter`) or numbers (the other filters).
    children : tuple[Authenticator, ...]
        The sub-authenticators of `AllOf`/`AnyOf`.

    """

    type: str
    config: bytes
    public_key: bytes = b""
    whitelist: frozenset = frozenset()
    children: tuple[Authenticator, ...] = ()

    @property
    def requires_signature(self) -> bool:
        """Whether every path that admits a tx verifies a signature (the chain's safety rule)."""
        if self.type == SIGNATURE_VERIFICATION:
            return True
        if self.type == ALL_OF:
            return any(child.requires_signature for child in self.children)
        if self.type == ANY_OF:
            return all(child.requires_signature for child in self.children)
        return False


def parse_authenticator(authenticator_type: str, config: bytes) -> Authenticator:
    """
    Return the initialized authenticator of a type and its configuration bytes.

    Parameters
    ----------
    authenticator_type : str
        The type name, e.g. ``"AllOf"``.
    config : bytes
        The `MsgAddAuthenticator.data` (composites: JSON ``[{"type", "config"(base64)}]``).

    Returns
    -------
    Authenticator

    Raises
    ------
    ValueError
        If the type is not registered or the configuration does not initialize it.

    """
    if authenticator_type == SIGNATURE_VERIFICATION:
        if len(config) != 33 or config[0] not in (2, 3):
            raise ValueError(
                f"invalid secp256k1 public key size, expected 33, got {len(config)}",
            )
        return Authenticator(authenticator_type, config, public_key=bytes(config))
    if authenticator_type == MESSAGE_FILTER:
        urls = frozenset(config.decode("utf-8", "replace").split(SEPARATOR))
        return Authenticator(authenticator_type, config, whitelist=urls)
    if authenticator_type in (SUBACCOUNT_FILTER, CLOB_PAIR_ID_FILTER):
        numbers = set()
        for text in config.decode("utf-8", "replace").split(SEPARATOR):
            if not text.isdigit() or int(text) > _UINT32_MAX:
                raise ValueError(f"invalid number {text!r} in {authenticator_type} config")
            numbers.add(int(text))
        return Authenticator(authenticator_type, config, whitelist=frozenset(numbers))
    if authenticator_type in (ALL_OF, ANY_OF):
        try:
            entries = json.loads(config)
        except (ValueError, UnicodeDecodeError) as e:
            raise ValueError(
                f"failed to parse sub-authenticators initialization data: {e}",
            ) from None
        if not isinstance(entries, list) or len(entries) <= 1:
            raise ValueError(f"{authenticator_type} must have at least 2 sub-authenticators")
        children = []
        for entry in entries:
            if not isinstance(entry, dict) or not isinstance(entry.get("type"), str):
                raise ValueError("sub-authenticator entries need a `type` and a `config`")
            try:
                sub_config = base64.b64decode(entry.get("config") or "", validate=True)
            except (binascii.Error, TypeError):
                raise ValueError("sub-authenticator `config` is not base64") from None
            children.append(parse_authenticator(entry["type"], sub_config))
        return Authenticator(authenticator_type, config, children=tuple(children))
    raise ValueError(f"authenticator type {authenticator_type} is not registered")


@dataclass
class AccountPlusState:
    """
    Registered authenticators per account and the global next id (ids start at 0).

    Attributes
    ----------
    next_id : int
        The id the next registered authenticator gets.
    by_account : dict[str, dict[int, Authenticator]]
        The authenticators of each address, by id.

    """

    next_id: int = 0
    by_account: dict[str, dict[int, Authenticator]] = field(default_factory=dict)

    def authenticators(self, address: str) -> list[tuple[int, Authenticator]]:
        """
        Return the (id, authenticator) pairs of an address in ascending id order.

        Parameters
        ----------
        address : str
            The account.

        Returns
        -------
        list[tuple[int, Authenticator]]

        """
        return sorted(self.by_account.get(address, {}).items())


def _state(chain: ChainState) -> AccountPlusState:
    return chain.accountplus


def is_message(message: object) -> bool:
    """
    Return whether `message` is an accountplus message (add or remove an authenticator).

    Parameters
    ----------
    message : Message
        A decoded tx message.

    Returns
    -------
    bool

    """
    return isinstance(message, _TYPES)


def validate_basic(message: tx_pb2.MsgAddAuthenticator | tx_pb2.MsgRemoveAuthenticator) -> None:
    """
    Run the stateless checks: a valid sender (`accountplus` 2), data of at most 1024 bytes (3).

    Parameters
    ----------
    message : MsgAddAuthenticator | MsgRemoveAuthenticator
        The message.

    Raises
    ------
    ChainError

    """
    if not is_valid_address(message.sender):
        raise _error(ERR_INVALID_ACCOUNT_ADDRESS, "Invalid account address")
    if isinstance(message, tx_pb2.MsgAddAuthenticator) and len(message.data) > MAX_DATA_LENGTH:
        raise _error(ERR_DATA_TOO_LONG, "Authenticator data exceeds maximum length")


def check(
    chain: ChainState,
    message: tx_pb2.MsgAddAuthenticator | tx_pb2.MsgRemoveAuthenticator,
    messages: list,
) -> None:
    """
    Run the stateful checks: the authenticator initializes and verifies a signature on every
    path (add), or exists and is not already being removed (remove).

    The chain runs these in the block and fails the included tx; the sandbox refuses the tx
    at CheckTx instead (`accountplus` 5 or 1), so nothing is consumed.

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgAddAuthenticator | MsgRemoveAuthenticator
        The message.
    messages : list
        Every message of the same tx.

    Raises
    ------
    ChainError

    """
    if isinstance(message, tx_pb2.MsgAddAuthenticator):
        try:
            parsed = parse_authenticator(message.authenticator_type, message.data)
        except ValueError as e:
            raise _error(ERR_INITIALIZING_AUTHENTICATOR, f"{e}: Error initializing "
                                                         "authenticator") from None
        if not parsed.requires_signature:
            raise _error(
                ERR_INITIALIZING_AUTHENTICATOR,
                "unsafe: authenticator tree does not require signature verification all "
                f"possible paths, type = {message.authenticator_type}: Error initializing "
                "authenticator",
            )
        return
    # Removals already accepted (pending) or earlier in this tx take the authenticator away
    earlier = itertools.takewhile(lambda m: m is not message, messages)
    removing = {
        (m.sender, m.id) for m in (*_pending_messages(chain), *earlier)
        if isinstance(m, tx_pb2.MsgRemoveAuthenticator)
    }
    owned = _state(chain).by_account.get(message.sender, {})
    if message.id not in owned or (message.sender, message.id) in removing:
        raise _error(
            ERR_AUTHENTICATOR_NOT_FOUND,
            f"RemoveAuthenticator: failed to get authenticator {message.id} for address "
            f"{message.sender}: Authenticator is not found",
        )


def _pending_messages(chain: ChainState) -> list:
    return [m for item in chain.pending for m in item.messages]


def deliver(
    chain: ChainState, message: tx_pb2.MsgAddAuthenticator | tx_pb2.MsgRemoveAuthenticator,
) -> None:
    """
    Register (with the next global id) or remove an authenticator in the including block.

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgAddAuthenticator | MsgRemoveAuthenticator
        The message.

    """
    state = _state(chain)
    if isinstance(message, tx_pb2.MsgAddAuthenticator):
        parsed = parse_authenticator(message.authenticator_type, message.data)
        state.by_account.setdefault(message.sender, {})[state.next_id] = parsed
        state.next_id += 1
        return
    state.by_account.get(message.sender, {}).pop(message.id, None)


def selected_authenticators(body) -> list[int] | None:
    """
    Return the ids of a tx's `TxExtension`, or None for the classic signature flow.

    As on the chain, the first `non_critical_extension_options` entry that decodes as a
    `TxExtension` counts, and an extension without ids means the classic flow.

    Parameters
    ----------
    body : TxBody
        The decoded body.

    Returns
    -------
    list[int] | None

    """
    for option in body.non_critical_extension_options:
        if option.type_url != URL_TX_EXTENSION:
            continue
        extension = tx_pb2.TxExtension()
        try:
            extension.ParseFromString(option.value)
        except DecodeError:
            continue
        ids = list(extension.selected_authenticators)
        return ids or None
    return None


def authenticate(
    chain: ChainState,
    signer: str,
    selected: list[int],
    type_urls: list[str],
    messages: list,
    verify: Callable[[bytes], bool],
) -> None:
    """
    Authenticate every message of a tx with its selected authenticator of `signer`.

    Parameters
    ----------
    chain : ChainState
        The chain.
    signer : str
        The address that signs every message (the account owner).
    selected : list[int]
        The `TxExtension` ids, one per message.
    type_urls : list[str]
        The `Any` type URL of each message.
    messages : list
        The decoded messages.
    verify : Callable[[bytes], bool]
        Whether the tx signature verifies under a 33-byte public key.

    Raises
    ------
    ChainError
        `sdk` 18 on an id count that differs from the message count; `accountplus` 1 for an
        id the signer does not own; 100-103 when a sub-authenticator refuses (`AllOf` passes
        its first failure on); `sdk` 4 when every branch of an `AnyOf` refuses.

    """
    if len(selected) != len(messages):
        raise ChainError(
            "sdk", 18,
            "Mismatch between the number of selected authenticators and messages, msg count "
            f"{len(messages)}, got {len(selected)} selected authenticators: invalid request",
        )
    owned = _state(chain).by_account.get(signer, {})
    for index, (authenticator_id, type_url, message) in enumerate(
        zip(selected, type_urls, messages, strict=True),
    ):
        authenticator = owned.get(authenticator_id)
        if authenticator is None:
            raise _error(
                ERR_AUTHENTICATOR_NOT_FOUND,
                f"authenticator {authenticator_id} not found for account {signer}: failed to "
                f"get initialized authenticator (account = {signer}, authenticator id = "
                f"{authenticator_id}, msg index = {index}, msg type url = {type_url}): "
                "Authenticator is not found",
            )
        try:
            _authenticate(authenticator, type_url, message, verify)
        except ChainError as e:
            raise ChainError(
                e.codespace, e.code,
                f"authentication failed for message {index}, authenticator id "
                f"{authenticator_id}, type {authenticator.type}: {e.log}",
            ) from None


def _authenticate(
    authenticator: Authenticator, type_url: str, message, verify: Callable[[bytes], bool],
) -> None:
    kind = authenticator.type
    if kind == SIGNATURE_VERIFICATION:
        if not verify(authenticator.public_key):
            raise _error(ERR_SIGNATURE_VERIFICATION, "Signature verification failed")
    elif kind == MESSAGE_FILTER:
        if type_url not in authenticator.whitelist:
            raise _error(ERR_MESSAGE_TYPE_VERIFICATION, f"message types do not match. Got "
                                                        f"{type_url}: Message type verification "
                                                        "failed")
    elif kind == SUBACCOUNT_FILTER:
        for number in _subaccount_numbers(message):
            if number not in authenticator.whitelist:
                raise _error(ERR_SUBACCOUNT_VERIFICATION, f"subaccount number {number} not in "
                                                          "whitelist: Subaccount verification "
                                                          "failed")
    elif kind == CLOB_PAIR_ID_FILTER:
        ids = _clob_pair_ids(message)
        if ids is None:
            raise _error(ERR_CLOB_PAIR_ID_VERIFICATION, f"ClobPairIdFilter does not authorize "
                                                        f"message type {type_url}: Clob pair id "
                                                        "verification failed")
        for clob_pair_id in ids:
            if clob_pair_id not in authenticator.whitelist:
                raise _error(ERR_CLOB_PAIR_ID_VERIFICATION, f"order id {clob_pair_id} not in "
                                                            "whitelist: Clob pair id "
                                                            "verification failed")
    elif kind == ALL_OF:
        for child in authenticator.children:
            _authenticate(child, type_url, message, verify)
    else:  # ANY_OF
        failures = []
        for child in authenticator.children:
            try:
                _authenticate(child, type_url, message, verify)
                return
            except ChainError as e:
                failures.append(f"[{child.type}] {e.log}")
        raise ChainError("sdk", 4, "all sub-authenticators failed to authenticate: "
                                   f"{'; '.join(failures)}: unauthorized")


def _subaccount_numbers(message) -> list[int]:
    if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
        return [message.order.order_id.subaccount_id.number]
    if isinstance(message, clob_tx_pb2.MsgCancelOrder):
        return [message.order_id.subaccount_id.number]
    if isinstance(message, clob_tx_pb2.MsgBatchCancel):
        return [message.subaccount_id.number]
    return []  # Other messages pass this filter


def _clob_pair_ids(message) -> list[int] | None:
    if isinstance(message, clob_tx_pb2.MsgPlaceOrder):
        return [message.order.order_id.clob_pair_id]
    if isinstance(message, clob_tx_pb2.MsgCancelOrder):
        return [message.order_id.clob_pair_id]
    if isinstance(message, clob_tx_pb2.MsgBatchCancel):
        return [batch.clob_pair_id for batch in message.short_term_cancels]
    return None  # Fail-closed: other messages are refused


def _account_authenticator(
    authenticator_id: int, authenticator: Authenticator,
) -> models_pb2.AccountAuthenticator:
    return models_pb2.AccountAuthenticator(
        id=authenticator_id, type=authenticator.type, config=authenticator.config,
    )


class AccountPlusQueryService(query_pb2_grpc.QueryServicer):
    """
    `/dydxprotocol.accountplus.Query`: the authenticators registered on an account.

    Parameters
    ----------
    node : SandboxNode
        The node.

    """

    def __init__(self, node: SandboxNode) -> None:
        self._node = node

    async def GetAuthenticators(self, request, context):  # noqa: N802
        if not is_valid_address(request.account):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid account address")
        pairs = _state(self._node.chain).authenticators(request.account)
        return query_pb2.GetAuthenticatorsResponse(
            account_authenticators=[_account_authenticator(i, a) for i, a in pairs],
        )

    async def GetAuthenticator(self, request, context):  # noqa: N802
        if not is_valid_address(request.account):
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "invalid account address")
        owned = _state(self._node.chain).by_account.get(request.account, {})
        authenticator = owned.get(request.authenticator_id)
        if authenticator is None:
            await context.abort(
                grpc.StatusCode.NOT_FOUND,
                f"authenticator {request.authenticator_id} not found for account "
                f"{request.account}",
            )
        return query_pb2.GetAuthenticatorResponse(
            account_authenticator=_account_authenticator(request.authenticator_id, authenticator),
        )


def add_query_service(node: SandboxNode, server: grpc.aio.Server) -> None:
    """
    Register `AccountPlusQueryService` on a not yet started server.

    Parameters
    ----------
    node : SandboxNode
        The node the service reads.
    server : grpc.aio.Server
        The server.

    """
    query_pb2_grpc.add_QueryServicer_to_server(AccountPlusQueryService(node), server)
