"""BLAS thread control, shared by every module that runs dense linear algebra.

On a 2-core machine that other processes share, a second BLAS thread that spins while the
other core is taken makes d × d LAPACK calls and the solvers' ``Aᵀ G`` products 5–10× slower
(issue 12). The solvers therefore run their whole loop on one BLAS thread, and split
their two large products over Python threads instead, each part a single-thread GEMM,
where that gives the same bits (``_solvers._products``). The large n × n similarity
blocks of the neighbour search choose their thread count by measuring; where OpenBLAS's
threads would change their bits, they are split in the same way (the bottom of this
module).

``threadpoolctl`` is a dependency of scikit-learn, so it is always importable. Building a
controller scans the process's loaded libraries (about 2 ms here, as much as a 300 × 300
product), so one is kept and rebuilt only when a module has been imported since
(:func:`controller`): a BLAS loaded late, such as SciPy's own, arrives with an import. Use
the blocks around whole loops, never per iteration.
"""

import contextlib
import itertools
import logging
import os
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait

import numpy as np
from threadpoolctl import ThreadpoolController

logger = logging.getLogger(__name__)

__all__ = ["FastestBlasThreads", "blas_threads", "blocked_product", "checked_once",
           "controller", "current_blas_threads", "max_blas_threads", "same_bits",
           "single_blas_thread"]

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

#: Calls after which :class:`FastestBlasThreads` with ``remeasure_every`` first measures again.
FIRST_REMEASURE = 16


class FastestBlasThreads:
    """Run repeated same-shape BLAS calls at the thread count measured fastest for them.

    The first two full-size calls are timed, one at a single thread and one at
    ``min(max_blas_threads(), current_blas_threads())`` threads (so an outer
    :func:`blas_threads` limit is respected); every later call uses the faster. On a
    shared machine a second thread that waits for a busy core can make a product several
    times slower (issue 12); on an idle one it is nearly twice as fast.

    The thread count must not change the numbers: results may not depend on a timing.
    Whether it does depends on the BLAS, its CPU kernel and the products' inner dimension.
    Here, OpenBLAS computes the same float32 bits at one thread and two for every inner
    dimension up to 448 and for multiples of 256, but not for 449, 500, 600 or 1000, and
    float64 bits differ even for short ones. So, given ``inner``, the candidates are first
    checked on a small probe product of that inner dimension and dtype (:func:`same_bits`,
    once per process); if their bits differ, nothing is measured and every call runs at
    the threads as they are. The callers pass it: the neighbour search's ``d``, the ℓ2
    fit's 384-row blocks of ``AᵀB``.

    Parameters
    ----------
    flops : float, optional
        Floating-point operations of one call. Below :data:`MEASURE_MIN_FLOPS` nothing is
        measured and calls run with the threads as they are.
    candidates : tuple of int, optional
        The thread counts to try, in order; default as described above.
    timer : callable, default=time.perf_counter
        The clock (tests inject a fake one).
    inner : int or iterable of int, optional
        The inner dimension (or dimensions) of the products; when given, candidates that
        compute different bits for any of them (:func:`same_bits`) are not tried.
    dtype : numpy dtype, default=numpy.float32
        The products' dtype, for that check.
    remeasure_every : int, optional
        Measure again (the next two calls) after at most this many calls at the chosen
        count, so that in a long loop of calls the choice follows a load that comes or
        goes. The first measurements come sooner, after :data:`FIRST_REMEASURE` calls and
        then twice as many each time up to ``remeasure_every``: the first measurement of a
        loop is the likeliest to be wrong, taken while an earlier threaded call's idle
        BLAS threads still spin on the cores. By default the first choice is kept.

    Attributes
    ----------
    chosen : int or None
        The thread count in use once measured (None before, or when nothing is measured).
    timings : dict of int to float
        Seconds of the timed call at each candidate count.
    refused : tuple of int
        The candidates dropped because their bits differ (empty when none were).
    """

    def __init__(self, flops=None, candidates=None, *, timer=time.perf_counter, inner=None,
                 dtype=np.float32, remeasure_every=None):
        self.timer = timer
        self.timings = {}
        self.chosen = None
        self.controller = None
        self.remeasure_every = remeasure_every
        self._calls_since = 0
        self._interval = (None if remeasure_every is None
                          else min(FIRST_REMEASURE, remeasure_every))
        self.refused = ()
        if candidates is None:
            if flops is not None and flops < MEASURE_MIN_FLOPS:
                candidates = ()
            else:
                self.controller = controller()
                top = min(max_blas_threads(), current_blas_threads(self.controller))
                candidates = (1, top) if top > 1 else ()
        self.candidates = tuple(int(c) for c in candidates)
        inners = () if inner is None else np.atleast_1d(inner).tolist()
        if len(self.candidates) > 1 and not all(same_bits(k, dtype, self.candidates)
                                                for k in inners):
            logger.debug("BLAS threads %s compute different bits for inner dimension %s "
                         "(%s): not measured", self.candidates, inners, np.dtype(dtype).name)
            self.refused = self.candidates
            self.candidates = ()
        if len(self.candidates) == 1:
            self.chosen = self.candidates[0]
        if self.candidates and self.controller is None:
            self.controller = controller()

    def _limit(self, n):
        return self.controller.limit(limits=n, user_api="blas")

    def _in_force(self, n):
        """The context in which candidate ``n`` is in force: here, ``n`` BLAS threads."""
        return self._limit(n)

    def _call(self, n, fn, args, kwargs):
        """Call ``fn`` under candidate ``n`` (a subclass may hand ``n`` to it)."""
        return fn(*args, **kwargs)

    def run(self, fn, *args, timed=True, **kwargs):
        """Call ``fn(*args, **kwargs)`` at the chosen thread count (or measure, if not yet chosen).

        ``timed=False`` marks a call of another size (a last, partial block): it is run
        but not used as a measurement.
        """
        if not self.candidates:
            return fn(*args, **kwargs)
        if self.chosen is not None and self.remeasure_every is not None and timed:
            self._calls_since += 1
            if self._calls_since > self._interval:
                # The candidates compute the same bits (that is their premise), so a new
                # choice changes only the speed.
                self.timings, self.chosen, self._calls_since = {}, None, 0
                self._interval = min(2 * self._interval, self.remeasure_every)
        if self.chosen is not None:
            with self._in_force(self.chosen):
                return self._call(self.chosen, fn, args, kwargs)
        n = self.candidates[len(self.timings)]
        with self._in_force(n):
            start = self.timer()
            result = self._call(n, fn, args, kwargs)
            elapsed = self.timer() - start
        if timed:
            self.timings[n] = elapsed
            if len(self.timings) == len(self.candidates):
                self.chosen = min(self.timings, key=lambda c: (self.timings[c], c))
                logger.debug("BLAS threads measured %s s: using %d",
                             {c: round(t, 4) for c, t in self.timings.items()}, self.chosen)
        return result


