"""Model selection for aligners: full-vocabulary BLI scoring and validated refinement.

Two tools, one rule.

* **Cross-validation with scikit-learn's own** :class:`~sklearn.model_selection.GridSearchCV`
  and :func:`~sklearn.model_selection.cross_validate`. The samples are the *seed pairs*:
  ``X`` is the ``(n_pairs, 2)`` array of (source row, target row) pairs. The meta-estimator
  :class:`VocabularyAligner` holds the two vocabularies (in a read-only
  :class:`Vocabularies`, which :func:`~sklearn.base.clone` shares instead of copying) and an
  inner aligner or Pipeline. Its ``fit(pairs)`` fits the inner estimator on the *full*
  vocabularies with the training fold's pairs; its ``score(pairs)`` maps the full source
  vocabulary and scores the held-out fold's source words by CSLS-10 P@1 retrieval over the
  full target vocabulary, exactly :func:`~sklearn_l1align.metrics.bli_precision`.
  :class:`SeedWordKFold` makes folds of whole source words (a word with several gold
  translations never straddles two folds).
* **Validated refinement**, :func:`select_refinement`: hold out a share of the seed's
  source words, fit the ℓ2 base and each candidate refinement on the rest, score every
  step on the held-out words, keep a refinement only when it beats the base by more
  than noise (:func:`significant_gain`), and refit the kept chain on all the seed pairs.
"""

from __future__ import annotations

import logging
import numbers
import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone
from sklearn.model_selection import BaseCrossValidator
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import (
    HasMethods,
    Interval,
    StrOptions,
    validate_params,
)
from sklearn.utils.validation import check_array, check_is_fitted

from ._base import (
    UNSUPERVISED_QUERIES,
    _deal_words,
    _n_scorable_words,
    _scorable,
    _scorable_words,
    holdout_source_words,
    mean_csls_cosine,
    pairs_fit_parameter,
    significant_gain,
)
from ._dictionary import CSLSDictionaryBuilder
from ._l1_procrustes import L1ProcrustesAligner
from ._logging import vlog
from ._procrustes import ProcrustesAligner
from ._solvers import StiefelFlowSolver
from ._threads import blocked_product
from ._validation import check_pairs, check_real, check_same_dim
from .metrics import bli_mrr, bli_precision, mcnemar_test

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


logger = logging.getLogger(__name__)

__all__ = [
    "UNSUPERVISED_QUERIES",
    "RefinementSelection",
    "SeedWordKFold",
    "Vocabularies",
    "VocabularyAligner",
    "apply_chain",
    "default_candidates",
    "holdout_source_words",
    "make_bli_scorer",
    "prefer_baseline",
    "mean_csls_cosine",
    "resolve_validation_folds",
    "select_refinement",
    "significant_gain",
    "source_word_groups",
]


# --------------------------------------------------------------------------- vocabularies
class Vocabularies:
    """The two full vocabularies, held read-only and shared by every clone.

    :func:`~sklearn.base.clone` deep-copies non-estimator parameters; this holder's
    ``__deepcopy__`` returns the holder itself, so a grid search over 20,000 × 300
    vocabularies does not copy 24 MB per candidate and fold. The arrays are read-only
    views, so no fit can change them for the others.

    Parameters
    ----------
    X_src : array-like of shape (n_src, n_features)
        Source embeddings (the whole source vocabulary).
    X_tgt : array-like of shape (n_tgt, n_features)
        Target embeddings (the whole target vocabulary).

    Attributes
    ----------
    X_src, X_tgt : ndarray
        Read-only views of the inputs (float32 or float64).

    See Also
    --------
    VocabularyAligner : The estimator that holds them.

    Examples
    --------
    >>> import copy
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import Vocabularies
    >>> vocab = Vocabularies(np.eye(3), np.eye(3))
    >>> copy.deepcopy(vocab) is vocab, vocab.X_src.flags.writeable
    (True, False)
    """

    def __init__(self, X_src: ArrayLike, X_tgt: ArrayLike) -> None:
        X_src = check_array(check_real(X_src, "X_src"), dtype=[np.float64, np.float32],
                            input_name="X_src")
        X_tgt = check_array(check_real(X_tgt, "X_tgt"), dtype=[np.float64, np.float32],
                            input_name="X_tgt")
        check_same_dim(X_src, X_tgt, names=("X_src", "X_tgt"))
        self.X_src, self.X_tgt = X_src.view(), X_tgt.view()
        self.X_src.flags.writeable = False
        self.X_tgt.flags.writeable = False

    def __deepcopy__(self, memo):
        return self

    def __copy__(self):
        return self

    def __repr__(self):
        return f"Vocabularies(X_src={self.X_src.shape}, X_tgt={self.X_tgt.shape})"


def source_word_groups(pairs: ArrayLike) -> NDArray[np.integer]:
    """Group labels for seed pairs: the source row, so all pairs of a word share a group.

    Pass them as ``groups=`` to :class:`~sklearn.model_selection.GroupKFold` with the pairs
    as ``X``; :class:`SeedWordKFold` does the same without ``groups``.

    Parameters
    ----------
    pairs : array-like of shape (n_pairs, 2)
        (source row, target row) pairs.

    Returns
    -------
    groups : ndarray of shape (n_pairs,)
        ``pairs[:, 0]``.

    See Also
    --------
    SeedWordKFold : The same folds without ``groups``.

    Examples
    --------
    >>> from sklearn_l1align.model_selection import source_word_groups
    >>> source_word_groups([[3, 0], [3, 1], [5, 2]])
    array([3, 3, 5])
    """
    return _as_pairs(pairs)[:, 0].copy()


