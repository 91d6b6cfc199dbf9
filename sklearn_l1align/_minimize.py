"""Old location of the minimisers; kept only while ``cli/_commands.py`` moves its import.

They now live in :mod:`sklearn_l1align._solvers._minimizers` and are re-exported by
:mod:`sklearn_l1align._solvers` and the top-level package. Delete this file once nothing
imports ``sklearn_l1align._minimize``.
"""

from ._solvers import ADMMSolver, HuberContinuationSolver, RiemannianSubgradientSolver

__all__ = ["ADMMSolver", "HuberContinuationSolver", "RiemannianSubgradientSolver"]
