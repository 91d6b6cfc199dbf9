"""The ℓ1 projected gradient flow on the orthogonal group (Peng, Lin & Stevenson 2021, Eq. 7).

:class:`StiefelFlowSolver` integrates ``dM/dt = −π(∇)`` either with SciPy's VODE, as the
paper does, or with a structure-preserving Cayley (Lie–Euler) scheme that keeps ``M``
orthogonal to rounding error.
"""

from __future__ import annotations

import logging
import numbers
import warnings
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
from scipy.integrate import ode
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from .._geometry import cayley_step, orthogonality_error, skew, tangent_projection
from .._logging import vlog
from .._objective import l1_loss, l1_norm, smoothed_abs_derivative
from .._threads import single_blas_thread
from ._products import SolverProducts
from ._result import (
    GEMM_DTYPES,
    StopReason,
    Tracker,
    check_problem,
    gemm_copy,
    initial_map,
)

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

    from ._result import SolverResult


logger = logging.getLogger(__name__)

__all__ = ["StiefelFlowSolver"]

#: The VODE path logs its time estimate after this many output steps: enough to be past
#: VODE's first, costlier steps (it starts at order 1 with a tiny step), few enough that the
#: estimate comes within seconds.
ESTIMATE_AFTER_STEPS = 3


def _n_steps(horizon, step):
    """Output steps needed to reach ``horizon``; the last one is shortened to land on it."""
    return max(1, int(np.ceil(horizon / step - 1e-9)))