#: Rows and columns of :func:`same_bits`' probe product: large enough that OpenBLAS
#: splits it over its threads (it runs small products on one).
BITS_PROBE_SHAPE = (128, 512)

#: The answers of this module's and its callers' bit-for-bit checks (:func:`same_bits`,
#: the neighbour blocks' and the solvers' row splits), by key, each computed once per
#: process: a property of the BLAS, its kernels and the shapes, not of the data.
_bit_checks: dict[tuple, bool] = {}


def checked_once(key, check):
    """``check()``'s answer for ``key`` (a tuple naming the check first), computed once per process."""
    if key not in _bit_checks:
        _bit_checks[key] = bool(check())
    return _bit_checks[key]


def same_bits(inner, dtype=np.float32, candidates=None):
    """Whether every thread count in ``candidates`` computes the same bits for one product.

    A ``BITS_PROBE_SHAPE[0] × inner`` by ``inner × BITS_PROBE_SHAPE[1]`` GEMM of fixed random
    numbers of ``dtype`` is run at each count and compared bit for bit. The answer is a
    property of the BLAS, its kernel and ``inner`` (OpenBLAS blocks the inner dimension,
    and its threaded driver blocks it differently for some lengths), so it is computed once
    per process for each (inner, dtype, candidates). ``candidates`` defaults to
    ``(1, min(max_blas_threads(), current_blas_threads()))``.
    """
    dtype = np.dtype(dtype)
    if candidates is None:
        candidates = (1, min(max_blas_threads(), current_blas_threads()))
    inner, candidates = int(inner), tuple(int(c) for c in candidates)

    def check():
        rng = np.random.default_rng(0)
        A = rng.standard_normal((BITS_PROBE_SHAPE[0], inner)).astype(dtype)
        B = rng.standard_normal((inner, BITS_PROBE_SHAPE[1])).astype(dtype)
        products = []
        for n in candidates:
            with blas_threads(n):
                products.append(A @ B)
        return all(np.array_equal(products[0], C) for C in products[1:])

    return checked_once(("same_bits", inner, dtype.str, candidates), check)


# ----------------------------------------------------------------------- split products
# A product cut into independent parts, each one single-thread BLAS call on its own Python
# thread (NumPy releases the GIL around BLAS): the cores' share without OpenBLAS's threads,
# and, where the parts' bits are the whole single-thread product's, without changing a bit.
# Used by the solvers' products (``_solvers._products``) and the neighbour search's blocks.

_pool = {"executor": None, "workers": 0}
_pool_lock = threading.Lock()


def _executor(workers):
    """A process-wide pool of at least ``workers`` threads, kept for later solves."""
    with _pool_lock:
        if _pool["workers"] < workers:
            if _pool["executor"] is not None:
                _pool["executor"].shutdown(wait=False)
            _pool["executor"] = ThreadPoolExecutor(workers, thread_name_prefix="l1align-gemm")
            _pool["workers"] = workers
        return _pool["executor"]


