"""Kept only for ``test_l1_procrustes.py``, which imports ``outlier_problem`` from here.

The solver tests moved to ``test_solvers_result.py``, ``test_solvers_flow.py`` and
``test_solvers_minimizers.py``, their helpers to ``_solver_helpers.py``. Delete this file
once ``test_l1_procrustes.py`` imports ``from _solver_helpers import outlier_problem``.
"""

from _solver_helpers import outlier_problem

__all__ = ["outlier_problem"]
