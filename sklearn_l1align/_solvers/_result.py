"""What every solver shares: the stop reasons, the result object, the tracker, the checks.

Nothing here knows which solver runs. :class:`Tracker` keeps the best accepted point,
the loss curve, the clock and the progress line; :func:`check_problem` validates ``A``
and ``B``; :func:`warning_stacklevel` points a ``ConvergenceWarning`` at the user's line.
"""

from __future__ import annotations

import enum
import logging
import sys
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from .._geometry import orthogonality_error
from .._logging import vlog
from .._progress import Progress
from .._validation import check_orthogonal

logger = logging.getLogger(__name__)

__all__ = ["GEMM_DTYPES", "WARN_REASONS", "SolverResult", "StopReason", "Tracker",
           "check_problem", "gemm_copy", "initial_map", "warning_stacklevel"]


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
    #: The flow time (not seconds) reached the horizon ``max_time``.
    MAX_TIME = "max_time"
    #: The integrator reported failure (e.g. VODE's excess work or step-size underflow).
    INTEGRATOR_FAILURE = "integrator_failure"
    #: The wall-clock ``time_budget`` (seconds) ran out.
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

#: The precisions a solver's ``gemm_dtype`` may name.
GEMM_DTYPES = ("float32", "float64")


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
    def n_iter(self) -> int:
        """Alias of ``n_steps``."""
        return self.n_steps


def check_problem(A, B):
    """Validate the stacked pairs ``A``, ``B`` and return them as C-ordered float64.

    Parameters
    ----------
    A, B : array-like of shape (n_pairs, n_dims)

    Returns
    -------
    A, B : ndarray of shape (n_pairs, n_dims), float64
    """
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


def initial_map(initial, d, ortho_tol):
    """The starting map: the identity (the paper's ``M0 = I``) or a checked orthogonal ``initial``."""
    return np.eye(d) if initial is None else check_orthogonal(initial, d, tol=ortho_tol)


def gemm_copy(A, gemm_dtype):
    """``A`` in the precision of a solver's large products (no copy for float64)."""
    return np.ascontiguousarray(A, dtype=np.dtype(gemm_dtype))


def _outside(frame):
    """True for a frame of neither this package nor scikit-learn (whose wrappers, such as
    ``_fit_context``, stand between a user's ``fit`` call and the package)."""
    top = frame.f_globals.get("__name__", "").partition(".")[0]
    return top not in ("sklearn_l1align", "sklearn")


def warning_stacklevel():
    """The ``stacklevel`` for a ``warnings.warn`` in the calling function that names the user's line.

    Walks up from the caller to the first frame outside this package (and outside
    scikit-learn's wrappers), so the count stays right however the call arrived:
    ``solver.solve``, ``L1ProcrustesAligner.fit``, a Pipeline, or the CLI.

    Returns
    -------
    stacklevel : int
    """
    frame = sys._getframe(1)
    level = 1
    while frame is not None and not _outside(frame):
        frame = frame.f_back
        level += 1
    return level


class Tracker:
    """Book-keeping shared by the solvers: the best accepted point, the clock and the progress.

    Parameters
    ----------
    M0 : ndarray of shape (d, d)
        The starting map.
    loss0 : float
        Its exact ℓ1 loss.
    t0 : float
        Its flow time (or iteration).
    budget : float or None
        Wall-clock seconds allowed (``time_budget``).
    callback : callable or None
        ``callback(t, M, loss)`` after every recorded iterate.
    verbose : int
        The solver's verbosity; the progress line is drawn at ``verbose >= 1``.
    desc : str, default="solver"
        Progress label.
    total : float, optional
        The flow horizon or the iteration cap, for the fraction shown.
    """

    def __init__(self, M0, loss0, t0, budget, callback, verbose, *, desc="solver", total=None):
        self.M, self.loss = M0, loss0
        self.losses, self.times, self.walls = [loss0], [t0], [0.0]
        self.start = time.perf_counter()
        self.budget, self.callback, self.verbose = budget, callback, verbose
        self.n_rhs = 0
        self.progress = Progress(desc, total, verbose=verbose)

    def elapsed(self):
        """Seconds since the start."""
        return time.perf_counter() - self.start

    def accept(self, M, loss, t):
        """Record an iterate and pass it to the callback.

        It becomes the answer if its loss is no higher than the best. A callback that raises
        ``KeyboardInterrupt`` does so after the iterate is recorded.
        """
        if loss <= self.loss:
            self.M, self.loss = M, loss
        self.losses.append(loss)
        self.times.append(t)
        self.walls.append(self.elapsed())
        self.progress.update(done=t, status=f"ℓ1 loss {loss:.6g}")
        if self.callback is not None:
            self.callback(t, M, loss)

    def over_budget(self):
        """True once the wall-clock ``budget`` is spent."""
        return self.budget is not None and self.elapsed() > self.budget

    def result(self, reason, message, t, extra=None):
        """Build the SolverResult, log its summary, and warn when the stop is in WARN_REASONS."""
        self.progress.close()
        res = SolverResult(
            rotation=self.M, loss=float(self.loss), initial_loss=float(self.losses[0]),
            loss_curve=np.asarray(self.losses), times=np.asarray(self.times),
            wall_times=np.asarray(self.walls), t=float(t),
            n_steps=len(self.losses) - 1, n_rhs=self.n_rhs,
            orthogonality_error=orthogonality_error(self.M),
            wall_time=self.elapsed(), stop_reason=StopReason(reason),
            message=message, extra=extra or {},
        )
        vlog(logger, self.verbose, 1, "%s: %s (loss %.6g -> %.6g, %d steps, %.2f s)",
             res.stop_reason.value, message, res.initial_loss, res.loss, res.n_steps, res.wall_time)
        if res.stop_reason in WARN_REASONS:
            warnings.warn(message, ConvergenceWarning, stacklevel=warning_stacklevel())
        return res

