"""Solvers of ``min_{M orthogonal} ||AM − B||_1``: the result object, stop reasons, and the flow.

:class:`StiefelFlowSolver` integrates the projected gradient flow of Peng, Lin &
Stevenson (2021), Eq. 7, either with SciPy's VODE as the paper does, or with a
structure-preserving Cayley (Lie–Euler) scheme that keeps ``M`` orthogonal to
rounding error.
"""

import contextlib
import enum
import logging
import numbers
import os
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import ode
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils._param_validation import Interval, StrOptions

from ._flow import cayley_step, skew, smoothed_gradient, tangent_projection
from ._logging import vlog
from ._validation import check_orthogonal, orthogonality_error

logger = logging.getLogger(__name__)

__all__ = ["SolverResult", "StiefelFlowSolver", "StopReason"]


class StopReason(str, enum.Enum):
    """Why a solver stopped. Members compare equal to their string values.

    See Also
    --------
    SolverResult : Carries the stop reason and a readable message.

    Examples
    --------
    >>> from sklearn_l1align import StopReason
    >>> StopReason("max_time") is StopReason.MAX_TIME, StopReason.MAX_TIME == "max_time"
    (True, True)
    """

    #: The ℓ1 loss rose over the last step (the paper's main stop); that step is discarded.
    LOSS_INCREASED = "loss_increased"
    #: The loss fell by less than ``min_decrease`` over one output step (published code).
    SMALL_DECREASE = "small_decrease"
    #: max|MᵀM − I| exceeded ``ortho_tol`` (Eq. 8); the offending step is discarded.
    ORTHOGONALITY = "orthogonality"
    #: The integration time reached ``max_time``.
    MAX_TIME = "max_time"
    #: The integrator reported failure (e.g. VODE's excess work or step-size underflow).
    INTEGRATOR_FAILURE = "integrator_failure"
    #: The wall-clock ``time_budget`` ran out.
    TIME_BUDGET = "time_budget"
    #: A KeyboardInterrupt arrived (from the user or from a callback).
    INTERRUPTED = "interrupted"
    #: A minimiser met its convergence test.
    CONVERGED = "converged"
    #: A minimiser used up ``max_iter`` iterations.
    MAX_ITER = "max_iter"

    def __str__(self):
        return self.value


#: Stops that mean the answer is not what was asked for: they raise ConvergenceWarning.
WARN_REASONS = frozenset({StopReason.INTEGRATOR_FAILURE, StopReason.TIME_BUDGET,
                          StopReason.INTERRUPTED, StopReason.MAX_ITER})


@dataclass
class SolverResult:
    """What a solver returns.

    Attributes
    ----------
    rotation : ndarray of shape (d, d)
        The last accepted map: never a higher loss than the start, orthogonal to the
        solver's tolerance.
    loss : float
        Its ℓ1 loss ``||AM − B||_1``.
    initial_loss : float
        The ℓ1 loss of the starting map.
    loss_curve : ndarray
        The loss at the start and after every accepted output step (or iteration).
    times : ndarray
        The flow time of each entry of ``loss_curve`` (iteration number for minimisers).
    wall_times : ndarray
        Seconds since the start at each entry of ``loss_curve``.
    t : float
        Integration time reached (flow solvers) or iterations done (minimisers).
    n_steps : int
        Accepted output steps or iterations.
    n_rhs : int
        Right-hand-side (gradient) evaluations.
    orthogonality_error : float
        ``max|MᵀM − I|`` of ``rotation``.
    wall_time : float
        Seconds spent.
    stop_reason : StopReason
        Why it stopped.
    message : str
        A readable account of the stop.
    extra : dict
        Solver-specific details (e.g. the Huber widths of :class:`HuberContinuationSolver`).

    See Also
    --------
    StopReason : The possible values of ``stop_reason``.
    StiefelFlowSolver : Returns this object from ``solve``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_l1align import StiefelFlowSolver
    >>> A = np.random.default_rng(0).normal(size=(50, 4))
    >>> res = StiefelFlowSolver(integrator="cayley").solve(A, A)
    >>> res.loss, res.stop_reason.value
    (0.0, 'small_decrease')
    """

    rotation: np.ndarray
    loss: float
    initial_loss: float
    loss_curve: np.ndarray
    times: np.ndarray
    wall_times: np.ndarray
    t: float
    n_steps: int
    n_rhs: int
    orthogonality_error: float
    wall_time: float
    stop_reason: StopReason
    message: str
    extra: dict = field(default_factory=dict)

    @property
    def n_iter(self):
        """Alias of ``n_steps``."""
        return self.n_steps


