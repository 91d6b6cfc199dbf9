"""Tests of ``L1ProcrustesAligner`` (Algorithm 1) and its scikit-learn integration."""

import dataclasses
import time
import warnings

import joblib
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import expm
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, KFold
from sklearn.pipeline import Pipeline

from _helpers import planted_problem
from sklearn_l1align import (
    CSLSDictionaryBuilder,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    ProcrustesAligner,
    RiemannianSubgradientSolver,
    SolverResult,
    StiefelFlowSolver,
    StopReason,
)
from sklearn_l1align._objective import l1_loss
from _solver_helpers import outlier_problem

FAST = StiefelFlowSolver(integrator="cayley")


def _orthogonality(M):
    return np.max(np.abs(M.T @ M - np.eye(M.shape[0])))


def _small_rotation(d, angle, seed):
    W = np.random.default_rng(seed).normal(size=(d, d))
    S = W - W.T
    return expm(angle * S / np.linalg.norm(S, 2))


def _vocabularies(n_src=600, n_tgt=500, n_shared=450, d=16, *, angle=None, noise=0.05, seed=0):
    """Source and target spaces of different sizes; ``n_shared`` target rows translate source rows.

    Returns ``X_src, X_tgt, R, gold`` with ``X_tgt[gold[:, 1]] ≈ X_src[gold[:, 0]] @ R``. ``R`` is a
    random rotation, or a rotation by ``angle`` (spaces already roughly aligned) when given.
    """
    rng = np.random.default_rng(seed)
    X_src = rng.normal(size=(n_src, d))
    if angle is None:
        _, _, R = planted_problem(2, d, seed=seed)
    else:
        R = _small_rotation(d, angle, seed)
    src_rows = rng.permutation(n_src)[:n_shared]
    tgt_rows = rng.permutation(n_tgt)[:n_shared]
    X_tgt = rng.normal(size=(n_tgt, d))
    X_tgt[tgt_rows] = X_src[src_rows] @ R + noise * rng.normal(size=(n_shared, d))
    gold = np.column_stack([src_rows, tgt_rows])
    return X_src, X_tgt, R, gold[np.argsort(gold[:, 0])]


# ------------------------------------------------------------------- the planted problem
@pytest.mark.parametrize("solver", [FAST, StiefelFlowSolver(max_time=2e-4), HuberContinuationSolver()],
                         ids=["cayley", "vode", "huber"])
def test_refines_l2_towards_planted_rotation(solver):
    n, d = (1000, 20) if not isinstance(solver, StiefelFlowSolver) or solver.integrator == "cayley" else (300, 10)
    X, Y, R, _ = outlier_problem(n, d, seed=20)
    l2 = ProcrustesAligner(dictionary="paired").fit(X, Y)
    Xl2 = l2.transform(X)
    l1 = L1ProcrustesAligner(dictionary="paired", solver=solver).fit(Xl2, Y)
    total = l2.rotation_ @ l1.rotation_
    assert_allclose(l1.transform(Xl2), X @ total, atol=1e-10)
    err_l2, err_l1 = np.linalg.norm(l2.rotation_ - R), np.linalg.norm(total - R)
    assert err_l1 < 0.95 * err_l2
    if not isinstance(solver, StiefelFlowSolver) or solver.integrator == "cayley":
        assert err_l1 < 0.5 * err_l2
    res = l1.solver_result_
    assert res.loss <= res.initial_loss
    assert res.initial_loss == pytest.approx(l1_loss(Xl2, np.eye(d), Y), rel=1e-12)
    assert res.loss == pytest.approx(l1_loss(Xl2, l1.rotation_, Y), rel=1e-12)
    assert _orthogonality(l1.rotation_) <= (1e-5 if solver is not FAST else 1e-12)


