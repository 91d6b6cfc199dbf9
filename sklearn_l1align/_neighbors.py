"""The nearest-neighbour engine: unit rows, CSLS scores, top-k neighbours, both ways, in float32 blocks.

CSLS (cross-domain similarity local scaling, Conneau et al. 2018, Eq. 6 of the MUSE paper)
scores a source vector x against a target vector y as

    csls(x, y) = 2 cos(x, y) − r_T(x) − r_S(y),

where r_T(x) is the mean cosine of x to its k nearest targets and r_S(y) the mean cosine
of y to its k nearest (mapped) sources (:func:`topk_means`). The formula is written once,
in :func:`csls_scores`. Nothing here ever holds an ``n_src × n_tgt`` matrix: every pass
walks the source rows in blocks of ``batch_size`` and keeps running per-column statistics
for the target side, so memory is ``O(batch_size × n_tgt + k × n_tgt + 64 × n_src)``.

A CSLS dictionary takes one pass over ``Xs @ Xt.T`` (:func:`csls_both_ways`), a retrieval
one pass for the candidates' neighbourhoods plus one over the queries. Within a pass the
selections avoid full sorts and partitions of the ``batch_size × n_tgt`` block: a row's top
k is found among the few groups of columns whose maxima can hold it (:func:`topk_rows`),
and the columns' running top k and argmax only touch the entries that beat them. All of it
is exact selection on the float32 scores, with no approximate search and no pruning that
could lose a pair; ties go to the lowest index.

The block products choose their BLAS thread count by measuring the first blocks
(:class:`~sklearn_l1align._threads.FastestBlasThreads`), but only among thread counts that
a probe product of the same ``d`` shows to compute the same bits. Where they do not
(OpenBLAS here: ``d`` above 448 that is not a multiple of 256), every block runs at the
threads as they are. Either way the results do not depend on a timing.
"""

from __future__ import annotations

import logging
import numbers
from typing import TYPE_CHECKING

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from ._progress import Progress
from ._threads import (FastestBlasThreads, _cuts, _FastestSplit, _run_parts, checked_once,
                       single_blas_thread)
from ._validation import check_same_dim

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


logger = logging.getLogger(__name__)

__all__ = [
    "CSLS_K",
    "DEFAULT_BATCH_SIZE",
    "csls_both_ways",
    "csls_scores",
    "mean_topk_similarity",
    "nn_both_ways",
    "topk_means",
    "topk_neighbors",
    "topk_rows",
    "unit_rows",
]

#: Default number of source rows per block. A block costs ``batch_size × n_tgt × 4`` bytes
#: (about 400 MB for 200,000 targets), held in one reused buffer; the selections on it add
#: less than half as much again (``benchmarks/scale.py`` measures the peak).
DEFAULT_BATCH_SIZE = 512
#: CSLS neighbourhood size of MUSE and of the paper (CSLS-10).
CSLS_K = 10

#: Entries per group in :func:`topk_rows`. A row's k best entries all lie in the groups
#: whose maxima are among the row's k largest group maxima (or in the columns left over),
#: so only those few groups are sorted. Group ``j`` of a row of ``n`` is the columns
#: ``j, j + G, j + 2G, ...`` (``G = n // _GROUP``): their maxima are an elementwise maximum
#: of ``_GROUP`` contiguous slices, which NumPy vectorises (ten times faster than a
#: reduction over 64 adjacent columns). Any size gives the exact answer; 64 keeps both
#: the group maxima and the gathered candidates small (``benchmarks/scale.py``).
_GROUP = 64
#: A row with more candidate groups than this many times k (massive ties, such as a zero
#: row, whose entries are all 0) is selected by a full partition instead.
_MAX_GROUPS_PER_K = 8
#: Best targets by cosine kept per source row by :func:`csls_both_ways` (at least k).
_S2T_CANDIDATES = 16
#: Best targets by the optimistic CSLS score ``2cos − r_T − lb_S`` kept per source row by
#: :func:`csls_both_ways`, ``lb_S`` being the running (lower-bound) ``r_S`` of the targets.
_CSLS_CANDIDATES = 16
#: Rows per chunk in :class:`_ColumnTopK`: small enough that a chunk's column maxima rule
#: out most columns, large enough that the per-chunk overhead stays negligible.
_CHUNK_ROWS = 32
#: Entries of the scratch array of the optimistic selection in :func:`csls_both_ways`
#: (16 MB in float32; at least ``_CHUNK_ROWS`` rows).
_SCRATCH_ENTRIES = 1 << 22
#: Rows per chunk of :func:`unit_rows` (a scratch array of this many rows, in cache).
_UNIT_CHUNK_ROWS = 4096


