"""Tests of ``_solvers._result``: ``StopReason``, ``SolverResult``, the tracker, checks, warning stacklevel."""

import time
import warnings

import numpy as np
import pytest
from _solver_helpers import outlier_problem
from numpy.testing import assert_array_equal
from sklearn.exceptions import ConvergenceWarning

from sklearn_l1align import (
    L1ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
)
from sklearn_l1align._solvers import SolverResult, StopReason
from sklearn_l1align._solvers._result import (
    WARN_REASONS,
    Tracker,
    check_problem,
    gemm_copy,
    initial_map,
    warning_stacklevel,
)


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
    assert WARN_REASONS == {"integrator_failure", "time_budget", "interrupted", "max_iter"}


# ------------------------------------------------------------------------------ checks
def test_check_problem_returns_contiguous_float64():
    A = np.asfortranarray(np.arange(12, dtype=np.float32).reshape(4, 3))
    A2, B2 = check_problem(A, A.tolist())
    for X in (A2, B2):
        assert X.dtype == np.float64 and X.flags.c_contiguous
        assert_array_equal(X, A)


@pytest.mark.parametrize("A, B, fragment", [
    (np.ones((3, 2)), np.ones((3, 3)), r"same shape. Got \(3, 2\) and \(3, 3\) instead"),
    (np.ones(3), np.ones(3), "must be 2-D"),
    (np.ones((0, 2)), np.ones((0, 2)), "non-empty"),
    (np.full((2, 2), np.nan), np.ones((2, 2)), "must be finite"),
    (np.ones((2, 2), dtype=complex), np.ones((2, 2)), "A must be real"),
])
def test_check_problem_rejects(A, B, fragment):
    with pytest.raises(ValueError, match=fragment):
        check_problem(A, B)


def test_initial_map_and_gemm_copy():
    assert_array_equal(initial_map(None, 3, 1e-5), np.eye(3))
    with pytest.raises(ValueError, match="initial must be orthogonal"):
        initial_map(2 * np.eye(3), 3, 1e-5)
    A = np.random.default_rng(0).normal(size=(5, 3))
    assert gemm_copy(A, "float64") is A
    assert gemm_copy(A, "float32").dtype == np.float32


# ----------------------------------------------------------------------------- tracker
def test_tracker_keeps_the_best_and_calls_back():
    seen = []
    track = Tracker(np.eye(2), 10.0, 0.0, None, lambda t, M, loss: seen.append((t, loss)), 0)
    worse, better = 2 * np.eye(2), 3 * np.eye(2)
    track.accept(worse, 12.0, 1.0)
    track.accept(better, 8.0, 2.0)
    track.accept(worse, 9.0, 3.0)
    assert seen == [(1.0, 12.0), (2.0, 8.0), (3.0, 9.0)]
    assert track.loss == 8.0 and track.M is better
    assert not track.over_budget()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        res = track.result(StopReason.CONVERGED, "a readable message", t=3.0)
    assert isinstance(res, SolverResult) and res.n_iter == res.n_steps == 3
    assert res.loss == 8.0 and res.initial_loss == 10.0 and res.rotation is better
    assert_array_equal(res.loss_curve, [10.0, 12.0, 8.0, 9.0])
    assert_array_equal(res.times, [0.0, 1.0, 2.0, 3.0])
    assert res.orthogonality_error == 8.0  # max|9I − I|


def test_tracker_budget_and_warning():
    track = Tracker(np.eye(2), 1.0, 0, 0.0, None, 0)
    time.sleep(0.001)
    assert track.over_budget()
    with pytest.warns(ConvergenceWarning, match="ran out"):
        res = track.result("time_budget", "time_budget=0 s ran out", t=0)
    assert res.stop_reason is StopReason.TIME_BUDGET


# ---------------------------------------------------------------------- warning stacklevel
def _inner():
    return warning_stacklevel()


def test_warning_stacklevel_outside_the_package_is_one():
    # Called from a frame outside the package, the warning points at that frame itself.
    assert warning_stacklevel() == 1
    assert _inner() == 1


def test_convergence_warning_points_at_the_callers_line():
    A, B, _, _ = outlier_problem(200, 6, seed=1)
    cases = {
        "solve, VODE": lambda: StiefelFlowSolver(time_budget=0).solve(A, B),
        "solve, Cayley": lambda: StiefelFlowSolver(integrator="cayley", time_budget=0).solve(A, B),
        "solve, minimiser": lambda: RiemannianSubgradientSolver(max_iter=1).solve(A, B),
        "fit": lambda: L1ProcrustesAligner(
            dictionary="paired", solver=StiefelFlowSolver(integrator="cayley", time_budget=0)).fit(A, B),
    }
    for name, call in cases.items():
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            call()
        found = [w for w in caught if w.category is ConvergenceWarning]
        assert found, name
        # Every one names this file, at the line of the lambda above.
        assert {w.filename for w in found} == {__file__}, name
