"""Tests of ``StiefelFlowSolver`` (VODE and Cayley), ``SolverResult`` and ``StopReason``."""

import logging
import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import ode, solve_ivp
from sklearn.exceptions import ConvergenceWarning

from _helpers import planted_problem
from sklearn_l1align import (
    HuberContinuationSolver,
    SolverResult,
    StiefelFlowSolver,
    StopReason,
    procrustes_rotation,
)
from sklearn_l1align import _solvers
from sklearn_l1align._flow import cayley_step, l1_loss, skew, smoothed_gradient
from sklearn_l1align._validation import orthogonality_error


def outlier_problem(n=1000, d=20, *, frac=0.08, noise=0.01, scale=5.0, seed=0):
    """``planted_problem`` with a fraction ``frac`` of the rows of ``Y`` replaced by gross outliers.

    Returns ``X, Y, R, rows``: ``Y = X R + noise`` except on ``rows``, which hold unrelated
    vectors ``scale`` times larger than the inliers' noise-free values.
    """
    X, Y, R = planted_problem(n, d, noise=noise, seed=seed)
    rng = np.random.default_rng(seed + 1000)
    rows = rng.choice(n, int(round(frac * n)), replace=False)
    Y[rows] = scale * rng.normal(size=(len(rows), d))
    return X, Y, R, rows


def check_result_invariants(res, A, B, *, ortho_tol, monotone=True, initial=None):
    """What every SolverResult promises, whatever the stop."""
    assert isinstance(res, SolverResult)
    assert isinstance(res.stop_reason, StopReason)
    assert isinstance(res.message, str) and len(res.message) > 10
    n = res.n_steps + 1
    assert len(res.loss_curve) == len(res.times) == len(res.wall_times) == n
    assert res.n_iter == res.n_steps
    start = np.eye(A.shape[1]) if initial is None else initial
    assert res.loss_curve[0] == res.initial_loss
    assert res.initial_loss == pytest.approx(l1_loss(A, start, B), rel=1e-12)
    # The returned map is the best accepted one: never above the start.
    assert res.loss <= res.initial_loss
    assert res.loss == pytest.approx(l1_loss(A, res.rotation, B), rel=1e-12)
    assert res.loss == pytest.approx(min(res.loss_curve), rel=1e-15)
    if monotone:
        assert np.all(np.diff(res.loss_curve) <= 0)
        assert res.loss == res.loss_curve[-1]
        assert res.t == res.times[-1]
    assert np.all(np.diff(res.times) > 0)
    assert np.all(np.diff(res.wall_times) >= 0)
    assert res.wall_time >= res.wall_times[-1]
    # VODE may take internal steps longer than the output step, so n_rhs can be < n_steps.
    assert res.n_rhs >= (1 if res.n_steps else 0)
    assert res.orthogonality_error == pytest.approx(orthogonality_error(res.rotation), abs=1e-18)
    assert res.orthogonality_error <= ortho_tol
    assert res.rotation.shape == (A.shape[1],) * 2 and res.rotation.dtype == np.float64


def solve_expecting_interrupt(solver, *args, **kwargs):
    """``solver.solve(...)`` where a KeyboardInterrupt is injected; it must be caught by the solver.

    An interrupt that escapes (raw, or turned into another exception) fails this test only,
    instead of stopping the whole pytest session.
    """
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = solver.solve(*args, **kwargs)
        except KeyboardInterrupt:
            pytest.fail("the KeyboardInterrupt escaped from solve()")
        except Exception as exc:  # noqa: BLE001 - report what the interrupt turned into
            pytest.fail(f"the KeyboardInterrupt escaped from solve() as {type(exc).__name__}: {exc}")
    assert [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)] == [res.message]
    assert "interrupted" in res.message
    return res


# ---------------------------------------------------------------------------- StopReason
def test_stop_reason_members_are_strings():
    expected = {"loss_increased", "small_decrease", "orthogonality", "max_time",
                "integrator_failure", "time_budget", "interrupted", "converged", "max_iter"}
    assert {m.value for m in StopReason} == expected
    for member in StopReason:
        assert member == member.value
        assert str(member) == member.value
        assert f"{member}" == member.value
        assert StopReason(member.value) is member
    assert StopReason.MAX_TIME != "max_iter"


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


def test_gemm_float32_matches_float64():
    A, B, _, _ = outlier_problem(500, 20, seed=7)
    M2 = procrustes_rotation(A, B)
    kw = dict(max_time=1.5e-4, min_decrease=None)
    r32 = StiefelFlowSolver(gemm_dtype="float32", **kw).solve(A, B, initial=M2)
    r64 = StiefelFlowSolver(gemm_dtype="float64", **kw).solve(A, B, initial=M2)
    assert r32.stop_reason == r64.stop_reason == "max_time"
    assert len(r32.loss_curve) == len(r64.loss_curve) == 151
    assert_allclose(r32.loss_curve, r64.loss_curve, rtol=1e-6)
    assert_allclose(r32.rotation, r64.rotation, atol=1e-5)
    assert r64.loss_curve[-1] < 0.95 * r64.initial_loss


def _blas_threads():
    from threadpoolctl import threadpool_info

    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


def test_vode_runs_scipys_own_blas_on_one_thread_and_leaves_numpys_alone():
    before = _blas_threads()
    scipy_libs = [p for p in before if "scipy.libs" in p]
    if len(before) < 2 or not scipy_libs:
        pytest.skip("NumPy and SciPy share one BLAS here: there is no second pool to limit")
    from threadpoolctl import threadpool_limits

    with threadpool_limits(2, user_api="blas"):
        base = _blas_threads()
        with _solvers._scipy_own_blas_single_thread():
            inside = _blas_threads()
        assert _blas_threads() == base
    for path, n in base.items():
        assert inside[path] == (1 if path in scipy_libs else n)


def test_vode_answer_does_not_depend_on_the_blas_thread_limit(monkeypatch):
    # VODE's vector work is elementwise, so one or two threads in SciPy's pool give the
    # same trajectory bit for bit; d = 120 makes the state (14,400) long enough to thread.
    A, B, _, _ = outlier_problem(600, 120, seed=3)
    kw = dict(max_time=5e-6, min_decrease=None, ortho_tol=1.0)
    limited = StiefelFlowSolver(**kw).solve(A, B)
    import contextlib

    monkeypatch.setattr(_solvers, "_scipy_own_blas_single_thread", contextlib.nullcontext)
    free = StiefelFlowSolver(**kw).solve(A, B)
    assert limited.n_rhs == free.n_rhs
    assert_array_equal(limited.loss_curve, free.loss_curve)
    assert_array_equal(limited.rotation, free.rotation)


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
    monkeypatch.setattr(_solvers, "ode", _failing_ode(4))
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
    real = _solvers.smoothed_gradient
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == 30:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(_solvers, "smoothed_gradient", interrupting)
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