# ----------------------------------------------------------------------- unit rows
def unit_rows(X, *, dtype=np.float32, copy=True):
    """Scale each row of ``X`` to unit Euclidean length; zero rows stay zero.

    Rows whose squared norm would overflow (entries near ``1e20`` in float32) or lose
    precision to underflow (entries near ``1e-25``) are first divided by their largest
    absolute entry, so every non-zero finite row comes back with unit length.

    Parameters
    ----------
    X : array-like of shape (n_rows, n_dims)
        Rows to normalise (finite values).
    dtype : floating dtype, default=np.float32
        Dtype of the result. ``None`` keeps the dtype of a floating ``X``.
    copy : bool, default=True
        If False and ``X`` is already a writeable array of ``dtype``, it is normalised in
        place and returned (no copy); otherwise a new array is returned.

    Returns
    -------
    X_unit : ndarray of shape (n_rows, n_dims)
        Unit-length rows.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align._neighbors import unit_rows
    >>> unit_rows(np.array([[3.0, 4.0], [0.0, 0.0], [1e20, 0.0]])).tolist()
    [[0.6000000238418579, 0.800000011920929], [0.0, 0.0], [1.0, 0.0]]
    """
    if dtype is None:
        dtype = X.dtype if hasattr(X, "dtype") and X.dtype.kind == "f" else np.float64
    if copy or not (isinstance(X, np.ndarray) and X.dtype == dtype and X.flags.writeable):
        X = np.array(X, dtype=dtype, copy=True)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_rows, n_dims). Got shape {X.shape} instead.")
    info = np.finfo(X.dtype)
    # Below this squared norm, entries' squares lose digits to underflow (relative error
    # above eps): such rows are rescaled before their norm is taken.
    tiny = info.tiny / info.eps
    for start in range(0, X.shape[0], _UNIT_CHUNK_ROWS):
        B = X[start:start + _UNIT_CHUNK_ROWS]
        with np.errstate(over="ignore", under="ignore"):
            sq = np.square(B).sum(axis=1)
        bad = ~((sq >= tiny) & (sq <= info.max))
        if bad.any():
            rows = np.flatnonzero(bad)
            scale = np.abs(B[rows]).max(axis=1)
            scale[scale == 0] = 1  # zero rows stay zero, as in VecMap's `normalize`
            B[rows] /= scale[:, None]
            sq[rows] = np.square(B[rows]).sum(axis=1)
        norms = np.sqrt(sq)
        norms[norms == 0] = 1
        B /= norms[:, None]
    return X


# ----------------------------------------------------------------------- CSLS formula
def csls_scores(cos, r_rows=None, r_cols=None, *, out=None):
    """CSLS scores from cosines: ``2 cos − r_rows[:, None] − r_cols`` (Conneau et al. 2018).

    The one place the formula is written. It is computed in the dtype of ``cos`` (float32
    blocks), in this order, so that every caller gets the same numbers.

    Parameters
    ----------
    cos : ndarray of shape (n_rows, n_cols)
        Cosine similarities of query rows (mapped sources) to candidates (targets).
    r_rows : array-like of shape (n_rows,), default=None
        ``r_T`` of the query rows (their mean top-k cosine over the candidates); None
        leaves it out (it cannot change a column's argmax).
    r_cols : array-like of shape (n_cols,) or (n_rows, n_cols), default=None
        ``r_S`` of the candidates (their mean top-k cosine over the queries), or one row of
        it per query row (for per-row candidate lists); None leaves it out (it cannot
        change a row's argmax).
    out : ndarray, default=None
        Where to write the result; ``out=cos`` computes in place.

    Returns
    -------
    scores : ndarray of shape (n_rows, n_cols)
        The CSLS scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align._neighbors import csls_scores
    >>> csls_scores(np.array([[0.5, 0.25]]), np.array([0.4]), np.array([0.1, 0.0])).tolist()
    [[0.5, 0.1]]
    """
    out = np.multiply(cos, 2, out=out)
    if r_rows is not None:
        out -= np.asarray(r_rows, dtype=out.dtype)[:, None]
    if r_cols is not None:
        r_cols = np.asarray(r_cols, dtype=out.dtype)
        out -= r_cols if r_cols.ndim == 2 else r_cols[None, :]
    return out


# ----------------------------------------------------------------------- block product
#: Row cuts of a block split over Python threads fall on multiples of this (see
#: :data:`sklearn_l1align._solvers._products.ROW_ALIGN`).
SPLIT_ROW_ALIGN = 48

#: Blocks between two measurements of whether to split (the first ones sooner; see
#: :class:`~sklearn_l1align._threads.FastestBlasThreads`): a measurement costs at most one
#: block done the slower way, under 1 % of a pass.
SPLIT_REMEASURE_EVERY = 128


