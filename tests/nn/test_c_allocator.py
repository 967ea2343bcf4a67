"""nn.c_allocator: the glibc allocator calls a training program makes, explicitly."""

import os
import weakref

from nn import c_allocator

_IS_GLIBC = hasattr(os, "confstr") and \
    (os.confstr("CS_GNU_LIBC_VERSION") or "").startswith("glibc")


def test_keep_freed_memory_is_taken_by_glibc_and_skipped_elsewhere():
    assert c_allocator.keep_freed_memory() is _IS_GLIBC
    assert c_allocator.keep_freed_memory() is _IS_GLIBC  # twice is harmless


def test_release_memory_collects_cycles_and_trims_on_glibc():
    class Node:
        pass

    a, b = Node(), Node()
    a.other, b.other = b, a  # a cycle only the collector frees
    gone = weakref.ref(a)
    del a, b
    assert c_allocator.release_memory() is _IS_GLIBC
    assert gone() is None