def _as_pairs(X):
    pairs = np.asarray(X)
    if pairs.ndim != 2 or pairs.shape[1] != 2:
        raise ValueError(
            "The samples must be seed pairs: an array of shape (n_pairs, 2) of (source row, "
            f"target row) indices. Got an array of shape {pairs.shape} instead."
        )
    return pairs


class SeedWordKFold(BaseCrossValidator):
    """K folds of whole source words over an ``(n_pairs, 2)`` array of seed pairs.

    The unit of cross-validation is a seed-dictionary source word: all the pairs of a
    word fall in the same test fold, so no held-out word is seen, under another gold
    translation, by the fit that is scored on it. The folds hold (nearly) equal numbers
    of words; with ``shuffle`` the words are assigned at random, seeded by
    ``random_state``. With ``stratify_max_rank``, the words that a ``validation_max_rank``
    of that value can score are also spread (nearly) evenly over the folds.

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    shuffle : bool, default=True
        Assign the words to folds at random; False keeps the order of the sorted word rows.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffle.
    stratify_max_rank : int or None, default=None
        Give each fold (nearly) equal numbers of the source words that have a pair within
        the first ``stratify_max_rank`` rows of both spaces, so every fold has words for a
        capped validation to score whenever there are at least ``n_splits`` of them. None,
        or a cap that every pair (or no pair) lies within, gives the same folds as
        without it.

    See Also
    --------
    VocabularyAligner : The estimator whose samples these folds split.
    source_word_groups : The same grouping for ``GroupKFold``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import SeedWordKFold
    >>> pairs = np.array([[0, 0], [0, 1], [1, 2], [2, 3]])
    >>> [test.tolist() for _, test in SeedWordKFold(3, shuffle=False).split(pairs)]
    [[0, 1], [2], [3]]
    """

    n_splits: int

    def __init__(self, n_splits: int = 5, *, shuffle: bool = True,
                 random_state: int | np.random.RandomState | None = None,
                 stratify_max_rank: int | None = None) -> None:
        if not isinstance(n_splits, numbers.Integral) or n_splits < 2:
            raise ValueError(f"n_splits must be an integer >= 2. Got {n_splits!r} instead.")
        if stratify_max_rank is not None and (
                not isinstance(stratify_max_rank, numbers.Integral) or stratify_max_rank < 1):
            raise ValueError("stratify_max_rank must be a positive integer or None. "
                             f"Got {stratify_max_rank!r} instead.")
        self.n_splits = int(n_splits)
        self.shuffle = shuffle
        self.random_state = random_state
        self.stratify_max_rank = stratify_max_rank

    def get_n_splits(self, X: object = None, y: object = None, groups: object = None) -> int:
        """Number of folds.

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for scikit-learn's API.

        Returns
        -------
        n_splits : int
            ``n_splits``.
        """
        return self.n_splits

    def _iter_test_indices(self, X=None, y=None, groups=None):
        pairs = _as_pairs(X)
        words = pairs[:, 0]
        unique = np.unique(words)
        if len(unique) < self.n_splits:
            raise ValueError(
                f"SeedWordKFold needs at least n_splits={self.n_splits} distinct source words. "
                f"Got {len(unique)} instead."
            )
        if self.shuffle:
            unique = check_random_state(self.random_state).permutation(unique)
        scorable = _scorable_words(pairs, self.stratify_max_rank)
        sizes = [len(f) for f in np.array_split(unique, self.n_splits)]
        counts = [len(f) for f in np.array_split(scorable, self.n_splits)]
        for fold in _deal_words(unique, scorable, sizes, counts):
            yield np.flatnonzero(np.isin(words, fold))


# --------------------------------------------------------------------------- scorer
def _bli_score(estimator, vocabularies, pairs, *, retrieval, metric, k, csls_k):
    X_mapped = estimator.transform(vocabularies.X_src)
    if metric == "mrr":
        return bli_mrr(X_mapped, vocabularies.X_tgt, pairs, method=retrieval, csls_k=csls_k)
    return bli_precision(X_mapped, vocabularies.X_tgt, pairs, k=k, method=retrieval,
                         csls_k=csls_k).precision[k]


