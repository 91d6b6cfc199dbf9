"""BLAS thread control, shared by every module that runs dense linear algebra.

On a 2-core machine that other processes share, a second BLAS thread that spins while the
other core is taken makes d × d LAPACK calls and the solvers' ``Aᵀ G`` products 5–10× slower
(issue 12). The solvers therefore run their whole loop on one BLAS thread; the large
n × n similarity blocks of the neighbour search choose their thread count by measuring.

``threadpoolctl`` is a dependency of scikit-learn, so it is always importable. Building a
controller scans the process's loaded libraries (about 2 ms here, as much as a 300 × 300
product), so one is kept and rebuilt only when a module has been imported since
(:func:`controller`): a BLAS loaded late, such as SciPy's own, arrives with an import. Use
the blocks around whole loops, never per iteration.
"""

import contextlib
import logging
import os
import sys
import time

from threadpoolctl import ThreadpoolController

logger = logging.getLogger(__name__)

__all__ = ["FastestBlasThreads", "blas_threads", "by_row_blocks", "controller",
           "current_blas_threads", "max_blas_threads", "single_blas_thread"]

#: Environment variable that caps the BLAS threads the package uses (an ``n_jobs``-style knob).
THREADS_ENV = "L1ALIGN_BLAS_THREADS"

_cached = {"modules": -1, "controller": None}


def controller():
    """A ``ThreadpoolController`` of the loaded libraries, rebuilt after any new import."""
    n_modules = len(sys.modules)
    if _cached["controller"] is None or _cached["modules"] != n_modules:
        _cached["controller"] = ThreadpoolController()
        _cached["modules"] = n_modules
    return _cached["controller"]


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
    with controller().limit(limits=int(n), user_api="blas"):
        yield


def single_blas_thread():
    """``blas_threads(1)``: for d × d LAPACK calls and the solvers' loops."""
    return blas_threads(1)


def current_blas_threads(controller_=None):
    """The thread count the loaded BLAS libraries use now (1 when none is loaded)."""
    controller_ = controller() if controller_ is None else controller_
    counts = [lib.num_threads for lib in controller_.select(user_api="blas").lib_controllers]
    return max(counts, default=1)


#: Products below this many floating-point operations run as they are, unmeasured: the
#: measurement would cost more than it can save (OpenBLAS also runs small products on one
#: thread by itself). About 10 ms on one core.
MEASURE_MIN_FLOPS = 5e8


class FastestBlasThreads:
    """Run repeated same-shape BLAS calls at the thread count measured fastest for them.

    The first two full-size calls are timed, one at a single thread and one at
    ``min(max_blas_threads(), current_blas_threads())`` threads (so an outer
    :func:`blas_threads` limit is respected); every later call uses the faster. On a
    shared machine a second thread that waits for a busy core can make a product several
    times slower (issue 12); on an idle one it is nearly twice as fast. The thread count
    never changes the numbers a BLAS GEMM computes in float32 here (each output entry is
    one dot product, accumulated in the same order), which the tests check. That holds
    while the inner dimension is at most OpenBLAS's block (measured: every length up to
    448, and 512, 768 and 1024; not 449): the neighbour search's ``d``, the ℓ2 fit's
    384-row blocks of ``AᵀB``.

    Parameters
    ----------
    flops : float, optional
        Floating-point operations of one call. Below :data:`MEASURE_MIN_FLOPS` nothing is
        measured and calls run with the threads as they are.
    candidates : tuple of int, optional
        The thread counts to try, in order; default as described above.
    timer : callable, default=time.perf_counter
        The clock (tests inject a fake one).

    Attributes
    ----------
    chosen : int or None
        The thread count in use once measured (None before, or when nothing is measured).
    timings : dict of int to float
        Seconds of the timed call at each candidate count.
    """

    def __init__(self, flops=None, candidates=None, *, timer=time.perf_counter):
        self.timer = timer
        self.timings = {}
        self.chosen = None
        self.controller = None
        if candidates is None:
            if flops is not None and flops < MEASURE_MIN_FLOPS:
                candidates = ()
            else:
                self.controller = controller()
                top = min(max_blas_threads(), current_blas_threads(self.controller))
                candidates = (1, top) if top > 1 else ()
        self.candidates = tuple(int(c) for c in candidates)
        if len(self.candidates) == 1:
            self.chosen = self.candidates[0]
        if self.candidates and self.controller is None:
            self.controller = controller()

    def _limit(self, n):
        return self.controller.limit(limits=n, user_api="blas")

    def run(self, fn, *args, timed=True, **kwargs):
        """Call ``fn(*args, **kwargs)`` at the chosen thread count (or measure, if not yet chosen).

        ``timed=False`` marks a call of another size (a last, partial block): it is run
        but not used as a measurement.
        """
        if not self.candidates:
            return fn(*args, **kwargs)
        if self.chosen is not None:
            with self._limit(self.chosen):
                return fn(*args, **kwargs)
        n = self.candidates[len(self.timings)]
        with self._limit(n):
            start = self.timer()
            result = fn(*args, **kwargs)
            elapsed = self.timer() - start
        if timed:
            self.timings[n] = elapsed
            if len(self.timings) == len(self.candidates):
                self.chosen = min(self.timings, key=lambda c: (self.timings[c], c))
                logger.debug("BLAS threads measured %s s: using %d",
                             {c: round(t, 4) for c, t in self.timings.items()}, self.chosen)
        return result


#: Each of :func:`by_row_blocks`' two probe blocks holds this share of the rows.
PROBE_SHARE = 1 / 16


def by_row_blocks(fn, n_rows, *, measure=True):
    """Run ``fn(start, stop)`` over row ranges that cover ``range(n_rows)``, at measured threads.

    For one large product that splits by rows and whose bits may follow the thread
    count (the finiteness check's ``X @ 1``; the ℓ2 fit's ``AᵀB`` keeps short fixed blocks
    instead, for its bits): the first two ranges, each :data:`PROBE_SHARE` of the rows, are
    timed by :class:`FastestBlasThreads` (one thread, then two), and the rest runs as one
    call at the faster count. The probes are useful work, so the measurement costs only
    the slower probe's extra time, and the choice follows the load of this very call.
    With ``measure=False`` (for a product too small to be worth it: see
    :data:`MEASURE_MIN_FLOPS`), ``fn(0, n_rows)`` runs once at the threads as they are.
    The ranges depend only on ``n_rows``.

    Returns
    -------
    results : list
        ``fn``'s results, one per range, in row order.
    """
    probe = int(n_rows * PROBE_SHARE)
    if not measure or probe < 1:
        return [fn(0, n_rows)]
    threads = FastestBlasThreads()
    return [threads.run(fn, start, stop)
            for start, stop in ((0, probe), (probe, 2 * probe), (2 * probe, n_rows))]
