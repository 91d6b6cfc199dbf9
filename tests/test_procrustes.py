"""Tests of ``ProcrustesAligner`` (ℓ2 orthogonal Procrustes) and ``procrustes_rotation``."""

import warnings

import joblib
import numpy as np
import pytest
import scipy.sparse as sp
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_l1align import _threads as _threads_module
from scipy.linalg import expm, orthogonal_procrustes
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from _helpers import planted_problem, requires_shared_data
from sklearn_l1align import (
    CSLSDictionaryBuilder,
    EmbeddingNormalizer,
    ProcrustesAligner,
    normalize_embeddings,
    procrustes_rotation,
)
from sklearn_l1align.metrics import bli_precision


def _near_identity_rotation(d, angle, seed):
    """A rotation ``expm(S)`` with ``||S||_2 = angle``: the spaces are roughly aligned already."""
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    S = W - W.T
    return expm(angle * S / np.linalg.norm(S, 2))


def _pre_aligned(n=300, d=16, *, angle=0.3, noise=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    R = _near_identity_rotation(d, angle, seed)
    return X, X @ R + noise * rng.normal(size=(n, d)), R


# ----------------------------------------------------------------------------- oracles
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("shape", [(50, 5), (300, 20), (40, 40)])
def test_equals_scipy_orthogonal_procrustes(seed, shape):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=shape), rng.normal(size=shape)
    expected, _ = orthogonal_procrustes(X, Y)
    aligner = ProcrustesAligner(dictionary="paired").fit(X, Y)
    assert_allclose(aligner.rotation_, expected, rtol=0, atol=1e-10)
    assert_allclose(procrustes_rotation(X, Y), expected, rtol=0, atol=1e-10)
    assert_allclose(aligner.rotation_.T @ aligner.rotation_, np.eye(shape[1]), atol=1e-12)
    assert aligner.n_features_in_ == shape[1]
    assert_array_equal(aligner.dictionary_, np.column_stack([np.arange(shape[0])] * 2))


@pytest.mark.parametrize("seed", [0, 3])
def test_recovers_planted_rotation_without_noise(seed):
    X, Y, R = planted_problem(n=100, d=10, seed=seed)
    aligner = ProcrustesAligner(dictionary="paired").fit(X, Y)
    assert_allclose(aligner.rotation_, R, rtol=0, atol=1e-12)
    assert aligner.residuals_[0] < 1e-10


def test_pairs_with_different_row_counts():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(50, 6)), rng.normal(size=(80, 6))
    pairs = np.column_stack([rng.integers(0, 50, 40), rng.integers(0, 80, 40)])
    aligner = ProcrustesAligner().fit(X, Y, pairs=pairs)
    expected, _ = orthogonal_procrustes(X[pairs[:, 0]], Y[pairs[:, 1]])
    assert_allclose(aligner.rotation_, expected, atol=1e-10)
    assert_array_equal(aligner.dictionary_, pairs)
    assert aligner.dictionary_sizes_ == [40]


def test_pairs_recover_planted_rotation_among_distractors():
    # Only the paired rows obey Y = X R; the other rows of y are unrelated.
    X, Yp, R = planted_problem(n=60, d=8, seed=4)
    rng = np.random.default_rng(4)
    perm = rng.permutation(100)
    Y = rng.normal(size=(100, 8))
    Y[perm[:60]] = Yp
    pairs = np.column_stack([np.arange(60), perm[:60]])
    assert_allclose(ProcrustesAligner().fit(X, Y, pairs=pairs).rotation_, R, atol=1e-12)


def test_float32_input():
    X, Y, R = planted_problem(n=100, d=10, seed=1)
    aligner = ProcrustesAligner(dictionary="paired").fit(X.astype(np.float32), Y.astype(np.float32))
    assert_allclose(aligner.rotation_, R, atol=1e-5)
    assert aligner.transform(X.astype(np.float32)).dtype == np.float32


