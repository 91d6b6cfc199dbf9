"""Dictionary induction by nearest neighbours and CSLS, computed exactly in float32 blocks.

CSLS (cross-domain similarity local scaling, Conneau et al. 2018) scores a source
vector x against a target vector y as

    csls(x, y) = 2 cos(x, y) − r_T(x) − r_S(y),

where r_T(x) is the mean cosine of x to its k nearest targets and r_S(y) the mean
cosine of y to its k nearest (mapped) sources. Both neighbourhoods are computed over
the whole candidate vocabulary. Nothing here ever holds an ``n_src × n_tgt`` matrix:
every pass walks the source rows in blocks of ``batch_size`` and keeps running
per-column statistics for the target side, so memory is
``O(batch_size × n_tgt + k × n_tgt + 32 × n_src)``.

A CSLS dictionary takes one pass over ``Xs @ Xt.T`` (see ``_csls_both_ways``), a
retrieval one pass for the candidates' neighbourhoods plus one over the queries. Within a
pass the selections avoid full sorts and partitions of the ``batch_size × n_tgt`` block:
a row's top k is found among the few groups of columns whose maxima can hold it
(``_topk_rows``), and the columns' running top k and argmax only touch the entries
that beat them (``_ColumnTopK``, ``_ColumnArgmax``). All of it is exact selection on
the float32 scores, with no approximate search and no pruning that could lose a pair;
ties go to the lowest index.
"""

import logging
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from ._validation import check_real, check_same_dim

logger = logging.getLogger(__name__)

__all__ = ["CSLSDictionaryBuilder", "mean_topk_similarity", "topk_neighbors"]

#: Default number of source rows per block. A block costs ``batch_size × n_tgt × 4`` bytes
#: (about 400 MB for 200,000 targets), held in one reused buffer; the selections on it add
#: less than half as much again (``benchmarks/scale.py`` measures 1.8 GB peak at 200,000
#: rows, inputs included).
DEFAULT_BATCH_SIZE = 512


def unit_rows(X, dtype=np.float32):
    """Return a ``dtype`` copy of ``X`` with unit-length rows (zero rows stay zero)."""
    X = np.array(X, dtype=dtype, copy=True)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1
    X /= norms
    return X


#: Entries per group in :func:`_topk_rows`. A row's k best entries all lie in the groups
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
#: Best targets by cosine kept per source row by :func:`_csls_both_ways`, enough for most
#: rows to prove their CSLS argmax without a second pass over the targets.
_S2T_CANDIDATES = 32
#: Rows per chunk in :class:`_ColumnTopK`: small enough that a chunk's column maxima rule
#: out most columns, large enough that the per-chunk overhead stays negligible.
_CHUNK_ROWS = 32


class _BlockProduct:
    """``Xs[rows] @ Xt.T`` for one block of rows at a time, written into one reused buffer.

    Reusing the ``batch_size × n_tgt`` float32 buffer saves the page faults of a fresh
    allocation per block. The returned array is overwritten by the next call.
    """

    def __init__(self, Xs, Xt, batch_size):
        self.Xs, self.XtT = Xs, Xt.T
        self.buffer = np.empty((min(batch_size, max(Xs.shape[0], 1)), Xt.shape[0]),
                               dtype=np.result_type(Xs, Xt))

    def __call__(self, start=None, rows=None):
        A = self.Xs[start:start + self.buffer.shape[0]] if rows is None else self.Xs[rows]
        return np.matmul(A, self.XtT, out=self.buffer[:A.shape[0]])


def _sort_desc(idx, vals):
    """Order each row's (idx, vals) by value, best first, then by index (deterministic ties)."""
    order = np.lexsort((idx, -vals), axis=1)
    return np.take_along_axis(idx, order, axis=1), np.take_along_axis(vals, order, axis=1)


def _topk_rows_partition(S, k):
    """:func:`_topk_rows` by a full partition of each row (for short rows and heavy ties)."""
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


