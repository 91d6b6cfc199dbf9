"""Tests of ``_solvers._flow``: ``StiefelFlowSolver`` with VODE and with Cayley steps."""

import io
import logging
import re
import sys
import warnings

import numpy as np
import pytest
from _helpers import planted_problem
from _solver_helpers import (
    blas_thread_counts,
    check_result_invariants,
    interrupt_on_call,
    outlier_problem,
    solve_expecting_interrupt,
)
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import ode, solve_ivp
from sklearn.exceptions import ConvergenceWarning

from sklearn_l1align import (
    HuberContinuationSolver,
    StiefelFlowSolver,
    StopReason,
    procrustes_rotation,
)
from sklearn_l1align._geometry import cayley_step, skew
from sklearn_l1align._objective import l1_loss, smoothed_gradient
from sklearn_l1align._solvers import _flow as flow_module
from sklearn_l1align._threads import blas_threads


# ----------------------------------------------------------- planted problem (issue 3)
@pytest.mark.parametrize("n, d, frac, seed", [(1000, 20, 0.08, 0), (2000, 30, 0.05, 1), (500, 10, 0.10, 2)])
def test_cayley_from_l2_recovers_planted_rotation_better_than_l2(n, d, frac, seed):
    A, B, R, _ = outlier_problem(n, d, frac=frac, seed=seed)
    M2 = procrustes_rotation(A, B)
    res = StiefelFlowSolver(integrator="cayley").solve(A, B, initial=M2)
    check_result_invariants(res, A, B, ortho_tol=1e-12, initial=M2)
    err_l2, err_l1 = np.linalg.norm(M2 - R), np.linalg.norm(res.rotation - R)
    # The outliers pull ℓ2 well off R; the ℓ1 flow resists them.
    assert err_l2 > 0.3
    assert err_l1 < 0.5 * err_l2
    assert res.loss < 0.9 * res.initial_loss


def test_vode_from_l2_gets_closer_to_planted_rotation():
    A, B, R, _ = outlier_problem(300, 10, seed=3)
    M2 = procrustes_rotation(A, B)
    solver = StiefelFlowSolver(max_time=2e-4)
    res = solver.solve(A, B, initial=M2)
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol, initial=M2)
    assert res.stop_reason in ("max_time", "orthogonality", "loss_increased", "small_decrease")
    assert np.linalg.norm(res.rotation - R) < 0.95 * np.linalg.norm(M2 - R)
    assert res.loss < res.initial_loss


def test_vode_with_time_budget_gets_closer_and_stays_orthogonal():
    A, B, R, _ = outlier_problem(300, 10, seed=4)
    M2 = procrustes_rotation(A, B)
    solver = StiefelFlowSolver(time_budget=2.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a slow machine may spend the budget
        res = solver.solve(A, B, initial=M2)
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol, initial=M2)
    assert res.n_steps >= 50
    assert res.orthogonality_error <= 1e-5
    assert np.linalg.norm(res.rotation - R) < 0.9 * np.linalg.norm(M2 - R)


# ------------------------------------------------------------ trajectory oracles (issue 3)
def _reference_rhs(A, B, alpha):
    """Eq. 7 written out independently of the package, for a smooth (moderate-α) right-hand side."""
    d = A.shape[1]

    def rhs(t, y):
        M = y.reshape(d, d)
        Z = alpha * (A @ M - B)
        with np.errstate(over="ignore"):  # cosh(Z) = inf gives the correct Z/inf = 0
            c = np.cosh(Z)
            G = A.T @ (np.tanh(Z) + Z / c / c)
        P = 0.5 * M @ (M.T @ G - G.T @ M) + (np.eye(d) - M @ M.T) @ G
        return -P.ravel()

    return rhs


@pytest.mark.parametrize("alpha", [10.0, 100.0])
def test_vode_matches_fine_explicit_integration(alpha):
    A, B, _, _ = outlier_problem(300, 20, seed=5)
    solver = StiefelFlowSolver(alpha=alpha, max_time=2e-3, min_decrease=None, gemm_dtype="float64")
    res = solver.solve(A, B)
    assert res.stop_reason == "max_time"
    assert res.n_steps == 2000
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol)
    picks = np.arange(100, 2001, 100)  # 20 output times, 1e-4 apart
    ts = res.times[picks]
    ref = solve_ivp(_reference_rhs(A, B, alpha), (0.0, ts[-1]), np.eye(20).ravel(), method="DOP853",
                    rtol=1e-12, atol=1e-12, t_eval=ts)
    assert ref.success
    ref_loss = np.array([l1_loss(A, y.reshape(20, 20), B) for y in ref.y.T])
    assert_allclose(res.loss_curve[picks], ref_loss, rtol=1e-6)
    # The comparison is not vacuous: the loss moves far more than the tolerance.
    assert ref_loss[-1] < (1 - 1e-3) * res.initial_loss


