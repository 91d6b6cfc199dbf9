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


# ------------------------------------------------------------- extreme scales, copies
@pytest.mark.parametrize("scale", [1e20, 1e-25, 1e30, 1e-35])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_unit_step_at_extreme_scales(scale, dtype):
    rng = np.random.default_rng(0)
    base = rng.normal(size=(20, 300))
    X = (base * scale).astype(dtype)
    X[5] = 0.0
    with np.errstate(all="raise"):  # nothing overflows to inf or underflows to zero
        Xn = normalize_embeddings(X, steps=("unit",))
    assert Xn.dtype == dtype
    norms = np.linalg.norm(Xn.astype(np.float64), axis=1)
    assert_array_equal(Xn[5], 0.0)
    tol = 1e-6 if dtype == np.float32 else 1e-12
    assert_allclose(np.delete(norms, 5), 1.0, rtol=0, atol=tol)
    # The same directions as the moderate-scale rows (subnormal inputs lose a few digits).
    expected = normalize_embeddings(base.astype(dtype), steps=("unit",))
    assert_allclose(np.delete(Xn, 5, axis=0), np.delete(expected, 5, axis=0), rtol=0,
                    atol=2e-5 if scale < 1e-30 else 10 * tol)


def test_copy_false_works_in_place_with_the_same_result(X):
    X32 = X.astype(np.float32)
    expected = normalize_embeddings(X32)
    work = X32.copy()
    out = normalize_embeddings(work, copy=False)
    assert out is work
    assert_array_equal(out, expected)
    norm = EmbeddingNormalizer(copy=False)
    work = X32.copy()
    assert norm.fit_transform(work) is work
    again = X32.copy()
    assert norm.transform(again) is again
    assert_array_equal(again, expected)
    # copy=True (the default) never touches the input.
    kept = X32.copy()
    assert norm.transform(kept, copy=True) is not kept
    assert_array_equal(kept, X32)


def test_copy_false_on_read_only_input_copies(X):
    X32 = X.astype(np.float32)
    X32.flags.writeable = False
    out = normalize_embeddings(X32, copy=False)
    assert out is not X32
    assert_allclose(np.linalg.norm(out, axis=1), 1.0, atol=1e-6)


def _peak_allocation(fn):
    """Peak bytes NumPy allocates while ``fn()`` runs (NumPy reports to tracemalloc)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_memory_one_copy_or_none():
    """Issue 12: the chain ran twice with three copies. Now one copy (copy=True) or none."""
    rng = np.random.default_rng(0)
    X32 = (rng.normal(size=(40_000, 64)) + 1.0).astype(np.float32)  # 10 MB
    size = X32.nbytes
    in_place = _peak_allocation(lambda: normalize_embeddings(X32, copy=False))
    assert in_place < 0.25 * size  # scratch chunks and column statistics only
    one_copy = _peak_allocation(lambda: normalize_embeddings(X32))
    assert one_copy < 1.25 * size
    fitted = _peak_allocation(lambda: EmbeddingNormalizer().fit_transform(X32))
    assert fitted < 1.25 * size


def test_float32_stays_float32_and_matches_float64(X):
    out = normalize_embeddings(X.astype(np.float32))
    assert out.dtype == np.float32
    assert_allclose(out, normalize_embeddings(X), rtol=0, atol=2e-6)
