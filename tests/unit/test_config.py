# SPDX-License-Identifier: Apache-2.0
"""Client configurations: drop-in fields, validation at construction, secrets never shown."""

from __future__ import annotations

import copy
import logging
import pickle

import pytest
from nautilus_trader.adapters.dydx.config import DYDXDataClientConfig as BuiltinDataConfig
from nautilus_trader.adapters.dydx.config import DYDXExecClientConfig as BuiltinExecConfig

from nautilus_dydx.common.credentials import Secret
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig


# Public test vectors of the protocol reference (§9.1), never funded
MNEMONIC_K1 = (
    "mandate glove carry despair area gloom sting round toddler deal face vague receive "
    "shallow confirm south green cup rain drill monkey method tongue fence"
)
ADDRESS_K1 = "dydx1wldnytkerzs39rs28djn0p9vvqer2x2k5x8hjy"
MNEMONIC_K2 = (
    "mirror actor skill push coach wait confirm orchard lunch mobile athlete gossip awake "
    "miracle matter bus reopen team ladder lazy list timber render wait"
)
KEY_K2 = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"

ENV_NAMES = [
    f"DYDX_{p}{n}"
    for p in ("", "TESTNET_", "SANDBOX_")
    for n in ("MNEMONIC", "PRIVATE_KEY", "WALLET_ADDRESS")
]


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_NAMES:
        monkeypatch.delenv(name, raising=False)


@pytest.mark.parametrize(
    ("ours", "builtin"),
    [(DYDXDataClientConfig, BuiltinDataConfig), (DYDXExecClientConfig, BuiltinExecConfig)],
)
def test_configs_accept_every_builtin_field(ours: type, builtin: type) -> None:
    missing = set(builtin.__struct_fields__) - set(ours.__struct_fields__)
    assert not missing


def test_exec_config_built_with_builtin_fields_only() -> None:
    # A user switching adapters changes the import and keeps these keyword arguments
    config = DYDXExecClientConfig(
        wallet_address=ADDRESS_K1,
        subaccount=0,
        mnemonic=MNEMONIC_K1,
        base_url_http="https://indexer.example/v4",
        base_url_ws="wss://indexer.example/v4/ws",
        is_testnet=True,
        max_retries=3,
        retry_delay_initial_ms=100,
        retry_delay_max_ms=1000,
    )

    assert config.network_name == "testnet"
    assert config.endpoints.http == "https://indexer.example/v4"
    assert config.endpoints.ws == "wss://indexer.example/v4/ws"
    assert config.endpoints.chain_id == "dydx-testnet-4"
    assert config.retry_policy == (3, 100, 1000)
    assert config.mnemonic.reveal() == MNEMONIC_K1


def test_data_config_built_with_builtin_fields_only() -> None:
    config = DYDXDataClientConfig(
        wallet_address=ADDRESS_K1,
        is_testnet=False,
        update_instruments_interval_mins=30,
        max_retries=2,
        retry_delay_initial_ms=50,
        retry_delay_max_ms=500,
    )

    assert config.network_name == "mainnet"
    assert config.endpoints.http == "https://indexer.dydx.trade/v4"


def test_sandbox_network_defaults_to_loopback() -> None:
    config = DYDXExecClientConfig(network="sandbox", private_key=KEY_K2)

    endpoints = config.endpoints
    assert endpoints.http.startswith("http://127.0.0.1:")
    assert endpoints.ws.startswith("ws://127.0.0.1:")
    assert all(e.startswith("127.0.0.1:") for e in endpoints.grpc)
    assert endpoints.grpc_tls is False