class _BlockProduct:
    """``Xs[start:start + batch_size] @ Xt.T`` for one block of rows at a time, into one reused buffer.

    Reusing the ``batch_size × n_tgt`` float32 buffer saves the page faults of a fresh
    allocation per block. The returned array is overwritten by the next call. The BLAS
    thread count is the fastest measured on the first full blocks.

    Where this BLAS computes other bits at one thread and several (see
    :class:`~sklearn_l1align._threads.FastestBlasThreads`; so on AMD EPYC with OpenBLAS's
    Haswell kernels), the blocks are instead cut by rows into parts, each one
    single-thread GEMM on its own Python thread, provided that the first full block's
    split gives the whole single-thread block's bits (checked once per process for each
    shape). Whether to split is then measured as the thread count would be, and every
    block, split or whole, has the single-thread bits: the results do not follow the
    thread count either way. The choice is measured again from time to time
    (:data:`SPLIT_REMEASURE_EVERY`), to follow a load that comes or goes.
    """

    def __init__(self, Xs, Xt, batch_size):
        self.Xs, self.XtT = Xs, Xt.T
        rows = min(batch_size, max(Xs.shape[0], 1))
        self.buffer = np.empty((rows, Xt.shape[0]), dtype=np.result_type(Xs, Xt))
        flops = 2.0 * rows * Xt.shape[0] * Xs.shape[1]
        self.threads = FastestBlasThreads(flops=flops, inner=Xs.shape[1],
                                          dtype=self.buffer.dtype)
        self.split, self.cuts = None, None
        if self.threads.refused:
            self.cuts = _cuts(rows, max(self.threads.refused), SPLIT_ROW_ALIGN)
            if len(self.cuts) > 1 and rows <= Xs.shape[0]:
                self.split = _FastestSplit(candidates=(1, len(self.cuts)),
                                           remeasure_every=SPLIT_REMEASURE_EVERY)
        if self.threads.candidates or self.split is not None:
            # Fault the buffer's pages in now, so that the first measured block is not
            # charged for them.
            self.buffer.fill(0)

    def _product(self, A, out, cuts):
        def part(a, b):
            np.matmul(A[a:b], self.XtT, out=out[a:b])

        _run_parts([lambda a=a, b=b: part(a, b) for a, b in cuts])
        return out

    def _split_is_exact(self, A, out):
        def check():
            with single_blas_thread():
                whole = np.matmul(A, self.XtT)
                exact = np.array_equal(self._product(A, out, self.cuts), whole)
            if not exact:
                logger.debug("a %s block split by rows at %s gives other bits: not split",
                             A.shape, self.cuts)
            return exact

        key = ("neighbour_block", A.shape, self.XtT.shape, A.dtype.str, tuple(self.cuts))
        return checked_once(key, check)

    def __call__(self, start):
        A = self.Xs[start:start + self.buffer.shape[0]]
        out = self.buffer[:A.shape[0]]
        full = A.shape[0] == self.buffer.shape[0]
        if self.split is not None and full and not self._split_is_exact(A, out):
            self.split = None  # (the first block is full): every block at the threads as they are
        if self.split is None:
            return self.threads.run(np.matmul, A, self.XtT, out=out, timed=full)
        with single_blas_thread():
            whole = [(0, A.shape[0])]
            if not full:
                return self._product(A, out, whole)
            return self.split.run(lambda k: self._product(A, out, self.cuts if k > 1 else whole))


