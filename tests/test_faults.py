"""Faults: failing, interrupted and out-of-time solvers, and determinism.

Every solver, and ``L1ProcrustesAligner.fit`` around it, must come back from a fault with
the best orthogonal map found so far (never worse than the start), say why it stopped,
and warn with ``ConvergenceWarning``. Results must not depend on the run. (A killed
``l1align`` process, and every other fault of the output commit, is in ``test_commit.py``.)
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.integrate import ode
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_limits

from _helpers import planted_problem
from _solver_helpers import interrupt_on_call
from sklearn_l1align import (
    CSLSDictionaryBuilder,
    HuberContinuationSolver,
    L1ProcrustesAligner,
    ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    StopReason,
)
from sklearn_l1align._geometry import orthogonality_error
from sklearn_l1align._objective import l1_loss
from sklearn_l1align._solvers import _flow as flow_module
from sklearn_l1align._solvers import _result

ORTHO_TOL = 1e-5

#: The four solvers, each with settings that keep it running long enough to be stopped.
SOLVERS = {
    "vode": lambda **kw: StiefelFlowSolver(integrator="vode", min_decrease=None, **kw),
    "cayley": lambda **kw: StiefelFlowSolver(integrator="cayley", min_decrease=None, **kw),
    "huber": lambda **kw: HuberContinuationSolver(**kw),
    "subgradient": lambda **kw: RiemannianSubgradientSolver(**kw),
}


@pytest.fixture(scope="module")
def problem():
    """A, B with gross outliers, so that there is ℓ1 loss to remove from the identity start."""
    A, B, _ = planted_problem(n=300, d=10, noise=0.01, seed=3)
    rows = np.random.default_rng(3).choice(300, 30, replace=False)
    B[rows] = 5 * np.random.default_rng(4).normal(size=(30, 10))
    return A, B


def _solve_warning(solver, A, B, **kwargs):
    """Solve, returning the result and the ConvergenceWarnings raised (failing on a leaked interrupt)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            res = solver.solve(A, B, **kwargs)
        except KeyboardInterrupt:
            pytest.fail("the KeyboardInterrupt escaped from solve()")
    return res, [w for w in caught if issubclass(w.category, ConvergenceWarning)]


def _assert_best_orthogonal(res, A, B):
    """The returned map is orthogonal, no worse than the start, and the best of its curve."""
    assert res.orthogonality_error <= ORTHO_TOL
    assert orthogonality_error(res.rotation) <= ORTHO_TOL
    assert res.loss <= res.initial_loss
    assert res.loss == pytest.approx(l1_loss(A, res.rotation, B), rel=1e-12)
    assert res.loss == pytest.approx(min(res.loss_curve), rel=1e-15)
    assert res.initial_loss == pytest.approx(l1_loss(A, np.eye(A.shape[1]), B), rel=1e-12)


def _failing_successful(fail_after):
    """A replacement for ``scipy.integrate.ode.successful`` that reports failure from call ``fail_after + 1``."""
    real = ode.successful
    calls = []

    def successful(self):
        calls.append(1)
        return len(calls) <= fail_after and real(self)

    return successful


# --------------------------------------------------------------------- integrator failure
def test_vode_unsuccessful_keeps_best_map(problem, monkeypatch):
    A, B = problem
    monkeypatch.setattr(ode, "successful", _failing_successful(5))
    res, warned = _solve_warning(SOLVERS["vode"](), A, B)
    assert res.stop_reason is StopReason.INTEGRATOR_FAILURE
    assert [str(w.message) for w in warned] == [res.message]
    assert "VODE failed" in res.message and "kept the map at t=5e-06" in res.message
    assert res.n_steps == 5
    assert res.loss < res.initial_loss
    _assert_best_orthogonal(res, A, B)


def test_vode_real_failure_from_nsteps(problem):
    # No monkeypatch: VODE itself gives up (excess work) on the first output step.
    A, B = problem
    res, warned = _solve_warning(SOLVERS["vode"](nsteps=1), A, B)
    assert res.stop_reason is StopReason.INTEGRATOR_FAILURE
    assert len(warned) == 1 and "VODE failed" in res.message
    assert_array_equal(res.rotation, np.eye(10))
    _assert_best_orthogonal(res, A, B)


def test_vode_failure_through_fit(problem, monkeypatch):
    A, B = problem
    monkeypatch.setattr(ode, "successful", _failing_successful(3))
    aligner = L1ProcrustesAligner(dictionary="paired", solver=SOLVERS["vode"]())
    with pytest.warns(ConvergenceWarning, match="VODE failed at t=.*kept the map at t=3e-06"):
        aligner.fit(A, B)
    assert aligner.solver_result_.stop_reason == "integrator_failure"
    assert_array_equal(aligner.rotation_, aligner.solver_result_.rotation)
    _assert_best_orthogonal(aligner.solver_result_, A, B)


