"""Tests of ``EmbeddingNormalizer`` and ``normalize_embeddings`` (VecMap/MUSE normalisation)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone

from sklearn_l1align import EmbeddingNormalizer, normalize_embeddings


@pytest.fixture
def X():
    rng = np.random.default_rng(0)
    # An offset makes centring matter; a spread of norms makes "unit" matter.
    return rng.normal(size=(200, 12)) * rng.uniform(0.5, 5.0, size=(200, 1)) + 2.0


def _manual_unit_center_unit(X):
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    X = X - X.mean(axis=0)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def test_unit_center_unit_gives_unit_rows(X):
    Xn = normalize_embeddings(X)
    assert_allclose(np.linalg.norm(Xn, axis=1), 1.0, rtol=0, atol=1e-12)
    assert_allclose(Xn, _manual_unit_center_unit(X), rtol=0, atol=1e-12)


def test_center_step_gives_zero_mean_before_final_unit(X):
    Xc = normalize_embeddings(X, steps=("unit", "center"))
    assert_allclose(Xc.mean(axis=0), 0.0, atol=1e-14)
    # Not trivially zero: the input mean was far from zero.
    assert np.abs(X.mean(axis=0)).min() > 1.0
    # The final "unit" then rescales those rows, which moves the mean off zero again.
    Xn = normalize_embeddings(X, steps=("unit", "center", "unit"))
    assert_allclose(Xn, Xc / np.linalg.norm(Xc, axis=1, keepdims=True), atol=1e-12)


def test_unitdim_standardises_columns(X):
    Xd = normalize_embeddings(X, steps=("unitdim",))
    assert_allclose(Xd.mean(axis=0), 0.0, atol=1e-12)
    assert_allclose(Xd.std(axis=0), 1.0, atol=1e-12)


def test_zero_rows_stay_zero(X):
    X = X.copy()
    X[[3, 17]] = 0.0
    Xn = normalize_embeddings(X, steps=("unit",))
    assert not np.isnan(Xn).any()
    assert_array_equal(Xn[[3, 17]], 0.0)
    others = np.ones(len(X), dtype=bool)
    others[[3, 17]] = False
    assert_allclose(np.linalg.norm(Xn[others], axis=1), 1.0, atol=1e-12)
    # The full chain stays finite too (the centred zero rows are no longer zero).
    assert np.isfinite(normalize_embeddings(X)).all()


def test_transform_uses_fitted_means(X):
    train, held_out = X[:150], X[150:] + 5.0  # the held-out batch has a different mean
    norm = EmbeddingNormalizer(steps=("unit", "center")).fit(train)
    train_mean = (train / np.linalg.norm(train, axis=1, keepdims=True)).mean(axis=0)
    assert len(norm.means_) == 1
    assert_allclose(norm.means_[0], train_mean, atol=1e-14)
    out = norm.transform(held_out)
    expected = held_out / np.linalg.norm(held_out, axis=1, keepdims=True) - train_mean
    assert_allclose(out, expected, atol=1e-12)
    # ...which is not what refitting on the held-out batch would give.
    refit = EmbeddingNormalizer(steps=("unit", "center")).fit_transform(held_out)
    assert np.abs(out - refit).max() > 1e-3


def test_fit_transform_equals_fit_then_transform(X):
    norm = EmbeddingNormalizer()
    assert_allclose(norm.fit_transform(X), clone(norm).fit(X).transform(X), atol=1e-14)
    assert norm.n_features_in_ == X.shape[1]


def test_normalize_embeddings_does_not_mutate_input(X):
    before = X.copy()
    normalize_embeddings(X)
    assert_array_equal(X, before)
    X32 = X.astype(np.float32)
    before32 = X32.copy()
    out = normalize_embeddings(X32)
    assert_array_equal(X32, before32)
    assert out.dtype == np.float32


def test_transform_does_not_mutate_input(X):
    norm = EmbeddingNormalizer().fit(X)
    before = X.copy()
    norm.transform(X)
    assert_array_equal(X, before)


@pytest.mark.parametrize("steps", [("unit", "centre"), ("bogus",), "norm"])
def test_bad_step_name_raises(X, steps):
    with pytest.raises(ValueError, match="Unknown normalisation step"):
        normalize_embeddings(X, steps=steps)
    with pytest.raises(ValueError, match="Unknown normalisation step"):
        EmbeddingNormalizer(steps=steps).fit(X)


def test_single_string_step(X):
    assert_allclose(normalize_embeddings(X, steps="unit"), normalize_embeddings(X, steps=("unit",)))


def test_wrong_dimension_at_transform(X):
    norm = EmbeddingNormalizer().fit(X)
    with pytest.raises(ValueError, match="features"):
        norm.transform(X[:, :5])
