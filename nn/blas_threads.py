"""How many threads numpy's BLAS (its matrix products) uses in this process."""

from __future__ import annotations

import sys

from .training_config import is_int, shown_number

__all__ = ["set_blas_threads", "BLAS_THREAD_VARIABLES"]


# The variables the BLAS libraries numpy may be built with read when they load: OpenBLAS
# (numpy's wheels) reads OPENBLAS_NUM_THREADS, then OMP_NUM_THREADS; MKL reads
# MKL_NUM_THREADS; BLIS and Apple's Accelerate their own.
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS",
                         "BLIS_NUM_THREADS", "VECLIB_MAXIMUM_THREADS")


def set_blas_threads(threads=1):
    """Make numpy's BLAS (its matrix products) use `threads` threads in this process.

    Before numpy is imported this sets the variables above, which the library reads
    when it loads (and child processes inherit); once numpy is loaded only threadpoolctl
    can change it, if installed. Returns "environment", "threadpoolctl", or None when
    numpy is loaded and threadpoolctl is missing (nothing changed).

    Why one thread by default: the matrices of these networks are small (a batch x a
    few dozen neurons), so a product takes microseconds, less than it takes to wake
    other threads; on a busy machine (2 cores shared here) a threaded BLAS spins and
    waits for cores, and one step was measured 250 x slower than on one thread.
    """
    if not is_int(threads) or threads < 1:
        raise ValueError(f"threads must be an int >= 1, got {shown_number(threads)}")
    if "numpy" not in sys.modules:
        import os
        for name in BLAS_THREAD_VARIABLES:
            os.environ[name] = str(threads)
        return "environment"
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return None
    threadpool_limits(limits=threads, user_api="blas")
    return "threadpoolctl"

