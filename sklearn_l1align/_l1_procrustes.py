"""ℓ1 orthogonal Procrustes refinement (Peng, Lin & Stevenson 2021, Algorithm 1)."""

from __future__ import annotations

import time
from typing import Any, Literal

import numpy as np
from sklearn.base import clone
from sklearn.utils._param_validation import HasMethods

from ._base import BaseAligner
from ._dictionary import CSLSDictionaryBuilder
from ._geometry import orthogonality_error
from ._solvers import StiefelFlowSolver, StopReason

__all__ = ["L1ProcrustesAligner"]


class L1ProcrustesAligner(BaseAligner):
    """Refine an aligned cross-lingual embedding space by ℓ1 orthogonal Procrustes.

    Algorithm 1 of Peng, Lin & Stevenson (2021): build a CSLS dictionary between the
    (already aligned) source and target spaces, keep the mutual pairs, stack their
    vectors as ``A`` and ``B``, and solve ``min_{M orthogonal} ||AM − B||_1`` from
    ``M = I``. The ℓ1 loss resists the outlier pairs that pull ℓ2 Procrustes off course.

    Parameters
    ----------
    dictionary : CSLSDictionaryBuilder or "paired", default=None
        How to get the pairs. None means ``CSLSDictionaryBuilder()``, the paper's
        CSLS-10 mutual dictionary over the 10,000 most frequent words. ``"paired"``:
        row ``i`` of ``X`` translates row ``i`` of ``y``. Pairs passed to :meth:`fit`
        are used as given for the first round.
    solver : object with a ``solve(A, B, initial=None)`` method, default=None
        None means ``StiefelFlowSolver()``, the paper's VODE flow with the paper's
        settings. ``StiefelFlowSolver(integrator="cayley")`` follows the same flow
        orders of magnitude faster; :class:`HuberContinuationSolver` minimises the
        ℓ1 loss rather than following the flow to a horizon. Its ``time_budget`` is the
        budget of the whole run of rounds: each round gets what the earlier ones left,
        and no round starts once it is spent. A returned rotation that is not finite and
        orthogonal (max|MᵀM − I| > 1e-3) is refused with a ValueError.
    n_refinements : int, default=0
        Further rounds: map ``X`` with the current rotation, re-induce the dictionary,
        and solve again from there. Needs a dictionary builder.
    validation : float in (0, 1), "unsupervised" or None, default=None
        Validated refinement, scored from entry 0 = the input space as given (no
        refinement), then after each ℓ1 round. A float holds out that share of the
        seed ``pairs``' source words (``random_state``): the rounds fit on the rest, the
        held-out words score each entry by CSLS-10 P@1 over the whole target
        vocabulary, the best entry is kept only when it beats entry 0 by more than
        noise (``validation_tol``), and the kept number of rounds is refitted on all the
        pairs. ``"unsupervised"`` uses MUSE's criterion instead (no seed needed, no
        refit). ``validation_pairs`` passed to :meth:`fit` score the entries instead;
        the input space must not have been fitted on them (an ℓ2 base fitted on the
        held-out pairs favours entry 0), which
        :func:`~sklearn_l1align.model_selection.select_refinement` takes care of.
    validation_tol : float, default=1.0
        Noise threshold of the paired comparison, in standard deviations (see
        :func:`~sklearn_l1align.model_selection.significant_gain`).
    validation_max_rank : int >= 1 or None, default=None
        Each entry's held-out pairs retrieve among the first ``validation_max_rank``
        rows of ``X`` and ``y`` only, and pairs beyond them are not scored, as in
        :class:`ProcrustesAligner`; the rounds still fit on every row. None: the whole
        vocabularies.
    refinement_dictionary : {"induced", "seed+induced"}, default="induced"
        The rounds' dictionary: the induced pairs (Algorithm 1; pairs passed to
        :meth:`fit` are then the first round's dictionary), or the seed ``pairs`` beside the
        induced ones in every round (PROC-B style, Glavaš et al. 2019).
    random_state : int, RandomState instance or None, default=None
        Seeds the held-out split of ``validation``.
    verbose : int, default=0
        0 silent, 1 a line per round; the solver has its own ``verbose``.

    Attributes
    ----------
    rotation_ : ndarray of shape (n_features, n_features)
        The orthogonal map; ``transform(X) = X @ rotation_``.
    dictionary_ : ndarray of shape (n_pairs, 2)
        The (source row, target row) pairs of the last round.
    solver_result_ : SolverResult
        The last round's solver result (``stop_reason``, ``loss``, ``loss_curve``, ...).
    solver_results_ : list of SolverResult
        One per round.
    loss_curve_ : ndarray
        The last round's ℓ1 loss after each output step, starting value first.
    n_iter_ : int
        Accepted output steps (or iterations) summed over the rounds.
    dictionary_sizes_ : list of int
        Number of pairs in each round.
    refinement_losses_ : list of tuple of float
        ``(start, end)`` ℓ1 loss of each round, over that round's pairs.
    validation_scores_ : list of float
        With validation only: the score of the input space, then of each round.
    best_round_ : int
        With validation only: the kept entry (0: no refinement, ``rotation_`` is the identity).
    n_features_in_ : int
        Number of features seen during :term:`fit`.

    See Also
    --------
    ProcrustesAligner : The ℓ2 step this refines.
    StiefelFlowSolver : The paper's solver.
    CSLSDictionaryBuilder : Dictionary induction.

    Notes
    -----
    The solver warns with :class:`~sklearn.exceptions.ConvergenceWarning` when it ran
    out of its ``time_budget``, failed, or was interrupted; the rotation is then the
    best one found, never worse in ℓ1 loss than the start.

    A lower ℓ1 loss does not guarantee a better BLI score: measure both.

    References
    ----------
    .. [1] X. Peng, C. Lin and M. Stevenson, "Cross-Lingual Word Embedding Refinement
       by ℓ1 Norm Optimisation", NAACL 2021.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import special_ortho_group
    >>> from sklearn_l1align import L1ProcrustesAligner, StiefelFlowSolver
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(300, 8)); R = special_ortho_group.rvs(8, random_state=0)
    >>> Y = X @ R + 0.01 * rng.normal(size=X.shape)
    >>> aligner = L1ProcrustesAligner(
    ...     dictionary="paired", solver=StiefelFlowSolver(integrator="cayley"))
    >>> aligner.fit(X @ R, Y).solver_result_.stop_reason in ("small_decrease", "loss_increased")
    True
    """

    _parameter_constraints = {
        **BaseAligner._parameter_constraints,
        "solver": [HasMethods(["solve"]), None],
    }

    _identity_is_round_zero = True
    _first_round_refines = True

    #: Largest max|MᵀM − I| accepted from a solver: a flow round ends within its
    #: ortho_tol (1e-5) of the manifold; anything far beyond is a broken solver.
    _ORTHO_ACCEPT = 1e-3

    def __init__(self, dictionary: CSLSDictionaryBuilder | Literal["paired"] | None = None,
                 solver: Any = None, n_refinements: int = 0, *,
                 validation: float | Literal["unsupervised"] | None = None,
                 validation_tol: float = 1.0, validation_max_rank: int | None = None,
                 refinement_dictionary: Literal["induced", "seed+induced"] = "induced",
                 random_state: int | np.random.RandomState | None = None,
                 verbose: int = 0) -> None:
        self.dictionary = dictionary
        self.solver = solver
        self.n_refinements = n_refinements
        self.validation = validation
        self.validation_tol = validation_tol
        self.validation_max_rank = validation_max_rank
        self.refinement_dictionary = refinement_dictionary
        self.random_state = random_state
        self.verbose = verbose

    def _resolve_dictionary(self):
        return CSLSDictionaryBuilder() if self.dictionary is None else self.dictionary

    def _check_rows(self, X, y):
        for name, Z in (("X", X), ("y", y)):
            if not np.any(Z):
                raise ValueError(
                    f"{name} must hold at least one non-zero row: the ℓ1 refinement compares "
                    f"directions, which an all-zero space has none of. Got all {Z.shape[0]} rows "
                    "equal to zero instead."
                )

    def _start_fit(self):
        # safe=False: any object with a ``solve`` method is accepted, not only estimators
        # (those without get_params are deep-copied).
        self._solver = StiefelFlowSolver() if self.solver is None else clone(self.solver, safe=False)
        budget = getattr(self._solver, "time_budget", None)
        self._deadline = None if budget is None else time.monotonic() + budget

    def _fit_round(self, X, y, pairs, M):
        solver = self._solver
        if self._deadline is not None:
            # The budget is the run's: this round gets what the earlier rounds left.
            solver.time_budget = max(self._deadline - time.monotonic(), 0.0)
        A = np.asarray(X[pairs[:, 0]], dtype=np.float64)
        B = np.asarray(y[pairs[:, 1]], dtype=np.float64)
        # Algorithm 1 maps the source with the current M and solves from I;
        # starting the solver at M on the unmapped A is the same problem.
        result = solver.solve(A, B, initial=M)
        rotation = np.asarray(result.rotation)
        if rotation.shape != (X.shape[1], X.shape[1]) or not np.all(np.isfinite(rotation)) \
                or orthogonality_error(rotation) > self._ORTHO_ACCEPT:
            detail = (f"shape {rotation.shape}" if rotation.shape != (X.shape[1], X.shape[1])
                      else "NaN or inf entries" if not np.all(np.isfinite(rotation))
                      else f"max|MᵀM − I| = {orthogonality_error(rotation):.3g}")
            raise ValueError(
                f"The solver {type(solver).__name__} must return a finite orthogonal "
                f"({X.shape[1]}, {X.shape[1]}) rotation (max|MᵀM − I| <= {self._ORTHO_ACCEPT:g}). "
                f"Got {detail} instead."
            )
        stop = result.stop_reason == StopReason.INTERRUPTED or (
            self._deadline is not None and time.monotonic() >= self._deadline)
        return rotation, {
            "result": result, "stop": stop,
            "summary": (f"loss {result.initial_loss:.6g} -> {result.loss:.6g} "
                        f"({result.stop_reason.value}, {result.wall_time:.1f} s)"),
        }

    def _record(self, infos):
        self.solver_results_ = [info["result"] for info in infos]
        self.refinement_losses_ = [(r.initial_loss, r.loss) for r in self.solver_results_]
        self.solver_result_ = self.solver_results_[-1]
        self.loss_curve_ = self.solver_result_.loss_curve
        self.n_iter_ = sum(r.n_steps for r in self.solver_results_)
