"""sklearn-l1align: ℓ1-norm refinement of cross-lingual word embeddings for scikit-learn and gensim."""

import importlib
from typing import TYPE_CHECKING

__version__ = "0.1.0"

# The public names are imported on first use (PEP 562), so that ``l1align --help``,
# ``import sklearn_l1align.io`` and the other light submodules do not pay for SciPy and
# scikit-learn. ``from sklearn_l1align import X`` and ``sklearn_l1align.X`` work as usual.
_LAZY = {
    "CSLSDictionaryBuilder": "._dictionary",
    "mean_topk_similarity": "._neighbors",
    "L1ProcrustesAligner": "._l1_procrustes",
    "ADMMSolver": "._solvers",
    "HuberContinuationSolver": "._solvers",
    "RiemannianSubgradientSolver": "._solvers",
    "EmbeddingNormalizer": "._normalize",
    "normalize_embeddings": "._normalize",
    "ProcrustesAligner": "._procrustes",
    "procrustes_rotation": "._procrustes",
    "align_many": ".parallel",
    "SolverResult": "._solvers",
    "StiefelFlowSolver": "._solvers",
    "StopReason": "._solvers",
}

if TYPE_CHECKING:  # what type checkers and IDEs see
    from ._dictionary import CSLSDictionaryBuilder
    from ._neighbors import mean_topk_similarity
    from ._l1_procrustes import L1ProcrustesAligner
    from ._normalize import EmbeddingNormalizer, normalize_embeddings
    from ._procrustes import ProcrustesAligner, procrustes_rotation
    from .parallel import align_many
    from ._solvers import (ADMMSolver, HuberContinuationSolver, RiemannianSubgradientSolver,
                           SolverResult, StiefelFlowSolver, StopReason)


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__():
    return sorted(set(globals()) | set(_LAZY))

__all__ = [
    "ADMMSolver",
    "CSLSDictionaryBuilder",
    "EmbeddingNormalizer",
    "HuberContinuationSolver",
    "L1ProcrustesAligner",
    "ProcrustesAligner",
    "RiemannianSubgradientSolver",
    "SolverResult",
    "StiefelFlowSolver",
    "StopReason",
    "mean_topk_similarity",
    "normalize_embeddings",
    "procrustes_rotation",
    "align_many",
    "__version__",
]
