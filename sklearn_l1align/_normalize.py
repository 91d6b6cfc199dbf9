"""Embedding normalisation as in VecMap and MUSE: unit length, mean centring, and chains of them."""

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin, _fit_context
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_is_fitted, validate_data

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


def _unit(X):
    norms = np.linalg.norm(X, axis=1, keepdims=True)
    # Zero rows stay zero rather than becoming NaN, as in VecMap's `normalize`.
    norms[norms == 0] = 1.0
    X /= norms


def _apply(X, steps, means, stds):
    """Apply ``steps`` in place, using the statistics in ``means``/``stds`` for centring steps."""
    it_mean, it_std = iter(means), iter(stds)
    for s in steps:
        if s == "unit":
            _unit(X)
        elif s == "center":
            X -= next(it_mean)
        else:  # unitdim
            X -= next(it_mean)
            X /= next(it_std)
    return X


def _fit_stats(X, steps):
    """Run ``steps`` on a copy of X and record the centring statistics each step used."""
    X = X.copy()
    means, stds = [], []
    for s in steps:
        if s == "unit":
            _unit(X)
        elif s == "center":
            mu = X.mean(axis=0)
            means.append(mu)
            X -= mu
        else:
            mu = X.mean(axis=0)
            sd = X.std(axis=0)
            sd[sd == 0] = 1.0
            means.append(mu)
            stds.append(sd)
            X -= mu
            X /= sd
    return means, stds


@validate_params({"X": ["array-like"], "steps": [str, tuple, list]}, prefer_skip_nested_validation=True)
def normalize_embeddings(X, steps=("unit", "center", "unit")):
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

    Returns
    -------
    X_norm : ndarray of shape (n_words, n_dims)
        A new float array; ``X`` is not modified.

    See Also
    --------
    EmbeddingNormalizer : The same as a scikit-learn transformer.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import normalize_embeddings
    >>> X = np.array([[3.0, 4.0], [1.0, 0.0]])
    >>> np.linalg.norm(normalize_embeddings(X), axis=1)
    array([1., 1.])
    """
    steps = _check_steps(steps)
    X = np.array(X, dtype=np.float64 if np.asarray(X).dtype != np.float32 else np.float32)
    if X.ndim != 2:
        raise ValueError(f"X must be a 2-D array of shape (n_words, n_dims). Got shape {X.shape} instead.")
    return EmbeddingNormalizer(steps=steps).fit_transform(X)


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

    _parameter_constraints = {"steps": [tuple, list, str]}

    def __init__(self, steps=("unit", "center", "unit")):
        self.steps = steps

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None):
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
        steps = _check_steps(self.steps)
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self.means_, self.stds_ = _fit_stats(X, steps)
        return self

    def transform(self, X):
        """Apply the normalisation chain.

        Parameters
        ----------
        X : array-like of shape (n_words, n_dims)
            Embeddings.

        Returns
        -------
        X_norm : ndarray of shape (n_words, n_dims)
            Normalised copy of ``X``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=[np.float64, np.float32], reset=False, copy=True)
        return _apply(X, _check_steps(self.steps), self.means_, self.stds_)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = True
        return tags
