"""BLAS thread control, shared by every module that runs dense linear algebra.

On a 2-core machine that other processes share, a second BLAS thread that spins while the
other core is taken makes d × d LAPACK calls and the solvers' ``Aᵀ G`` products 5–10× slower
(issue 12). The solvers therefore run their whole loop on one BLAS thread; the large
n × n similarity blocks of the neighbour search choose their thread count by measuring.

``threadpoolctl`` is a dependency of scikit-learn, so it is always importable. A controller is
built per ``with`` block (0.4 ms here), so a BLAS loaded late (SciPy's own) is seen too; use the
blocks around whole loops, never per iteration.
"""

import contextlib
import os

from threadpoolctl import ThreadpoolController

__all__ = ["blas_threads", "max_blas_threads", "single_blas_thread"]

#: Environment variable that caps the BLAS threads the package uses (an ``n_jobs``-style knob).
THREADS_ENV = "L1ALIGN_BLAS_THREADS"

def max_blas_threads():
    """The most BLAS threads the package will use: ``$L1ALIGN_BLAS_THREADS`` or the usable cores."""
    value = os.environ.get(THREADS_ENV)
    if value:
        try:
            n = int(value)
        except ValueError:
            raise ValueError(
                f"{THREADS_ENV} must be a positive integer. Got {value!r} instead."
            ) from None
        if n < 1:
            raise ValueError(f"{THREADS_ENV} must be a positive integer. Got {value!r} instead.")
        return n
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


@contextlib.contextmanager
def blas_threads(n):
    """Hold every loaded BLAS to ``n`` threads inside the ``with`` block (None: leave as is)."""
    if n is None:
        yield
        return
    with ThreadpoolController().limit(limits=int(n), user_api="blas"):
        yield


def single_blas_thread():
    """``blas_threads(1)``: for d × d LAPACK calls and the solvers' loops."""
    return blas_threads(1)