class VocabularyAligner(MetaEstimatorMixin, BaseEstimator):
    """An aligner whose samples are seed pairs over two fixed vocabularies.

    This is the adapter that lets :class:`~sklearn.model_selection.GridSearchCV` and
    :func:`~sklearn.model_selection.cross_validate` select aligners by full-vocabulary BLI.
    ``fit(pairs)`` fits a clone of ``estimator`` (an aligner or a Pipeline ending in
    aligners) on the full vocabularies, routing ``pairs`` to the first step whose ``fit``
    takes them; ``score(pairs)`` maps the whole source vocabulary and scores the unique
    source words of ``pairs`` by retrieval over the whole target vocabulary. A Pipeline's
    normaliser transforms the source side only, so hold normalised vocabularies.

    Parameters
    ----------
    estimator : object
        An aligner or Pipeline with ``fit(X_src, X_tgt, pairs=...)`` and ``transform``.
    vocabularies : Vocabularies
        The two vocabularies (shared, never copied, by clones).
    retrieval : {"csls", "nn"}, default="csls"
        Retrieval criterion of the score.
    metric : {"precision", "mrr"}, default="precision"
        Precision@``k``, or mean reciprocal rank.
    k : int, default=1
        Cut-off of the precision.
    csls_k : int, default=10
        CSLS neighbourhood size.

    Attributes
    ----------
    estimator_ : object
        The fitted clone of ``estimator``.
    rotation_ : ndarray of shape (n_features, n_features)
        The composed orthogonal map of the fitted aligners (``X_src @ rotation_`` equals
        ``estimator_.transform(X_src)`` when there is no normaliser).

    See Also
    --------
    SeedWordKFold : Folds of whole source words.
    make_bli_scorer : The same score as a ``scoring=`` callable, e.g. for several metrics.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import special_ortho_group
    >>> from sklearn.model_selection import cross_val_score
    >>> from sklearn_l1align import ProcrustesAligner
    >>> from sklearn_l1align.model_selection import (
    ...     SeedWordKFold, Vocabularies, VocabularyAligner)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 8)); R = special_ortho_group.rvs(8, random_state=0)
    >>> vocab = Vocabularies(X, X @ R)
    >>> pairs = np.column_stack([np.arange(100), np.arange(100)])
    >>> model = VocabularyAligner(ProcrustesAligner(), vocab)
    >>> cross_val_score(model, pairs, cv=SeedWordKFold(4, random_state=0)).tolist()
    [1.0, 1.0, 1.0, 1.0]
    """

    _parameter_constraints = {
        "estimator": [HasMethods(["fit", "transform"])],
        "vocabularies": [Vocabularies],
        "retrieval": [StrOptions({"csls", "nn"})],
        "metric": [StrOptions({"precision", "mrr"})],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, estimator: Any, vocabularies: Vocabularies, *,
                 retrieval: Literal["csls", "nn"] = "csls",
                 metric: Literal["precision", "mrr"] = "precision", k: int = 1,
                 csls_k: int = 10) -> None:
        self.estimator = estimator
        self.vocabularies = vocabularies
        self.retrieval = retrieval
        self.metric = metric
        self.k = k
        self.csls_k = csls_k

    def _pairs(self, X):
        V = self.vocabularies
        return check_pairs(_as_pairs(X), V.X_src.shape[0], V.X_tgt.shape[0], name="X")

    def fit(self, X: ArrayLike, y: None = None) -> VocabularyAligner:
        """Fit the inner estimator on the full vocabularies with these seed pairs.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2)
            The training fold's (source row, target row) seed pairs.
        y : None
            Ignored.

        Returns
        -------
        self : VocabularyAligner
            The fitted adapter.
        """
        self._validate_params()
        pairs = self._pairs(X)
        estimator = clone(self.estimator)
        parameter = pairs_fit_parameter(estimator)
        if parameter is None:
            raise ValueError(
                "estimator must have a fit step that takes pairs= (an aligner, or a Pipeline "
                f"holding one). Got {type(self.estimator).__name__} instead."
            )
        V = self.vocabularies
        self.estimator_ = estimator.fit(V.X_src, V.X_tgt, **{parameter: pairs})
        return self

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Map source vectors with the fitted inner estimator.

        Parameters
        ----------
        X : array-like of shape (n_words, n_features)
            Source vectors.

        Returns
        -------
        X_mapped : ndarray of shape (n_words, n_features)
            ``estimator_.transform(X)``.
        """
        check_is_fitted(self)
        return self.estimator_.transform(X)

    @property
    def rotation_(self):
        """The composed orthogonal map of the fitted aligners (product of their ``rotation_``)."""
        check_is_fitted(self)
        steps = getattr(self.estimator_, "steps", [(None, self.estimator_)])
        M = None
        for _, step in steps:
            R = getattr(step, "rotation_", None)
            if R is not None:
                M = R if M is None else M @ R
        return M

    def score(self, X: ArrayLike, y: None = None) -> float:
        """Full-vocabulary BLI of the source words of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_pairs, 2)
            Held-out gold (source row, target row) pairs.
        y : None
            Ignored.

        Returns
        -------
        score : float
            ``metrics.bli_precision(self.transform(X_src), X_tgt, X, k=k,
            method=retrieval).precision[k]`` (or ``bli_mrr``).
        """
        check_is_fitted(self)
        return _bli_score(self.estimator_, self.vocabularies, self._pairs(X),
                          retrieval=self.retrieval, metric=self.metric, k=self.k,
                          csls_k=self.csls_k)


@validate_params(
    {
        "retrieval": [StrOptions({"csls", "nn"})],
        "metric": [StrOptions({"precision", "mrr"})],
        "k": [Interval(numbers.Integral, 1, None, closed="left")],
        "csls_k": [Interval(numbers.Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def make_bli_scorer(*, retrieval: Literal["csls", "nn"] = "csls",
                    metric: Literal["precision", "mrr"] = "precision", k: int = 1,
                    csls_k: int = 10) -> Callable[..., float]:
    """A ``scoring=`` callable for :class:`VocabularyAligner`: full-vocabulary BLI.

    Parameters
    ----------
    retrieval : {"csls", "nn"}, default="csls"
        Retrieval criterion.
    metric : {"precision", "mrr"}, default="precision"
        Precision@``k`` or mean reciprocal rank.
    k : int, default=1
        Cut-off of the precision.
    csls_k : int, default=10
        CSLS neighbourhood size.

    Returns
    -------
    scorer : callable
        ``scorer(estimator, X, y=None)`` with ``estimator`` a fitted
        :class:`VocabularyAligner` and ``X`` held-out seed pairs.

    See Also
    --------
    VocabularyAligner.score : The same score with the estimator's own settings.

    Examples
    --------
    >>> from sklearn_l1align.model_selection import make_bli_scorer
    >>> scoring = {"csls_p1": make_bli_scorer(), "nn_p1": make_bli_scorer(retrieval="nn")}
    """
    def scorer(estimator, X, y=None):
        check_is_fitted(estimator)
        return _bli_score(estimator.estimator_, estimator.vocabularies, estimator._pairs(X),
                          retrieval=retrieval, metric=metric, k=k, csls_k=csls_k)

    scorer.__name__ = f"bli_{metric}_{retrieval}" + (f"_at_{k}" if metric == "precision" else "")
    return scorer


def prefer_baseline(baseline: int = 0, tol: float = 1.0) -> Callable[[dict[str, Any]], int]:
    """A ``refit=`` rule for GridSearchCV: the baseline unless a candidate beats it beyond noise.

    GridSearchCV's default picks the best mean CV score, and differences between
    refinements are often smaller than the spread across folds: on fr→ru (5K seed, 3
    folds) the arg-max beat "no refinement" by 0.16 CV points and lost 0.93 test points.
    This rule keeps the baseline candidate (put "no refinement" first in the grid)
    unless the best candidate's mean score exceeds the baseline's by more than ``tol``
    standard errors of the best candidate's mean (its ``std_test_score / sqrt(n_splits)``):
    the one-standard-error rule (Hastie, Tibshirani & Friedman, *The Elements of
    Statistical Learning*, §7.10), with the baseline as the simple model.

    Parameters
    ----------
    baseline : int, default=0
        Index of the baseline candidate in ``cv_results_["params"]`` (the first one of the
        first grid is 0).
    tol : float, default=1.0
        Standard errors the gain must exceed; 0 is GridSearchCV's arg-max unless it ties.

    Returns
    -------
    refit : callable
        ``refit(cv_results) -> best_index``, for ``GridSearchCV(..., refit=refit)``.

    See Also
    --------
    significant_gain : The paired rule of :func:`select_refinement`, on per-word hits.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import prefer_baseline
    >>> cv_results = {"mean_test_score": np.array([0.430, 0.431, 0.450]),
    ...               "std_test_score": np.array([0.006, 0.006, 0.006]),
    ...               "split0_test_score": np.zeros(3), "split1_test_score": np.zeros(3),
    ...               "split2_test_score": np.zeros(3)}
    >>> prefer_baseline()(cv_results), prefer_baseline(tol=10)(cv_results)
    (2, 0)
    """
    if not isinstance(baseline, numbers.Integral) or baseline < 0:
        raise ValueError(f"baseline must be a non-negative index. Got {baseline!r} instead.")
    if not isinstance(tol, numbers.Real) or tol < 0:
        raise ValueError(f"tol must be a non-negative number. Got {tol!r} instead.")

    def refit(cv_results):
        means = np.asarray(cv_results["mean_test_score"], dtype=np.float64)
        stds = np.asarray(cv_results["std_test_score"], dtype=np.float64)
        n_splits = sum(1 for key in cv_results if key.startswith("split")
                       and key.endswith("_test_score"))
        if baseline >= len(means):
            raise ValueError(f"baseline must index one of the {len(means)} candidates. "
                             f"Got {baseline} instead.")
        best = int(np.nanargmax(means))
        se = stds[best] / np.sqrt(max(n_splits, 1))
        return best if means[best] - means[baseline] > tol * se else baseline

    return refit


# --------------------------------------------------------------------------- select_refinement
def default_candidates(solver: Any = None, *, l2_rounds: int = 10, l1_rounds: int = 2,
                       seed_union: bool = False) -> dict[str, list[Any]]:
    """The default refinement chains that :func:`select_refinement` compares with the ℓ2 base.

    Each chain is a list of unfitted aligners applied in turn to the space the previous
    step produced (the first to the ℓ2 base).

    * ``"l1_flow"``: one ℓ1 round (Algorithm 1) with the fast Cayley flow.
    * ``"paper"``: ℓ2 self-learning rounds on mutual CSLS-10 dictionaries to their fixed
      point (at most ``l2_rounds``), then ``l1_rounds`` iterated ℓ1 rounds, each a step
      (the paper's own schedule).
    * ``"l1_seed_union"`` (with ``seed_union``): one ℓ1 round on the seed pairs beside the
      induced ones (PROC-B style).

    Parameters
    ----------
    solver : object with ``solve``, default=None
        The ℓ1 solver; None means ``StiefelFlowSolver(integrator="cayley")``.
    l2_rounds : int, default=10
        Cap on the ℓ2 self-learning rounds of ``"paper"``.
    l1_rounds : int, default=2
        Number of ℓ1 rounds of ``"paper"``.
    seed_union : bool, default=False
        Add the ``"l1_seed_union"`` chain.

    Returns
    -------
    candidates : dict of str to list of estimators
        Name → chain.

    See Also
    --------
    select_refinement : Compares these chains on held-out seed pairs.

    Examples
    --------
    >>> from sklearn_l1align.model_selection import default_candidates
    >>> sorted(default_candidates())
    ['l1_flow', 'paper']
    """
    solver = StiefelFlowSolver(integrator="cayley") if solver is None else solver

    def l1(**kw):
        return L1ProcrustesAligner(solver=clone(solver, safe=False), **kw)

    candidates = {
        "l1_flow": [l1()],
        "paper": [ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                                    n_refinements=l2_rounds - 1)]
                 + [l1() for _ in range(l1_rounds)],
    }
    if seed_union:
        candidates["l1_seed_union"] = [l1(refinement_dictionary="seed+induced")]
    return candidates


def _uses_seed(step):
    return getattr(step, "refinement_dictionary", "induced") == "seed+induced"


class RefinementSelection:
    """What :func:`select_refinement` chose, and the held-out evidence for it.

    Parameters
    ----------
    rotation : ndarray of shape (n_features, n_features)
        The final map.
    kept : str
        The kept step's name.
    steps : list of dict
        The scored steps.
    split : tuple of int
        ``(n_fit_pairs, n_held_out_pairs, n_held_out_words)``.
    times : tuple of float
        ``(refit_seconds, total_seconds)``.
    settings : dict
        The call's settings, for the report.

    Attributes
    ----------
    rotation_ : ndarray of shape (n_features, n_features)
        The final orthogonal map, refitted on all the seed pairs.
    kept : str
        ``"l2"`` (the base: no refinement kept) or ``"<candidate>[<step>]"``.
    steps : list of dict
        One per scored step, in order: ``candidate``, ``step`` (0-based; the base is
        ``("l2", 0)``), ``name``, ``held_out_p1`` and ``held_out_nn_p1`` (CSLS and NN
        P@1 on the held-out words), ``wins`` and ``losses`` (held-out words that only this
        step, or only the base, retrieves), ``mcnemar_p`` against the base,
        ``significant`` (the tolerance rule), ``kept`` (in the chain that was kept),
        ``fit_seconds``, ``n_dictionary_pairs`` (the pairs the step was fitted on),
        ``stop_reason`` (ℓ1 steps: why the solver stopped), and ``unsupervised`` (MUSE's
        criterion) when recorded.
    n_fit_pairs, n_held_out_pairs, n_held_out_words : int
        The split.
    refit_seconds, total_seconds : float
        Time of the final refit and of the whole call.

    See Also
    --------
    select_refinement : Returns this object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import select_refinement
    >>> X = np.random.default_rng(0).normal(size=(60, 3))
    >>> sel = select_refinement(X, X, np.column_stack([np.arange(30)] * 2), candidates={})
    >>> sel.report()["kept"], sel.report()["n_held_out_words"]
    ('l2', 30)
    """

    def __init__(self, rotation: NDArray[np.floating], kept: str, steps: list[dict[str, Any]],
                 split: tuple[int, ...], times: tuple[float, ...],
                 settings: dict[str, Any]) -> None:
        self.rotation_ = rotation
        self.kept = kept
        self.steps = steps
        self.n_fit_pairs, self.n_held_out_pairs, self.n_held_out_words = split
        self.refit_seconds, self.total_seconds = times
        self.settings = settings

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Map source vectors: ``X @ rotation_``.

        Parameters
        ----------
        X : array-like of shape (n_words, n_features)
            Source embeddings.

        Returns
        -------
        X_mapped : ndarray of shape (n_words, n_features)
            The mapped vectors.
        """
        X = np.asarray(X)
        return blocked_product(X, self.rotation_)

    def report(self) -> dict[str, Any]:
        """A JSON-able dict: settings, split, per-step held-out scores and flags, times.

        Returns
        -------
        report : dict
            Plain Python types only.
        """
        return {
            "kept": self.kept,
            "settings": dict(self.settings),
            "n_fit_pairs": int(self.n_fit_pairs),
            "n_held_out_pairs": int(self.n_held_out_pairs),
            "n_held_out_words": int(self.n_held_out_words),
            "steps": [dict(s) for s in self.steps],
            "refit_seconds": float(self.refit_seconds),
            "total_seconds": float(self.total_seconds),
        }

    def __repr__(self):
        return f"RefinementSelection(kept={self.kept!r}, steps={len(self.steps)})"


def apply_chain(X_src: ArrayLike, X_tgt: ArrayLike, chain: Sequence[Any],
                rotation: ArrayLike | None = None, *, seed_pairs: ArrayLike | None = None,
                on_step: Callable[..., object] | None = None,
                on_fitted: Callable[..., object] | None = None) -> list[NDArray[np.floating]]:
    """Apply a refinement chain from ``rotation``; return the composed map after each step.

    Step ``i`` is a clone of ``chain[i]`` fitted on ``X_src @ M`` (``M`` the map so far)
    and ``X_tgt``, with ``pairs=seed_pairs`` when its ``refinement_dictionary`` is
    ``"seed+induced"``, else with no pairs (an induced dictionary); then
    ``M ← M @ step.rotation_``.

    Parameters
    ----------
    X_src, X_tgt : ndarray of shape (n_src, n_features) and (n_tgt, n_features)
        Source and target embeddings.
    chain : list of estimators
        Unfitted aligners.
    rotation : ndarray of shape (n_features, n_features), default=None
        The starting map; None means the identity.
    seed_pairs : ndarray of shape (n_pairs, 2), default=None
        Seed pairs for the steps that keep them in their dictionary.
    on_step : callable, default=None
        Called as ``on_step(i, M, seconds)`` after each step.
    on_fitted : callable, default=None
        Called as ``on_fitted(i, estimator)`` with each fitted step, before ``on_step``.

    Returns
    -------
    maps : list of ndarray
        The composed map after each step.

    See Also
    --------
    default_candidates : The default chains.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import ProcrustesAligner
    >>> from sklearn_l1align.model_selection import apply_chain
    >>> X = np.random.default_rng(0).normal(size=(40, 3))
    >>> [M.shape for M in apply_chain(X, X, [ProcrustesAligner(dictionary="paired")])]
    [(3, 3)]
    """
    X_src = np.asarray(X_src)
    M = np.eye(X_src.shape[1]) if rotation is None else np.asarray(rotation, dtype=np.float64)
    maps = []
    for i, step in enumerate(chain):
        start = time.perf_counter()
        step = clone(step)
        X_mapped = blocked_product(X_src, M)
        if _uses_seed(step):
            step.fit(X_mapped, X_tgt, pairs=seed_pairs)
        else:
            step.fit(X_mapped, X_tgt)
        M = M @ step.rotation_
        maps.append(M)
        if on_fitted is not None:
            on_fitted(i, step)
        if on_step is not None:
            on_step(i, M, time.perf_counter() - start)
    return maps


#: ``validation_folds="auto"`` cross-validates with this many folds (at most one per word) ...
AUTO_FOLDS = 5
#: ... when one split would hold out fewer source words than this.
AUTO_MIN_HELD_OUT = 500


def resolve_validation_folds(validation_folds: int | Literal["auto"] | None, validation: float,
                             n_words: int) -> int | None:
    """The number of folds that ``validation_folds`` means for a seed of ``n_words`` source words.

    Parameters
    ----------
    validation_folds : int >= 1, "auto" or None
        As :func:`select_refinement` takes it.
    validation : float in (0, 1)
        The share one split would hold out.
    n_words : int
        Distinct source words in the seed.

    Returns
    -------
    folds : int >= 2 or None
        None means one held-out split.

    See Also
    --------
    select_refinement : Takes ``validation_folds`` and calls this.

    Examples
    --------
    >>> from sklearn_l1align.model_selection import resolve_validation_folds
    >>> [resolve_validation_folds("auto", 0.2, n) for n in (3, 1000, 2500, 5000)]
    [3, 5, None, None]
    >>> resolve_validation_folds(1, 0.2, 1000), resolve_validation_folds(10, 0.2, 5000)
    (None, 10)
    """
    if validation_folds == "auto":
        if n_words >= 2 and round(validation * n_words) < AUTO_MIN_HELD_OUT:
            return min(AUTO_FOLDS, n_words)
        return None
    if validation_folds is None or validation_folds == 1:
        return None
    return int(validation_folds)


def _score_steps(X_src, X_tgt, fit_seed, held_out, candidates, record_unsupervised, verbose,
                 prefix="", max_rank=None):
    """Fit the ℓ2 base on ``fit_seed`` and every candidate chain from it; score each step.

    The held-out words retrieve among the first ``max_rank`` rows of each space (all
    rows when None); ``held_out`` must lie within them. Returns one dict per step, in
    order, with the private ``_hits`` / ``_nn_hits`` (per held-out word) and ``_map``
    that :func:`select_refinement` consumes.
    """
    steps = []
    fitted = {}
    X_eval, Y_eval = X_src[:max_rank], X_tgt[:max_rank]  # [:None] is every row

    def describe(candidate, index, estimator):
        detail = {"n_dictionary_pairs": int(len(estimator.dictionary_))}
        result = getattr(estimator, "solver_result_", None)
        if result is not None:
            detail["stop_reason"] = str(result.stop_reason.value)
        fitted[candidate, index] = detail

    def score(candidate, index, name, M, seconds):
        Xm = blocked_product(X_eval, M)
        csls = bli_precision(Xm, Y_eval, held_out, k=1)
        nn = bli_precision(Xm, Y_eval, held_out, k=1, method="nn")
        entry = {"candidate": candidate, "step": index, "name": name,
                 "held_out_p1": csls.precision[1], "held_out_nn_p1": nn.precision[1],
                 "fit_seconds": float(seconds), "_hits": csls.hits[1], "_nn_hits": nn.hits[1],
                 "_map": M, **fitted.get((candidate, index), {})}
        if record_unsupervised:
            X_all = (Xm if max_rank is None
                     else blocked_product(X_src, M))
            entry["unsupervised"] = mean_csls_cosine(X_all, X_tgt)
        steps.append(entry)
        vlog(logger, verbose, 1, "%s%s: held-out CSLS P@1 %.4f (%.1f s)", prefix, name,
             entry["held_out_p1"], seconds)

    t0 = time.perf_counter()
    base = ProcrustesAligner(dictionary="paired").fit(X_src, X_tgt, pairs=fit_seed)
    describe("l2", 0, base)
    score("l2", 0, "l2", base.rotation_, time.perf_counter() - t0)
    for name, chain in candidates.items():
        apply_chain(X_src, X_tgt, chain, base.rotation_, seed_pairs=fit_seed,
                    on_fitted=lambda i, est, name=name: describe(name, i, est),
                    on_step=lambda i, M, s, name=name, chain=chain: score(
                   name, i, f"{name}[{i}] {type(chain[i]).__name__}", M, s))
    return steps


def _merge_folds(per_fold):
    """Pool the steps of several folds: hits concatenated (each held-out word once), times summed.

    A single fold is returned as it is. ``n_dictionary_pairs`` and ``unsupervised`` are
    the folds' means, ``stop_reason`` the most frequent one (the first fold's on a tie),
    and ``_map`` the first fold's.
    """
    if len(per_fold) == 1:
        return per_fold[0]
    merged = []
    for parts in zip(*per_fold):
        step = dict(parts[0])
        step["_hits"] = np.concatenate([p["_hits"] for p in parts])
        step["_nn_hits"] = np.concatenate([p["_nn_hits"] for p in parts])
        step["held_out_p1"] = float(step["_hits"].mean())
        step["held_out_nn_p1"] = float(step["_nn_hits"].mean())
        step["fit_seconds"] = float(sum(p["fit_seconds"] for p in parts))
        if "n_dictionary_pairs" in step:
            step["n_dictionary_pairs"] = int(round(np.mean([p["n_dictionary_pairs"]
                                                            for p in parts])))
        if "stop_reason" in step:
            reasons = [p["stop_reason"] for p in parts]
            step["stop_reason"] = max(reasons, key=reasons.count)
        if "unsupervised" in step:
            step["unsupervised"] = float(np.mean([p["unsupervised"] for p in parts]))
        merged.append(step)
    return merged


@validate_params(
    {
        "X_src": ["array-like"],
        "X_tgt": ["array-like"],
        "seed_pairs": ["array-like"],
        "candidates": [dict, None],
        "validation": [Interval(numbers.Real, 0, 1, closed="neither")],
        "validation_pairs": ["array-like", None],
        "validation_folds": [Interval(numbers.Integral, 1, None, closed="left"),
                             StrOptions({"auto"}), None],
        "validation_tol": [Interval(numbers.Real, 0, None, closed="left")],
        "validation_max_rank": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "record_unsupervised": ["boolean"],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    },
    prefer_skip_nested_validation=True,
)
def select_refinement(X_src: ArrayLike, X_tgt: ArrayLike, seed_pairs: ArrayLike,
                      candidates: dict[str, list[Any]] | None = None, *,
                      validation: float = 0.2, validation_pairs: ArrayLike | None = None,
                      validation_folds: int | Literal["auto"] | None = "auto",
                      validation_tol: float = 1.0, validation_max_rank: int | None = None,
                      record_unsupervised: bool = False,
                      random_state: int | np.random.RandomState | None = 0,
                      verbose: int = 0) -> RefinementSelection:
    """Refine an ℓ2 alignment only where held-out seed pairs show that it helps.

    1. Split the seed pairs by source word: ``validation`` of the words are held out
       (seeded by ``random_state``), or ``validation_pairs`` are the held-out pairs. With
       ``validation_folds=K``, steps 2–3 run once per fold of :class:`SeedWordKFold` and
       the held-out hits are pooled, so every seed word is scored once; by default
       (``"auto"``) that happens with 5 folds when one split would hold out fewer than
       500 words.
    2. Fit the base, ℓ2 Procrustes, on the remaining seed pairs, and score it: CSLS-10
       P@1 of the held-out words, retrieved over the whole target vocabulary.
    3. Run every candidate chain from that base, scoring each step the same way.
    4. Take the step with the best held-out score (on a tie, the first in the order the
       steps are listed, so the shorter chain); keep it only when it beats the base by
       more than noise (:func:`significant_gain` with ``validation_tol``), else keep the
       base.
    5. Refit the kept chain (the base, then the chain's steps up to the kept one) on all
       the seed pairs (with ``validation_pairs``, the seed pairs given are all there is).

    Parameters
    ----------
    X_src : array-like of shape (n_src, n_features)
        Source embeddings (normalised as for any aligner).
    X_tgt : array-like of shape (n_tgt, n_features)
        Target embeddings.
    seed_pairs : array-like of shape (n_pairs, 2)
        The seed dictionary as (source row, target row) pairs.
    candidates : dict of str to list of estimators, default=None
        Refinement chains; None means :func:`default_candidates`.
    validation : float in (0, 1), default=0.2
        Share of the seed's source words held out.
    validation_pairs : array-like of shape (n_val, 2), default=None
        Explicit held-out pairs instead (their source words must not be in
        ``seed_pairs``); nothing is then refitted.
    validation_folds : int >= 1, "auto" or None, default="auto"
        ``K >= 2`` cross-validates instead of one split: ``K`` folds of whole source
        words, each scored by a base and chains fitted on the other folds, all the
        held-out hits compared at once. ``K`` times the work of one split; the
        comparison sees every seed word rather than ``validation`` of them, so it has
        more power and depends less on which words happen to be held out
        (``validation`` is then unused). ``1`` or None: one split. ``"auto"``:
        ``min(5, n_words)`` folds when one split would hold out fewer than 500 source
        words (``round(validation * n_words) < 500``, a seed under 2,500 words at the
        default ``validation``), else one split; with ``validation_pairs``, one split.
        With ``validation_max_rank``, only the seed words it leaves scorable count.
        At 200 held-out words a gain of 1.5 points is within the noise rule's reach only
        when few words change, and on the fr→ru 1K seed one split kept ℓ2 under 2 of 5
        ``random_state`` values where 5 folds kept the +1.9 step under all 3 tried
        (:ref:`model_selection`).
    validation_tol : float, default=1.0
        Noise threshold of the paired comparison, in standard deviations.
    validation_max_rank : int >= 1 or None, default=None
        Score within the ``validation_max_rank`` first (most frequent) rows of each
        space: the held-out pairs whose two words are both among them retrieve among
        those targets, with CSLS's neighbourhoods over those rows (``bli_precision`` of
        ``X_src[:N] @ M`` and ``X_tgt[:N]``). The other held-out pairs are not scored
        (the report's held-out counts are the scored ones); the fits still use every
        row. The held-out words are drawn stratified by the cap (``stratify_max_rank``
        of :func:`holdout_source_words` and :class:`SeedWordKFold`), so each split
        scores its share of the seed words within it. None scores over the whole
        vocabularies, as the final evaluation does. Each scored step costs a CSLS pass
        over ``n_src × n_tgt`` scores, the bulk of validation's time on large
        vocabularies; a cap of ``N`` makes it ``N × N`` (:ref:`model_selection`).
    record_unsupervised : bool, default=False
        Also record MUSE's unsupervised criterion (:func:`mean_csls_cosine`) per step.
    random_state : int, RandomState instance or None, default=0
        Seeds the held-out split.
    verbose : int, default=0
        1 logs a line per scored step and the choice (INFO on the package logger).

    Returns
    -------
    selection : RefinementSelection
        The final map (``rotation_``), the kept step, per-step held-out scores, flags and
        times, and a JSON-able ``report()``.

    See Also
    --------
    ProcrustesAligner, L1ProcrustesAligner : ``validation=`` validates their own rounds.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import special_ortho_group
    >>> from sklearn_l1align.model_selection import select_refinement
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 6)); R = special_ortho_group.rvs(6, random_state=0)
    >>> seed = np.column_stack([np.arange(150), np.arange(150)])
    >>> sel = select_refinement(X, X @ R, seed, candidates={})
    >>> sel.kept, bool(np.allclose(sel.rotation_, R))
    ('l2', True)
    """
    t_start = time.perf_counter()
    X_src = check_array(check_real(X_src, "X_src"), dtype=[np.float64, np.float32],
                        input_name="X_src")
    X_tgt = check_array(check_real(X_tgt, "X_tgt"), dtype=[np.float64, np.float32],
                        input_name="X_tgt")
    check_same_dim(X_src, X_tgt, names=("X_src", "X_tgt"))
    seed = check_pairs(seed_pairs, X_src.shape[0], X_tgt.shape[0], name="seed_pairs")
    candidates = default_candidates() if candidates is None else candidates
    n_scorable = _n_scorable_words(seed, validation_max_rank)
    if validation_pairs is not None:
        held_out = check_pairs(validation_pairs, X_src.shape[0], X_tgt.shape[0],
                               name="validation_pairs")
        shared = np.intersect1d(seed[:, 0], held_out[:, 0])
        if shared.size:
            raise ValueError(
                "validation_pairs must be held out: their source words must not occur in "
                f"seed_pairs. Got {shared.size} shared source word(s) instead."
            )
        if validation_folds not in (None, 1, "auto"):
            raise ValueError("validation_folds cross-validates the seed pairs, and "
                             "validation_pairs are held out already: pass one of the two.")
        validation_folds = None
        folds, refit = [(seed, held_out)], False
    elif (validation_folds := resolve_validation_folds(
            validation_folds, validation, n_scorable)) is not None:
        folds = [(seed[fit], seed[held]) for fit, held in
                 SeedWordKFold(validation_folds, random_state=random_state,
                               stratify_max_rank=validation_max_rank).split(seed)]
        refit = True
    else:
        folds = [holdout_source_words(seed, validation, random_state,
                                      stratify_max_rank=validation_max_rank)]
        refit = True
    if validation_max_rank is not None:
        folds = [(fit_seed, _scorable(held, validation_max_rank)) for fit_seed, held in folds]
        if n_empty := sum(not len(held) for _, held in folds):
            if validation_pairs is not None:
                why = f"none of the {len(held_out)} validation pairs lies within the cap"
            else:
                where = ("the held-out split" if len(folds) == 1 else
                         f"{n_empty} of the {len(folds)} folds")
                why = (f"{where} got none of the {n_scorable} seed source word(s) within the "
                       "cap" if n_scorable else "no seed pair lies within the cap")
            raise ValueError(
                f"validation_max_rank={validation_max_rank} leaves a held-out set with no pair "
                "whose two words are both among the first validation_max_rank rows of their "
                f"spaces, so it cannot be scored ({why}). Pass a larger validation_max_rank, "
                "or None.")

    steps = _merge_folds([
        _score_steps(X_src, X_tgt, fit_seed, held_out, candidates, record_unsupervised,
                     verbose, "" if len(folds) == 1 else f"fold {i + 1}/{len(folds)}: ",
                     validation_max_rank)
        for i, (fit_seed, held_out) in enumerate(folds)])
    n_fit = int(round(np.mean([len(fit_seed) for fit_seed, _ in folds])))
    held_out = np.concatenate([held for _, held in folds])

    base_hits = steps[0]["_hits"]
    best = int(np.argmax([s["held_out_p1"] for s in steps]))
    for s in steps:
        del s["_nn_hits"]
        hits = s.pop("_hits")
        s["wins"] = int(np.sum(hits & ~base_hits))
        s["losses"] = int(np.sum(~hits & base_hits))
        s["mcnemar_p"] = float(mcnemar_test(base_hits, hits)) if s is not steps[0] else 1.0
        s["significant"] = bool(s is not steps[0] and significant_gain(hits, base_hits,
                                                                       validation_tol))
    if not steps[best]["significant"]:
        best = 0
    chosen = steps[best]
    for s in steps:
        s["kept"] = bool(s is steps[0] or (chosen["candidate"] != "l2"
                                           and s["candidate"] == chosen["candidate"]
                                           and s["step"] <= chosen["step"]))

    t0 = time.perf_counter()
    if refit:
        M = ProcrustesAligner(dictionary="paired").fit(X_src, X_tgt, pairs=seed).rotation_
        if chosen["candidate"] != "l2":
            chain = candidates[chosen["candidate"]][: chosen["step"] + 1]
            M = apply_chain(X_src, X_tgt, chain, M, seed_pairs=seed)[-1]
    else:
        M = steps[best]["_map"]  # the fit already used every seed pair
    for s in steps:
        del s["_map"]
    refit_seconds = time.perf_counter() - t0
    kept = "l2" if chosen["candidate"] == "l2" else f"{chosen['candidate']}[{chosen['step']}]"
    vlog(logger, verbose, 1, "kept %s (held-out CSLS P@1 %.4f against %.4f for the ℓ2 base)",
         kept, chosen["held_out_p1"], steps[0]["held_out_p1"])
    settings = {"validation": None if validation_pairs is not None or validation_folds
                else float(validation), "validation_folds": validation_folds,
                "validation_tol": float(validation_tol),
                "validation_max_rank": validation_max_rank, "candidates": list(candidates),
                "random_state": random_state if isinstance(random_state, int) else None}
    return RefinementSelection(
        M, kept, steps, (n_fit, len(held_out), len(np.unique(held_out[:, 0]))),
        (refit_seconds, time.perf_counter() - t_start), settings)
