# SPDX-License-Identifier: Apache-2.0
"""Pure-Python twin of nautilus_dydx._core.orders: Fractions and generated protobuf classes."""

from __future__ import annotations

import hashlib
import math
from fractions import Fraction

import coincurve

from nautilus_dydx._proto.cosmos.crypto.secp256k1 import keys_pb2
from nautilus_dydx._proto.cosmos.tx.signing.v1beta1 import signing_pb2
from nautilus_dydx._proto.cosmos.tx.v1beta1 import tx_pb2 as cosmos_tx_pb2
from nautilus_dydx._proto.dydxprotocol.accountplus import tx_pb2 as accountplus_tx_pb2
from nautilus_dydx._proto.dydxprotocol.clob import order_pb2
from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.subaccounts import subaccount_pb2


ROUND_EXACT_MODE = 0
ROUND_FLOOR_MODE = 1
ROUND_CEIL_MODE = 2

ORDER_FLAGS_SHORT_TERM = 0
ORDER_FLAGS_CONDITIONAL = 32
ORDER_FLAGS_LONG_TERM = 64

TYPE_URL_PLACE_ORDER = "/dydxprotocol.clob.MsgPlaceOrder"
TYPE_URL_CANCEL_ORDER = "/dydxprotocol.clob.MsgCancelOrder"
TYPE_URL_BATCH_CANCEL = "/dydxprotocol.clob.MsgBatchCancel"
TYPE_URL_PUBKEY = "/cosmos.crypto.secp256k1.PubKey"
TYPE_URL_TX_EXTENSION = "/dydxprotocol.accountplus.TxExtension"

FIXED_PRECISION = 16
UINT64_MAX = (1 << 64) - 1
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141


def _fmt(value: Fraction) -> str:
    sign = "-" if value < 0 else ""
    value = abs(value)
    whole = value.numerator // value.denominator
    frac = value - whole
    if frac == 0:
        return f"{sign}{whole}"
    digits = ""
    while frac and len(digits) < 40:
        frac *= 10
        digit = frac.numerator // frac.denominator
        digits += str(digit)
        frac -= digit
    return f"{sign}{whole}.{digits}"


def _round(value: Fraction, rounding: int) -> int:
    if rounding == ROUND_FLOOR_MODE:
        return math.floor(value)
    if rounding == ROUND_CEIL_MODE:
        return math.ceil(value)
    if rounding == ROUND_EXACT_MODE:
        return value.numerator if value.denominator == 1 else -1
    raise ValueError(f"invalid rounding, was {rounding}")


