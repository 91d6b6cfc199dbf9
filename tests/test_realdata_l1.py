"""ℓ1 refinement on real fr→ru embeddings in the paper's setting (issue 3), skipped without ``../shared/data``.

The base is already at an ℓ2 fixed point: ℓ2 Procrustes on the first 1,000 unique source words
of the train split, then five ℓ2 self-learning rounds with a mutual CSLS-10 dictionary. ℓ1
refinement (Algorithm 1) then runs on the full 20,000-word spaces. Measured here: the base
scores CSLS P@1 ≈ 0.373 on the test split; a budgeted VODE run and a full Cayley flow to
t = 5e-3 both leave it within ±0.001.
"""

import logging

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from _helpers import requires_shared_data
from sklearn_l1align import (
    CSLSDictionaryBuilder,
    L1ProcrustesAligner,
    ProcrustesAligner,
    StiefelFlowSolver,
    StopReason,
    normalize_embeddings,
)
from sklearn_l1align._objective import l1_loss
from sklearn_l1align.metrics import bli_precision

pytestmark = [requires_shared_data, pytest.mark.realdata]

logger = logging.getLogger(__name__)

#: CSLS P@1 of the paper-setting base, measured (issue 3: "about 37.3").
BASE_P1 = 0.373
#: ℓ1 refinement must not cost more than 0.3 points of P@1 (issue 3).
MAX_P1_DROP = 0.003


def _first_unique_sources(pairs, n):
    """The pairs of the first ``n`` distinct source words, in file order (all their translations)."""
    _, first = np.unique(pairs[:, 0], return_index=True)
    sources = pairs[np.sort(first)[:n], 0]
    return pairs[np.isin(pairs[:, 0], sources)]


@pytest.fixture(scope="module")
def paper_base(real_embeddings, real_dictionaries):
    """fr→ru spaces (unit/center/unit), the ℓ2-converged base map applied, and its test P@1."""
    X_src = normalize_embeddings(real_embeddings["fr"][1], steps=("unit", "center", "unit"))
    X_tgt = normalize_embeddings(real_embeddings["ru"][1], steps=("unit", "center", "unit"))
    train = real_dictionaries["fr", "ru", "train"]
    test = real_dictionaries["fr", "ru", "test"]
    seed = _first_unique_sources(train, 1000)
    assert len(np.unique(seed[:, 0])) == 1000
    # A seed round plus five induced rounds, as in the paper's ℓ2 baseline.
    base = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(), n_refinements=5).fit(X_src, X_tgt, pairs=seed)
    assert len(base.dictionary_sizes_) == 6
    X_base = base.transform(X_src)
    p1 = bli_precision(X_base, X_tgt, test, k=1, method="csls", csls_k=10).precision[1]
    logger.info("paper-setting base: dictionary sizes %s, CSLS P@1 %.4f", base.dictionary_sizes_, p1)
    return X_base, X_tgt, test, p1


def test_base_is_the_papers_setting(paper_base):
    *_, p1 = paper_base
    assert p1 == pytest.approx(BASE_P1, abs=0.005)


def _check_refinement(aligner, paper_base, ortho_tol):
    X_base, X_tgt, test, p1_before = paper_base
    res = aligner.solver_result_
    # The dictionary is the paper's mutual CSLS-10 one on the full spaces.
    assert 3000 < aligner.dictionary_sizes_[0] < 10000
    A, B = X_base[aligner.dictionary_[:, 0]], X_tgt[aligner.dictionary_[:, 1]]
    assert res.initial_loss == pytest.approx(l1_loss(A, np.eye(A.shape[1]), B), rel=1e-6)
    # The ℓ1 loss falls, never rises along the way, and M stays orthogonal.
    assert res.loss < res.initial_loss
    assert np.all(np.diff(res.loss_curve) <= 0)
    assert res.orthogonality_error <= ortho_tol
    p1_after = bli_precision(aligner.transform(X_base), X_tgt, test, k=1, method="csls",
                             csls_k=10).precision[1]
    logger.info("%s: %s at t=%.3g after %d steps (%.1f s); loss %.6g -> %.6g; P@1 %.4f -> %.4f",
                aligner.solver.integrator, res.stop_reason, res.t, res.n_steps, res.wall_time,
                res.initial_loss, res.loss, p1_before, p1_after)
    assert p1_after >= p1_before - MAX_P1_DROP
    return res


def test_l1_vode_paper_solver_with_time_budget(paper_base):
    X_base, X_tgt, *_ = paper_base
    # The VODE path reaches its own stop (orthogonality, t ≈ 9.3e-4) here in about 55 s on
    # two cores, so a 10 s budget is what ends this run.
    aligner = L1ProcrustesAligner(solver=StiefelFlowSolver(time_budget=10))
    # The budget is the whole fit's (issue 11): the solver gets what the dictionary left.
    with pytest.warns(ConvergenceWarning, match=r"time_budget=\d+(\.\d+)? s ran out"):
        aligner.fit(X_base, X_tgt)
    res = _check_refinement(aligner, paper_base, ortho_tol=1e-5)
    assert res.stop_reason is StopReason.TIME_BUDGET
    assert res.n_steps >= 1


def test_l1_cayley_flow(paper_base):
    X_base, X_tgt, *_ = paper_base
    aligner = L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley")).fit(X_base, X_tgt)
    res = _check_refinement(aligner, paper_base, ortho_tol=1e-12)
    assert res.stop_reason in (StopReason.MAX_TIME, StopReason.SMALL_DECREASE, StopReason.LOSS_INCREASED)
