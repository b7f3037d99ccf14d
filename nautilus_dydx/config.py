# SPDX-License-Identifier: Apache-2.0
"""Configurations of the dYdX data and execution clients (drop-in for the built-in adapter's)."""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any

import msgspec
from nautilus_trader.config import LiveDataClientConfig
from nautilus_trader.config import LiveExecClientConfig
from nautilus_trader.config import PositiveFloat
from nautilus_trader.config import PositiveInt

from nautilus_dydx.common import limits
from nautilus_dydx.common.address import check_address
from nautilus_dydx.common.constants import MAX_SUBACCOUNT_NUMBER
from nautilus_dydx.common.credentials import ENV_PREFIX
from nautilus_dydx.common.credentials import check_mnemonic
from nautilus_dydx.common.credentials import check_private_key
from nautilus_dydx.common.credentials import env_value
from nautilus_dydx.common.credentials import seal_secret
from nautilus_dydx.common.urls import NETWORKS
from nautilus_dydx.common.urls import NetworkEndpoints
from nautilus_dydx.common.urls import network_endpoints


DEFAULT_MAX_RETRIES = 3
DEFAULT_RETRY_DELAY_INITIAL_MS = 500
DEFAULT_RETRY_DELAY_MAX_MS = 10_000
DEFAULT_STATE_DIR = "~/.nautilus_dydx"


def _resolve_network(network: str | None, is_testnet: bool) -> str:
    if network is None:
        return "testnet" if is_testnet else "mainnet"
    if not isinstance(network, str) or network not in NETWORKS:
        raise ValueError(
            f"invalid `network`, was {network!r} (expected one of {sorted(NETWORKS)})",
        )
    if is_testnet and network != "testnet":
        raise ValueError(f"`is_testnet=True` conflicts with `network={network!r}`")
    return network


def _check_url(field: str, url: str | None, schemes: tuple[str, ...]) -> None:
    if url is None:
        return
    if not isinstance(url, str) or not url.startswith(schemes) or "://" not in url:
        raise ValueError(f"invalid `{field}`: expected a {'/'.join(schemes)} URL, was {url!r}")


def _check_grpc_endpoints(endpoints: Any) -> None:
    if endpoints is None:
        return
    if not isinstance(endpoints, list | tuple) or not endpoints:
        raise ValueError(f"invalid `grpc_endpoints`: expected a non-empty list, was {endpoints!r}")
    for endpoint in endpoints:
        host, sep, port = str(endpoint).rpartition(":")
        if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
            raise ValueError(f"invalid `grpc_endpoints`: expected 'host:port', was {endpoint!r}")


def _check_state_dir(state_dir: Any) -> Path:
    # Checked without creating anything: the client ID store creates the directory on start
    if not isinstance(state_dir, str) or not state_dir.strip() or "\x00" in state_dir:
        raise ValueError(f"invalid `state_dir`: expected a directory path, was {state_dir!r}")
    path = Path(state_dir).expanduser()
    try:
        if path.exists():
            if not path.is_dir():
                raise ValueError(f"invalid `state_dir`: {str(path)!r} is not a directory")
            if not os.access(path, os.W_OK | os.X_OK):
                raise ValueError(f"invalid `state_dir`: {str(path)!r} is not writable")
            return path
        parent = path.absolute().parent
        while not parent.exists():
            parent = parent.parent
        writable = parent.is_dir() and os.access(parent, os.W_OK | os.X_OK)
    except OSError as e:
        raise ValueError(f"invalid `state_dir`: {str(path)!r}: {e.strerror}") from None
    if not writable:
        raise ValueError(
            f"invalid `state_dir`: {str(path)!r} cannot be created ({str(parent)!r} is not a "
            "writable directory)",
        )
    return path


def _check_retries(config: Any) -> None:
    initial = config.retry_delay_initial_ms
    maximum = config.retry_delay_max_ms
    if initial is not None and maximum is not None and initial > maximum:
        raise ValueError(
            f"`retry_delay_initial_ms` ({initial}) must not exceed "
            f"`retry_delay_max_ms` ({maximum})",
        )
    for name in ("max_retries", "retry_delay_initial_ms", "retry_delay_max_ms"):
        value = getattr(config, name)
        if value is not None and (not isinstance(value, int) or value <= 0):
            raise ValueError(f"invalid `{name}`: expected a positive integer, was {value!r}")


def _check_positive(config: Any, *names: str) -> None:
    for name in names:
        value = getattr(config, name)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int | float) or not value > 0:
            raise ValueError(f"invalid `{name}`: expected a positive number, was {value!r}")