def _cuts(length, parts, align):
    """``parts`` ranges over ``range(length)`` with inner edges on multiples of ``align``."""
    edges = [0] + [int(round(length * i / parts / align)) * align for i in range(1, parts)]
    edges.append(length)
    return [(a, b) for a, b in zip(edges, edges[1:]) if b > a]


def _run_parts(jobs, stop=None):
    """Run ``jobs`` (callables) at once: the first on this thread, the rest on the pool.

    ``stop``, a :class:`threading.Event`, is set when the first job raises (an interrupt),
    so that jobs which poll it end early. The pool's jobs run under this thread's
    ``np.errstate`` (NumPy keeps it per thread), so an overflow the caller ignores or
    raises on is ignored or raised on in every part.
    """
    if len(jobs) == 1:
        jobs[0]()
        return
    errors = np.geterr()

    def under_callers_errstate(job):
        with np.errstate(**errors):
            return job()

    futures = [_executor(len(jobs) - 1).submit(under_callers_errstate, job) for job in jobs[1:]]
    try:
        jobs[0]()
    except BaseException:
        if stop is not None:
            stop.set()
        raise
    finally:
        # Even when interrupted: no part may still be writing once this returns.
        wait(futures)
    for future in futures:
        future.result()


class _FastestSplit(FastestBlasThreads):
    """:class:`FastestBlasThreads` whose candidates are part counts, not BLAS thread counts."""

    def _in_force(self, n):
        return contextlib.nullcontext()

    def _call(self, n, fn, args, kwargs):
        return fn(n, *args, **kwargs)


#: Rows per block of :func:`blocked_product` (16 × 192): a multiple of every GEMM row tile
#: measured (6 and 12 rows on AMD EPYC's Haswell kernels, 64 on the earlier machines), and
#: about 3.7 MB of a 300-d float32 block.
PRODUCT_BLOCK_ROWS = 3072


def blocked_product(X, M, *, dtype=None, out_dtype=None, block_rows=PRODUCT_BLOCK_ROWS,
                    workers=None):
    """``X @ M`` whose bits follow neither the BLAS thread count nor the machine's load.

    For the maps of whole vocabularies (``transform``, the CLI's output). The rows of ``X``
    are cut into fixed blocks of ``block_rows``, and each block's product is one
    single-thread GEMM. ``workers`` Python threads (default :func:`max_blas_threads`) take
    the blocks in turn from a shared counter, so a core that another process holds takes
    fewer blocks instead of stalling the others, as OpenBLAS's spinning threads do. The cuts
    depend only on ``X``'s shape, so the result is the same at any thread count and
    load; where the cuts fall on the kernel's row tiles (so on every machine measured), it
    is also one single-thread product's (``tests/test_threads.py`` checks both).

    Parameters
    ----------
    X : ndarray of shape (n, d)
    M : ndarray of shape (d, k)
    dtype : numpy dtype, optional
        The dtype the products are computed in (each block of ``X`` and ``M`` cast to it);
        default ``X``'s dtype when it is floating (a float64 ``M`` applied to float32
        vectors computes in float32, as ``transform`` does), else ``np.result_type(X, M)``.
    out_dtype : numpy dtype, optional
        The result's dtype, each block cast into it; default ``dtype``. Casting block by
        block keeps no whole copy of ``X`` in ``dtype``.
    block_rows : int, default=PRODUCT_BLOCK_ROWS
    workers : int, optional

    Returns
    -------
    out : ndarray of shape (n, k)
    """
    X, M = np.asarray(X), np.asarray(M)
    if dtype is not None:
        compute = np.dtype(dtype)
    else:
        compute = X.dtype if X.dtype.kind == "f" else np.result_type(X, M)
    out_dtype = compute if out_dtype is None else np.dtype(out_dtype)
    M = M.astype(compute, copy=False)
    out = np.empty((X.shape[0], M.shape[1]), dtype=out_dtype)
    starts = range(0, X.shape[0], int(block_rows))
    direct = X.dtype == compute and out_dtype == compute

    def block(a):
        b = a + int(block_rows)
        if direct:
            np.matmul(X[a:b], M, out=out[a:b])
        else:
            out[a:b] = np.matmul(X[a:b].astype(compute, copy=False), M)

    workers = max(1, min(max_blas_threads() if workers is None else int(workers), len(starts)))
    with single_blas_thread():
        if workers == 1:
            for a in starts:
                block(a)
            return out
        counter, stop = itertools.count(), threading.Event()

        def job():
            # next() on an itertools.count is atomic: each block is taken once.
            for i in counter:
                if i >= len(starts) or stop.is_set():
                    return
                block(starts[i])

        _run_parts([job] * workers, stop=stop)
    return out
