"""scikit-learn's estimator checks over every public estimator, with one table of expected failures.

The aligners learn a map between two embedding spaces: ``y`` is the matrix of target
embeddings, of the same dimension as ``X``. scikit-learn's generic checks build ``y`` as
class labels or regression targets, 1-D or (for multi-output estimators) of shape
``(n_samples, 1)``, which an aligner must refuse. Each check that fails only for that
reason is listed in ``EXPECTED_FAILED_CHECKS``; the property it would have checked is
tested below with a proper target matrix (``test_adapted_*``), so nothing goes untested.
``xfail_strict=True`` turns a listed check that starts passing into a failure, so the
table cannot go stale.
"""

import inspect
import pickle

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import BaseEstimator, clone
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import make_pipeline
from sklearn.utils.estimator_checks import parametrize_with_checks

import sklearn_l1align
from sklearn_l1align import L1ProcrustesAligner, ProcrustesAligner, StiefelFlowSolver

from _helpers import planted_problem

#: Constructor arguments for estimators whose defaults are too slow for the generic checks.
_FAST_INSTANCES = {
    # The checks' X and y are paired rows; say so, as the warning for an unpaired default asks.
    "ProcrustesAligner": lambda: ProcrustesAligner(dictionary="paired"),
    # The Cayley integrator over a short horizon: the same code paths as the paper's VODE
    # flow, in milliseconds. "paired" because the checks' data is not two embedding spaces.
    "L1ProcrustesAligner": lambda: L1ProcrustesAligner(
        dictionary="paired", solver=StiefelFlowSolver(integrator="cayley", max_time=1e-4)
    ),
}


def _public_estimators():
    """Every class in ``sklearn_l1align.__all__`` that is a scikit-learn estimator with ``fit``."""
    found = []
    for name in sklearn_l1align.__all__:
        obj = getattr(sklearn_l1align, name)
        if inspect.isclass(obj) and issubclass(obj, BaseEstimator) and hasattr(obj, "fit"):
            found.append(_FAST_INSTANCES.get(name, obj)())
    return found


ESTIMATORS = _public_estimators()

_Y_IS_NOT_TARGET_EMBEDDINGS = (
    "y must be the target embedding matrix, of the same dimension as X; the check passes "
    "labels or a (n_samples, 1) target, so fit rightly raises a dimension error"
)
_Y_IS_1D = (
    "the transformer checks pass a 1-D y; an aligner needs y as a 2-D target embedding "
    "matrix, so fit rightly raises"
)
_NEEDS_TARGET_MATRIX = {
    # Checks that fit with y of shape (n_samples, 1) and X with more columns.
    "check_fit_score_takes_y": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_estimators_overwrite_params": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_dont_overwrite_parameters": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_estimators_fit_returns_self": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_readonly_memmap_input": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_n_features_in_after_fitting": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_positive_only_tag_during_fit": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_estimators_dtypes": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_dtype_object": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_pipeline_consistency": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_estimators_nan_inf": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_estimators_pickle": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_f_contiguous_array_estimator": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_methods_sample_order_invariance": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_methods_subset_invariance": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_fit2d_1sample": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_dict_unchanged": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_fit_idempotent": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_fit_check_is_fitted": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_n_features_in": _Y_IS_NOT_TARGET_EMBEDDINGS,
    "check_fit2d_predict1d": _Y_IS_NOT_TARGET_EMBEDDINGS,
    # Transformer checks that fit with a 1-D y.
    "check_transformer_data_not_an_array": _Y_IS_1D,
    "check_transformer_general": _Y_IS_1D,
    "check_transformer_preserve_dtypes": _Y_IS_1D,
}

#: The one table of expected failures: {estimator class name: {check name: reason}}.
EXPECTED_FAILED_CHECKS = {
    "ProcrustesAligner": dict(_NEEDS_TARGET_MATRIX),
    "L1ProcrustesAligner": dict(_NEEDS_TARGET_MATRIX),
    "EmbeddingNormalizer": {},
}


def _expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS[type(estimator).__name__]


def test_discovery_finds_every_public_estimator():
    names = {type(e).__name__ for e in ESTIMATORS}
    assert names == {"ProcrustesAligner", "L1ProcrustesAligner", "EmbeddingNormalizer"}
    # The table has a row for each estimator checked, and no row for anything else.
    assert set(EXPECTED_FAILED_CHECKS) == names


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=_expected_failed_checks, xfail_strict=True)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)