def test_every_endpoint_is_overridable() -> None:
    config = DYDXExecClientConfig(
        network="sandbox",
        private_key=KEY_K2,
        base_url_http="http://127.0.0.1:8000/v4/",
        base_url_ws="ws://127.0.0.1:8001/v4/ws",
        grpc_endpoints=["127.0.0.1:9000", "127.0.0.1:9001"],
        grpc_tls=True,
        chain_id="my-chain",
    )

    endpoints = config.endpoints
    assert endpoints.http == "http://127.0.0.1:8000/v4"
    assert endpoints.ws == "ws://127.0.0.1:8001/v4/ws"
    assert endpoints.grpc == ("127.0.0.1:9000", "127.0.0.1:9001")
    assert endpoints.grpc_tls is True
    assert endpoints.chain_id == "my-chain"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"network": "devnet"}, "network"),
        ({"network": "mainnet", "is_testnet": True}, "is_testnet"),
        ({"subaccount": -1}, "subaccount"),
        ({"subaccount": 128_001}, "subaccount"),
        ({"base_url_http": "ftp://x"}, "base_url_http"),
        ({"base_url_ws": "http://x"}, "base_url_ws"),
        ({"grpc_endpoints": []}, "grpc_endpoints"),
        ({"grpc_endpoints": ["no-port"]}, "grpc_endpoints"),
        ({"retry_delay_initial_ms": 500, "retry_delay_max_ms": 100}, "retry_delay_initial_ms"),
        ({"max_retries": 0}, "max_retries"),
        ({"http_timeout_secs": 0}, "http_timeout_secs"),
        ({"short_term_block_window": 41}, "short_term_block_window"),
        ({"gtc_horizon_days": 96}, "gtc_horizon_days"),
        ({"wallet_address": "cosmos1wldnytkerzs39rs28djn0p9vvqer2x2kxxxxxx"}, "wallet_address"),
        ({"wallet_address": "dydx1abc"}, "wallet_address"),
        ({"private_key": KEY_K2}, "private_key"),  # together with the mnemonic below
        ({"isolated_child_subaccounts": 1}, "isolated_child_subaccounts"),
        ({"isolated_return_collateral": "yes"}, "isolated_return_collateral"),
        ({"isolated_margin_buffer": 0.9}, "isolated_margin_buffer"),
        ({"isolated_margin_buffer": 101.0}, "isolated_margin_buffer"),
        ({"isolated_margin_buffer": float("nan")}, "isolated_margin_buffer"),
        ({"isolated_collateral_usdc": 0.0}, "isolated_collateral_usdc"),
        ({"isolated_collateral_usdc": float("inf")}, "isolated_collateral_usdc"),
        ({"isolated_child_subaccounts": True, "subaccount": 128}, "subaccount"),
    ],
)
def test_invalid_exec_config_fails_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError) as excinfo:
        DYDXExecClientConfig(mnemonic=MNEMONIC_K1, **kwargs)

    assert field in str(excinfo.value)


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"network": "devnet"}, "network"),
        ({"base_url_ws": "https://x"}, "base_url_ws"),
        ({"wallet_address": "dydx1qqqq"}, "wallet_address"),
        ({"book_resync_cross_secs": -1.0}, "book_resync_cross_secs"),
    ],
)
def test_invalid_data_config_fails_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        DYDXDataClientConfig(**kwargs)


def test_missing_credentials_name_the_fields_and_variables() -> None:
    with pytest.raises(ValueError) as excinfo:
        DYDXExecClientConfig(is_testnet=True)

    message = str(excinfo.value)
    assert "mnemonic" in message
    assert "DYDX_TESTNET_MNEMONIC" in message
    assert "DYDX_TESTNET_PRIVATE_KEY" in message


@pytest.mark.parametrize(
    ("network", "prefix"),
    [("mainnet", "DYDX_"), ("testnet", "DYDX_TESTNET_"), ("sandbox", "DYDX_SANDBOX_")],
)
def test_credentials_and_address_come_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
    network: str,
    prefix: str,
) -> None:
    monkeypatch.setenv(f"{prefix}MNEMONIC", MNEMONIC_K1)
    monkeypatch.setenv(f"{prefix}WALLET_ADDRESS", ADDRESS_K1)

    config = DYDXExecClientConfig(network=network)

    assert config.mnemonic.reveal() == MNEMONIC_K1
    assert config.wallet_address == ADDRESS_K1


def test_both_secrets_in_the_environment_is_an_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYDX_MNEMONIC", MNEMONIC_K1)
    monkeypatch.setenv("DYDX_PRIVATE_KEY", KEY_K2)

    with pytest.raises(ValueError, match="DYDX_MNEMONIC.*DYDX_PRIVATE_KEY"):
        DYDXExecClientConfig()


