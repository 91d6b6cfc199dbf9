"""The solvers' two large products, ``AM − B`` and ``AᵀG``, split over the cores when that is faster.

Every solver holds every loaded BLAS to one thread for its whole loop (issue 12): on a
2-core machine that other processes share, OpenBLAS's second thread spins while it waits
for a busy core, and made the products 5–10× slower; its threaded driver also changes the
float32 bits of ``AᵀG`` (inner dimension ``n``) and the float64 bits of most products. On
an idle machine the hold gives up the second core's share of the two ``n × d × d``
products of an iteration.

:class:`SolverProducts` wins that share back without OpenBLAS's threads and without
changing a bit. A product is cut into independent parts, each computed by a
single-thread BLAS call on its own Python thread (NumPy releases the GIL around BLAS):
``AM − B`` by rows of ``A``, ``AᵀG`` by rows or by columns of the result
(:data:`ADJOINT_WAYS`). Each entry of a part is then computed by the same kernel, over the
same inner dimension in the same order, as in one single-thread product, provided that the
cuts fall on the kernel's tiles (:data:`ROW_ALIGN`). That premise is a property of the BLAS
and its CPU kernel, so it is checked, not assumed: once per shape and dtype in a process, a
split product of the solve's own ``A`` is compared bit for bit with the single-thread one
(:func:`split_is_exact`), and a product whose bits differ is never split. The same holds
for float64 products (the Cayley flow's and the minimisers' exact residual), which on the
machine of earlier sessions no split computed exactly and on this project's AMD machines
every aligned split does.

Whether to split is measured, as :class:`~sklearn_l1align._threads.FastestBlasThreads`
measures thread counts: the first two calls run whole and split, the faster way is used,
and the choice is measured again every :data:`REMEASURE_EVERY` calls, so that it follows a
load that comes or goes during the solve. A waiting Python thread sleeps instead of
spinning, so a split on a busy machine costs little even before the measurement refuses
it.
"""

import functools

import numpy as np

from .._objective import adjoint, residual
from .._threads import (
    _cuts,
    _FastestSplit,
    _run_parts,
    checked_once,
    current_blas_threads,
    max_blas_threads,
    single_blas_thread,
)

__all__ = ["ADJOINT_WAYS", "REMEASURE_EVERY", "ROW_ALIGN", "SOLVER_MIN_FLOPS", "SolverProducts",
           "split_is_exact"]

#: Products of fewer floating-point operations are never split (about 2 ms on one core): a
#: part would cost little more than the hand-over to a thread.
SOLVER_MIN_FLOPS = 1e8

#: Calls between two measurements of whether to split. A measurement costs at most one call
#: done the slower way: about 0.4 % on an idle 2-core machine (one call at 1.9× the time in
#: 257).
REMEASURE_EVERY = 256

#: Row cuts of ``AM − B`` fall on multiples of this, and cuts of ``AᵀG`` on multiples of
#: :data:`ADJOINT_WAYS`' alignments, so that no GEMM kernel tile is cut: a cut inside the
#: tiling changes the last bits of a few rows. Measured: on the AMD EPYC of this project's
#: later machines, with OpenBLAS 0.3.30–0.3.31's Haswell kernels, row cuts must fall on
#: multiples of 12 (the rows come in tiles of 6) and ``AᵀG`` can be cut only by rows of
#: the result, on multiples of 12 or 48; on the machine of earlier sessions, any multiple
#: of 64 rows and of 16 columns of ``G`` was exact. 192 is a multiple of both.
ROW_ALIGN = 192

#: The ways to cut ``AᵀG``, tried in order, each with its alignment: by rows of the result
#: (columns of ``A``), or by its columns (columns of ``G``). The first whose bits are the
#: whole product's (:func:`split_is_exact`) is used.
ADJOINT_WAYS = (("rows", 48), ("columns", 16))


def _residual(A, M, B, rows):
    """``AM − B`` as row parts, each one single-thread GEMM (and its subtraction)."""
    R = np.empty((A.shape[0], M.shape[1]), dtype=np.result_type(A, M))

    def part(a, b):
        np.matmul(A[a:b], M, out=R[a:b])
        R[a:b] -= B[a:b]

    _run_parts([lambda a=a, b=b: part(a, b) for a, b in rows])
    return R


def _adjoint(A, G, cuts, way="columns"):
    """``AᵀG`` as parts, each one single-thread GEMM: by rows of the result or by its columns."""
    C = np.empty((A.shape[1], G.shape[1]), dtype=np.result_type(A, G))

    def part(a, b):
        if way == "rows":
            np.matmul(A[:, a:b].T, G, out=C[a:b])
        else:
            np.matmul(A.T, G[:, a:b], out=C[:, a:b])

    _run_parts([lambda a=a, b=b: part(a, b) for a, b in cuts])
    return C


