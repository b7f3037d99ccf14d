# SPDX-License-Identifier: Apache-2.0
"""List, add or remove an account's permissioned keys (authenticators)."""

from __future__ import annotations

import argparse
import asyncio
import base64
import binascii
import json
import os

from rich.table import Table

from nautilus_dydx.common.address import check_address
from nautilus_dydx.common.credentials import ENV_PREFIX
from nautilus_dydx.common.credentials import env_value
from nautilus_dydx.common.urls import network_endpoints
from nautilus_dydx.grpc.authenticators import TRADING_MESSAGE_TYPES
from nautilus_dydx.grpc.authenticators import AuthenticatorError
from nautilus_dydx.grpc.authenticators import AuthenticatorSpec
from nautilus_dydx.grpc.authenticators import add_authenticator_message
from nautilus_dydx.grpc.authenticators import remove_authenticator_message
from nautilus_dydx.grpc.authenticators import trading_key_authenticator
from nautilus_dydx.grpc.client import DYDXNodeClient
from nautilus_dydx.grpc.types import AuthenticatorInfo
from nautilus_dydx.tools.common import ENV_ADDRESS
from nautilus_dydx.tools.common import UserError
from nautilus_dydx.tools.common import add_network_arguments
from nautilus_dydx.tools.common import endpoints_from
from nautilus_dydx.tools.common import make_console
from nautilus_dydx.tools.common import node_client
from nautilus_dydx.tools.common import run_command
from nautilus_dydx.wallet import Wallet
from nautilus_dydx.wallet import WalletError
from nautilus_dydx.wallet import address_from_public_key


# Polls of GetTx (0.25 s apart) while waiting for the registering tx to be in a block
INCLUSION_POLLS = 120
INCLUSION_POLL_S = 0.25


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """
    Add the `authenticators` options to `parser`.

    Parameters
    ----------
    parser : argparse.ArgumentParser
        The subcommand parser.

    """
    parser.add_argument(
        "action", nargs="?", choices=("list", "add", "remove"), default="list",
        help="list (default), add (needs --public-key) or remove (needs --id); add and "
             "remove are signed with the owner's key from the environment",
    )
    parser.add_argument("--address", default=os.environ.get(ENV_ADDRESS),
                        help=f"the owner's dydx1... address (default: ${ENV_ADDRESS}; add and "
                             "remove: the key's address)")
    parser.add_argument("--public-key", metavar="HEX",
                        help="add: the trading key's 33-byte compressed public key, in hex")
    parser.add_argument("--subaccounts", metavar="N[,N...]",
                        help="add: allow these subaccount numbers only")
    parser.add_argument("--clob-pair-ids", metavar="N[,N...]",
                        help="add: allow these CLOB pair IDs (markets) only")
    parser.add_argument("--message-types", metavar="URL[,URL...]",
                        help="add: allowed message type URLs (default: place, cancel, batch "
                             "cancel; 'any' for no message filter)")
    parser.add_argument("--id", type=int, help="remove: the authenticator ID")
    add_network_arguments(parser)


def _numbers(option: str, text: str | None) -> list[int] | None:
    if text is None:
        return None
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UserError(f"invalid {option}: expected numbers separated by commas, "
                        f"was {text!r}") from None
    if not values:
        raise UserError(f"invalid {option}: no number, was {text!r}")
    return values


def describe(authenticator_type: str, config: bytes) -> str:
    """
    Return a one-line description of an authenticator tree.

    Parameters
    ----------
    authenticator_type : str
        The registered type.
    config : bytes
        The registered configuration.

    Returns
    -------
    str

    """
    if authenticator_type == "SignatureVerification":
        if len(config) == 33:
            return f"SignatureVerification({address_from_public_key(config)})"
        return f"SignatureVerification(<{len(config)} bytes>)"
    if authenticator_type in ("AllOf", "AnyOf"):
        try:
            entries = json.loads(config)
            parts = [describe(e["type"], base64.b64decode(e["config"])) for e in entries]
        except (ValueError, TypeError, KeyError, binascii.Error):
            return f"{authenticator_type}(<unreadable>)"
        return f"{authenticator_type}({', '.join(parts)})"
    return f"{authenticator_type}({config.decode('utf-8', 'replace')})"


