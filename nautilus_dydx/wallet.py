# SPDX-License-Identifier: Apache-2.0
"""dYdX wallet: key derivation (BIP-39/BIP-44), bech32 address and a transaction signer."""

from __future__ import annotations

import asyncio
import hashlib
import unicodedata
from typing import Final

import bech32
import coincurve
from bip32 import BIP32
from mnemonic import Mnemonic

from nautilus_dydx._core.orders import TxSigner


ADDRESS_PREFIX: Final = "dydx"
DERIVATION_PATH_TEMPLATE: Final = "m/44'/118'/0'/0/{index}"
_REDACTED: Final = "<redacted>"


class WalletError(ValueError):
    """
    Raised when a wallet cannot be created; the message never contains secret material.
    """


def _ripemd160(data: bytes) -> bytes:
    try:
        return hashlib.new("ripemd160", data).digest()
    except ValueError:  # OpenSSL 3 builds without the legacy provider
        from bip32.ripemd160 import ripemd160

        return ripemd160(data)


def address_from_public_key(public_key: bytes, prefix: str = ADDRESS_PREFIX) -> str:
    """
    Return the bech32 address of a compressed secp256k1 public key.

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed public key.
    prefix : str, default "dydx"
        The human-readable bech32 prefix.

    Returns
    -------
    str

    Raises
    ------
    WalletError
        If the public key is not 33 bytes.

    """
    if len(public_key) != 33:
        raise WalletError(f"invalid public key (expected 33 bytes), was {len(public_key)} bytes")
    digest = _ripemd160(hashlib.sha256(public_key).digest())
    return bech32.bech32_encode(prefix, bech32.convertbits(digest, 8, 5))


# The derivations return (key, problem) and never raise: the caller raises once their frames
# (whose locals hold the words or the key) are gone, so a traceback printer cannot show them


def _private_key_from_mnemonic(mnemonic: str, index: int) -> tuple[bytes | None, str | None]:
    words = " ".join(unicodedata.normalize("NFKD", mnemonic).split())
    try:
        valid = Mnemonic("english").check(words)
    except Exception:
        valid = False
    if not valid:
        return None, "invalid mnemonic (not a valid BIP-39 English phrase)"
    try:
        seed = Mnemonic.to_seed(words, passphrase="")
        return BIP32.from_seed(seed).get_privkey_from_path(
            DERIVATION_PATH_TEMPLATE.format(index=index),
        ), None
    except Exception:
        return None, "key derivation from the mnemonic failed"


def _private_key_from_hex(private_key_hex: str) -> tuple[bytes | None, str | None]:
    text = private_key_hex.strip().lower().removeprefix("0x")
    if len(text) != 64:
        return None, "invalid private key (expected 64 hex characters)"
    try:
        key = bytes.fromhex(text)
        coincurve.PrivateKey(key)
    except Exception:
        return None, "invalid private key (not a valid secp256k1 secret)"
    return key, None


def _wallet_or_raise(cls: type, derived: list, address: str | None) -> Wallet:
    # `derived` is the caller's [key, problem]: emptied here, so the caller's frame holds no key
    key, problem = derived
    derived.clear()
    if problem is not None:
        raise WalletError(problem)
    try:
        return cls(key, address)
    except WalletError:
        del key  # Out of this frame's locals before the error travels on
        raise


