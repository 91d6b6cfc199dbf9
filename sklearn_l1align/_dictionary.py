"""Dictionary induction by nearest neighbours or CSLS: :class:`CSLSDictionaryBuilder`.

The neighbour search itself (blocks, CSLS scores, both-ways argmaxes) lives in
:mod:`sklearn_l1align._neighbors`; this module turns its two argmax lists into pairs.
"""

from __future__ import annotations

import logging
import numbers
from typing import TYPE_CHECKING, Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array

from . import _neighbors

from ._neighbors import CSLS_K, DEFAULT_BATCH_SIZE, unit_rows
from ._validation import check_real, check_same_dim

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


logger = logging.getLogger(__name__)

__all__ = ["CSLSDictionaryBuilder"]


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
    verbose : int, default=0
        At 1 or more, a progress line over the blocks (on a terminal); also shown inside
        :func:`sklearn_l1align._progress.show_progress`, as the ``l1align`` command does.

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
        "verbose": ["verbose"],
    }

    def __init__(self, method: Literal["csls", "nn"] = "csls", k: int = CSLS_K,
                 direction: Literal["mutual", "s2t", "t2s", "union"] = "mutual",
                 max_rank: int | None = 10000, batch_size: int = DEFAULT_BATCH_SIZE,
                 verbose: int = 0) -> None:
        self.method = method
        self.k = k
        self.direction = direction
        self.max_rank = max_rank
        self.batch_size = batch_size
        self.verbose = verbose

    def build(self, X_src: ArrayLike, X_tgt: ArrayLike) -> NDArray[np.int64]:
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
            s2t, t2s = _neighbors.csls_both_ways(Xs, Xt, self.k, self.batch_size,
                                                 verbose=self.verbose)
        else:
            s2t, t2s = _neighbors.nn_both_ways(Xs, Xt, self.batch_size, verbose=self.verbose)
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
        logger.debug("Induced %d %s pairs (%s) from %d x %d rows", len(pairs), self.direction,
                    self.method, len(Xs), len(Xt))
        return pairs