def test_fitted_attributes():
    X, Y, _, _ = outlier_problem(400, 12, seed=21)
    Xl2 = ProcrustesAligner(dictionary="paired").fit(X, Y).transform(X)
    a = L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(Xl2, Y)
    assert a.rotation_.shape == (12, 12)
    assert_array_equal(a.dictionary_, np.column_stack([np.arange(400)] * 2))
    assert a.dictionary_.dtype == np.int64
    assert isinstance(a.solver_result_, SolverResult)
    assert isinstance(a.solver_result_.stop_reason, StopReason)
    assert a.solver_results_ == [a.solver_result_]
    assert a.loss_curve_ is a.solver_result_.loss_curve
    assert a.n_iter_ == a.solver_result_.n_steps == len(a.loss_curve_) - 1 > 0
    assert a.n_features_in_ == 12
    assert a.dictionary_sizes_ == [400]
    assert a.refinement_losses_ == [(a.solver_result_.initial_loss, a.solver_result_.loss)]
    assert_array_equal(a.rotation_, a.solver_result_.rotation)


def test_parameters_untouched_by_fit():
    X, Y, _, _ = _vocabularies(angle=0.2, seed=22)
    solver = StiefelFlowSolver(integrator="cayley", max_time=1e-3)
    params = solver.get_params()
    a = L1ProcrustesAligner(solver=solver).fit(X, Y)
    assert a.dictionary is None
    assert a.solver is solver and solver.get_params() == params
    assert not hasattr(solver, "n_features_in_")
    # And after a fit that fails validation too.
    bad = L1ProcrustesAligner()
    with pytest.raises(ValueError):
        bad.fit(X, Y[:, :3])
    assert bad.dictionary is None


def test_any_object_with_a_solve_method_is_a_solver():
    # Documented: "solver : object with a solve(A, B, initial=None) method" (not only estimators).
    class SubgradientOnly:
        def __init__(self):
            self.calls = 0

        def solve(self, A, B, initial=None):
            self.calls += 1
            return RiemannianSubgradientSolver().solve(A, B, initial=initial)

    X, Y, _, _ = outlier_problem(300, 10, seed=35)
    X = ProcrustesAligner(dictionary="paired").fit(X, Y).transform(X)
    solver = SubgradientOnly()
    a = L1ProcrustesAligner(dictionary="paired", solver=solver).fit(X, Y)
    ref = RiemannianSubgradientSolver().solve(X, Y)
    assert_array_equal(a.rotation_, ref.rotation)
    assert a.solver_result_.stop_reason is StopReason.CONVERGED
    assert solver.calls == 0  # the aligner worked on a copy


def test_fit_with_pairs_and_different_row_counts():
    X_src, X_tgt, R, gold = _vocabularies(seed=23)
    rng = np.random.default_rng(23)
    pairs = gold[rng.permutation(len(gold))[:300]]
    pre = ProcrustesAligner().fit(X_src, X_tgt, pairs=pairs)
    Xm = pre.transform(X_src)
    a = L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(Xm, X_tgt, pairs=pairs)
    assert_array_equal(a.dictionary_, pairs)
    assert a.dictionary_sizes_ == [300]
    expected = FAST.solve(Xm[pairs[:, 0]], X_tgt[pairs[:, 1]])
    assert_allclose(a.rotation_, expected.rotation, rtol=0, atol=0)
    # Pairs override an induced dictionary for the (only) round, whatever the builder.
    b = L1ProcrustesAligner(solver=FAST).fit(Xm, X_tgt, pairs=pairs)
    assert_array_equal(b.rotation_, a.rotation_)


def test_default_dictionary_on_pre_aligned_spaces_of_different_sizes():
    X_src, X_tgt, R, gold = _vocabularies(angle=0.25, noise=0.05, seed=24)
    a = L1ProcrustesAligner(solver=FAST).fit(X_src, X_tgt)
    # The default is the paper's CSLS-10 mutual dictionary.
    expected = CSLSDictionaryBuilder(k=10, direction="mutual", max_rank=10000).build(X_src, X_tgt)
    assert_array_equal(a.dictionary_, expected)
    assert X_src.shape[0] != X_tgt.shape[0]
    assert a.dictionary_.max(axis=0)[0] < X_src.shape[0] and a.dictionary_.max(axis=0)[1] < X_tgt.shape[0]
    # The induced pairs are mostly the gold ones, and ℓ1 moves the map towards R.
    gold_set = set(map(tuple, gold.tolist()))
    hit = np.mean([tuple(p) in gold_set for p in a.dictionary_.tolist()])
    assert hit > 0.9
    assert np.linalg.norm(a.rotation_ - R) < 0.2 * np.linalg.norm(np.eye(16) - R)