def test_cayley_matches_vode_at_paper_alpha():
    A, B, _, _ = outlier_problem(300, 20, seed=6)
    M2 = procrustes_rotation(A, B)
    vode = StiefelFlowSolver(max_time=1e-3, min_decrease=None).solve(A, B, initial=M2)
    cay = StiefelFlowSolver(integrator="cayley", cayley_step=1e-6, max_time=1e-3,
                            min_decrease=None).solve(A, B, initial=M2)
    m = min(len(vode.times), len(cay.times))
    assert m >= 500
    assert_allclose(cay.times[:m], vode.times[:m], rtol=1e-9)
    assert_allclose(cay.loss_curve[:m], vode.loss_curve[:m], rtol=1e-5)
    assert vode.loss_curve[m - 1] < 0.97 * vode.initial_loss
    # A coarser Cayley step still follows the same flow.
    cay5 = StiefelFlowSolver(integrator="cayley", cayley_step=5e-6, max_time=1e-3,
                             min_decrease=None).solve(A, B, initial=M2)
    idx = np.arange(0, m, 5)
    assert_allclose(cay5.loss_curve[: len(idx)], vode.loss_curve[idx][: len(cay5.loss_curve)], rtol=1e-5)


@pytest.mark.parametrize("integrator, kw, n_out", [
    ("vode", {"max_time": 1.5e-4}, 151),
    ("cayley", {"max_time": 5e-4}, 11),
])
def test_gemm_float32_matches_float64(integrator, kw, n_out):
    # The documented agreement (solvers.rst): loss curves to 1e-6 relative, maps to 1e-5.
    A, B, _, _ = outlier_problem(500, 20, seed=7)
    M2 = procrustes_rotation(A, B)
    kw = dict(kw, integrator=integrator, min_decrease=None)
    r32 = StiefelFlowSolver(gemm_dtype="float32", **kw).solve(A, B, initial=M2)
    r64 = StiefelFlowSolver(gemm_dtype="float64", **kw).solve(A, B, initial=M2)
    assert r32.stop_reason == r64.stop_reason == "max_time"
    assert len(r32.loss_curve) == len(r64.loss_curve) == n_out
    assert_allclose(r32.loss_curve, r64.loss_curve, rtol=1e-6)
    assert_allclose(r32.rotation, r64.rotation, atol=1e-5)
    assert r64.loss_curve[-1] < 0.95 * r64.initial_loss
    # float32 is really used: the runs differ, and the loss is still the exact float64 one.
    assert not np.array_equal(r32.rotation, r64.rotation)
    assert r32.loss == l1_loss(A, r32.rotation, B)


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_the_whole_solve_runs_on_one_blas_thread_and_restores_the_callers(integrator):
    A, B, _, _ = outlier_problem(300, 10, seed=3)
    seen = []
    with blas_threads(2):
        before = blas_thread_counts()
        StiefelFlowSolver(integrator=integrator, max_time=2e-4, min_decrease=None).solve(
            A, B, callback=lambda t, M, loss: seen.append(blas_thread_counts()))
        after = blas_thread_counts()
    assert seen and all(set(counts.values()) == {1} for counts in seen)
    # Every pool seen inside (NumPy's and, once loaded, SciPy's own) is back as it was.
    assert after == before
    assert set(seen[0]) <= set(after)


@pytest.mark.parametrize("integrator, kw", [("vode", {"max_time": 5e-6, "ortho_tol": 1.0}),
                                            ("cayley", {"max_time": 5e-4})])
def test_answer_is_bit_identical_whatever_the_callers_blas_threads(integrator, kw):
    # d = 120: products large enough for OpenBLAS to split them across threads.
    A, B, _, _ = outlier_problem(600, 120, seed=3)
    runs = []
    for n in (1, 2):
        with blas_threads(n):
            runs.append(StiefelFlowSolver(integrator=integrator, min_decrease=None, **kw).solve(A, B))
    one, two = runs
    assert one.n_rhs == two.n_rhs and one.n_steps == two.n_steps >= 5
    assert_array_equal(one.loss_curve, two.loss_curve)
    assert_array_equal(one.rotation, two.rotation)


