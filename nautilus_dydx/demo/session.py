# SPDX-License-Identifier: Apache-2.0
"""A venue (in-process sandbox or a real network) and a TradingNode with both dYdX clients."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
from collections.abc import AsyncIterator
from collections.abc import Callable
from dataclasses import dataclass
from dataclasses import field

from nautilus_trader.common.actor import Actor
from nautilus_trader.config import InstrumentProviderConfig
from nautilus_trader.config import LiveExecEngineConfig
from nautilus_trader.config import LoggingConfig
from nautilus_trader.config import TradingNodeConfig
from nautilus_trader.live.node import TradingNode
from nautilus_trader.model.identifiers import ClientId
from nautilus_trader.trading.strategy import Strategy

from nautilus_dydx.common.constants import DYDX
from nautilus_dydx.common.credentials import ENV_PREFIX
from nautilus_dydx.config import DYDXDataClientConfig
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.factories import DYDXLiveDataClientFactory
from nautilus_dydx.factories import DYDXLiveExecClientFactory
from nautilus_dydx.factories import clear_cached_clients
from nautilus_dydx.sandbox.agents import AgentConfig
from nautilus_dydx.sandbox.agents import MarketAgents
from nautilus_dydx.sandbox.cli import seeded_mnemonic
from nautilus_dydx.sandbox.config import AccountConfig
from nautilus_dydx.sandbox.config import SandboxConfig
from nautilus_dydx.sandbox.config import default_markets
from nautilus_dydx.sandbox.indexer import IndexerSandbox
from nautilus_dydx.sandbox.keys import key_from_mnemonic


DEFAULT_MARKETS = ("BTC-USD", "ETH-USD")
NETWORK_ENV = "DYDX_NETWORK"


@dataclass(frozen=True)
class Venue:
    """
    Where a node connects: the network, its endpoints and the account's credentials.

    Parameters
    ----------
    network : str
        ``sandbox``, ``testnet`` or ``mainnet``.
    wallet_address : str | None
        The account's address (derived from the key when None).
    http_url, ws_url : str | None
        Indexer endpoint overrides (None: the network's defaults).
    grpc_endpoints : list[str] | None
        Node endpoint overrides.
    chain_id : str | None
        Chain id override.
    state_dir : str | None
        Directory of the client order ID store (None: the adapter's default).
    sandbox : IndexerSandbox | None
        The in-process sandbox, when the venue is one.

    """

    network: str
    wallet_address: str | None = None
    http_url: str | None = None
    ws_url: str | None = None
    grpc_endpoints: list[str] | None = None
    chain_id: str | None = None
    state_dir: str | None = None
    sandbox: IndexerSandbox | None = None
    mnemonic: str | None = field(default=None, repr=False)
    private_key: str | None = field(default=None, repr=False)

    def data_config(self, **overrides) -> DYDXDataClientConfig:
        """
        Return the data client configuration for this venue.

        Parameters
        ----------
        **overrides
            Further `DYDXDataClientConfig` fields.

        Returns
        -------
        DYDXDataClientConfig

        """
        values = {
            "network": self.network,
            "base_url_http": self.http_url,
            "base_url_ws": self.ws_url,
            "instrument_provider": InstrumentProviderConfig(load_all=True),
        }
        values.update(overrides)
        return DYDXDataClientConfig(**values)

    def exec_config(self, **overrides) -> DYDXExecClientConfig:
        """
        Return the execution client configuration for this venue.

        Parameters
        ----------
        **overrides
            Further `DYDXExecClientConfig` fields.

        Returns
        -------
        DYDXExecClientConfig

        """
        values = {
            "network": self.network,
            "wallet_address": self.wallet_address,
            "mnemonic": self.mnemonic,
            "private_key": self.private_key,
            "base_url_http": self.http_url,
            "base_url_ws": self.ws_url,
            "grpc_endpoints": self.grpc_endpoints,
            "chain_id": self.chain_id,
            "instrument_provider": InstrumentProviderConfig(load_all=True),
        }
        if self.state_dir is not None:
            values["state_dir"] = self.state_dir
        values.update(overrides)
        return DYDXExecClientConfig(**values)


@dataclass(frozen=True)
class SandboxSettings:
    """
    The in-process sandbox of a demo or example run.

    Parameters
    ----------
    block_time_ms : int, default 250
        The block interval (blocks follow the wall clock).
    seed : int, default 7
        The sandbox seed (test account and agents).
    markets : tuple[str, ...]
        The listed markets.
    usdc : int, default 100_000
        USDC of the trading account.
    levels : int, default 30
        Price levels the liquidity agents quote per side.
    rate_limit : bool, default True
        Apply the venue's REST budget.

    """

    block_time_ms: int = 250
    seed: int = 7
    markets: tuple[str, ...] = DEFAULT_MARKETS
    usdc: int = 100_000
    levels: int = 30
    rate_limit: bool = True


@contextlib.asynccontextmanager
async def sandbox_venue(settings: SandboxSettings | None = None) -> AsyncIterator[Venue]:
    """
    Run an in-process sandbox with liquidity agents on free loopback ports.

    The trading account is the sandbox's seeded test account 0 (sandbox only).

    Parameters
    ----------
    settings : SandboxSettings | None
        The sandbox settings.

    Yields
    ------
    Venue

    """
    settings = settings if settings is not None else SandboxSettings()
    known = {m.ticker: m for m in default_markets()}
    unknown = [t for t in settings.markets if t not in known]
    if unknown:
        raise ValueError(f"invalid markets, was {unknown!r} (known: {', '.join(known)})")
    mnemonic = seeded_mnemonic(settings.seed, 0)
    config = SandboxConfig(
        seed=settings.seed,
        block_time_ms=settings.block_time_ms,
        markets=tuple(known[t] for t in settings.markets),
        accounts=(AccountConfig(mnemonic=mnemonic, subaccounts={0: settings.usdc * 1_000_000}),),
        # Room for a market maker's replacements and a few stateful orders per block
        stateful_rate_limits=((1, 10), (100, 200)),
    )
    sandbox = IndexerSandbox(config, rate_limit="default" if settings.rate_limit else None)
    await sandbox.start()
    state_dir = tempfile.TemporaryDirectory(prefix="nautilus-dydx-demo-")
    try:
        sandbox.agents = MarketAgents(
            sandbox.node, AgentConfig(levels=settings.levels, requote_every=3),
        )
        sandbox.agents.start()
        yield Venue(
            network="sandbox",
            wallet_address=key_from_mnemonic(mnemonic).address,
            mnemonic=mnemonic,
            http_url=sandbox.http_url,
            ws_url=sandbox.ws_url,
            grpc_endpoints=[sandbox.grpc_endpoint],
            chain_id=sandbox.node.chain.chain_id,
            state_dir=state_dir.name,
            sandbox=sandbox,
        )
    finally:
        await sandbox.stop()
        state_dir.cleanup()


def network_venue(network: str, environ: dict[str, str] | None = None) -> Venue:
    """
    Return a real network's venue with credentials from the environment.

    Reads ``DYDX_MNEMONIC`` or ``DYDX_PRIVATE_KEY`` and ``DYDX_WALLET_ADDRESS``; when neither
    secret is set the adapter's own lookup (``DYDX_TESTNET_*`` on testnet) applies.

    Parameters
    ----------
    network : str
        ``testnet`` or ``mainnet``.
    environ : dict[str, str] | None
        The environment (default ``os.environ``).

    Returns
    -------
    Venue

    Raises
    ------
    ValueError
        If the network is not a real one.

    """
    if network not in ("testnet", "mainnet"):
        raise ValueError(f"invalid network, was {network!r} (testnet or mainnet)")
    env = os.environ if environ is None else environ
    own = env.get("DYDX_MNEMONIC") or env.get("DYDX_PRIVATE_KEY")
    prefix = ENV_PREFIX[network]
    if not own and not (env.get(f"{prefix}MNEMONIC") or env.get(f"{prefix}PRIVATE_KEY")):
        raise ValueError(
            f"no credentials for {network}: set DYDX_MNEMONIC or DYDX_PRIVATE_KEY (and "
            "DYDX_WALLET_ADDRESS)",
        )
    return Venue(
        network=network,
        wallet_address=env.get("DYDX_WALLET_ADDRESS") or None,
        mnemonic=env.get("DYDX_MNEMONIC") or None,
        private_key=env.get("DYDX_PRIVATE_KEY") or None,
    )


def build_node(
    venue: Venue,
    strategies: list[Strategy],
    actors: list[Actor] | None = None,
    log_level: str = "WARNING",
    trader_id: str = "DEMO-001",
) -> TradingNode:
    """
    Return a built TradingNode with the dYdX data and execution clients (via the factories).

    Parameters
    ----------
    venue : Venue
        The venue.
    strategies : list[Strategy]
        The strategies to trade.
    actors : list[Actor] | None
        Further actors (recorders).
    log_level : str, default "WARNING"
        Nautilus's log level.
    trader_id : str, default "DEMO-001"
        The trader ID.

    Returns
    -------
    TradingNode

    """
    clear_cached_clients()
    config = TradingNodeConfig(
        trader_id=trader_id,
        logging=LoggingConfig(log_level=log_level),
        exec_engine=LiveExecEngineConfig(reconciliation=True),
        data_clients={DYDX: venue.data_config()},
        exec_clients={DYDX: venue.exec_config()},
        timeout_connection=30.0,
        timeout_reconciliation=10.0,
        timeout_disconnection=5.0,
        timeout_post_stop=1.0,
    )
    node = TradingNode(config=config, loop=asyncio.get_running_loop())
    node.add_data_client_factory(DYDX, DYDXLiveDataClientFactory)
    node.add_exec_client_factory(DYDX, DYDXLiveExecClientFactory)
    for actor in actors or ():
        node.trader.add_actor(actor)
    for strategy in strategies:
        node.trader.add_strategy(strategy)
    node.build()
    return node


async def wait_until(
    condition: Callable[[], bool], timeout: float, interval: float = 0.05,
) -> bool:
    """
    Wait until `condition()` holds or `timeout` seconds pass; return whether it held.

    Parameters
    ----------
    condition : Callable[[], bool]
    timeout : float
    interval : float, default 0.05

    Returns
    -------
    bool

    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() >= deadline:
            return False
        await asyncio.sleep(interval)
    return True


@contextlib.asynccontextmanager
async def running_node(node: TradingNode, start_timeout: float = 60.0) -> AsyncIterator[None]:
    """
    Run a built node in the current loop; stop and dispose of it on exit.

    Parameters
    ----------
    node : TradingNode
    start_timeout : float, default 60.0
        Seconds to wait for the node and every strategy to run.

    Raises
    ------
    RuntimeError
        If the node does not start in time.

    """
    task = asyncio.get_running_loop().create_task(node.run_async())
    try:
        started = await wait_until(
            lambda: task.done() or (
                node.is_running()
                and all(s.is_running for s in node.trader.strategies())
            ),
            start_timeout,
        )
        if task.done() and task.exception() is not None:
            raise RuntimeError(f"the node failed to start: {task.exception()!r}")
        if not started:
            raise RuntimeError(f"the node did not start within {start_timeout:g} s")
        yield
    finally:
        with contextlib.suppress(Exception):
            await node.stop_async()
        await asyncio.sleep(0.05)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await task
        clear_cached_clients()


async def stop_strategies(node: TradingNode, settle_timeout: float = 10.0) -> bool:
    """
    Stop every strategy (each cancels its orders) and wait until no order is open or in flight.

    Parameters
    ----------
    node : TradingNode
    settle_timeout : float, default 10.0

    Returns
    -------
    bool
        Whether every order closed in time.

    """
    strategies = [s for s in node.trader.strategies() if s.is_running]
    for strategy in strategies:
        strategy.stop()
    cache = node.kernel.cache
    await wait_until(lambda: not cache.orders_inflight(), settle_timeout / 2)
    # Nautilus's cancel-all leaves out orders still in flight, and sends nothing when none is
    # open: an order accepted after it is canceled here
    for strategy in strategies:
        for instrument_id in {o.instrument_id for o in cache.orders_open(strategy_id=strategy.id)}:
            strategy.cancel_all_orders(instrument_id)
    return await wait_until(
        lambda: not cache.orders_open() and not cache.orders_inflight()
        and not cache.orders_emulated(),
        settle_timeout,
    )


@dataclass
class Session:
    """
    A running node against a venue.

    Parameters
    ----------
    venue : Venue
    node : TradingNode

    """

    venue: Venue
    node: TradingNode

    @property
    def sandbox(self) -> IndexerSandbox | None:
        """The in-process sandbox, if the venue is one."""
        return self.venue.sandbox

    @property
    def cache(self):
        """The node's cache."""
        return self.node.kernel.cache

    @property
    def exec_client(self):
        """The dYdX execution client."""
        return self.node.kernel.exec_engine._clients[ClientId(DYDX)]


@contextlib.asynccontextmanager
async def sandbox_session(
    strategies: list[Strategy],
    actors: list[Actor] | None = None,
    settings: SandboxSettings | None = None,
    log_level: str = "ERROR",
) -> AsyncIterator[Session]:
    """
    Run strategies in a TradingNode against a fresh in-process sandbox.

    Parameters
    ----------
    strategies : list[Strategy]
    actors : list[Actor] | None
    settings : SandboxSettings | None
    log_level : str, default "ERROR"

    Yields
    ------
    Session

    """
    async with sandbox_venue(settings) as venue:
        node = build_node(venue, strategies, actors, log_level=log_level)
        async with running_node(node):
            yield Session(venue, node)
