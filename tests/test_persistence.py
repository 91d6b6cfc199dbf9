"""Persistence: joblib round trips of fitted estimators, and pickle-free mapping files.

joblib and pickle files can run arbitrary code when loaded: only load files you
trust. ``save_mapping``/``load_mapping`` store the rotation without pickle.
"""

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.pipeline import Pipeline

from sklearn_l1align import (
    CSLSDictionaryBuilder,
    EmbeddingNormalizer,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    StopReason,
)
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.gensim import keyed_vectors_from_arrays, transform_keyed_vectors
from sklearn_l1align.io import load_mapping, save_mapping

N = 1000
SHORT_CAYLEY = dict(integrator="cayley", max_time=5e-4)


@pytest.fixture(scope="module")
def data():
    """The first 1,000 normalised words of each demo space and the seed pairs among them."""
    demo = load_demo()
    X = EmbeddingNormalizer().fit_transform(demo.src_vectors[:N])
    Y = EmbeddingNormalizer().fit_transform(demo.tgt_vectors[:N])
    pairs = demo.train_pairs[(demo.train_pairs < N).all(axis=1)]
    return X, Y, pairs, demo.src_words[:N]


def _round_trip(obj, tmp_path, name="model.joblib"):
    path = tmp_path / name
    joblib.dump(obj, path)
    return joblib.load(path)


def _fitted_aligners(X, Y, pairs):
    return {
        "procrustes": ProcrustesAligner().fit(X, Y, pairs=pairs),
        "procrustes_refined": ProcrustesAligner(
            dictionary=CSLSDictionaryBuilder(), n_refinements=1).fit(X, Y, pairs=pairs),
        "l1_cayley": L1ProcrustesAligner(solver=StiefelFlowSolver(**SHORT_CAYLEY)).fit(X, Y),
        "l1_huber": L1ProcrustesAligner(
            solver=HuberContinuationSolver(subgradient_iter=5, n_stages=1, stage_iter=5)).fit(X, Y),
    }


def test_joblib_round_trip_of_fitted_aligners(data, tmp_path):
    X, Y, pairs, _ = data
    for name, est in _fitted_aligners(X, Y, pairs).items():
        loaded = _round_trip(est, tmp_path, f"{name}.joblib")
        assert type(loaded) is type(est)
        assert_array_equal(loaded.transform(X), est.transform(X))
        assert_array_equal(loaded.inverse_transform(Y), est.inverse_transform(Y))
        assert_array_equal(loaded.rotation_, est.rotation_)
        assert_array_equal(loaded.dictionary_, est.dictionary_)
        assert loaded.dictionary_sizes_ == est.dictionary_sizes_
        assert loaded.get_params(deep=False).keys() == est.get_params(deep=False).keys()
        if name.startswith("l1"):
            assert isinstance(loaded.solver_result_.stop_reason, StopReason)
            assert loaded.solver_result_.stop_reason == est.solver_result_.stop_reason
            assert_array_equal(loaded.loss_curve_, est.loss_curve_)
            assert loaded.n_iter_ == est.n_iter_
            assert loaded.refinement_losses_ == est.refinement_losses_


def test_joblib_round_trip_of_normalizer(data, tmp_path):
    X = data[0]
    rng = np.random.default_rng(0)
    raw = rng.normal(size=(200, 300)) + 0.5
    est = EmbeddingNormalizer().fit(raw)
    loaded = _round_trip(est, tmp_path)
    assert_array_equal(loaded.transform(X), est.transform(X))
    for a, b in zip(loaded.means_, est.means_):
        assert_array_equal(a, b)


def test_joblib_round_trip_of_dictionary_builder(data, tmp_path):
    X, Y, _, _ = data
    builder = CSLSDictionaryBuilder(k=5, direction="union", max_rank=800)
    loaded = _round_trip(builder, tmp_path)
    assert loaded.get_params() == builder.get_params()
    assert_array_equal(loaded.build(X, Y), builder.build(X, Y))


