"""Test helpers for the solver layer: random orthogonal and skew matrices, outlier problems,
the invariants every ``SolverResult`` promises, and a guard for injected interrupts.

Used by ``test_geometry.py``, ``test_objective.py`` and ``test_solvers_*.py`` (and, through the
``test_solvers`` re-export, by ``test_l1_procrustes.py``).
"""

import warnings

import numpy as np
import pytest
from _helpers import planted_problem
from sklearn.exceptions import ConvergenceWarning
from threadpoolctl import threadpool_info

from sklearn_l1align import SolverResult, StopReason
from sklearn_l1align._geometry import orthogonality_error
from sklearn_l1align._objective import l1_loss


def random_orthogonal(d, seed):
    """A Haar-random orthogonal ``d × d`` matrix."""
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def random_skew(d, seed, norm=1.0):
    """A random skew-symmetric ``d × d`` matrix of Frobenius norm ``norm``."""
    W = np.random.default_rng(seed).normal(size=(d, d))
    S = W - W.T
    return norm * S / np.linalg.norm(S)


def blas_thread_counts():
    """``{library path: threads}`` for every loaded BLAS."""
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


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


def interrupt_on_call(monkeypatch, owner, name, n):
    """Make ``owner.name`` raise KeyboardInterrupt on its ``n``-th call (a function or a method).

    A real Ctrl-C lands where the time is spent; this puts one there, deterministically.
    """
    real = getattr(owner, name)
    calls = []

    def interrupting(*args, **kwargs):
        calls.append(1)
        if len(calls) == n:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(owner, name, interrupting)


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