def test_vode_caps_bdf_order_at_5():
    # Documented: VODE silently reduces order=15 to 5 for BDF, so the two runs are identical,
    # while a lower cap does change the run (the parameter does reach VODE).
    A, B, _, _ = outlier_problem(300, 20, seed=5)
    kw = dict(alpha=10.0, max_time=2e-3, min_decrease=None, gemm_dtype="float64")
    r15 = StiefelFlowSolver(order=15, **kw).solve(A, B)
    r5 = StiefelFlowSolver(order=5, **kw).solve(A, B)
    r2 = StiefelFlowSolver(order=2, **kw).solve(A, B)
    assert_array_equal(r15.loss_curve, r5.loss_curve)
    assert r15.n_rhs == r5.n_rhs
    assert r2.n_rhs != r5.n_rhs


# ----------------------------------------------------------------------- each stop reason
@pytest.fixture
def small_problem():
    A, B, R, _ = outlier_problem(300, 10, seed=8)
    return A, B


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_stop_loss_increased(small_problem, integrator):
    A, B = small_problem
    if integrator == "cayley":
        # A huge step over a long horizon overshoots the minimum.
        solver = StiefelFlowSolver(integrator="cayley", cayley_step=2e-3, max_time=0.5, min_decrease=None)
        initial = None
    else:
        # Started at the ℓ1 minimum, the flow can only go up.
        solver = StiefelFlowSolver(min_decrease=None)
        initial = HuberContinuationSolver().solve(A, B).rotation
    res = solver.solve(A, B, initial=initial)
    assert res.stop_reason is StopReason.LOSS_INCREASED
    assert "rose" in res.message and "kept the map" in res.message
    assert res.t < solver.max_time
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol, initial=initial)
    if integrator == "cayley":
        # The discarded step: one more Cayley step from the returned map raises the loss.
        M = res.rotation
        G, _ = smoothed_gradient(A, M, B, solver.alpha)
        M_next = cayley_step(M, skew(M.T @ G), solver.cayley_step)
        assert l1_loss(A, M_next, B) > res.loss


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_stop_small_decrease_huge_threshold(small_problem, integrator):
    A, B = small_problem
    solver = StiefelFlowSolver(integrator=integrator, min_decrease=1e6)
    res = solver.solve(A, B)
    assert res.stop_reason is StopReason.SMALL_DECREASE
    assert res.n_steps == 1
    assert "fell by" in res.message
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol)
    assert res.loss < res.initial_loss  # the step is accepted, then the run stops


@pytest.mark.parametrize("integrator, n, d", [("vode", 300, 10), ("cayley", 300, 10)])
def test_stop_small_decrease_default_on_almost_solved_problem(integrator, n, d):
    # Inlier-only noise: the ℓ2 solution is almost the ℓ1 minimum.
    A, B, _ = planted_problem(n, d, noise=0.01, seed=3)
    M2 = procrustes_rotation(A, B)
    solver = StiefelFlowSolver(integrator=integrator)
    res = solver.solve(A, B, initial=M2)
    assert res.stop_reason is StopReason.SMALL_DECREASE
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol, initial=M2)
    # The published rule, 5e-3 per 1e-6 of flow time, scaled to the step taken.
    per_step = solver.min_decrease * (solver.cayley_step if integrator == "cayley" else solver.step) / solver.step
    drops = -np.diff(res.loss_curve)
    assert drops[-1] < per_step
    assert np.all(drops[:-1] >= per_step)


def test_stop_orthogonality_tiny_tolerance(small_problem):
    A, B = small_problem
    res = StiefelFlowSolver(ortho_tol=1e-14).solve(A, B)
    assert res.stop_reason is StopReason.ORTHOGONALITY
    assert res.n_steps == 0
    assert_array_equal(res.rotation, np.eye(10))
    assert "left the orthogonal manifold" in res.message and "ortho_tol=1e-14" in res.message
    check_result_invariants(res, A, B, ortho_tol=1e-14)


def test_stop_orthogonality_loose_integration(small_problem):
    # Loose tolerances let VODE drift off the manifold; the drifting step is discarded.
    A, B = small_problem
    solver = StiefelFlowSolver(atol=1e-2, rtol=1e-2, min_decrease=None)
    res = solver.solve(A, B)
    assert res.stop_reason is StopReason.ORTHOGONALITY
    assert res.n_steps >= 10
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol)
    assert 1e-7 < res.orthogonality_error <= 1e-5