@pytest.mark.filterwarnings("ignore:max_iter=20:sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("solver", [
    StiefelFlowSolver(integrator="cayley", max_time=5e-4),
    StiefelFlowSolver(max_time=2e-6),
    HuberContinuationSolver(subgradient_iter=5, n_stages=2, stage_iter=5),
    RiemannianSubgradientSolver(max_iter=20),
], ids=["cayley", "vode", "huber", "subgradient"])
def test_joblib_round_trip_of_solvers(solver, tmp_path):
    rng = np.random.default_rng(0)
    A = rng.normal(size=(150, 12))
    B = A @ np.linalg.qr(rng.normal(size=(12, 12)))[0] + 0.05 * rng.normal(size=(150, 12))
    loaded = _round_trip(solver, tmp_path)
    assert loaded.get_params() == solver.get_params()
    before, after = solver.solve(A, B), loaded.solve(A, B)
    assert_array_equal(after.rotation, before.rotation)
    assert after.stop_reason == before.stop_reason
    # The result object itself survives a round trip too.
    result = _round_trip(before, tmp_path, "result.joblib")
    assert_array_equal(result.rotation, before.rotation)
    assert result.stop_reason is before.stop_reason and result.message == before.message


def test_joblib_round_trip_of_fitted_pipeline(data, tmp_path):
    X, Y, pairs, _ = data
    pipe = Pipeline([
        ("norm", EmbeddingNormalizer()),
        ("l2", ProcrustesAligner()),
        ("l1", L1ProcrustesAligner(solver=StiefelFlowSolver(**SHORT_CAYLEY))),
    ]).fit(X, Y, l2__pairs=pairs)
    loaded = _round_trip(pipe, tmp_path)
    assert_array_equal(loaded.transform(X), pipe.transform(X))
    assert_array_equal(loaded["l1"].rotation_, pipe["l1"].rotation_)


def test_save_load_mapping_from_fitted_estimator(data, tmp_path):
    X, Y, pairs, words = data
    est = ProcrustesAligner().fit(X, Y, pairs=pairs)
    l1 = L1ProcrustesAligner(solver=StiefelFlowSolver(**SHORT_CAYLEY)).fit(est.transform(X), Y)
    rotation = est.rotation_ @ l1.rotation_
    path = tmp_path / "fr-ru.mapping.npz"
    save_mapping(path, rotation, metadata={"src_lang": "fr", "tgt_lang": "ru",
                                           "stop_reason": l1.solver_result_.stop_reason.value})
    loaded, metadata = load_mapping(path)
    assert_array_equal(loaded, rotation)
    assert loaded.dtype == rotation.dtype
    assert metadata == {"src_lang": "fr", "tgt_lang": "ru",
                        "stop_reason": l1.solver_result_.stop_reason.value}
    # The loaded matrix is a usable transform: gensim adapters take it directly.
    kv = keyed_vectors_from_arrays(words, X)
    by_matrix = transform_keyed_vectors(kv, loaded)
    by_estimators = l1.transform(est.transform(X))
    assert by_matrix.index_to_key == words
    assert_allclose(by_matrix.vectors, by_estimators, atol=1e-6)


class _Payload:
    """Unpickling this would record that code ran."""

    ran = False

    def __reduce__(self):
        return (_mark_ran, ())


def _mark_ran():
    _Payload.ran = True
    return np.eye(2)


def test_load_mapping_never_unpickles(tmp_path):
    path = tmp_path / "evil.npz"
    # np.savez pickles object arrays; load_mapping must refuse them without unpickling.
    np.savez(path, format=np.str_("sklearn_l1align.mapping"), format_version=np.int64(1),
             rotation=np.array([_Payload()], dtype=object), metadata=np.str_("{}"))
    with pytest.raises(ValueError, match="evil.npz"):
        load_mapping(path)
    assert _Payload.ran is False


def test_load_mapping_checks_orthogonality(tmp_path):
    path = tmp_path / "skew.npz"
    save_mapping(path, np.eye(3))
    with np.load(path) as archive:
        arrays = dict(archive)
    arrays["rotation"] = np.array([[1.0, 0.1, 0], [0, 1, 0], [0, 0, 1]])
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match="orthogonal"):
        load_mapping(path)