def authenticators_table(address: str, authenticators: list[AuthenticatorInfo]) -> Table:
    """
    Return a rich table of an account's authenticators.

    Parameters
    ----------
    address : str
        The owner.
    authenticators : list[AuthenticatorInfo]
        Its authenticators.

    Returns
    -------
    Table

    """
    table = Table(title=f"{len(authenticators)} authenticators of {address}")
    table.add_column("id", justify="right")
    table.add_column("authenticator", overflow="fold")
    for info in authenticators:
        table.add_row(str(info.id), describe(info.type, info.config))
    return table


def _owner_wallet(network: str, address: str | None) -> Wallet:
    prefix = ENV_PREFIX[network]
    mnemonic = env_value(network, "MNEMONIC")
    key = env_value(network, "PRIVATE_KEY")
    if (mnemonic is None) == (key is None):
        raise UserError(
            f"add and remove are signed by the owner: set exactly one of ${prefix}MNEMONIC "
            f"and ${prefix}PRIVATE_KEY",
        )
    try:
        if mnemonic is not None:
            return Wallet.from_mnemonic(mnemonic, address)
        return Wallet.from_private_key(key, address)
    except WalletError as e:
        raise UserError(str(e)) from None


async def _send(node: DYDXNodeClient, owner: Wallet, message: bytes, default_chain: str) -> int:
    info = await node.get_node_info()
    account = await node.get_account(owner.address)
    signer = owner.signer(info.chain_id or default_chain, account.account_number)
    result = await node.broadcast_tx(signer.sign_tx(message, account.sequence))
    if result.code != 0:
        raise UserError(f"refused: {result.codespace} {result.code}: {result.raw_log}")
    for _ in range(INCLUSION_POLLS):
        included = await node.get_tx(result.txhash)
        if included is not None:
            if included.code != 0:
                raise UserError(f"failed in block {included.height}: {included.codespace} "
                                f"{included.code}: {included.raw_log}")
            return included.height
        await asyncio.sleep(INCLUSION_POLL_S)
    raise UserError(f"tx {result.txhash} not in a block after "
                    f"{INCLUSION_POLLS * INCLUSION_POLL_S:.0f} s; list again later")


def _spec(args: argparse.Namespace) -> AuthenticatorSpec:
    if not args.public_key:
        raise UserError("add needs --public-key (the trading key's public key, hex)")
    try:
        public_key = bytes.fromhex(args.public_key.removeprefix("0x"))
    except ValueError:
        raise UserError(f"invalid --public-key: not hex, was {args.public_key!r}") from None
    types: tuple[str, ...] | None = TRADING_MESSAGE_TYPES
    if args.message_types == "any":
        types = None
    elif args.message_types is not None:
        types = tuple(t.strip() for t in args.message_types.split(",") if t.strip())
    try:
        return trading_key_authenticator(
            public_key, types, _numbers("--subaccounts", args.subaccounts),
            _numbers("--clob-pair-ids", args.clob_pair_ids),
        )
    except AuthenticatorError as e:
        raise UserError(str(e)) from None


async def _authenticators(args: argparse.Namespace) -> int:
    endpoints = endpoints_from(args)
    console = make_console()
    if args.action == "list":
        if not args.address:
            raise UserError(f"no account: pass --address or set ${ENV_ADDRESS}")
        try:
            check_address("--address", args.address)
        except ValueError as e:
            raise UserError(str(e)) from None
        async with node_client(endpoints) as node:
            found = await node.get_authenticators(args.address)
        console.print(authenticators_table(args.address, found))
        return 0
    if args.action == "add":
        message_spec = _spec(args)
    elif args.id is None or args.id < 0:
        raise UserError("remove needs --id (an authenticator ID >= 0)")
    owner = _owner_wallet(args.network, args.address)
    default_chain = network_endpoints(args.network).chain_id
    async with node_client(endpoints) as node:
        if args.action == "add":
            message = add_authenticator_message(owner.address, message_spec)
        else:
            message = remove_authenticator_message(owner.address, args.id)
        height = await _send(node, owner, message, default_chain)
        found = await node.get_authenticators(owner.address)
    console.print(f"{args.action} included in block {height}")
    console.print(authenticators_table(owner.address, found))
    return 0


def run(args: argparse.Namespace) -> int:
    """
    Run `nautilus-dydx authenticators` and return the exit status.

    Parameters
    ----------
    args : argparse.Namespace
        The parsed options.

    Returns
    -------
    int

    """
    return run_command(lambda: _authenticators(args))