def split_is_exact(product, A, cuts, *args):
    """Whether ``product(A, ..., cuts, ...)``, cut into parts, gives the bits of the whole.

    ``product`` is ``"residual"`` (``args`` is ``B``: ``AM − B`` by rows) or ``"adjoint"``
    (``args`` is the way, from :data:`ADJOINT_WAYS`). Checked once per process for each
    product, shape, dtype, way and set of cuts, on the solve's own ``A`` (and ``B``) with a
    fixed random ``M`` or ``G`` (the bits of a GEMM follow its shapes and kernels, not its
    data), at one BLAS thread.
    """
    key = (product, A.shape, A.dtype.str, tuple(cuts), args[0] if product == "adjoint" else None)

    def check():
        rng = np.random.default_rng(0)
        n, d = A.shape
        with single_blas_thread():
            if product == "residual":
                (B,) = args
                M = rng.standard_normal((d, d)).astype(A.dtype)
                whole, split = residual(A, M, B), _residual(A, M, B, cuts)
            else:
                G = rng.standard_normal((n, d)).astype(A.dtype)
                whole, split = A.T @ G, _adjoint(A, G, cuts, *args)
        return np.array_equal(whole, split)

    return checked_once(key, check)


class SolverProducts:
    """``AM − B`` and ``AᵀG`` of one solve: the single-thread bits, split over the cores when faster.

    Build it before the solver's ``single_blas_thread()`` block; call its methods inside
    the block.

    Parameters
    ----------
    A : ndarray of shape (n, d)
        The source vectors in the products' precision (the solver's ``gemm_dtype``).
    B : ndarray of shape (n, d), optional
        The target vectors in the same precision, for :meth:`residual`.
    parts : int, optional
        The most parts to split a product into; default
        ``min(max_blas_threads(), current_blas_threads())``: the usable cores (or
        ``$L1ALIGN_BLAS_THREADS``), within the caller's own BLAS thread limit, read here
        (so an outer ``threadpool_limits(1)`` means one part). 1 never splits.

    Attributes
    ----------
    residual_split, adjoint_split : FastestBlasThreads or None
        Each product's measurement of whether to split it (``chosen`` is 1 for whole,
        else the part count), or None when it is never split. Decided (and the split
        checked by :func:`split_is_exact`) on first use.
    rows : list of (int, int)
        The row parts of ``AM − B``.
    adjoint_way : {"rows", "columns"} or None
        How ``AᵀG`` is cut (:data:`ADJOINT_WAYS`), or None when it is never split.
    adjoint_cuts : list of (int, int) or None
        Its parts.
    """

    def __init__(self, A, B=None, parts=None):
        self.A, self.B = A, B
        n, d = A.shape
        if parts is None:
            parts = min(max_blas_threads(), current_blas_threads())
        self.parts = int(parts)
        self._splittable = 2.0 * n * d * d >= SOLVER_MIN_FLOPS
        self.rows = _cuts(n, self.parts, ROW_ALIGN)

    # Each product's exactness is checked on its first call (so a product never called,
    # such as the adjoint of the minimisers' float64 residual, costs nothing).
    @functools.cached_property
    def residual_split(self):
        if (self._splittable and self.B is not None and len(self.rows) > 1
                and split_is_exact("residual", self.A, self.rows, self.B)):
            return _FastestSplit(candidates=(1, len(self.rows)), remeasure_every=REMEASURE_EVERY)
        return None

    @functools.cached_property
    def _adjoint_plan(self):
        d = self.A.shape[1]
        for way, align in ADJOINT_WAYS if self._splittable else ():
            cuts = _cuts(d, self.parts, align)
            if len(cuts) > 1 and split_is_exact("adjoint", self.A, cuts, way):
                return way, cuts, _FastestSplit(candidates=(1, len(cuts)),
                                                remeasure_every=REMEASURE_EVERY)
        return None, None, None

    @property
    def adjoint_way(self):
        return self._adjoint_plan[0]

    @property
    def adjoint_cuts(self):
        return self._adjoint_plan[1]

    @property
    def adjoint_split(self):
        return self._adjoint_plan[2]

    def residual(self, M):
        """``AM − B`` in the products' precision (``M`` is cast to it)."""
        M = M.astype(self.A.dtype, copy=False)
        if self.residual_split is None:
            return residual(self.A, M, self.B)
        return self.residual_split.run(
            lambda k: _residual(self.A, M, self.B, self.rows) if k > 1
            else residual(self.A, M, self.B))

    def adjoint(self, G):
        """``AᵀG`` in the products' precision (``G`` is cast to it), returned in float64."""
        if self.adjoint_split is None:
            return adjoint(self.A, G)
        G = G.astype(self.A.dtype, copy=False)
        C = self.adjoint_split.run(
            lambda k: _adjoint(self.A, G, self.adjoint_cuts, self.adjoint_way) if k > 1
            else self.A.T @ G)
        return C.astype(np.float64, copy=False)
