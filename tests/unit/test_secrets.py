# SPDX-License-Identifier: Apache-2.0
"""Secrets never leak: error text, traceback locals, reprs, pickles, CLI errors; TLS; config."""

from __future__ import annotations

import copy
import pickle
import subprocess
import sys
import traceback

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st

from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.sender import DYDXTransactionSender
from nautilus_dydx.wallet import Wallet
from nautilus_dydx.wallet import WalletError
from tests.conftest import KNOWN_TEST_SECRETS
from tests.conftest import REPO_ROOT
from tests.conftest import secret_fragments


K1_MNEMONIC = KNOWN_TEST_SECRETS[0]
K2_KEY = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
K1_ADDRESS = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
K2_ADDRESS = "dydx14zzueazeh0hj67cghhf9jypslcf9sh2n5k6art"
BAD_MNEMONICS = [
    K1_MNEMONIC.rsplit(" ", 1)[0] + " abandon",  # Checksum fails
    " ".join(K1_MNEMONIC.split()[:23]),  # 23 words
    K1_MNEMONIC.replace("glove", "glovex"),  # A word not in the list
]
BAD_KEYS = [K2_KEY[:-2], K2_KEY[:-1] + "g", "f" * 64]


def assert_hidden(text: str, *secrets: str) -> None:
    for secret in (*secrets, *KNOWN_TEST_SECRETS):
        for fragment in secret_fragments(secret):
            assert fragment not in text, f"secret fragment {fragment[:6]}... leaked"
        # A key also as the bytes repr a frame local would show
        if len(secret) == 64 and all(c in "0123456789abcdef" for c in secret):
            assert repr(bytes.fromhex(secret))[2:40] not in text


def library_traceback(error: BaseException) -> str:
    # The raising frames below the caller's own (which holds the input it passed), with their
    # locals, and the chained exceptions a traceback printer shows
    text = "".join(traceback.TracebackException(
        type(error), error, error.__traceback__.tb_next, capture_locals=True,
    ).format())
    return text


def construction_error(cls: type, **kwargs) -> BaseException:
    try:
        cls(**kwargs)
    except Exception as e:
        return e
    raise AssertionError(f"{cls.__name__}(...) accepted a bad input")


# -- Config construction ------------------------------------------------------------------------


@pytest.mark.parametrize("mnemonic", BAD_MNEMONICS)
def test_bad_mnemonic_error_and_traceback_locals_hide_it(mnemonic) -> None:
    error = construction_error(DYDXExecClientConfig, network="sandbox", mnemonic=mnemonic)
    assert isinstance(error, ValueError)
    assert "mnemonic" in str(error)
    assert_hidden(str(error) + repr(error), mnemonic)
    assert_hidden(library_traceback(error), mnemonic)


@pytest.mark.parametrize("key", BAD_KEYS)
def test_bad_private_key_error_and_traceback_locals_hide_it(key) -> None:
    error = construction_error(DYDXExecClientConfig, network="sandbox", private_key=key)
    assert isinstance(error, ValueError)
    assert "private_key" in str(error)
    assert_hidden(str(error) + repr(error), key)
    assert_hidden(library_traceback(error), key)


@pytest.mark.parametrize("address", ["dydx1notanaddress", K1_ADDRESS[:-1] + "q", "cosmos1abc", ""])
def test_malformed_wallet_address_error_hides_the_key(address) -> None:
    error = construction_error(
        DYDXExecClientConfig, network="sandbox", mnemonic=K1_MNEMONIC, wallet_address=address,
    )
    assert isinstance(error, ValueError)
    assert "wallet_address" in str(error)
    assert_hidden(str(error) + library_traceback(error))


def test_wrong_wallet_address_for_the_key_hides_the_key() -> None:
    # The config accepts any well-formed address; the wallet compares it with the derived one
    for build in (
        lambda: Wallet.from_mnemonic(K1_MNEMONIC, K2_ADDRESS),
        lambda: Wallet.from_private_key(K2_KEY, K1_ADDRESS),
    ):
        with pytest.raises(WalletError) as excinfo:
            build()
        assert "does not match" in str(excinfo.value)
        assert_hidden(str(excinfo.value) + library_traceback(excinfo.value))


@pytest.mark.parametrize("mnemonic", BAD_MNEMONICS)
def test_bad_mnemonic_in_wallet_hides_it(mnemonic) -> None:
    with pytest.raises(WalletError) as excinfo:
        Wallet.from_mnemonic(mnemonic)
    assert_hidden(str(excinfo.value) + library_traceback(excinfo.value), mnemonic)


# -- Objects that hold a secret -------------------------------------------------------------


def test_config_wallet_and_sender_reprs_and_pickles_hide_secrets() -> None:
    config = DYDXExecClientConfig(network="sandbox", mnemonic=K1_MNEMONIC)
    wallet = Wallet.from_private_key(K2_KEY)
    node = DYDXNodeClient(["127.0.0.1:9"])
    sender = DYDXTransactionSender(node, wallet, "dydx-sandbox-1")
    signer = wallet.signer("dydx-sandbox-1", 1) if hasattr(wallet, "signer") else None
    shown = [
        repr(config), str(config), f"{config}", config.json().decode(), repr(config.dict()),
        repr(copy.deepcopy(config)), repr(wallet), str(wallet), repr(sender), str(sender),
        repr(vars(sender)), repr(node), repr(signer), repr(config.mnemonic),
    ]
    assert_hidden("\n".join(shown))
    for obj in (wallet, config.mnemonic):
        with pytest.raises(TypeError):
            pickle.dumps(obj)
    # A config pickles (Nautilus passes configs between processes) without its secret
    try:
        data = pickle.dumps(config)
    except TypeError:
        return
    assert_hidden(data.decode("latin-1"))


