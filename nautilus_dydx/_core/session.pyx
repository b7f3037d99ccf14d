# SPDX-License-Identifier: Apache-2.0
"""One Indexer connection: the frame listener plus per-connection message_id gap tracking."""

from nautilus_dydx._core.frames import Connected
from nautilus_dydx._core.frames import FrameError
from nautilus_dydx._core.frames import ResyncNeeded
from nautilus_dydx._core.frames import Subscribed
from nautilus_dydx._core.frames import Unsubscribed
from nautilus_dydx._core.frames import WsError
from nautilus_trader.model.data import OrderBookDeltas
from nautilus_trader.model.data import TradeTick

from cpython.bytes cimport PyBytes_AS_STRING
from cpython.bytes cimport PyBytes_GET_SIZE
from libc.stdint cimport uint64_t
from libc.stdint cimport PTRDIFF_MAX

from picows.picows cimport WSFrame
from picows.picows cimport WSMsgType
from picows.picows cimport WSTransport

from nautilus_dydx._core.frames cimport DYDXWsListener
from nautilus_dydx._core.frames cimport FrameParser


cdef extern from "string.h" nogil:
    void* memmem(const void* haystack, size_t hlen, const void* needle, size_t nlen)


# A jump larger than this is reported at once rather than kept as individual holes
cdef Py_ssize_t MAX_HOLES = 4096
cdef const char* KEY = b'"message_id":'
cdef Py_ssize_t KEY_LEN = 13

cdef object _Connected = Connected
cdef object _WsError = WsError
cdef object _Subscribed = Subscribed
cdef object _Unsubscribed = Unsubscribed
cdef object _ResyncNeeded = ResyncNeeded
cdef object _OrderBookDeltas = OrderBookDeltas
cdef object _TradeTick = TradeTick


cdef inline bint scan_message_id_c(
    const char* p, Py_ssize_t n, uint64_t* out,
) noexcept nogil:
    # First top-level-looking `"message_id": <digits>` (the envelope puts it before contents)
    cdef const char* at = <const char*>memmem(p, n, KEY, KEY_LEN)
    cdef Py_ssize_t i
    cdef uint64_t v = 0
    cdef int digits = 0
    if at == NULL:
        return False
    i = (at - p) + KEY_LEN
    while i < n and (p[i] == 32 or p[i] == 9 or p[i] == 10 or p[i] == 13):
        i += 1
    while i < n and 48 <= p[i] <= 57 and digits < 19:
        v = v * 10 + <uint64_t>(p[i] - 48)
        digits += 1
        i += 1
    if digits == 0 or (i < n and 48 <= p[i] <= 57):
        return False  # Absent, or beyond 19 digits (never wrapped)
    out[0] = v
    return True


cdef inline bint _message_id(
    FrameParser parser, const char* p, Py_ssize_t n, uint64_t* out,
) noexcept:
    # After `parser` parsed the frame: the message_id its scanner read, else a search of p
    if parser.scanned_id:
        out[0] = parser.scanned_message_id
        return True
    return scan_message_id_c(p, n, out)


def scan_message_id(bytes data not None) -> int | None:
    """
    Return the envelope's ``message_id`` of a raw Indexer frame, or ``None`` if absent.

    Parameters
    ----------
    data : bytes
        The frame payload.

    Returns
    -------
    int or None

    """
    cdef uint64_t v = 0
    if scan_message_id_c(PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), &v):
        return v
    return None


