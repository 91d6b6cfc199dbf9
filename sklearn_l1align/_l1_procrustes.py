"""ℓ1 orthogonal Procrustes refinement (Peng, Lin & Stevenson 2021, Algorithm 1)."""

import logging

import numpy as np
from sklearn.base import _fit_context, clone
from sklearn.utils._param_validation import HasMethods, StrOptions

from ._base import _BaseAligner
from ._dictionary import CSLSDictionaryBuilder
from ._logging import vlog
from ._solvers import StiefelFlowSolver, StopReason

logger = logging.getLogger(__name__)

__all__ = ["L1ProcrustesAligner"]


class L1ProcrustesAligner(_BaseAligner):
    """Refine an aligned cross-lingual embedding space by ℓ1 orthogonal Procrustes.

    Algorithm 1 of Peng, Lin & Stevenson (2021): build a CSLS dictionary between the
    (already aligned) source and target spaces, keep the mutual pairs, stack their
    vectors as ``A`` and ``B``, and solve ``min_{M orthogonal} ||AM − B||_1`` from
    ``M = I``. The ℓ1 loss resists the outlier pairs that pull ℓ2 Procrustes off course.

    Parameters
    ----------
    dictionary : CSLSDictionaryBuilder or "paired", default=None
        How to get the pairs. None means
        ``CSLSDictionaryBuilder(k=10, direction="mutual", max_rank=10000)``, the paper's
        CSLS-10 mutual dictionary. ``"paired"``: row ``i`` of ``X`` translates row ``i``
        of ``y``. Pairs passed to :meth:`fit` are used as given for the first round.
    solver : object with a ``solve(A, B, initial=None)`` method, default=None
        None means ``StiefelFlowSolver()``, the paper's VODE flow with the paper's
        settings. ``StiefelFlowSolver(integrator="cayley")`` follows the same flow
        orders of magnitude faster; :class:`HuberContinuationSolver` minimises the
        ℓ1 loss rather than following the flow to a horizon.
    n_refinements : int, default=0
        Further rounds: map ``X`` with the current rotation, re-induce the dictionary,
        and solve again from there. Needs a dictionary builder.
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
        **_BaseAligner._parameter_constraints,
        "dictionary": [CSLSDictionaryBuilder, StrOptions({"paired"}), None],
        "solver": [HasMethods(["solve"]), None],
    }

    def __init__(self, dictionary=None, solver=None, n_refinements=0, verbose=0):
        self.dictionary = dictionary
        self.solver = solver
        self.n_refinements = n_refinements
        self.verbose = verbose

    def _resolved(self):
        dictionary = self.dictionary
        if dictionary is None:
            dictionary = CSLSDictionaryBuilder(k=10, direction="mutual", max_rank=10000)
        elif isinstance(dictionary, str) and dictionary != "paired":
            raise ValueError(
                f"dictionary must be a CSLSDictionaryBuilder, 'paired' or None. Got {dictionary!r} instead."
            )
        # safe=False: any object with a ``solve`` method is accepted, not only estimators
        # (those without get_params are deep-copied).
        solver = StiefelFlowSolver() if self.solver is None else clone(self.solver, safe=False)
        return dictionary, solver

    @_fit_context(prefer_skip_nested_validation=False)
    def fit(self, X, y, pairs=None):
        """Fit the ℓ1 refinement.

        Parameters
        ----------
        X : array-like of shape (n_src, n_features)
            Source embeddings, already aligned to ``y`` (e.g. by :class:`ProcrustesAligner`).
        y : array-like of shape (n_tgt, n_features)
            Target embeddings; ``n_tgt`` may differ from ``n_src``.
        pairs : array-like of shape (n_pairs, 2), default=None
            (source row, target row) pairs to use instead of inducing a dictionary.

        Returns
        -------
        self : L1ProcrustesAligner
            The fitted aligner.
        """
        dictionary, solver = self._resolved()
        builder_backup = self.dictionary
        self.dictionary = dictionary  # so the shared checks see the resolved value
        try:
            X, y, pairs = self._validate_fit_inputs(X, y, pairs)
            pairs = self._first_pairs(X, y, pairs)
        finally:
            self.dictionary = builder_backup
        M = np.eye(X.shape[1])
        self.solver_results_, self.dictionary_sizes_, self.refinement_losses_ = [], [], []
        for rnd in range(1 + self.n_refinements):
            if rnd > 0:
                # A VODE round ends up to ortho_tol off the manifold; the next round starts
                # from the nearest orthogonal matrix, or it would inherit that drift and stop
                # at its first step on the orthogonality test (Eq. 8).
                U, _, Vt = np.linalg.svd(M)
                M = U @ Vt
                pairs = dictionary.build(X @ M, y)
            A = np.asarray(X[pairs[:, 0]], dtype=np.float64)
            B = np.asarray(y[pairs[:, 1]], dtype=np.float64)
            # Algorithm 1 maps the source with the current M and solves from I;
            # starting the solver at M on the unmapped A is the same problem.
            result = solver.solve(A, B, initial=M if rnd > 0 else None)
            M = result.rotation
            self.solver_results_.append(result)
            self.dictionary_sizes_.append(len(pairs))
            self.refinement_losses_.append((result.initial_loss, result.loss))
            vlog(logger, self.verbose, 1, "l1 round %d: %d pairs, loss %.6g -> %.6g (%s, %.1f s)",
                 rnd, len(pairs), result.initial_loss, result.loss, result.stop_reason.value,
                 result.wall_time)
            if result.stop_reason == StopReason.INTERRUPTED:
                # The user asked to stop: keep the best map so far, start no further round.
                break
        self.rotation_ = M
        self.dictionary_ = pairs
        self.solver_result_ = self.solver_results_[-1]
        self.loss_curve_ = self.solver_result_.loss_curve
        self.n_iter_ = sum(r.n_steps for r in self.solver_results_)
        return self
