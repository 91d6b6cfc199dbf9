"""Tests of ``_solvers._minimizers``: ``RiemannianSubgradientSolver``, ``HuberContinuationSolver``, ``ADMMSolver``."""

import io
import sys
import warnings

import numpy as np
import pytest
from _helpers import planted_problem
from _solver_helpers import (
    blas_thread_counts,
    check_result_invariants,
    outlier_problem,
    solve_expecting_interrupt,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_l1align import (
    ADMMSolver,
    HuberContinuationSolver,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    StopReason,
    procrustes_rotation,
)
from sklearn_l1align._geometry import skew
from sklearn_l1align._objective import l1_loss
from sklearn_l1align._threads import blas_threads

MINIMISERS = [RiemannianSubgradientSolver, HuberContinuationSolver, ADMMSolver]


@pytest.fixture(scope="module")
def planted():
    A, B, R, _ = outlier_problem(1000, 20, seed=11)
    return A, B, R, procrustes_rotation(A, B)


# ---------------------------------------------------------------------- minimisation
@pytest.mark.parametrize("cls", MINIMISERS)
@pytest.mark.parametrize("start", ["identity", "l2"])
def test_reaches_flow_loss_or_lower(planted, cls, start):
    A, B, R, M2 = planted
    initial = None if start == "identity" else M2
    flow = StiefelFlowSolver(integrator="cayley").solve(A, B, initial=initial)
    res = cls().solve(A, B, initial=initial)
    assert res.stop_reason is StopReason.CONVERGED
    assert res.loss <= flow.loss
    # Subgradient steps only accept descent; Huber stages may wander, but the best is kept.
    check_result_invariants(res, A, B, ortho_tol=1e-12, initial=initial,
                            monotone=cls is RiemannianSubgradientSolver)
    assert np.linalg.norm(res.rotation - R) < 0.05
    assert np.linalg.norm(res.rotation - R) < 0.1 * np.linalg.norm(M2 - R)


def test_huber_goes_at_least_as_far_as_subgradient(planted):
    A, B, _, M2 = planted
    sub = RiemannianSubgradientSolver().solve(A, B, initial=M2)
    hub = HuberContinuationSolver().solve(A, B, initial=M2)
    assert hub.loss <= sub.loss
    assert hub.extra["mu"] and len(hub.extra["mu"]) == 5
    mus = np.array(hub.extra["mu"])
    assert_allclose(mus[1:], mus[:-1] / 4.0, rtol=1e-12)
    assert mus[0] > 0


def test_admm_and_huber_find_the_same_minimum(planted):
    # Two unrelated methods (a smoothing path and a splitting) land on the same minimum.
    A, B, R, M2 = planted
    hub = HuberContinuationSolver().solve(A, B, initial=M2)
    admm = ADMMSolver().solve(A, B, initial=M2)
    assert admm.stop_reason is StopReason.CONVERGED
    assert admm.loss == pytest.approx(hub.loss, rel=1e-4)
    assert np.linalg.norm(admm.rotation - hub.rotation) < 1e-2
    # At the end the split has closed, and y = ρU is an ℓ1 subgradient that nearly certifies
    # Riemannian stationarity: ||skew(MᵀAᵀy)|| / ||Aᵀy|| is small, where the plain sign
    # subgradient gives no such certificate even at the planted rotation.
    y = np.sign(A @ R - B)
    sign_measure = np.linalg.norm(skew(R.T @ A.T @ y)) / np.linalg.norm(A.T @ y)
    assert sign_measure > 0.5
    assert admm.extra["certificate"] < 0.05
    assert admm.extra["primal_residual"] <= 1e-3 * np.linalg.norm(A @ admm.rotation - B)


def test_admm_rho_schedule():
    A, B, _, _ = outlier_problem(300, 10, seed=16)
    res = ADMMSolver(rho=3.0, rho_growth=1.05).solve(A, B)
    assert res.stop_reason is StopReason.CONVERGED
    # ρ grows after every iteration but the one that converged.
    assert res.extra["rho"] == pytest.approx(3.0 * 1.05 ** (res.n_steps - 1), rel=1e-12)
    fixed = ADMMSolver(rho=3.0, rho_growth=1.0, max_iter=5).solve
    with pytest.warns(ConvergenceWarning, match="max_iter=5"):
        assert fixed(A, B).extra["rho"] == 3.0


@pytest.mark.parametrize("cls", MINIMISERS)
def test_minimum_is_local_minimum_of_l1(planted, cls):
    # No small rotation in any of a few random directions lowers the loss of the answer much.
    A, B, _, M2 = planted
    res = cls().solve(A, B, initial=M2)
    rng = np.random.default_rng(0)
    d = A.shape[1]
    for _ in range(10):
        W = rng.normal(size=(d, d))
        S = (W - W.T) / np.linalg.norm(W - W.T)
        for angle in (1e-3, 1e-2):
            Q = np.linalg.solve(np.eye(d) + angle / 2 * S, np.eye(d) - angle / 2 * S)
            assert l1_loss(A, res.rotation @ Q, B) >= res.loss * (1 - 1e-6)


def test_exact_problem_from_the_optimum_is_warning_free():
    # Started at an exact solution every residual is 0: nothing to do, and no 0/0.
    A, B, R = planted_problem(100, 6, seed=12)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            for cls in MINIMISERS:
                res = cls().solve(A, B, initial=R)
                assert res.stop_reason is StopReason.CONVERGED
                assert res.loss <= res.initial_loss < 1e-10


def test_huber_when_most_residuals_are_exactly_zero_is_warning_free():
    # More than half the residuals are exactly 0 at the start (B equals A on most rows), so
    # median|AM − B| = 0: the Huber width must not become 0 (division by zero, NaN steps).
    rng = np.random.default_rng(13)
    A = rng.normal(size=(200, 6))
    B = A.copy()
    B[:60] += rng.normal(size=(60, 6))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            res = HuberContinuationSolver().solve(A, B)
    assert res.stop_reason is StopReason.CONVERGED
    assert np.isfinite(res.loss) and res.loss <= res.initial_loss
    assert all(mu > 0 and np.isfinite(mu) for mu in res.extra["mu"])


# ---------------------------------------------------------------------- stop reasons
@pytest.fixture
def small():
    A, B, _, _ = outlier_problem(300, 10, seed=14)
    return A, B


@pytest.mark.parametrize("cls", MINIMISERS)
@pytest.mark.parametrize("budget", [0, 0.0])
def test_stop_time_budget(small, cls, budget):
    A, B = small
    # 0.0 is what a run-wide budget hands on when it is spent: the message reads the same.
    with pytest.warns(ConvergenceWarning, match="time_budget=0 s ran out; raise time_budget"):
        res = cls(time_budget=budget).solve(A, B)
    assert res.stop_reason is StopReason.TIME_BUDGET
    assert res.n_steps == 0
    assert_array_equal(res.rotation, np.eye(10))
    check_result_invariants(res, A, B, ortho_tol=1e-12)


@pytest.mark.parametrize("cls, at", [(RiemannianSubgradientSolver, 2), (HuberContinuationSolver, 2),
                                     (HuberContinuationSolver, 40),  # 40: inside a Huber stage
                                     (ADMMSolver, 2)])
def test_stop_interrupted(small, cls, at):
    A, B = small
    seen = []

    def callback(it, M, loss):
        seen.append((it, M.copy(), loss))
        if len(seen) == at:
            raise KeyboardInterrupt

    res = solve_expecting_interrupt(cls(), A, B, callback=callback)
    assert res.message == "interrupted; returning the best map so far"
    assert res.stop_reason is StopReason.INTERRUPTED
    assert len(seen) == at
    # t counts the iterations done, up to the interrupted one.
    assert res.t == res.times[-1] == seen[-1][0] == at
    best = min(seen, key=lambda s: s[2])
    assert res.loss == best[2]
    assert_array_equal(res.rotation, best[1])
    check_result_invariants(res, A, B, ortho_tol=1e-12, monotone=cls is RiemannianSubgradientSolver)


@pytest.mark.parametrize("cls", [RiemannianSubgradientSolver, ADMMSolver])
def test_stop_max_iter(small, cls):
    A, B = small
    with pytest.warns(ConvergenceWarning, match="max_iter=1 iterations done; raise max_iter"):
        res = cls(max_iter=1).solve(A, B)
    assert res.stop_reason is StopReason.MAX_ITER
    assert res.n_steps == 1 and res.t == 1
    if cls is RiemannianSubgradientSolver:
        assert res.loss < res.initial_loss
    check_result_invariants(res, A, B, ortho_tol=1e-12, monotone=cls is RiemannianSubgradientSolver)


@pytest.mark.parametrize("cls", MINIMISERS)
def test_converged_message_and_no_warning(small, cls):
    A, B = small
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        res = cls().solve(A, B)
    assert res.stop_reason is StopReason.CONVERGED
    expected = {RiemannianSubgradientSolver: "min_angle", HuberContinuationSolver: "Huber stages",
                ADMMSolver: "the split closed"}
    assert expected[cls] in res.message


def test_subgradient_accepts_only_descent(small):
    A, B = small
    losses = []
    RiemannianSubgradientSolver().solve(A, B, callback=lambda it, M, loss: losses.append(loss))
    assert len(losses) >= 5
    assert np.all(np.diff(losses) < 0)


# ------------------------------------------------------------------- inputs, determinism
@pytest.mark.parametrize("cls", MINIMISERS)
def test_non_orthogonal_initial_raises(small, cls):
    A, B = small
    with pytest.raises(ValueError, match="initial must be orthogonal"):
        cls().solve(A, B, initial=2 * np.eye(10))
    with pytest.raises(ValueError, match="same shape"):
        cls().solve(A, B[:, :5])
    with pytest.raises(ValueError, match="must be finite"):
        cls().solve(np.where(A > 2, np.nan, A), B)


@pytest.mark.parametrize("cls, param", [(RiemannianSubgradientSolver, {"max_iter": 0}),
                                        (HuberContinuationSolver, {"mu_factor": 1.0}),
                                        (HuberContinuationSolver, {"gtol": 1.0}),
                                        (RiemannianSubgradientSolver, {"init_angle": -0.1}),
                                        (ADMMSolver, {"rho_growth": 0.5}),
                                        (ADMMSolver, {"rho": 0.0}),
                                        (ADMMSolver, {"window": 0})])
def test_bad_parameters_raise(small, cls, param):
    with pytest.raises(ValueError, match=f"'{next(iter(param))}' parameter of {cls.__name__}"):
        cls(**param).solve(*small)


@pytest.mark.parametrize("cls", MINIMISERS)
def test_deterministic(planted, cls):
    A, B, _, M2 = planted
    r1 = cls().solve(A, B, initial=M2)
    r2 = cls().solve(A, B, initial=M2)
    assert_allclose(r1.rotation, r2.rotation, rtol=0, atol=1e-12)
    assert_array_equal(r1.loss_curve, r2.loss_curve)
    assert r1.n_steps == r2.n_steps


# ---------------------------------------------------------------- threads and precision
@pytest.mark.parametrize("cls", MINIMISERS)
def test_the_whole_solve_runs_on_one_blas_thread_and_restores_the_callers(small, cls):
    A, B = small
    seen = []
    with blas_threads(2):
        before = blas_thread_counts()
        cls().solve(A, B, callback=lambda t, M, loss: seen.append(blas_thread_counts()))
        after = blas_thread_counts()
    assert seen and all(set(counts.values()) == {1} for counts in seen)
    assert after == before


@pytest.mark.parametrize("cls, kw", [(RiemannianSubgradientSolver, {"max_iter": 20}),
                                     (HuberContinuationSolver, {"n_stages": 1, "stage_iter": 10}),
                                     (ADMMSolver, {"max_iter": 20})])
def test_answer_is_bit_identical_whatever_the_callers_blas_threads(cls, kw):
    # d = 120: products large enough for OpenBLAS to split them across threads.
    A, B, _, _ = outlier_problem(600, 120, seed=3)
    runs = []
    for n in (1, 2):
        with blas_threads(n), warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            runs.append(cls(**kw).solve(A, B))
    one, two = runs
    assert one.n_steps == two.n_steps >= 5
    assert_array_equal(one.loss_curve, two.loss_curve)
    assert_array_equal(one.rotation, two.rotation)


@pytest.mark.parametrize("cls, same_path", [(RiemannianSubgradientSolver, False),
                                            (HuberContinuationSolver, False), (ADMMSolver, True)])
def test_gemm_float32_matches_float64(cls, same_path):
    # The documented agreement (solvers.rst). The accept-or-reject subgradient steps (also
    # Huber's first phase) can branch: a step accepted in one precision is rejected in the
    # other, after which the paths differ; they agree until then, and at the end.
    A, B, _, _ = outlier_problem(500, 20, seed=7)
    r32 = cls(gemm_dtype="float32").solve(A, B)
    r64 = cls(gemm_dtype="float64").solve(A, B)
    assert r32.stop_reason == r64.stop_reason == "converged"
    assert r32.loss == pytest.approx(r64.loss, rel=1e-6)
    assert r64.loss < 0.9 * r64.initial_loss
    assert_allclose(r32.loss_curve[:10], r64.loss_curve[:10], rtol=1e-6)
    if same_path:
        assert len(r32.loss_curve) == len(r64.loss_curve)
        assert_allclose(r32.loss_curve, r64.loss_curve, rtol=1e-6)
        assert_allclose(r32.rotation, r64.rotation, atol=1e-5)
    # float32 is really used, and the loss is still the exact float64 one.
    assert not np.array_equal(r32.rotation, r64.rotation)
    assert r32.loss == l1_loss(A, r32.rotation, B)


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("cls", MINIMISERS)
def test_progress_line_at_verbose_1_shows_iterations_and_loss(small, cls, monkeypatch):
    A, B = small
    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    res = cls(verbose=1).solve(A, B)
    lines = [line for line in term.getvalue().replace("\r", "\n").splitlines() if "(iterations)" in line]
    assert lines and lines[-1].startswith(f"{cls.__name__} (iterations): ")
    assert f"ℓ1 loss {res.loss_curve[-1]:.6g}" in lines[-1]
    assert f"({res.t:g}/" in lines[-1]