def _check_bool(config: Any, name: str, optional: bool = False) -> None:
    value = getattr(config, name)
    if not isinstance(value, bool) and not (optional and value is None):
        raise ValueError(f"invalid `{name}`: expected True or False, was {value!r}")


def _check_isolated(config: Any) -> None:
    _check_bool(config, "isolated_child_subaccounts")
    _check_bool(config, "isolated_return_collateral")
    _check_positive(config, "isolated_margin_buffer", "isolated_collateral_usdc")
    buffer = config.isolated_margin_buffer
    if not 1 <= buffer <= 100:
        raise ValueError(
            f"invalid `isolated_margin_buffer`: expected 1 to 100, was {buffer!r}",
        )
    fixed = config.isolated_collateral_usdc
    if fixed is not None and not (math.isfinite(fixed) and fixed >= 0.000001):
        raise ValueError(
            f"invalid `isolated_collateral_usdc`: expected a finite amount of at least "
            f"0.000001 USDC, was {fixed!r}",
        )
    if config.isolated_child_subaccounts and not (
        isinstance(config.subaccount, int) and 0 <= config.subaccount <= 127
    ):
        raise ValueError(
            "invalid `subaccount` with `isolated_child_subaccounts`: expected a parent "
            f"subaccount 0 to 127, was {config.subaccount!r}",
        )


def _check_shared(config: Any) -> str:
    # Checks of the fields both client configs have; returns the resolved network
    _check_bool(config, "is_testnet")
    network = _resolve_network(config.network, config.is_testnet)
    _check_url("base_url_http", config.base_url_http, ("http://", "https://"))
    _check_url("base_url_ws", config.base_url_ws, ("ws://", "wss://"))
    _check_retries(config)
    return network


def _resolve_wallet_address(config: Any, network: str) -> None:
    address = config.wallet_address
    if address is None:
        address = env_value(network, "WALLET_ADDRESS")
        if address is None:
            return
        msgspec.structs.force_setattr(config, "wallet_address", address)
        check_address(f"{ENV_PREFIX[network]}WALLET_ADDRESS", address)
        return
    if not isinstance(address, str):
        raise ValueError(
            f"invalid `wallet_address`: expected a string, was {type(address).__name__}",
        )
    check_address("wallet_address", address)


def _check_authenticator_ids(config: Any, network: str) -> None:
    ids = config.authenticator_ids
    if ids is None:
        return
    if not isinstance(ids, list | tuple) or not ids or any(
        isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < 2**64 for i in ids
    ):
        raise ValueError(
            "invalid `authenticator_ids`: expected a non-empty list of authenticator IDs "
            f"(integers >= 0), was {ids!r}",
        )
    msgspec.structs.force_setattr(config, "authenticator_ids", list(ids))
    if config.wallet_address is None:
        raise ValueError(
            "`authenticator_ids` set: the key trades for another account, so `wallet_address` "
            f"(or `{ENV_PREFIX[network]}WALLET_ADDRESS`) must give the owner's address",
        )


class _EndpointsMixin:
    """Resolved endpoints, shared by both client configs."""

    @property
    def network_name(self) -> str:
        """
        Return the resolved network: ``mainnet``, ``testnet`` or ``sandbox``.
        """
        return _resolve_network(self.network, self.is_testnet)  # type: ignore[attr-defined]

    @property
    def endpoints(self) -> NetworkEndpoints:
        """
        Return the network's endpoints with every configured override applied.
        """
        defaults = network_endpoints(self.network_name)
        grpc = getattr(self, "grpc_endpoints", None)
        tls = getattr(self, "grpc_tls", None)
        return NetworkEndpoints(
            name=defaults.name,
            chain_id=getattr(self, "chain_id", None) or defaults.chain_id,
            http=(self.base_url_http or defaults.http).rstrip("/"),  # type: ignore[attr-defined]
            ws=self.base_url_ws or defaults.ws,  # type: ignore[attr-defined]
            grpc=tuple(grpc) if grpc else defaults.grpc,
            grpc_tls=defaults.grpc_tls if tls is None else tls,
            usdc_denom=defaults.usdc_denom,
        )

    @property
    def retry_policy(self) -> tuple[int, int, int]:
        """
        Return (max retries, initial delay ms, max delay ms) with defaults filled in.
        """
        initial = self.retry_delay_initial_ms  # type: ignore[attr-defined]
        return (
            self.max_retries or DEFAULT_MAX_RETRIES,  # type: ignore[attr-defined]
            initial or DEFAULT_RETRY_DELAY_INITIAL_MS,
            self.retry_delay_max_ms or DEFAULT_RETRY_DELAY_MAX_MS,  # type: ignore[attr-defined]
        )


