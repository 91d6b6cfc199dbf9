"""What every aligner shares: the template ``fit``, held-out validation, transform and score.

``BaseAligner.fit`` is written once: resolve the dictionary → validate the inputs →
run the rounds (optionally scoring each on held-out seed pairs and keeping the best) →
bookkeeping. A subclass implements one round, :meth:`BaseAligner._fit_round`, the way
imbalanced-learn's samplers implement ``_fit_resample`` under a shared ``fit_resample``.
"""

from __future__ import annotations

import inspect
import logging
import math
import numbers
import warnings
from typing import TYPE_CHECKING, TypeVar

import numpy as np
from sklearn import config_context
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._geometry import polar
from ._logging import vlog
from ._neighbors import topk_neighbors, unit_rows
from ._threads import blocked_product
from ._validation import check_all_finite, check_pairs, check_real, check_same_dim
from .metrics import bli_precision

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray

#: The aligner ``fit`` returns (itself), for type checkers.
_AlignerT = TypeVar("_AlignerT", bound="BaseAligner")

logger = logging.getLogger(__name__)

#: MUSE's unsupervised model-selection criterion scores the most frequent source words.
UNSUPERVISED_QUERIES = 10000


def _check_target(y, X, estimator_name="This aligner", *, ensure_all_finite=True):
    if y is None:
        # The phrase "requires y to be passed, but the target y is None" is scikit-learn's
        # own wording, which its estimator checks (check_requires_y_none) look for.
        raise ValueError(
            "y must hold the target-language embeddings, an array of shape (n_words, n_dims): "
            f"{estimator_name} requires y to be passed, but the target y is None."
        )
    y = check_array(check_real(y, "y"), dtype=[np.float64, np.float32], input_name="y",
                    ensure_2d=False, ensure_min_samples=0, ensure_all_finite=ensure_all_finite)
    if y.ndim != 2:
        raise ValueError(
            "y must be a 2-D array of target-language embeddings of shape (n_words, n_dims). "
            f"Got an array of shape {y.shape} instead."
        )
    if y.shape[0] == 0:
        raise ValueError(
            "y must hold at least one target-language embedding (row). "
            f"Got an array of shape {y.shape} instead."
        )
    check_same_dim(X, y)
    return y.astype(X.dtype, copy=False) if X.dtype != y.dtype else y