class StiefelFlowSolver(BaseEstimator):
    """Integrate the ℓ1 projected gradient flow on the orthogonal group (Algorithm 1).

    Solves ``min_{M orthogonal} ||AM − B||_1`` approximately by following
    ``dM/dt = −π(∇)`` from ``M0`` (Eq. 7), where ``∇`` is the gradient of the
    smoothed loss ``Σ x·tanh(αx)`` (Eq. 5) and ``π`` the tangent projection (Eq. 6).
    After every output step of flow time ``step`` it checks the stops of the paper
    and of its published code, and keeps the last accepted map.

    Parameters
    ----------
    alpha : float, default=1e8
        Smoothing sharpness α of ``|x| ≈ x·tanh(αx)`` (paper, Eq. 4).
    step : float, default=1e-6
        Output interval in flow time: the loss is computed and the stops are checked
        once per step (paper's code).
    max_time : float, default=5e-3
        Integration horizon ``t_max`` (paper), in *flow time* ``t`` of Eq. 7, not in
        seconds: the wall-clock cap is ``time_budget``.
    atol, rtol : float, default=1e-7, 1e-5
        VODE's absolute and relative tolerances (paper).
    method : {"bdf", "adams"}, default="bdf"
        VODE's multistep family (paper: BDF).
    order : int, default=15
        VODE's maximum order (paper: 15). VODE caps BDF at order 5 and Adams at 12:
        it silently reduces a larger request, so ``order=15`` with BDF runs at up to 5.
        No Jacobian is passed (as in the paper), so VODE uses functional iteration.
    nsteps : int, default=500
        VODE's limit of internal steps per output step (SciPy's default); exceeding it
        is an ``integrator_failure``.
    gemm_dtype : {"float32", "float64"}, default="float32"
        Precision of the ``n × d × d`` products of the gradient, which dominate its cost:
        with VODE both products of the right-hand side (``AM`` and ``Aᵀg``); with Cayley
        ``Aᵀg``, while ``AM − B`` stays in float64 because it also gives the exact ℓ1
        loss that the stop rules compare. ``"float32"`` halves their time; the projection,
        the loss (summed in float64) and the stop rules stay in float64. Measured on a
        3,000 × 300 problem, the VODE loss trajectory agrees with float64 to 1e-8
        relative (``benchmarks/vode_speed.py``); see the Notes for the tested agreement.
    integrator : {"vode", "cayley"}, default="vode"
        ``"vode"`` is the paper's reference. ``"cayley"`` takes Cayley (Lie–Euler)
        steps ``M ← M(I + hΩ/2)⁻¹(I − hΩ/2)``, ``Ω = skew(Mᵀ∇)``, which integrate the
        same flow (on the manifold ``π(∇) = MΩ``) and keep ``M`` orthogonal to rounding
        error, so orthogonality drift cannot end the run.
    cayley_step : float, default=5e-5
        Step ``h`` of the Cayley integrator, in flow time. See the Notes for how it
        was chosen.
    ortho_tol : float, default=1e-5
        Stop when ``max|MᵀM − I|`` exceeds this (Eq. 8, ε = 1e-5).
    min_decrease : float or None, default=5e-3
        Stop when the ℓ1 loss falls by less than this over one output ``step``
        (published code). The Cayley integrator scales it by ``cayley_step / step`` so
        that it is the same rate, ``5e-3 / 1e-6`` loss per unit time. None disables it.
    time_budget : float or None, default=None
        Wall-clock seconds; when spent, stop with the best map so far.
    verbose : int, default=0
        0 silent; 1 a summary line, the VODE time estimate and, on a terminal, a
        progress line (flow time ``t / max_time``, the ℓ1 loss, elapsed seconds);
        2 also a line per output step.

    See Also
    --------
    L1ProcrustesAligner : The estimator that uses this solver.
    HuberContinuationSolver : A true minimiser of the same problem.

    Notes
    -----
    The returned map is the last *accepted* one: a step that raises the loss or leaves
    the manifold is discarded, so the result never has a higher loss than the start
    and is orthogonal to ``ortho_tol``.

    The right-hand side costs two GEMMs (``AM`` and ``Aᵀg``). The tanh/cosh work is
    done only on residuals with ``|αr| <= 20``; the rest are ``sign(r)`` exactly.
    The whole solve runs with every loaded BLAS (NumPy's and SciPy's own) held to one
    thread and restored afterwards (:func:`sklearn_l1align._threads.single_blas_thread`):
    on a shared machine a second BLAS thread that waits for a busy core made these
    products 5–10× slower, and the result no longer depends on the caller's thread
    count, bit for bit. The two products are instead split over Python threads, each
    part a single-thread GEMM, where a check finds that this gives the same bits and a
    measurement that it is faster
    (:class:`~sklearn_l1align._solvers._products.SolverProducts`). Measured with
    ``benchmarks/vode_speed.py --steps 10`` (3,000 × 300, 2026-12-04), an output step
    took 1/5.0 of the published loop's time, and 1/4.0 of it when the published loop is
    given the same thread limit (1/4.0 and 1/3.2 before the split).

    With the default ``gemm_dtype="float32"``, on a 500 × 20 problem with 8% outliers
    started from the ℓ2 solution, the loss curve agreed with ``gemm_dtype="float64"`` to
    9.4e-8 relative and the map to 4.0e-6 (VODE, to t = 1.5e-4), and to 2.3e-9 and
    2.9e-8 (Cayley, to t = 5e-4); the tests assert 1e-6 and 1e-5. Closer to the
    minimum the sign pattern of ``AM − B`` decides the flow, and the two precisions
    can part by more (1.3e-5 relative in the loss at t = 6e-4 with ``cayley_step=2e-5``).

    The Cayley step ``h = 5e-5`` was chosen by measurement (``benchmarks/cayley_step.py``).
    With α = 1e8 the flow is ``dM/dt = −MΩ``, ``Ω = skew(MᵀAᵀ sgn(AM − B))``, so a step turns
    ``M`` by about ``h·||Ω||_F`` radians. On a 2,000 × 300 problem with 10% outliers
    (``||Ω||_F`` ≈ 1.3e3 at the start), the loss trajectory to t = 2e-3 differed from an
    h = 1e-6 reference by at most 1.7e-4 (relative) at h = 1e-5, 8.9e-4 at h = 5e-5 and
    1.7e-3 at h = 1e-4, while h = 5e-5 was 16× faster than h = 1e-5 and reached a slightly
    *lower* loss at the same t; h = 5e-4 (0.64 rad a step) fell behind the flow by 2%.
    For a closer copy of the flow, lower ``cayley_step`` so that ``h·||Ω||_F`` is about 0.01.

    References
    ----------
    .. [1] X. Peng, C. Lin and M. Stevenson, "Cross-Lingual Word Embedding Refinement
       by ℓ1 Norm Optimisation", NAACL 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import StiefelFlowSolver
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 10)); B = A + 0.1 * rng.normal(size=(200, 10))
    >>> res = StiefelFlowSolver(integrator="cayley", max_time=1e-3).solve(A, B)
    >>> bool(res.loss <= res.initial_loss), res.orthogonality_error < 1e-12
    (True, True)
    """

    _parameter_constraints = {
        "alpha": [Interval(numbers.Real, 0, None, closed="neither")],
        "step": [Interval(numbers.Real, 0, None, closed="neither")],
        "max_time": [Interval(numbers.Real, 0, None, closed="neither")],
        "atol": [Interval(numbers.Real, 0, None, closed="neither")],
        "rtol": [Interval(numbers.Real, 0, None, closed="neither")],
        "method": [StrOptions({"bdf", "adams"})],
        "order": [Interval(numbers.Integral, 1, None, closed="left")],
        "nsteps": [Interval(numbers.Integral, 1, None, closed="left")],
        "gemm_dtype": [StrOptions(set(GEMM_DTYPES))],
        "integrator": [StrOptions({"vode", "cayley"})],
        "cayley_step": [Interval(numbers.Real, 0, None, closed="neither")],
        "ortho_tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_decrease": [Interval(numbers.Real, 0, None, closed="left"), None],
        "time_budget": [Interval(numbers.Real, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha: float = 1e8, step: float = 1e-6, max_time: float = 5e-3,
                 atol: float = 1e-7, rtol: float = 1e-5, method: Literal["bdf", "adams"] = "bdf",
                 order: int = 15, nsteps: int = 500,
                 gemm_dtype: Literal["float32", "float64"] = "float32",
                 integrator: Literal["vode", "cayley"] = "vode", cayley_step: float = 5e-5,
                 ortho_tol: float = 1e-5, min_decrease: float | None = 5e-3,
                 time_budget: float | None = None, verbose: int = 0) -> None:
        self.alpha = alpha
        self.step = step
        self.max_time = max_time
        self.atol = atol
        self.rtol = rtol
        self.method = method
        self.order = order
        self.nsteps = nsteps
        self.gemm_dtype = gemm_dtype
        self.integrator = integrator
        self.cayley_step = cayley_step
        self.ortho_tol = ortho_tol
        self.min_decrease = min_decrease
        self.time_budget = time_budget
        self.verbose = verbose

    def solve(self, A: ArrayLike, B: ArrayLike, initial: ArrayLike | None = None,
              callback: Callable[..., object] | None = None) -> SolverResult:
        """Minimise ``||AM − B||_1`` over orthogonal ``M`` by following the flow.

        Parameters
        ----------
        A, B : array-like of shape (n_pairs, n_dims)
            Stacked source and target vectors of the dictionary pairs.
        initial : array-like of shape (n_dims, n_dims), default=None
            Orthogonal starting map; the identity when None (the paper's ``M0 = I``).
        callback : callable, default=None
            Called as ``callback(t, M, loss)`` after every accepted output step. Raising
            ``KeyboardInterrupt`` stops the solve with the best map so far.

        Returns
        -------
        result : SolverResult
            The map and the account of the run; ``result.stop_reason`` says why it stopped.
        """
        self._validate_params()
        A, B = check_problem(A, B)
        M0 = initial_map(initial, A.shape[1], self.ortho_tol)
        # Built before the hold (they read the caller's thread limit). Only the VODE path
        # needs ``AM − B`` in gemm_dtype: the Cayley path's residual is the float64 one
        # that gives the exact loss.
        vode = self.integrator == "vode"
        products = SolverProducts(gemm_copy(A, self.gemm_dtype),
                                  gemm_copy(B, self.gemm_dtype) if vode else None)
        # VODE computes the float64 residual once (at the start): never worth a split.
        exact = SolverProducts(A, B, parts=1 if vode else None)
        with single_blas_thread():
            R0 = exact.residual(M0)
            track = Tracker(M0, l1_norm(R0), 0.0, self.time_budget, callback, self.verbose,
                            desc=f"{self.integrator} flow (t of max_time)", total=self.max_time)
            if self.integrator == "vode":
                return self._run_vode(A, B, M0, track, products)
            return self._run_cayley(M0, R0, track, products, exact)

    def _check_step(self, track, M_new, loss_new, t, per_step_min):
        """Apply the stop rules to a candidate step; return (reason, message) or None."""
        err = orthogonality_error(M_new)
        if err > self.ortho_tol:
            return StopReason.ORTHOGONALITY, (
                f"left the orthogonal manifold at t={t:.3g}: max|MᵀM − I| = {err:.2e} > "
                f"ortho_tol={self.ortho_tol:g}; kept the map at t={track.times[-1]:.3g}")
        if loss_new > track.loss:
            return StopReason.LOSS_INCREASED, (
                f"the ℓ1 loss rose at t={t:.3g} ({track.loss:.6g} -> {loss_new:.6g}); "
                f"kept the map at t={track.times[-1]:.3g}")
        decrease = track.loss - loss_new
        track.accept(M_new, loss_new, t)
        vlog(logger, self.verbose, 2, "t=%.3e loss=%.8g ortho=%.2e", t, loss_new, err)
        if per_step_min is not None and decrease < per_step_min:
            return StopReason.SMALL_DECREASE, (
                f"the ℓ1 loss fell by {decrease:.3g} < {per_step_min:.3g} over the step to t={t:.3g}")
        if t >= self.max_time * (1 - 1e-9):
            return self._horizon_stop()
        if track.over_budget():
            return StopReason.TIME_BUDGET, (
                f"time_budget={self.time_budget:g} s ran out at t={t:.3g} of max_time={self.max_time:g}; "
                "raise time_budget" + (", or use integrator='cayley'," if self.integrator == "vode" else "")
                + " to go further")
        return None

    def _horizon_stop(self):
        return StopReason.MAX_TIME, (
            f"reached the flow-time horizon max_time={self.max_time:g} (the flow's time t of "
            "Eq. 7, not seconds; time_budget caps wall-clock seconds); raise max_time to "
            "follow the flow further")

    def _finish(self, track, stop):
        """Result of a flow run; a loop that ran out of steps has reached the horizon."""
        if stop is None:
            stop = self._horizon_stop()
        return track.result(*stop, t=track.times[-1])

    def _run_vode(self, A, B, M0, track, products):
        d = M0.shape[0]
        alpha = self.alpha

        interrupted = []

        def rhs(t, y):
            track.n_rhs += 1
            if interrupted:
                return np.zeros_like(y)
            try:
                M = y.reshape(d, d)
                # smoothed_gradient, with the products at their measured threads.
                G = products.adjoint(smoothed_abs_derivative(products.residual(M), alpha))
                return -tangent_projection(M, G).ravel()
            except KeyboardInterrupt:
                # An exception cannot cross VODE's Fortran frames intact: remember it, let
                # the integrator finish the output step on a zero field, and stop after it.
                interrupted.append(t)
                return np.zeros_like(y)

        solver = ode(rhs).set_integrator(
            "vode", method=self.method, atol=self.atol, rtol=self.rtol, order=self.order,
            nsteps=self.nsteps)
        solver.set_initial_value(M0.ravel(), 0.0)
        n_out = _n_steps(self.max_time, self.step)
        vlog(logger, self.verbose, 1,
             "VODE flow: up to %d output steps of %g to the flow-time horizon max_time=%g; "
             "a time estimate follows after %d steps", n_out, self.step, self.max_time,
             min(ESTIMATE_AFTER_STEPS, n_out))
        stop = None
        try:
            stop = self._vode_loop(solver, track, A, B, d, n_out, interrupted)
        except KeyboardInterrupt:
            stop = (StopReason.INTERRUPTED,
                    f"interrupted at t={track.times[-1]:.3g}; returning the best map so far")
        return self._finish(track, stop)

    def _vode_loop(self, solver, track, A, B, d, n_out, interrupted):
        """Integrate output step by output step; return the stop (reason, message) or None."""
        for i in range(1, n_out + 1):
            t_target = min(i * self.step, self.max_time)
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                y = solver.integrate(t_target)
            if interrupted:
                raise KeyboardInterrupt
            if not solver.successful():
                detail = "; ".join(str(w.message) for w in caught) or f"return code {solver.get_return_code()}"
                return (StopReason.INTEGRATOR_FAILURE,
                        f"VODE failed at t={solver.t:.3g} ({detail}); kept the map at "
                        f"t={track.times[-1]:.3g}")
            M_new = y.reshape(d, d).copy()
            stop = self._check_step(track, M_new, l1_loss(A, M_new, B), t_target, self.min_decrease)
            if stop is not None:
                return stop
            if i == ESTIMATE_AFTER_STEPS and n_out > i:
                per_step = track.elapsed() / i
                vlog(logger, self.verbose, 1,
                     "VODE flow: %.3g s per output step, so at most %.0f s more for the %d "
                     "steps left to max_time=%g (an upper bound: the run usually stops earlier, "
                     "when M leaves the manifold or the loss stops falling)",
                     per_step, per_step * (n_out - i), n_out - i, self.max_time)
        return None

    def _run_cayley(self, M, R, track, products, exact):
        # Only Aᵀg runs in gemm_dtype: the float64 residual gives the exact loss.
        h = self.cayley_step
        per_step_min = None if self.min_decrease is None else self.min_decrease * h / self.step
        n_out = _n_steps(self.max_time, h)
        stop = None
        try:
            for i in range(1, n_out + 1):
                t_new = min(i * h, self.max_time)
                G = products.adjoint(smoothed_abs_derivative(R, self.alpha))
                track.n_rhs += 1
                M_new = cayley_step(M, skew(M.T @ G), t_new - track.times[-1])
                R_new = exact.residual(M_new)
                stop = self._check_step(track, M_new, l1_norm(R_new), t_new, per_step_min)
                if stop is not None:
                    break
                M, R = M_new, R_new
        except KeyboardInterrupt:
            stop = (StopReason.INTERRUPTED,
                    f"interrupted at t={track.times[-1]:.3g}; returning the best map so far")
        return self._finish(track, stop)
