# SPDX-License-Identifier: Apache-2.0
"""Tests of the compiled order encoder and signer against §9 vectors, v4_proto and Fractions."""

from __future__ import annotations

import hashlib
import importlib.machinery
from fractions import Fraction

import ecdsa
import pytest
from ecdsa.util import sigdecode_string
from ecdsa.util import sigencode_string_canonize
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from v4_proto.cosmos.crypto.secp256k1.keys_pb2 import PubKey as V4PubKey
from v4_proto.cosmos.tx.v1beta1 import tx_pb2 as v4_tx
from v4_proto.dydxprotocol.accountplus import tx_pb2 as v4_accountplus
from v4_proto.dydxprotocol.clob import order_pb2 as v4_order
from v4_proto.dydxprotocol.clob import tx_pb2 as v4_clob_tx
from v4_proto.dydxprotocol.subaccounts.subaccount_pb2 import SubaccountId as V4SubaccountId

from nautilus_dydx._core import orders as compiled
from tests.reference import orders as reference


IMPLS = pytest.mark.parametrize("impl", [compiled, reference], ids=["compiled", "reference"])

K1_ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K1_PRIVATE = bytes.fromhex("0a7ff605269ed00853a425beda719da038a11792f6dddf31c087b2988b4dc8fe")
K1_PUBLIC = bytes.fromhex("0291d1d9fd23334f3d53c3a5b50b56317d8964692320d73d22d7a0b115d5eb574f")
K2_PRIVATE = bytes.fromhex("e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77")
SECP256K1_N = 0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFEBAAEDCE6AF48A03BBFD25E8CD0364141
BTC = (-10, -9, 1_000_000, 100_000)
SCALE = 10**16

# §9.2 / §9.3 / §9.5 vectors
ORDER_ID_HEX = (
    "0a2d0a2b6479647831776c646e79746b65727a73333972733238646a6e30703976767165723278326b357838"
    "686a791515cd5b07"
)
ORDER_HEX = (
    "0a340a2d0a2b6479647831776c646e79746b65727a73333972733238646a6e30703976767165723278326b35"
    "7838686a791515cd5b07100118c0a9d33a20809e85b0182894e1eb17"
)
PLACE_HEX = "0a48" + ORDER_HEX
ANY_HEX = (
    "0a202f6479647870726f746f636f6c2e636c6f622e4d7367506c6163654f72646572124a" + PLACE_HEX
)
BODY_HEX = "0a6e" + ANY_HEX
AUTH_HEX = (
    "0a500a460a1f2f636f736d6f732e63727970746f2e736563703235366b312e5075624b657912230a210291d1"
    "d9fd23334f3d53c3a5b50b56317d8964692320d73d22d7a0b115d5eb574f12040a0208011807120410c0843d"
)
PUBKEY_ANY_HEX = (
    "0a1f2f636f736d6f732e63727970746f2e736563703235366b312e5075624b657912230a210291d1d9fd2333"
    "4f3d53c3a5b50b56317d8964692320d73d22d7a0b115d5eb574f"
)
SIGN_DOC_HEX = "0a70" + BODY_HEX + "1258" + AUTH_HEX + "1a0e647964782d746573746e65742d3420b960"
DIGEST_HEX = "baea539dda046d9a8c5e5b9622082f5f90ddb80080013b8c9c6cf1130c9d3727"
SIGNATURE_HEX = (
    "e295324d8b55da4a0d6183680a2ec068a242c5c208f431e49dc33e728184e6ac14e8b3e7aea10ddb17d767bc"
    "0b1e18c6a99708b49b625d5a0aff373b54d515d3"
)
TX_RAW_HEX = "0a70" + BODY_HEX + "1258" + AUTH_HEX + "1a40" + SIGNATURE_HEX
TX_HASH = "67D2AB4E7C3E37305A8814B25A38B33D4F8E51A4410F4F04F49AA51F9E9E38FE"
OWNER_FIELD = (
    "0a2d0a2b6479647831776c646e79746b65727a73333972733238646a6e30703976767165723278326b357838"
    "686a79"
)
CANCEL_SHORT_HEX = "0a34" + OWNER_FIELD + "1515cd5b071094e1eb17"
LONG_TERM_HEX = (
    "0a36" + OWNER_FIELD + "152a000000184010021880ade20420808cee891a3500b955693802"
)
CANCEL_LONG_HEX = "0a36" + OWNER_FIELD + "152a00000018401d00b95569"
CONDITIONAL_HEX = (
    "0a36" + OWNER_FIELD + "1507000000182010021880ade2042080f882ad163500b9556950015880badadc16"
)
BATCH_HEX = OWNER_FIELD + "12071205959aef3a051894e1eb17"


