# SPDX-License-Identifier: Apache-2.0
"""Permissioned keys (`x/accountplus` authenticators): registration messages and signing."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterable
from collections.abc import Sequence
from typing import TYPE_CHECKING
from typing import Final

import msgspec

from nautilus_dydx._core.orders import TxSigner
from nautilus_dydx._core.orders import encode_any
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx.common.address import check_address
from nautilus_dydx.grpc.types import AuthenticatorInfo
from nautilus_dydx.wallet import Wallet


if TYPE_CHECKING:
    from nautilus_dydx.grpc.client import DYDXNodeClient


TYPE_URL_ADD_AUTHENTICATOR: Final = "/dydxprotocol.accountplus.MsgAddAuthenticator"
TYPE_URL_REMOVE_AUTHENTICATOR: Final = "/dydxprotocol.accountplus.MsgRemoveAuthenticator"
TYPE_URL_PLACE_ORDER: Final = "/dydxprotocol.clob.MsgPlaceOrder"
TYPE_URL_CANCEL_ORDER: Final = "/dydxprotocol.clob.MsgCancelOrder"
TYPE_URL_BATCH_CANCEL: Final = "/dydxprotocol.clob.MsgBatchCancel"
# What an exec client sends: places, cancels and batch cancels (no transfers, no withdrawals)
TRADING_MESSAGE_TYPES: Final = (TYPE_URL_PLACE_ORDER, TYPE_URL_CANCEL_ORDER, TYPE_URL_BATCH_CANCEL)

SIGNATURE_VERIFICATION: Final = "SignatureVerification"
MESSAGE_FILTER: Final = "MessageFilter"
SUBACCOUNT_FILTER: Final = "SubaccountFilter"
CLOB_PAIR_ID_FILTER: Final = "ClobPairIdFilter"
ALL_OF: Final = "AllOf"
ANY_OF: Final = "AnyOf"
# The chain's AUTHENTICATOR_DATA_MAX_LENGTH
MAX_DATA_LENGTH: Final = 1024
_SEPARATOR: Final = ","
_UINT32_MAX: Final = (1 << 32) - 1


class AuthenticatorError(ValueError):
    """
    Raised for an authenticator that cannot be built or does not admit the trading key.
    """


class AuthenticatorSpec(msgspec.Struct, frozen=True):
    """
    An authenticator to register: its type name and `data` bytes (`MsgAddAuthenticator`).

    Build it with `signature_verification`, `message_filter`, `subaccount_filter`,
    `clob_pair_id_filter`, `all_of`, `any_of` or `trading_key_authenticator`.
    """

    type: str
    config: bytes


def signature_verification(public_key: bytes) -> AuthenticatorSpec:
    """
    Return a `SignatureVerification`: the tx must be signed by this key.

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed secp256k1 public key of the trading key.

    Returns
    -------
    AuthenticatorSpec

    Raises
    ------
    AuthenticatorError
        If the key is not a 33-byte compressed key.

    """
    if not isinstance(public_key, bytes) or len(public_key) != 33 or public_key[0] not in (2, 3):
        raise AuthenticatorError("invalid public key (expected 33 compressed secp256k1 bytes)")
    return AuthenticatorSpec(SIGNATURE_VERIFICATION, public_key)


def message_filter(*type_urls: str) -> AuthenticatorSpec:
    """
    Return a `MessageFilter`: every message must have one of these type URLs.

    Parameters
    ----------
    *type_urls : str
        Message type URLs such as ``"/dydxprotocol.clob.MsgPlaceOrder"``.

    Returns
    -------
    AuthenticatorSpec

    Raises
    ------
    AuthenticatorError
        If no URL is given or one is not of the form ``/package.Message``.

    """
    if not type_urls:
        raise AuthenticatorError("a message filter needs at least one type URL")
    for url in type_urls:
        if not isinstance(url, str) or not url.startswith("/") or _SEPARATOR in url:
            raise AuthenticatorError(f"invalid message type URL, was {url!r}")
    return AuthenticatorSpec(MESSAGE_FILTER, _SEPARATOR.join(type_urls).encode())


def _numbers_filter(kind: str, numbers: Iterable[int]) -> AuthenticatorSpec:
    values = list(numbers)
    if not values:
        raise AuthenticatorError(f"a {kind} needs at least one number")
    for value in values:
        if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= _UINT32_MAX:
            raise AuthenticatorError(f"invalid {kind} number, was {value!r}")
    return AuthenticatorSpec(kind, _SEPARATOR.join(str(v) for v in values).encode())


def subaccount_filter(*numbers: int) -> AuthenticatorSpec:
    """
    Return a `SubaccountFilter`: orders and cancels must be on one of these subaccounts.

    Parameters
    ----------
    *numbers : int
        Subaccount numbers.

    Returns
    -------
    AuthenticatorSpec

    """
    return _numbers_filter(SUBACCOUNT_FILTER, numbers)


def clob_pair_id_filter(*clob_pair_ids: int) -> AuthenticatorSpec:
    """
    Return a `ClobPairIdFilter`: orders and cancels must be on one of these markets.

    Parameters
    ----------
    *clob_pair_ids : int
        CLOB pair IDs (``BTC-USD`` is 0 on mainnet).

    Returns
    -------
    AuthenticatorSpec

    """
    return _numbers_filter(CLOB_PAIR_ID_FILTER, clob_pair_ids)


def _composite(kind: str, specs: Sequence[AuthenticatorSpec]) -> AuthenticatorSpec:
    if len(specs) < 2:
        raise AuthenticatorError(f"{kind} needs at least 2 sub-authenticators")
    # The chain reads `config` as Go []byte, which JSON carries as standard base64
    entries = [
        {"type": spec.type, "config": base64.b64encode(spec.config).decode()} for spec in specs
    ]
    data = json.dumps(entries, separators=(",", ":")).encode()
    if len(data) > MAX_DATA_LENGTH:
        raise AuthenticatorError(
            f"authenticator data too long ({len(data)} bytes, the chain allows {MAX_DATA_LENGTH})",
        )
    return AuthenticatorSpec(kind, data)


def all_of(*specs: AuthenticatorSpec) -> AuthenticatorSpec:
    """
    Return an `AllOf`: every sub-authenticator must admit the message.

    Parameters
    ----------
    *specs : AuthenticatorSpec
        At least two sub-authenticators.

    Returns
    -------
    AuthenticatorSpec

    """
    return _composite(ALL_OF, specs)


def any_of(*specs: AuthenticatorSpec) -> AuthenticatorSpec:
    """
    Return an `AnyOf`: one sub-authenticator must admit the message.

    Parameters
    ----------
    *specs : AuthenticatorSpec
        At least two sub-authenticators.

    Returns
    -------
    AuthenticatorSpec

    """
    return _composite(ANY_OF, specs)


def trading_key_authenticator(
    public_key: bytes,
    message_types: Sequence[str] | None = TRADING_MESSAGE_TYPES,
    subaccounts: Sequence[int] | None = None,
    clob_pair_ids: Sequence[int] | None = None,
) -> AuthenticatorSpec:
    """
    Return the authenticator that lets a trading key place and cancel orders for an account.

    An `AllOf` of the key's `SignatureVerification` and the given filters (or the bare
    `SignatureVerification` when no filter is given).

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed public key of the trading key.
    message_types : Sequence[str], optional
        Allowed message type URLs; default places, cancels and batch cancels. None: any.
    subaccounts : Sequence[int], optional
        Allowed subaccount numbers; None: any.
    clob_pair_ids : Sequence[int], optional
        Allowed CLOB pair IDs; None: any (the chain's filter refuses non-order messages).

    Returns
    -------
    AuthenticatorSpec

    """
    specs = [signature_verification(public_key)]
    if message_types is not None:
        specs.append(message_filter(*message_types))
    if subaccounts is not None:
        specs.append(subaccount_filter(*subaccounts))
    if clob_pair_ids is not None:
        specs.append(clob_pair_id_filter(*clob_pair_ids))
    return specs[0] if len(specs) == 1 else all_of(*specs)


def add_authenticator_message(sender: str, spec: AuthenticatorSpec) -> bytes:
    """
    Return the encoded `Any` of a `MsgAddAuthenticator` (signed by the owner's own key).

    Parameters
    ----------
    sender : str
        The owner's ``dydx1...`` address.
    spec : AuthenticatorSpec
        The authenticator.

    Returns
    -------
    bytes

    """
    check_address("sender", sender)
    if len(spec.config) > MAX_DATA_LENGTH:
        raise AuthenticatorError(f"authenticator data too long ({len(spec.config)} bytes)")
    message = accountplus_tx_pb2.MsgAddAuthenticator(
        sender=sender, authenticator_type=spec.type, data=spec.config,
    )
    return encode_any(TYPE_URL_ADD_AUTHENTICATOR, message.SerializeToString())


def remove_authenticator_message(sender: str, authenticator_id: int) -> bytes:
    """
    Return the encoded `Any` of a `MsgRemoveAuthenticator`.

    Parameters
    ----------
    sender : str
        The owner's ``dydx1...`` address.
    authenticator_id : int
        The id to remove.

    Returns
    -------
    bytes

    """
    check_address("sender", sender)
    message = accountplus_tx_pb2.MsgRemoveAuthenticator(sender=sender, id=authenticator_id)
    return encode_any(TYPE_URL_REMOVE_AUTHENTICATOR, message.SerializeToString())


def verifies_key(authenticator_type: str, config: bytes, public_key: bytes) -> bool:
    """
    Return whether some path of an authenticator checks a signature by `public_key`.

    Parameters
    ----------
    authenticator_type : str
        The registered type.
    config : bytes
        The registered configuration.
    public_key : bytes
        The trading key's 33-byte public key.

    Returns
    -------
    bool

    """
    if authenticator_type == SIGNATURE_VERIFICATION:
        return config == public_key
    if authenticator_type not in (ALL_OF, ANY_OF):
        return False
    try:
        entries = json.loads(config)
        return any(
            verifies_key(entry["type"], base64.b64decode(entry["config"]), public_key)
            for entry in entries
        )
    except (ValueError, TypeError, KeyError, binascii.Error):
        return False


async def select_authenticator(
    node: DYDXNodeClient,
    owner: str,
    public_key: bytes,
    authenticator_ids: Sequence[int],
) -> int:
    """
    Return the first configured id registered on `owner` that verifies the trading key.

    Parameters
    ----------
    node : DYDXNodeClient
        The node to query (`/dydxprotocol.accountplus.Query/GetAuthenticators`).
    owner : str
        The owner's address.
    public_key : bytes
        The trading key's public key.
    authenticator_ids : Sequence[int]
        The configured ids, in preference order.

    Returns
    -------
    int

    Raises
    ------
    AuthenticatorError
        If none of the ids is registered on the owner with this key.

    """
    registered: dict[int, AuthenticatorInfo] = {
        a.id: a for a in await node.get_authenticators(owner)
    }
    for authenticator_id in authenticator_ids:
        info = registered.get(authenticator_id)
        if info is not None and verifies_key(info.type, info.config, public_key):
            return authenticator_id
    raise AuthenticatorError(
        f"none of the authenticator ids {list(authenticator_ids)} is registered on {owner} "
        f"with a SignatureVerification of the trading key {public_key.hex()} (registered: "
        f"{sorted(registered)}); register one with MsgAddAuthenticator from the owner's key",
    )


async def permissioned_wallet(
    node: DYDXNodeClient,
    key: Wallet,
    owner: str,
    authenticator_ids: Sequence[int],
) -> PermissionedWallet:
    """
    Return the wallet that signs for `owner` with `key` through a registered authenticator.

    Parameters
    ----------
    node : DYDXNodeClient
        The node to query the owner's authenticators.
    key : Wallet
        The permissioned (trading) key.
    owner : str
        The owner's address.
    authenticator_ids : Sequence[int]
        The configured ids, in preference order.

    Returns
    -------
    PermissionedWallet

    Raises
    ------
    AuthenticatorError
        If no configured id admits the key (see `select_authenticator`).

    """
    check_address("wallet_address", owner)
    selected = await select_authenticator(node, owner, key.public_key, authenticator_ids)
    return PermissionedWallet(key, owner, selected)


class PermissionedSigner:
    """
    Sign an owner's transactions with a permissioned (trading) key.

    Each transaction carries a `/dydxprotocol.accountplus.TxExtension` selecting the
    authenticator once per message (the chain wants one id per message), commits to the
    owner's account number and is signed by the trading key.

    Parameters
    ----------
    signer : TxSigner
        The trading key's signer built with the owner's account number.
    authenticator_id : int
        The selected authenticator.

    """

    __slots__ = ("_inner", "_one", "authenticator_id")

    def __init__(self, signer: TxSigner, authenticator_id: int) -> None:
        self._inner = signer
        self.authenticator_id = authenticator_id
        self._one = [authenticator_id]

    @property
    def public_key(self) -> bytes:
        """The trading key's public key."""
        return self._inner.public_key

    @property
    def chain_id(self) -> str:
        """The chain id."""
        return self._inner.chain_id

    @property
    def account_number(self) -> int:
        """The owner's account number."""
        return self._inner.account_number

    def auth_info(self, sequence: int) -> bytes:
        """Return the encoded `AuthInfo` (the trading key's public key, the sequence)."""
        return self._inner.auth_info(sequence)

    def sign_tx(
        self,
        messages: bytes | list[bytes],
        sequence: int,
        memo: str = "",
        timeout_height: int = 0,
    ) -> bytes:
        """
        Return the signed `TxRaw` with the `TxExtension` added.

        Parameters
        ----------
        messages : bytes | list[bytes]
            One encoded `Any` or a list of them.
        sequence : int
            The owner's sequence (ignored by the chain for short-term transactions).
        memo : str, default ""
            The memo.
        timeout_height : int, default 0
            The timeout height.

        Returns
        -------
        bytes

        """
        ids = self._one if isinstance(messages, bytes) else self._one * len(messages)
        return self._inner.sign_tx(messages, sequence, memo, timeout_height, ids)

    def __repr__(self) -> str:
        return (
            f"PermissionedSigner(public_key={self.public_key.hex()}, "
            f"authenticator_id={self.authenticator_id})"
        )


class PermissionedWallet:
    """
    A trading key acting for an owner account through an authenticator.

    `address` is the owner's (messages, account number and sequence are the owner's);
    `public_key` and the signatures are the trading key's. The secret stays in `key`.

    Parameters
    ----------
    key : Wallet
        The trading (permissioned) key.
    owner_address : str
        The owner's ``dydx1...`` address.
    authenticator_id : int
        The owner's authenticator that admits the key.

    """

    __slots__ = ("_authenticator_id", "_key", "_owner")

    def __init__(self, key: Wallet, owner_address: str, authenticator_id: int) -> None:
        check_address("owner_address", owner_address)
        if isinstance(authenticator_id, bool) or not isinstance(authenticator_id, int) or (
            authenticator_id < 0
        ):
            raise AuthenticatorError(f"invalid authenticator id, was {authenticator_id!r}")
        self._key = key
        self._owner = owner_address
        self._authenticator_id = authenticator_id

    @property
    def address(self) -> str:
        """The owner's address."""
        return self._owner

    @property
    def key_address(self) -> str:
        """The address derived from the trading key."""
        return self._key.address

    @property
    def public_key(self) -> bytes:
        """The trading key's public key."""
        return self._key.public_key

    @property
    def authenticator_id(self) -> int:
        """The selected authenticator."""
        return self._authenticator_id

    def signer(
        self,
        chain_id: str,
        account_number: int,
        gas_limit: int = 1_000_000,
        fee_amount: list[tuple[str, int | str]] | None = None,
    ) -> PermissionedSigner:
        """
        Return a signer of the owner's transactions (owner's `account_number`).

        Parameters
        ----------
        chain_id : str
            The chain ID.
        account_number : int
            The owner's account number.
        gas_limit : int, default 1_000_000
            The fee gas limit.
        fee_amount : list[tuple[str, int | str]], optional
            Fee coins; none for order transactions.

        Returns
        -------
        PermissionedSigner

        """
        inner = self._key.signer(chain_id, account_number, gas_limit, fee_amount)
        return PermissionedSigner(inner, self._authenticator_id)

    def __repr__(self) -> str:
        return (
            f"PermissionedWallet(address={self._owner!r}, key_address={self._key.address!r}, "
            f"authenticator_id={self._authenticator_id}, private_key=<redacted>)"
        )

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("PermissionedWallet holds a private key and cannot be pickled")
