"""True minimisers of ``min_{M orthogonal} ||AM − B||_1``, not limited to a time horizon.

Both move on the orthogonal group with the Cayley retraction, so every iterate is
orthogonal to rounding error, and both return the iterate of lowest exact ℓ1 loss.

* :class:`RiemannianSubgradientSolver`: subgradient steps ``Ω = skew(MᵀAᵀ sgn(AM − B))``
  sized by rotation angle, accepted only when the ℓ1 loss falls (angle ×1.2), else
  rejected (angle ÷2).
* :class:`HuberContinuationSolver`: the above as a warm start, then a sequence of Huber
  smoothings of |·| with shrinking width μ, each minimised with Barzilai–Borwein steps
  and a Zhang–Hager nonmonotone Armijo search on the Cayley retraction (Wen & Yin 2013).
* :class:`ADMMSolver`: the splitting ``Z = AM − B`` with an exact orthogonal Procrustes
  (polar) step for ``M``, soft-thresholding for ``Z`` and a penalty ρ that grows slowly.
  Its iterates are exactly orthogonal (an SVD each), not Cayley steps.

All three run their whole loop on one BLAS thread, and their ``Aᵀ(·)`` products in
``gemm_dtype`` (float32 by default); the residual ``AM − B``, which gives the exact ℓ1
loss that decides acceptance, stays in float64, and every loss is summed in float64. Both
products are split over Python threads at one BLAS thread each where that keeps their
bits and is faster (:class:`~sklearn_l1align._solvers._products.SolverProducts`).
"""

from __future__ import annotations

import logging
import numbers
from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.utils._param_validation import Interval, StrOptions

from .._geometry import cayley_step, polar, skew
from .._logging import vlog
from .._objective import (
    armijo_cayley_search,
    huber_derivative,
    huber_loss,
    l1_norm,
    residual_scale,
    soft_threshold,
)
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

__all__ = ["ADMMSolver", "HuberContinuationSolver", "RiemannianSubgradientSolver"]


class _Problem:
    """The validated pairs of one solve: ``A`` and ``B`` in float64 and ``A`` in ``gemm_dtype``.

    Build it before the solver's ``single_blas_thread()`` block (:class:`SolverProducts`
    reads the caller's thread count).
    """

    def __init__(self, A, B, gemm_dtype):
        self.A, self.B = A, B
        self.products = SolverProducts(gemm_copy(A, gemm_dtype))
        self.exact = SolverProducts(A, B)

    def residual(self, M):
        """``(AM − B, ||AM − B||_1)`` in float64: the exact loss."""
        R = self.exact.residual(M)
        return R, l1_norm(R)

    def adjoint(self, G):
        """``AᵀG`` in ``gemm_dtype``, returned in float64."""
        return self.products.adjoint(G)


def _subgradient_phase(problem, M, R, loss, track, *, angle, min_angle, max_iter, t0=0):
    """Accept-or-reject Riemannian subgradient descent. Returns (M, R, loss, it, reason)."""
    it = 0
    for it in range(1, max_iter + 1):
        if track.over_budget():
            return M, R, loss, it - 1, StopReason.TIME_BUDGET
        G = problem.adjoint(np.sign(R))
        track.n_rhs += 1
        Omega = skew(M.T @ G)
        norm = np.linalg.norm(Omega)
        if norm == 0:
            return M, R, loss, it - 1, StopReason.CONVERGED
        while angle >= min_angle:
            M_try = cayley_step(M, Omega, angle / norm)
            R_try, loss_try = problem.residual(M_try)
            if loss_try < loss:
                M, R, loss = M_try, R_try, loss_try
                angle *= 1.2
                break
            angle /= 2
        else:
            # No angle down to min_angle lowers the loss: this iteration made no step.
            return M, R, loss, it - 1, StopReason.CONVERGED
        track.accept(M, loss, t0 + it)
        vlog(logger, track.verbose, 2, "subgradient it %d: loss %.8g angle %.3g", it, loss, angle)
    return M, R, loss, it, StopReason.MAX_ITER


_COMMON_CONSTRAINTS = {
    "ortho_tol": [Interval(numbers.Real, 0, None, closed="neither")],
    "gemm_dtype": [StrOptions(set(GEMM_DTYPES))],
    "time_budget": [Interval(numbers.Real, 0, None, closed="left"), None],
    "verbose": ["verbose"],
}