class MarketEncoder:
    """
    Reference market encoder: Fraction quantization and generated protobuf messages.
    """

    def __init__(
        self,
        owner: str,
        subaccount_number: int,
        clob_pair_id: int,
        atomic_resolution: int,
        quantum_conversion_exponent: int,
        step_base_quantums: int,
        subticks_per_tick: int,
    ) -> None:
        if step_base_quantums <= 0 or subticks_per_tick <= 0:
            raise ValueError("invalid step_base_quantums or subticks_per_tick")
        self.owner = owner
        self.subaccount_number = subaccount_number
        self.clob_pair_id = clob_pair_id
        self.atomic_resolution = atomic_resolution
        self.quantum_conversion_exponent = quantum_conversion_exponent
        self.step_base_quantums = step_base_quantums
        self.subticks_per_tick = subticks_per_tick
        a, q = atomic_resolution, quantum_conversion_exponent
        # price = subticks * 10**(Q - 6 - A); size = quantums * 10**A
        self._subtick = Fraction(10) ** (q - 6 - a)
        self._quantum = Fraction(10) ** a
        self.tick_size = subticks_per_tick * self._subtick
        self.step_size = step_base_quantums * self._quantum
        tick_raw = self.tick_size * 10**FIXED_PRECISION
        step_raw = self.step_size * 10**FIXED_PRECISION
        if tick_raw.denominator != 1 or step_raw.denominator != 1:
            raise ValueError("invalid market (tick or step beyond FIXED_PRECISION decimals)")
        self.tick_size_raw = tick_raw.numerator
        self.step_size_raw = step_raw.numerator

    def _subaccount(self) -> subaccount_pb2.SubaccountId:
        return subaccount_pb2.SubaccountId(owner=self.owner, number=self.subaccount_number)

    def subticks(self, price_raw: int, rounding: int = ROUND_EXACT_MODE) -> int:
        price = Fraction(price_raw, 10**FIXED_PRECISION)
        if price <= 0:
            raise ValueError(f"invalid price (not positive), was {_fmt(price)}")
        ticks = _round(price / self.tick_size, rounding)
        if ticks < 0:
            raise ValueError(
                f"invalid price (not a multiple of the tick size {_fmt(self.tick_size)}), "
                f"was {_fmt(price)}",
            )
        if ticks == 0:
            raise ValueError(f"invalid price (below one tick of {_fmt(self.tick_size)})")
        subticks = ticks * self.subticks_per_tick
        if subticks > UINT64_MAX:
            raise ValueError(f"invalid price (subticks overflow uint64), was {_fmt(price)}")
        return subticks

    def quantums(self, size_raw: int, rounding: int = ROUND_EXACT_MODE) -> int:
        size = Fraction(size_raw, 10**FIXED_PRECISION)
        if size <= 0:
            raise ValueError(f"invalid size (not positive), was {_fmt(size)}")
        steps = _round(size / self.step_size, rounding)
        if steps < 0:
            raise ValueError(
                f"invalid size (not a multiple of the step size {_fmt(self.step_size)}), "
                f"was {_fmt(size)}",
            )
        if steps == 0:
            raise ValueError(f"invalid size (below one step of {_fmt(self.step_size)})")
        quantums = steps * self.step_base_quantums
        if quantums > UINT64_MAX:
            raise ValueError(f"invalid size (quantums overflow uint64), was {_fmt(size)}")
        return quantums

    def price_raw_from_subticks(self, subticks: int) -> int:
        raw = subticks * self._subtick * 10**FIXED_PRECISION
        if subticks < 0 or subticks > UINT64_MAX or raw.denominator != 1:
            raise ValueError(f"invalid subticks, was {subticks}")
        return raw.numerator

    def size_raw_from_quantums(self, quantums: int) -> int:
        raw = quantums * self._quantum * 10**FIXED_PRECISION
        if quantums < 0 or quantums > UINT64_MAX or raw.denominator != 1:
            raise ValueError(f"invalid quantums, was {quantums}")
        return raw.numerator

    def quote_quantums(self, subticks: int, quantums: int) -> int:
        return math.floor(subticks * quantums * Fraction(10) ** self.quantum_conversion_exponent)

    def order_id(self, client_id: int, order_flags: int) -> order_pb2.OrderId:
        return order_pb2.OrderId(
            subaccount_id=self._subaccount(),
            client_id=client_id,
            order_flags=order_flags,
            clob_pair_id=self.clob_pair_id,
        )

    def encode_order_id(self, client_id: int, order_flags: int) -> bytes:
        return self.order_id(client_id, order_flags).SerializeToString()

    def order(
        self,
        client_id: int,
        order_flags: int,
        side: int,
        quantums: int,
        subticks: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
        time_in_force: int = 0,
        reduce_only: bool = False,
        client_metadata: int = 0,
        condition_type: int = 0,
        conditional_order_trigger_subticks: int = 0,
    ) -> order_pb2.Order:
        order = order_pb2.Order(
            order_id=self.order_id(client_id, order_flags),
            side=side,
            quantums=quantums,
            subticks=subticks,
            time_in_force=time_in_force,
            reduce_only=reduce_only,
            client_metadata=client_metadata,
            condition_type=condition_type,
            conditional_order_trigger_subticks=conditional_order_trigger_subticks,
        )
        if good_til_block_time:
            order.good_til_block_time = good_til_block_time
        elif good_til_block:
            order.good_til_block = good_til_block
        return order

    def encode_order(self, *args: object, **kwargs: object) -> bytes:
        return self.order(*args, **kwargs).SerializeToString()

    def encode_place_order(self, *args: object, **kwargs: object) -> bytes:
        return clob_tx_pb2.MsgPlaceOrder(order=self.order(*args, **kwargs)).SerializeToString()

    def place_order_any(self, *args: object, **kwargs: object) -> bytes:
        return encode_any(TYPE_URL_PLACE_ORDER, self.encode_place_order(*args, **kwargs))

    def encode_cancel_order(
        self,
        client_id: int,
        order_flags: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
    ) -> bytes:
        msg = clob_tx_pb2.MsgCancelOrder(order_id=self.order_id(client_id, order_flags))
        if good_til_block_time:
            msg.good_til_block_time = good_til_block_time
        elif good_til_block:
            msg.good_til_block = good_til_block
        return msg.SerializeToString()

    def cancel_order_any(self, *args: object, **kwargs: object) -> bytes:
        return encode_any(TYPE_URL_CANCEL_ORDER, self.encode_cancel_order(*args, **kwargs))

    def encode_batch_cancel(self, batches: list, good_til_block: int) -> bytes:
        msg = clob_tx_pb2.MsgBatchCancel(
            subaccount_id=self._subaccount(),
            short_term_cancels=[
                clob_tx_pb2.OrderBatch(clob_pair_id=clob, client_ids=ids) for clob, ids in batches
            ],
            good_til_block=good_til_block,
        )
        return msg.SerializeToString()

    def batch_cancel_any(self, batches: list, good_til_block: int) -> bytes:
        return encode_any(TYPE_URL_BATCH_CANCEL, self.encode_batch_cancel(batches, good_til_block))


