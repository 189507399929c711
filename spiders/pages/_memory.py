"""Keep the memory a parse frees for the next parse (glibc only).

A parsed shop page takes tens of megabytes of small nodes. With glibc's default
thresholds, freeing a document hands most of that back to the kernel, and the next parse
takes it again page by page: the kernel zeroes each fresh page, which cost a third of
the parse time of an 800 KB page. Raising the trim and mmap thresholds keeps the freed
heap in the process for reuse (its size stays at the largest page's need). Elsewhere
(macOS, musl) this does nothing.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from functools import cache

_M_TRIM_THRESHOLD = -1  # mallopt parameters, <malloc.h>
_M_MMAP_THRESHOLD = -3
_KEEP_FREED = 128 * 1024 * 1024  # bytes of freed heap kept rather than returned
_HEAP_UP_TO = 32 * 1024 * 1024  # allocations below this come from the heap, not mmap


@cache
def keep_freed_memory() -> bool:
    """Set the thresholds once per process; True when the C library took them."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        mallopt = libc.mallopt
    except (OSError, AttributeError):
        return False
    return bool(mallopt(_M_TRIM_THRESHOLD, _KEEP_FREED)) and bool(
        mallopt(_M_MMAP_THRESHOLD, _HEAP_UP_TO)
    )
