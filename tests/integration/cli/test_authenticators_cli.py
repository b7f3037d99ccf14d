# SPDX-License-Identifier: Apache-2.0
"""`nautilus-dydx authenticators`: list, add and remove permissioned keys on a sandbox."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from nautilus_dydx.cli import main
from nautilus_dydx.wallet import Wallet
from tests.integration.cli.support import SandboxThread
from tests.integration.sandbox.accountplus_helpers import TRADER_PRIVATE_KEY
from tests.integration.sandbox.helpers import K1_ADDRESS
from tests.integration.sandbox.helpers import K1_PRIVATE_KEY
from tests.integration.sandbox.helpers import make_config


TRADER = Wallet.from_private_key(TRADER_PRIVATE_KEY)


@pytest.fixture(scope="module")
def venue() -> Iterator[SandboxThread]:
    with SandboxThread(make_config(auto_blocks=True, genesis_time_ns=None)) as sandbox:
        yield sandbox


@pytest.fixture
def owner_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DYDX_SANDBOX_MNEMONIC", raising=False)
    monkeypatch.setenv("DYDX_SANDBOX_PRIVATE_KEY", K1_PRIVATE_KEY)


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    captured = capsys.readouterr()
    assert K1_PRIVATE_KEY not in captured.out + captured.err
    return code, " ".join(captured.out.split()), captured.err


def test_add_list_and_remove_a_trading_key(
    venue: SandboxThread, owner_env: None, capsys: pytest.CaptureFixture[str],
) -> None:
    network = venue.network_args()

    code, out, err = _run([
        "authenticators", "add", "--public-key", TRADER.public_key.hex(),
        "--subaccounts", "0", "--clob-pair-ids", "0,1", *network,
    ], capsys)

    assert code == 0, err
    assert "add included in block" in out
    assert f"AllOf(SignatureVerification({TRADER.address})" in out
    assert "SubaccountFilter(0), ClobPairIdFilter(0,1))" in out
    ids = sorted(venue.sandbox.node.chain.accountplus.by_account[K1_ADDRESS])
    code, out, _ = _run(["authenticators", "--address", K1_ADDRESS, *network], capsys)
    assert code == 0
    assert f"{len(ids)} authenticators of {K1_ADDRESS}" in out
    code, out, err = _run(["authenticators", "remove", "--id", str(ids[-1]), *network], capsys)
    assert code == 0, err
    assert f"{len(ids) - 1} authenticators of {K1_ADDRESS}" in out
    assert ids[-1] not in venue.sandbox.node.chain.accountplus.by_account[K1_ADDRESS]


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["remove", "--id", "999"], "refused: accountplus 1"),
        (["remove"], "remove needs --id"),
        (["add"], "add needs --public-key"),
        (["add", "--public-key", "zz"], "invalid --public-key"),
        (["add", "--public-key", "02" * 32], "invalid public key"),
        (["add", "--public-key", TRADER.public_key.hex(), "--subaccounts", "a"],
         "invalid --subaccounts"),
        (["list", "--address", "dydx1nope"], "invalid `--address`"),
    ],
)
def test_mistakes_are_one_line_and_exit_2(
    venue: SandboxThread, owner_env: None, capsys: pytest.CaptureFixture[str],
    argv: list[str], expected: str,
) -> None:
    code, _, err = _run(["authenticators", *argv, *venue.network_args()], capsys)

    assert code == 2
    assert expected in err
    assert len(err.strip().splitlines()) == 1


def test_add_without_the_owner_key_in_the_environment_is_refused(
    venue: SandboxThread, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.delenv("DYDX_SANDBOX_MNEMONIC", raising=False)
    monkeypatch.delenv("DYDX_SANDBOX_PRIVATE_KEY", raising=False)

    code, _, err = _run([
        "authenticators", "add", "--public-key", TRADER.public_key.hex(),
        *venue.network_args(),
    ], capsys)

    assert code == 2
    assert "$DYDX_SANDBOX_PRIVATE_KEY" in err