def test_default_solver_is_the_papers_vode():
    X, Y, _, _ = outlier_problem(200, 6, seed=25)
    Xl2 = ProcrustesAligner(dictionary="paired").fit(X, Y).transform(X)
    a = L1ProcrustesAligner(dictionary="paired").fit(Xl2, Y)
    ref = StiefelFlowSolver().solve(Xl2, Y)
    assert_allclose(a.rotation_, ref.rotation, rtol=0, atol=1e-12)
    assert a.solver_result_.stop_reason == ref.stop_reason
    assert _orthogonality(a.rotation_) <= 1e-5


# ----------------------------------------------------------------------- transform, score
def test_transform_inverse_transform_and_score():
    X, Y, R, _ = outlier_problem(300, 10, frac=0.05, seed=26)
    l2 = ProcrustesAligner(dictionary="paired").fit(X, Y)
    Xl2 = l2.transform(X)
    a = L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(Xl2, Y)
    Z = np.random.default_rng(26).normal(size=(17, 10))
    assert_array_equal(a.transform(Z), Z @ a.rotation_)
    assert_allclose(a.inverse_transform(a.transform(Z)), Z, atol=1e-12)
    assert a.transform(Z.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="X has 9 features"):
        a.transform(Z[:, :9])
    with pytest.raises(ValueError, match="Got 9 and 10 instead"):
        a.inverse_transform(Z[:, :9])
    # Inliers are retrieved; the outlier rows cannot be.
    score = a.score(Xl2, Y)
    assert 0.9 <= score <= 0.96
    assert score >= l2.score(X, Y)
    with pytest.raises(ValueError, match="same number of rows"):
        a.score(Xl2, Y[:50])


def test_not_fitted():
    with pytest.raises(NotFittedError):
        L1ProcrustesAligner().transform(np.eye(3))


# ---------------------------------------------------------------------- iterative rounds
def test_n_refinements_records_rounds_and_is_deterministic():
    X_src, X_tgt, R, gold = _vocabularies(n_src=800, n_tgt=700, n_shared=600, d=20, angle=0.35,
                                          noise=0.2, seed=27)
    builder = CSLSDictionaryBuilder(max_rank=None)
    solver = StiefelFlowSolver(integrator="cayley", max_time=1e-3)
    a = L1ProcrustesAligner(dictionary=builder, solver=solver, n_refinements=3).fit(X_src, X_tgt)
    assert len(a.solver_results_) == len(a.dictionary_sizes_) == len(a.refinement_losses_) == 4
    assert a.solver_result_ is a.solver_results_[-1]
    assert a.n_iter_ == sum(r.n_steps for r in a.solver_results_)
    for r, (start, end), size in zip(a.solver_results_, a.refinement_losses_, a.dictionary_sizes_):
        assert (start, end) == (r.initial_loss, r.loss) and end <= start
        assert size > 0
    assert a.dictionary_sizes_[-1] == len(a.dictionary_)
    # Round 1 re-induced its dictionary from the source mapped by round 0's rotation.
    rot0 = a.solver_results_[0].rotation
    pairs1 = builder.build(X_src @ rot0, X_tgt)
    assert len(pairs1) == a.dictionary_sizes_[1]
    assert a.solver_results_[1].initial_loss == pytest.approx(
        l1_loss(X_src[pairs1[:, 0]], rot0, X_tgt[pairs1[:, 1]]), rel=1e-12)
    # The last dictionary is the one induced by the third rotation.
    pairs3 = builder.build(X_src @ a.solver_results_[2].rotation, X_tgt)
    assert_array_equal(a.dictionary_, pairs3)
    # Iterating helps here: more pairs and a map closer to R than one round.
    one = L1ProcrustesAligner(dictionary=builder, solver=solver).fit(X_src, X_tgt)
    assert a.dictionary_sizes_[-1] > a.dictionary_sizes_[0]
    assert np.linalg.norm(a.rotation_ - R) < np.linalg.norm(one.rotation_ - R)
    assert _orthogonality(a.rotation_) <= 1e-12
    b = L1ProcrustesAligner(dictionary=clone(builder), solver=clone(solver), n_refinements=3).fit(X_src, X_tgt)
    assert_allclose(b.rotation_, a.rotation_, rtol=0, atol=1e-12)
    assert_array_equal(b.dictionary_, a.dictionary_)
    assert b.dictionary_sizes_ == a.dictionary_sizes_
    assert_allclose(np.array(b.refinement_losses_), np.array(a.refinement_losses_), rtol=1e-12)