def test_stop_orthogonality_cayley():
    A, B, _, _ = outlier_problem(200, 6, seed=9)
    res = StiefelFlowSolver(integrator="cayley", ortho_tol=1e-17).solve(A, B)
    assert res.stop_reason is StopReason.ORTHOGONALITY
    assert res.n_steps == 0


@pytest.mark.parametrize("integrator, max_time, n_steps", [("vode", 5e-6, 5), ("cayley", 2e-4, 4)])
def test_stop_max_time(small_problem, integrator, max_time, n_steps):
    A, B = small_problem
    solver = StiefelFlowSolver(integrator=integrator, max_time=max_time, min_decrease=None)
    res = solver.solve(A, B)
    assert res.stop_reason is StopReason.MAX_TIME
    assert res.n_steps == n_steps
    assert res.t == pytest.approx(max_time, rel=1e-12)
    assert "max_time" in res.message
    check_result_invariants(res, A, B, ortho_tol=solver.ortho_tol)


@pytest.mark.parametrize(
    "integrator, step_param, max_time",
    [
        ("cayley", {"cayley_step": 5e-5}, 1.2e-4),   # 2.4 steps
        ("cayley", {"cayley_step": 5e-5}, 2e-5),     # less than one step
        ("vode", {"step": 1e-6}, 2.4e-6),
        ("vode", {"step": 1e-6}, 2.5e-7),            # less than one output step
    ],
)
def test_max_time_not_a_multiple_of_the_step_is_reached(small_problem, integrator, step_param, max_time):
    # The horizon is max_time, whatever the output step; the last step is shortened to land on it.
    A, B = small_problem
    res = StiefelFlowSolver(integrator=integrator, max_time=max_time, min_decrease=None,
                            **step_param).solve(A, B)
    assert res.stop_reason is StopReason.MAX_TIME
    assert res.n_steps >= 1
    assert res.t == pytest.approx(max_time, rel=1e-9), (
        f"stopped at t={res.t:g} but reported {res.message!r}")


def test_stop_integrator_failure_nsteps(small_problem):
    A, B = small_problem
    with pytest.warns(ConvergenceWarning, match="VODE failed"):
        res = StiefelFlowSolver(nsteps=1).solve(A, B)
    assert res.stop_reason is StopReason.INTEGRATOR_FAILURE
    assert res.n_steps == 0
    assert_array_equal(res.rotation, np.eye(10))
    assert "kept the map at t=0" in res.message
    check_result_invariants(res, A, B, ortho_tol=1e-5)


def _failing_ode(fail_at):
    """A SciPy ``ode`` whose ``fail_at``-th ``integrate`` call reports failure."""

    class FailingODE(ode):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.n_calls = 0

        def integrate(self, *args, **kwargs):
            self.n_calls += 1
            return super().integrate(*args, **kwargs)

        def successful(self):
            return self.n_calls < fail_at and super().successful()

    return FailingODE


def test_stop_integrator_failure_keeps_best_map(small_problem, monkeypatch):
    A, B = small_problem
    ok = StiefelFlowSolver(max_time=3e-6, min_decrease=None).solve(A, B)
    monkeypatch.setattr(flow_module, "ode", _failing_ode(4))
    with pytest.warns(ConvergenceWarning, match="VODE failed"):
        res = StiefelFlowSolver(min_decrease=None).solve(A, B)
    assert res.stop_reason is StopReason.INTEGRATOR_FAILURE
    assert res.n_steps == 3
    assert "kept the map at t=3e-06" in res.message
    assert_allclose(res.rotation, ok.rotation, rtol=0, atol=1e-12)
    assert_array_equal(res.loss_curve, ok.loss_curve)
    check_result_invariants(res, A, B, ortho_tol=1e-5)


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_stop_time_budget(small_problem, integrator):
    A, B = small_problem
    with pytest.warns(ConvergenceWarning, match="time_budget=0 s ran out"):
        res = StiefelFlowSolver(integrator=integrator, time_budget=0, min_decrease=None).solve(A, B)
    assert res.stop_reason is StopReason.TIME_BUDGET
    assert res.n_steps == 1  # the budget is checked after each accepted step
    assert res.loss < res.initial_loss
    check_result_invariants(res, A, B, ortho_tol=1e-5)


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_stop_interrupted_by_callback(small_problem, integrator):
    A, B = small_problem
    seen = []

    def callback(t, M, loss):
        seen.append((t, M.copy(), loss))
        if len(seen) == 3:
            raise KeyboardInterrupt

    res = solve_expecting_interrupt(StiefelFlowSolver(integrator=integrator, min_decrease=None), A, B,
                                    callback=callback)
    assert res.stop_reason is StopReason.INTERRUPTED
    assert "best map so far" in res.message
    assert len(seen) == 3 and res.n_steps == 3
    t, M, loss = seen[-1]
    assert_array_equal(res.rotation, M)
    assert res.loss == loss and res.t == t
    assert [s[2] for s in seen] == list(res.loss_curve[1:])
    check_result_invariants(res, A, B, ortho_tol=1e-5)


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_stop_interrupted_inside_right_hand_side(small_problem, integrator, monkeypatch):
    # A real Ctrl-C lands where the time is spent: inside the gradient evaluation, which for
    # VODE runs as a callback from Fortran. The work done so far must not be lost.
    A, B = small_problem
    interrupt_on_call(monkeypatch, flow_module, "smoothed_abs_derivative", 30)
    res = solve_expecting_interrupt(StiefelFlowSolver(integrator=integrator, min_decrease=None), A, B)
    assert res.stop_reason is StopReason.INTERRUPTED
    assert res.n_steps >= 1
    check_result_invariants(res, A, B, ortho_tol=1e-5)