def test_testnet_reads_only_testnet_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DYDX_MNEMONIC", MNEMONIC_K1)

    with pytest.raises(ValueError, match="no credentials"):
        DYDXExecClientConfig(is_testnet=True)


SECRETS = [MNEMONIC_K1, MNEMONIC_K2, KEY_K2]


def _secret_fragments(secret: str) -> list[str]:
    # The whole secret and any run of three words (or 16 hex chars) from it
    words = secret.split()
    if len(words) > 1:
        return [secret] + [" ".join(words[i : i + 3]) for i in range(len(words) - 2)]
    return [secret] + [secret[i : i + 16] for i in range(0, len(secret) - 15, 8)]


def _assert_hidden(text: str) -> None:
    for secret in SECRETS:
        for fragment in _secret_fragments(secret):
            assert fragment not in text


@pytest.mark.parametrize(
    "kwargs",
    [{"mnemonic": MNEMONIC_K1}, {"mnemonic": MNEMONIC_K2}, {"private_key": KEY_K2}],
)
def test_secrets_never_appear_in_repr_str_json_or_dict(kwargs: dict) -> None:
    config = DYDXExecClientConfig(**kwargs)

    _assert_hidden(repr(config))
    _assert_hidden(str(config))
    _assert_hidden(f"{config}")
    _assert_hidden(config.json().decode())
    _assert_hidden(repr(config.dict()))
    _assert_hidden(repr(config.json_primitives()))
    _assert_hidden(repr(copy.deepcopy(config)))


def test_secrets_never_appear_in_logs(caplog: pytest.LogCaptureFixture) -> None:
    config = DYDXExecClientConfig(mnemonic=MNEMONIC_K1)

    with caplog.at_level(logging.DEBUG):
        logging.getLogger("nautilus_dydx.test").info("config: %s %r", config, config.mnemonic)

    assert "Secret(" in caplog.text
    _assert_hidden(caplog.text)


@pytest.mark.parametrize(
    "kwargs",
    [
        # Mnemonic with its last word swapped: the checksum fails
        {"mnemonic": MNEMONIC_K1.rsplit(" ", 1)[0] + " abandon"},
        {"mnemonic": MNEMONIC_K2.replace("mirror", "mirrorx")},
        {"mnemonic": " ".join(MNEMONIC_K1.split()[:23])},
        {"private_key": KEY_K2[:-2]},
        {"private_key": KEY_K2[:-1] + "g"},
        {"mnemonic": MNEMONIC_K1, "private_key": KEY_K2},
    ],
)
def test_invalid_secrets_raise_without_showing_them(kwargs: dict) -> None:
    with pytest.raises(ValueError) as excinfo:
        DYDXExecClientConfig(**kwargs)

    _assert_hidden(str(excinfo.value))
    _assert_hidden(repr(excinfo.value))
    for value in kwargs.values():
        assert value not in str(excinfo.value)


def test_serialized_config_carries_no_secret_and_reloads_from_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    config = DYDXExecClientConfig(network="sandbox", private_key=KEY_K2)
    monkeypatch.setenv("DYDX_SANDBOX_PRIVATE_KEY", KEY_K2)

    reloaded = DYDXExecClientConfig.parse(config.json())

    assert b"private_key\":null" in config.json()
    assert reloaded.private_key.reveal() == KEY_K2


def test_secret_cannot_be_pickled() -> None:
    with pytest.raises(TypeError, match="cannot be pickled"):
        pickle.dumps(Secret(KEY_K2))


def test_isolated_fields_default_off_with_buffer_and_return() -> None:
    config = DYDXExecClientConfig(mnemonic=MNEMONIC_K1)

    assert config.isolated_child_subaccounts is False
    assert config.isolated_margin_buffer == 1.1
    assert config.isolated_collateral_usdc is None
    assert config.isolated_return_collateral is True
    on = DYDXExecClientConfig(
        mnemonic=MNEMONIC_K1, subaccount=127, isolated_child_subaccounts=True,
        isolated_collateral_usdc=25.0,
    )
    assert on.isolated_child_subaccounts and on.isolated_collateral_usdc == 25.0
