# SPDX-License-Identifier: Apache-2.0
"""Secrets (mnemonic, private key): a redacting holder, validation, and environment lookup."""

from __future__ import annotations

import os
import re
from typing import Any
from typing import Final

from nautilus_trader.common.config import register_config_encoding


REDACTED: Final[str] = "**********"


class Secret:
    """
    Hold a secret string; `repr`, `str`, pickling and config JSON never reveal it.

    Parameters
    ----------
    value : str
        The secret.

    """

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError(f"secret must be a str, was {type(value).__name__}")
        self._value = value

    def reveal(self) -> str:
        """
        Return the secret itself; call only where it is used (key derivation, signing).
        """
        return self._value

    def __repr__(self) -> str:
        return f"Secret({REDACTED})"

    __str__ = __repr__

    def __format__(self, spec: str) -> str:
        return repr(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash((Secret, self._value))

    def __bool__(self) -> bool:
        return bool(self._value)

    def __copy__(self) -> Secret:
        return self

    def __deepcopy__(self, memo: dict[int, Any]) -> Secret:
        return self

    def __reduce__(self) -> Any:
        raise TypeError("a Secret cannot be pickled")


# Serialized configs carry no secret: the field decodes back as null and is sourced again
register_config_encoding(Secret, lambda secret: None)


_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_MNEMONIC_LENGTHS = (12, 15, 18, 21, 24)

# Environment variable prefix per network (the built-in adapter's names, plus a sandbox twin)
ENV_PREFIX: Final[dict[str, str]] = {
    "mainnet": "DYDX_",
    "testnet": "DYDX_TESTNET_",
    "sandbox": "DYDX_SANDBOX_",
}


def env_value(network: str, name: str) -> str | None:
    """
    Return the environment variable `name` for `network`, e.g. ``DYDX_TESTNET_MNEMONIC``.
    """
    value = os.environ.get(f"{ENV_PREFIX[network]}{name}")
    return value.strip() if value and value.strip() else None


def check_mnemonic(field: str, mnemonic: Secret) -> None:
    """
    Check a BIP-39 English mnemonic; the error names the field, never the words.

    The words are examined in a helper that has returned before the error is raised, so no
    frame of the traceback holds them (tools that print frame locals show only the `Secret`).

    Raises
    ------
    ValueError
        If the word count, a word or the checksum is wrong.

    """
    problem = _mnemonic_problem(mnemonic)
    if problem is not None:
        raise ValueError(f"invalid `{field}`: {problem}")


def _mnemonic_problem(mnemonic: Secret) -> str | None:
    from mnemonic import Mnemonic

    words = mnemonic.reveal().split()
    if len(words) not in _MNEMONIC_LENGTHS:
        return f"expected 12, 15, 18, 21 or 24 words, was {len(words)} words"
    wordlist = Mnemonic("english")
    unknown = sum(1 for w in words if w not in wordlist.wordlist)
    if unknown:
        return f"{unknown} word(s) not in the BIP-39 English list"
    if not wordlist.check(" ".join(words)):
        return "BIP-39 checksum failed"
    return None


def check_private_key(field: str, key: Secret) -> None:
    """
    Check a hex secp256k1 private key; the error names the field, never the key.

    Raises
    ------
    ValueError
        If the key is not 32 bytes of hex or not in the curve's range.

    """
    problem = _private_key_problem(key)
    if problem is not None:
        raise ValueError(f"invalid `{field}`: {problem}")


def _private_key_problem(key: Secret) -> str | None:
    if not _HEX_KEY.fullmatch(key.reveal()):
        return "expected 64 hex characters (32 bytes)"
    if not 0 < int(key.reveal().removeprefix("0x"), 16) < SECP256K1_ORDER:
        return "outside the secp256k1 key range"
    return None


def seal_secret(field: str, value: object) -> Secret | None:
    """
    Return `value` as a `Secret` (``None`` stays ``None``); the error never shows the value.

    Raises
    ------
    ValueError
        If `value` is neither a string nor a `Secret`.

    """
    if value is None or isinstance(value, Secret):
        return value
    if not isinstance(value, str):
        raise ValueError(f"invalid `{field}`: expected a string, was {type(value).__name__}")
    return Secret(value)


SECP256K1_ORDER: Final[int] = int(
    "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141",
    16,
)