def test_messages_are_distinct_and_readable(small_problem):
    A, B = small_problem
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        results = {
            "max_time": StiefelFlowSolver(max_time=2e-6, min_decrease=None).solve(A, B),
            "small_decrease": StiefelFlowSolver(min_decrease=1e6).solve(A, B),
            "orthogonality": StiefelFlowSolver(ortho_tol=1e-14).solve(A, B),
            "integrator_failure": StiefelFlowSolver(nsteps=1).solve(A, B),
            "time_budget": StiefelFlowSolver(time_budget=0).solve(A, B),
            "loss_increased": StiefelFlowSolver(integrator="cayley", cayley_step=2e-3, max_time=0.5,
                                                min_decrease=None).solve(A, B),
        }
    for reason, res in results.items():
        assert res.stop_reason == reason
        assert "\n" not in res.message and "None" not in res.message
    assert len({r.message for r in results.values()}) == len(results)


# ------------------------------------------------------------------------------- inputs
@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_non_orthogonal_initial_raises(small_problem, integrator):
    A, B = small_problem
    bad = np.eye(10)
    bad[0, 1] = 1e-3
    with pytest.raises(ValueError, match=r"initial must be orthogonal.*Got 0.001 instead"):
        StiefelFlowSolver(integrator=integrator).solve(A, B, initial=bad)
    # Within ortho_tol is accepted.
    ok = np.eye(10)
    ok[0, 1] = 1e-7
    StiefelFlowSolver(integrator=integrator, max_time=2e-4).solve(A, B, initial=ok)


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda A, B: (A[:, :5], B, None), "same shape"),
        (lambda A, B: (A[:10], B, None), "same shape"),
        (lambda A, B: (A[:, 0], B[:, 0], None), "must be 2-D"),
        (lambda A, B: (A[:0], B[:0], None), "non-empty"),
        (lambda A, B: (np.where(np.arange(10) == 3, np.nan, A), B, None), "must be finite"),
        (lambda A, B: (A, np.where(np.arange(10) == 3, np.inf, B), None), "must be finite"),
        (lambda A, B: (A.astype(complex), B, None), "must be real"),
        (lambda A, B: (A, B, np.eye(9)), r"initial must have shape \(10, 10\)"),
        (lambda A, B: (A, B, np.eye(10).ravel()), r"initial must have shape \(10, 10\)"),
        (lambda A, B: (A, B, np.full((10, 10), np.nan)), "initial must be finite"),
        (lambda A, B: (A, B, np.eye(10, dtype=complex)), "initial must be real"),
    ],
)
def test_bad_inputs_raise(small_problem, make, fragment):
    A, B, initial = make(*small_problem)
    with pytest.raises(ValueError, match=fragment):
        StiefelFlowSolver().solve(A, B, initial=initial)


@pytest.mark.parametrize(
    "params",
    [{"integrator": "rk4"}, {"method": "radau"}, {"alpha": 0.0}, {"step": -1e-6}, {"gemm_dtype": "float16"},
     {"ortho_tol": 0}, {"min_decrease": -1.0}, {"time_budget": -1}, {"nsteps": 0}],
)
def test_bad_parameters_raise(small_problem, params):
    with pytest.raises(ValueError, match=f"'{next(iter(params))}' parameter of StiefelFlowSolver"):
        StiefelFlowSolver(**params).solve(*small_problem)


