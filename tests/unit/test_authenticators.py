# SPDX-License-Identifier: Apache-2.0
"""Permissioned keys: TxExtension encoding, authenticator data, wallet, selection and config."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import pickle

import coincurve
import pytest

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.grpc.authenticators import AuthenticatorError
from nautilus_dydx.grpc.authenticators import PermissionedWallet
from nautilus_dydx.grpc.authenticators import add_authenticator_message
from nautilus_dydx.grpc.authenticators import all_of
from nautilus_dydx.grpc.authenticators import any_of
from nautilus_dydx.grpc.authenticators import clob_pair_id_filter
from nautilus_dydx.grpc.authenticators import message_filter
from nautilus_dydx.grpc.authenticators import remove_authenticator_message
from nautilus_dydx.grpc.authenticators import select_authenticator
from nautilus_dydx.grpc.authenticators import signature_verification
from nautilus_dydx.grpc.authenticators import subaccount_filter
from nautilus_dydx.grpc.authenticators import trading_key_authenticator
from nautilus_dydx.grpc.authenticators import verifies_key
from nautilus_dydx.grpc.types import AuthenticatorInfo
from nautilus_dydx.wallet import Wallet


# Protocol reference §9.1 test vectors: K1 owns the account, K2 is the trading key
K1_PRIVATE_KEY = "0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe"
K1_ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K2_PRIVATE_KEY = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
K2_ADDRESS = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"
CHAIN_ID = "dydx-testnet-4"
ACCOUNT_NUMBER = 12345
EXTENSION_URL = "/dydxprotocol.accountplus.TxExtension"
PLACE_ANY = any_pb2.Any(type_url="/dydxprotocol.clob.MsgPlaceOrder", value=b"\x0a\x00")
CANCEL_ANY = any_pb2.Any(type_url="/dydxprotocol.clob.MsgCancelOrder", value=b"\x0a\x00")


def _key_public(private_key_hex: str) -> bytes:
    return coincurve.PrivateKey(bytes.fromhex(private_key_hex)).public_key.format()


def _permissioned(authenticator_id: int = 3) -> PermissionedWallet:
    key = Wallet.from_private_key(K2_PRIVATE_KEY)
    return PermissionedWallet(key, K1_ADDRESS, authenticator_id)


def _decode(tx: bytes) -> tuple[tx_pb2.TxRaw, tx_pb2.TxBody, tx_pb2.AuthInfo]:
    raw = tx_pb2.TxRaw.FromString(tx)
    return raw, tx_pb2.TxBody.FromString(raw.body_bytes), tx_pb2.AuthInfo.FromString(
        raw.auth_info_bytes,
    )


def _selected(body: tx_pb2.TxBody) -> list[int]:
    (option,) = body.non_critical_extension_options
    assert option.type_url == EXTENSION_URL
    return list(accountplus_tx_pb2.TxExtension.FromString(option.value).selected_authenticators)


def test_permissioned_tx_carries_the_extension_in_field_2047_and_the_trading_key() -> None:
    # Arrange
    signer = _permissioned(3).signer(CHAIN_ID, ACCOUNT_NUMBER)

    # Act
    tx = signer.sign_tx(PLACE_ANY.SerializeToString(), 0)

    # Assert
    raw, body, auth = _decode(tx)
    assert tx_pb2.TxBody.DESCRIPTOR.fields_by_name["non_critical_extension_options"].number == 2047
    # Tag of field 2047, wire type 2, as a varint: (2047 << 3) | 2 = 0x3ffa
    assert b"\xfa\x7f" in raw.body_bytes
    assert _selected(body) == [3]
    assert [m.type_url for m in body.messages] == [PLACE_ANY.type_url]
    key = keys_pb2.PubKey.FromString(auth.signer_infos[0].public_key.value).key
    assert key == _key_public(K2_PRIVATE_KEY)
    sign_doc = tx_pb2.SignDoc(
        body_bytes=raw.body_bytes, auth_info_bytes=raw.auth_info_bytes, chain_id=CHAIN_ID,
        account_number=ACCOUNT_NUMBER,
    )
    digest = hashlib.sha256(sign_doc.SerializeToString()).digest()
    public = coincurve.PublicKey(_key_public(K2_PRIVATE_KEY))
    der = coincurve.ecdsa.cdata_to_der(coincurve.ecdsa.deserialize_compact(raw.signatures[0]))
    assert public.verify(der, digest, hasher=None)


def test_every_message_of_a_stateful_tx_selects_the_authenticator() -> None:
    signer = _permissioned(7).signer(CHAIN_ID, ACCOUNT_NUMBER)

    tx = signer.sign_tx([CANCEL_ANY.SerializeToString(), PLACE_ANY.SerializeToString()], 11)

    _, body, auth = _decode(tx)
    assert _selected(body) == [7, 7]
    assert auth.signer_infos[0].sequence == 11


def test_plain_wallet_tx_has_no_extension() -> None:
    signer = Wallet.from_private_key(K1_PRIVATE_KEY).signer(CHAIN_ID, ACCOUNT_NUMBER)

    _, body, _ = _decode(signer.sign_tx(PLACE_ANY.SerializeToString(), 0))

    assert len(body.non_critical_extension_options) == 0


def test_permissioned_wallet_is_the_owner_with_the_trading_key_and_hides_the_secret() -> None:
    wallet = _permissioned(3)

    assert wallet.address == K1_ADDRESS
    assert wallet.key_address == K2_ADDRESS
    assert wallet.public_key == _key_public(K2_PRIVATE_KEY)
    for text in (repr(wallet), str(wallet), repr(wallet.signer(CHAIN_ID, 1))):
        assert K2_PRIVATE_KEY not in text
        assert "<redacted>" in text or "PermissionedSigner" in text
    with pytest.raises(TypeError):
        pickle.dumps(wallet)
    with pytest.raises(AuthenticatorError):
        PermissionedWallet(Wallet.from_private_key(K2_PRIVATE_KEY), K1_ADDRESS, -1)
    with pytest.raises(ValueError, match="owner_address"):
        PermissionedWallet(Wallet.from_private_key(K2_PRIVATE_KEY), "dydx1bad", 1)


def test_trading_key_authenticator_is_an_all_of_with_base64_configs() -> None:
    key = _key_public(K2_PRIVATE_KEY)

    spec = trading_key_authenticator(key, subaccounts=[0], clob_pair_ids=[0, 1])

    assert spec.type == "AllOf"
    entries = json.loads(spec.config)
    assert [(e["type"], base64.b64decode(e["config"])) for e in entries] == [
        ("SignatureVerification", key),
        ("MessageFilter", (
            b"/dydxprotocol.clob.MsgPlaceOrder,/dydxprotocol.clob.MsgCancelOrder,"
            b"/dydxprotocol.clob.MsgBatchCancel"
        )),
        ("SubaccountFilter", b"0"),
        ("ClobPairIdFilter", b"0,1"),
    ]
    assert trading_key_authenticator(key, message_types=None) == signature_verification(key)


def test_add_and_remove_messages_decode_with_the_generated_classes() -> None:
    key = _key_public(K2_PRIVATE_KEY)
    spec = any_of(signature_verification(key), all_of(
        signature_verification(_key_public(K1_PRIVATE_KEY)), message_filter("/a.B"),
    ))

    added = any_pb2.Any.FromString(add_authenticator_message(K1_ADDRESS, spec))
    removed = any_pb2.Any.FromString(remove_authenticator_message(K1_ADDRESS, 9))

    assert added.type_url == "/dydxprotocol.accountplus.MsgAddAuthenticator"
    message = accountplus_tx_pb2.MsgAddAuthenticator.FromString(added.value)
    assert (message.sender, message.authenticator_type, message.data) == (
        K1_ADDRESS, "AnyOf", spec.config,
    )
    assert removed.type_url == "/dydxprotocol.accountplus.MsgRemoveAuthenticator"
    assert accountplus_tx_pb2.MsgRemoveAuthenticator.FromString(removed.value).id == 9
    assert verifies_key(spec.type, spec.config, key)
    assert verifies_key(spec.type, spec.config, _key_public(K1_PRIVATE_KEY))
    assert not verifies_key(spec.type, spec.config, b"\x02" * 33)
    assert not verifies_key("MessageFilter", b"/a.B", key)
    assert not verifies_key("AllOf", b"not json", key)


@pytest.mark.parametrize(
    "build",
    [
        lambda: signature_verification(b"\x02" * 32),
        lambda: message_filter(),
        lambda: message_filter("dydxprotocol.clob.MsgPlaceOrder"),
        lambda: subaccount_filter(),
        lambda: subaccount_filter(-1),
        lambda: clob_pair_id_filter(True),
        lambda: clob_pair_id_filter(1 << 32),
        lambda: all_of(subaccount_filter(0)),
        lambda: any_of(*[signature_verification(b"\x02" * 33)] * 20),  # Over 1024 bytes
        lambda: add_authenticator_message("dydx1bad", subaccount_filter(0)),
    ],
)
def test_invalid_authenticators_raise_clear_errors(build) -> None:
    with pytest.raises(ValueError):
        build()


class _FakeNode:
    def __init__(self, registered: list[AuthenticatorInfo]) -> None:
        self.registered = registered
        self.asked: list[str] = []

    async def get_authenticators(self, address: str) -> list[AuthenticatorInfo]:
        self.asked.append(address)
        return self.registered


def test_selection_takes_the_first_configured_id_that_verifies_the_key() -> None:
    key = _key_public(K2_PRIVATE_KEY)
    other = _key_public(K1_PRIVATE_KEY)
    scoped = trading_key_authenticator(key)
    node = _FakeNode([
        AuthenticatorInfo(1, "SignatureVerification", other),
        AuthenticatorInfo(4, scoped.type, scoped.config),
        AuthenticatorInfo(6, "SignatureVerification", key),
    ])

    selected = asyncio.run(select_authenticator(node, K1_ADDRESS, key, [9, 1, 6, 4]))

    assert selected == 6
    assert node.asked == [K1_ADDRESS]
    with pytest.raises(AuthenticatorError, match=r"none of the authenticator ids \[1, 9\]"):
        asyncio.run(select_authenticator(node, K1_ADDRESS, key, [1, 9]))


def test_config_with_authenticator_ids_needs_the_owner_address() -> None:
    config = DYDXExecClientConfig(
        network="sandbox", private_key=K2_PRIVATE_KEY, wallet_address=K1_ADDRESS,
        authenticator_ids=[2, 0],
    )
    assert config.authenticator_ids == [2, 0]
    assert K2_PRIVATE_KEY not in repr(config)
    with pytest.raises(ValueError, match="wallet_address"):
        DYDXExecClientConfig(
            network="sandbox", private_key=K2_PRIVATE_KEY, authenticator_ids=[0],
        )
    for bad in ([], [-1], [True], ["1"], 3):
        with pytest.raises(ValueError, match="authenticator_ids"):
            DYDXExecClientConfig(
                network="sandbox", private_key=K2_PRIVATE_KEY, wallet_address=K1_ADDRESS,
                authenticator_ids=bad,
            )


def test_permissioned_tx_parses_with_the_official_v4_proto_classes() -> None:
    # The official v4-proto package is an independent oracle of the field numbers
    from v4_proto.cosmos.tx.v1beta1 import tx_pb2 as official_tx_pb2
    from v4_proto.dydxprotocol.accountplus import tx_pb2 as official_accountplus_pb2

    signer = _permissioned(12).signer(CHAIN_ID, ACCOUNT_NUMBER)
    tx = signer.sign_tx([PLACE_ANY.SerializeToString()] * 3, 4)

    raw = official_tx_pb2.TxRaw.FromString(tx)
    body = official_tx_pb2.TxBody.FromString(raw.body_bytes)
    (option,) = body.non_critical_extension_options
    extension = official_accountplus_pb2.TxExtension.FromString(option.value)
    assert list(extension.selected_authenticators) == [12, 12, 12]
    assert len(body.extension_options) == 0
