"""ℓ2 orthogonal Procrustes: the closed-form baseline and MUSE-style self-learning."""

import logging

import numpy as np
from sklearn.base import _fit_context

from ._base import _BaseAligner
from ._logging import vlog

logger = logging.getLogger(__name__)

__all__ = ["ProcrustesAligner", "procrustes_rotation"]


def procrustes_rotation(A, B):
    """Solve ``min_{M orthogonal} ||AM − B||_F``: ``M = U Vᵀ`` from the SVD ``AᵀB = U Σ Vᵀ``.

    Parameters
    ----------
    A, B : ndarray of shape (n_pairs, n_dims)
        Paired source and target vectors.

    Returns
    -------
    M : ndarray of shape (n_dims, n_dims)
        The orthogonal minimiser (Schönemann 1966).

    See Also
    --------
    ProcrustesAligner : The estimator built on this function.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import procrustes_rotation
    >>> A = np.eye(2); B = np.array([[0.0, 1.0], [-1.0, 0.0]])
    >>> procrustes_rotation(A, B)
    array([[ 0.,  1.],
           [-1.,  0.]])
    """
    C = np.asarray(A, dtype=np.float64).T @ np.asarray(B, dtype=np.float64)
    U, _, Vt = np.linalg.svd(C)
    return U @ Vt


class ProcrustesAligner(_BaseAligner):
    """Align a source space onto a target space by ℓ2 orthogonal Procrustes.

    Finds the orthogonal ``M`` minimising ``||AM − B||_F`` over dictionary pairs, where
    row ``p`` of ``A`` is the source vector and row ``p`` of ``B`` its translation:
    ``M = U Vᵀ`` from the SVD of ``AᵀB``.

    Parameters
    ----------
    dictionary : "paired" or CSLSDictionaryBuilder, default="paired"
        Where the pairs come from. ``"paired"``: row ``i`` of ``X`` translates row
        ``i`` of ``y``, or the ``pairs`` passed to :meth:`fit`. A
        :class:`CSLSDictionaryBuilder` induces the pairs from ``X`` and ``y`` (the
        paper's "ℓ2 refinement" baseline); with ``pairs`` given too, the pairs seed
        the first round.
    n_refinements : int, default=0
        Further rounds of MUSE-style self-learning: map ``X``, re-induce the dictionary
        with the builder, and solve again. Needs a :class:`CSLSDictionaryBuilder`.
    verbose : int, default=0
        0 is silent; 1 logs a line per round.

    Attributes
    ----------
    rotation_ : ndarray of shape (n_features, n_features)
        The orthogonal map; ``transform(X) = X @ rotation_``.
    dictionary_ : ndarray of shape (n_pairs, 2)
        The (source row, target row) pairs of the last round.
    dictionary_sizes_ : list of int
        Number of pairs in each round.
    residuals_ : list of float
        ``||AM − B||_F`` over each round's pairs after its solve.
    n_features_in_ : int
        Number of features seen during :term:`fit`.

    See Also
    --------
    L1ProcrustesAligner : Refinement of an aligned space by ℓ1 Procrustes.
    CSLSDictionaryBuilder : Dictionary induction.

    References
    ----------
    .. [1] P. H. Schönemann, "A generalized solution of the orthogonal Procrustes
       problem", Psychometrika 31, 1966.
    .. [2] S. L. Smith, D. H. P. Turban, S. Hamblin and N. Y. Hammerla, "Offline
       bilingual word vectors, orthogonal transformations and the inverted softmax",
       ICLR 2017.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import special_ortho_group
    >>> from sklearn_l1align import ProcrustesAligner
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(100, 5)); R = special_ortho_group.rvs(5, random_state=0)
    >>> aligner = ProcrustesAligner().fit(X, X @ R)
    >>> bool(np.allclose(aligner.rotation_, R))
    True
    """

    def __init__(self, dictionary="paired", n_refinements=0, verbose=0):
        self.dictionary = dictionary
        self.n_refinements = n_refinements
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, pairs=None):
        """Fit the orthogonal map.

        Parameters
        ----------
        X : array-like of shape (n_src, n_features)
            Source embeddings.
        y : array-like of shape (n_tgt, n_features)
            Target embeddings.
        pairs : array-like of shape (n_pairs, 2), default=None
            (source row, target row) translation pairs; ``X`` and ``y`` may then differ
            in their number of rows.

        Returns
        -------
        self : ProcrustesAligner
            The fitted aligner.
        """
        X, y, pairs = self._validate_fit_inputs(X, y, pairs)
        pairs = self._first_pairs(X, y, pairs)
        self.dictionary_sizes_, self.residuals_ = [], []
        M = None
        for rnd in range(1 + self.n_refinements):
            if rnd > 0:
                pairs = self.dictionary.build(X @ M, y)
            A, B = X[pairs[:, 0]], y[pairs[:, 1]]
            M = procrustes_rotation(A, B)
            res = float(np.linalg.norm(A @ M - B))
            self.dictionary_sizes_.append(len(pairs))
            self.residuals_.append(res)
            vlog(logger, self.verbose, 1, "l2 round %d: %d pairs, ||AM-B||_F = %.6g", rnd, len(pairs), res)
        self.rotation_ = M
        self.dictionary_ = pairs
        return self
