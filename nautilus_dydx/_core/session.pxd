# SPDX-License-Identifier: Apache-2.0
"""One Indexer connection: the frame listener plus per-connection message_id gap tracking."""

from libc.stdint cimport uint64_t

from picows.picows cimport WSFrame
from picows.picows cimport WSTransport

from nautilus_dydx._core.frames cimport DYDXWsListener


cdef class MessageIdTracker:
    cdef readonly uint64_t last_message_id
    """The highest message_id seen on the connection.\n\n:returns: `int`"""
    cdef readonly uint64_t missing
    """How many message ids were reported missing.\n\n:returns: `int`"""
    cdef readonly uint64_t duplicates
    """How many counted messages repeated an id already seen.\n\n:returns: `int`"""
    cdef public Py_ssize_t pending_subscribes
    """Subscribe requests not answered yet (may fill holes).\n\n:returns: `int`"""
    cdef set _holes          # Skipped ids that a late `subscribed` may still fill

    cdef object observe_c(self, uint64_t message_id)
    cdef object check_c(self)


cdef class SessionListener(DYDXWsListener):
    cdef readonly MessageIdTracker tracker
    """The message_id tracker of this connection.\n\n:returns: `MessageIdTracker`"""
    cdef object _owner       # Python object with the on_* connection callbacks
    cdef public object direct
    """Receives each leading trade (and book deltas if `direct_deltas`) of a message instead
    of the handler, or None.\n\n:returns: `Callable[[object], None] | None`"""
    cdef public bint direct_deltas
    """If leading `OrderBookDeltas` go to `direct` too.\n\n:returns: `bool`"""

    cdef void _deliver(self, list objects, bint found, uint64_t message_id) except *
    cdef list _direct(self, list objects)
    cdef void _gap(self, object missing) except *
