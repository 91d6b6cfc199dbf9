"""Embedding normalisation as in VecMap and MUSE: unit length, mean centring, and chains of them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
from sklearn.base import (
    BaseEstimator,
    OneToOneFeatureMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

from ._neighbors import unit_rows

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


__all__ = ["EmbeddingNormalizer", "normalize_embeddings"]

_STEPS = ("unit", "center", "unitdim")


def _check_steps(steps):
    if isinstance(steps, str):
        steps = (steps,)
    steps = tuple(steps)
    for s in steps:
        if s not in _STEPS:
            raise ValueError(
                f"Unknown normalisation step {s!r}; each step must be one of {_STEPS}. "
                f"Got steps={steps!r} instead."
            )
    return steps


def _writeable(X):
    """``X``, or a copy of it when it is read-only (a memory map, a gensim view)."""
    return X if X.flags.writeable else X.copy()


def _run(X, steps, means=None, stds=None):
    """Apply ``steps`` to ``X`` in place, once.

    With ``means``/``stds`` given (fitted), the centring steps use them; otherwise each
    centring step takes the statistics of the rows as they are at that step, and they are
    returned. Either way each step is one pass over ``X`` and no copy is made.
    """
    fitting = means is None
    if fitting:
        means, stds = [], []
    it_mean, it_std = iter(means), iter(stds)
    for s in steps:
        if s == "unit":
            unit_rows(X, dtype=X.dtype, copy=False)
        elif s == "center":
            mu = X.mean(axis=0) if fitting else next(it_mean)
            if fitting:
                means.append(mu)
            X -= mu
        else:  # unitdim
            if fitting:
                mu = X.mean(axis=0)
                sd = X.std(axis=0)
                sd[sd == 0] = 1.0
                means.append(mu)
                stds.append(sd)
            else:
                mu, sd = next(it_mean), next(it_std)
            X -= mu
            X /= sd
    return X, means, stds


@validate_params({"X": ["array-like"], "steps": [str, tuple, list], "copy": ["boolean"]},
                 prefer_skip_nested_validation=True)
def normalize_embeddings(X: ArrayLike, steps: Sequence[str] = ("unit", "center", "unit"), *,
                         copy: bool = True) -> NDArray[np.floating]:
    """Normalise an embedding matrix with a chain of VecMap/MUSE steps.

    Parameters
    ----------
    X : array-like of shape (n_words, n_dims)
        Embeddings, one word per row.
    steps : tuple of {"unit", "center", "unitdim"}, default=("unit", "center", "unit")
        Applied left to right. ``"unit"`` scales each row to unit Euclidean length
        (zero rows stay zero); ``"center"`` subtracts the column mean;
        ``"unitdim"`` standardises each column. The default is VecMap's
        ``--normalize unit center unit``, which the paper and MUSE's
        ``--normalize_embeddings center,renorm`` follow in spirit.
    copy : bool, default=True
        If False and ``X`` is a writeable float32 or float64 array, it is normalised in
        place and returned, with no copy at all (VecMap's memory footprint).

    Returns
    -------
    X_norm : ndarray of shape (n_words, n_dims)
        Float32 for float32 input, float64 otherwise. A new array unless ``copy=False``
        allowed the work in place. The chain runs once, one pass per step.

    See Also
    --------
    EmbeddingNormalizer : The same as a scikit-learn transformer.

    Notes
    -----
    The ``unit`` step divides rows whose squared norm would overflow or underflow by
    their largest absolute entry first, so float32 rows near ``1e20`` or ``1e-25`` come
    back with unit length; zero rows stay zero.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import normalize_embeddings
    >>> X = np.array([[3.0, 4.0], [1.0, 0.0]])
    >>> np.linalg.norm(normalize_embeddings(X), axis=1)
    array([1., 1.])
    """
    steps = _check_steps(steps)
    shape = getattr(X, "shape", None)  # sparse matrices too: the normaliser refuses them
    shape = np.shape(X) if shape is None else tuple(shape)
    if len(shape) != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_words, n_dims). Got shape {shape} instead.")
    return EmbeddingNormalizer(steps=steps, copy=copy).fit_transform(X)


class EmbeddingNormalizer(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Normalise embeddings with a chain of VecMap/MUSE steps.

    ``fit`` learns the column means of the centring steps; ``transform`` applies
    the same chain with those statistics, so a held-out batch is treated like the
    training vocabulary.

    A :class:`~sklearn.pipeline.Pipeline` transforms only ``X`` (the source
    space). Normalise the target space yourself, with a second normaliser fitted
    on it::

        X_src = EmbeddingNormalizer().fit_transform(X_src)
        X_tgt = EmbeddingNormalizer().fit_transform(X_tgt)

    Parameters
    ----------
    steps : tuple of {"unit", "center", "unitdim"}, default=("unit", "center", "unit")
        Applied left to right; see :func:`normalize_embeddings`.
    copy : bool, default=True
        If False, ``fit_transform`` and ``transform`` work in place on a writeable float32
        or float64 array instead of copying it (as scikit-learn's ``StandardScaler`` does).

    Attributes
    ----------
    means_ : list of ndarray of shape (n_features,)
        The column means used by each centring step, in order.
    stds_ : list of ndarray of shape (n_features,)
        The column standard deviations used by each ``"unitdim"`` step.
    n_features_in_ : int
        Number of features seen during :term:`fit`.

    See Also
    --------
    normalize_embeddings : Functional form.
    ProcrustesAligner : The usual next step.

    References
    ----------
    .. [1] M. Artetxe, G. Labaka and E. Agirre, "A robust self-learning method for fully
       unsupervised cross-lingual mappings of word embeddings", ACL 2018 (VecMap).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import EmbeddingNormalizer
    >>> X = np.random.default_rng(0).normal(size=(100, 5)) + 3.0
    >>> Xn = EmbeddingNormalizer().fit_transform(X)
    >>> bool(np.allclose(np.linalg.norm(Xn, axis=1), 1.0))
    True
    """

    _parameter_constraints = {"steps": [tuple, list, str], "copy": ["boolean"]}

    def __init__(self, steps: Sequence[str] = ("unit", "center", "unit"),
                 copy: bool = True) -> None:
        self.steps = steps
        self.copy = copy

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X: ArrayLike, y: None = None) -> EmbeddingNormalizer:
        """Learn the centring statistics of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_words, n_dims)
            Embeddings.
        y : None
            Ignored.

        Returns
        -------
        self : EmbeddingNormalizer
            The fitted normaliser.
        """
        self.fit_transform(X)
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def fit_transform(self, X: ArrayLike, y: None = None) -> NDArray[np.floating]:
        """Learn the centring statistics of ``X`` and normalise it, in one run of the chain.

        Parameters
        ----------
        X : array-like of shape (n_words, n_dims)
            Embeddings.
        y : None
            Ignored.

        Returns
        -------
        X_norm : ndarray of shape (n_words, n_dims)
            Normalised ``X``: a copy, or ``X`` itself when ``copy=False`` allowed it.
        """
        steps = _check_steps(self.steps)
        X = validate_data(self, X, dtype=[np.float64, np.float32], copy=self.copy)
        X, self.means_, self.stds_ = _run(_writeable(X), steps)
        return X

    def transform(self, X: ArrayLike, copy: bool | None = None) -> NDArray[np.floating]:
        """Apply the normalisation chain with the fitted statistics.

        Parameters
        ----------
        X : array-like of shape (n_words, n_dims)
            Embeddings.
        copy : bool, default=None
            Copy ``X`` first; None uses the estimator's ``copy``.

        Returns
        -------
        X_norm : ndarray of shape (n_words, n_dims)
            Normalised ``X``: a copy, or ``X`` itself when ``copy=False`` allowed it.
        """
        check_is_fitted(self)
        copy = self.copy if copy is None else copy
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, copy=copy)
        return _run(_writeable(X), _check_steps(self.steps), self.means_, self.stds_)[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
