# SPDX-License-Identifier: Apache-2.0
"""Sandbox-private key derivation: BIP-39 mnemonic, BIP-32 path, secp256k1 and bech32 addresses."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import lru_cache

import bech32
import coincurve
from bip32 import BIP32
from mnemonic import Mnemonic


COSMOS_PATH = "m/44'/118'/0'/0/{index}"
ADDRESS_PREFIX = "dydx"
SECP256K1_ORDER = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
SECP256K1_HALF_ORDER = SECP256K1_ORDER // 2


@dataclass(frozen=True)
class SandboxKey:
    """
    A secp256k1 key pair with its dYdX address.

    Parameters
    ----------
    private_key : bytes
        The 32-byte private key.
    public_key : bytes
        The 33-byte compressed public key.
    address : str
        The bech32 `dydx1...` address.

    """

    private_key: bytes
    public_key: bytes
    address: str

    def sign_digest(self, digest: bytes) -> bytes:
        """
        Return the 64-byte low-S compact signature `r||s` of a 32-byte digest (RFC 6979 nonce).

        Parameters
        ----------
        digest : bytes
            The SHA-256 digest to sign.

        Returns
        -------
        bytes

        """
        key = coincurve.PrivateKey(self.private_key)
        return key.sign_recoverable(digest, hasher=None)[:64]


@lru_cache(maxsize=4096)
def address_from_public_key(public_key: bytes, prefix: str = ADDRESS_PREFIX) -> str:
    """
    Return the bech32 address of a compressed secp256k1 public key.

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed public key.
    prefix : str, default "dydx"
        The human-readable part.

    Returns
    -------
    str

    """
    digest = hashlib.new("ripemd160", hashlib.sha256(public_key).digest()).digest()
    return bech32.bech32_encode(prefix, bech32.convertbits(digest, 8, 5))


@lru_cache(maxsize=4096)
def is_valid_address(address: str, prefix: str = ADDRESS_PREFIX) -> bool:
    """
    Return whether `address` is a valid bech32 address with a 20-byte payload and `prefix`.

    Parameters
    ----------
    address : str
        The address to check.
    prefix : str, default "dydx"
        The expected human-readable part.

    Returns
    -------
    bool

    """
    hrp, data = bech32.bech32_decode(address)
    if hrp != prefix or data is None:
        return False
    payload = bech32.convertbits(data, 5, 8, False)
    return payload is not None and len(payload) == 20


def key_from_private_key(private_key: bytes | str) -> SandboxKey:
    """
    Return the key pair for a raw private key.

    Parameters
    ----------
    private_key : bytes | str
        32 bytes, or 64 hex characters.

    Returns
    -------
    SandboxKey

    Raises
    ------
    ValueError
        If the key is not 32 bytes or not a valid secp256k1 scalar.

    """
    raw = bytes.fromhex(private_key) if isinstance(private_key, str) else bytes(private_key)
    if len(raw) != 32:
        raise ValueError(f"invalid private key length, was {len(raw)}")
    public_key = coincurve.PrivateKey(raw).public_key.format(compressed=True)
    return SandboxKey(raw, public_key, address_from_public_key(public_key))


def key_from_mnemonic(phrase: str, index: int = 0) -> SandboxKey:
    """
    Return the key at `m/44'/118'/0'/0/{index}` of a BIP-39 mnemonic (empty passphrase).

    Parameters
    ----------
    phrase : str
        The mnemonic words.
    index : int, default 0
        The address index.

    Returns
    -------
    SandboxKey

    """
    normalized = " ".join(phrase.split())
    seed = Mnemonic.to_seed(normalized, passphrase="")
    node = BIP32.from_seed(seed)
    return key_from_private_key(node.get_privkey_from_path(COSMOS_PATH.format(index=index)))


def key_from_seed(seed: int, index: int) -> SandboxKey:
    """
    Return a deterministic test key for a sandbox seed and account index.

    Parameters
    ----------
    seed : int
        The sandbox seed.
    index : int
        The account index.

    Returns
    -------
    SandboxKey

    """
    counter = 0
    while counter < 256:
        material = hashlib.sha256(f"sandbox-key:{seed}:{index}:{counter}".encode()).digest()
        scalar = int.from_bytes(material, "big")
        if 0 < scalar < SECP256K1_ORDER:
            return key_from_private_key(material)
        counter += 1
    raise ValueError(f"no valid key for seed, was {seed!r}")


def verify_signature(public_key: bytes, digest: bytes, signature: bytes) -> bool:
    """
    Return whether a 64-byte compact low-S signature over `digest` is valid for `public_key`.

    Parameters
    ----------
    public_key : bytes
        The 33-byte compressed public key.
    digest : bytes
        The 32-byte message digest.
    signature : bytes
        The signature `r||s`, 32 bytes each, big-endian.

    Returns
    -------
    bool

    """
    if len(signature) != 64 or len(digest) != 32:
        return False
    r = int.from_bytes(signature[:32], "big")
    s = int.from_bytes(signature[32:], "big")
    if not (0 < r < SECP256K1_ORDER) or not (0 < s <= SECP256K1_HALF_ORDER):
        return False
    try:
        key = coincurve.PublicKey(public_key)
        der = coincurve.ecdsa.cdata_to_der(coincurve.ecdsa.deserialize_compact(signature))
        return key.verify(der, digest, hasher=None)
    except Exception:
        return False