def _topk_rows(S, k):
    """Indices and values of the k largest entries of each row of S, best first.

    Ties go to the lowest column index, so the result is deterministic. Exact: the
    k-th largest group maximum ``tau`` of a row has at least k entries at or above it,
    so every entry of the top k is ``>= tau`` and lies in a group whose maximum is ``>= tau``.
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
        cand_vals = [groups[rows, :, grp].ravel()]
        cand_cols = [(grp[:, None] + n_groups * np.arange(_GROUP)).ravel()]
        cand_rows = [np.repeat(rows, _GROUP)]
        if width < n:
            # The last, partial group is always searched.
            cand_vals.append(S[light, width:].ravel())
            cand_cols.append(np.tile(np.arange(width, n), light.size))
            cand_rows.append(np.repeat(light, n - width))
        cand_vals, cand_cols, cand_rows = (np.concatenate(a) for a in (cand_vals, cand_cols, cand_rows))
        keep = cand_vals >= tau[cand_rows]
        cand_vals, cand_cols, cand_rows = cand_vals[keep], cand_cols[keep], cand_rows[keep]
        order = np.lexsort((cand_cols, -cand_vals, cand_rows))
        take = np.searchsorted(cand_rows[order], light)[:, None] + np.arange(k)
        idx[light] = cand_cols[order][take]
        vals[light] = cand_vals[order][take]
    return idx, vals


def _row_topk_mean(S, k):
    """Mean of the k largest values of each row of ``S`` (all of them when ``k >= n``), in float64."""
    if k >= S.shape[1]:
        return S.mean(axis=1, dtype=np.float64)
    return _topk_rows(S, k)[1].mean(axis=1, dtype=np.float64)


class _ColumnTopK:
    """The k largest values of each column of a matrix that arrives a block of rows at a time.

    Once k rows have been seen, each column keeps its current k-th largest value, and
    the rows of a block are taken ``_CHUNK_ROWS`` at a time: the chunk's column maxima
    (one vectorised pass) name the few columns with an entry above their k-th value,
    and only those entries are merged. They become rare as the pass goes on (about
    ``k / t`` per column in the ``t``-th chunk of random order).
    """

    def __init__(self, k):
        self.k = k
        self.top = None  # (n_cols, <= k) values
        self.kth = None  # (n_cols,) the current k-th largest, once k rows have been seen

    def update(self, S):
        k = self.k
        if self.kth is None:
            both = S if self.top is None else np.concatenate([self.top.T, S])
            if both.shape[0] > k:
                both = np.partition(both, both.shape[0] - k, axis=0)[both.shape[0] - k:]
            # A copy: ``both`` may be the caller's block buffer.
            self.top = np.array(both.T, order="C")
            if self.top.shape[1] == k:
                self.kth = self.top.min(axis=1)
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
        best = np.partition(both, k, axis=1)[:, k:]
        self.top[cols] = best
        self.kth[cols] = best.min(axis=1)

    def means(self):
        """Mean of each column's top k, in float64 (summed in sorted order: deterministic)."""
        return np.sort(self.top, axis=1).mean(axis=1, dtype=np.float64)


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


def _topk_means(Xs, Xt, k, batch_size, *, need_src=True, need_tgt=True):
    """Return (r_src, r_tgt): mean top-k cosine of each source row over targets, and vice versa.

    One pass of ``Xs @ Xt.T`` blocks serves both sides. Inputs are unit-row float32.
    """
    n_src = Xs.shape[0]
    r_src = np.empty(n_src, dtype=np.float64) if need_src else None
    columns = _ColumnTopK(k) if need_tgt else None
    block = _BlockProduct(Xs, Xt, batch_size)
    for start in range(0, n_src, batch_size):
        S = block(start)
        if need_src:
            r_src[start:start + S.shape[0]] = _row_topk_mean(S, k)
        if need_tgt:
            columns.update(S)
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
def mean_topk_similarity(X, Y, k=10, *, batch_size=DEFAULT_BATCH_SIZE):
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
    return _topk_means(Xs, Yt, k, batch_size, need_tgt=False)[0]