def _btc(impl):
    return impl.MarketEncoder(K1_ADDRESS, 0, 0, *BTC)


def test_core_is_compiled() -> None:
    assert isinstance(compiled.__loader__, importlib.machinery.ExtensionFileLoader)


# -- §9 vectors ----------------------------------------------------------------------------------


@IMPLS
def test_vector_order_messages(impl) -> None:
    # Arrange
    enc = _btc(impl)
    args = (123456789, 0, 1, 123_000_000, 6_543_200_000, 50_000_020)

    # Act, Assert
    assert enc.encode_order_id(123456789, 0).hex() == ORDER_ID_HEX
    assert enc.encode_order(*args).hex() == ORDER_HEX
    assert len(enc.encode_order(*args)) == 72
    assert enc.encode_place_order(*args).hex() == PLACE_HEX
    assert enc.place_order_any(*args).hex() == ANY_HEX


@IMPLS
def test_vector_complete_signed_transaction(impl) -> None:
    # Arrange
    enc = _btc(impl)
    any_msg = enc.place_order_any(123456789, 0, 1, 123_000_000, 6_543_200_000, 50_000_020)
    signer = impl.TxSigner(K1_PRIVATE, "dydx-testnet-4", 12345)

    # Act
    body = impl.encode_tx_body([any_msg])
    auth = impl.encode_auth_info(K1_PUBLIC, 7, 1_000_000)
    doc = impl.encode_sign_doc(body, auth, "dydx-testnet-4", 12345)
    digest = hashlib.sha256(doc).digest()
    signature = signer.sign_digest(digest)
    tx_raw = signer.sign_tx(any_msg, 7)

    # Assert
    assert body.hex() == BODY_HEX and len(body) == 112
    assert impl.encode_any(impl.TYPE_URL_PUBKEY, b"\x0a\x21" + K1_PUBLIC).hex() == PUBKEY_ANY_HEX
    assert auth.hex() == AUTH_HEX and len(auth) == 88
    assert signer.auth_info(7).hex() == AUTH_HEX
    assert signer.public_key == K1_PUBLIC
    assert doc.hex() == SIGN_DOC_HEX and len(doc) == 223
    assert digest.hex() == DIGEST_HEX
    assert signature.hex() == SIGNATURE_HEX
    assert impl.encode_tx_raw(body, auth, [signature]).hex() == TX_RAW_HEX
    assert tx_raw.hex() == TX_RAW_HEX
    assert impl.tx_hash(tx_raw) == TX_HASH