_ANGLE_CONSTRAINTS = {
    "init_angle": [Interval(numbers.Real, 0, None, closed="neither")],
    "min_angle": [Interval(numbers.Real, 0, None, closed="neither")],
}


def _stop_message(solver, reason, converged):
    """The message of a minimiser's stop: ``converged`` says what its convergence test met."""
    if reason is StopReason.CONVERGED:
        return converged
    if reason is StopReason.MAX_ITER:
        return f"max_iter={solver.max_iter} iterations done; raise max_iter to go further"
    if reason is StopReason.TIME_BUDGET:
        return f"time_budget={solver.time_budget:g} s ran out; raise time_budget"
    return "interrupted; returning the best map so far"


def _problem(solver, A, B):
    """The validated problem of one solve; call before ``single_blas_thread()``."""
    A, B = check_problem(A, B)
    return _Problem(A, B, solver.gemm_dtype)


def _start(solver, problem, initial, callback, total):
    """Return the start ``M``, its residual and loss, and the tracker.

    Call inside ``single_blas_thread()``; ``total`` is the iteration cap the progress shows.
    """
    A = problem.A
    M = initial_map(initial, A.shape[1], solver.ortho_tol)
    R, loss = problem.residual(M)
    track = Tracker(M, loss, 0, solver.time_budget, callback, solver.verbose,
                    desc=f"{type(solver).__name__} (iterations)", total=total)
    return M, R, loss, track


class RiemannianSubgradientSolver(BaseEstimator):
    """Minimise ``||AM − B||_1`` over orthogonal ``M`` by accept-or-reject subgradient steps.

    Each iteration computes the Riemannian subgradient direction
    ``Ω = skew(MᵀAᵀ sgn(AM − B))`` and tries the Cayley step that turns ``M`` by
    ``angle`` radians. A step that lowers the exact ℓ1 loss is accepted and the angle
    grows ×1.2; otherwise it is rejected and the angle halves. The loss therefore
    never rises.

    Stopping rule: ``converged`` when no step of at least ``min_angle`` radians lowers
    the loss; ``max_iter`` when the iterations run out.

    Parameters
    ----------
    init_angle : float, default=0.02
        First rotation angle in radians.
    min_angle : float, default=1e-4
        Smallest angle tried before declaring convergence.
    max_iter : int, default=300
        Maximum accepted iterations.
    ortho_tol : float, default=1e-5
        Tolerance for an ``initial`` map's orthogonality.
    gemm_dtype : {"float32", "float64"}, default="float32"
        Precision of the ``Aᵀ(·)`` products (the largest of an iteration). The residual
        ``AM − B``, the ℓ1 loss that decides acceptance and everything d × d stay in float64.
    time_budget : float or None, default=None
        Wall-clock seconds; when spent, stop with the best map so far.
    verbose : int, default=0
        0 silent; 1 summary and, on a terminal, a progress line (iterations, ℓ1 loss,
        elapsed seconds); 2 a line per iteration.

    See Also
    --------
    HuberContinuationSolver : Goes further, from this solver's end point.
    StiefelFlowSolver : The paper's flow.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import RiemannianSubgradientSolver
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 10)); B = A + 0.1 * rng.normal(size=(200, 10))
    >>> res = RiemannianSubgradientSolver().solve(A, B)
    >>> bool(res.loss <= res.initial_loss), res.stop_reason.value
    (True, 'converged')
    """

    _parameter_constraints = {
        **_ANGLE_CONSTRAINTS,
        **_COMMON_CONSTRAINTS,
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
    }

    def __init__(self, init_angle: float = 0.02, min_angle: float = 1e-4, max_iter: int = 300,
                 ortho_tol: float = 1e-5, gemm_dtype: Literal["float32", "float64"] = "float32",
                 time_budget: float | None = None, verbose: int = 0) -> None:
        self.init_angle = init_angle
        self.min_angle = min_angle
        self.max_iter = max_iter
        self.ortho_tol = ortho_tol
        self.gemm_dtype = gemm_dtype
        self.time_budget = time_budget
        self.verbose = verbose

    def solve(self, A: ArrayLike, B: ArrayLike, initial: ArrayLike | None = None,
              callback: Callable[..., object] | None = None) -> SolverResult:
        """Minimise ``||AM − B||_1`` over orthogonal ``M``.

        Parameters
        ----------
        A, B : array-like of shape (n_pairs, n_dims)
            Stacked source and target vectors.
        initial : array-like of shape (n_dims, n_dims), default=None
            Orthogonal start; the identity when None.
        callback : callable, default=None
            ``callback(iteration, M, loss)`` after each accepted iteration; raising
            ``KeyboardInterrupt`` stops with the best map so far.

        Returns
        -------
        result : SolverResult
            ``t`` and ``times`` count iterations.
        """
        self._validate_params()
        problem = _problem(self, A, B)
        with single_blas_thread():
            M, R, loss, track = _start(self, problem, initial, callback, self.max_iter)
            try:
                M, R, loss, it, reason = _subgradient_phase(
                    problem, M, R, loss, track, angle=self.init_angle, min_angle=self.min_angle,
                    max_iter=self.max_iter)
            except KeyboardInterrupt:
                it, reason = len(track.losses) - 1, StopReason.INTERRUPTED
            message = _stop_message(
                self, reason, f"no step of at least min_angle={self.min_angle:g} rad lowers the ℓ1 loss")
            return track.result(reason, message, t=it)


