"""What every aligner shares: input checks, dictionary resolution, transform and score."""

import inspect
import numbers

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ._dictionary import CSLSDictionaryBuilder, topk_neighbors
from ._validation import check_pairs, check_real, check_same_dim


def _check_target(y, X, estimator_name="This aligner"):
    if y is None:
        # The phrase "requires y to be passed, but the target y is None" is scikit-learn's
        # own wording, which its estimator checks (check_requires_y_none) look for.
        raise ValueError(
            "y must hold the target-language embeddings, an array of shape (n_words, n_dims): "
            f"{estimator_name} requires y to be passed, but the target y is None."
        )
    y = check_array(check_real(y, "y"), dtype=[np.float64, np.float32], input_name="y",
                    ensure_2d=False, ensure_min_samples=0)
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


class _BaseAligner(TransformerMixin, BaseEstimator):
    """Orthogonal map of a source space onto a target space: ``transform(X) = X @ rotation_``."""

    _parameter_constraints = {
        "dictionary": [StrOptions({"paired"}), CSLSDictionaryBuilder],
        "n_refinements": [Interval(numbers.Integral, 0, None, closed="left")],
        "verbose": ["verbose"],
    }

    def _validate_fit_inputs(self, X, y, pairs):
        X = validate_data(self, check_real(X, "X"), dtype=[np.float64, np.float32],
                          ensure_min_samples=1)
        y = _check_target(y, X, type(self).__name__)
        if pairs is not None:
            pairs = check_pairs(pairs, X.shape[0], y.shape[0])
        elif self.dictionary == "paired" and X.shape[0] != y.shape[0]:
            raise ValueError(
                "With dictionary='paired' and no pairs, row i of X must translate row i of y, "
                f"so X and y need the same number of rows. Got {X.shape[0]} and {y.shape[0]} "
                "instead. Pass pairs=..., or a CSLSDictionaryBuilder as dictionary."
            )
        if self.n_refinements > 0 and not isinstance(self.dictionary, CSLSDictionaryBuilder):
            raise ValueError(
                "n_refinements > 0 re-induces the dictionary, which needs a CSLSDictionaryBuilder "
                f"as dictionary. Got dictionary={self.dictionary!r} instead."
            )
        return X, y, pairs

    def _first_pairs(self, X, y, pairs):
        """The first round's dictionary: given pairs, paired rows, or an induced one."""
        if pairs is not None:
            return pairs
        if isinstance(self.dictionary, CSLSDictionaryBuilder):
            return self.dictionary.build(X, y)
        n = X.shape[0]
        return np.column_stack([np.arange(n), np.arange(n)]).astype(np.int64)

    def transform(self, X):
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
        X = validate_data(self, check_real(X, "X"), dtype=[np.float64, np.float32], reset=False)
        return X @ self.rotation_.astype(X.dtype, copy=False)

    def inverse_transform(self, X):
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
        return X @ self.rotation_.T.astype(X.dtype, copy=False)

    def score(self, X, y, sample_weight=None):
        """BLI precision@1 of paired rows, retrieved by CSLS-10.

        Each mapped ``X[i]`` retrieves its CSLS-10 nearest row among the rows of ``y``;
        it is a hit when that row equals ``y[i]``. Only the rows of ``y`` compete, so the
        score is optimistic against a full target vocabulary of tens of thousands of
        words: use :func:`sklearn_l1align.metrics.bli_precision` for reported numbers.

        Parameters
        ----------
        X : array-like of shape (n_pairs, n_features)
            Source vectors.
        y : array-like of shape (n_pairs, n_features)
            Their translations, row by row.
        sample_weight : None
            Not supported; present for scikit-learn's API.

        Returns
        -------
        score : float
            Precision@1 in ``[0, 1]``.
        """
        if sample_weight is not None:
            raise ValueError("sample_weight is not supported by score. Got an array instead of None.")
        Xm = self.transform(X)
        y = _check_target(y, Xm)
        if y.shape[0] != Xm.shape[0]:
            raise ValueError(
                f"score needs paired rows: X and y must have the same number of rows. "
                f"Got {Xm.shape[0]} and {y.shape[0]} instead."
            )
        idx, _ = topk_neighbors(Xm, y, 1, method="csls", csls_k=10)
        retrieved = idx[:, 0]
        hit = (retrieved == np.arange(len(y))) | np.all(y[retrieved] == y, axis=1)
        return float(hit.mean())

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