# ------------------------------------------------------------------ induced dictionary
def test_csls_dictionary_induces_pairs_and_recovers_rotation():
    X, Y, R = _pre_aligned(angle=0.3, seed=0)
    # Plain identity pairs would be the truth; check that the induction finds it.
    aligner = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None)).fit(X, Y)
    pairs = aligner.dictionary_
    assert len(pairs) >= 0.9 * len(X)
    assert_array_equal(pairs[:, 0], pairs[:, 1])
    assert_allclose(aligner.rotation_, R, atol=1e-10)


def test_induced_dictionary_is_the_builders():
    X, Y, _ = _pre_aligned(angle=0.6, noise=0.3, seed=1)
    builder = CSLSDictionaryBuilder(k=5, max_rank=None)
    aligner = ProcrustesAligner(dictionary=builder).fit(X, Y)
    pairs = builder.build(X, Y)
    assert_array_equal(aligner.dictionary_, pairs)
    assert_allclose(aligner.rotation_, procrustes_rotation(X[pairs[:, 0]], Y[pairs[:, 1]]), atol=1e-12)


def test_n_refinements_records_history_and_is_deterministic():
    X, Y, R = _pre_aligned(n=400, angle=1.2, noise=0.2, seed=2)
    builder = CSLSDictionaryBuilder(max_rank=None)
    a = ProcrustesAligner(dictionary=builder, n_refinements=3).fit(X, Y)
    assert 2 <= len(a.dictionary_sizes_) == len(a.residuals_) <= 4
    assert a.dictionary_sizes_[-1] == len(a.dictionary_)
    if len(a.residuals_) < 4:  # stopped early: the rounds reached the dictionary's fixed point
        assert_array_equal(builder.build(a.transform(X), Y), a.dictionary_)
    # The last residual is the Frobenius residual of the final pairs under the final map.
    A, B = X[a.dictionary_[:, 0]], Y[a.dictionary_[:, 1]]
    assert_allclose(a.residuals_[-1], np.linalg.norm(A @ a.rotation_ - B), rtol=1e-12)
    # Self-learning grows the dictionary and moves towards the planted rotation.
    a0 = ProcrustesAligner(dictionary=builder).fit(X, Y)
    assert a.dictionary_sizes_[-1] > a.dictionary_sizes_[0]
    assert np.linalg.norm(a.rotation_ - R) < np.linalg.norm(a0.rotation_ - R)
    b = ProcrustesAligner(dictionary=clone(builder), n_refinements=3).fit(X, Y)
    assert_array_equal(a.rotation_, b.rotation_)
    assert_array_equal(a.dictionary_, b.dictionary_)
    assert a.residuals_ == b.residuals_


def test_n_refinements_with_paired_raises():
    X, Y, _ = planted_problem(n=30, d=4)
    with pytest.raises(ValueError, match="n_refinements > 0 re-induces the dictionary"):
        ProcrustesAligner(n_refinements=1).fit(X, Y)


# --------------------------------------------------------------------------- transforms
def test_transform_and_inverse_round_trip():
    X, Y, R = planted_problem(n=80, d=7, noise=0.1, seed=5)
    aligner = ProcrustesAligner(dictionary="paired").fit(X, Y)
    rng = np.random.default_rng(9)
    Z = rng.normal(size=(13, 7))
    assert_allclose(aligner.transform(Z), Z @ aligner.rotation_, rtol=0, atol=0)
    assert_allclose(aligner.inverse_transform(aligner.transform(Z)), Z, atol=1e-12)
    assert_allclose(aligner.transform(aligner.inverse_transform(Z)), Z, atol=1e-12)
    # An orthogonal map preserves norms and angles.
    assert_allclose(np.linalg.norm(aligner.transform(Z), axis=1), np.linalg.norm(Z, axis=1))