cdef class MessageIdTracker:
    """
    Track the per-connection ``message_id`` counter of the Indexer and find lost messages.

    The server numbers every ``subscribed``, ``unsubscribed``, ``channel_data`` and
    ``channel_batch_data`` message of a connection 1, 2, 3, ... (protocol reference §3.1). A
    ``subscribed`` reply carries the id allocated when the request arrived, so it can come after
    larger ids: a skipped id is a hole that only an outstanding subscribe may still fill. Once
    there are more holes than outstanding subscribes, the holes are reported as missing.

    """

    def __init__(self) -> None:
        self.last_message_id = 0
        self.missing = 0
        self.duplicates = 0
        self.pending_subscribes = 0
        self._holes = set()

    def reset(self) -> None:
        """
        Start counting again from 0 (a ``connected`` message).
        """
        self.last_message_id = 0
        self._holes.clear()

    @property
    def holes(self) -> frozenset:
        """
        The skipped ids not yet filled or reported.

        Returns
        -------
        frozenset[int]

        """
        return frozenset(self._holes)

    def observe(self, uint64_t message_id):
        """
        Record one counted message; return the ids now known to be missing (often empty).

        Parameters
        ----------
        message_id : int
            The message's ``message_id``.

        Returns
        -------
        list[int] | range | None
            A jump of more than 4096 ids comes back as a ``range`` (from the oldest hole), so
            memory stays bounded whatever the id.

        """
        return self.observe_c(message_id)

    def check(self):
        """
        Return the ids known to be missing given `pending_subscribes` (after a reply arrived).

        Returns
        -------
        list[int]

        """
        return self.check_c()

    cdef object observe_c(self, uint64_t message_id):
        cdef uint64_t last = self.last_message_id
        cdef uint64_t skipped
        cdef object first
        if message_id == last + 1:
            self.last_message_id = message_id
            if self._holes:
                return self.check_c()
            return None
        if message_id > last:
            skipped = message_id - last - 1
            self.last_message_id = message_id
            if skipped > <uint64_t>MAX_HOLES:
                # A range, not a list: a message_id near 2**64 must not need 2**64 ints
                first = min(self._holes) if self._holes else last + 1
                self.missing += len(self._holes) + skipped
                self._holes.clear()
                # Capped so that len() fits a Py_ssize_t (an id beyond 2**63 is nonsense anyway)
                return range(first, min(message_id, first + <uint64_t>PTRDIFF_MAX))
            self._holes.update(range(last + 1, message_id))
            return self.check_c()
        if message_id in self._holes:
            self._holes.discard(message_id)
            return None
        self.duplicates += 1
        return None

    cdef object check_c(self):
        cdef list out
        if len(self._holes) <= self.pending_subscribes:
            return None
        out = sorted(self._holes)
        self._holes.clear()
        self.missing += len(out)
        return out


