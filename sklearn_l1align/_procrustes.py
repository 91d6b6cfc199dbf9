"""ℓ2 orthogonal Procrustes: the closed-form baseline and MUSE-style self-learning."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

import numpy as np
import scipy.linalg

from ._base import BaseAligner
from ._threads import (
    MEASURE_MIN_FLOPS,
    _FastestSplit,
    _run_parts,
    current_blas_threads,
    max_blas_threads,
    single_blas_thread,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

    from ._dictionary import CSLSDictionaryBuilder


__all__ = ["ProcrustesAligner", "procrustes_rotation"]


def procrustes_rotation(A: ArrayLike, B: ArrayLike) -> NDArray[np.floating]:
    """Solve ``min_{M orthogonal} ||AM − B||_F``: ``M = U Vᵀ`` from the SVD ``AᵀB = U Σ Vᵀ``.

    Parameters
    ----------
    A, B : ndarray of shape (n_pairs, n_dims)
        Paired source and target vectors.

    Returns
    -------
    M : ndarray of shape (n_dims, n_dims), float64
        The orthogonal minimiser (Schönemann 1966).

    See Also
    --------
    ProcrustesAligner : The estimator built on this function.

    Notes
    -----
    When ``A`` and ``B`` are both float32, ``AᵀB`` is formed in float32, as VecMap forms it
    (its entries then carry the inputs' rounding, about 1e-6 relative), and factorised in
    float32; one Newton–Schulz step in float64 then makes ``M`` orthogonal to float64
    precision. Any other
    dtype is computed in float64 throughout.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import procrustes_rotation
    >>> A = np.eye(2); B = np.array([[0.0, 1.0], [-1.0, 0.0]])
    >>> procrustes_rotation(A, B)
    array([[ 0.,  1.],
           [-1.,  0.]])
    """
    return _procrustes(A, B)[0]


#: The Frobenius residual comes from ``||A||² + ||B||² − 2 Σσ(AᵀB)`` while it is at least this
#: share of ``||A||² + ||B||²``; below, where that difference would cancel, from ``AM − B`` itself.
RESIDUAL_IDENTITY_MIN_SHARE = 1e-2


def _procrustes(A, B):
    """``(M, Σσ)``: the orthogonal Procrustes solution and the nuclear norm of ``AᵀB``."""
    A, B = np.asarray(A), np.asarray(B)
    dtype = _product_dtype(A, B)
    C = _cross_product(A.astype(dtype, copy=False), B.astype(dtype, copy=False))
    # One BLAS thread for the d × d work: a factorisation this size gains nothing from a
    # second thread and loses 5–10× when another process holds the other core (issue 12).
    with single_blas_thread():
        if dtype == np.float32:
            # A float32 SVD (LAPACK's sgesdd, through SciPy: 1.5× faster than dgesdd here;
            # NumPy's svd, which VecMap calls, computes in float64 even for float32 input),
            # then one Newton–Schulz step in float64, which makes M orthogonal to float64
            # precision. M is then as close to the polar factor as float32 ``AᵀB``
            # allows (its entries carry the inputs' rounding, about 1e-6 relative).
            U, _, Vt = scipy.linalg.svd(C, check_finite=False)
            M = U.astype(np.float64) @ Vt.astype(np.float64)
            # M ← M (3I − MᵀM) / 2 = M + M E / 2, E = I − MᵀM. E is about 1e-7, so M E needs
            # only float32 (its error is ~1e-14); MᵀM itself needs float64.
            E = np.eye(M.shape[0]) - M.T @ M
            M += 0.5 * (M.astype(np.float32) @ E.astype(np.float32))
        else:
            U, _, Vt = np.linalg.svd(C)
            M = U @ Vt
        # Σσ(AᵀB) = tr(MᵀAᵀB) at the polar factor M, a maximum: an error in M changes it
        # only to second order, so this is float64-accurate even from a float32 SVD.
        return M, float(np.einsum("ij,ij->", M, C, dtype=np.float64))


#: float32 ``AᵀB`` is summed over row blocks of at most this many rows (:func:`_cross_product`).
CROSS_PRODUCT_ROWS = 384


def _cross_product(A, B):
    """``AᵀB`` in the operands' precision, with numbers that do not depend on the threads.

    A second core makes this n × d × d product about 1.8× faster on an idle machine, but
    OpenBLAS's own second thread makes it several times slower when another process holds
    the other core (issue 12), changes the last bits of ``AᵀB`` once the inner dimension
    ``n`` exceeds its block size (and the map, and the dictionaries induced from it, must
    not depend on the thread count), and, spinning on after the call, took 12–17 ms from
    the single-thread GEMMs of the ``transform`` that follows in ``fit_transform``
    (``benchmarks/transform.py``'s second table). So float32 products are summed over fixed row blocks
    of :data:`CROSS_PRODUCT_ROWS` rows, each one single-thread GEMM, several at once on
    Python threads, added in order (:func:`_blocks_on_python_threads`): the bits of the
    one-thread loop over the blocks, whatever the threads. float64 products, and products
    too small to split, are one single-thread GEMM.
    """
    n = A.shape[0]
    if (A.dtype != np.float32 or n < 3 * CROSS_PRODUCT_ROWS
            or 2.0 * n * A.shape[1] * B.shape[1] < MEASURE_MIN_FLOPS):
        with single_blas_thread():
            return A.T @ B
    C = np.zeros((A.shape[1], B.shape[1]), dtype=A.dtype)
    return _blocks_on_python_threads(A, B, C, min(max_blas_threads(), current_blas_threads()))


def _blocks_on_python_threads(A, B, C, parts):
    """``C += A_kᵀB_k`` over the row blocks, in order, ``parts`` blocks computed at a time.

    Each block is one single-thread GEMM, as at one thread, run on its own Python thread
    (NumPy releases the GIL), and the blocks are added in their order: so the bits are
    those of the one-thread loop whatever the threads, on any BLAS, with nothing to check.
    Whether to compute ``parts`` blocks at once or one after another is measured on the
    first groups of ``parts`` full blocks (each way on the same amount of work).
    """
    n = A.shape[0]
    starts = list(range(0, n, CROSS_PRODUCT_ROWS))
    outs = [np.empty_like(C) for _ in range(parts)]
    choice = _FastestSplit(candidates=(1, parts) if parts > 1 else (1,))

    def group(k, blocks):
        jobs = [lambda a=a, b=b, out=out: np.matmul(A[a:b].T, B[a:b], out=out)
                for (a, b), out in zip(blocks, outs)]
        if k > 1:
            _run_parts(jobs)
        else:
            for job in jobs:
                job()

    with single_blas_thread():
        for g in range(0, len(starts), parts):
            blocks = [(a, min(a + CROSS_PRODUCT_ROWS, n)) for a in starts[g:g + parts]]
            if len(blocks) == parts and blocks[-1][1] - blocks[-1][0] == CROSS_PRODUCT_ROWS:
                choice.run(group, blocks)
            else:
                group(1, blocks)
            for out in outs[:len(blocks)]:
                C += out
    return C


def _product_dtype(A, B):
    """float32 when both operands are float32 (no float64 copies of them), else float64."""
    return np.float32 if A.dtype == np.float32 and B.dtype == np.float32 else np.float64


def _squared_norm(X):
    """``||X||_F²``: each row's sum in X's precision (at most d terms), their total in float64."""
    return float(np.einsum("ij,ij->i", X, X).sum(dtype=np.float64))


def _frobenius_residual(A, B, M, nuclear_norm):
    """``||AM − B||_F`` for the Procrustes ``M`` of ``A`` and ``B``.

    For that ``M``, ``tr(MᵀAᵀB) = Σσ(AᵀB)``, so ``||AM − B||² = ||A||² + ||B||² − 2 Σσ``: no
    n × d × d product. Where the residual is small against ``||A||² + ||B||²`` the difference
    cancels, and the product is formed (in the operands' precision, summed in float64).
    """
    total = _squared_norm(A) + _squared_norm(B)
    squared = total - 2.0 * nuclear_norm
    if squared >= RESIDUAL_IDENTITY_MIN_SHARE * total:
        return float(np.sqrt(squared))
    dtype = _product_dtype(A, B)
    with single_blas_thread():
        R = A.astype(dtype, copy=False) @ M.astype(dtype, copy=False)
    R -= B
    return float(np.sqrt(_squared_norm(R)))


class ProcrustesAligner(BaseAligner):
    """Align a source space onto a target space by ℓ2 orthogonal Procrustes.

    Finds the orthogonal ``M`` minimising ``||AM − B||_F`` over dictionary pairs, where
    row ``p`` of ``A`` is the source vector and row ``p`` of ``B`` its translation:
    ``M = U Vᵀ`` from the SVD of ``AᵀB``.

    Parameters
    ----------
    dictionary : None, "paired" or CSLSDictionaryBuilder, default=None
        Where the pairs come from. ``"paired"``: row ``i`` of ``X`` translates row
        ``i`` of ``y``, or the ``pairs`` passed to :meth:`fit`. None: the same, with a
        warning when :meth:`fit` gets no ``pairs`` (two vocabularies of equal size
        are easily mistaken for paired rows). A :class:`CSLSDictionaryBuilder`
        induces the pairs from ``X`` and ``y`` (the paper's "ℓ2 refinement"
        baseline); with ``pairs`` given too, the pairs seed the first round.
    n_refinements : int, default=0
        At most this many further rounds of MUSE-style self-learning: map ``X``,
        re-induce the dictionary with the builder, and solve again. The rounds stop
        early at a fixed point (the re-induced dictionary equals the last one, so the
        map would not change). Needs a :class:`CSLSDictionaryBuilder`.
    validation : float in (0, 1), "unsupervised" or None, default=None
        Validated refinement. A float holds out that share of the seed pairs' source
        words (chosen with ``random_state``); the rounds are fitted on the rest and each
        (round 0, the plain ℓ2 fit, included) is scored by CSLS-10 P@1 on the held-out
        words over the whole target vocabulary. The best round is kept only when it
        beats round 0 by more than noise (``validation_tol``); then the kept number of
        rounds is refitted on all the seed pairs. ``"unsupervised"`` scores the rounds
        by MUSE's criterion (:func:`~sklearn_l1align.model_selection.mean_csls_cosine`)
        and keeps the best, with no refit. None: no validation. ``validation_pairs``
        passed to :meth:`fit` score the rounds instead (no refit: the fit already used
        every seed pair).
    validation_tol : float, default=1.0
        A refined round replaces round 0 only when, on the held-out source words, the
        ``b`` words it alone gets right and the ``c`` words only round 0 gets right satisfy
        ``b − c > validation_tol · sqrt(b + c)`` (see
        :func:`~sklearn_l1align.model_selection.significant_gain`).
    validation_max_rank : int >= 1 or None, default=None
        Score within the first ``validation_max_rank`` (most frequent) rows of ``X`` and
        ``y``: held-out pairs with a word beyond them are not scored, the others
        retrieve among those targets, with CSLS's neighbourhoods over those rows. The
        held-out share of ``validation`` is drawn stratified by the cap, so it holds
        its share of the seed words within it, and at least one. The rounds still fit
        on every row. None scores over the whole vocabularies; each
        score is a CSLS pass over ``n_src × n_tgt`` similarities, which a cap of ``N``
        makes ``N × N``. Unused by ``"unsupervised"``. A cap that leaves no held-out
        pair raises a ValueError.
    refinement_dictionary : {"induced", "seed+induced"}, default="induced"
        The dictionary of the refinement rounds: the induced pairs only (MUSE), or the
        seed pairs beside them (PROC-B, Glavaš et al. 2019).
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split of ``validation``.
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
        ``||AM − B||_F`` over each round's pairs after its solve: from
        ``||A||² + ||B||² − 2 Σσ(AᵀB)``, or from ``AM − B`` where that difference would
        cancel. float32 ``X`` and ``y`` give float32 accuracy (about 1e-6 relative).
    validation_scores_ : list of float
        With validation only: the held-out score (or MUSE criterion) of round 0, 1, ...
    best_round_ : int
        With validation only: the kept round (0 is the plain ℓ2 fit).
    n_features_in_ : int
        Number of features seen during :term:`fit`.

    See Also
    --------
    L1ProcrustesAligner : Refinement of an aligned space by ℓ1 Procrustes.
    CSLSDictionaryBuilder : Dictionary induction.
    sklearn_l1align.model_selection.select_refinement : Validated choice among refinements.

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
    >>> aligner = ProcrustesAligner(dictionary="paired").fit(X, X @ R)
    >>> bool(np.allclose(aligner.rotation_, R))
    True
    """

    def __init__(self, dictionary: CSLSDictionaryBuilder | Literal["paired"] | None = None,
                 n_refinements: int = 0, *,
                 validation: float | Literal["unsupervised"] | None = None,
                 validation_tol: float = 1.0, validation_max_rank: int | None = None,
                 refinement_dictionary: Literal["induced", "seed+induced"] = "induced",
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.dictionary = dictionary
        self.n_refinements = n_refinements
        self.validation = validation
        self.validation_tol = validation_tol
        self.validation_max_rank = validation_max_rank
        self.refinement_dictionary = refinement_dictionary
        self.random_state = random_state
        self.verbose = verbose

    _stop_at_fixed_point = True

    def _fit_round(self, X, y, pairs, M):
        A, B = X[pairs[:, 0]], y[pairs[:, 1]]
        M, nuclear_norm = _procrustes(A, B)
        residual = _frobenius_residual(A, B, M, nuclear_norm)
        return M, {"residual": residual, "summary": f"||AM-B||_F = {residual:.6g}"}

    def _record(self, infos):
        self.residuals_ = [info["residual"] for info in infos]
