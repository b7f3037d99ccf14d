# SPDX-License-Identifier: Apache-2.0
"""`MsgCreateTransfer`: USDC moved between subaccounts, and the event the Indexer reads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from typing import ClassVar

from nautilus_dydx._proto.dydxprotocol.sending import tx_pb2 as sending_tx_pb2
from nautilus_dydx.sandbox.chain_errors import ChainError
from nautilus_dydx.sandbox.chain_errors import validate_subaccount_id
from nautilus_dydx.sandbox.engine import Subaccount
from nautilus_dydx.sandbox.events import BalanceEvent
from nautilus_dydx.sandbox.events import SandboxEvent


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState


URL_CREATE_TRANSFER = "/dydxprotocol.sending.MsgCreateTransfer"
USDC_ASSET_ID = 0


@dataclass(frozen=True)
class TransferEvent(SandboxEvent):
    """
    USDC moved from one subaccount to another by a `MsgCreateTransfer`.

    Parameters
    ----------
    sender_owner : str
        The sender's owner address.
    sender_number : int
        The sender's subaccount number.
    recipient_owner : str
        The recipient's owner address.
    recipient_number : int
        The recipient's subaccount number.
    asset_id : int
        The asset (0 = USDC).
    quantums : int
        The amount in quote quantums (1e-6 USDC).
    tx_hash : str
        The transaction hash.

    """

    type: ClassVar[str] = "transfer"

    sender_owner: str = ""
    sender_number: int = 0
    recipient_owner: str = ""
    recipient_number: int = 0
    asset_id: int = 0
    quantums: int = 0
    tx_hash: str = ""


def validate_basic(message: sending_tx_pb2.MsgCreateTransfer) -> None:
    """
    Run the stateless checks of `MsgCreateTransfer` (codespace `sending`).

    Parameters
    ----------
    message : MsgCreateTransfer
        The message.

    Raises
    ------
    ChainError

    """
    transfer = message.transfer
    validate_subaccount_id(transfer.sender)
    validate_subaccount_id(transfer.recipient)
    if (transfer.sender.owner, transfer.sender.number) == (
        transfer.recipient.owner, transfer.recipient.number,
    ):
        raise ChainError("sending", 1, f"Sender is the same as recipient "
                                       f"({transfer.sender.owner}/{transfer.sender.number})")
    if transfer.asset_id != USDC_ASSET_ID:
        raise ChainError("sending", 1101, "Non-USDC asset transfer not implemented")
    if transfer.amount == 0:
        raise ChainError("sending", 2, "Invalid transfer amount")


def pending_debit(chain: ChainState, owner: str, number: int) -> int:
    """
    Return the USDC already promised away by accepted, not yet included transfers of a sender.

    Parameters
    ----------
    chain : ChainState
        The chain.
    owner : str
        The sender's owner address.
    number : int
        The sender's subaccount number.

    Returns
    -------
    int

    """
    total = 0
    for item in chain.pending:
        for message in item.messages:
            if isinstance(message, sending_tx_pb2.MsgCreateTransfer):
                sender = message.transfer.sender
                if (sender.owner, sender.number) == (owner, number):
                    total += message.transfer.amount
    return total


def _collateralized_after(chain: ChainState, sub: Subaccount | None, debit: int) -> bool:
    if sub is None:
        return debit <= 0
    equity, initial_margin = chain.margin.equity_and_imr(sub)
    return equity - debit >= initial_margin


def check(
    chain: ChainState, message: sending_tx_pb2.MsgCreateTransfer, earlier_in_tx: int = 0,
) -> None:
    """
    Refuse a transfer that would leave the sender undercollateralized (`subaccounts` 102).

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgCreateTransfer
        The message.
    earlier_in_tx : int, default 0
        USDC the same sender moves in earlier messages of the same transaction.

    Raises
    ------
    ChainError

    """
    sender = message.transfer.sender
    sub = chain.subaccounts.get((sender.owner, sender.number))
    debit = message.transfer.amount + earlier_in_tx + pending_debit(
        chain, sender.owner, sender.number,
    )
    if not _collateralized_after(chain, sub, debit):
        raise ChainError(
            "subaccounts", 102,
            f"transfer of {message.transfer.amount} quantums would leave subaccount "
            f"{sender.owner}/{sender.number} undercollateralized: failed to apply subaccount "
            "updates",
        )


def deliver(
    chain: ChainState,
    message: sending_tx_pb2.MsgCreateTransfer,
    tx_hash: str,
    height: int,
    time_ns: int,
) -> bool:
    """
    Move the USDC and publish both balances and the transfer; return whether it was applied.

    The collateral check runs again at inclusion; a transfer that no longer passes it is
    skipped (the chain would include the transaction with a failure code).

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgCreateTransfer
        The message.
    tx_hash : str
        The including transaction.
    height : int
        The block height.
    time_ns : int
        The block time.

    Returns
    -------
    bool

    """
    transfer = message.transfer
    sender_key = (transfer.sender.owner, transfer.sender.number)
    recipient_key = (transfer.recipient.owner, transfer.recipient.number)
    if not _collateralized_after(chain, chain.subaccounts.get(sender_key), transfer.amount):
        return False
    sender = chain.subaccounts[sender_key]
    recipient = chain.subaccounts.get(recipient_key)
    if recipient is None:
        recipient = Subaccount(recipient_key[0], recipient_key[1], 0)
        chain.subaccounts[recipient_key] = recipient
    sender.usdc -= transfer.amount
    recipient.usdc += transfer.amount
    for sub in (sender, recipient):
        chain.bus.publish(
            BalanceEvent(0, height, time_ns, sub.owner, sub.number, 0, sub.usdc, "TRANSFER"),
        )
    chain.bus.publish(
        TransferEvent(
            0, height, time_ns, sender.owner, sender.number, recipient.owner, recipient.number,
            transfer.asset_id, transfer.amount, tx_hash,
        ),
    )
    return True