def test_score_is_one_without_noise_and_lower_with_noise():
    X, Y, _ = planted_problem(n=200, d=8, seed=6)
    assert ProcrustesAligner(dictionary="paired").fit(X, Y).score(X, Y) == 1.0
    Xn, Yn, _ = planted_problem(n=200, d=8, noise=1.0, seed=6)
    noisy = ProcrustesAligner(dictionary="paired").fit(Xn, Yn).score(Xn, Yn)
    assert 0.0 < noisy < 0.9


def test_score_rejects_unpaired_rows():
    X, Y, _ = planted_problem(n=50, d=4)
    aligner = ProcrustesAligner(dictionary="paired").fit(X, Y)
    with pytest.raises(ValueError, match="same number of rows"):
        aligner.score(X, Y[:40])


# ------------------------------------------------------------------ scikit-learn API
def test_pipeline_transforms_x_only():
    X, Y, _ = planted_problem(n=100, d=6, noise=0.05, seed=7)
    Yn = normalize_embeddings(Y)
    pipe = Pipeline([("norm", EmbeddingNormalizer()), ("align", ProcrustesAligner(dictionary="paired"))]).fit(X, Yn)
    alone = ProcrustesAligner(dictionary="paired").fit(normalize_embeddings(X), Yn)
    assert_allclose(pipe.transform(X), alone.transform(normalize_embeddings(X)), atol=1e-12)
    assert 0.0 <= pipe.score(X, Yn) <= 1.0


def test_clone_keeps_params_and_drops_fit():
    builder = CSLSDictionaryBuilder(k=7, direction="union")
    aligner = ProcrustesAligner(dictionary=builder, n_refinements=2)
    X, Y, _ = _pre_aligned(n=100, d=8, seed=3)
    aligner.fit(X, Y)
    c = clone(aligner)
    assert c.get_params()["dictionary__k"] == 7
    assert c.get_params()["dictionary__direction"] == "union"
    assert c.dictionary is not builder
    assert not hasattr(c, "rotation_")


def test_grid_search_tunes_dictionary_k():
    X, Y, _ = _pre_aligned(n=300, d=16, angle=0.3, noise=0.05, seed=4)
    search = GridSearchCV(
        ProcrustesAligner(dictionary=CSLSDictionaryBuilder()),
        {"dictionary__k": [5, 10]},
        cv=KFold(3, shuffle=True, random_state=0),
        error_score="raise",
    ).fit(X, Y)
    assert search.best_params_["dictionary__k"] == search.cv_results_["params"][
        int(np.argmax(search.cv_results_["mean_test_score"]))]["dictionary__k"]
    assert search.best_estimator_.dictionary.k == search.best_params_["dictionary__k"]
    assert 0.9 <= search.best_score_ <= 1.0


def test_joblib_round_trip(tmp_path):
    X, Y, _ = _pre_aligned(n=200, d=8, angle=0.4, noise=0.1, seed=5)
    aligner = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(k=5), n_refinements=1).fit(X, Y)
    path = tmp_path / "aligner.joblib"
    joblib.dump(aligner, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.transform(X), aligner.transform(X))
    assert_array_equal(loaded.dictionary_, aligner.dictionary_)
    assert loaded.get_params()["dictionary__k"] == 5


# ------------------------------------------------------------------------------ errors
@pytest.fixture
def XY():
    X, Y, _ = planted_problem(n=20, d=4, seed=8)
    return X, Y


def test_error_dimension_mismatch(XY):
    X, Y = XY
    with pytest.raises(ValueError, match=r"same number of features .* Got 4 and 3 instead"):
        ProcrustesAligner(dictionary="paired").fit(X, Y[:, :3])


def test_error_row_mismatch_without_pairs(XY):
    X, Y = XY
    with pytest.raises(ValueError, match="need the same number of rows. Got 20 and 10 instead"):
        ProcrustesAligner(dictionary="paired").fit(X, Y[:10])