def test_secret_type_errors_name_the_field() -> None:
    for kwargs in ({"mnemonic": 12}, {"private_key": b"\x01" * 32}, {"mnemonic": ["a"]}):
        error = construction_error(DYDXExecClientConfig, network="sandbox", **kwargs)
        assert isinstance(error, ValueError), repr(error)
        assert next(iter(kwargs)) in str(error)


# -- Sandbox CLI ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entry",
    [BAD_MNEMONICS[0], BAD_MNEMONICS[0] + "=100", K1_MNEMONIC + "=abc", K1_MNEMONIC + "=-5"],
)
def test_sandbox_cli_fund_errors_hide_the_mnemonic(entry) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "nautilus_dydx.sandbox", "--fund", entry, "--duration", "0.1",
         "--grpc-port", "0", "--http-port", "0", "--ws-port", "0"],
        cwd=REPO_ROOT, capture_output=True, text=True, timeout=60,
    )
    assert result.returncode != 0
    assert "--fund entry 1" in result.stdout + result.stderr
    assert_hidden(result.stdout + result.stderr, entry.split("=")[0])


# -- Transport ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("network", "endpoints", "grpc_tls", "expected"),
    [
        ("mainnet", None, None, [True, True]),
        ("testnet", None, None, [True, True]),
        ("sandbox", None, None, [False]),
        # An endpoint off this machine uses TLS unless TLS is turned off explicitly
        ("sandbox", ["node.example.com:9090"], None, [True]),
        ("mainnet", ["127.0.0.1:9090", "10.0.0.5:9090"], None, [False, True]),
        ("mainnet", ["[::1]:9090", "localhost:9090"], None, [False, False]),
        ("mainnet", ["node.example.com:9090"], False, [False]),
        ("sandbox", ["127.0.0.1:9090"], True, [True]),
    ],
)
def test_non_loopback_grpc_endpoints_use_tls_unless_configured_off(
    network, endpoints, grpc_tls, expected,
) -> None:
    config = DYDXExecClientConfig(
        network=network, private_key=K2_KEY, grpc_endpoints=endpoints, grpc_tls=grpc_tls,
    )
    node = DYDXNodeClient.from_config(config)
    assert node.tls == expected


# -- Every config field is validated with a ValueError naming it ----------------------------

WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=True),
    st.text(max_size=20), st.binary(max_size=8), st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=3), st.integers(), max_size=2),
    st.sampled_from(["mainnet", "testnet", "sandbox", "http://x", "ws://x", "h:1", "/tmp", ""]),
)
EXEC_FIELDS = [
    "network", "is_testnet", "wallet_address", "subaccount", "base_url_http", "base_url_ws",
    "grpc_endpoints", "grpc_tls", "chain_id", "http_timeout_secs", "ws_timeout_secs",
    "grpc_timeout_secs", "max_retries", "retry_delay_initial_ms", "retry_delay_max_ms",
    "http_rate_limit_per_10s", "grpc_rate_limit_per_min", "short_term_block_window",
    "gtc_horizon_days", "state_dir", "mnemonic", "private_key",
]
DATA_FIELDS = [
    "network", "is_testnet", "wallet_address", "base_url_http", "base_url_ws",
    "http_timeout_secs", "ws_timeout_secs", "max_retries", "retry_delay_initial_ms",
    "retry_delay_max_ms", "http_rate_limit_per_10s", "update_instruments_interval_mins",
    "book_resync_cross_secs",
]
CONFIG_FUZZ = settings(max_examples=150, deadline=None,
                       suppress_health_check=[HealthCheck.too_slow])


def check_field(cls: type, base: dict, field: str, value: object) -> None:
    try:
        cls(**{**base, field: value})
    except ValueError as e:
        assert f"`{field}`" in str(e) or field in str(e), f"{field}={value!r}: {e}"
        assert_hidden(str(e))
    # Any other exception type fails the test


@CONFIG_FUZZ
@given(st.sampled_from(EXEC_FIELDS), WRONG_VALUES)
def test_exec_config_fields_raise_value_errors_naming_the_field(field, value) -> None:
    check_field(DYDXExecClientConfig, {"network": "sandbox", "private_key": K2_KEY}, field,
                value)


@CONFIG_FUZZ
@given(st.sampled_from(DATA_FIELDS), WRONG_VALUES)
def test_data_config_fields_raise_value_errors_naming_the_field(field, value) -> None:
    check_field(DYDXDataClientConfig, {"network": "sandbox"}, field, value)


# -- The suite-wide scan (tests/conftest.py) --------------------------------------------------


def test_log_scan_flags_a_record_showing_a_secret_and_its_traceback() -> None:
    import logging

    from tests.conftest import _SecretScanHandler

    handler = _SecretScanHandler()
    logger = logging.getLogger("nautilus_dydx.test_scan")
    logger.propagate = False  # Kept from the suite-wide scan, which would fail this test
    logger.addHandler(handler)
    try:
        logger.warning("clean line")
        assert handler.leaks == []
        try:
            raise ValueError(K1_MNEMONIC)
        except ValueError:
            logger.exception("failed")  # The secret is only in the formatted traceback
        assert len(handler.leaks) == 1
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
