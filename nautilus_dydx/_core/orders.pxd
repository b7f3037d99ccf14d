# SPDX-License-Identifier: Apache-2.0
"""Order quantization and protobuf wire encoding for dYdX v4 order transactions."""

from libc.stdint cimport int32_t
from libc.stdint cimport uint32_t
from libc.stdint cimport uint64_t

from nautilus_trader.core.rust.model cimport PriceRaw
from nautilus_trader.core.rust.model cimport QuantityRaw


# Rounding modes of the quantization helpers
cdef enum Rounding:
    ROUND_EXACT = 0
    ROUND_FLOOR = 1
    ROUND_CEIL = 2


cdef struct MarketParams:
    int32_t atomic_resolution           # A: 1 base quantum = 10**A base units
    int32_t quantum_conversion_exponent  # Q
    uint64_t step_base_quantums         # S
    uint32_t subticks_per_tick          # P
    uint32_t clob_pair_id
    QuantityRaw tick_raw                # One tick, scaled to 10**FIXED_PRECISION
    QuantityRaw step_raw                # One step, scaled to 10**FIXED_PRECISION
    int32_t price_exponent              # e: subticks = price_raw * 10**e (A - Q + 6 - 16)


cdef Py_ssize_t put_varint(unsigned char* buf, Py_ssize_t pos, uint64_t value) noexcept nogil
cdef Py_ssize_t varint_size(uint64_t value) noexcept nogil
cdef bytes length_delimited(uint64_t field, bytes payload)


cdef class MarketEncoder:
    cdef MarketParams _m
    cdef readonly str owner
    """The bech32 owner address of the subaccount.\n\n:returns: `str`"""
    cdef readonly uint32_t subaccount_number
    """The subaccount number.\n\n:returns: `int`"""
    cdef bytes _subaccount_field    # OrderId field 1: tag, length, encoded SubaccountId
    cdef bytes _subaccount_msg      # Encoded SubaccountId

    cdef uint64_t subticks_c(self, PriceRaw price_raw, Rounding mode) except 0
    cdef uint64_t quantums_c(self, QuantityRaw size_raw, Rounding mode) except 0
    cdef Py_ssize_t _order_id_size(self, uint32_t client_id, uint32_t order_flags) noexcept
    cdef Py_ssize_t _write_order_id(
        self, unsigned char* buf, Py_ssize_t pos, uint32_t client_id, uint32_t order_flags,
    ) noexcept
    cdef Py_ssize_t _write_order(
        self,
        unsigned char* buf,
        Py_ssize_t pos,
        uint32_t client_id,
        uint32_t order_flags,
        int side,
        uint64_t quantums,
        uint64_t subticks,
        uint32_t good_til_block,
        uint32_t good_til_block_time,
        int time_in_force,
        bint reduce_only,
        uint32_t client_metadata,
        int condition_type,
        uint64_t trigger_subticks,
    ) except -1
    cpdef bytes encode_order(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        int side,
        uint64_t quantums,
        uint64_t subticks,
        uint32_t good_til_block=*,
        uint32_t good_til_block_time=*,
        int time_in_force=*,
        bint reduce_only=*,
        uint32_t client_metadata=*,
        int condition_type=*,
        uint64_t conditional_order_trigger_subticks=*,
    )
    cpdef bytes encode_cancel_order(
        self,
        uint32_t client_id,
        uint32_t order_flags,
        uint32_t good_til_block=*,
        uint32_t good_til_block_time=*,
    )


cdef class TxSigner:
    cdef object _sign               # Bound coincurve PrivateKey.sign_recoverable (fallback path)
    cdef unsigned char _seckey[32]  # Zeroed on dealloc; only used by the direct libsecp256k1 path
    cdef readonly bytes public_key
    """The 33-byte compressed secp256k1 public key.\n\n:returns: `bytes`"""
    cdef readonly str chain_id
    """The chain ID signed into every SignDoc.\n\n:returns: `str`"""
    cdef readonly uint64_t account_number
    """The account number signed into every SignDoc.\n\n:returns: `int`"""
    cdef readonly uint64_t gas_limit
    """The fee gas limit.\n\n:returns: `int`"""
    cdef bytes _pubkey_any_field    # SignerInfo field 1 (public key Any) and field 2 (mode info)
    cdef bytes _fee_field           # AuthInfo field 2 (Fee)
    cdef bytes _sign_doc_tail       # SignDoc fields 3 (chain_id) and 4 (account_number)

    cpdef bytes auth_info(self, uint64_t sequence)
    cpdef bytes sign_digest(self, bytes digest)
    cpdef bytes sign_tx(
        self,
        object messages,
        uint64_t sequence,
        str memo=*,
        uint64_t timeout_height=*,
        object authenticators=*,
    )
