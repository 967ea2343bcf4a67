"""The C allocator (glibc's malloc) under a training process: two explicit calls.

Both are process-wide and glibc-only (elsewhere they do nothing), and neither changes any
number: they change how much memory a process keeps. A library call never makes them;
the programs that train do (`chainrule train`, the playground server, the benchmark).
"""

from __future__ import annotations

import gc
import os

__all__ = ["keep_freed_memory", "release_memory", "KEEP_FREED_BYTES"]

# glibc's malloc gives each freed array of more than a few hundred KB back to the system
# and takes it again, page by page, on the next step: a batch of 10,000 rows frees some
# 25 MB of temporaries per step, and re-faulting them cost as much system time as the
# step's arithmetic in the benchmark. Asking malloc to keep up to this much freed memory
# for reuse makes that system time vanish.
KEEP_FREED_BYTES = 256 * 2 ** 20
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3
_GLIBC_LARGEST_MMAP_THRESHOLD = 32 * 2 ** 20  # arrays bigger than this are still mapped


def _glibc():
    """The C library when it is glibc, else None (macOS, musl, Windows)."""
    try:
        if not os.confstr("CS_GNU_LIBC_VERSION").startswith("glibc"):
            return None
        import ctypes
        return ctypes.CDLL(None)
    except (OSError, AttributeError, ValueError, ImportError):
        return None


def keep_freed_memory():
    """Ask glibc's malloc to keep up to KEEP_FREED_BYTES of freed memory for reuse
    instead of returning it to the system after every large free (see above); call it
    once, before training with numpy batches. True when glibc took the setting."""
    libc = _glibc()
    try:
        libc.mallopt(_M_MMAP_THRESHOLD, _GLIBC_LARGEST_MMAP_THRESHOLD)
        libc.mallopt(_M_TRIM_THRESHOLD, KEEP_FREED_BYTES)
    except AttributeError:  # no glibc, or one without mallopt: nothing to tune
        return False
    return True


def release_memory():
    """Give memory no longer used back to the system, so a server left running for a
    term does not grow: collect reference cycles now (compiled graphs hold some), then
    ask glibc to return the free pages of every malloc arena (threads' arenas keep them
    otherwise). True when glibc trimmed; elsewhere only the collection happens."""
    gc.collect()
    libc = _glibc()
    trim = getattr(libc, "malloc_trim", None)
    if trim is None:
        return False
    trim(0)
    return True