class DYDXDataClientConfig(_EndpointsMixin, LiveDataClientConfig, frozen=True):
    """
    Configuration for ``DYDXDataClient`` instances.

    Parameters
    ----------
    network : str, optional
        ``mainnet``, ``testnet`` or ``sandbox``; if ``None``, ``testnet`` when `is_testnet`
        else ``mainnet``.
    is_testnet : bool, default False
        Connect to the testnet (the built-in adapter's switch).
    wallet_address : str, optional
        The ``dydx1...`` address whose account streams to follow; if ``None``, sourced from
        ``DYDX_WALLET_ADDRESS`` (``DYDX_TESTNET_WALLET_ADDRESS`` on testnet) when set.
    base_url_http : str, optional
        Indexer REST base URL override, e.g. ``http://127.0.0.1:3002/v4``.
    base_url_ws : str, optional
        Indexer WebSocket URL override.
    http_timeout_secs : PositiveFloat, default 10.0
        Timeout of one REST request.
    ws_timeout_secs : PositiveFloat, default 10.0
        Timeout to connect the WebSocket and to receive a subscription reply.
    max_retries : PositiveInt, optional
        Retries of a REST request and WebSocket reconnect attempts (default 3).
    retry_delay_initial_ms : PositiveInt, optional
        First retry delay; doubles per attempt (default 500).
    retry_delay_max_ms : PositiveInt, optional
        Cap of the retry delay (default 10 000).
    http_rate_limit_per_10s : PositiveInt, default 100
        Client-side REST budget per 10 s (the Indexer's documented per-IP limit).
    update_instruments_interval_mins : PositiveInt, optional, default 60
        Interval between reloads of the instruments from the venue.
    book_resync_cross_secs : PositiveFloat, default 5.0
        Resubscribe an order book that stays crossed longer than this.
    book_audit : bool, default True
        After each book snapshot, once its best bid or ask leaves the book, compare the book
        with the Indexer's REST book (one request) and resubscribe it where they still differ
        a second later: a snapshot taken while the venue's book was crossed lacks levels the
        Indexer never streams again.

    """

    network: str | None = None
    is_testnet: bool = False
    wallet_address: str | None = None
    base_url_http: str | None = None
    base_url_ws: str | None = None
    http_timeout_secs: PositiveFloat = 10.0
    ws_timeout_secs: PositiveFloat = 10.0
    max_retries: PositiveInt | None = None
    retry_delay_initial_ms: PositiveInt | None = None
    retry_delay_max_ms: PositiveInt | None = None
    http_rate_limit_per_10s: PositiveInt = 100
    update_instruments_interval_mins: PositiveInt | None = 60
    book_resync_cross_secs: PositiveFloat = 5.0
    book_audit: bool = True

    def __post_init__(self) -> None:
        network = _check_shared(self)
        _check_positive(
            self,
            "http_timeout_secs",
            "ws_timeout_secs",
            "http_rate_limit_per_10s",
            "update_instruments_interval_mins",
            "book_resync_cross_secs",
        )
        _check_bool(self, "book_audit")
        _resolve_wallet_address(self, network)


