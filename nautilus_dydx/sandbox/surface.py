# SPDX-License-Identifier: Apache-2.0
"""The non-order messages a sandbox tx may carry beside stateful orders (leverage, transfers)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from nautilus_dydx._proto.dydxprotocol.clob import tx_pb2 as clob_tx_pb2
from nautilus_dydx._proto.dydxprotocol.sending import tx_pb2 as sending_tx_pb2
from nautilus_dydx.sandbox import accountplus
from nautilus_dydx.sandbox import leverage
from nautilus_dydx.sandbox import transfers
from nautilus_dydx.sandbox.chain_errors import ChainError


if TYPE_CHECKING:
    from nautilus_dydx.sandbox.chain import ChainState


MESSAGE_CLASSES: dict[str, type] = {
    leverage.URL_UPDATE_LEVERAGE: clob_tx_pb2.MsgUpdateLeverage,
    transfers.URL_CREATE_TRANSFER: sending_tx_pb2.MsgCreateTransfer,
    **accountplus.MESSAGE_CLASSES,
}
_TYPES = tuple(MESSAGE_CLASSES.values())

SurfaceMessage = clob_tx_pb2.MsgUpdateLeverage | sending_tx_pb2.MsgCreateTransfer


def is_surface_message(message: object) -> bool:
    """
    Return whether `message` is one of this module's message types.

    Parameters
    ----------
    message : Message
        A decoded tx message.

    Returns
    -------
    bool

    """
    return isinstance(message, _TYPES)


def validate_basic(message: SurfaceMessage) -> None:
    """
    Run the stateless checks of a leverage or transfer message.

    Parameters
    ----------
    message : MsgUpdateLeverage | MsgCreateTransfer
        The message.

    Raises
    ------
    ChainError

    """
    if accountplus.is_message(message):
        accountplus.validate_basic(message)
    elif isinstance(message, clob_tx_pb2.MsgUpdateLeverage):
        leverage.validate_basic(message)
    else:
        transfers.validate_basic(message)


def signer(message: SurfaceMessage) -> str:
    """
    Return the address that must sign `message` (the subaccount or sender owner).

    Parameters
    ----------
    message : MsgUpdateLeverage | MsgCreateTransfer
        The message.

    Returns
    -------
    str

    """
    if accountplus.is_message(message):
        return message.sender
    if isinstance(message, clob_tx_pb2.MsgUpdateLeverage):
        return message.subaccount_id.owner
    return message.transfer.sender.owner


def check_composition(messages: list) -> None:
    """
    Refuse a tx with more than one transfer or more than one leverage update (`sdk` 18).

    Parameters
    ----------
    messages : list
        The decoded messages of the tx.

    Raises
    ------
    ChainError

    """
    for cls, name in (
        (sending_tx_pb2.MsgCreateTransfer, "MsgCreateTransfer"),
        (clob_tx_pb2.MsgUpdateLeverage, "MsgUpdateLeverage"),
    ):
        if sum(1 for m in messages if isinstance(m, cls)) > 1:
            raise ChainError("sdk", 18, f"a transaction may contain at most one {name}: invalid "
                                        "request")


def check(chain: ChainState, message: SurfaceMessage, messages: list) -> None:
    """
    Run the stateful CheckTx checks of `message`, one of the messages of a tx.

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgUpdateLeverage | MsgCreateTransfer
        The message.
    messages : list
        Every message of the same tx (a transfer sees the ones before it).

    Raises
    ------
    ChainError

    """
    if accountplus.is_message(message):
        accountplus.check(chain, message, messages)
        return
    if isinstance(message, clob_tx_pb2.MsgUpdateLeverage):
        leverage.check(chain, message)
        return
    sender = message.transfer.sender
    earlier = 0
    for other in messages:
        if other is message:
            break
        if isinstance(other, sending_tx_pb2.MsgCreateTransfer):
            other_sender = other.transfer.sender
            if (other_sender.owner, other_sender.number) == (sender.owner, sender.number):
                earlier += other.transfer.amount
    transfers.check(chain, message, earlier)


def deliver(
    chain: ChainState, message: SurfaceMessage, tx_hash: str, height: int, time_ns: int,
) -> None:
    """
    Apply `message` in the block that includes its tx.

    Parameters
    ----------
    chain : ChainState
        The chain.
    message : MsgUpdateLeverage | MsgCreateTransfer
        The message.
    tx_hash : str
        The including tx.
    height : int
        The block height.
    time_ns : int
        The block time.

    """
    if accountplus.is_message(message):
        accountplus.deliver(chain, message)
    elif isinstance(message, clob_tx_pb2.MsgUpdateLeverage):
        leverage.deliver(chain, message)
    else:
        transfers.deliver(chain, message, tx_hash, height, time_ns)
