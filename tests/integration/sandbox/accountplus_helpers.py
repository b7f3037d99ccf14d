# SPDX-License-Identifier: Apache-2.0
"""Test helpers for permissioned keys: authenticator data and txs with a TxExtension."""

from __future__ import annotations

import base64
import hashlib
import json

import coincurve

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx._proto.google.protobuf import any_pb2
from tests.integration.sandbox.helpers import CHAIN_ID


URL_ADD = "/dydxprotocol.accountplus.MsgAddAuthenticator"
URL_REMOVE = "/dydxprotocol.accountplus.MsgRemoveAuthenticator"
URL_EXTENSION = "/dydxprotocol.accountplus.TxExtension"
# A trading key that belongs to no account (its address is never funded)
TRADER_PRIVATE_KEY = "1f" * 32
OTHER_PRIVATE_KEY = "2e" * 32


def public_key(private_key_hex: str) -> bytes:
    return coincurve.PrivateKey(bytes.fromhex(private_key_hex)).public_key.format()


def composite(kind: str, entries: list[tuple[str, bytes]]) -> tuple[str, bytes]:
    # Written by hand from the chain's SubAuthenticatorInitData JSON: {"type", "config"(base64)}
    data = json.dumps(
        [{"type": t, "config": base64.b64encode(c).decode()} for t, c in entries],
    ).encode()
    return kind, data


def add_authenticator(sender: str, kind: str, data: bytes):
    return URL_ADD, accountplus_tx_pb2.MsgAddAuthenticator(
        sender=sender, authenticator_type=kind, data=data,
    )


def remove_authenticator(sender: str, authenticator_id: int):
    return URL_REMOVE, accountplus_tx_pb2.MsgRemoveAuthenticator(
        sender=sender, id=authenticator_id,
    )


def sign_permissioned(
    private_key_hex: str,
    account_number: int,
    messages: list[tuple[str, object]],
    selected: list[int] | None,
    sequence: int = 0,
    chain_id: str = CHAIN_ID,
) -> bytes:
    """Sign the owner's messages with another key, selecting authenticators per message."""
    body = tx_pb2.TxBody(
        messages=[any_pb2.Any(type_url=u, value=m.SerializeToString()) for u, m in messages],
    )
    if selected is not None:
        extension = accountplus_tx_pb2.TxExtension(selected_authenticators=selected)
        body.non_critical_extension_options.append(
            any_pb2.Any(type_url=URL_EXTENSION, value=extension.SerializeToString()),
        )
    signer_info = tx_pb2.SignerInfo(
        public_key=any_pb2.Any(
            type_url="/cosmos.crypto.secp256k1.PubKey",
            value=keys_pb2.PubKey(key=public_key(private_key_hex)).SerializeToString(),
        ),
        mode_info=tx_pb2.ModeInfo(single=tx_pb2.ModeInfo.Single(mode=1)),
        sequence=sequence,
    )
    auth = tx_pb2.AuthInfo(signer_infos=[signer_info], fee=tx_pb2.Fee(gas_limit=1_000_000))
    body_bytes = body.SerializeToString()
    auth_bytes = auth.SerializeToString()
    sign_doc = tx_pb2.SignDoc(
        body_bytes=body_bytes,
        auth_info_bytes=auth_bytes,
        chain_id=chain_id,
        account_number=account_number,
    )
    digest = hashlib.sha256(sign_doc.SerializeToString()).digest()
    signature = coincurve.PrivateKey(bytes.fromhex(private_key_hex)).sign_recoverable(
        digest, hasher=None,
    )[:64]
    return tx_pb2.TxRaw(
        body_bytes=body_bytes, auth_info_bytes=auth_bytes, signatures=[signature],
    ).SerializeToString()
