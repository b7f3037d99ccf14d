# SPDX-License-Identifier: Apache-2.0
"""Sandbox key derivation and signature checks against the reference vectors (§9.1, §9.3)."""

from __future__ import annotations

import pytest

from nautilus_dydx.sandbox.keys import SECP256K1_ORDER
from nautilus_dydx.sandbox.keys import is_valid_address
from nautilus_dydx.sandbox.keys import key_from_mnemonic
from nautilus_dydx.sandbox.keys import key_from_private_key
from nautilus_dydx.sandbox.keys import key_from_seed
from nautilus_dydx.sandbox.keys import verify_signature


K1_MNEMONIC = (
    "mandate glove carry despair area gloom sting round toddler deal face vague receive shallow "
    "confirm south green cup rain drill monkey method tongue fence"
)
K2_MNEMONIC = (
    "mirror actor skill push coach wait confirm orchard lunch mobile athlete gossip awake miracle "
    "matter bus reopen team ladder lazy list timber render wait"
)
DIGEST = bytes.fromhex("baea539dda046d9a8c5e5b9622082f5f90ddb80080013b8c9c6cf1130c9d3727")
SIGNATURE = bytes.fromhex(
    "e295324d8b55da4a0d6183680a2ec068a242c5c208f431e49dc33e728184e6ac"
    "14e8b3e7aea10ddb17d767bc0b1e18c6a99708b49b625d5a0aff373b54d515d3"
)


@pytest.mark.parametrize(
    ("mnemonic", "private_key", "public_key", "address"),
    [
        (
            K1_MNEMONIC,
            "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe",
            "0291d1d9fd23334f3d53c3a5b50b56317d8964692320d73d22d7a0b115d5eb574f",
            "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy",
        ),
        (
            K2_MNEMONIC,
            "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
            "03f0be763f781b5b59ebc37d721beda913148a539425baa720b97d4820f652ed75",
            "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art",
        ),
    ],
)
def test_mnemonic_derivation_matches_vectors(
    mnemonic: str, private_key: str, public_key: str, address: str,
) -> None:
    key = key_from_mnemonic("  " + mnemonic.replace(" ", "   ") + " ")
    assert key.private_key.hex() == private_key
    assert key.public_key.hex() == public_key
    assert key.address == address
    assert key_from_private_key(private_key) == key


def test_signature_vector_and_low_s_rule() -> None:
    key = key_from_mnemonic(K1_MNEMONIC)
    assert key.sign_digest(DIGEST) == SIGNATURE
    assert verify_signature(key.public_key, DIGEST, SIGNATURE)
    high_s = SIGNATURE[:32] + (SECP256K1_ORDER - int.from_bytes(SIGNATURE[32:], "big")).to_bytes(
        32, "big",
    )
    assert not verify_signature(key.public_key, DIGEST, high_s)
    assert not verify_signature(key.public_key, bytes(32), SIGNATURE)
    assert not verify_signature(key.public_key, DIGEST, SIGNATURE[:63])


def test_addresses_and_seeded_keys() -> None:
    assert is_valid_address("dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy")
    assert not is_valid_address("dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjz")
    assert not is_valid_address("cosmos1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy")
    assert key_from_seed(1, 0) == key_from_seed(1, 0)
    assert key_from_seed(1, 0) != key_from_seed(1, 1)
    assert key_from_seed(1, 0) != key_from_seed(2, 0)
    with pytest.raises(ValueError):
        key_from_private_key(b"\x01" * 31)