def _scipy_own_blas_single_thread():
    """A context that runs SciPy's *own* BLAS on one thread while NumPy's keeps its threads.

    SciPy and NumPy wheels each bundle an OpenBLAS with its own thread pool. VODE's vector
    work over the d²-long state goes through SciPy's copy, the right-hand side's GEMMs through
    NumPy's. With two threads in each pool on two cores, the idle pool's spinning threads take
    the cores from the busy one: measured with ``benchmarks/vode_speed.py --profile``, a
    right-hand side took 2.8× less time with SciPy's pool on one thread, with the same answer. When the
    two packages share one BLAS (conda, system packages) there is nothing to separate and this
    does nothing; it also does nothing without threadpoolctl (a scikit-learn dependency).
    """
    try:
        import scipy
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl comes with scikit-learn
        return contextlib.nullcontext()
    scipy_root = os.path.dirname(os.path.dirname(os.path.abspath(scipy.__file__)))
    own = os.path.join(scipy_root, "scipy.libs") + os.sep
    controller = ThreadpoolController()
    paths = [lib.filepath for lib in controller.lib_controllers
             if lib.user_api == "blas" and os.path.abspath(lib.filepath).startswith(own)]
    if not paths or len(controller.select(user_api="blas").lib_controllers) < 2:
        return contextlib.nullcontext()
    return controller.select(filepath=paths).limit(limits=1)


def _n_steps(horizon, step):
    """Output steps needed to reach ``horizon``; the last one is shortened to land on it."""
    return max(1, int(np.ceil(horizon / step - 1e-9)))


def _check_problem(A, B):
    A = np.asarray(A)
    B = np.asarray(B)
    for name, X in (("A", A), ("B", B)):
        if X.dtype.kind == "c":
            raise ValueError(f"{name} must be real. Got complex dtype {X.dtype} instead.")
        if X.ndim != 2:
            raise ValueError(f"{name} must be 2-D (n_pairs, n_dims). Got shape {X.shape} instead.")
    if A.shape != B.shape:
        raise ValueError(f"A and B must have the same shape. Got {A.shape} and {B.shape} instead.")
    if A.shape[0] == 0 or A.shape[1] == 0:
        raise ValueError(f"A and B must be non-empty. Got shape {A.shape} instead.")
    A = np.ascontiguousarray(A, dtype=np.float64)
    B = np.ascontiguousarray(B, dtype=np.float64)
    if not (np.isfinite(A).all() and np.isfinite(B).all()):
        raise ValueError("A and B must be finite. Got NaN or inf values instead.")
    return A, B