@pytest.mark.parametrize(
    "pairs, fragment",
    [
        ([[0, 25]], r"pairs\[:, 1\] indexes the target rows, so it must be < 20. Got 25"),
        ([[21, 0]], r"pairs\[:, 0\] indexes the source rows, so it must be < 20. Got 21"),
        ([[-1, 2]], r"non-negative row indices. Got \[-1, 2\]"),
        ([[0, 1, 2]], r"shape \(n_pairs, 2\).* Got shape \(1, 3\)"),
        ([0, 1], r"shape \(n_pairs, 2\).* Got shape \(2,\)"),
        ([[0.5, 1]], "integer row indices"),
        (np.empty((0, 2), dtype=int), "pairs is empty"),
    ],
)
def test_error_bad_pairs(XY, pairs, fragment):
    X, Y = XY
    with pytest.raises(ValueError, match=fragment):
        ProcrustesAligner().fit(X, Y, pairs=pairs)


def test_error_y_none(XY):
    with pytest.raises(ValueError, match="target-language embeddings.*ProcrustesAligner requires y to be passed"):
        ProcrustesAligner(dictionary="paired").fit(XY[0], None)


def test_error_y_1d(XY):
    X, Y = XY
    with pytest.raises(ValueError, match=r"y must be a 2-D array.*Got an array of shape \(20,\)"):
        ProcrustesAligner(dictionary="paired").fit(X, Y[:, 0])


@pytest.mark.parametrize("which", ["X", "y"])
def test_error_sparse(XY, which):
    X, Y = XY
    args = (sp.csr_matrix(X), Y) if which == "X" else (X, sp.csr_matrix(Y))
    with pytest.raises(TypeError, match=f"Sparse data was passed for {which}"):
        ProcrustesAligner(dictionary="paired").fit(*args)


@pytest.mark.parametrize("which", ["X", "y"])
def test_error_complex(XY, which):
    X, Y = XY
    args = (X.astype(complex), Y) if which == "X" else (X, Y.astype(complex))
    with pytest.raises(ValueError, match="Complex data not supported"):
        ProcrustesAligner(dictionary="paired").fit(*args)


@pytest.mark.parametrize("which", ["X", "y"])
@pytest.mark.parametrize("bad, fragment", [(np.nan, "contains NaN"), (np.inf, "contains infinity")])
def test_error_not_finite(XY, which, bad, fragment):
    X, Y = (a.copy() for a in XY)
    (X if which == "X" else Y)[3, 1] = bad
    with pytest.raises(ValueError, match=f"Input {which} {fragment}"):
        ProcrustesAligner(dictionary="paired").fit(X, Y)


def test_error_transform_wrong_dimension(XY):
    X, Y = XY
    aligner = ProcrustesAligner(dictionary="paired").fit(X, Y)
    with pytest.raises(ValueError, match="X has 3 features, but ProcrustesAligner is expecting 4"):
        aligner.transform(X[:, :3])
    with pytest.raises(ValueError, match="Got 3 and 4 instead"):
        aligner.inverse_transform(X[:, :3])


def test_error_bad_dictionary_param(XY):
    with pytest.raises(ValueError, match="'dictionary' parameter of ProcrustesAligner"):
        ProcrustesAligner(dictionary="csls").fit(*XY)


# --------------------------------------------------------------------------- real data
def _real_l2(real_embeddings, real_dictionaries, src, tgt):
    Xs = normalize_embeddings(real_embeddings[src][1], steps=("unit", "center", "unit"))
    Xt = normalize_embeddings(real_embeddings[tgt][1], steps=("unit", "center", "unit"))
    train = real_dictionaries[src, tgt, "train"]
    test = real_dictionaries[src, tgt, "test"]
    assert len(np.unique(train[:, 0])) == 5000 and len(np.unique(test[:, 0])) == 1500
    mapped = ProcrustesAligner().fit(Xs, Xt, pairs=train).transform(Xs)
    nn = bli_precision(mapped, Xt, test, k=1, method="nn")
    csls = bli_precision(mapped, Xt, test, k=1, method="csls", csls_k=10)
    assert nn.n_queries == csls.n_queries == 1500
    return nn.precision[1], csls.precision[1]


