"""Validated refinement and full-vocabulary model selection on the real fr↔ru data (issue 14).

Fitted on the train split, scored on the test dictionary. Skipped without ``../shared/data``.
"""

import warnings

import numpy as np
import pytest
from _helpers import SHARED_DATA, read_muse_pairs, read_vectors, requires_shared_data
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import Pipeline

from sklearn_l1align import (
    CSLSDictionaryBuilder,
    L1ProcrustesAligner,
    ProcrustesAligner,
    RiemannianSubgradientSolver,
    StiefelFlowSolver,
    normalize_embeddings,
)
from sklearn_l1align.metrics import bli_precision
from sklearn_l1align.model_selection import (
    SeedWordKFold,
    Vocabularies,
    VocabularyAligner,
    prefer_baseline,
    select_refinement,
)

pytestmark = [pytest.mark.realdata, pytest.mark.slow, requires_shared_data]

#: The most a validated choice may fall below ℓ2 alone, or below the grid's best (CSLS P@1).
TOLERANCE = 0.003

_CACHE = {}


def _load(src, tgt):
    if (src, tgt) not in _CACHE:
        sw, sx = read_vectors(SHARED_DATA / f"{src}.vec.gz")
        tw, tx = read_vectors(SHARED_DATA / f"{tgt}.vec.gz")
        train = read_muse_pairs(SHARED_DATA / f"{src}-{tgt}.train.txt", sw, tw)
        test = read_muse_pairs(SHARED_DATA / f"{src}-{tgt}.test.txt", sw, tw)
        _CACHE[src, tgt] = (normalize_embeddings(sx.astype(np.float64)),
                            normalize_embeddings(tx.astype(np.float64)), train, test)
    return _CACHE[src, tgt]


def _seed(train, base):
    if base == "5k":
        return train
    _, first = np.unique(train[:, 0], return_index=True)
    words = train[np.sort(first)[:1000], 0]  # the first 1,000 source words of the train file
    return train[np.isin(train[:, 0], words)]


def _p1(X, Y, test, M):
    return bli_precision(X @ M, Y, test, k=1).precision[1]


#: The 1K seeds are checked through ``l1align align`` itself
#: (``tests/test_cli_commands.py::test_real_data_validated_align_is_never_worse_than_l2``),
#: which calls ``select_refinement`` with these defaults; since they run 5 folds (about
#: 4 minutes each), running them twice would take CI's slow suite past 30 minutes.
@pytest.mark.parametrize("base", ["5k"])
@pytest.mark.parametrize("src, tgt", [("fr", "ru"), ("ru", "fr")])
def test_validated_default_is_never_worse_than_l2(src, tgt, base):
    X, Y, train, test = _load(src, tgt)
    seed = _seed(train, base)
    l2 = _p1(X, Y, test, ProcrustesAligner().fit(X, Y, pairs=seed).rotation_)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        selection = select_refinement(X, Y, seed)
    validated = _p1(X, Y, test, selection.rotation_)
    assert validated >= l2 - TOLERANCE, selection.report()


#: Issue 14's GridSearchCV check is not met on ru→fr: cross-validation on seed words (3 folds,
#: and 5 folds in a separate run) scores no refinement highest, while on the test dictionary the
#: refinements gain 0.14–0.80 (the best with McNemar p = 0.16). Seed and test words have similar
#: frequency ranks (median 6,354 and 5,639), so frequency does not explain the disagreement; the
#: test's gain is within chance and the seed words' loss is of the same size (see
#: docs/user_guide/results.rst).
#: strict=True: if the check starts to pass, this marker must go.
_RU_FR_GRID = pytest.mark.xfail(
    strict=True, reason="on ru→fr the 5,000 held-out seed words prefer no refinement (flow "
                        "k=5 loses 26-31 more words than it wins, every fold assignment; "
                        "benchmarks/validated_refinement.py --agreement) while the 1,500 test "
                        "words prefer it by 0.8 (p=0.16), beyond the 0.3 margin")


@pytest.mark.parametrize("src, tgt", [("fr", "ru"), pytest.param("ru", "fr", marks=_RU_FR_GRID)])
def test_grid_search_picks_a_configuration_near_the_grids_best(src, tgt):
    X, Y, train, test = _load(src, tgt)
    pipe = Pipeline([("l2", ProcrustesAligner()), ("l1", "passthrough")])
    flow = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                               solver=StiefelFlowSolver(integrator="cayley"))
    minimiser = L1ProcrustesAligner(dictionary=CSLSDictionaryBuilder(),
                                    solver=RiemannianSubgradientSolver())
    grid = [
        {"estimator__l1": ["passthrough"]},
        {"estimator__l1": [flow], "estimator__l1__dictionary__k": [5, 10],
         "estimator__l1__solver__max_time": [2e-3, 5e-3]},
        {"estimator__l1": [minimiser], "estimator__l1__dictionary__k": [5, 10],
         "estimator__l1__solver__max_iter": [30, 100]},
    ]
    model = VocabularyAligner(pipe, Vocabularies(X, Y))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search = GridSearchCV(model, grid, cv=SeedWordKFold(3, random_state=0),
                              refit=prefer_baseline(), error_score="raise").fit(train)
        test_p1 = [clone(model).set_params(**params).fit(train).score(test)
                   for params in search.cv_results_["params"]]
    chosen = search.best_estimator_.score(test)
    assert chosen == test_p1[search.best_index_]
    assert chosen >= max(test_p1) - TOLERANCE, (search.cv_results_["mean_test_score"], test_p1)