class _Tracker:
    """Book-keeping shared by the solvers: the best accepted point and the stop decision."""

    def __init__(self, M0, loss0, t0, budget, callback, verbose):
        self.M, self.loss = M0, loss0
        self.losses, self.times, self.walls = [loss0], [t0], [0.0]
        self.start = time.perf_counter()
        self.budget, self.callback, self.verbose = budget, callback, verbose
        self.n_rhs = 0

    def accept(self, M, loss, t):
        """Record an iterate and pass it to the callback.

        It becomes the answer if its loss is no higher than the best. A callback that raises
        ``KeyboardInterrupt`` does so after the iterate is recorded.
        """
        if loss <= self.loss:
            self.M, self.loss = M, loss
        self.losses.append(loss)
        self.times.append(t)
        self.walls.append(time.perf_counter() - self.start)
        if self.callback is not None:
            self.callback(t, M, loss)

    def over_budget(self):
        return self.budget is not None and time.perf_counter() - self.start > self.budget

    def result(self, reason, message, t, extra=None, stacklevel=3):
        """Build the SolverResult; ``stacklevel`` makes a warning point at the caller of ``solve``."""
        res = SolverResult(
            rotation=self.M, loss=float(self.loss), initial_loss=float(self.losses[0]),
            loss_curve=np.asarray(self.losses), times=np.asarray(self.times),
            wall_times=np.asarray(self.walls), t=float(t),
            n_steps=len(self.losses) - 1, n_rhs=self.n_rhs,
            orthogonality_error=orthogonality_error(self.M),
            wall_time=time.perf_counter() - self.start, stop_reason=StopReason(reason),
            message=message, extra=extra or {},
        )
        vlog(logger, self.verbose, 1, "%s: %s (loss %.6g -> %.6g, %d steps, %.2f s)",
             res.stop_reason.value, message, res.initial_loss, res.loss, res.n_steps, res.wall_time)
        if res.stop_reason in WARN_REASONS:
            warnings.warn(message, ConvergenceWarning, stacklevel=stacklevel)
        return res


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
        Integration horizon ``t_max`` (paper).
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
        Precision of the two ``n × d × d`` products in the right-hand side, which dominate
        its cost. ``"float32"`` halves their time; the projection, the loss and the stop
        rules stay in float64. Measured on a 3,000 × 300 problem, the VODE loss trajectory
        agrees with float64 to 1e-8 relative (``benchmarks/vode_speed.py``).
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
        0 silent, 1 a summary line, 2 a line per output step.

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
    While VODE runs, SciPy's own bundled BLAS (which VODE's vector work uses) is held to
    one thread, so that its idle threads do not compete with NumPy's GEMMs for the cores;
    the trajectory is the same bit for bit. Measured with ``benchmarks/vode_speed.py``
    (3,000 × 300), an output step took 1/6.6 of the published loop's time, and 1/4.4 of
    it when the published loop is given the same thread limit.

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
        "gemm_dtype": [StrOptions({"float64", "float32"})],
        "integrator": [StrOptions({"vode", "cayley"})],
        "cayley_step": [Interval(numbers.Real, 0, None, closed="neither")],
        "ortho_tol": [Interval(numbers.Real, 0, None, closed="neither")],
        "min_decrease": [Interval(numbers.Real, 0, None, closed="left"), None],
        "time_budget": [Interval(numbers.Real, 0, None, closed="left"), None],
        "verbose": ["verbose"],
    }

    def __init__(self, alpha=1e8, step=1e-6, max_time=5e-3, atol=1e-7, rtol=1e-5,
                 method="bdf", order=15, nsteps=500, gemm_dtype="float32", integrator="vode",
                 cayley_step=5e-5,
                 ortho_tol=1e-5, min_decrease=5e-3, time_budget=None, verbose=0):
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

    def solve(self, A, B, initial=None, callback=None):
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
        A, B = _check_problem(A, B)
        d = A.shape[1]
        M0 = np.eye(d) if initial is None else check_orthogonal(initial, d, tol=self.ortho_tol)
        R0 = A @ M0 - B
        track = _Tracker(M0, float(np.abs(R0).sum()), 0.0, self.time_budget, callback, self.verbose)
        if self.integrator == "vode":
            return self._run_vode(A, B, M0, track)
        return self._run_cayley(A, B, M0, R0, track)

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
            return StopReason.MAX_TIME, f"reached the horizon max_time={self.max_time:g}"
        if track.over_budget():
            return StopReason.TIME_BUDGET, (
                f"time_budget={self.time_budget:g} s ran out at t={t:.3g} of max_time={self.max_time:g}; "
                "raise time_budget" + (", or use integrator='cayley'," if self.integrator == "vode" else "")
                + " to go further")
        return None

    def _finish(self, track, stop):
        """Result of a flow run; a loop that ran out of steps has reached the horizon."""
        if stop is None:
            stop = (StopReason.MAX_TIME, f"reached the horizon max_time={self.max_time:g}")
        # result <- _finish <- _run_* <- solve <- the caller
        return track.result(*stop, t=track.times[-1], stacklevel=5)

    def _run_vode(self, A, B, M0, track):
        d = M0.shape[0]
        alpha = self.alpha
        dt = np.dtype(self.gemm_dtype)
        Ad, Bd = (A, B) if dt == np.float64 else (A.astype(dt), B.astype(dt))

        interrupted = []

        def rhs(t, y):
            track.n_rhs += 1
            if interrupted:
                return np.zeros_like(y)
            try:
                M = y.reshape(d, d)
                G, _ = smoothed_gradient(Ad, M.astype(dt, copy=False), Bd, alpha)
                return -tangent_projection(M, G.astype(np.float64, copy=False)).ravel()
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
        stop = None
        try:
            with _scipy_own_blas_single_thread():
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
            loss_new = float(np.abs(A @ M_new - B).sum())
            stop = self._check_step(track, M_new, loss_new, t_target, self.min_decrease)
            if stop is not None:
                return stop
        return None

    def _run_cayley(self, A, B, M, R, track):
        h = self.cayley_step
        per_step_min = None if self.min_decrease is None else self.min_decrease * h / self.step
        n_out = _n_steps(self.max_time, h)
        stop = None
        try:
            for i in range(1, n_out + 1):
                t_new = min(i * h, self.max_time)
                G, _ = smoothed_gradient(A, M, B, self.alpha, R=R)
                track.n_rhs += 1
                M_new = cayley_step(M, skew(M.T @ G), t_new - track.times[-1])
                R_new = A @ M_new
                R_new -= B
                stop = self._check_step(track, M_new, float(np.abs(R_new).sum()), t_new, per_step_min)
                if stop is not None:
                    break
                M, R = M_new, R_new
        except KeyboardInterrupt:
            stop = (StopReason.INTERRUPTED,
                    f"interrupted at t={track.times[-1]:.3g}; returning the best map so far")
        return self._finish(track, stop)