def test_n_refinements_with_vode_keep_refining():
    # VODE's rounds end when M drifts off the manifold (max|MᵀM − I| > ortho_tol). A later round
    # must not inherit that drift, or it stops at its first step and the refinement is a no-op.
    X_src, X_tgt, R, _ = _vocabularies(n_src=800, n_tgt=700, n_shared=600, d=20, angle=0.35,
                                       noise=0.2, seed=27)
    solver = StiefelFlowSolver(atol=1e-3, rtol=1e-3)  # drifts within a few dozen steps
    a = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None), solver=solver,
                            n_refinements=2).fit(X_src, X_tgt)
    assert a.solver_results_[0].stop_reason is StopReason.ORTHOGONALITY
    for r in a.solver_results_[1:]:
        assert r.n_steps > 0, r.message
        assert r.loss < r.initial_loss
    assert _orthogonality(a.rotation_) <= solver.ortho_tol
    assert np.linalg.norm(a.rotation_ - R) < np.linalg.norm(a.solver_results_[0].rotation - R)


def test_n_refinements_with_paired_raises():
    X, Y, _ = planted_problem(50, 4)
    with pytest.raises(ValueError, match="n_refinements > 0 re-induces the dictionary"):
        L1ProcrustesAligner(dictionary="paired", n_refinements=1, solver=FAST).fit(X, Y)


@pytest.mark.parametrize("dictionary, fragment", [("csls", "'dictionary' parameter of L1ProcrustesAligner"),
                                                  (42, "'dictionary' parameter of L1ProcrustesAligner")])
def test_bad_dictionary_raises(dictionary, fragment):
    X, Y, _ = planted_problem(50, 4)
    with pytest.raises(ValueError, match=fragment):
        L1ProcrustesAligner(dictionary=dictionary).fit(X, Y)


def test_bad_solver_raises():
    X, Y, _ = planted_problem(50, 4)
    with pytest.raises(ValueError, match="'solver' parameter of L1ProcrustesAligner"):
        L1ProcrustesAligner(solver="vode").fit(X, Y)


def test_paired_needs_equal_rows():
    X, Y, _ = planted_problem(50, 4)
    with pytest.raises(ValueError, match="Got 50 and 40 instead"):
        L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(X, Y[:40])


# ------------------------------------------------------------------------- convergence
def test_convergence_warning_time_budget():
    X, Y, _, _ = outlier_problem(300, 10, seed=28)
    with pytest.warns(ConvergenceWarning, match="time_budget=0 s ran out"):
        a = L1ProcrustesAligner(dictionary="paired", solver=StiefelFlowSolver(time_budget=0)).fit(X, Y)
    assert a.solver_result_.stop_reason is StopReason.TIME_BUDGET
    assert a.solver_result_.loss <= a.solver_result_.initial_loss
    assert _orthogonality(a.rotation_) <= 1e-5


def test_convergence_warning_integrator_failure():
    X, Y, _, _ = outlier_problem(300, 10, seed=29)
    with pytest.warns(ConvergenceWarning, match="VODE failed"):
        a = L1ProcrustesAligner(dictionary="paired", solver=StiefelFlowSolver(nsteps=1)).fit(X, Y)
    assert a.solver_result_.stop_reason is StopReason.INTEGRATOR_FAILURE
    assert_array_equal(a.rotation_, np.eye(10))


def test_no_warning_on_a_normal_stop():
    X, Y, _, _ = outlier_problem(300, 10, seed=30)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        a = L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(X, Y)
    assert a.solver_result_.stop_reason in ("small_decrease", "loss_increased", "max_time")


# --------------------------------------------------------------------------- pipelines
def _l2_l1(**l1):
    return Pipeline([("l2", ProcrustesAligner(dictionary="paired")), ("l1", L1ProcrustesAligner(**l1))])