class Wallet:
    """
    A dYdX account key: address, public key and signers, with the secret kept private.

    Build it with `from_mnemonic`, `from_private_key` or the async `create`. The secret is
    never shown by ``repr``/``str``, never pickled and never placed in exception text.

    Parameters
    ----------
    private_key : bytes
        The 32-byte secp256k1 private key.
    address : str, optional
        The configured address; it must equal the derived one.

    Raises
    ------
    WalletError
        If the key is invalid or the configured address does not match the derived one.

    """

    __slots__ = ("__key", "_address", "_public_key")

    def __init__(self, private_key: bytes, address: str | None = None) -> None:
        if not isinstance(private_key, bytes) or len(private_key) != 32:
            raise WalletError("invalid private key (expected 32 bytes)")
        try:
            public_key = coincurve.PrivateKey(private_key).public_key.format(compressed=True)
        except Exception:
            raise WalletError("invalid private key (not a valid secp256k1 secret)") from None
        derived = address_from_public_key(public_key)
        if address is not None and address != derived:
            del private_key  # Out of this frame's locals before the error travels on
            raise WalletError(
                f"configured wallet address {address!r} does not match the address derived "
                f"from the key ({derived!r}); check the mnemonic/key and the address (to "
                "trade for another account with a permissioned key, set `authenticator_ids`)",
            )
        self.__key = private_key
        self._public_key = public_key
        self._address = derived

    @classmethod
    def from_mnemonic(
        cls,
        mnemonic: str,
        address: str | None = None,
        index: int = 0,
    ) -> Wallet:
        """
        Return the wallet of a BIP-39 mnemonic at ``m/44'/118'/0'/0/{index}``.

        Parameters
        ----------
        mnemonic : str
            The English BIP-39 phrase (empty passphrase).
        address : str, optional
            The configured address to check against.
        index : int, default 0
            The address index.

        Returns
        -------
        Wallet

        Raises
        ------
        WalletError
            If the phrase is invalid or the address does not match.

        """
        if not isinstance(mnemonic, str):
            raise WalletError(f"mnemonic must be str, was {type(mnemonic).__name__}")
        if not 0 <= index < 2**31:
            raise WalletError(f"invalid index, was {index}")
        derived = list(_private_key_from_mnemonic(mnemonic, index))
        del mnemonic
        return _wallet_or_raise(cls, derived, address)

    @classmethod
    def from_private_key(cls, private_key_hex: str, address: str | None = None) -> Wallet:
        """
        Return the wallet of a hex-encoded private key.

        Parameters
        ----------
        private_key_hex : str
            64 hex characters, optionally prefixed with ``0x``.
        address : str, optional
            The configured address to check against.

        Returns
        -------
        Wallet

        Raises
        ------
        WalletError
            If the key is invalid or the address does not match.

        """
        if not isinstance(private_key_hex, str):
            raise WalletError(f"private key must be str, was {type(private_key_hex).__name__}")
        derived = list(_private_key_from_hex(private_key_hex))
        del private_key_hex
        return _wallet_or_raise(cls, derived, address)

    @classmethod
    async def create(
        cls,
        *,
        mnemonic: str | None = None,
        private_key_hex: str | None = None,
        address: str | None = None,
        loop: asyncio.AbstractEventLoop | None = None,
    ) -> Wallet:
        """
        Return a wallet, deriving the key in the default executor (PBKDF2 is slow).

        Parameters
        ----------
        mnemonic : str, optional
            The BIP-39 phrase; exactly one of `mnemonic` and `private_key_hex` is required.
        private_key_hex : str, optional
            The hex private key.
        address : str, optional
            The configured address to check against.
        loop : asyncio.AbstractEventLoop, optional
            The loop whose executor runs the derivation; the running loop if omitted.

        Returns
        -------
        Wallet

        Raises
        ------
        WalletError
            If not exactly one secret is given, or derivation or the address check fails.

        """
        if (mnemonic is None) == (private_key_hex is None):
            raise WalletError("exactly one of mnemonic and private_key_hex is required")
        loop = loop or asyncio.get_running_loop()
        if mnemonic is not None:
            return await loop.run_in_executor(None, cls.from_mnemonic, mnemonic, address)
        return await loop.run_in_executor(None, cls.from_private_key, private_key_hex, address)

    @property
    def address(self) -> str:
        """
        Return the bech32 ``dydx1...`` address.

        Returns
        -------
        str

        """
        return self._address

    @property
    def public_key(self) -> bytes:
        """
        Return the 33-byte compressed public key.

        Returns
        -------
        bytes

        """
        return self._public_key

    def signer(
        self,
        chain_id: str,
        account_number: int,
        gas_limit: int = 1_000_000,
        fee_amount: list[tuple[str, int | str]] | None = None,
    ) -> TxSigner:
        """
        Return a compiled transaction signer for this key.

        Parameters
        ----------
        chain_id : str
            The chain ID.
        account_number : int
            The account number.
        gas_limit : int, default 1_000_000
            The fee gas limit.
        fee_amount : list[tuple[str, int | str]], optional
            Fee coins; none for order transactions.

        Returns
        -------
        TxSigner

        """
        return TxSigner(self.__key, chain_id, account_number, gas_limit, fee_amount)

    def __repr__(self) -> str:
        # getattr: a traceback printer may show a Wallet whose __init__ failed
        return f"Wallet(address={getattr(self, '_address', None)!r}, private_key={_REDACTED})"

    __str__ = __repr__

    def __reduce__(self) -> object:
        raise TypeError("Wallet holds a private key and cannot be pickled")

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Wallet) and other._address == self._address

    def __hash__(self) -> int:
        return hash(self._address)
