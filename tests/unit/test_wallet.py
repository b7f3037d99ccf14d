# SPDX-License-Identifier: Apache-2.0
"""Tests of wallet derivation, address checks and secret redaction (§7, §9.1 vectors)."""

from __future__ import annotations

import asyncio
import hashlib
import pickle

import ecdsa
import pytest

from nautilus_dydx.wallet import Wallet
from nautilus_dydx.wallet import WalletError
from nautilus_dydx.wallet import address_from_public_key


K1 = {
    "mnemonic": (
        "mandate glove carry despair area gloom sting round toddler deal face vague receive "
        "shallow confirm south green cup rain drill monkey method tongue fence"
    ),
    "private": "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe",
    "public": "0291d1d9fd23334f3d53c3a5b50b56317d8964692320d73d22d7a0b115d5eb574f",
    "address": "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy",
}
K2 = {
    "mnemonic": (
        "mirror actor skill push coach wait confirm orchard lunch mobile athlete gossip awake "
        "miracle matter bus reopen team ladder lazy list timber render wait"
    ),
    "private": "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77",
    "public": "03f0be763f781b5b59ebc37d721beda913148a539425baa720b97d4820f652ed75",
    "address": "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art",
}
VECTORS = pytest.mark.parametrize("vector", [K1, K2], ids=["K1", "K2"])


def _secrets(vector: dict) -> list[str]:
    words = vector["mnemonic"].split()
    # The full phrase, any three consecutive words of it, and the key in hex
    return [vector["mnemonic"], vector["private"], vector["private"].upper()] + [
        " ".join(words[i : i + 3]) for i in range(len(words) - 2)
    ]


def _assert_no_secret(text: str, vector: dict) -> None:
    for secret in _secrets(vector):
        assert secret not in text


@VECTORS
def test_from_mnemonic_derives_vector(vector) -> None:
    wallet = Wallet.from_mnemonic(vector["mnemonic"])
    assert wallet.public_key.hex() == vector["public"]
    assert wallet.address == vector["address"]
    assert wallet.signer("c", 1).public_key.hex() == vector["public"]


@VECTORS
def test_from_private_key_derives_vector(vector) -> None:
    assert Wallet.from_private_key(vector["private"]).address == vector["address"]
    assert Wallet.from_private_key("0x" + vector["private"].upper()).address == vector["address"]


def test_address_from_public_key_intermediate_hashes() -> None:
    public = bytes.fromhex(K1["public"])
    assert hashlib.sha256(public).hexdigest() == (
        "b9e54acd8bf80bcf46f3c3d2989d530d4f213208dbdc1ccdfd8c8d9a76609e91"
    )
    assert address_from_public_key(public) == K1["address"]


def test_mnemonic_is_normalised() -> None:
    messy = "  " + K1["mnemonic"].replace(" ", "   ") + "\n"
    assert Wallet.from_mnemonic(messy).address == K1["address"]


@VECTORS
def test_matching_configured_address_is_accepted(vector) -> None:
    assert Wallet.from_mnemonic(vector["mnemonic"], address=vector["address"]) is not None


@VECTORS
def test_mismatched_configured_address_is_a_clear_error_without_secrets(vector) -> None:
    other = K2 if vector is K1 else K1
    with pytest.raises(WalletError, match="does not match") as info:
        Wallet.from_mnemonic(vector["mnemonic"], address=other["address"])
    _assert_no_secret(str(info.value) + repr(info.value), vector)
    assert info.value.__cause__ is None


@VECTORS
def test_repr_and_str_never_show_secrets(vector) -> None:
    wallet = Wallet.from_mnemonic(vector["mnemonic"])
    signer = wallet.signer("dydx-testnet-4", 1)
    for text in (repr(wallet), str(wallet), repr(signer), str(signer), f"{wallet}"):
        _assert_no_secret(text, vector)
    assert vector["address"] in repr(wallet)
    with pytest.raises(TypeError):
        pickle.dumps(wallet)
    assert vector["private"] not in repr(vars(type(wallet)))


@VECTORS
def test_invalid_secrets_raise_without_echoing_them(vector) -> None:
    # A tampered phrase (bad checksum) and a truncated key
    words = vector["mnemonic"].split()
    tampered = " ".join([words[1], *words[1:]])
    cases = [
        (Wallet.from_mnemonic, tampered),
        (Wallet.from_private_key, vector["private"][:-2]),
        (Wallet.from_private_key, "zz" + vector["private"][2:]),
    ]
    for factory, secret in cases:
        with pytest.raises(WalletError) as info:
            factory(secret)
        text = str(info.value) + repr(info.value) + repr(info.value.args)
        _assert_no_secret(text, vector)
        assert secret not in text
        # No chained library exception (whose text might quote the input) is shown
        assert info.value.__cause__ is None
        assert info.value.__context__ is None or info.value.__suppress_context__


def test_zero_private_key_is_refused() -> None:
    with pytest.raises(WalletError, match="private key"):
        Wallet.from_private_key("00" * 32)


@VECTORS
def test_async_create_derives_in_executor(vector) -> None:
    async def main() -> tuple[Wallet, Wallet]:
        a = await Wallet.create(mnemonic=vector["mnemonic"], address=vector["address"])
        b = await Wallet.create(private_key_hex=vector["private"])
        return a, b

    a, b = asyncio.run(main())
    assert a == b and a.address == vector["address"]


def test_async_create_requires_exactly_one_secret() -> None:
    with pytest.raises(WalletError, match="exactly one"):
        asyncio.run(Wallet.create())


def test_signer_signature_verifies_with_ecdsa() -> None:
    wallet = Wallet.from_mnemonic(K2["mnemonic"])
    digest = hashlib.sha256(b"payload").digest()
    signature = wallet.signer("c", 1).sign_digest(digest)
    vk = ecdsa.VerifyingKey.from_string(wallet.public_key, curve=ecdsa.SECP256k1)
    assert vk.verify_digest(signature, digest)


def test_async_create_does_not_derive_on_the_loop_thread(monkeypatch) -> None:
    import threading

    from nautilus_dydx import wallet as wallet_module

    threads: list[int] = []
    original = wallet_module._private_key_from_mnemonic

    def recording(mnemonic: str, index: int) -> bytes:
        threads.append(threading.get_ident())
        return original(mnemonic, index)

    monkeypatch.setattr(wallet_module, "_private_key_from_mnemonic", recording)

    async def main() -> int:
        await Wallet.create(mnemonic=K1["mnemonic"])
        return threading.get_ident()

    loop_thread = asyncio.run(main())
    assert threads and threads[0] != loop_thread
