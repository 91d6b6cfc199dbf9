"""Solvers of ``min_{M orthogonal} ||AM − B||_1``.

* :mod:`._result`: what every solver shares (``StopReason``, ``SolverResult``, the tracker,
  the problem checks);
* :mod:`._flow`: ``StiefelFlowSolver``, the paper's flow (VODE or Cayley);
* :mod:`._minimizers`: ``RiemannianSubgradientSolver``, ``HuberContinuationSolver``,
  ``ADMMSolver``, true minimisers.

The solver files import only :mod:`._result` and the pure mathematics of
:mod:`sklearn_l1align._geometry` and :mod:`sklearn_l1align._objective`, never each other.
"""

from ._flow import StiefelFlowSolver
from ._minimizers import (
           ADMMSolver,
           HuberContinuationSolver,
           RiemannianSubgradientSolver,
)
from ._result import SolverResult, StopReason

__all__ = ["ADMMSolver", "HuberContinuationSolver", "RiemannianSubgradientSolver", "SolverResult",
           "StiefelFlowSolver", "StopReason"]