@IMPLS
def test_vector_more_messages(impl) -> None:
    # Arrange
    enc = _btc(impl)

    # Act
    cancel_short = enc.encode_cancel_order(123456789, 0, good_til_block=50_000_020)
    long_term = enc.encode_order(
        42, 64, 2, 10_000_000, 7_000_000_000, good_til_block_time=1767225600, time_in_force=2,
    )
    cancel_long = enc.encode_cancel_order(42, 64, good_til_block_time=1767225600)
    conditional = enc.encode_order(
        7, 32, 2, 10_000_000, 6_000_000_000, good_til_block_time=1767225600,
        condition_type=1, conditional_order_trigger_subticks=6_100_000_000,
    )
    batch = enc.encode_batch_cancel([(0, [123456789, 5])], 50_000_020)

    # Assert
    assert cancel_short.hex() == CANCEL_SHORT_HEX
    assert long_term.hex() == LONG_TERM_HEX
    assert cancel_long.hex() == CANCEL_LONG_HEX
    assert conditional.hex() == CONDITIONAL_HEX
    assert batch.hex() == BATCH_HEX
    assert enc.cancel_order_any(123456789, 0, 50_000_020) == impl.encode_any(
        impl.TYPE_URL_CANCEL_ORDER, cancel_short,
    )
    assert enc.batch_cancel_any([(0, [123456789, 5])], 50_000_020) == impl.encode_any(
        impl.TYPE_URL_BATCH_CANCEL, batch,
    )


# -- §9.6 quantization vectors ---------------------------------------------------------------


def _raw(text: str) -> int:
    return int(Fraction(text) * SCALE)


QUANT_VECTORS = [
    (BTC, "price", "65432.1", "floor", 6543200000),
    (BTC, "price", "65432.1", "ceil", 6543300000),
    (BTC, "size", "0.01234", "floor", 123000000),
    ((-4, -9, 1_000_000, 1_000_000), "price", "0.123456", "floor", 12345000000),
    ((-4, -9, 1_000_000, 1_000_000), "size", "1234.5", "floor", 12000000),
    ((1, -9, 1_000_000, 1_000_000), "price", "0.00001234567", "floor", 123456000000),
    ((1, -9, 1_000_000, 1_000_000), "size", "123456789", "floor", 12000000),
]


@IMPLS
@pytest.mark.parametrize(("params", "kind", "text", "mode", "expected"), QUANT_VECTORS)
def test_quantization_vectors(impl, params, kind, text, mode, expected) -> None:
    # Arrange
    enc = impl.MarketEncoder(K1_ADDRESS, 0, 0, *params)
    rounding = impl.ROUND_FLOOR_MODE if mode == "floor" else impl.ROUND_CEIL_MODE

    # Act
    result = (enc.subticks if kind == "price" else enc.quantums)(_raw(text), rounding)

    # Assert
    assert result == expected


@IMPLS
@pytest.mark.parametrize(
    ("params", "tick", "step"),
    [
        (BTC, "1", "0.0001"),
        ((-9, -9, 1_000_000, 100_000), "0.1", "0.001"),
        ((-7, -9, 1_000_000, 1_000_000), "0.01", "0.1"),
    ],
)
def test_tick_and_step_sizes(impl, params, tick, step) -> None:
    enc = impl.MarketEncoder(K1_ADDRESS, 0, 0, *params)
    assert enc.tick_size_raw == _raw(tick)
    assert enc.step_size_raw == _raw(step)


@IMPLS
def test_decode_and_quote_vectors(impl) -> None:
    enc = _btc(impl)
    assert enc.price_raw_from_subticks(6543200000) == _raw("65432")
    assert enc.size_raw_from_quantums(123000000) == _raw("0.0123")
    assert enc.quote_quantums(6543200000, 123000000) == 804813600
    # §5 worked examples 2 and 3: 148.14 and 1481.472 USDC
    doge = impl.MarketEncoder(K1_ADDRESS, 0, 0, -4, -9, 1_000_000, 1_000_000)
    assert doge.quote_quantums(12_345_000_000, 12_000_000) == 148_140_000
    pepe = impl.MarketEncoder(K1_ADDRESS, 0, 0, 1, -9, 1_000_000, 1_000_000)
    assert pepe.quote_quantums(123_456_000_000, 12_000_000) == 1_481_472_000
    assert pepe.size_raw_from_quantums(12_000_000) == 120_000_000 * SCALE