def _progress(desc, n_rows, batch_size, verbose):
    return Progress(desc, total=-(-n_rows // batch_size), verbose=verbose)


# ----------------------------------------------------------------------- selections
def _sort_desc(idx, vals):
    """Order each row's (idx, vals) by value, best first, then by index (deterministic ties)."""
    order = np.lexsort((idx, -vals), axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


def _topk_rows_partition(S, k):
    """:func:`topk_rows` by a full partition of each row (for short rows and heavy ties)."""
    b, n = S.shape
    kth = np.partition(S, n - k, axis=1)[:, n - k]
    above = S > kth[:, None]
    tied = S == kth[:, None]
    surplus = above.sum(axis=1) + tied.sum(axis=1) > k
    chosen = above | tied
    idx = np.empty((b, k), dtype=np.int64)
    if not surplus.all():
        plain = np.flatnonzero(~surplus)
        idx[plain] = np.nonzero(chosen[plain])[1].reshape(-1, k)
    for r in np.flatnonzero(surplus):
        # More entries equal the k-th value than fit: keep the lowest column indices.
        over = np.flatnonzero(above[r])
        idx[r] = np.concatenate([over, np.flatnonzero(tied[r])[: k - over.size]])
    return _sort_desc(idx, np.take_along_axis(S, idx, axis=1))


def topk_rows(S, k):
    """Return the indices and values of the k largest entries of each row of ``S``, best first.

    Ties go to the lowest column index, so the result is deterministic. Exact: the k-th
    largest group maximum ``tau`` of a row has at least k entries at or above it, so
    every entry of the top k is ``>= tau`` and lies in a group whose maximum is ``>= tau``.

    Parameters
    ----------
    S : ndarray of shape (n_rows, n_cols)
        Scores.
    k : int
        Entries per row; ``min(k, n_cols)`` are returned.

    Returns
    -------
    indices : ndarray of shape (n_rows, min(k, n_cols)), dtype int64
        Column indices, best first.
    values : ndarray of shape (n_rows, min(k, n_cols))
        ``S`` at those columns.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align._neighbors import topk_rows
    >>> idx, vals = topk_rows(np.array([[0.1, 0.9, 0.5, 0.9]]), 2)
    >>> idx.tolist(), vals.tolist()
    ([[1, 3]], [[0.9, 0.9]])
    """
    b, n = S.shape
    k = min(k, n)
    if k == n:
        return _sort_desc(np.broadcast_to(np.arange(n), S.shape).copy(), S.copy())
    n_groups = n // _GROUP
    if n_groups < 2 * k:
        return _topk_rows_partition(S, k)
    width = n_groups * _GROUP
    groups = S[:, :width].reshape(b, _GROUP, n_groups)
    group_max = groups.max(axis=1)
    tau = np.partition(group_max, n_groups - k, axis=1)[:, n_groups - k]
    selected = group_max >= tau[:, None]
    heavy = selected.sum(axis=1) > _MAX_GROUPS_PER_K * k
    idx = np.empty((b, k), dtype=np.int64)
    vals = np.empty((b, k), dtype=S.dtype)
    if heavy.any():
        rows = np.flatnonzero(heavy)
        idx[rows], vals[rows] = _topk_rows_partition(S[rows], k)
        selected[rows] = False
    light = np.flatnonzero(~heavy)
    if light.size:
        rows, grp = np.nonzero(selected)
        # Gather the selected groups, then keep only their entries at or above tau
        # (few), before building any per-entry index array.
        gathered = groups[rows, :, grp]
        sel, pos = np.nonzero(gathered >= tau[rows][:, None])
        cand_vals = [gathered[sel, pos]]
        cand_cols = [grp[sel] + n_groups * pos]
        cand_rows = [rows[sel]]
        if width < n:
            # The last, partial group is always searched.
            tail = S[light, width:]
            r, c = np.nonzero(tail >= tau[light][:, None])
            cand_vals.append(tail[r, c])
            cand_cols.append(width + c)
            cand_rows.append(light[r])
        cand_vals, cand_cols, cand_rows = (np.concatenate(a) for a in (cand_vals, cand_cols, cand_rows))
        order = np.lexsort((cand_cols, -cand_vals, cand_rows))
        take = np.searchsorted(cand_rows[order], light)[:, None] + np.arange(k)
        idx[light] = cand_cols[order][take]
        vals[light] = cand_vals[order][take]
    return idx, vals


def _mean_columns(V):
    """Row means of ``V`` in float64, summed column by column in a fixed order.

    A fixed sequence of elementwise float64 additions is monotone: if every entry of a
    row grows, its mean cannot shrink. :func:`csls_both_ways` relies on this to use a
    running ``r_S`` as a lower bound of the final one.
    """
    total = V[:, 0].astype(np.float64)
    for j in range(1, V.shape[1]):
        total += V[:, j]
    return total / V.shape[1]


def _row_topk_mean(S, k):
    """Mean of the k largest values of each row of ``S`` (all of them when ``k >= n``), in float64."""
    return _mean_columns(topk_rows(S, k)[1])


class _ColumnTopK:
    """The k largest values of each column of a matrix that arrives a block of rows at a time.

    Once k rows have been seen, each column keeps its current k-th largest value, and
    the rows of a block are taken ``_CHUNK_ROWS`` at a time: the chunk's column maxima
    (one vectorised pass) name the few columns with an entry above their k-th value,
    and only those entries are merged. They become rare as the pass goes on (about
    ``k / t`` per column in the ``t``-th chunk of random order). ``mean`` is each column's
    running top-k mean, which only grows (a lower bound of the final one).
    """

    def __init__(self, k):
        self.k = k
        self.top = None  # (n_cols, <= k) values, each row sorted ascending
        self.kth = None  # (n_cols,) the current k-th largest, once k rows have been seen
        self.mean = None  # (n_cols,) float64 mean of ``top``, once k rows have been seen

    def update(self, S):
        k = self.k
        if self.kth is None:
            both = S if self.top is None else np.concatenate([self.top.T, S])
            if both.shape[0] > k:
                both = np.partition(both, both.shape[0] - k, axis=0)[both.shape[0] - k:]
            # A copy: ``both`` may be the caller's block buffer.
            self.top = np.sort(both.T, axis=1)
            if self.top.shape[1] == k:
                self.kth = self.top[:, 0].copy()
                self.mean = _mean_columns(self.top)
            return
        for start in range(0, S.shape[0], _CHUNK_ROWS):
            chunk = S[start:start + _CHUNK_ROWS]
            cols = np.flatnonzero(chunk.max(axis=0) > self.kth)
            if cols.size:
                sub = chunk[:, cols]
                rows, pos = np.nonzero(sub > self.kth[cols])
                self._merge(cols, pos, sub[rows, pos])

    def _merge(self, cols, pos, vals):
        """Merge the entries ``vals`` of columns ``cols[pos]`` (each column has at least one)."""
        k = self.k
        order = np.lexsort((-vals, pos))
        pos, vals = pos[order], vals[order]
        # Rank of each entry within its column, best first; only the first k can enter the top k.
        rank = np.arange(pos.size) - np.searchsorted(pos, pos)
        keep = rank < k
        new = np.full((cols.size, k), -np.inf, dtype=self.top.dtype)
        new[pos[keep], rank[keep]] = vals[keep]
        both = np.concatenate([self.top[cols], new], axis=1)
        best = np.sort(np.partition(both, k, axis=1)[:, k:], axis=1)
        self.top[cols] = best
        self.kth[cols] = best[:, 0]
        self.mean[cols] = _mean_columns(best)

    def means(self):
        """Mean of each column's top k (all values seen, when fewer than k), in float64."""
        return self.mean if self.mean is not None else _mean_columns(self.top)


class _ColumnArgmax:
    """Running argmax of each column over blocks of rows; ties go to the lowest row."""

    def __init__(self, n_cols):
        self.best = np.full(n_cols, -np.inf, dtype=np.float32)
        self.arg = np.zeros(n_cols, dtype=np.int64)

    def update(self, T, offset):
        col_max = T.max(axis=0)
        # Strictly greater keeps the earlier (lower) row on ties across blocks.
        cols = np.flatnonzero(col_max > self.best)
        if cols.size == 0:
            return
        whole = 2 * cols.size > T.shape[1]
        sub, target = (T, col_max) if whole else (T[:, cols], col_max[cols])
        first = np.empty(sub.shape[1], dtype=np.int64)
        # Walking the rows upwards leaves the first row that reaches each column's maximum.
        for i in range(sub.shape[0] - 1, -1, -1):
            first[sub[i] == target] = i
        self.best[cols] = col_max[cols]
        self.arg[cols] = (first[cols] if whole else first) + offset


# ----------------------------------------------------------------------- neighbourhoods
def topk_means(Xs, Xt, k, batch_size=DEFAULT_BATCH_SIZE, *, need_src=True, need_tgt=True,
               verbose=0):
    """Compute CSLS's neighbourhood terms: each row's mean top-k cosine over the other space.

    One pass of ``Xs @ Xt.T`` blocks serves both sides. Inputs must already be unit-row
    float32 arrays (:func:`unit_rows`); :func:`mean_topk_similarity` is the validated form.

    Parameters
    ----------
    Xs : ndarray of shape (n_src, n_dims)
        Unit-length query rows (mapped sources).
    Xt : ndarray of shape (n_tgt, n_dims)
        Unit-length candidate rows (targets).
    k : int
        Neighbourhood size; all rows are averaged when ``k`` exceeds their number.
    batch_size : int, default=512
        Rows of ``Xs`` per block.
    need_src, need_tgt : bool, default=True
        Which of the two terms to compute.
    verbose : int, default=0
        Show a progress line at 1 or more (on a terminal).

    Returns
    -------
    r_src : ndarray of shape (n_src,) or None
        ``r_T``: mean cosine of each row of ``Xs`` to its k nearest rows of ``Xt`` (float64).
    r_tgt : ndarray of shape (n_tgt,) or None
        ``r_S``: mean cosine of each row of ``Xt`` to its k nearest rows of ``Xs`` (float64).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align._neighbors import topk_means, unit_rows
    >>> X = unit_rows(np.eye(2)); Y = unit_rows(np.array([[1.0, 0.0], [1.0, 1.0]]))
    >>> r_src, r_tgt = topk_means(X, Y, 1)
    >>> r_src.round(3).tolist(), r_tgt.round(3).tolist()
    ([1.0, 0.707], [1.0, 0.707])
    """
    n_src = Xs.shape[0]
    r_src = np.empty(n_src, dtype=np.float64) if need_src else None
    columns = _ColumnTopK(k) if need_tgt else None
    block = _BlockProduct(Xs, Xt, batch_size)
    with _progress("CSLS neighbourhoods", n_src, batch_size, verbose) as progress:
        for start in range(0, n_src, batch_size):
            S = block(start)
            if need_src:
                r_src[start:start + S.shape[0]] = _row_topk_mean(S, k)
            if need_tgt:
                columns.update(S)
            progress.update()
    r_tgt = columns.means() if need_tgt else None
    return r_src, r_tgt


@validate_params(
    {
        "X": ["array-like"],
        "Y": ["array-like"],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def mean_topk_similarity(X: ArrayLike, Y: ArrayLike, k: int = CSLS_K, *,
                         batch_size: int = DEFAULT_BATCH_SIZE) -> NDArray[np.floating]:
    """Mean cosine similarity of each row of ``X`` to its ``k`` nearest rows of ``Y``.

    This is CSLS's neighbourhood term: ``r_T(x)`` when ``X`` holds mapped source
    vectors and ``Y`` the targets, ``r_S(y)`` the other way round.

    Parameters
    ----------
    X : array-like of shape (n_x, n_dims)
        Query vectors.
    Y : array-like of shape (n_y, n_dims)
        Candidate vectors.
    k : int, default=10
        Neighbourhood size; if ``k >= n_y`` all rows of ``Y`` are averaged.
    batch_size : int, default=512
        Rows of ``X`` per block; memory is ``O(batch_size × n_y)``.

    Returns
    -------
    r : ndarray of shape (n_x,)
        Mean top-k cosine similarity.

    See Also
    --------
    CSLSDictionaryBuilder : Uses this term to build dictionaries.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import mean_topk_similarity
    >>> X = np.array([[1.0, 0.0]]); Y = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0]])
    >>> mean_topk_similarity(X, Y, k=2)
    array([0.5])
    """
    Xs = unit_rows(check_array(X))
    Yt = unit_rows(check_array(Y))
    check_same_dim(Xs, Yt, names=("X", "Y"))
    return topk_means(Xs, Yt, k, batch_size, need_tgt=False)[0]


@validate_params(
    {
        "Xq": ["array-like"],
        "Xc": ["array-like"],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "method": [StrOptions({"csls", "nn"})],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
        "queries": ["array-like", None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
        "r_candidates": ["array-like", None],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def topk_neighbors(Xq, Xc, k=10, *, method="csls", csls_k=CSLS_K, queries=None,
                   batch_size=DEFAULT_BATCH_SIZE, r_candidates=None, verbose=0):
    """Retrieve the ``k`` best candidates of each query by cosine (``"nn"``) or CSLS.

    Parameters
    ----------
    Xq : array-like of shape (n_q, n_dims)
        All (mapped) source vectors; CSLS's ``r_S`` of the candidates is computed over all of them.
    Xc : array-like of shape (n_c, n_dims)
        Candidate (target) vectors.
    k : int, default=10
        Number of candidates to return per query.
    method : {"csls", "nn"}, default="csls"
        Retrieval criterion.
    csls_k : int, default=10
        CSLS neighbourhood size.
    queries : array-like of int, default=None
        Rows of ``Xq`` to retrieve for; all rows when None.
    batch_size : int, default=512
        Query rows per block.
    r_candidates : array-like of shape (n_c,), default=None
        Precomputed ``r_S`` of the candidates over all rows of ``Xq``
        (``topk_means(unit_rows(Xc), unit_rows(Xq), csls_k, need_tgt=False)[0]``), to
        reuse across calls: the only ``O(n_q × n_c)`` part of a CSLS retrieval.
    verbose : int, default=0
        Show a progress line at 1 or more (on a terminal).

    Returns
    -------
    indices : ndarray of shape (n_queries, k)
        Candidate rows, best first (ties to the lowest row).
    scores : ndarray of shape (n_queries, k)
        Their cosine or CSLS scores.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align._neighbors import topk_neighbors
    >>> X = np.array([[1.0, 0.1], [0.1, 1.0]]); Y = np.array([[0.0, 1.0], [1.0, 0.0]])
    >>> topk_neighbors(X, Y, 1, method="nn")[0].tolist()
    [[1], [0]]
    """
    Xq = unit_rows(Xq)
    Xc = unit_rows(Xc)
    check_same_dim(Xq, Xc, names=("Xq", "Xc"))
    qidx = np.arange(Xq.shape[0]) if queries is None else np.asarray(queries, dtype=np.int64)
    Q = Xq[qidx]
    r_q = r_c = None
    if method == "csls":
        if r_candidates is None:
            r_candidates = topk_means(Xc, Xq, csls_k, batch_size, need_tgt=False,
                                      verbose=verbose)[0]
        r_q = topk_means(Q, Xc, csls_k, batch_size, need_tgt=False, verbose=verbose)[0]
        r_c = np.asarray(r_candidates, dtype=np.float32)
        if r_c.shape != (Xc.shape[0],):
            raise ValueError(f"r_candidates must have shape ({Xc.shape[0]},), one value per "
                             f"candidate. Got shape {r_c.shape} instead.")
    out_i, out_s = [], []
    block = _BlockProduct(Q, Xc, batch_size)
    with _progress(f"{method.upper()} retrieval", Q.shape[0], batch_size, verbose) as progress:
        for start in range(0, Q.shape[0], batch_size):
            S = block(start)
            if method == "csls":
                csls_scores(S, r_q[start:start + S.shape[0]], r_c, out=S)
            i, s = topk_rows(S, k)
            out_i.append(i)
            out_s.append(s)
            progress.update()
    if not out_i:
        return np.empty((0, min(k, Xc.shape[0])), np.int64), np.empty((0, min(k, Xc.shape[0])))
    return np.concatenate(out_i), np.concatenate(out_s).astype(np.float64)


# ----------------------------------------------------------------------- both ways
def nn_both_ways(Xs, Xt, batch_size=DEFAULT_BATCH_SIZE, *, verbose=0):
    """Row argmax (S2T) and column argmax (T2S) of the cosine matrix, in one blocked pass.

    Parameters
    ----------
    Xs, Xt : ndarray of shape (n_src, n_dims) and (n_tgt, n_dims)
        Unit-length float32 rows (:func:`unit_rows`).
    batch_size : int, default=512
        Source rows per block.
    verbose : int, default=0
        Show a progress line at 1 or more (on a terminal).

    Returns
    -------
    s2t : ndarray of shape (n_src,)
        Best target of each source row (ties to the lowest target).
    t2s : ndarray of shape (n_tgt,)
        Best source of each target row (ties to the lowest source).
    """
    s2t = np.empty(Xs.shape[0], dtype=np.int64)
    t2s = _ColumnArgmax(Xt.shape[0])
    block = _BlockProduct(Xs, Xt, batch_size)
    with _progress("NN dictionary", Xs.shape[0], batch_size, verbose) as progress:
        for start in range(0, Xs.shape[0], batch_size):
            S = block(start)
            s2t[start:start + S.shape[0]] = np.argmax(S, axis=1)
            t2s.update(S, start)
            progress.update()
    return s2t, t2s.arg


def _lowest_argmax(scores, idx, n):
    """Per row: the best score, and the lowest index among the entries holding it."""
    best = scores.max(axis=1)
    return best, np.where(scores == best[:, None], idx, n).min(axis=1)


def csls_both_ways(Xs, Xt, k=CSLS_K, batch_size=DEFAULT_BATCH_SIZE, *, verbose=0, stats=None):
    """Row argmax (S2T) and column argmax (T2S) of the CSLS matrix, in one blocked pass.

    ``csls(x, y) = 2cos(x, y) − r_T(x) − r_S(y)`` is the same number read either way, so
    T2S is the column-wise argmax of the S2T score matrix. A block of source rows holds
    their complete rows, so their ``r_T`` is known there and then; ``r_S(y)`` is constant
    down a column and cannot change a column's argmax, so T2S is settled in the same pass.

    S2T needs ``r_S`` of every target, known only at the end. The pass keeps, for each
    row, its ``_S2T_CANDIDATES`` best targets by cosine and its ``_CSLS_CANDIDATES`` best
    by the optimistic score ``u = 2cos − r_T − lb_S``, where ``lb_S`` is the running
    ``r_S`` of the columns seen so far (it only grows, so ``lb_S <= r_S``). Afterwards
    the best CSLS among the kept targets is the row's argmax when it beats either bound
    on every target not kept: the last kept ``u`` (since ``csls <= u``), or
    ``2c_m − r_T − r_S(y)``, ``c_m`` being the last kept cosine. Both bounds are monotone
    in float32 as computed. A row that proves neither is re-scored only against the
    targets whose ``r_S`` is low enough to pass the second bound (a prefix of the
    targets sorted by ``r_S``), so the result is exact.

    Parameters
    ----------
    Xs, Xt : ndarray of shape (n_src, n_dims) and (n_tgt, n_dims)
        Unit-length float32 rows (:func:`unit_rows`).
    k : int, default=10
        CSLS neighbourhood size.
    batch_size : int, default=512
        Source rows per block.
    verbose : int, default=0
        Show a progress line at 1 or more (on a terminal).
    stats : dict, default=None
        If given, filled with ``"rows_rescored"`` (rows that needed targets beyond the
        kept ones) and ``"entries_rescored"`` (source × target scores computed again).

    Returns
    -------
    s2t : ndarray of shape (n_src,)
        Best target of each source row (ties to the lowest target).
    t2s : ndarray of shape (n_tgt,)
        Best source of each target row (ties to the lowest source).
    """
    n_src, n_tgt = Xs.shape[0], Xt.shape[0]
    n_cos = min(max(_S2T_CANDIDATES, k), n_tgt)
    n_opt = min(_CSLS_CANDIDATES, n_cos)
    k_tgt = min(k, n_tgt)
    r_src = np.empty(n_src, dtype=np.float64)
    rs = np.empty(n_src, dtype=np.float32)
    cos_idx = np.empty((n_src, n_cos), dtype=np.int64)
    cos_val = np.empty((n_src, n_cos), dtype=np.float32)
    # The optimistic candidates keep ``2cos − r_T`` (the score before r_S), as computed.
    opt_idx = np.empty((n_src, n_opt), dtype=np.int64)
    opt_val = np.empty((n_src, n_opt), dtype=np.float32)
    opt_bound = np.full(n_src, np.inf, dtype=np.float32)
    columns = _ColumnTopK(k)
    t2s = _ColumnArgmax(n_tgt)
    block = _BlockProduct(Xs, Xt, batch_size)
    chunk = max(_CHUNK_ROWS, min(batch_size, _SCRATCH_ENTRIES // max(n_tgt, 1)))
    scratch = np.empty((min(chunk, n_src), n_tgt), dtype=np.float32)
    with _progress("CSLS dictionary", n_src, batch_size, verbose) as progress:
        for start in range(0, n_src, batch_size):
            S = block(start)
            stop = start + S.shape[0]
            idx, cos = topk_rows(S, n_cos)
            r_src[start:stop] = _mean_columns(cos[:, :k_tgt])
            rs[start:stop] = r_src[start:stop]
            cos_idx[start:stop], cos_val[start:stop] = idx, cos
            columns.update(S)
            csls_scores(S, rs[start:stop], out=S)
            t2s.update(S, start)
            if n_opt < n_tgt and columns.mean is not None:
                lb = columns.mean.astype(np.float32)
                # In chunks, into a small scratch array: the candidates' scores are read
                # from the block itself, as computed.
                for c0 in range(0, S.shape[0], chunk):
                    A = S[c0:c0 + chunk]
                    i, u = topk_rows(np.subtract(A, lb, out=scratch[:A.shape[0]]), n_opt)
                    rows = slice(start + c0, start + c0 + A.shape[0])
                    opt_idx[rows], opt_val[rows] = i, np.take_along_axis(A, i, axis=1)
                    opt_bound[rows] = u[:, -1]
            else:
                # No running r_S yet: the optimistic list repeats the cosine one.
                opt_idx[start:stop] = idx[:, :n_opt]
                opt_val[start:stop] = csls_scores(cos[:, :n_opt], rs[start:stop])
            progress.update()
    rt = columns.means().astype(np.float32)
    # The float32 operations of the block code, in the same order, on the kept entries.
    scores = np.concatenate([csls_scores(cos_val, rs, rt[cos_idx]), opt_val - rt[opt_idx]], axis=1)
    cand = np.concatenate([cos_idx, opt_idx], axis=1)
    best, s2t = _lowest_argmax(scores, cand, n_tgt)
    n_rescored, entries = 0, 0
    if n_cos < n_tgt:
        # Bound on any target not kept by cosine: 2c_m − r_T − r_S(y), per target y.
        cos_bound = csls_scores(cos_val[:, -1:], rs)[:, 0]
        redo = np.flatnonzero((best <= opt_bound) & (best <= cos_bound - rt.min()))
        n_rescored = redo.size
        if redo.size:
            entries = _rescore(Xs, Xt, rs, rt, cos_bound, best, s2t, redo, batch_size)
    logger.debug("CSLS S2T: %d of %d rows rescored (%d target scores, %.2f%% of the matrix)",
                 n_rescored, n_src, entries, 100 * entries / max(1, n_src * n_tgt))
    if stats is not None:
        stats.update(rows_rescored=int(n_rescored), entries_rescored=int(entries))
    return s2t, t2s.arg


def _rescore(Xs, Xt, rs, rt, cos_bound, best, s2t, redo, batch_size):
    """Re-score rows ``redo`` against the targets that can still beat ``best``; update in place.

    A target ``y`` not kept by cosine scores at most ``fl(cos_bound − r_S(y))``, which falls
    as ``r_S(y)`` grows: only the targets with the lowest ``r_S`` can reach ``best``, a
    prefix of the targets sorted by ``r_S``. The prefix taken is a superset (the
    threshold gets a float32 rounding allowance); any extra target is scored exactly too.
    """
    order = np.argsort(rt, kind="stable")
    rt_sorted = rt[order]
    eps = np.finfo(np.float32).eps
    threshold = cos_bound[redo].astype(np.float64) - best[redo] + 8 * eps
    length = np.searchsorted(rt_sorted, threshold, side="right")
    by_length = np.argsort(length, kind="stable")
    redo, length = redo[by_length], length[by_length]
    Xt_sorted = Xt[order[:length[-1]]]
    entries = 0
    for start in range(0, redo.size, batch_size):
        rows = redo[start:start + batch_size]
        n_cols = int(length[start:start + batch_size].max())
        if n_cols == 0:
            continue
        S = Xs[rows] @ Xt_sorted[:n_cols].T
        csls_scores(S, rs[rows], rt_sorted[:n_cols], out=S)
        cols = order[:n_cols]
        b, j = _lowest_argmax(S, cols[None, :], Xt.shape[0])
        better = (b > best[rows]) | ((b == best[rows]) & (j < s2t[rows]))
        s2t[rows[better]] = j[better]
        best[rows[better]] = b[better]
        entries += S.size
    return entries