class HuberContinuationSolver(BaseEstimator):
    """Minimise ``||AM − B||_1`` over orthogonal ``M`` by Huber smoothing with continuation.

    Phase 1 runs :class:`RiemannianSubgradientSolver` steps (at most
    ``subgradient_iter``). Phase 2 replaces ``|r|`` by the Huber function of width
    ``μ`` (quadratic for ``|r| <= μ``, linear beyond) starting from
    ``μ0 = median|AM − B| / mu_factor`` (the median of the nonzero ``|AM − B|`` when more
    than half are exactly zero), and for each of ``n_stages`` stages minimises it
    with Barzilai–Borwein steps and a Zhang–Hager nonmonotone Armijo line search on the
    Cayley retraction (Wen & Yin 2013), then divides ``μ`` by ``mu_factor``. Each stage
    stops after ``stage_iter`` iterations or when the Riemannian gradient norm has
    fallen below ``gtol`` times its value at the stage's start. The returned map is the
    iterate of lowest exact ℓ1 loss seen, so it is never worse than the start.

    Stopping rule: ``converged`` after the last stage (and ``max_iter`` is not used);
    ``time_budget`` or ``interrupted`` return the best map so far.

    Parameters
    ----------
    init_angle : float, default=0.02
        Phase 1's first rotation angle in radians.
    min_angle : float, default=1e-4
        Phase 1 ends when no step of this angle lowers the loss.
    subgradient_iter : int, default=30
        Phase 1's iteration cap.
    n_stages : int, default=5
        Huber continuation stages.
    stage_iter : int, default=40
        Iteration cap per stage.
    mu_factor : float, default=4.0
        ``μ0 = median|r| / mu_factor``; ``μ`` is divided by it after each stage.
    gtol : float, default=1e-3
        A stage ends early when ``||Ω||_F <= gtol · ||Ω_0||_F``.
    ortho_tol : float, default=1e-5
        Tolerance for an ``initial`` map's orthogonality.
    gemm_dtype : {"float32", "float64"}, default="float32"
        Precision of the ``Aᵀ(·)`` products (the largest of an iteration). The residual
        ``AM − B``, the ℓ1 loss that decides acceptance and everything d × d stay in float64.
    time_budget : float or None, default=None
        Wall-clock seconds; when spent, stop with the best map so far.
    verbose : int, default=0
        0 silent; 1 summary and, on a terminal, a progress line (iterations, ℓ1 loss,
        elapsed seconds); 2 a line per iteration.

    See Also
    --------
    RiemannianSubgradientSolver : Phase 1 alone.
    StiefelFlowSolver : The paper's flow.

    References
    ----------
    .. [1] Z. Wen and W. Yin, "A feasible method for optimization with orthogonality
       constraints", Mathematical Programming 142, 2013.
    .. [2] H. Zhang and W. W. Hager, "A nonmonotone line search technique and its
       application to unconstrained optimization", SIAM J. Optim. 14, 2004.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import HuberContinuationSolver
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 10)); B = A + 0.1 * rng.normal(size=(200, 10))
    >>> res = HuberContinuationSolver().solve(A, B)
    >>> bool(res.loss <= res.initial_loss), res.stop_reason.value
    (True, 'converged')
    """

    _parameter_constraints = {
        **_ANGLE_CONSTRAINTS,
        **_COMMON_CONSTRAINTS,
        "subgradient_iter": [Interval(numbers.Integral, 0, None, closed="left")],
        "n_stages": [Interval(numbers.Integral, 1, None, closed="left")],
        "stage_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "mu_factor": [Interval(numbers.Real, 1, None, closed="neither")],
        "gtol": [Interval(numbers.Real, 0, 1, closed="left")],
    }

    #: Armijo constant, backtracking factor and Zhang–Hager averaging weight (Wen & Yin 2013).
    _RHO, _DELTA, _ETA = 1e-4, 0.2, 0.85

    def __init__(self, init_angle: float = 0.02, min_angle: float = 1e-4,
                 subgradient_iter: int = 30, n_stages: int = 5, stage_iter: int = 40,
                 mu_factor: float = 4.0, gtol: float = 1e-3, ortho_tol: float = 1e-5,
                 gemm_dtype: Literal["float32", "float64"] = "float32",
                 time_budget: float | None = None,
                 verbose: int = 0) -> None:
        self.init_angle = init_angle
        self.min_angle = min_angle
        self.subgradient_iter = subgradient_iter
        self.n_stages = n_stages
        self.stage_iter = stage_iter
        self.mu_factor = mu_factor
        self.gtol = gtol
        self.ortho_tol = ortho_tol
        self.gemm_dtype = gemm_dtype
        self.time_budget = time_budget
        self.verbose = verbose

    def solve(self, A: ArrayLike, B: ArrayLike, initial: ArrayLike | None = None,
              callback: Callable[..., object] | None = None) -> SolverResult:
        """Minimise ``||AM − B||_1`` over orthogonal ``M``.

        Parameters
        ----------
        A, B : array-like of shape (n_pairs, n_dims)
            Stacked source and target vectors.
        initial : array-like of shape (n_dims, n_dims), default=None
            Orthogonal start; the identity when None.
        callback : callable, default=None
            ``callback(iteration, M, l1_loss)`` after each iteration; raising
            ``KeyboardInterrupt`` stops with the best map so far.

        Returns
        -------
        result : SolverResult
            ``t`` and ``times`` count iterations; ``extra["mu"]`` lists the Huber widths.
        """
        self._validate_params()
        problem = _problem(self, A, B)
        with single_blas_thread():
            M, R, loss, track = _start(
                self, problem, initial, callback, self.subgradient_iter + self.n_stages * self.stage_iter)
            it, mus = 0, []
            reason = StopReason.CONVERGED
            try:
                if self.subgradient_iter > 0:
                    M, R, loss, it, reason = _subgradient_phase(
                        problem, M, R, loss, track, angle=self.init_angle,
                        min_angle=self.min_angle, max_iter=self.subgradient_iter)
                    if reason in (StopReason.MAX_ITER,):
                        reason = StopReason.CONVERGED
                if reason is StopReason.CONVERGED:
                    mu = residual_scale(R) / self.mu_factor
                    # mu == 0 only when every residual is 0: the loss is 0, the global minimum.
                    for stage in range(self.n_stages if mu > 0 else 0):
                        mus.append(mu)
                        M, R, it, reason = self._huber_stage(problem, M, R, mu, track, it)
                        if reason is not StopReason.CONVERGED:
                            break
                        mu /= self.mu_factor
            except KeyboardInterrupt:
                # The phase or stage that was interrupted did not hand back its count.
                it, reason = int(track.times[-1]), StopReason.INTERRUPTED
            message = _stop_message(
                self, reason, f"finished {len(mus)} Huber stages (final μ = {mus[-1] if mus else 0:.3g})")
            return track.result(reason, message, t=it, extra={"mu": mus})

    def _huber_stage(self, problem, M, R, mu, track, it):
        """BB + nonmonotone Armijo descent of Σ huber_μ(AM − B). Returns (M, R, it, reason)."""

        def huber_at(M_new):
            R_new, _ = problem.residual(M_new)
            return huber_loss(R_new, mu), R_new

        def omega(M, R):
            track.n_rhs += 1
            return skew(M.T @ problem.adjoint(huber_derivative(R, mu)))

        f = huber_loss(R, mu)
        Om = omega(M, R)
        g0 = np.linalg.norm(Om)
        C, Q = f, 1.0
        tau = self.init_angle / max(g0, np.finfo(float).tiny)
        for _ in range(self.stage_iter):
            if track.over_budget():
                return M, R, it, StopReason.TIME_BUDGET
            gnorm2 = float(np.sum(Om * Om))
            if gnorm2 <= (self.gtol * g0) ** 2:
                break
            # Nonmonotone Armijo backtracking along the Cayley curve; d/dτ f = −||Ω||² at 0.
            step = armijo_cayley_search(M, Om, tau, huber_at, C, gnorm2, sufficient=self._RHO,
                                        shrink=self._DELTA)
            if step is None:
                return M, R, it, StopReason.CONVERGED
            tau, M_new, f_new, R_new = step
            Om_new = omega(M_new, R_new)
            it += 1
            l1 = l1_norm(R_new)
            track.accept(M_new, l1, it)
            vlog(logger, track.verbose, 2, "huber μ=%.3g it %d: huber %.8g l1 %.8g", mu, it, f_new, l1)
            # Barzilai–Borwein step from the change in the point and in the Riemannian gradient.
            S = M_new - M
            Y = M_new @ Om_new - M @ Om
            sy = abs(float(np.sum(S * Y)))
            if sy > 0:
                tau = float(np.sum(S * S)) / sy if it % 2 else sy / float(np.sum(Y * Y))
            Q_new = self._ETA * Q + 1.0
            C = (self._ETA * Q * C + f_new) / Q_new
            Q = Q_new
            M, R, Om, f = M_new, R_new, Om_new, f_new
        return M, R, it, StopReason.CONVERGED


