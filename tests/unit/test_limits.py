# SPDX-License-Identifier: Apache-2.0
"""One source of limits: every accepted exec config builds an order policy that never fails."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import HealthCheck
from hypothesis import given
from hypothesis import settings
from hypothesis import strategies as st
from nautilus_trader.model.enums import OrderSide
from nautilus_trader.model.enums import OrderType
from nautilus_trader.model.enums import TimeInForce

from nautilus_dydx.common import limits
from nautilus_dydx.config import DYDXExecClientConfig
from nautilus_dydx.order_kinds import FLAGS_LONG_TERM
from nautilus_dydx.order_kinds import FLAGS_SHORT_TERM
from nautilus_dydx.order_kinds import OrderFields
from nautilus_dydx.order_kinds import OrderKindConfig
from nautilus_dydx.order_kinds import plan_cancel
from nautilus_dydx.order_kinds import plan_order


KEY_K2 = "e92a6595c934c991d3b3e987ea9b3125bf61a076deab3a9cb519787b7b3e8d77"
S = 10**16
HEIGHT = 1_000
BLOCK_NS = 1_000_000_000
NOW_NS = 1_767_225_600 * 10**9
NOW_S = NOW_NS // 10**9
DAY = 86_400


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("MNEMONIC", "PRIVATE_KEY", "WALLET_ADDRESS"):
        monkeypatch.delenv(f"DYDX_SANDBOX_{name}", raising=False)


def _config(**kwargs) -> DYDXExecClientConfig:
    return DYDXExecClientConfig(network="sandbox", private_key=KEY_K2, **kwargs)


def test_limits_match_the_protocol_reference() -> None:
    # §4.3: window 20 before v9 and 40 from v9; stateful window 95 days
    assert limits.SHORT_BLOCK_WINDOWS == (20, 40)
    assert limits.STATEFUL_ORDER_WINDOW_SECS == 95 * DAY
    assert limits.GTC_HORIZON_DAYS_MAX == 94
    assert limits.CLIENT_ID_RETENTION_SECS > limits.STATEFUL_ORDER_WINDOW_SECS


def _gtc_limit(expire_ns: int | None = None, tif=TimeInForce.GTC) -> OrderFields:
    return OrderFields(
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        time_in_force=tif,
        quantity_raw=S // 100,
        price_raw=65_000 * S,
        expire_time_ns=expire_ns,
    )


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    blocks=st.one_of(st.integers(-3, 60), st.sampled_from([True, 2.5, "20", None])),
    days=st.one_of(st.integers(-3, 120), st.sampled_from([False, 1.5, "90"])),
    window=st.sampled_from(limits.SHORT_BLOCK_WINDOWS),
)
def test_every_accepted_config_builds_a_policy_that_never_fails(blocks, days, window) -> None:
    kwargs = {}
    if blocks is not None:
        kwargs["short_term_block_window"] = blocks
    kwargs["gtc_horizon_days"] = days
    try:
        config = _config(**kwargs)
    except ValueError as e:
        # Refused at construction, naming the field the policy would refuse
        message = str(e)
        blocks_bad = blocks is not None and not (type(blocks) is int and 1 <= blocks <= 40)
        days_bad = not (type(days) is int and 1 <= days <= 94)
        names_blocks = "short_term_block_window" in message
        names_days = "gtc_horizon_days" in message
        assert (names_blocks and blocks_bad) or (names_days and days_bad)
        with pytest.raises(ValueError):
            OrderKindConfig(
                short_term_blocks=blocks if blocks is not None else 20,
                gtc_horizon_seconds=days * DAY if type(days) is int else days,
            )
        return

    policy = OrderKindConfig.from_exec_config(config, short_block_window=window)

    assert policy.blocks_ahead == min(config.short_term_block_window, window)
    ioc = plan_order(_gtc_limit(tif=TimeInForce.IOC), HEIGHT, BLOCK_NS, NOW_NS, policy)
    assert ioc.order_flags == FLAGS_SHORT_TERM
    assert HEIGHT + 1 <= ioc.good_til_block <= HEIGHT + window  # Valid on that chain
    gtc = plan_order(_gtc_limit(), HEIGHT, BLOCK_NS, NOW_NS, policy)
    assert gtc.order_flags == FLAGS_LONG_TERM
    assert NOW_S < gtc.good_til_block_time <= NOW_S + 95 * DAY - policy.stateful_margin_seconds
    cancel = plan_cancel(0, ioc.good_til_block, 0, HEIGHT, NOW_NS, policy)
    assert cancel.good_til_block <= HEIGHT + window


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"short_term_block_window": 41}, "short_term_block_window"),
        ({"short_term_block_window": 0}, "short_term_block_window"),
        ({"gtc_horizon_days": 95}, "gtc_horizon_days"),  # The chain's edge, no margin left
        ({"gtc_horizon_days": 0}, "gtc_horizon_days"),
    ],
)
def test_config_refuses_what_the_policy_would(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        _config(**kwargs)


def test_config_boundaries_are_accepted() -> None:
    config = _config(short_term_block_window=40, gtc_horizon_days=94)
    safe = OrderKindConfig.from_exec_config(config)
    assert safe.blocks_ahead == 20  # 40 only when the chain reports it
    v9 = OrderKindConfig.from_exec_config(config, short_block_window=40)
    assert v9.blocks_ahead == 40 and v9.gtc_horizon_seconds == 94 * DAY


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"short_block_window": 30}, "short_block_window"),
        ({"short_term_blocks": 41}, "short_term_blocks"),
        ({"gtc_horizon_seconds": 95 * DAY}, "gtc_horizon_seconds"),
        ({"stateful_margin_seconds": -1}, "stateful_margin_seconds"),
        ({"stateful_margin_seconds": DAY + 1}, "stateful_margin_seconds"),
        ({"stateful_cancel_seconds": 0}, "stateful_cancel_seconds"),
        ({"price_rounding": "nearest"}, "price_rounding"),
    ],
)
def test_policy_refuses_naming_the_field(kwargs: dict, field: str) -> None:
    with pytest.raises(ValueError, match=field):
        OrderKindConfig(**kwargs)


def test_state_dir_is_validated_without_creating_it(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b"
    config = _config(state_dir=str(target))
    assert config.state_path == target and not target.exists()
    assert _config().state_path == Path("~/.nautilus_dydx").expanduser()


@pytest.mark.parametrize("bad", ["", "   ", "nul\x00byte"])
def test_state_dir_refuses_non_paths(bad: str) -> None:
    with pytest.raises(ValueError, match="state_dir"):
        _config(state_dir=bad)


def test_state_dir_refuses_a_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(ValueError, match="state_dir.*not a directory"):
        _config(state_dir=str(blocker))
    with pytest.raises(ValueError, match="state_dir.*cannot be created"):
        _config(state_dir=str(blocker / "below"))


@pytest.mark.parametrize(
    ("version", "window"),
    [
        ("v9.0.3", 40),
        ("9.1.0", 40),
        (" v9 ", 40),
        ("v8.2.1", 20),
        ("v5.0.0", 20),
        ("v10.0.0", 20),  # Not known to use 40: the safe window
        ("", 20),
        ("garbage", 20),
        ("v٩.0", 20),  # A non-ASCII digit is not a version
        (None, 20),
    ],
)
def test_short_block_window_from_the_node_version(version, window: int) -> None:
    assert limits.short_block_window_for_version(version) == window
    OrderKindConfig(short_block_window=window)  # Always a window the policy accepts