@IMPLS
def test_off_tick_and_off_step_are_refused_naming_the_increment(impl) -> None:
    enc = _btc(impl)
    with pytest.raises(ValueError, match="tick size 1"):
        enc.subticks(_raw("65432.1"))
    with pytest.raises(ValueError, match="step size 0.0001"):
        enc.quantums(_raw("0.01234"))
    assert enc.subticks(_raw("65432")) == 6543200000
    assert enc.quantums(_raw("0.0123")) == 123000000


@IMPLS
@pytest.mark.parametrize("price", ["0", "-1", "0.5", str(2**64)])
def test_bad_prices_are_refused(impl, price) -> None:
    enc = _btc(impl)
    with pytest.raises(ValueError, match="price"):
        enc.subticks(_raw(price), impl.ROUND_FLOOR_MODE)


@IMPLS
@pytest.mark.parametrize("size", ["0", "-1", "0.00001", str(2**64)])
def test_bad_sizes_are_refused(impl, size) -> None:
    enc = _btc(impl)
    with pytest.raises(ValueError, match="size"):
        enc.quantums(_raw(size), impl.ROUND_FLOOR_MODE)


# -- Property tests: quantization against Fractions -----------------------------------------

MARKETS = st.tuples(
    st.integers(-14, 4),          # A
    st.integers(-12, -3),         # Q
    st.sampled_from([1, 10, 1000, 1_000_000, 25, 5_000_000]),
    st.sampled_from([1, 10, 100_000, 1_000_000, 20, 250]),
)


@settings(max_examples=800, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    params=MARKETS,
    raw=st.one_of(st.integers(-10, 10**30), st.integers(0, 10**24).map(lambda x: x * 10**6)),
    mode=st.sampled_from([0, 1, 2]),
)
def test_quantization_matches_fraction_reference(params, raw, mode) -> None:
    a, q, s, p = params
    try:
        ref = reference.MarketEncoder(K1_ADDRESS, 0, 0, a, q, s, p)
    except ValueError:
        with pytest.raises(ValueError):
            compiled.MarketEncoder(K1_ADDRESS, 0, 0, a, q, s, p)
        return
    enc = compiled.MarketEncoder(K1_ADDRESS, 0, 0, a, q, s, p)
    assert (enc.tick_size_raw, enc.step_size_raw) == (ref.tick_size_raw, ref.step_size_raw)
    for name in ("subticks", "quantums"):
        try:
            expected = getattr(ref, name)(raw, mode)
        except ValueError as e:
            with pytest.raises(ValueError) as info:
                getattr(enc, name)(raw, mode)
            # Same refusal class: both name the same increment or reason
            assert str(info.value).split(",")[0].split(" (")[1].split()[0] == (
                str(e).split(",")[0].split(" (")[1].split()[0]
            )
            continue
        result = getattr(enc, name)(raw, mode)
        assert result == expected
        back = (enc.price_raw_from_subticks if name == "subticks" else enc.size_raw_from_quantums)
        if mode == 0:
            assert back(result) == raw
        elif mode == 1:
            assert back(result) <= raw
        else:
            assert back(result) >= raw


# -- Property tests: wire bytes against the official v4_proto classes ------------------------

U32 = st.integers(0, 2**32 - 1)
U64 = st.integers(0, 2**64 - 1)
ADDRESSES = st.sampled_from(
    [K1_ADDRESS, "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art", "", "dydx1x"],
)


def _v4_order_id(owner, number, client_id, flags, clob):
    return v4_order.OrderId(
        subaccount_id=V4SubaccountId(owner=owner, number=number),
        client_id=client_id,
        order_flags=flags,
        clob_pair_id=clob,
    )


ORDER_FIELDS = st.fixed_dictionaries(
    {
        "owner": ADDRESSES,
        "number": st.integers(0, 128_000),
        "clob": st.one_of(st.just(0), U32),
        "client_id": U32,
        "flags": st.sampled_from([0, 32, 64, 128]),
        "side": st.integers(0, 2),
        "quantums": U64,
        "subticks": U64,
        "gtb": st.one_of(st.just(0), U32),
        "gtbt": st.one_of(st.just(0), U32),
        "tif": st.integers(0, 3),
        "reduce_only": st.booleans(),
        "meta": st.one_of(st.just(0), U32),
        "cond": st.integers(0, 2),
        "trigger": st.one_of(st.just(0), U64),
    },
)