def encode_any(type_url: str, value: bytes) -> bytes:
    body = cosmos_tx_pb2.TxBody()
    return body.messages.add(type_url=type_url, value=value).SerializeToString()


def tx_body(
    messages: bytes | list[bytes],
    memo: str = "",
    timeout_height: int = 0,
    authenticators: list[int] | None = None,
) -> cosmos_tx_pb2.TxBody:
    body = cosmos_tx_pb2.TxBody(memo=memo, timeout_height=timeout_height)
    for raw in [messages] if isinstance(messages, bytes) else messages:
        body.messages.add().ParseFromString(raw)
    if authenticators is not None:
        ext = accountplus_tx_pb2.TxExtension(selected_authenticators=authenticators)
        body.non_critical_extension_options.add(
            type_url=TYPE_URL_TX_EXTENSION,
            value=ext.SerializeToString(),
        )
    return body


def encode_tx_body(*args: object, **kwargs: object) -> bytes:
    return tx_body(*args, **kwargs).SerializeToString()


def auth_info(
    public_key: bytes,
    sequence: int,
    gas_limit: int,
    fee_amount: list | None = None,
) -> cosmos_tx_pb2.AuthInfo:
    info = cosmos_tx_pb2.AuthInfo()
    signer = info.signer_infos.add(sequence=sequence)
    signer.public_key.type_url = TYPE_URL_PUBKEY
    signer.public_key.value = keys_pb2.PubKey(key=public_key).SerializeToString()
    signer.mode_info.single.mode = signing_pb2.SIGN_MODE_DIRECT
    info.fee.gas_limit = gas_limit
    for denom, amount in fee_amount or []:
        info.fee.amount.add(denom=denom, amount=str(amount))
    return info


def encode_auth_info(*args: object, **kwargs: object) -> bytes:
    return auth_info(*args, **kwargs).SerializeToString()


def encode_sign_doc(
    body_bytes: bytes,
    auth_info_bytes: bytes,
    chain_id: str,
    account_number: int,
) -> bytes:
    return cosmos_tx_pb2.SignDoc(
        body_bytes=body_bytes,
        auth_info_bytes=auth_info_bytes,
        chain_id=chain_id,
        account_number=account_number,
    ).SerializeToString()


def encode_tx_raw(body_bytes: bytes, auth_info_bytes: bytes, signatures: list[bytes]) -> bytes:
    return cosmos_tx_pb2.TxRaw(
        body_bytes=body_bytes,
        auth_info_bytes=auth_info_bytes,
        signatures=signatures,
    ).SerializeToString()


def tx_hash(tx_raw: bytes) -> str:
    return hashlib.sha256(tx_raw).hexdigest().upper()


def _der_to_compact(der: bytes) -> bytes:
    # SEQUENCE { INTEGER r, INTEGER s } with short-form lengths (secp256k1 signatures fit)
    if der[0] != 0x30 or der[2] != 0x02:
        raise ValueError("invalid DER signature")
    r_len = der[3]
    r = int.from_bytes(der[4 : 4 + r_len], "big")
    pos = 4 + r_len
    if der[pos] != 0x02:
        raise ValueError("invalid DER signature")
    s_len = der[pos + 1]
    s = int.from_bytes(der[pos + 2 : pos + 2 + s_len], "big")
    if s > SECP256K1_N // 2:
        s = SECP256K1_N - s
    return r.to_bytes(32, "big") + s.to_bytes(32, "big")


class TxSigner:
    """
    Reference signer: coincurve DER signatures converted to low-S compact form.
    """

    def __init__(
        self,
        private_key: bytes,
        chain_id: str,
        account_number: int,
        gas_limit: int = 1_000_000,
        fee_amount: list | None = None,
    ) -> None:
        self._key = coincurve.PrivateKey(private_key)
        self.public_key = self._key.public_key.format(compressed=True)
        self.chain_id = chain_id
        self.account_number = account_number
        self.gas_limit = gas_limit
        self._fee_amount = fee_amount

    def __repr__(self) -> str:
        return f"TxSigner(public_key={self.public_key.hex()})"

    def auth_info(self, sequence: int) -> bytes:
        return encode_auth_info(self.public_key, sequence, self.gas_limit, self._fee_amount)

    def sign_digest(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise ValueError("invalid digest (expected 32 bytes)")
        return _der_to_compact(self._key.sign(digest, hasher=None))

    def sign_tx(
        self,
        messages: bytes | list[bytes],
        sequence: int,
        memo: str = "",
        timeout_height: int = 0,
        authenticators: list[int] | None = None,
    ) -> bytes:
        body = encode_tx_body(messages, memo, timeout_height, authenticators)
        auth = self.auth_info(sequence)
        doc = encode_sign_doc(body, auth, self.chain_id, self.account_number)
        signature = self.sign_digest(hashlib.sha256(doc).digest())
        return encode_tx_raw(body, auth, [signature])