@requires_shared_data
@pytest.mark.realdata
@pytest.mark.parametrize(
    "src, tgt, nn_p1, csls_p1",
    # data/README.md's reference numbers: all 20,000 rows, unit → center → unit.
    [("fr", "ru", 0.374, 0.451), ("ru", "fr", 0.453, 0.467)],
)
def test_real_data_l2_reference_numbers(real_embeddings, real_dictionaries, src, tgt, nn_p1, csls_p1):
    nn, csls = _real_l2(real_embeddings, real_dictionaries, src, tgt)
    assert nn == pytest.approx(nn_p1, abs=0.005)
    assert csls == pytest.approx(csls_p1, abs=0.005)


def test_fixed_point_stops_the_rounds():
    X, Y, _ = _pre_aligned(n=300, angle=0.3, noise=0.05, seed=11)
    builder = CSLSDictionaryBuilder(max_rank=None)
    a = ProcrustesAligner(dictionary=builder, n_refinements=20).fit(X, Y)
    assert len(a.residuals_) < 21
    assert_array_equal(builder.build(a.transform(X), Y), a.dictionary_)


# --------------------------------------------------------------- issue 11 and issue 12
def test_unpaired_default_warns_naming_pairs():
    X, Y, _ = planted_problem(n=60, d=4, seed=12)
    with pytest.warns(UserWarning, match="pass the seed dictionary as pairs="):
        ProcrustesAligner().fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ProcrustesAligner(dictionary="paired").fit(X, Y)
        ProcrustesAligner().fit(X, Y, pairs=[[0, 0], [1, 1], [2, 2], [3, 3], [4, 4]])


def test_score_with_pairs_is_full_vocabulary_bli():
    X, Y, _ = planted_problem(n=300, d=10, noise=0.4, seed=13)
    pairs = np.column_stack([np.arange(100), np.arange(100)])
    aligner = ProcrustesAligner().fit(X, Y, pairs=pairs)
    test = np.column_stack([np.arange(100, 300), np.arange(100, 300)])
    expected = bli_precision(aligner.transform(X), Y, test, k=1).precision[1]
    assert aligner.score(X, Y, pairs=test) == expected
    # Paired rows only compete among themselves: a different, optimistic number.
    assert aligner.score(X[100:], Y[100:]) > expected


def test_set_output_pandas_in_a_pipeline():
    pd = pytest.importorskip("pandas")
    X, Y, _ = planted_problem(n=50, d=4, seed=14)
    pipe = Pipeline([("norm", EmbeddingNormalizer()), ("l2", ProcrustesAligner(dictionary="paired"))])
    pipe.set_output(transform="pandas")
    out = pipe.fit(X, normalize_embeddings(Y)).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == [f"procrustesaligner{i}" for i in range(4)]
    with pytest.warns(UserWarning, match="fitted with feature names"):  # as any sklearn step
        plain = pipe.set_output(transform="default").transform(X)
    assert_allclose(out.to_numpy(), plain)


def test_fit_does_not_depend_on_the_blas_thread_count():
    # The ℓ2 step, the re-induced dictionaries and the polar step give the same map
    # whether the caller runs BLAS on one thread or two (issue 11, item 7).
    from sklearn_l1align import CSLSDictionaryBuilder
    from sklearn_l1align._threads import blas_threads

    rng = np.random.default_rng(3)
    X = rng.normal(size=(3000, 40)).astype(np.float32)
    Q = np.linalg.qr(rng.normal(size=(40, 40)))[0]
    Y = (X @ Q + 0.3 * rng.normal(size=X.shape)).astype(np.float32)
    seed = np.column_stack([np.arange(300), np.arange(300)])
    maps = []
    for n in (1, 2):
        with blas_threads(n):
            aligner = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None),
                                        n_refinements=2).fit(X, Y, pairs=seed)
        maps.append((aligner.rotation_, aligner.dictionary_))
    np.testing.assert_array_equal(maps[0][0], maps[1][0])
    np.testing.assert_array_equal(maps[0][1], maps[1][1])