# ---------------------------------------------------------------------------------------------
# The listed checks' properties, with y a target embedding matrix of the same dimension as X.
ALIGNERS = [e for e in ESTIMATORS if type(e).__name__ in ("ProcrustesAligner", "L1ProcrustesAligner")]
_ids = [type(e).__name__ for e in ALIGNERS]


@pytest.fixture
def problem():
    X, Y, _ = planted_problem(n=60, d=5, noise=0.05, seed=11)
    return X, Y


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_fit_returns_self_and_does_not_touch_params(estimator, problem):
    X, Y = problem
    est = clone(estimator)
    params = est.get_params(deep=False)
    before = pickle.dumps(params)
    assert est.fit(X, Y) is est
    assert pickle.dumps(est.get_params(deep=False)) == before
    # Fitting adds only trailing-underscore attributes (check_dont_overwrite_parameters).
    public = {k for k in vars(est) if not k.startswith("_") and not k.endswith("_")}
    assert public == set(params)
    assert est.n_features_in_ == X.shape[1]


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_fit_is_idempotent_and_dict_unchanged(estimator, problem):
    X, Y = problem
    est = clone(estimator).fit(X, Y)
    first = est.transform(X)
    state = dict(vars(est))
    est.transform(X)
    est.score(X, Y)
    assert vars(est).keys() == state.keys()
    assert_array_equal(est.rotation_, state["rotation_"])
    assert_array_equal(est.fit(X, Y).transform(X), first)


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_dtypes_memmap_and_contiguity(estimator, problem, tmp_path):
    X, Y = problem
    ref = clone(estimator).fit(X, Y)
    for dtype, atol in ((np.float32, 1e-4), (np.float64, 1e-12)):
        est = clone(estimator).fit(X.astype(dtype), Y.astype(dtype))
        assert est.transform(X.astype(dtype)).dtype == dtype
        assert_allclose(est.rotation_, ref.rotation_, atol=atol)
    est = clone(estimator).fit(np.asfortranarray(X), np.asfortranarray(Y))
    assert_allclose(est.rotation_, ref.rotation_, atol=1e-12)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "Y.npy", Y)
    Xm = np.load(tmp_path / "X.npy", mmap_mode="r")
    Ym = np.load(tmp_path / "Y.npy", mmap_mode="r")
    assert_allclose(clone(estimator).fit(Xm, Ym).transform(Xm), ref.transform(X), atol=1e-12)


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_object_dtype_and_not_finite(estimator, problem):
    X, Y = problem
    ref = clone(estimator).fit(X, Y)
    assert_allclose(clone(estimator).fit(X.astype(object), Y.astype(object)).rotation_,
                    ref.rotation_, atol=1e-12)
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        clone(estimator).fit(bad, Y)
    with pytest.raises(ValueError, match="Input X contains NaN"):
        ref.transform(bad)


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_unfitted_one_sample_and_1d(estimator, problem):
    X, Y = problem
    est = clone(estimator)
    with pytest.raises(NotFittedError):
        est.transform(X)
    est.fit(X[:1], Y[:1])  # a single pair is a valid (if weak) dictionary
    assert_allclose(est.rotation_.T @ est.rotation_, np.eye(X.shape[1]), atol=1e-8)
    with pytest.raises(ValueError, match="Expected 2D array"):
        est.transform(X[0])
    with pytest.raises(ValueError, match="expecting 5 features"):
        est.transform(X[:, :4])


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_sample_order_and_subset_invariance(estimator, problem):
    X, Y = problem
    est = clone(estimator).fit(X, Y)
    out = est.transform(X)
    perm = np.random.default_rng(0).permutation(len(X))
    assert_allclose(est.transform(X[perm]), out[perm], atol=1e-12)
    assert_allclose(np.vstack([est.transform(X[i:i + 7]) for i in range(0, len(X), 7)]), out,
                    atol=1e-12)


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_pickle_and_pipeline(estimator, problem):
    X, Y = problem
    est = clone(estimator).fit(X, Y)
    loaded = pickle.loads(pickle.dumps(est))
    assert_array_equal(loaded.transform(X), est.transform(X))
    pipe = make_pipeline(clone(estimator)).fit(X, Y)
    assert_array_equal(pipe.transform(X), est.transform(X))
    assert pipe.score(X, Y) == est.score(X, Y)


@pytest.mark.parametrize("estimator", ALIGNERS, ids=_ids)
def test_adapted_fit_transform_equals_fit_then_transform(estimator, problem):
    X, Y = problem
    assert_allclose(clone(estimator).fit_transform(X, Y), clone(estimator).fit(X, Y).transform(X),
                    atol=1e-12)
