# SPDX-License-Identifier: Apache-2.0
"""Order quantization and protobuf wire encoding for dYdX v4 order transactions."""

DIRECT_SECP256K1: bool
ROUND_EXACT_MODE: int
ROUND_FLOOR_MODE: int
ROUND_CEIL_MODE: int
ORDER_FLAGS_SHORT_TERM: int
ORDER_FLAGS_CONDITIONAL: int
ORDER_FLAGS_LONG_TERM: int
TYPE_URL_PLACE_ORDER: str
TYPE_URL_CANCEL_ORDER: str
TYPE_URL_BATCH_CANCEL: str
TYPE_URL_PUBKEY: str
TYPE_URL_TX_EXTENSION: str

class MarketEncoder:
    owner: str
    subaccount_number: int
    def __init__(
        self,
        owner: str,
        subaccount_number: int,
        clob_pair_id: int,
        atomic_resolution: int,
        quantum_conversion_exponent: int,
        step_base_quantums: int,
        subticks_per_tick: int,
    ) -> None: ...
    @property
    def clob_pair_id(self) -> int: ...
    @property
    def atomic_resolution(self) -> int: ...
    @property
    def quantum_conversion_exponent(self) -> int: ...
    @property
    def step_base_quantums(self) -> int: ...
    @property
    def subticks_per_tick(self) -> int: ...
    @property
    def tick_size_raw(self) -> int: ...
    @property
    def step_size_raw(self) -> int: ...
    def subticks(self, price_raw: int, rounding: int = ...) -> int: ...
    def quantums(self, size_raw: int, rounding: int = ...) -> int: ...
    def price_raw_from_subticks(self, subticks: int) -> int: ...
    def size_raw_from_quantums(self, quantums: int) -> int: ...
    def quote_quantums(self, subticks: int, quantums: int) -> int: ...
    def encode_order_id(self, client_id: int, order_flags: int) -> bytes: ...
    def encode_order(
        self,
        client_id: int,
        order_flags: int,
        side: int,
        quantums: int,
        subticks: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
        time_in_force: int = 0,
        reduce_only: bool = False,
        client_metadata: int = 0,
        condition_type: int = 0,
        conditional_order_trigger_subticks: int = 0,
    ) -> bytes: ...
    def place_order_any(
        self,
        client_id: int,
        order_flags: int,
        side: int,
        quantums: int,
        subticks: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
        time_in_force: int = 0,
        reduce_only: bool = False,
        client_metadata: int = 0,
        condition_type: int = 0,
        conditional_order_trigger_subticks: int = 0,
    ) -> bytes: ...
    def encode_place_order(self, *args: object, **kwargs: object) -> bytes: ...
    def encode_cancel_order(
        self,
        client_id: int,
        order_flags: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
    ) -> bytes: ...
    def cancel_order_any(
        self,
        client_id: int,
        order_flags: int,
        good_til_block: int = 0,
        good_til_block_time: int = 0,
    ) -> bytes: ...
    def encode_batch_cancel(
        self, batches: list[tuple[int, list[int]]], good_til_block: int,
    ) -> bytes: ...
    def batch_cancel_any(
        self, batches: list[tuple[int, list[int]]], good_til_block: int,
    ) -> bytes: ...

class TxSigner:
    public_key: bytes
    chain_id: str
    account_number: int
    gas_limit: int
    def __init__(
        self,
        private_key: bytes,
        chain_id: str,
        account_number: int,
        gas_limit: int = 1_000_000,
        fee_amount: list[tuple[str, int | str]] | None = None,
    ) -> None: ...
    def auth_info(self, sequence: int) -> bytes: ...
    def sign_digest(self, digest: bytes) -> bytes: ...
    def sign_tx(
        self,
        messages: bytes | list[bytes],
        sequence: int,
        memo: str = "",
        timeout_height: int = 0,
        authenticators: list[int] | None = None,
    ) -> bytes: ...

def encode_any(type_url: str, value: bytes) -> bytes: ...
def encode_tx_body(
    messages: bytes | list[bytes],
    memo: str = "",
    timeout_height: int = 0,
    authenticators: list[int] | None = None,
) -> bytes: ...
def encode_auth_info(
    public_key: bytes,
    sequence: int,
    gas_limit: int,
    fee_amount: list[tuple[str, int | str]] | None = None,
) -> bytes: ...
def encode_sign_doc(
    body_bytes: bytes, auth_info_bytes: bytes, chain_id: str, account_number: int,
) -> bytes: ...
def encode_tx_raw(body_bytes: bytes, auth_info_bytes: bytes, signatures: list[bytes]) -> bytes: ...
def tx_hash(tx_raw: bytes) -> str: ...
def pack_ascii_client_order_id(client_order_id: str) -> tuple[int, int] | None: ...