def test_pipeline_on_paired_seed_rows():
    X, Y, R, _ = outlier_problem(600, 16, seed=31)
    pipe = _l2_l1(dictionary="paired", solver=FAST).fit(X, Y)
    l2 = ProcrustesAligner(dictionary="paired").fit(X, Y)
    l1 = L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(l2.transform(X), Y)
    assert_allclose(pipe.transform(X), X @ l2.rotation_ @ l1.rotation_, atol=1e-12)
    total = pipe.named_steps["l2"].rotation_ @ pipe.named_steps["l1"].rotation_
    assert np.linalg.norm(total - R) < 0.5 * np.linalg.norm(l2.rotation_ - R)
    assert 0.0 <= pipe.score(X, Y) <= 1.0


def test_pipeline_on_full_vocabularies_with_seed_pairs():
    X_src, X_tgt, R, gold = _vocabularies(seed=32)
    seed_pairs = gold[:150]
    pipe = _l2_l1(solver=FAST).fit(X_src, X_tgt, l2__pairs=seed_pairs)
    l2 = pipe.named_steps["l2"]
    l1 = pipe.named_steps["l1"]
    assert_array_equal(l2.dictionary_, seed_pairs)
    # ℓ1 induced its own dictionary over the full vocabularies, after the ℓ2 map.
    assert_array_equal(l1.dictionary_, CSLSDictionaryBuilder(k=10, direction="mutual",
                                                             max_rank=10000).build(l2.transform(X_src), X_tgt))
    assert l1.dictionary_sizes_[0] > len(seed_pairs)
    assert_allclose(pipe.transform(X_src), X_src @ l2.rotation_ @ l1.rotation_, atol=1e-12)
    assert np.linalg.norm(l2.rotation_ @ l1.rotation_ - R) < 0.1


def test_grid_search_over_pipeline():
    X, Y, _, _ = outlier_problem(450, 12, frac=0.05, seed=33)
    pipe = _l2_l1(dictionary=CSLSDictionaryBuilder(max_rank=None),
                  solver=StiefelFlowSolver(integrator="cayley", max_time=1e-3))
    grid = {"l1__dictionary__k": [5, 10], "l1__solver__alpha": [1e4, 1e8]}
    search = GridSearchCV(pipe, grid, cv=KFold(3, shuffle=True, random_state=0), error_score="raise").fit(X, Y)
    assert len(search.cv_results_["params"]) == 4
    assert np.all(np.isfinite(search.cv_results_["mean_test_score"]))
    assert 0.8 <= search.best_score_ <= 1.0
    best = search.best_estimator_.named_steps["l1"]
    assert best.dictionary.k == search.best_params_["l1__dictionary__k"]
    assert best.solver.alpha == search.best_params_["l1__solver__alpha"]
    assert hasattr(best, "rotation_")
    # The parameters reached the solver that ran: α changes the trajectory.
    fits = [clone(pipe).set_params(l1__solver__alpha=alpha).fit(X, Y).named_steps["l1"].loss_curve_
            for alpha in (1e4, 1e8)]
    assert not np.array_equal(fits[0], fits[1])


def test_joblib_round_trip_of_fitted_pipeline(tmp_path):
    X_src, X_tgt, _, gold = _vocabularies(seed=34)
    pipe = _l2_l1(solver=FAST, n_refinements=1).fit(X_src, X_tgt, l2__pairs=gold[:150])
    path = tmp_path / "pipe.joblib"
    joblib.dump(pipe, path)
    loaded = joblib.load(path)
    assert_array_equal(loaded.transform(X_src), pipe.transform(X_src))
    l1, l1_loaded = pipe.named_steps["l1"], loaded.named_steps["l1"]
    assert l1_loaded.solver_result_.stop_reason is l1.solver_result_.stop_reason
    assert_array_equal(l1_loaded.dictionary_, l1.dictionary_)
    assert l1_loaded.refinement_losses_ == l1.refinement_losses_
    assert loaded.get_params()["l1__solver__integrator"] == "cayley"


def test_clone_and_nested_params():
    a = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(k=7), solver=StiefelFlowSolver(alpha=1e6),
                            n_refinements=2)
    params = a.get_params()
    assert params["dictionary__k"] == 7 and params["solver__alpha"] == 1e6
    c = clone(a)
    assert c.solver is not a.solver and c.solver.alpha == 1e6
    c.set_params(solver__integrator="cayley", dictionary__k=5)
    assert c.solver.integrator == "cayley" and a.solver.integrator == "vode"
    assert c.dictionary.k == 5 and a.dictionary.k == 7