def topk_neighbors(Xq, Xc, k=10, *, method="csls", csls_k=10, queries=None,
                   batch_size=DEFAULT_BATCH_SIZE, r_candidates=None):
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
    r_candidates : ndarray of shape (n_c,), default=None
        Precomputed ``r_S`` of the candidates, to reuse across calls.

    Returns
    -------
    indices : ndarray of shape (n_queries, k)
        Candidate rows, best first.
    scores : ndarray of shape (n_queries, k)
        Their cosine or CSLS scores.
    """
    Xq = unit_rows(Xq)
    Xc = unit_rows(Xc)
    qidx = np.arange(Xq.shape[0]) if queries is None else np.asarray(queries, dtype=np.int64)
    Q = Xq[qidx]
    if method == "csls":
        if r_candidates is None:
            r_candidates = _topk_means(Xc, Xq, csls_k, batch_size, need_tgt=False)[0]
        r_q = _topk_means(Q, Xc, csls_k, batch_size, need_tgt=False)[0]
        r_c = np.asarray(r_candidates)[None, :].astype(np.float32)
    elif method != "nn":
        raise ValueError(f"method must be 'csls' or 'nn'. Got {method!r} instead.")
    out_i, out_s = [], []
    block = _BlockProduct(Q, Xc, batch_size)
    for start in range(0, Q.shape[0], batch_size):
        S = block(start)
        if method == "csls":
            S *= 2
            S -= r_q[start:start + S.shape[0], None].astype(np.float32)
            S -= r_c
        i, s = _topk_rows(S, k)
        out_i.append(i)
        out_s.append(s)
    if not out_i:
        return np.empty((0, min(k, Xc.shape[0])), np.int64), np.empty((0, min(k, Xc.shape[0])))
    return np.concatenate(out_i), np.concatenate(out_s).astype(np.float64)


def _nn_both_ways(Xs, Xt, batch_size):
    """Row argmax (S2T) and column argmax (T2S) of the cosine matrix, in one blocked pass."""
    s2t = np.empty(Xs.shape[0], dtype=np.int64)
    t2s = _ColumnArgmax(Xt.shape[0])
    block = _BlockProduct(Xs, Xt, batch_size)
    for start in range(0, Xs.shape[0], batch_size):
        S = block(start)
        s2t[start:start + S.shape[0]] = np.argmax(S, axis=1)
        t2s.update(S, start)
    return s2t, t2s.arg


def _csls_both_ways(Xs, Xt, k, batch_size):
    """Row argmax (S2T) and column argmax (T2S) of the CSLS matrix, in one blocked pass.

    ``csls(x, y) = 2cos(x, y) − r_T(x) − r_S(y)`` is the same number read either way, so
    T2S is the column-wise argmax of the S2T score matrix. A block of source rows holds
    their complete rows, so their ``r_T`` is known there and then; ``r_S(y)`` is constant
    down a column and cannot change a column's argmax, so T2S is settled in the same pass.
    S2T needs ``r_S`` of every target, known only at the end: the pass keeps each row's
    ``_S2T_CANDIDATES`` best targets by cosine, and afterwards the best CSLS among them
    is the row's argmax whenever it beats ``2c_m − r_T(x) − min r_S``, an upper bound
    (monotone in float32 too) on the score of any target not kept, ``c_m`` being the
    last kept cosine. The rows that cannot prove it are recomputed in full, so the
    result is exact; on aligned spaces they are few.
    """
    n_src, n_tgt = Xs.shape[0], Xt.shape[0]
    n_cand = min(max(_S2T_CANDIDATES, k), n_tgt)
    k_tgt = min(k, n_tgt)
    r_src = np.empty(n_src, dtype=np.float64)
    cand_idx = np.empty((n_src, n_cand), dtype=np.int64)
    cand_cos = np.empty((n_src, n_cand), dtype=np.float32)
    columns = _ColumnTopK(k)
    t2s = _ColumnArgmax(n_tgt)
    block = _BlockProduct(Xs, Xt, batch_size)
    for start in range(0, n_src, batch_size):
        S = block(start)
        stop = start + S.shape[0]
        idx, cos = _topk_rows(S, n_cand)
        # The k largest, summed in the same order as _row_topk_mean(S, k) sums them.
        r_src[start:stop] = cos[:, :k_tgt].mean(axis=1, dtype=np.float64)
        cand_idx[start:stop], cand_cos[start:stop] = idx, cos
        columns.update(S)
        S *= 2
        S -= r_src[start:stop, None].astype(np.float32)
        t2s.update(S, start)
    r_tgt = columns.means()
    rs, rt = r_src.astype(np.float32), r_tgt.astype(np.float32)
    # The float32 operations of the block code, in the same order, on the kept entries.
    scores = cand_cos * 2
    scores -= rs[:, None]
    scores -= rt[cand_idx]
    best = scores.max(axis=1)
    s2t = np.where(scores == best[:, None], cand_idx, n_tgt).min(axis=1)
    if n_cand < n_tgt:
        bound = cand_cos[:, -1] * 2
        bound -= rs
        bound -= rt.min()
        redo = np.flatnonzero(best <= bound)
        logger.debug("CSLS S2T: %d of %d rows rechecked against all targets", redo.size, n_src)
        for start in range(0, redo.size, batch_size):
            rows = redo[start:start + batch_size]
            S = block(rows=rows)
            S *= 2
            S -= rs[rows, None]
            S -= rt[None, :]
            s2t[rows] = np.argmax(S, axis=1)
    return s2t, t2s.arg


class CSLSDictionaryBuilder(BaseEstimator):
    """Induce a bilingual dictionary from two aligned embedding spaces, as MUSE does.

    Each source word is paired with its best target (S2T) and each target word with
    its best source (T2S), by CSLS or by plain cosine; ``direction`` says which of
    the two lists, or which combination, to keep. The computation is exact and runs
    in float32 blocks of ``batch_size`` source rows, so memory never reaches
    ``n_src × n_tgt``.

    Parameters
    ----------
    method : {"csls", "nn"}, default="csls"
        ``"csls"`` ranks by CSLS with neighbourhood ``k``; ``"nn"`` by cosine.
    k : int, default=10
        CSLS neighbourhood size (CSLS-10 in MUSE and in the paper).
    direction : {"mutual", "s2t", "t2s", "union"}, default="mutual"
        ``"mutual"`` keeps the pairs found in both directions (S2T ∩ T2S), the paper's
        choice; ``"union"`` keeps either.
    max_rank : int or None, default=10000
        Only the first ``max_rank`` rows of each space take part (embeddings come
        most frequent first). Everything, including CSLS's neighbourhoods, is computed
        within that cut, as VecMap's ``--vocabulary_cutoff`` does. MUSE's
        ``dico_max_rank`` instead searches all targets and drops pairs beyond the rank
        afterwards. ``None`` uses all rows.
    batch_size : int, default=512
        Source rows per block. Peak memory is about ``1.5 × batch_size × n_tgt × 4``
        bytes beyond the inputs and their unit-length float32 copies (about 0.6 GB
        for 200,000 targets).

    See Also
    --------
    ProcrustesAligner : Alignment by ℓ2 Procrustes; accepts this builder as ``dictionary``.
    L1ProcrustesAligner : Refinement by ℓ1 Procrustes; builds its dictionary with this class.

    References
    ----------
    .. [1] A. Conneau, G. Lample, M. Ranzato, L. Denoyer and H. Jégou, "Word translation
       without parallel data", ICLR 2018 (MUSE, CSLS).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import CSLSDictionaryBuilder
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(50, 8))
    >>> pairs = CSLSDictionaryBuilder(max_rank=None).build(X, X)
    >>> bool((pairs[:, 0] == pairs[:, 1]).all()), pairs.shape
    (True, (50, 2))
    """

    _parameter_constraints = {
        "method": [StrOptions({"csls", "nn"})],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "direction": [StrOptions({"mutual", "s2t", "t2s", "union"})],
        "max_rank": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "batch_size": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, method="csls", k=10, direction="mutual", max_rank=10000,
                 batch_size=DEFAULT_BATCH_SIZE):
        self.method = method
        self.k = k
        self.direction = direction
        self.max_rank = max_rank
        self.batch_size = batch_size

    def build(self, X_src, X_tgt):
        """Return the induced dictionary as source/target row indices.

        Parameters
        ----------
        X_src : array-like of shape (n_src, n_dims)
            Source embeddings, already mapped into the target space.
        X_tgt : array-like of shape (n_tgt, n_dims)
            Target embeddings.

        Returns
        -------
        pairs : ndarray of shape (n_pairs, 2), dtype int64
            Rows ``(i, j)``: source row ``i`` translates to target row ``j``, sorted
            by ``i`` then ``j``. Rows are indices into the full inputs.

        Raises
        ------
        ValueError
            If the spaces differ in dimension, or if no pair survives (for
            ``"mutual"``, the two directions share no pair).
        """
        self._validate_params()
        X_src = check_array(check_real(X_src, "X_src"), dtype=[np.float64, np.float32],
                            input_name="X_src")
        X_tgt = check_array(check_real(X_tgt, "X_tgt"), dtype=[np.float64, np.float32],
                            input_name="X_tgt")
        check_same_dim(X_src, X_tgt, names=("X_src", "X_tgt"))
        if self.max_rank is not None:
            X_src, X_tgt = X_src[: self.max_rank], X_tgt[: self.max_rank]
        Xs, Xt = unit_rows(X_src), unit_rows(X_tgt)
        if self.method == "csls":
            s2t, t2s = _csls_both_ways(Xs, Xt, self.k, self.batch_size)
        else:
            s2t, t2s = _nn_both_ways(Xs, Xt, self.batch_size)
        fwd = np.column_stack([np.arange(len(s2t)), s2t])
        bwd = np.column_stack([t2s, np.arange(len(t2s))])
        if self.direction == "s2t":
            pairs = fwd
        elif self.direction == "t2s":
            pairs = bwd
        elif self.direction == "mutual":
            pairs = fwd[t2s[s2t] == np.arange(len(s2t))]
        else:
            pairs = np.unique(np.concatenate([fwd, bwd]), axis=0)
        pairs = pairs[np.lexsort((pairs[:, 1], pairs[:, 0]))].astype(np.int64)
        if len(pairs) == 0:
            raise ValueError(
                f"Dictionary induction ({self.method}, direction={self.direction!r}) found no "
                f"pairs among {len(Xs)} source and {len(Xt)} target rows. The spaces are probably "
                "not aligned yet: align them first (e.g. ProcrustesAligner with a seed "
                "dictionary), or use direction='union'."
            )
        logger.info("Induced %d %s pairs (%s) from %d x %d rows", len(pairs), self.direction,
                    self.method, len(Xs), len(Xt))
        return pairs
