"""Dictionary induction by nearest neighbours and CSLS, computed exactly in float32 blocks.

CSLS (cross-domain similarity local scaling, Conneau et al. 2018) scores a source
vector x against a target vector y as

    csls(x, y) = 2 cos(x, y) − r_T(x) − r_S(y),

where r_T(x) is the mean cosine of x to its k nearest targets and r_S(y) the mean
cosine of y to its k nearest (mapped) sources. Both neighbourhoods are computed over
the whole candidate vocabulary. Nothing here ever holds an ``n_src × n_tgt`` matrix:
every pass walks the source rows in blocks of ``batch_size`` and keeps running
per-column statistics for the target side, so memory is
``O(batch_size × n_tgt + k × n_tgt)``.
"""

import logging
import numbers

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions, validate_params
from sklearn.utils.validation import check_array

from ._validation import check_same_dim

logger = logging.getLogger(__name__)

__all__ = ["CSLSDictionaryBuilder", "mean_topk_similarity", "topk_neighbors"]

#: Default number of source rows per block. A block costs ``batch_size × n_tgt × 4`` bytes
#: (about 400 MB for 200,000 targets), plus a copy of the same size for top-k selection.
DEFAULT_BATCH_SIZE = 512


def unit_rows(X, dtype=np.float32):
    """Return a ``dtype`` copy of ``X`` with unit-length rows (zero rows stay zero)."""
    X = np.array(X, dtype=dtype, copy=True)
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    norms[norms == 0] = 1
    X /= norms
    return X


def _row_topk_mean(S, k):
    """Mean of the k largest values of each row of ``S``."""
    n = S.shape[1]
    if k >= n:
        return S.mean(axis=1)
    return np.partition(S, n - k, axis=1)[:, n - k:].mean(axis=1)


def _merge_col_topk(running, S, k):
    """Merge the k largest values per column of block ``S`` into ``running`` (k', n_cols)."""
    b = S.shape[0]
    if b > k:
        S = np.partition(S, b - k, axis=0)[b - k:]
    both = np.concatenate([running, S], axis=0) if running is not None else S
    if both.shape[0] > k:
        both = np.partition(both, both.shape[0] - k, axis=0)[both.shape[0] - k:]
    return both


def _topk_means(Xs, Xt, k, batch_size, *, need_src=True, need_tgt=True):
    """Return (r_src, r_tgt): mean top-k cosine of each source row over targets, and vice versa.

    One pass of ``Xs @ Xt.T`` blocks serves both sides. Inputs are unit-row float32.
    """
    n_src = Xs.shape[0]
    r_src = np.empty(n_src, dtype=np.float64) if need_src else None
    running = None
    for start in range(0, n_src, batch_size):
        S = Xs[start:start + batch_size] @ Xt.T
        if need_src:
            r_src[start:start + S.shape[0]] = _row_topk_mean(S, k)
        if need_tgt:
            running = _merge_col_topk(running, S, k)
    r_tgt = running.mean(axis=0, dtype=np.float64) if need_tgt else None
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


def _topk_rows(S, k):
    """Indices and values of the k largest entries of each row of S, best first."""
    n = S.shape[1]
    k = min(k, n)
    if k < n:
        idx = np.argpartition(S, n - k, axis=1)[:, n - k:]
    else:
        idx = np.broadcast_to(np.arange(n), S.shape).copy()
    vals = np.take_along_axis(S, idx, axis=1)
    # Sort by score descending, then by index ascending, so ties are deterministic.
    order = np.lexsort((idx, -vals), axis=1)
    idx = np.take_along_axis(idx, order, axis=1)
    return idx, np.take_along_axis(vals, order, axis=1)


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
    elif method != "nn":
        raise ValueError(f"method must be 'csls' or 'nn'. Got {method!r} instead.")
    out_i, out_s = [], []
    for start in range(0, Q.shape[0], batch_size):
        S = Q[start:start + batch_size] @ Xc.T
        if method == "csls":
            S *= 2
            S -= r_q[start:start + S.shape[0], None].astype(np.float32)
            S -= r_candidates[None, :].astype(np.float32)
        i, s = _topk_rows(S, k)
        out_i.append(i)
        out_s.append(s)
    if not out_i:
        return np.empty((0, min(k, Xc.shape[0])), np.int64), np.empty((0, min(k, Xc.shape[0])))
    return np.concatenate(out_i), np.concatenate(out_s).astype(np.float64)


def _best_both_ways(Xs, Xt, r_src, r_tgt, batch_size):
    """Row argmax (S2T) and column argmax (T2S) of the score matrix, in one blocked pass.

    The CSLS score is the same number read either way (2cos − r_T(x) − r_S(y)), so the
    T2S dictionary is the column-wise argmax of the S2T score matrix; ``r_src``/``r_tgt``
    None means plain cosine (NN).
    """
    n_src, n_tgt = Xs.shape[0], Xt.shape[0]
    s2t = np.empty(n_src, dtype=np.int64)
    col_best = np.full(n_tgt, -np.inf, dtype=np.float32)
    t2s = np.zeros(n_tgt, dtype=np.int64)
    rt = None if r_tgt is None else r_tgt.astype(np.float32)
    for start in range(0, n_src, batch_size):
        S = Xs[start:start + batch_size] @ Xt.T
        if r_src is not None:
            S *= 2
            S -= r_src[start:start + S.shape[0], None].astype(np.float32)
            S -= rt[None, :]
        s2t[start:start + S.shape[0]] = np.argmax(S, axis=1)
        blk_arg = np.argmax(S, axis=0)
        blk_best = S[blk_arg, np.arange(n_tgt)]
        # Strictly greater keeps the first (lowest-index) source on ties, as argmax does.
        better = blk_best > col_best
        col_best[better] = blk_best[better]
        t2s[better] = blk_arg[better] + start
    return s2t, t2s


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
        Source rows per block. Peak memory is about ``2 × batch_size × n_tgt × 4``
        bytes.

    See Also
    --------
    ProcrustesAligner : ℓ2 alignment, which accepts this builder as ``dictionary``.
    L1ProcrustesAligner : ℓ1 refinement, which builds its dictionary with this class.

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
        X_src = check_array(X_src, dtype=[np.float64, np.float32], input_name="X_src")
        X_tgt = check_array(X_tgt, dtype=[np.float64, np.float32], input_name="X_tgt")
        check_same_dim(X_src, X_tgt, names=("X_src", "X_tgt"))
        if self.max_rank is not None:
            X_src, X_tgt = X_src[: self.max_rank], X_tgt[: self.max_rank]
        Xs, Xt = unit_rows(X_src), unit_rows(X_tgt)
        if self.method == "csls":
            r_src, r_tgt = _topk_means(Xs, Xt, self.k, self.batch_size)
        else:
            r_src = r_tgt = None
        s2t, t2s = _best_both_ways(Xs, Xt, r_src, r_tgt, self.batch_size)
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