# ------------------------------------------------------------------- residual, fast paths
def _noisy_pairs(noise, dtype, n=2000, d=50, seed=21):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(n, d))
    A /= np.linalg.norm(A, axis=1, keepdims=True)
    Q = np.linalg.qr(rng.normal(size=(d, d)))[0]
    B = A @ Q + noise * rng.normal(size=(n, d)) / np.sqrt(d)
    return A.astype(dtype), B.astype(dtype)


@pytest.mark.parametrize("noise", [1.0, 0.3, 0.05, 0.0])
@pytest.mark.parametrize("dtype, rtol", [(np.float64, 1e-12), (np.float32, 2e-6)])
def test_residual_equals_the_exact_product_norm(noise, dtype, rtol):
    # Large residuals come from ||A||² + ||B||² − 2Σσ, small ones from the product; either way
    # the figure is ||AM − B||_F, computed here in float64 from the same (rounded) inputs.
    A, B = _noisy_pairs(noise, dtype)
    aligner = ProcrustesAligner(dictionary="paired").fit(A, B)
    M = aligner.rotation_
    exact = np.linalg.norm(A.astype(np.float64) @ M - B.astype(np.float64))
    if noise == 0.0:
        assert aligner.residuals_[0] < (1e-12 if dtype == np.float64 else 1e-4)
    else:
        assert_allclose(aligner.residuals_[0], exact, rtol=rtol)


def test_large_residual_needs_no_product():
    from sklearn_l1align._procrustes import _frobenius_residual, _procrustes

    A, B = _noisy_pairs(1.0, np.float64)
    M, nuclear = _procrustes(A, B)
    # M=None: the identity path must not touch M (it would fail on the product).
    assert_allclose(_frobenius_residual(A, B, None, nuclear), np.linalg.norm(A @ M - B), rtol=1e-12)
    A, B = _noisy_pairs(0.05, np.float64)
    M, nuclear = _procrustes(A, B)
    with pytest.raises(AttributeError):  # a small residual is formed from the product
        _frobenius_residual(A, B, None, nuclear)


def test_float32_rotation_is_orthogonal_and_near_the_float64_one():
    A, B = _noisy_pairs(0.5, np.float64)
    M64 = procrustes_rotation(A, B)
    M32 = procrustes_rotation(A.astype(np.float32), B.astype(np.float32))
    assert M32.dtype == np.float64
    assert_allclose(M32.T @ M32, np.eye(M32.shape[0]), atol=1e-12)
    assert_allclose(M32, M64, atol=1e-5)


def test_fit_transform_equals_fit_then_transform_and_checks_x():
    X, Y, _ = planted_problem(n=60, d=6, seed=22)
    pairs = np.column_stack([np.arange(40)] * 2)
    expected = ProcrustesAligner().fit(X, Y, pairs=pairs).transform(X)
    assert_array_equal(ProcrustesAligner().fit_transform(X, Y, pairs=pairs), expected)
    pipe = Pipeline([("l2", ProcrustesAligner()), ("l1", ProcrustesAligner(dictionary="paired"))])
    assert pipe.fit(X, Y, l2__pairs=pairs, l1__pairs=pairs).transform(X).shape == X.shape
    bad = X.copy()
    bad[50, 2] = np.nan  # a row outside the pairs: still refused
    with pytest.raises(ValueError, match="NaN"):
        ProcrustesAligner().fit_transform(bad, Y, pairs=pairs)


# ------------------------------------------------------------ float32 fast path (issue 12)
@pytest.mark.parametrize("n, d, blocks", [(1920, 420, True), (5000, 300, True),
                                          (9000, 200, True), (2001, 500, True),
                                          (1536, 300, False), (4057, 64, False)])
