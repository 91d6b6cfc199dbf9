"""Tests of ``align_many``: loky and dask.distributed give the sequential results, in task order."""

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from _helpers import planted_problem
from sklearn_l1align import (
    CSLSDictionaryBuilder,
    EmbeddingNormalizer,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    ProcrustesAligner,
    StiefelFlowSolver,
)
from sklearn_l1align.parallel import align_many

#: Same process or not, the same arithmetic on the same inputs: only BLAS threading could
#: change the last bits, and these matrices are below OpenBLAS's threading threshold.
TOL = 1e-12


def _tasks(n_tasks=4):
    """Language pairs of different sizes, so that results in the wrong order would show."""
    tasks = []
    for seed in range(n_tasks):
        X, Y, _ = planted_problem(n=120 + 40 * seed, d=6 + seed, noise=0.05, seed=seed)
        pairs = np.column_stack([np.arange(60), np.arange(60)])
        tasks.append((X, Y, pairs))
    return tasks


def _l1():
    return L1ProcrustesAligner(dictionary="paired", solver=StiefelFlowSolver(integrator="cayley"))


def _sequential(tasks, estimator, parameter="pairs"):
    fitted = []
    for X, Y, pairs in tasks:
        fitted.append(clone(estimator).fit(X, Y, **({} if pairs is None else {parameter: pairs})))
    return fitted


def _assert_same_rotations(got, expected):
    assert len(got) == len(expected)
    for g, e in zip(got, expected):
        assert g.rotation_.shape == e.rotation_.shape
        assert_allclose(g.rotation_, e.rotation_, rtol=0, atol=TOL)


def test_loky_equals_sequential():
    tasks = _tasks()
    got = align_many(tasks, _l1(), n_jobs=2, backend="loky")
    _assert_same_rotations(got, _sequential(tasks, _l1()))
    # The orders of the tasks and of the results agree: each rotation is its own problem's.
    assert [g.n_features_in_ for g in got] == [X.shape[1] for X, _, _ in tasks]


def test_loky_default_backend_and_unsupervised_tasks():
    # Pairs None (or absent) fits without pairs: the builder induces the dictionary.
    tasks = [(X @ np.eye(X.shape[1]), Y) for X, Y, _ in _tasks(3)]
    estimator = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None), n_refinements=1)
    got = align_many(tasks, estimator, n_jobs=2)
    _assert_same_rotations(got, _sequential([(X, Y, None) for X, Y in tasks], estimator))


def test_mapping_tasks_and_estimator_left_unfitted():
    tasks = _tasks(2)
    as_dicts = [{"X_src": X, "X_tgt": Y, "pairs": p} for X, Y, p in tasks]
    as_dicts[1].pop("pairs")
    estimator = ProcrustesAligner(dictionary="paired")
    got = align_many(as_dicts, estimator, n_jobs=1)
    assert not hasattr(estimator, "rotation_")
    assert all(g is not estimator for g in got)
    _assert_same_rotations(got, _sequential([tasks[0], (*tasks[1][:2], None)], estimator))


def test_pipeline_routes_pairs_to_the_first_aligner():
    tasks = _tasks(3)
    pipe = Pipeline([("normalize", EmbeddingNormalizer()), ("l2", ProcrustesAligner(dictionary="paired")),
                     ("l1", _l1())])
    got = align_many(tasks, pipe, n_jobs=2)
    expected = _sequential(tasks, pipe, parameter="l2__pairs")
    for (X, _, _), g, e in zip(tasks, got, expected):
        for step in ("l2", "l1"):
            assert_allclose(g.named_steps[step].rotation_, e.named_steps[step].rotation_,
                            rtol=0, atol=TOL)
        # The 60 seed pairs reached the ℓ2 step; the ℓ1 step paired all rows itself.
        assert len(g.named_steps["l2"].dictionary_) == 60
        assert len(g.named_steps["l1"].dictionary_) == len(X)


def test_grid_search_runs_on_loky_workers():
    X, Y, _ = planted_problem(n=200, d=6, noise=0.05, seed=1)
    search = GridSearchCV(
        L1ProcrustesAligner(dictionary="paired"),
        {"solver": [StiefelFlowSolver(integrator="cayley"), HuberContinuationSolver()]},
        cv=2, n_jobs=2,
    )
    search.fit(X, Y)
    assert search.best_score_ > 0.9


def test_dask_localcluster_equals_sequential():
    distributed = pytest.importorskip("dask.distributed")
    joblib = pytest.importorskip("joblib")
    tasks = _tasks()
    # In-process workers (threads): no network access and no process start-up needed.
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with joblib.parallel_backend("dask"):
            got = align_many(tasks, _l1(), n_jobs=-1)
        assert len(client.scheduler_info()["workers"]) == 2
    _assert_same_rotations(got, _sequential(tasks, _l1()))


# ----------------------------------------------------------------------------- bad tasks
X_OK = np.ones((5, 3))


@pytest.mark.parametrize(
    "task, fragment",
    [
        ((X_OK,), r"Task 1 must be \(X_src, X_tgt\).*Got a tuple of length 1 instead"),
        ((X_OK, X_OK, None, None), r"Got a tuple of length 4 instead"),
        (X_OK, r"Task 1 must be .*Got an object of type ndarray instead"),
        ({"X_src": X_OK}, r"Task 1 must be a mapping with keys 'X_src', 'X_tgt'.*Got keys \['X_src'\]"),
        ({"X_src": X_OK, "X_tgt": X_OK, "seed": None}, r"Got keys \['X_src', 'X_tgt', 'seed'\]"),
        ((np.ones(5), X_OK), r"Task 1: X_src must be a 2-D array.*Got shape \(5,\) instead"),
        ((X_OK, np.ones((2, 5, 3))), r"Task 1: X_tgt must be a 2-D array.*Got shape \(2, 5, 3\)"),
        ((X_OK, np.ones((5, 4))), r"Task 1: X_src and X_tgt must have the same number of features"
                                  r".*Got shapes \(5, 3\) and \(5, 4\) instead"),
        ((X_OK, "target.vec"), r"Task 1: X_tgt must be a 2-D array.*Got an object without a shape"),
    ],
)
def test_bad_task_raises_before_any_fit(task, fragment):
    good = (np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match=fragment):
        align_many([good, task], ProcrustesAligner(dictionary="paired"), n_jobs=2)


def test_pairs_for_an_estimator_without_pairs():
    with pytest.raises(ValueError, match="fit accepts pairs.*Got EmbeddingNormalizer"):
        align_many([(np.eye(3), np.eye(3), [[0, 0]])], EmbeddingNormalizer())


def test_error_inside_a_worker_is_raised_as_is():
    X = np.eye(4)
    X_nan = X.copy()
    X_nan[1, 2] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        align_many([(X, X), (X_nan, X)], ProcrustesAligner(dictionary="paired"), n_jobs=2)


def test_nested_lists_are_accepted():
    X = np.eye(3).tolist()
    (fitted,) = align_many([(X, X)], ProcrustesAligner(dictionary="paired"))
    assert_allclose(fitted.rotation_, np.eye(3), atol=1e-12)