def test_float32_and_list_inputs(small_problem):
    A, B = small_problem
    ref = StiefelFlowSolver(integrator="cayley", max_time=5e-4).solve(A.astype(np.float32), B.astype(np.float32))
    lst = StiefelFlowSolver(integrator="cayley", max_time=5e-4).solve(
        A.astype(np.float32).tolist(), B.astype(np.float32).tolist())
    assert ref.rotation.dtype == np.float64
    assert_array_equal(ref.rotation, lst.rotation)


# ------------------------------------------------------------------- determinism, logging
@pytest.mark.parametrize("integrator, kw", [("vode", {"max_time": 2e-4}), ("cayley", {})])
def test_deterministic(integrator, kw):
    A, B, _, _ = outlier_problem(500, 20, seed=10)
    M2 = procrustes_rotation(A, B)
    r1 = StiefelFlowSolver(integrator=integrator, **kw).solve(A, B, initial=M2)
    r2 = StiefelFlowSolver(integrator=integrator, **kw).solve(A, B, initial=M2)
    assert_allclose(r1.rotation, r2.rotation, rtol=0, atol=1e-12)
    assert_array_equal(r1.loss_curve, r2.loss_curve)
    assert r1.stop_reason == r2.stop_reason and r1.n_rhs == r2.n_rhs


def test_warning_free_under_strict_settings(small_problem):
    A, B = small_problem
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            for integrator in ("vode", "cayley"):
                res = StiefelFlowSolver(integrator=integrator, max_time=1e-4, min_decrease=None).solve(A, B)
                assert res.stop_reason in ("max_time", "loss_increased")


def test_verbose_logging(small_problem, caplog):
    A, B = small_problem
    with caplog.at_level(logging.INFO, logger="sklearn_l1align"):
        StiefelFlowSolver(integrator="cayley", max_time=2e-4, min_decrease=None, verbose=1).solve(A, B)
    assert len(caplog.records) == 1 and "max_time" in caplog.records[0].getMessage()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_l1align"):
        StiefelFlowSolver(integrator="cayley", max_time=2e-4, min_decrease=None, verbose=2).solve(A, B)
    assert len(caplog.records) == 4 + 1
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="sklearn_l1align"):
        StiefelFlowSolver(integrator="cayley", max_time=2e-4, min_decrease=None).solve(A, B)
    assert not caplog.records


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("integrator", ["vode", "cayley"])
def test_progress_line_at_verbose_1_shows_flow_time_fraction_and_loss(small_problem, integrator,
                                                                      monkeypatch):
    A, B = small_problem
    for verbose, drawn in ((0, False), (1, True)):
        term = _Terminal()
        monkeypatch.setattr(sys, "stderr", term)
        res = StiefelFlowSolver(integrator=integrator, max_time=2e-4, min_decrease=None,
                                verbose=verbose).solve(A, B)
        out = term.getvalue()
        lines = [line for line in out.replace("\r", "\n").splitlines() if "flow" in line]
        assert bool(lines) is drawn
        if drawn:
            # The final state: the whole horizon, the final loss and the elapsed seconds.
            assert "100% (0.0002/0.0002)" in lines[-1]
            assert f"ℓ1 loss {res.loss:.6g}" in lines[-1]
            assert re.search(r" \d+\.\d s ", lines[-1])


def test_vode_logs_its_time_estimate_before_and_after_the_first_steps(small_problem, caplog):
    A, B = small_problem
    with caplog.at_level(logging.INFO, logger="sklearn_l1align"):
        StiefelFlowSolver(max_time=1e-5, min_decrease=None, verbose=1).solve(A, B)
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == 3
    assert "up to 10 output steps" in messages[0] and "max_time=1e-05" in messages[0]
    match = re.search(r"([\d.e+-]+) s per output step, so at most (\d+) s more for the 7 steps", messages[1])
    assert match and "upper bound" in messages[1]
    assert "max_time" in messages[2]


def test_horizon_message_says_flow_time_not_seconds(small_problem):
    A, B = small_problem
    for integrator in ("vode", "cayley"):
        res = StiefelFlowSolver(integrator=integrator, max_time=2e-4, min_decrease=None).solve(A, B)
        assert res.stop_reason is StopReason.MAX_TIME
        assert "flow-time horizon max_time=0.0002" in res.message
        assert "not seconds" in res.message and "time_budget caps wall-clock seconds" in res.message