@settings(max_examples=1500, deadline=None)
@given(f=ORDER_FIELDS)
def test_order_bytes_equal_v4_proto(f) -> None:
    # Arrange
    enc = compiled.MarketEncoder(f["owner"], f["number"], f["clob"], *BTC)
    expected = v4_order.Order(
        order_id=_v4_order_id(f["owner"], f["number"], f["client_id"], f["flags"], f["clob"]),
        side=f["side"],
        quantums=f["quantums"],
        subticks=f["subticks"],
        time_in_force=f["tif"],
        reduce_only=f["reduce_only"],
        client_metadata=f["meta"],
        condition_type=f["cond"],
        conditional_order_trigger_subticks=f["trigger"],
    )
    if f["gtbt"]:
        expected.good_til_block_time = f["gtbt"]
    elif f["gtb"]:
        expected.good_til_block = f["gtb"]
    args = (
        f["client_id"], f["flags"], f["side"], f["quantums"], f["subticks"], f["gtb"],
        f["gtbt"], f["tif"], f["reduce_only"], f["meta"], f["cond"], f["trigger"],
    )

    # Act
    order = enc.encode_order(*args)
    place_any = enc.place_order_any(*args)

    # Assert
    assert order == expected.SerializeToString()
    msg = v4_clob_tx.MsgPlaceOrder(order=expected)
    wrapped = v4_tx.TxBody()
    wrapped.messages.add().Pack(msg, type_url_prefix="/")
    assert place_any == wrapped.messages[0].SerializeToString()
    assert enc.encode_order_id(f["client_id"], f["flags"]) == _v4_order_id(
        f["owner"], f["number"], f["client_id"], f["flags"], f["clob"],
    ).SerializeToString()


@settings(max_examples=600, deadline=None)
@given(f=ORDER_FIELDS)
def test_cancel_bytes_equal_v4_proto(f) -> None:
    enc = compiled.MarketEncoder(f["owner"], f["number"], f["clob"], *BTC)
    expected = v4_clob_tx.MsgCancelOrder(
        order_id=_v4_order_id(f["owner"], f["number"], f["client_id"], f["flags"], f["clob"]),
    )
    if f["gtbt"]:
        expected.good_til_block_time = f["gtbt"]
    elif f["gtb"]:
        expected.good_til_block = f["gtb"]
    result = enc.encode_cancel_order(f["client_id"], f["flags"], f["gtb"], f["gtbt"])
    assert result == expected.SerializeToString()
    assert result == reference.MarketEncoder(
        f["owner"], f["number"], f["clob"], *BTC,
    ).encode_cancel_order(f["client_id"], f["flags"], f["gtb"], f["gtbt"])


@settings(max_examples=400, deadline=None)
@given(
    owner=ADDRESSES,
    number=st.integers(0, 128_000),
    batches=st.lists(st.tuples(U32, st.lists(U32, max_size=100)), max_size=4),
    gtb=U32,
)
def test_batch_cancel_bytes_equal_v4_proto(owner, number, batches, gtb) -> None:
    enc = compiled.MarketEncoder(owner, number, 0, *BTC)
    expected = v4_clob_tx.MsgBatchCancel(
        subaccount_id=V4SubaccountId(owner=owner, number=number),
        short_term_cancels=[
            v4_clob_tx.OrderBatch(clob_pair_id=c, client_ids=i) for c, i in batches
        ],
        good_til_block=gtb,
    )
    assert enc.encode_batch_cancel(batches, gtb) == expected.SerializeToString()