# ----------------------------------------------------------------------------- interrupt
@pytest.mark.parametrize("name", list(SOLVERS))
def test_interrupt_from_callback_keeps_best_map(problem, name):
    A, B = problem
    seen = []

    def callback(t, M, loss):
        seen.append((M.copy(), loss))
        if len(seen) == 3:
            raise KeyboardInterrupt

    res, warned = _solve_warning(SOLVERS[name](), A, B, callback=callback)
    assert res.stop_reason is StopReason.INTERRUPTED
    assert [str(w.message) for w in warned] == [res.message]
    assert "interrupted" in res.message and "best map so far" in res.message
    assert len(seen) == 3
    best_M, best_loss = min(seen, key=lambda s: s[1])
    assert res.loss == best_loss
    assert_array_equal(res.rotation, best_M)
    assert res.loss < res.initial_loss
    _assert_best_orthogonal(res, A, B)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_interrupt_between_steps_through_fit(problem, name, monkeypatch):
    # A Ctrl-C between two steps: here, while the third accepted step is being recorded.
    A, B = problem
    interrupt_on_call(monkeypatch, _result.Tracker, "accept", 3)
    aligner = L1ProcrustesAligner(dictionary="paired", solver=SOLVERS[name]())
    with pytest.warns(ConvergenceWarning, match="interrupted"):
        try:
            aligner.fit(A, B)
        except KeyboardInterrupt:
            pytest.fail("the KeyboardInterrupt escaped from fit()")
    result = aligner.solver_result_
    assert result.stop_reason is StopReason.INTERRUPTED
    assert result.n_steps == 2 and result.loss < result.initial_loss
    assert_array_equal(aligner.rotation_, result.rotation)
    _assert_best_orthogonal(result, A, B)


@pytest.mark.parametrize("name", ["vode", "cayley"])
def test_interrupt_inside_gradient_through_fit(problem, name, monkeypatch):
    # A Ctrl-C lands where the time goes, inside the gradient; fit returns the best map so far.
    A, B = problem
    interrupt_on_call(monkeypatch, flow_module, "smoothed_abs_derivative", 25)
    aligner = L1ProcrustesAligner(dictionary="paired", solver=SOLVERS[name]())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        aligner.fit(A, B)
    assert [str(w.message) for w in caught if w.category is ConvergenceWarning] == [
        aligner.solver_result_.message]
    assert aligner.solver_result_.stop_reason is StopReason.INTERRUPTED
    assert aligner.solver_result_.n_steps >= 1
    _assert_best_orthogonal(aligner.solver_result_, A, B)


# ----------------------------------------------------------------------------- time budget
@pytest.mark.parametrize("name", list(SOLVERS))
def test_time_budget_zero_keeps_best_map(problem, name):
    A, B = problem
    res, warned = _solve_warning(SOLVERS[name](time_budget=0), A, B)
    assert res.stop_reason is StopReason.TIME_BUDGET
    assert [str(w.message) for w in warned] == [res.message]
    assert "time_budget=0" in res.message and "raise time_budget" in res.message
    # The flows check the budget after each accepted step, the minimisers before each iteration.
    assert res.n_steps == (1 if name in ("vode", "cayley") else 0)
    _assert_best_orthogonal(res, A, B)


@pytest.mark.parametrize("name", list(SOLVERS))
def test_time_budget_through_fit(problem, name):
    A, B = problem
    aligner = L1ProcrustesAligner(dictionary="paired", solver=SOLVERS[name](time_budget=0))
    with pytest.warns(ConvergenceWarning, match="time_budget=0 s ran out"):
        aligner.fit(A, B)
    assert aligner.solver_result_.stop_reason == "time_budget"
    assert orthogonality_error(aligner.rotation_) <= ORTHO_TOL
    _assert_best_orthogonal(aligner.solver_result_, A, B)


# ----------------------------------------------------------------------------- determinism
DETERMINISM_SOLVERS = {
    "vode": lambda: StiefelFlowSolver(max_time=2e-4),
    "cayley": lambda: StiefelFlowSolver(integrator="cayley"),
    "huber": HuberContinuationSolver,
    "subgradient": RiemannianSubgradientSolver,
}


@pytest.mark.parametrize("name", list(DETERMINISM_SOLVERS))
def test_solver_is_deterministic(problem, name):
    A, B = problem
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        first = DETERMINISM_SOLVERS[name]().solve(A, B)
        second = DETERMINISM_SOLVERS[name]().solve(A, B)
    assert_allclose(first.rotation, second.rotation, rtol=0, atol=1e-12)
    assert_array_equal(first.loss_curve, second.loss_curve)
    assert first.stop_reason == second.stop_reason


@pytest.mark.parametrize("solver", [StiefelFlowSolver(integrator="cayley"), HuberContinuationSolver()],
                         ids=["cayley", "huber"])
def test_refinement_rounds_are_deterministic(solver):
    # Three rounds: two of them re-induce the CSLS dictionary from the current map.
    X, Y, _ = planted_problem(n=400, d=12, noise=0.1, seed=5)
    X = X @ ProcrustesAligner(dictionary="paired").fit(X[:100], Y[:100]).rotation_
    fits = []
    with threadpool_limits(1):
        for _ in range(2):
            aligner = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None),
                                          solver=solver, n_refinements=2)
            fits.append(aligner.fit(X, Y))
    assert len(fits[0].solver_results_) == 3
    assert_allclose(fits[0].rotation_, fits[1].rotation_, rtol=0, atol=1e-12)
    assert_array_equal(fits[0].dictionary_, fits[1].dictionary_)
    assert fits[0].dictionary_sizes_ == fits[1].dictionary_sizes_