class ADMMSolver(BaseEstimator):
    """Minimise ``||AM − B||_1`` over orthogonal ``M`` by ADMM on the split ``Z = AM − B``.

    With the scaled dual ``U`` and penalty ``ρ``, each iteration takes

    * an ``M`` step, ``M = polar(Aᵀ(B + Z − U))``: the orthogonal Procrustes solution
      of ``min ||AM − (B + Z − U)||_F``, exact, by one d × d SVD;
    * a ``Z`` step, ``Z = soft(AM − B + U, 1/ρ)``, the proximal map of ``||·||_1``;
    * a dual step ``U ← U + AM − B − Z``, then ``ρ ← ρ·rho_growth`` (``U`` rescaled).

    The orthogonality constraint makes the problem nonconvex, so this is a local method;
    the growing ρ forces ``Z`` and ``AM − B`` together. ``y = ρU`` approximates an
    ℓ1 subgradient at ``AM − B`` (its entries lie in [−1, 1]), and
    ``||skew(MᵀAᵀy)||_F`` (``extra["certificate"]``, relative to ``||Aᵀy||_F``) measures
    how far the last iterate is from Riemannian stationarity. Every iterate is exactly
    orthogonal; the returned map is the one of lowest exact ℓ1 loss.

    Stopping rule: ``converged`` when, over the last ``window`` iterations, the exact ℓ1
    loss varied by at most ``tol`` relative and ``||AM − B − Z||_F`` is at most
    ``sqrt(tol)·||AM − B||_F`` (the split has closed); ``max_iter`` otherwise.

    Parameters
    ----------
    rho : float or None, default=None
        Initial penalty ρ. None uses ``1 / median|AM0 − B|``, so that the first
        soft-threshold is about the size of a typical residual.
    rho_growth : float, default=1.02
        Factor applied to ρ after each iteration.
    tol : float, default=1e-6
        Relative tolerance of the stopping rule.
    window : int, default=10
        Iterations over which the loss must have settled.
    max_iter : int, default=1000
        Maximum iterations.
    ortho_tol : float, default=1e-5
        Tolerance for an ``initial`` map's orthogonality.
    gemm_dtype : {"float32", "float64"}, default="float32"
        Precision of the ``Aᵀ(·)`` products (the largest of an iteration). The residual
        ``AM − B``, the ℓ1 loss that decides acceptance and everything d × d stay in float64.
    time_budget : float or None, default=None
        Wall-clock seconds; when spent, stop with the best map so far.
    verbose : int, default=0
        0 silent; 1 summary and, on a terminal, a progress line (iterations, ℓ1 loss,
        elapsed seconds); 2 a line per iteration.

    See Also
    --------
    HuberContinuationSolver : A smoothing path to a minimum; faster, but on the real fr/ru
        problems it stopped at a 7% higher ℓ1 loss after its five stages.
    RiemannianSubgradientSolver : Accept-or-reject subgradient steps.

    References
    ----------
    .. [1] S. Boyd, N. Parikh, E. Chu, B. Peleato and J. Eckstein, "Distributed
       optimization and statistical learning via the alternating direction method of
       multipliers", Foundations and Trends in Machine Learning 3, 2011.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import ADMMSolver
    >>> rng = np.random.default_rng(0)
    >>> A = rng.normal(size=(200, 10)); B = A + 0.1 * rng.normal(size=(200, 10))
    >>> res = ADMMSolver().solve(A, B)
    >>> bool(res.loss <= res.initial_loss), res.stop_reason.value
    (True, 'converged')
    """

    _parameter_constraints = {
        "rho": [Interval(numbers.Real, 0, None, closed="neither"), None],
        "rho_growth": [Interval(numbers.Real, 1, None, closed="left")],
        "tol": [Interval(numbers.Real, 0, None, closed="left")],
        "window": [Interval(numbers.Integral, 1, None, closed="left")],
        "max_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        **_COMMON_CONSTRAINTS,
    }

    def __init__(self, rho: float | None = None, rho_growth: float = 1.02, tol: float = 1e-6,
                 window: int = 10, max_iter: int = 1000, ortho_tol: float = 1e-5,
                 gemm_dtype: Literal["float32", "float64"] = "float32",
                 time_budget: float | None = None,
                 verbose: int = 0) -> None:
        self.rho = rho
        self.rho_growth = rho_growth
        self.tol = tol
        self.window = window
        self.max_iter = max_iter
        self.ortho_tol = ortho_tol
        self.gemm_dtype = gemm_dtype
        self.time_budget = time_budget
        self.verbose = verbose

    def solve(self, A: ArrayLike, B: ArrayLike, initial: ArrayLike | None = None,
              callback: Callable[..., object] | None = None) -> SolverResult:
        """Minimise ``||AM − B||_1`` over orthogonal ``M``.

        Parameters
        ----------
        A, B : array-like of shape (n_pairs, n_dims)
            Stacked source and target vectors.
        initial : array-like of shape (n_dims, n_dims), default=None
            Orthogonal start; the identity when None.
        callback : callable, default=None
            ``callback(iteration, M, l1_loss)`` after each iteration; raising
            ``KeyboardInterrupt`` stops with the best map so far.

        Returns
        -------
        result : SolverResult
            ``t`` and ``times`` count iterations; ``extra`` holds the final ``rho``, the
            primal residual ``||AM − B − Z||_F`` and the stationarity ``certificate``.
        """
        self._validate_params()
        problem = _problem(self, A, B)
        with single_blas_thread():
            M, R, loss, track = _start(self, problem, initial, callback, self.max_iter)
            return self._run(problem, M, R, loss, track)

    def _run(self, problem, M, R, loss, track):
        A, B = problem.A, problem.B
        Z = R.copy()
        U = np.zeros_like(R)
        scale = residual_scale(R)
        rho = self.rho if self.rho is not None else (1.0 / scale if scale > 0 else 1.0)
        it, reason, primal = 0, StopReason.MAX_ITER, 0.0
        if loss == 0.0:
            reason = StopReason.CONVERGED  # AM = B: nothing to improve
        try:
            for it in range(1, self.max_iter + 1) if reason is StopReason.MAX_ITER else ():
                if track.over_budget():
                    it, reason = it - 1, StopReason.TIME_BUDGET
                    break
                M = polar(problem.adjoint(B + Z - U))
                track.n_rhs += 1
                R, l1 = problem.residual(M)
                Z = soft_threshold(R + U, 1.0 / rho)
                gap = R - Z
                U += gap
                primal = float(np.linalg.norm(gap))
                track.accept(M, l1, it)
                vlog(logger, track.verbose, 2, "admm it %d: l1 %.8g primal %.3g rho %.3g", it, l1, primal, rho)
                recent = track.losses[-self.window:]
                if (it >= self.window and max(recent) - min(recent) <= self.tol * l1
                        and primal <= np.sqrt(self.tol) * np.linalg.norm(R)):
                    reason = StopReason.CONVERGED
                    break
                U /= self.rho_growth
                rho *= self.rho_growth
        except KeyboardInterrupt:
            it, reason = int(track.times[-1]), StopReason.INTERRUPTED
        y = rho * U
        Ay = A.T @ y
        cert = float(np.linalg.norm(skew(M.T @ Ay)) / max(np.linalg.norm(Ay), np.finfo(float).tiny))
        message = _stop_message(
            self, reason, f"the ℓ1 loss settled to tol={self.tol:g} over {self.window} iterations "
                          "and the split closed")
        return track.result(reason, message, t=it,
                            extra={"rho": float(rho), "primal_residual": primal, "certificate": cert})