@settings(max_examples=400, deadline=None)
@given(
    messages=st.lists(
        st.tuples(
            st.sampled_from(["/a.B", compiled.TYPE_URL_PLACE_ORDER]),
            st.binary(max_size=300),
        ),
        min_size=1,
        max_size=4,
    ),
    memo=st.text(max_size=40),
    timeout=st.one_of(st.just(0), U64),
    authenticators=st.one_of(st.none(), st.lists(U64, max_size=5)),
)
def test_tx_body_bytes_equal_v4_proto(messages, memo, timeout, authenticators) -> None:
    anys = [compiled.encode_any(url, value) for url, value in messages]
    expected = v4_tx.TxBody(memo=memo, timeout_height=timeout)
    for url, value in messages:
        expected.messages.add(type_url=url, value=value)
    if authenticators is not None:
        ext = v4_accountplus.TxExtension(selected_authenticators=authenticators)
        expected.non_critical_extension_options.add().Pack(ext, type_url_prefix="/")
    assert [a for a in anys] == [m.SerializeToString() for m in expected.messages]
    assert compiled.encode_tx_body(anys, memo, timeout, authenticators) == (
        expected.SerializeToString()
    )
    assert reference.encode_tx_body(anys, memo, timeout, authenticators) == (
        expected.SerializeToString()
    )


@settings(max_examples=400, deadline=None)
@given(
    public_key=st.binary(min_size=33, max_size=33),
    sequence=st.one_of(st.just(0), U64),
    gas=st.one_of(st.just(0), U64),
    coins=st.one_of(
        st.none(),
        st.lists(st.tuples(st.sampled_from(["adydx", "ibc/8E27"]), U64), max_size=3),
    ),
    body=st.binary(max_size=200),
    chain_id=st.sampled_from(["dydx-mainnet-1", "dydx-testnet-4", ""]),
    account_number=st.one_of(st.just(0), U64),
    signatures=st.lists(st.binary(min_size=64, max_size=64), max_size=2),
)
def test_auth_info_sign_doc_tx_raw_equal_v4_proto(
    public_key, sequence, gas, coins, body, chain_id, account_number, signatures,
) -> None:
    # Arrange
    expected_auth = v4_tx.AuthInfo(
        signer_infos=[
            v4_tx.SignerInfo(
                mode_info=v4_tx.ModeInfo(single=v4_tx.ModeInfo.Single(mode=1)),
                sequence=sequence,
            ),
        ],
        fee=v4_tx.Fee(gas_limit=gas),
    )
    expected_auth.signer_infos[0].public_key.Pack(V4PubKey(key=public_key), type_url_prefix="/")
    for denom, amount in coins or []:
        expected_auth.fee.amount.add(denom=denom, amount=str(amount))

    # Act
    auth = compiled.encode_auth_info(public_key, sequence, gas, coins)
    doc = compiled.encode_sign_doc(body, auth, chain_id, account_number)
    raw = compiled.encode_tx_raw(body, auth, signatures)

    # Assert
    assert auth == expected_auth.SerializeToString()
    assert doc == v4_tx.SignDoc(
        body_bytes=body, auth_info_bytes=auth, chain_id=chain_id, account_number=account_number,
    ).SerializeToString()
    assert raw == v4_tx.TxRaw(
        body_bytes=body, auth_info_bytes=auth, signatures=signatures,
    ).SerializeToString()


# -- Signing --------------------------------------------------------------------------------


@settings(max_examples=150, deadline=None)
@given(digest=st.binary(min_size=32, max_size=32), key_index=st.integers(0, 1))
def test_signature_is_rfc6979_low_s_and_verifies_independently(digest, key_index) -> None:
    # Arrange
    private = (K1_PRIVATE, K2_PRIVATE)[key_index]
    signer = compiled.TxSigner(private, "dydx-testnet-4", 1)
    ecdsa_key = ecdsa.SigningKey.from_string(private, curve=ecdsa.SECP256k1)

    # Act
    signature = signer.sign_digest(digest)

    # Assert
    r, s = sigdecode_string(signature, SECP256K1_N)
    assert len(signature) == 64 and s <= SECP256K1_N // 2
    assert ecdsa_key.get_verifying_key().verify_digest(signature, digest)
    independent = ecdsa_key.sign_digest_deterministic(
        digest, hashfunc=hashlib.sha256, sigencode=sigencode_string_canonize,
    )
    assert signature == independent
    assert reference.TxSigner(private, "dydx-testnet-4", 1).sign_digest(digest) == signature