class DYDXExecClientConfig(_EndpointsMixin, LiveExecClientConfig, frozen=True):
    """
    Configuration for ``DYDXExecutionClient`` instances.

    Credentials come from `mnemonic` or `private_key`, else from the environment:
    ``DYDX_MNEMONIC`` / ``DYDX_PRIVATE_KEY`` (``DYDX_TESTNET_*`` on testnet,
    ``DYDX_SANDBOX_*`` on the sandbox). Exactly one must be found. Secrets are held in a
    redacting `Secret`: they never appear in `repr`, `str`, logs or the config's JSON.

    Parameters
    ----------
    network : str, optional
        ``mainnet``, ``testnet`` or ``sandbox``; if ``None``, ``testnet`` when `is_testnet`
        else ``mainnet``.
    is_testnet : bool, default False
        Connect to the testnet (the built-in adapter's switch).
    wallet_address : str, optional
        The ``dydx1...`` address; must match the key's address (with `authenticator_ids`: the
        owner's address, required). If ``None``, sourced from ``DYDX_WALLET_ADDRESS`` (or its
        network twin), else derived from the key.
    subaccount : int, default 0
        The subaccount number, 0 to 128 000.
    mnemonic : str, optional
        BIP-39 mnemonic of the account (path m/44'/118'/0'/0/0).
    private_key : str, optional
        Hex secp256k1 private key, instead of `mnemonic`.
    base_url_http : str, optional
        Indexer REST base URL override.
    base_url_ws : str, optional
        Indexer WebSocket URL override.
    grpc_endpoints : list[str], optional
        Full-node gRPC endpoints (``host:port``), tried in order.
    grpc_tls : bool, optional
        Use TLS for gRPC; default per network (sandbox: plaintext).
    chain_id : str, optional
        Chain id override (signatures commit to it).
    http_timeout_secs : PositiveFloat, default 10.0
        Timeout of one REST request.
    ws_timeout_secs : PositiveFloat, default 10.0
        Timeout to connect the WebSocket and to receive a subscription reply.
    grpc_timeout_secs : PositiveFloat, default 5.0
        Deadline of one gRPC call.
    max_retries : PositiveInt, optional
        Retries of a submit, cancel or modify (default 3).
    retry_delay_initial_ms : PositiveInt, optional
        First retry delay; doubles per attempt (default 500).
    retry_delay_max_ms : PositiveInt, optional
        Cap of the retry delay (default 10 000).
    http_rate_limit_per_10s : PositiveInt, default 100
        Client-side REST budget per 10 s.
    grpc_rate_limit_per_min : PositiveInt, optional
        Client-side gRPC budget per minute (public nodes allow 250-300).
    short_term_block_window : PositiveInt, default 20
        Blocks ahead for short-term good-til-block, 1 to 40; capped by the chain's
        ShortBlockWindow (20 unless the node reports protocol v9, which allows 40).
    gtc_horizon_days : PositiveInt, default 90
        Good-til-block-time of GTC orders, days ahead: 1 to 94 (the chain's 95-day window
        less a safety margin).
    state_dir : str, optional
        Directory of the client order ID store (one SQLite file per chain, address and
        subaccount); default ``~/.nautilus_dydx``. Needs no Nautilus database.
    gtc_short_term : bool, default False
        Place GTC limit orders without `DYDXOrderTags` as short-term orders (quoting).
    market_order_slippage : PositiveFloat, default 0.05
        Worst price of a market order: the oracle price (or quote) times 1 +/- this.
    max_price_age_secs : PositiveFloat, default 10.0
        A reference price older than this is not used: the market order is denied.
    sequence_mode : str, default "sequential"
        Stateful transactions: ``sequential`` (account sequence) or ``timestamp`` (nonces).
    authenticator_ids : list[int], optional
        Trade through a permissioned key: `mnemonic`/`private_key` is then the trading key,
        `wallet_address` (required) the owner's account, and these are the owner's
        authenticator IDs that admit the key, in preference order (the first one registered
        with the key's ``SignatureVerification`` is selected on connect).
    isolated_child_subaccounts : bool, default False
        Trade ISOLATED markets from child subaccounts ``subaccount + 128·k`` (one per market),
        moving collateral from the parent (`subaccount`, 0 to 127) by ``MsgCreateTransfer``;
        events come from the ``v4_parent_subaccounts`` channel and the account state totals
        the parent and its children.
    isolated_margin_buffer : PositiveFloat, default 1.1
        Collateral moved before an opening order: order notional × the market's initial
        margin fraction × this (1 to 100).
    isolated_collateral_usdc : PositiveFloat, optional
        A fixed free collateral (USDC) to hold in the child before an opening order,
        instead of the sizing by `isolated_margin_buffer`.
    isolated_return_collateral : bool, default True
        Move a child's USDC back to the parent once it is flat with no open orders.

    """

    network: str | None = None
    is_testnet: bool = False
    wallet_address: str | None = None
    subaccount: int = 0
    mnemonic: str | None = None
    private_key: str | None = None
    base_url_http: str | None = None
    base_url_ws: str | None = None
    grpc_endpoints: list[str] | None = None
    grpc_tls: bool | None = None
    chain_id: str | None = None
    http_timeout_secs: PositiveFloat = 10.0
    ws_timeout_secs: PositiveFloat = 10.0
    grpc_timeout_secs: PositiveFloat = 5.0
    max_retries: PositiveInt | None = None
    retry_delay_initial_ms: PositiveInt | None = None
    retry_delay_max_ms: PositiveInt | None = None
    http_rate_limit_per_10s: PositiveInt = 100
    grpc_rate_limit_per_min: PositiveInt | None = None
    short_term_block_window: PositiveInt = limits.SHORT_BLOCK_WINDOW_SAFE
    gtc_horizon_days: PositiveInt = limits.GTC_HORIZON_DAYS_DEFAULT
    state_dir: str | None = None
    gtc_short_term: bool = False
    market_order_slippage: PositiveFloat = 0.05
    max_price_age_secs: PositiveFloat = 10.0
    sequence_mode: str = "sequential"
    authenticator_ids: list[int] | None = None
    isolated_child_subaccounts: bool = False
    isolated_margin_buffer: PositiveFloat = 1.1
    isolated_collateral_usdc: PositiveFloat | None = None
    isolated_return_collateral: bool = True

    def __post_init__(self) -> None:
        # Secrets are sealed first: no frame of a later error may hold them in plain text
        for name in ("mnemonic", "private_key"):
            msgspec.structs.force_setattr(self, name, seal_secret(name, getattr(self, name)))
        network = _check_shared(self)
        _check_grpc_endpoints(self.grpc_endpoints)
        _check_bool(self, "grpc_tls", optional=True)
        _check_bool(self, "gtc_short_term")
        _check_positive(self, "market_order_slippage", "max_price_age_secs")
        if not self.market_order_slippage < 1:
            raise ValueError(
                f"invalid `market_order_slippage`: expected 0 to 1, was "
                f"{self.market_order_slippage!r}",
            )
        if self.sequence_mode not in ("sequential", "timestamp"):
            raise ValueError(f"invalid `sequence_mode`, was {self.sequence_mode!r}")
        _check_positive(
            self,
            "http_timeout_secs",
            "ws_timeout_secs",
            "grpc_timeout_secs",
            "http_rate_limit_per_10s",
            "grpc_rate_limit_per_min",
            "short_term_block_window",
            "gtc_horizon_days",
        )
        if isinstance(self.subaccount, bool) or not isinstance(self.subaccount, int):
            raise ValueError(f"invalid `subaccount`: expected an integer, was {self.subaccount!r}")
        if not 0 <= self.subaccount <= MAX_SUBACCOUNT_NUMBER:
            raise ValueError(
                f"invalid `subaccount`: expected 0 to {MAX_SUBACCOUNT_NUMBER}, "
                f"was {self.subaccount}",
            )
        _check_isolated(self)
        limits.check_short_term_blocks("short_term_block_window", self.short_term_block_window)
        limits.check_gtc_horizon_days("gtc_horizon_days", self.gtc_horizon_days)
        if self.state_dir is not None:
            _check_state_dir(self.state_dir)
        if self.chain_id is not None and (not isinstance(self.chain_id, str) or not self.chain_id):
            raise ValueError(f"invalid `chain_id`, was {self.chain_id!r}")
        self._resolve_credentials(network)
        _resolve_wallet_address(self, network)
        _check_authenticator_ids(self, network)

    @property
    def state_path(self) -> Path:
        """
        Return the resolved directory of the client order ID store (not created here).
        """
        return Path(self.state_dir or DEFAULT_STATE_DIR).expanduser()

    def _resolve_credentials(self, network: str) -> None:
        mnemonic = self.mnemonic
        private_key = self.private_key
        if mnemonic is not None and private_key is not None:
            raise ValueError("give either `mnemonic` or `private_key`, not both")
        prefix = ENV_PREFIX[network]
        mnemonic_field, key_field = "mnemonic", "private_key"
        if mnemonic is None and private_key is None:
            mnemonic_field, key_field = f"{prefix}MNEMONIC", f"{prefix}PRIVATE_KEY"
            mnemonic = seal_secret(mnemonic_field, env_value(network, "MNEMONIC"))
            private_key = seal_secret(key_field, env_value(network, "PRIVATE_KEY"))
            if mnemonic is not None and private_key is not None:
                raise ValueError(f"set either `{mnemonic_field}` or `{key_field}`, not both")
            if mnemonic is None and private_key is None:
                raise ValueError(
                    "no credentials: set `mnemonic` or `private_key`, "
                    f"or the environment variable `{mnemonic_field}` or `{key_field}`",
                )
        if mnemonic is not None:
            check_mnemonic(mnemonic_field, mnemonic)
            msgspec.structs.force_setattr(self, "mnemonic", mnemonic)
        if private_key is not None:
            check_private_key(key_field, private_key)
            msgspec.structs.force_setattr(self, "private_key", private_key)