cdef class SessionListener(DYDXWsListener):
    """
    The picows listener of one pooled Indexer connection.

    Each frame is parsed in place by the compiled parser and the owner's handler is called once
    with the finished objects, as in `DYDXWsListener`; in addition the envelope's ``message_id``
    is read in place and fed to a `MessageIdTracker`, control records (``connected``,
    ``subscribed``, ``unsubscribed``, ``error``) go to the connection first, and a `ResyncNeeded`
    record is reported to it.

    With `direct` set, the leading trades of a message (and its leading book deltas, with
    `direct_deltas`) go one by one to `direct` from compiled code, in order, and the handler
    gets only the rest of the message (not called if nothing is left): objects a subscriber
    takes as they are skip the interpreted dispatch. An object `direct` raises on is reported
    to ``on_handler_error`` alone; the ones after it are still delivered.

    Parameters
    ----------
    parser : FrameParser
        The shared parser with the markets registered.
    handler : Callable[[list], None]
        Receives the objects of each message.
    owner : object
        The connection: ``on_ws_connected(transport)``, ``on_ws_disconnected(transport)``,
        ``on_control(record) -> bool`` (whether to forward the message), ``on_gap(missing)``,
        ``on_resync(record)`` and ``on_handler_error(error, objects)``.
    on_error : Callable[[FrameError], None], optional
        Receives each `FrameError`.

    """

    def __init__(
        self, FrameParser parser not None, handler not None, owner not None, on_error=None,
    ) -> None:
        DYDXWsListener.__init__(self, parser, handler, on_error)
        self._owner = owner
        self.tracker = MessageIdTracker()
        self.direct = None
        self.direct_deltas = False

    cpdef on_ws_connected(self, WSTransport transport):
        self._owner.on_ws_connected(transport)

    cpdef on_ws_disconnected(self, WSTransport transport):
        self._owner.on_ws_disconnected(transport)

    cpdef on_ws_frame(self, WSTransport transport, WSFrame frame):
        cdef WSMsgType msg_type = frame.msg_type
        cdef list objects
        cdef bytes data
        cdef bint found
        cdef uint64_t message_id = 0
        if msg_type == WSMsgType.TEXT:
            if not frame.fin:
                self._partial = bytearray(frame.get_payload_as_bytes())
                return
            self._partial = None
            try:
                objects = self.parser.parse_c(frame.payload_ptr, frame.payload_size, 0)
            except FrameError as e:
                if self._on_error is not None:
                    self._on_error(e)
                return
            found = _message_id(self.parser, frame.payload_ptr, frame.payload_size, &message_id)
            self._deliver(objects, found, message_id)
        elif msg_type == WSMsgType.CONTINUATION:
            if self._partial is None:
                return
            self._partial += frame.get_payload_as_bytes()
            if not frame.fin:
                return
            data = bytes(self._partial)
            self._partial = None
            try:
                objects = self.parser.parse_c(
                    PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), 0,
                )
            except FrameError as e:
                if self._on_error is not None:
                    self._on_error(e)
                return
            found = _message_id(
                self.parser, PyBytes_AS_STRING(data), PyBytes_GET_SIZE(data), &message_id,
            )
            self._deliver(objects, found, message_id)
        elif msg_type == WSMsgType.CLOSE:
            transport.disconnect()

    cdef void _deliver(self, list objects, bint found, uint64_t message_id) except *:
        cdef object first
        cdef object kind
        cdef object missing = None
        cdef bint forward = True
        if not objects:
            if found:
                missing = self.tracker.observe_c(message_id)
                if missing is not None:
                    self._gap(missing)
            return
        first = objects[0]
        kind = type(first)
        if kind is _Subscribed or kind is _Unsubscribed:
            missing = self.tracker.observe_c(first.message_id)
            if missing is not None:
                self._gap(missing)
            forward = self._owner.on_control(first)
        elif kind is _WsError:
            forward = self._owner.on_control(first)
        elif kind is _Connected:
            self.tracker.reset()
            forward = self._owner.on_control(first)
        elif found:
            missing = self.tracker.observe_c(message_id)
            if missing is not None:
                self._gap(missing)
        if type(objects[-1]) is _ResyncNeeded:
            self._owner.on_resync(objects[-1])
        if forward:
            try:
                if self.direct is not None:
                    objects = self._direct(objects)
                    if objects is None:
                        return
                self._handler(objects)
            except Exception as e:
                # The owner's bug must not take the connection down with it
                self._owner.on_handler_error(e, objects)

    cdef list _direct(self, list objects):
        # The leading trades (and deltas) to `direct`; the rest for the handler, or None
        cdef Py_ssize_t n = len(objects)
        cdef Py_ssize_t i = 0
        cdef object obj
        cdef object kind
        cdef object sink = self.direct
        while i < n:
            obj = objects[i]
            kind = type(obj)
            if kind is _TradeTick or (kind is _OrderBookDeltas and self.direct_deltas):
                try:
                    sink(obj)
                except Exception as e:
                    # One failing object must not drop its neighbours
                    self._owner.on_handler_error(e, [obj])
                i += 1
            else:
                break
        if i == 0:
            return objects
        if i == n:
            return None
        return objects[i:]

    cdef void _gap(self, object missing) except *:
        self._owner.on_gap(missing)

    def check_gaps(self) -> None:
        """
        Report holes that no outstanding subscribe can fill any more (after a reply arrived).
        """
        cdef object missing = self.tracker.check_c()
        if missing is not None:
            self._gap(missing)