@IMPLS
def test_signed_tx_verifies_with_ecdsa(impl) -> None:
    # Arrange
    enc = _btc(impl)
    signer = impl.TxSigner(K2_PRIVATE, "dydx-mainnet-1", 99, fee_amount=[("adydx", 5)])
    any_msg = enc.place_order_any(1, 64, 2, 10**6, 10**10, good_til_block_time=1_800_000_000)

    # Act
    raw = signer.sign_tx([any_msg, any_msg], 3, memo="m", authenticators=[1, 2])

    # Assert
    parsed = v4_tx.TxRaw.FromString(raw)
    doc = v4_tx.SignDoc(
        body_bytes=parsed.body_bytes,
        auth_info_bytes=parsed.auth_info_bytes,
        chain_id="dydx-mainnet-1",
        account_number=99,
    ).SerializeToString()
    vk = ecdsa.VerifyingKey.from_string(signer.public_key, curve=ecdsa.SECP256k1)
    assert vk.verify(parsed.signatures[0], doc, hashfunc=hashlib.sha256)
    assert v4_tx.AuthInfo.FromString(parsed.auth_info_bytes).signer_infos[0].sequence == 3
    assert raw == reference.TxSigner(
        K2_PRIVATE, "dydx-mainnet-1", 99, fee_amount=[("adydx", 5)],
    ).sign_tx([any_msg, any_msg], 3, memo="m", authenticators=[1, 2])


def test_signer_never_shows_the_private_key() -> None:
    signer = compiled.TxSigner(K1_PRIVATE, "dydx-testnet-4", 1)
    assert K1_PRIVATE.hex() not in repr(signer) and K1_PRIVATE.hex() not in str(signer)
    with pytest.raises(TypeError):
        __import__("pickle").dumps(signer)
    bad = bytes(32)
    with pytest.raises(ValueError) as info:
        compiled.TxSigner(bad, "c", 1)
    assert info.value.__cause__ is None and bad.hex() not in str(info.value)


def test_invalid_enums_are_refused() -> None:
    enc = _btc(compiled)
    with pytest.raises(ValueError, match="side"):
        enc.encode_order(1, 0, 3, 1, 1, 1)
    with pytest.raises(ValueError, match="time_in_force"):
        enc.encode_order(1, 0, 1, 1, 1, 1, time_in_force=4)
    with pytest.raises(ValueError, match="condition_type"):
        enc.encode_order(1, 0, 1, 1, 1, 1, condition_type=3)


def test_signing_uses_libsecp256k1_directly() -> None:
    # The compiled signer resolves libsecp256k1 from coincurve's bundled copy at import
    assert compiled.DIRECT_SECP256K1 is True
    digest = hashlib.sha256(b"direct").digest()
    signer = compiled.TxSigner(K1_PRIVATE, "c", 1)
    assert signer.sign_digest(digest) == reference.TxSigner(K1_PRIVATE, "c", 1).sign_digest(digest)


@pytest.mark.parametrize("bad", [-1, 2**32, 2**70])
def test_batch_cancel_refuses_out_of_range_client_ids(bad) -> None:
    enc = _btc(compiled)
    with pytest.raises(ValueError, match="client_id"):
        enc.encode_batch_cancel([(0, [1, bad])], 10)
    with pytest.raises(ValueError, match="clob_pair_id"):
        enc.encode_batch_cancel([(bad, [1])], 10)