def test_interrupt_stops_further_refinement_rounds():
    """An interrupted solve ends fit: no further round starts after the user asked to stop."""
    import numpy as np
    import pytest
    from sklearn.exceptions import ConvergenceWarning

    from sklearn_l1align import CSLSDictionaryBuilder, L1ProcrustesAligner, StiefelFlowSolver

    class Interrupting(StiefelFlowSolver):
        def solve(self, A, B, initial=None, callback=None):
            def stop(t, M, loss):
                raise KeyboardInterrupt

            return super().solve(A, B, initial=initial, callback=stop)

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 8))
    aligner = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None),
                                  solver=Interrupting(integrator="cayley"), n_refinements=3)
    with pytest.warns(ConvergenceWarning):
        aligner.fit(X, X + 0.01 * rng.normal(size=X.shape))
    assert len(aligner.solver_results_) == 1
    assert aligner.solver_result_.stop_reason == "interrupted"


# --------------------------------------------------------------- issue 11 and issue 12
class _BrokenSolver:
    """Returns a planted bad rotation: NaN or far from orthogonal."""

    def __init__(self, make):
        self.make = make

    def solve(self, A, B, initial=None):
        result = FAST.solve(A, B, initial=initial)
        return dataclasses.replace(result, rotation=self.make(result.rotation))


@pytest.mark.parametrize("make, fragment", [
    (lambda M: np.full_like(M, np.nan), "NaN or inf"),
    (lambda M: 2.0 * M, "max|MᵀM − I| = 3"),
    (lambda M: M[:, :-1], "Got shape"),
], ids=["nan", "scaled", "shape"])
def test_a_solver_returning_a_bad_rotation_is_refused(make, fragment):
    X, Y, _, _ = outlier_problem(200, 6, seed=40)
    aligner = L1ProcrustesAligner(dictionary="paired", solver=_BrokenSolver(make))
    with pytest.raises(ValueError, match="must return a finite orthogonal") as info:
        aligner.fit(X, Y)
    assert fragment in str(info.value)
    assert not hasattr(aligner, "rotation_")


@pytest.mark.parametrize("which", ["X", "y"])
def test_all_zero_rows_are_refused(which):
    X, Y, _, _ = outlier_problem(50, 4, seed=41)
    args = (np.zeros_like(X), Y) if which == "X" else (X, np.zeros_like(Y))
    with pytest.raises(ValueError, match=f"{which} must hold at least one non-zero row"):
        L1ProcrustesAligner(dictionary="paired", solver=FAST).fit(*args)


class _SlowRecordingSolver:
    """Records the time_budget each round is given and takes 0.2 s per solve."""

    budgets = []

    def __init__(self, time_budget):
        self.time_budget = time_budget

    def solve(self, A, B, initial=None):
        type(self).budgets.append(self.time_budget)
        time.sleep(0.2)
        return FAST.solve(A, B, initial=initial)


@pytest.mark.slow
def test_time_budget_is_the_runs_budget_across_rounds():
    X, Y, _, _ = _vocabularies(angle=0.2, seed=42)
    _SlowRecordingSolver.budgets = []
    a = L1ProcrustesAligner(solver=_SlowRecordingSolver(time_budget=0.5), n_refinements=5).fit(X, Y)
    budgets = _SlowRecordingSolver.budgets
    # Each round gets what the earlier ones left, and no round starts once it is spent.
    assert budgets[0] <= 0.5
    assert all(later <= earlier - 0.2 for earlier, later in zip(budgets, budgets[1:]))
    assert len(budgets) == len(a.solver_results_) <= 3


def test_feature_names_out():
    X_src, X_tgt, _, gold = _vocabularies(seed=43)
    a = L1ProcrustesAligner(solver=FAST).fit(X_src, X_tgt, pairs=gold[:100])
    assert_array_equal(a.get_feature_names_out(), [f"l1procrustesaligner{i}" for i in range(16)])
    with pytest.raises(NotFittedError):
        L1ProcrustesAligner().get_feature_names_out()
