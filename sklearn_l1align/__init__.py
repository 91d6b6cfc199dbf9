"""sklearn-l1align: ℓ1-norm refinement of cross-lingual word embeddings for scikit-learn and gensim."""

from ._dictionary import CSLSDictionaryBuilder, mean_topk_similarity
from ._l1_procrustes import L1ProcrustesAligner
from ._minimize import ADMMSolver, HuberContinuationSolver, RiemannianSubgradientSolver
from ._normalize import EmbeddingNormalizer, normalize_embeddings
from ._procrustes import ProcrustesAligner, procrustes_rotation
from .parallel import align_many
from ._solvers import SolverResult, StiefelFlowSolver, StopReason

__version__ = "0.1.0"

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