def holdout_source_words(
    pairs: ArrayLike, fraction: float, random_state: int | np.random.RandomState | None = None,
    *, stratify_max_rank: int | None = None
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Split seed pairs into (fit, held-out) pairs by source word.

    All the pairs of a source word fall on the same side, so a held-out word is never
    seen by the fit it validates.

    Parameters
    ----------
    pairs : ndarray of shape (n_pairs, 2)
        (source row, target row) seed pairs.
    fraction : float in (0, 1)
        Share of the unique source words held out (at least one, and at least one kept).
    random_state : int, RandomState instance or None, default=None
        Seeds the choice of held-out words.
    stratify_max_rank : int or None, default=None
        Hold out the source words that have a pair within the first ``stratify_max_rank``
        rows of both spaces (those a ``validation_max_rank`` of the same value scores) in
        the same share as the others, and at least one of them when there is one, so a
        capped validation always has words to score. None, or a cap that every pair (or
        no pair) lies within, draws the same split as without it.

    Returns
    -------
    fit_pairs, held_out_pairs : ndarray of shape (n_fit, 2) and (n_held_out, 2)
        Both in the input order.

    See Also
    --------
    sklearn_l1align.model_selection.SeedWordKFold : K folds of whole source words.

    Examples
    --------
    >>> from sklearn_l1align.model_selection import holdout_source_words
    >>> fit, held = holdout_source_words([[0, 0], [0, 1], [1, 2], [2, 3]], 0.34, random_state=0)
    >>> sorted(set(fit[:, 0].tolist()) & set(held[:, 0].tolist()))
    []
    """
    pairs = np.asarray(pairs)
    words = np.unique(pairs[:, 0])
    if len(words) < 2:
        raise ValueError(
            "Held-out validation needs seed pairs with at least 2 distinct source words. "
            f"Got {len(words)} instead."
        )
    n_held = min(max(1, int(round(fraction * len(words)))), len(words) - 1)
    order = check_random_state(random_state).permutation(words)
    scorable = _scorable_words(pairs, stratify_max_rank)
    n_s = len(scorable)
    # The rounded share already lies in [0, min(n_held, n_s)] and asks for no more of the
    # other words than there are, so only "at least one" needs a bound.
    held_s = max(int(round(n_held * n_s / len(words))), min(n_s, 1))
    held = _deal_words(order, scorable, [n_held, len(words) - n_held],
                       [held_s, n_s - held_s])[0]
    mask = np.isin(pairs[:, 0], held)
    return pairs[~mask], pairs[mask]


def _deal_words(order, scorable, sizes, counts):
    """Cut ``order`` into groups of ``sizes`` words, ``counts`` of them from ``scorable``.

    Each group takes the next ``counts[i]`` words of ``order`` that are in ``scorable`` and
    the next ``sizes[i] - counts[i]`` that are not, so the words keep their order within
    each kind; when all (or none) of the words are in ``scorable``, group ``i`` is the
    ``i``-th consecutive slice of ``order``.
    """
    is_s = np.isin(order, scorable)
    s, u = order[is_s], order[~is_s]
    groups, i, j = [], 0, 0
    for size, count in zip(sizes, counts):
        groups.append(np.concatenate([s[i:i + count], u[j:j + size - count]]))
        i, j = i + count, j + size - count
    return groups


def _scorable(pairs, max_rank):
    """The pairs whose two words both lie within the first ``max_rank`` rows (all when None)."""
    return pairs if max_rank is None else pairs[(pairs < max_rank).all(axis=1)]


def _scorable_words(pairs, max_rank):
    """The distinct source words that have a pair that :func:`_scorable` keeps."""
    return np.unique(_scorable(pairs, max_rank)[:, 0])


def _n_scorable_words(pairs, max_rank):
    """How many distinct source words have a pair that :func:`_scorable` keeps."""
    return len(_scorable_words(pairs, max_rank))


def significant_gain(hits_new: ArrayLike, hits_base: ArrayLike, tol: float = 1.0) -> bool:
    """Whether ``hits_new`` beats ``hits_base`` by more than noise, query by query.

    A paired comparison on the same held-out queries: ``b`` queries are hits only for
    the new map, ``c`` only for the base. Gains and losses on the other queries cancel.
    The new map wins when ``b − c > tol · sqrt(b + c)``, that is when its net gain exceeds
    ``tol`` standard deviations of the net gain of two equally good maps (the normal
    approximation of McNemar's test; ``tol=1`` is a one-sided level of about 16 %, so a
    map that is truly no better is kept about one time in six and then costs nothing on
    average, while a loss of a few points is refused).

    Parameters
    ----------
    hits_new, hits_base : array-like of bool of shape (n_queries,)
        Per-query hits of the two maps on the same queries.
    tol : float, default=1.0
        Threshold in standard deviations; 0 keeps any strict net gain.

    Returns
    -------
    gain : bool
        True when the new map truly gains.

    See Also
    --------
    sklearn_l1align.metrics.mcnemar_test : The exact test on the same discordant counts.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import significant_gain
    >>> base = np.zeros(50, dtype=bool)
    >>> significant_gain(np.r_[np.ones(8, bool), base[8:]], base)
    True
    >>> significant_gain(np.r_[np.ones(1, bool), base[1:]], base)
    False
    """
    hits_new = np.asarray(hits_new, dtype=bool)
    hits_base = np.asarray(hits_base, dtype=bool)
    b = int(np.sum(hits_new & ~hits_base))
    c = int(np.sum(~hits_new & hits_base))
    return b > c and (b - c) > tol * math.sqrt(b + c)


def mean_csls_cosine(X_mapped: ArrayLike, y: ArrayLike, *, n_queries: int = UNSUPERVISED_QUERIES,
                     csls_k: int = 10) -> float:
    """Compute MUSE's unsupervised model-selection criterion.

    The mean cosine between the ``n_queries`` first (most frequent) source words and
    their CSLS-``csls_k`` translations retrieved over the whole target vocabulary
    (Conneau et al. 2018, "mean_cosine" with ``csls_knn_10``).

    Parameters
    ----------
    X_mapped : ndarray of shape (n_src, n_dims)
        Mapped source embeddings.
    y : ndarray of shape (n_tgt, n_dims)
        Target embeddings.
    n_queries : int, default=10000
        Number of first source rows scored.
    csls_k : int, default=10
        CSLS neighbourhood size.

    Returns
    -------
    criterion : float
        Mean cosine in ``[-1, 1]``; higher is better.

    See Also
    --------
    sklearn_l1align.metrics.bli_precision : The supervised score it stands in for.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align.model_selection import mean_csls_cosine
    >>> X = np.random.default_rng(0).normal(size=(30, 4))
    >>> round(mean_csls_cosine(X, X), 6)
    1.0
    """
    X_mapped = check_array(check_real(X_mapped, "X_mapped"), dtype=[np.float64, np.float32],
                           input_name="X_mapped")
    y = check_array(check_real(y, "y"), dtype=[np.float64, np.float32], input_name="y")
    queries = np.arange(min(n_queries, X_mapped.shape[0]))
    idx, _ = topk_neighbors(X_mapped, y, 1, method="csls", csls_k=csls_k, queries=queries)
    cos = np.sum(unit_rows(X_mapped[queries], dtype=np.float64) * unit_rows(y[idx[:, 0]], dtype=np.float64),
                 axis=1)
    return float(cos.mean())


class _Validator:
    """Scores each round's map on held-out seed pairs (or MUSE's criterion) and picks one."""

    def __init__(self, X, y, held_out, tol, max_rank=None):
        self.X, self.y, self.held_out, self.tol = X, y, held_out, tol
        self.max_rank = max_rank  # held-out pairs retrieve within the first max_rank rows
        self.scores, self.hits = [], []

    def __call__(self, M):
        # MUSE's criterion reads whole spaces; held-out pairs retrieve within the cap.
        rows = slice(None) if self.held_out is None else slice(self.max_rank)
        X, y = self.X[rows], self.y[rows]
        Xm = X if M is None else blocked_product(X, M)
        if self.held_out is None:
            score = mean_csls_cosine(Xm, y)
        else:
            res = bli_precision(Xm, y, self.held_out, k=1)
            score = res.precision[1]
            self.hits.append(res.hits[1])
        self.scores.append(score)
        return score

    def best(self):
        """Index of the kept entry: the best-scoring one if it truly beats entry 0, else 0."""
        best = int(np.argmax(self.scores))
        if self.held_out is None:
            return best  # MUSE keeps the best criterion, with no noise model
        return best if significant_gain(self.hits[best], self.hits[0], self.tol) else 0


class BaseAligner(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Orthogonal map of a source space onto a target space: ``transform(X) = X @ rotation_``.

    Subclasses implement :meth:`_fit_round` (one solve on one round's pairs) and
    :meth:`_resolve_dictionary`; everything else, including the rounds loop, lives here.
    """

    _parameter_constraints = {
        "dictionary": [StrOptions({"paired"}), HasMethods(["build"]), None],
        "n_refinements": [Interval(numbers.Integral, 0, None, closed="left")],
        "validation": [Interval(numbers.Real, 0, 1, closed="neither"),
                       StrOptions({"unsupervised"}), None],
        "validation_tol": [Interval(numbers.Real, 0, None, closed="left")],
        "validation_max_rank": [Interval(numbers.Integral, 1, None, closed="left"), None],
        "refinement_dictionary": [StrOptions({"induced", "seed+induced"})],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
    }

    #: True when entry 0 of the validation scores is the input space itself (M = I):
    #: the ℓ1 aligner refines a space that is already aligned; ℓ2's entry 0 is its first solve.
    _identity_is_round_zero = False
    #: True when round 0 is itself a refinement round (ℓ1), so that with
    #: ``refinement_dictionary="seed+induced"`` it already solves on seed ∪ induced pairs;
    #: ℓ2's round 0 is the supervised fit on the seed alone.
    _first_round_refines = False
    #: True when a round on an unchanged dictionary would return the same map (ℓ2's closed
    #: form), so the rounds stop at the dictionary's fixed point.
    _stop_at_fixed_point = False

    def _resolve_dictionary(self):
        """The dictionary source: ``"paired"`` or an object with ``build(X_src, X_tgt)``."""
        return "paired" if self.dictionary is None else self.dictionary

    def _check_rows(self, X, y):
        """Subclass hook: refuse inputs the round cannot use. The default accepts all."""

    def _start_fit(self):
        """Subclass hook called before each run of rounds (e.g. to clone the solver)."""

    def _fit_round(self, X, y, pairs, M):
        """Solve one round on ``pairs`` from ``M`` (None in the first round).

        Returns ``(rotation, info)``, ``info`` a dict; ``info.get("stop")`` ends the rounds.
        """
        raise NotImplementedError

    def _record(self, infos):
        """Subclass hook: store the per-round ``info`` dicts of the final run as attributes."""

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self: _AlignerT, X: ArrayLike, y: ArrayLike, pairs: ArrayLike | None = None, *,
            validation_pairs: ArrayLike | None = None) -> _AlignerT:
        """Fit the orthogonal map.

        Parameters
        ----------
        X : array-like of shape (n_src, n_features)
            Source embeddings.
        y : array-like of shape (n_tgt, n_features)
            Target embeddings; ``n_tgt`` may differ from ``n_src`` when pairs are given
            or induced.
        pairs : array-like of shape (n_pairs, 2), default=None
            (source row, target row) seed pairs for the first round.
        validation_pairs : array-like of shape (n_val, 2), default=None
            Held-out (source row, target row) pairs that score every round (see
            ``validation``). Their source words must not occur in ``pairs``.

        Returns
        -------
        self : object
            The fitted aligner.
        """
        dictionary = self._resolve_dictionary()
        X, y, pairs, validation_pairs = self._validate_fit_inputs(X, y, pairs, validation_pairs,
                                                                  dictionary)
        self._check_rows(X, y)
        seed = self._seed_pairs(X, y, pairs, dictionary)
        n_solves = 1 + self.n_refinements
        if validation_pairs is None and self.validation is None:
            maps, infos = self._rounds(X, y, seed, dictionary, n_solves)
            self._finish(maps[-1], infos)
            return self
        if validation_pairs is not None:
            fit_seed, held_out, refit = seed, validation_pairs, False
        elif self.validation == "unsupervised":
            fit_seed, held_out, refit = seed, None, False
        else:
            if seed is None:
                raise ValueError(
                    f"validation={self.validation!r} holds out a share of the seed pairs, so fit "
                    "needs pairs (or dictionary='paired'). Got no seed pairs instead: pass pairs=..., "
                    "validation_pairs=..., or validation='unsupervised'."
                )
            fit_seed, held_out = holdout_source_words(
                seed, self.validation, self.random_state,
                stratify_max_rank=self.validation_max_rank)
            refit = True
        if held_out is not None:
            n_held, held_out = len(held_out), _scorable(held_out, self.validation_max_rank)
            if not len(held_out):
                raise ValueError(
                    f"validation_max_rank={self.validation_max_rank} leaves no held-out pair "
                    "whose two words are both among the first validation_max_rank rows of X "
                    f"and y (none of the {n_held} held-out pairs), so validation cannot score. "
                    "Pass a larger validation_max_rank, or None.")
        validator = _Validator(X, y, held_out, self.validation_tol, self.validation_max_rank)
        if self._identity_is_round_zero:
            validator(None)
        maps, infos = self._rounds(X, y, fit_seed, dictionary, n_solves, on_map=validator)
        kept = validator.best()
        offset = 1 if self._identity_is_round_zero else 0
        self.validation_scores_ = list(validator.scores)
        self.best_round_ = kept
        vlog(logger, self.verbose, 1, "validation: scores %s, kept entry %d",
             ", ".join(f"{s:.4f}" for s in validator.scores), kept)
        n_kept_solves = kept + 1 - offset
        if refit and n_kept_solves > 0:
            maps, infos = self._rounds(X, y, seed, dictionary, n_kept_solves)
            final = maps[-1]
        elif n_kept_solves > 0:
            final, infos = maps[n_kept_solves - 1], infos[:n_kept_solves]
        else:
            final = np.eye(X.shape[1])  # no refinement: the input space as given
        self._finish(final, infos)
        return self

    def _finish(self, M, infos):
        self.rotation_ = M
        self.dictionary_ = infos[-1]["pairs"]
        self.dictionary_sizes_ = [len(info["pairs"]) for info in infos]
        self._record(infos)

    def _validate_fit_inputs(self, X, y, pairs, validation_pairs, dictionary):
        if self.n_refinements > 0 and isinstance(dictionary, str):
            raise ValueError(
                "n_refinements > 0 re-induces the dictionary, which needs a CSLSDictionaryBuilder "
                f"as dictionary. Got dictionary={dictionary!r} instead."
            )
        # Finiteness last (check_all_finite): scikit-learn's errors, at about half the cost.
        X = validate_data(self, check_real(X, "X"), dtype=[np.float64, np.float32],
                          ensure_min_samples=1, ensure_all_finite=False)
        y = _check_target(y, X, type(self).__name__, ensure_all_finite=False)
        check_all_finite((X, y), ("X", "y"), self)
        if pairs is not None:
            pairs = check_pairs(pairs, X.shape[0], y.shape[0])
        elif isinstance(dictionary, str) and X.shape[0] != y.shape[0]:
            raise ValueError(
                "With dictionary='paired' and no pairs, row i of X must translate row i of y, "
                f"so X and y need the same number of rows. Got {X.shape[0]} and {y.shape[0]} "
                "instead. Pass pairs=..., or a CSLSDictionaryBuilder as dictionary."
            )
        elif self.dictionary is None and isinstance(dictionary, str):
            warnings.warn(
                f"{type(self).__name__} got no pairs, so it fits row i of X to row i of y "
                f"(X and y both have {X.shape[0]} rows). If these are two vocabularies rather "
                "than paired rows, pass the seed dictionary as pairs=...; set dictionary='paired' "
                "to silence this warning.",
                UserWarning,
                stacklevel=4,
            )
        if validation_pairs is not None:
            validation_pairs = check_pairs(validation_pairs, X.shape[0], y.shape[0],
                                           name="validation_pairs")
            if pairs is not None:
                shared = np.intersect1d(pairs[:, 0], validation_pairs[:, 0])
                if shared.size:
                    raise ValueError(
                        "validation_pairs must be held out: their source words must not occur in "
                        f"pairs. Got {shared.size} shared source word(s) (row {int(shared[0])} "
                        "first) instead."
                    )
        return X, y, pairs, validation_pairs

    @staticmethod
    def _seed_pairs(X, y, pairs, dictionary):
        """The seed pairs: given pairs, paired rows, or None (the first round induces them)."""
        if pairs is not None:
            return pairs
        if isinstance(dictionary, str):
            n = X.shape[0]
            return np.column_stack([np.arange(n), np.arange(n)]).astype(np.int64)
        return None

    def _round_pairs(self, X_mapped, y, dictionary, seed):
        """A refinement round's dictionary: induced, or PROC-B's seed ∪ induced."""
        induced = dictionary.build(X_mapped, y)
        if self.refinement_dictionary == "seed+induced" and seed is not None:
            return np.unique(np.concatenate([seed, induced]), axis=0)
        return induced

    def _rounds(self, X, y, seed, dictionary, n_solves, on_map=None):
        """The rounds loop, written once: maps and per-round info of ``n_solves`` solves.

        Round 0 solves on the seed pairs (or a dictionary induced on the input space);
        each later round maps ``X`` with the current rotation, re-induces the dictionary
        and solves again from there. ``on_map`` is called with each round's rotation.
        """
        self._start_fit()
        maps, infos, M = [], [], None
        for rnd in range(n_solves):
            if rnd == 0 and seed is None:
                pairs = dictionary.build(X, y)
            elif rnd == 0:
                union = (self._first_round_refines and not isinstance(dictionary, str)
                         and self.refinement_dictionary == "seed+induced")
                pairs = self._round_pairs(X, y, dictionary, seed) if union else seed
            else:
                # A flow round ends up to its ortho_tol off the manifold; the next starts from
                # the nearest orthogonal matrix, or it would inherit the drift (Eq. 8).
                M = polar(M)
                previous = pairs
                pairs = self._round_pairs(blocked_product(X, M), y,
                                           dictionary, seed)
                if self._stop_at_fixed_point and np.array_equal(pairs, previous):
                    vlog(logger, self.verbose, 1, "%s round %d: the dictionary is unchanged "
                         "(a fixed point); no further round", type(self).__name__, rnd)
                    break
            M, info = self._fit_round(X, y, pairs, M)
            info["pairs"] = pairs
            maps.append(M)
            infos.append(info)
            score = on_map(M) if on_map is not None else None
            vlog(logger, self.verbose, 1, "%s round %d: %d pairs, %s%s", type(self).__name__, rnd,
                 len(pairs), info.get("summary", ""),
                 "" if score is None else f", held-out score {score:.4f}")
            if info.get("stop"):
                break
        return maps, infos


    def fit_transform(self, X: ArrayLike, y: ArrayLike, pairs: ArrayLike | None = None, *,
                      validation_pairs: ArrayLike | None = None) -> NDArray[np.floating]:
        """Fit the orthogonal map, then map ``X``: ``fit(X, y, pairs).transform(X)``.

        ``X`` is validated once, by :meth:`fit` (a Pipeline calls this method).

        Parameters
        ----------
        X : array-like of shape (n_src, n_features)
            Source embeddings.
        y : array-like of shape (n_tgt, n_features)
            Target embeddings.
        pairs : array-like of shape (n_pairs, 2), default=None
            (source row, target row) seed pairs for the first round.
        validation_pairs : array-like of shape (n_val, 2), default=None
            Held-out pairs that score every round (see :meth:`fit`).

        Returns
        -------
        X_mapped : ndarray of shape (n_src, n_features)
            ``X @ rotation_``.
        """
        self.fit(X, y, pairs, validation_pairs=validation_pairs)
        with config_context(assume_finite=True):  # fit has checked X
            return self.transform(X)

    def transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Map source vectors into the target space.

        Parameters
        ----------
        X : array-like of shape (n_words, n_features)
            Source embeddings.

        Returns
        -------
        X_mapped : ndarray of shape (n_words, n_features)
            ``X @ rotation_``.
        """
        check_is_fitted(self)
        X = validate_data(self, check_real(X, "X"), dtype=[np.float64, np.float32], reset=False,
                          ensure_all_finite=False)
        check_all_finite((X,), ("X",), self)
        return blocked_product(X, self.rotation_)

    def inverse_transform(self, X: ArrayLike) -> NDArray[np.floating]:
        """Map target-space vectors back into the source space.

        Parameters
        ----------
        X : array-like of shape (n_words, n_features)
            Vectors in the target space.

        Returns
        -------
        X_src : ndarray of shape (n_words, n_features)
            ``X @ rotation_.T`` (the inverse of an orthogonal map).
        """
        check_is_fitted(self)
        X = check_array(check_real(X, "X"), dtype=[np.float64, np.float32])
        check_same_dim(X, self.rotation_, names=("X", "rotation_"))
        return blocked_product(X, self.rotation_.T)

    def score(self, X: ArrayLike, y: ArrayLike, sample_weight: None = None, *,
              pairs: ArrayLike | None = None) -> float:
        """CSLS-10 precision@1, by retrieval over the rows of ``y``.

        With ``pairs``, this is full-vocabulary BLI: ``X`` and ``y`` are the whole source
        and target vocabularies, each unique source word of ``pairs`` retrieves its CSLS-10
        nearest row among *all* rows of ``y``, and it is a hit when that row is one of its
        gold translations. The value equals
        ``metrics.bli_precision(self.transform(X), y, pairs, k=1).precision[1]``.

        Without ``pairs`` (scikit-learn's ``score(X, y)``), row ``i`` of ``y`` is the
        translation of row ``i`` of ``X``, and each mapped ``X[i]`` retrieves among the
        rows of ``y`` only. That is not full-vocabulary precision: with a few hundred
        rows competing instead of tens of thousands of words it is optimistic, and a
        word with several translations competes with itself. For model selection use
        :mod:`sklearn_l1align.model_selection`.

        Parameters
        ----------
        X : array-like of shape (n_src, n_features)
            Source vectors (the whole vocabulary when ``pairs`` is given).
        y : array-like of shape (n_tgt, n_features)
            Target vectors: the whole vocabulary, or row-by-row translations of ``X``.
        sample_weight : None
            Not supported; present for scikit-learn's API.
        pairs : array-like of shape (n_pairs, 2), default=None
            Gold (source row, target row) pairs for full-vocabulary retrieval.

        Returns
        -------
        score : float
            Precision@1 in ``[0, 1]``.
        """
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported by score. Got an array instead of None.")
        Xm = self.transform(X)
        y = _check_target(y, Xm)
        if pairs is not None:
            return bli_precision(Xm, y, pairs, k=1).precision[1]
        if y.shape[0] != Xm.shape[0]:
            raise ValueError(
                f"score without pairs needs paired rows: X and y must have the same number of "
                f"rows. Got {Xm.shape[0]} and {y.shape[0]} instead; pass pairs=... to score "
                "by retrieval over the whole of y."
            )
        idx, _ = topk_neighbors(Xm, y, 1, method="csls", csls_k=10)
        retrieved = idx[:, 0]
        hit = (retrieved == np.arange(len(y))) | np.all(y[retrieved] == y, axis=1)
        return float(hit.mean())

    @property
    def _n_features_out(self):
        # ClassNamePrefixFeaturesOutMixin names the outputs "<class>0", "<class>1", ...:
        # every output mixes all input features, so no input name carries over.
        return self.rotation_.shape[1]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.target_tags.single_output = False
        tags.input_tags.sparse = False
        return tags


def pairs_fit_parameter(estimator):
    """The fit parameter that takes the seed pairs: ``"pairs"``, ``"step__pairs"``, or None.

    In a Pipeline it is the first step whose ``fit`` accepts ``pairs``, so a normaliser
    placed first is skipped, and later aligners induce their own dictionaries.
    """
    if isinstance(estimator, Pipeline):
        for name, step in estimator.steps:
            if step is None or (isinstance(step, str) and step == "passthrough"):
                continue
            inner = pairs_fit_parameter(step)
            if inner is not None:
                return f"{name}__{inner}"
        return None
    fit = getattr(estimator, "fit", None)
    if fit is None:
        return None
    try:
        parameters = inspect.signature(fit).parameters
    except (TypeError, ValueError):
        return None
    return "pairs" if "pairs" in parameters else None