def test_float32_cross_product_is_the_one_thread_block_loop_at_any_threads(n, d, blocks):
    # Oracle: the fixed row blocks, each one single-thread GEMM, added in order (the last
    # block is shorter, or absent); a product under MEASURE_MIN_FLOPS is one single-thread
    # GEMM. At one caller thread or two, the product has exactly those bits, and it is
    # AᵀB within float32 rounding.
    from sklearn_l1align import _procrustes as module
    from sklearn_l1align._threads import blas_threads, single_blas_thread

    rng = np.random.default_rng(n)
    A = rng.normal(size=(n, d)).astype(np.float32)
    B = rng.normal(size=(n, d)).astype(np.float32)
    assert (2.0 * n * d * d >= module.MEASURE_MIN_FLOPS) == blocks
    oracle = np.zeros((d, d), dtype=np.float32)
    rows = module.CROSS_PRODUCT_ROWS if blocks else n
    with single_blas_thread():
        for a in range(0, n, rows):
            oracle += A[a:a + rows].T @ B[a:a + rows]
    for threads in (1, 2):
        with blas_threads(threads):
            got = module._cross_product(A, B)
        assert got.dtype == np.float32
        assert_array_equal(got, oracle)
    assert_allclose(oracle, A.astype(np.float64).T @ B.astype(np.float64),
                    rtol=0, atol=2e-5 * np.sqrt(n))


@pytest.mark.skipif(_threads_module.max_blas_threads() < 2, reason="needs two usable cores")
@pytest.mark.parametrize("n, d", [(5000, 300), (2001, 500)])
def test_float32_cross_product_on_python_threads_has_the_single_thread_bits(
        monkeypatch, n, d):
    # The blocks run at one BLAS thread, two at once on Python threads, added in order:
    # one after another or two at once, the product is the one computed at one thread.
    import threading

    from sklearn_l1align import _procrustes as module
    from sklearn_l1align import _threads
    from sklearn_l1align._threads import blas_threads

    rng = np.random.default_rng(n)
    A = rng.normal(size=(n, d)).astype(np.float32)
    B = rng.normal(size=(n, d)).astype(np.float32)
    with blas_threads(1):
        reference = module._cross_product(A, B)
    real, idents = module._FastestSplit, set()
    real_matmul = np.matmul

    def matmul(*args, **kwargs):
        idents.add(threading.get_ident())
        return real_matmul(*args, **kwargs)

    for k in (1, 2):
        idents.clear()
        monkeypatch.setattr(module, "_FastestSplit", lambda candidates, k=k: real(candidates=(k,)))
        with blas_threads(2):
            monkeypatch.setattr(np, "matmul", matmul)
            try:
                got = module._cross_product(A, B)
            finally:
                monkeypatch.setattr(np, "matmul", real_matmul)
        assert_array_equal(got, reference)
        assert len(idents) == k  # two Python threads when two blocks run at once


def test_float32_fit_is_deterministic_and_near_the_float64_fit():
    # The float32 path (blocked AᵀB, float32 SVD, one Newton–Schulz step) against float64:
    # an orthogonal map within the inputs' rounding, the same map on every call, and
    # residuals_ from the trace identity within float32 accuracy.
    A, B = _noisy_pairs(0.5, np.float64, n=6000, d=120)
    fit32 = [ProcrustesAligner(dictionary="paired").fit(A.astype(np.float32), B.astype(np.float32))
             for _ in range(2)]
    fit64 = ProcrustesAligner(dictionary="paired").fit(A, B)
    assert_array_equal(fit32[0].rotation_, fit32[1].rotation_)
    M = fit32[0].rotation_
    assert_allclose(M.T @ M, np.eye(120), atol=1e-12)
    assert_allclose(M, fit64.rotation_, atol=1e-5)
    assert_allclose(fit32[0].residuals_[0], fit64.residuals_[0], rtol=2e-6)
