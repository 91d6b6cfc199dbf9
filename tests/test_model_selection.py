"""Tests of ``sklearn_l1align.model_selection``: the full-vocabulary scorer, folds of whole
source words, validated refinement and ``select_refinement``, on planted problems."""

import copy
import json

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import expm
from scipy.stats import special_ortho_group
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GridSearchCV, cross_validate
from sklearn.pipeline import Pipeline

from sklearn_l1align import (
    EmbeddingNormalizer,
    L1ProcrustesAligner,
    ProcrustesAligner,
    StiefelFlowSolver,
    StopReason,
    normalize_embeddings,
)
from sklearn_l1align.metrics import bli_mrr, bli_precision
from sklearn_l1align.model_selection import (
    SeedWordKFold,
    Vocabularies,
    VocabularyAligner,
    apply_chain,
    default_candidates,
    holdout_source_words,
    make_bli_scorer,
    mean_csls_cosine,
    prefer_baseline,
    select_refinement,
    significant_gain,
    source_word_groups,
)

FAST = StiefelFlowSolver(integrator="cayley")


class FixedBuilder(BaseEstimator):
    """A planted dictionary "builder": returns the same pairs whatever the spaces."""

    def __init__(self, pairs=None):
        self.pairs = pairs

    def build(self, X_src, X_tgt):
        return np.asarray(self.pairs)


def _problem(n=1000, d=40, noise=1.2, seed=0):
    """``Y = X R + noise``: row i of Y translates row i of X."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    R = special_ortho_group.rvs(d, random_state=seed)
    return X, X @ R + noise * rng.normal(size=(n, d)), R


def _identity_pairs(rows):
    rows = np.asarray(rows)
    return np.column_stack([rows, rows]).astype(np.int64)


def _wrong_pairs(n, seed=1):
    """Every source row paired with a random target row: a dictionary that hurts."""
    return np.column_stack([np.arange(n), np.random.default_rng(seed).permutation(n)])


def _multi_translation_pairs(n_words=60, n_tgt=200, seed=0):
    """Seed pairs where many source words have 2-3 gold translations."""
    rng = np.random.default_rng(seed)
    rows = []
    for w in rng.permutation(300)[:n_words]:
        for t in rng.choice(n_tgt, size=rng.integers(1, 4), replace=False):
            rows.append((w, t))
    return np.array(rows, dtype=np.int64)


# ------------------------------------------------------------------------------- folds
def test_holdout_source_words_keeps_words_whole_and_is_seeded():
    pairs = _multi_translation_pairs()
    fit, held = holdout_source_words(pairs, 0.25, random_state=0)
    assert not set(fit[:, 0]) & set(held[:, 0])
    assert len(fit) + len(held) == len(pairs)
    assert len(np.unique(held[:, 0])) == 15  # 25 % of 60 words
    again = holdout_source_words(pairs, 0.25, random_state=0)
    assert_array_equal(again[1], held)
    other = holdout_source_words(pairs, 0.25, random_state=1)
    assert not np.array_equal(other[1], held)


def test_seed_word_kfold_never_splits_a_source_word():
    pairs = _multi_translation_pairs(seed=3)
    cv = SeedWordKFold(5, random_state=0)
    seen = []
    for train, test in cv.split(pairs):
        assert not set(pairs[train, 0]) & set(pairs[test, 0])
        assert len(train) + len(test) == len(pairs)
        seen.extend(test.tolist())
    assert sorted(seen) == list(range(len(pairs)))
    counts = [len(np.unique(pairs[test, 0])) for _, test in cv.split(pairs)]
    assert counts == [12] * 5
    assert_array_equal(source_word_groups(pairs), pairs[:, 0])


def _words(pairs, rows):
    return set(np.unique(pairs[rows, 0]).tolist())


@pytest.mark.parametrize("random_state", range(6))
def test_stratified_holdout_holds_out_capped_words_in_the_same_share(random_state):
    """25 of the 200 words have a pair within the first 101 rows: a 20 % split holds out
    round(0.2 * 25) = 5 of them (and 35 others), where an unstratified one can draw none."""
    rng = np.random.default_rng(random_state)
    scorable = 1 + rng.choice(100, size=25, replace=False)  # row 0 is no word's
    late = 101 + rng.choice(900, size=175, replace=False)
    pairs = _identity_pairs(np.concatenate([scorable, late]))
    pairs = np.concatenate([pairs, np.column_stack([scorable[:5], 500 + scorable[:5]])])  # 2 each
    fit, held = holdout_source_words(pairs, 0.2, random_state, stratify_max_rank=101)
    assert not set(fit[:, 0]) & set(held[:, 0]) and len(fit) + len(held) == len(pairs)
    assert len(np.unique(held[:, 0])) == 40
    assert len(set(held[:, 0]) & set(scorable)) == 5
    # The words keep the unstratified draw's order within each kind, so the split is seeded.
    assert_array_equal(holdout_source_words(pairs, 0.2, random_state,
                                            stratify_max_rank=101)[1], held)
    # A cap that every pair (or no pair) lies within draws the unstratified split.
    plain = holdout_source_words(pairs, 0.2, random_state)[1]
    for cap in (2000, 1):
        assert_array_equal(holdout_source_words(pairs, 0.2, random_state,
                                                stratify_max_rank=cap)[1], plain)


def test_stratified_holdout_holds_out_a_lone_capped_word():
    pairs = _identity_pairs(np.r_[3, 100:199])  # 1 scorable word among 100
    for random_state in range(10):
        fit, held = holdout_source_words(pairs, 0.1, random_state, stratify_max_rank=50)
        assert 3 in held[:, 0] and len(held) == 10 and len(fit) == 90


def test_stratified_seed_word_kfold_spreads_the_capped_words_evenly():
    rng = np.random.default_rng(0)
    pairs = _identity_pairs(np.concatenate([1 + rng.choice(60, size=13, replace=False),
                                            61 + rng.choice(400, size=90, replace=False)]))
    cv = SeedWordKFold(5, random_state=0, stratify_max_rank=61)
    seen = []
    for train, test in cv.split(pairs):
        assert not _words(pairs, train) & _words(pairs, test)
        seen.extend(test.tolist())
        held = pairs[test, 0]
        assert len(held) in (20, 21) and (held < 61).sum() in (2, 3)
    assert sorted(seen) == list(range(len(pairs)))
    assert sum(len(test) == 21 for _, test in cv.split(pairs)) == 3  # 103 = 3 * 21 + 2 * 20
    plain = [t.tolist() for _, t in SeedWordKFold(5, random_state=0).split(pairs)]
    for cap in (None, 1000, 1):  # no cap, every pair within it, no pair within it
        assert [t.tolist() for _, t in
                SeedWordKFold(5, random_state=0, stratify_max_rank=cap).split(pairs)] == plain
    with pytest.raises(ValueError, match="stratify_max_rank must be a positive integer"):
        SeedWordKFold(5, stratify_max_rank=0)


def test_seed_word_kfold_needs_enough_words():
    with pytest.raises(ValueError, match="at least n_splits=5 distinct source words"):
        list(SeedWordKFold(5).split(_identity_pairs([0, 0, 1])))
    with pytest.raises(ValueError, match="seed pairs: an array of shape"):
        list(SeedWordKFold(2).split(np.zeros((4, 3))))


# ------------------------------------------------------------------------------ scorer
def test_vocabularies_are_shared_by_clones_and_read_only():
    X, Y, _ = _problem(n=50, d=4)
    vocab = Vocabularies(X, Y)
    model = VocabularyAligner(ProcrustesAligner(), vocab)
    assert clone(model).vocabularies is vocab
    assert copy.deepcopy(vocab) is vocab
    with pytest.raises(ValueError, match="read-only"):
        vocab.X_src[0, 0] = 1.0


def test_scorer_equals_bli_precision_on_each_fold():
    X, Y, _ = _problem(n=600, d=30, noise=1.5, seed=2)
    Y = Y[::-1].copy()  # target rows in another order: gold pairs are (i, n - 1 - i)
    pairs = np.column_stack([np.arange(300), 599 - np.arange(300)])
    extra = np.column_stack([np.arange(0, 300, 7), np.arange(0, 300, 7)])  # second gold translations
    pairs = np.concatenate([pairs, extra])
    vocab = Vocabularies(X, Y)
    model = VocabularyAligner(ProcrustesAligner(), vocab)
    cv = SeedWordKFold(4, random_state=0)
    scoring = {"p1": make_bli_scorer(), "nn_p5": make_bli_scorer(retrieval="nn", k=5),
               "mrr": make_bli_scorer(metric="mrr")}
    result = cross_validate(model, pairs, cv=cv, scoring=scoring)
    scores = []
    for i, (train, test) in enumerate(cv.split(pairs)):
        Xm = ProcrustesAligner().fit(X, Y, pairs=pairs[train]).transform(X)
        expected = bli_precision(Xm, Y, pairs[test], k=(1, 5))
        assert result["test_p1"][i] == bli_precision(Xm, Y, pairs[test], k=1).precision[1]
        assert result["test_nn_p5"][i] == bli_precision(Xm, Y, pairs[test], k=5, method="nn").precision[5]
        assert result["test_mrr"][i] == bli_mrr(Xm, Y, pairs[test], method="csls")
        fitted = clone(model).fit(pairs[train])
        assert fitted.score(pairs[test]) == expected.precision[1]
        scores.append(expected.precision[1])
    assert 0.05 < min(scores) and max(scores) < 0.99  # noisy enough that the folds differ


def test_scorer_routes_pairs_past_a_normaliser_in_a_pipeline():
    X, Y, _ = _problem(n=300, d=12, noise=0.2, seed=4)
    Yn = normalize_embeddings(Y)
    pairs = _identity_pairs(range(150))
    pipe = Pipeline([("norm", EmbeddingNormalizer()), ("l2", ProcrustesAligner())])
    model = VocabularyAligner(pipe, Vocabularies(X, Yn)).fit(pairs[:100])
    Xm = ProcrustesAligner().fit(normalize_embeddings(X), Yn, pairs=pairs[:100]).transform(
        normalize_embeddings(X))
    assert_allclose(model.transform(X), Xm, atol=1e-12)
    assert model.score(pairs[100:]) == bli_precision(Xm, Yn, pairs[100:], k=1).precision[1]


def test_vocabulary_aligner_needs_a_pairs_step():
    X, Y, _ = _problem(n=40, d=4)
    model = VocabularyAligner(EmbeddingNormalizer(), Vocabularies(X, Y))
    with pytest.raises(ValueError, match="takes pairs="):
        model.fit(_identity_pairs(range(10)))


def _grid_problem():
    """Few noisy seed pairs in many dimensions: ℓ2 on the seed alone is weak."""
    X, Y, _ = _problem(n=800, d=40, seed=5)
    return X, Y, _identity_pairs(range(120)), len(X)


def test_grid_search_picks_the_refinement_that_truly_helps():
    X, Y, seed, n = _grid_problem()
    model = VocabularyAligner(
        Pipeline([("l2", ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(n))),
                                           n_refinements=0))]),
        Vocabularies(X, Y))
    search = GridSearchCV(model, {"estimator__l2__n_refinements": [0, 1]},
                          cv=SeedWordKFold(3, random_state=0), error_score="raise").fit(seed)
    means = search.cv_results_["mean_test_score"]
    assert means[1] > means[0] + 0.1
    assert search.best_params_ == {"estimator__l2__n_refinements": 1}
    # A true gain passes the baseline rule too.
    ruled = GridSearchCV(model, {"estimator__l2__n_refinements": [0, 1]}, refit=prefer_baseline(),
                         cv=SeedWordKFold(3, random_state=0), error_score="raise").fit(seed)
    assert ruled.best_index_ == 1
    assert ruled.best_estimator_.estimator_.named_steps["l2"].n_refinements == 1


def _cv_results(means, stds, n_splits=3):
    out = {"mean_test_score": np.asarray(means), "std_test_score": np.asarray(stds)}
    out.update({f"split{i}_test_score": np.zeros(len(means)) for i in range(n_splits)})
    return out


def test_prefer_baseline_is_the_one_standard_error_rule():
    rule = prefer_baseline()
    # Gain 0.016 against a standard error of 0.012 / sqrt(3) = 0.0069: kept.
    assert rule(_cv_results([0.43, 0.446, 0.44], [0.01, 0.012, 0.01])) == 1
    # Gain 0.0016 (fr→ru's arg-max): within noise, the baseline.
    assert rule(_cv_results([0.4296, 0.4312, 0.4286], [0.006, 0.006, 0.006])) == 0
    # The baseline can be any candidate.
    assert prefer_baseline(baseline=2)(_cv_results([0.4, 0.401, 0.4005], [0.01, 0.01, 0.01])) == 2
    assert prefer_baseline(baseline=2)(_cv_results([0.5, 0.401, 0.4], [0.01, 0.01, 0.01])) == 0
    assert rule(_cv_results([0.5, 0.4], [0.0, 0.0])) == 0
    assert prefer_baseline(tol=0.0)(_cv_results([0.43, 0.4312], [0.05, 0.05])) == 1
    with pytest.raises(ValueError, match="baseline must index one of the 2 candidates"):
        prefer_baseline(baseline=5)(_cv_results([0.1, 0.2], [0.0, 0.0]))


def test_grid_search_refuses_the_refinement_that_truly_hurts():
    X, Y, seed, n = _grid_problem()
    seed = _identity_pairs(range(400))  # a good seed: ℓ2 alone is strong
    pipe = Pipeline([("l2", ProcrustesAligner()), ("l1", "passthrough")])
    hurting = L1ProcrustesAligner(dictionary=FixedBuilder(_wrong_pairs(n)), solver=FAST)
    search = GridSearchCV(VocabularyAligner(pipe, Vocabularies(X, Y)),
                          {"estimator__l1": [hurting, "passthrough"]},
                          cv=SeedWordKFold(3, random_state=0), error_score="raise").fit(seed)
    means = search.cv_results_["mean_test_score"]
    assert means[1] > means[0]
    assert search.best_params_["estimator__l1"] == "passthrough"
    assert search.best_estimator_.score(seed) == bli_precision(
        ProcrustesAligner().fit(X, Y, pairs=seed).transform(X), Y, seed, k=1).precision[1]


# --------------------------------------------------------------- the noise rule
def test_significant_gain_is_a_paired_rule():
    base = np.zeros(100, dtype=bool)
    new = base.copy()
    new[:10] = True
    assert significant_gain(new, base)                    # b=10, c=0
    mixed = base.copy()
    mixed[:5] = True
    base_mixed = base.copy()
    base_mixed[5:9] = True
    assert not significant_gain(mixed, base_mixed)        # b=5, c=4: noise
    assert significant_gain(mixed, base_mixed, tol=0.0)   # any strict net gain
    assert not significant_gain(base, new)                # a loss is never a gain
    assert not significant_gain(new, new)
    # Concordant queries do not matter: the same b and c with 1,000 shared hits.
    both = np.ones(1000, dtype=bool)
    assert significant_gain(np.r_[both, new], np.r_[both, base])


# ------------------------------------------------------------- validated refinement
def test_procrustes_validation_keeps_round_zero_when_refinement_hurts():
    X, Y, _ = _problem()
    seed = _identity_pairs(range(300))
    wrong = FixedBuilder(_wrong_pairs(len(X)))
    blind = ProcrustesAligner(dictionary=wrong, n_refinements=1).fit(X, Y, pairs=seed)
    plain = ProcrustesAligner().fit(X, Y, pairs=seed)
    assert bli_precision(blind.transform(X), Y, seed, k=1).precision[1] < 0.1  # it truly hurts
    val = ProcrustesAligner(dictionary=wrong, n_refinements=1, validation=0.2,
                            random_state=0).fit(X, Y, pairs=seed)
    assert len(val.validation_scores_) == 2
    assert val.validation_scores_[1] < val.validation_scores_[0]
    assert val.best_round_ == 0
    # Refitted on all the seed pairs: the plain ℓ2 fit, not the fit on 80 % of them.
    assert_allclose(val.rotation_, plain.rotation_, atol=1e-12)
    assert_array_equal(val.dictionary_, seed)


def test_procrustes_validation_keeps_the_refined_round_when_it_helps():
    X, Y, R = _problem()
    seed = _identity_pairs(range(100))
    oracle = FixedBuilder(_identity_pairs(range(len(X))))
    val = ProcrustesAligner(dictionary=oracle, n_refinements=3, validation=0.2,
                            random_state=0).fit(X, Y, pairs=seed)
    assert val.validation_scores_[1] > val.validation_scores_[0]
    assert val.best_round_ == 1
    # Round 2 re-induces the same pairs (a fixed point), so the rounds stopped there.
    assert len(val.validation_scores_) == 2
    refit = ProcrustesAligner(dictionary=oracle, n_refinements=1).fit(X, Y, pairs=seed)
    assert_allclose(val.rotation_, refit.rotation_, atol=1e-12)
    assert np.linalg.norm(val.rotation_ - R) < np.linalg.norm(
        ProcrustesAligner().fit(X, Y, pairs=seed).rotation_ - R)


def test_held_out_pairs_are_not_in_the_validated_fit():
    X, Y, _ = _problem(n=400, d=10)
    seed = _identity_pairs(range(200))
    val = ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(400))), n_refinements=1,
                            validation=0.25, random_state=3)
    fit, held = holdout_source_words(seed, 0.25, random_state=3)
    val.fit(X, Y, pairs=seed)
    round0 = ProcrustesAligner().fit(X, Y, pairs=fit)
    assert val.validation_scores_[0] == bli_precision(round0.transform(X), Y, held, k=1).precision[1]


def test_procrustes_validation_max_rank_scores_within_the_first_rows():
    """Oracle: each round's score is ``bli_precision`` of ``X[:N] @ M`` and ``Y[:N]``."""
    X, Y, _ = _problem(n=1000, d=20, noise=1.0)
    seed, N = _identity_pairs(range(0, 1000, 4)), 500
    builder = FixedBuilder(_identity_pairs(range(0, 1000, 3)))
    val = ProcrustesAligner(dictionary=builder, n_refinements=1, validation=0.2,
                            validation_max_rank=N, random_state=0).fit(X, Y, pairs=seed)
    fit, held = holdout_source_words(seed, 0.2, random_state=0, stratify_max_rank=N)
    held = held[(held < N).all(axis=1)]
    assert 0 < len(held) < 0.2 * len(seed)
    maps = [ProcrustesAligner().fit(X, Y, pairs=fit).rotation_,
            ProcrustesAligner(dictionary=builder, n_refinements=1).fit(X, Y, pairs=fit).rotation_]
    assert val.validation_scores_ == [bli_precision(X[:N] @ M, Y[:N], held, k=1).precision[1]
                                      for M in maps]
    # Only the scoring is cut: the same planted round is kept and refitted on every pair.
    uncut = ProcrustesAligner(dictionary=builder, n_refinements=1, validation=0.2,
                              random_state=0).fit(X, Y, pairs=seed)
    assert val.validation_scores_ != uncut.validation_scores_
    assert val.best_round_ == uncut.best_round_ == 1
    assert_array_equal(val.rotation_, uncut.rotation_)


def test_validation_max_rank_holds_out_the_lone_scorable_seed_word():
    """One seed word of 100 lies within the cap: every seeded split holds it out (an
    unstratified 10 % split would draw it once in ten, and refuse to score otherwise)."""
    X, Y, _ = _problem(n=400, d=8)
    seed = _identity_pairs(np.r_[3, 200:299])
    builder = FixedBuilder(_identity_pairs(range(400)))
    for random_state in range(10):
        val = ProcrustesAligner(dictionary=builder, n_refinements=1, validation=0.1,
                                validation_max_rank=50, random_state=random_state)
        val.fit(X, Y, pairs=seed)
        fit, _ = holdout_source_words(seed, 0.1, random_state, stratify_max_rank=50)
        M = ProcrustesAligner().fit(X, Y, pairs=fit).rotation_
        held = _identity_pairs([3])
        assert val.validation_scores_[0] == bli_precision(X[:50] @ M, Y[:50], held,
                                                          k=1).precision[1]


def test_l1_validation_max_rank_scores_the_given_pairs_within_the_first_rows():
    X, Y, Q = _l1_problem(0.6)
    held, N = _identity_pairs(range(0, 800, 2)), 300
    val = L1ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(800))), solver=FAST,
                              validation_max_rank=N).fit(X, Y, validation_pairs=held)
    within = held[held[:, 0] < N]
    assert val.validation_scores_[0] == bli_precision(X[:N], Y[:N], within, k=1).precision[1]
    assert val.validation_scores_[1] == bli_precision(
        X[:N] @ val.rotation_, Y[:N], within, k=1).precision[1]  # kept round 1, no refit
    assert val.best_round_ == 1
    with pytest.raises(ValueError, match=r"validation_max_rank=1 leaves no held-out pair .*"
                                         r"\(none of the 400 held-out pairs\)"):
        clone(val).set_params(validation_max_rank=1).fit(
            X, Y, validation_pairs=_identity_pairs(range(1, 800, 2)))
    with pytest.raises(ValueError, match="validation_max_rank"):
        clone(val).set_params(validation_max_rank=0).fit(X, Y, validation_pairs=held)


def test_explicit_validation_pairs_must_be_held_out():
    X, Y, _ = _problem(n=200, d=6)
    aligner = ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(200))), n_refinements=1)
    with pytest.raises(ValueError, match="must not occur in pairs"):
        aligner.fit(X, Y, pairs=_identity_pairs(range(50)), validation_pairs=_identity_pairs([49, 60]))
    aligner.fit(X, Y, pairs=_identity_pairs(range(50)), validation_pairs=_identity_pairs(range(50, 150)))
    assert len(aligner.validation_scores_) == 2


def test_fraction_validation_needs_seed_pairs():
    X, Y, _ = _problem(n=200, d=6)
    aligner = L1ProcrustesAligner(validation=0.2, solver=FAST)
    with pytest.raises(ValueError, match="needs pairs"):
        aligner.fit(X, Y)


def _l1_problem(angle):
    """Spaces of 800 words, noise 0.8, and ``Q``, a rotation by ``angle`` left between them."""
    X, Y, R = _problem(n=800, d=16, noise=0.8)
    W = np.random.default_rng(0).normal(size=(16, 16))
    Q = expm(angle * (W - W.T) / np.linalg.norm(W - W.T, 2))
    return X @ R @ Q, Y, Q


def test_l1_validation_keeps_identity_when_refinement_hurts():
    X, Y, _ = _l1_problem(0.0)  # aligned already
    seed = _identity_pairs(range(400))
    hurting = FixedBuilder(_wrong_pairs(len(X)))
    blind = L1ProcrustesAligner(dictionary=hurting, solver=FAST).fit(X, Y)
    assert bli_precision(blind.transform(X), Y, seed, k=1).precision[1] < \
        bli_precision(X, Y, seed, k=1).precision[1] - 0.05  # it truly hurts
    val = L1ProcrustesAligner(dictionary=hurting, solver=FAST, validation=0.3, random_state=0)
    val.fit(X, Y, validation_pairs=seed)
    assert val.validation_scores_[1] < val.validation_scores_[0]
    assert val.best_round_ == 0
    assert_array_equal(val.rotation_, np.eye(16))
    assert val.solver_result_.stop_reason is not None  # the round that was tried is reported


def test_l1_validation_keeps_the_refined_round_when_it_helps():
    X, Y, Q = _l1_problem(0.6)
    val = L1ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(800))), solver=FAST,
                              validation=0.2, random_state=0)
    val.fit(X, Y, pairs=_identity_pairs(range(400)))
    assert val.validation_scores_[1] > val.validation_scores_[0]
    assert val.best_round_ == 1
    assert np.linalg.norm(val.rotation_ - Q.T) < 0.5 * np.linalg.norm(np.eye(16) - Q.T)


def test_unsupervised_validation_uses_muse_criterion():
    X, Y, _ = _problem(n=500, d=12, noise=0.05)
    hurting = FixedBuilder(_wrong_pairs(len(X)))
    val = ProcrustesAligner(dictionary=hurting, n_refinements=1, validation="unsupervised")
    val.fit(X, Y, pairs=_identity_pairs(range(200)))
    plain = ProcrustesAligner().fit(X, Y, pairs=_identity_pairs(range(200)))
    assert val.validation_scores_[0] == pytest.approx(mean_csls_cosine(plain.transform(X), Y))
    assert val.best_round_ == 0


def test_validation_is_deterministic_under_a_seed():
    X, Y, _ = _problem(n=600, d=20)
    seed = _identity_pairs(range(150))
    make = lambda rs: ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(600))),
                                        n_refinements=1, validation=0.3, random_state=rs)
    a, b = make(7).fit(X, Y, pairs=seed), make(7).fit(X, Y, pairs=seed)
    assert a.validation_scores_ == b.validation_scores_
    assert_array_equal(a.rotation_, b.rotation_)


def test_seed_union_keeps_the_seed_in_every_round():
    X, Y, _ = _problem(n=300, d=8, noise=0.05)
    seed = _identity_pairs(range(0, 300, 3))
    induced = _identity_pairs(range(1, 300, 3))
    aligner = L1ProcrustesAligner(dictionary=FixedBuilder(induced), solver=FAST,
                                  refinement_dictionary="seed+induced", n_refinements=1)
    aligner.fit(X, Y, pairs=seed)
    expected = np.unique(np.concatenate([seed, induced]), axis=0)
    assert aligner.dictionary_sizes_ == [len(expected)] * 2
    assert_array_equal(aligner.dictionary_, expected)
    plain = L1ProcrustesAligner(dictionary=FixedBuilder(induced), solver=FAST, n_refinements=1)
    plain.fit(X, Y, pairs=seed)
    assert plain.dictionary_sizes_ == [len(seed), len(induced)]


# ------------------------------------------------------------------ select_refinement
def test_select_refinement_refuses_a_candidate_that_hurts():
    X, Y, _ = _problem()
    seed = _identity_pairs(range(300))
    hurt = {"hurt": [ProcrustesAligner(dictionary=FixedBuilder(_wrong_pairs(len(X))))]}
    sel = select_refinement(X, Y, seed, hurt, random_state=0)
    assert sel.kept == "l2"
    assert_allclose(sel.rotation_, ProcrustesAligner().fit(X, Y, pairs=seed).rotation_, atol=1e-12)
    assert [s["kept"] for s in sel.steps] == [True, False]
    assert sel.steps[1]["held_out_p1"] < sel.steps[0]["held_out_p1"]
    assert not sel.steps[1]["significant"]


def _hurt_and_help(n):
    """A chain that hurts (a wrong dictionary), and one that hurts, then helps (the truth)."""
    oracle = ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(n))))
    hurt = ProcrustesAligner(dictionary=FixedBuilder(_wrong_pairs(n)))
    return hurt, oracle, {"hurt": [hurt], "help": [hurt, oracle]}


def test_select_refinement_keeps_a_candidate_that_helps_and_refits_it():
    X, Y, R = _problem()
    seed = _identity_pairs(range(100))
    hurt, oracle, candidates = _hurt_and_help(len(X))
    sel = select_refinement(X, Y, seed, candidates, validation_folds=1, random_state=0)
    assert sel.kept == "help[1]"
    assert [(s["candidate"], s["step"], s["kept"]) for s in sel.steps] == [
        ("l2", 0, True), ("hurt", 0, False), ("help", 0, True), ("help", 1, True)]
    assert sel.steps[3]["significant"] and sel.steps[3]["wins"] > sel.steps[3]["losses"]
    base = ProcrustesAligner().fit(X, Y, pairs=seed).rotation_
    assert_allclose(sel.rotation_, apply_chain(X, Y, [hurt, oracle], base)[-1], atol=1e-12)
    report = json.loads(json.dumps(sel.report()))
    assert report["kept"] == "help[1]"
    assert report["n_held_out_words"] == 20 and report["n_fit_pairs"] == 80
    assert [s["name"] for s in report["steps"]][0] == "l2"


def test_select_refinement_breaks_a_tie_towards_the_first_listed_step():
    X, Y, _ = _problem()
    seed = _identity_pairs(range(100))
    oracle = ProcrustesAligner(dictionary=FixedBuilder(_identity_pairs(range(len(X)))))
    # A closed-form fit on fixed pairs gives the same map from any start: every step ties.
    candidates = {"once": [oracle], "twice": [clone(oracle), clone(oracle)]}
    sel = select_refinement(X, Y, seed, candidates, validation_folds=1, random_state=0)
    scores = [s["held_out_p1"] for s in sel.steps[1:]]
    assert scores == [scores[0]] * 3 and sel.steps[1]["significant"]
    assert sel.kept == "once[0]"
    swapped = select_refinement(X, Y, seed, dict(reversed(candidates.items())),
                                validation_folds=1, random_state=0)
    assert swapped.kept == "twice[0]"  # the first step of the chain listed first


def test_select_refinement_is_deterministic_and_seeded():
    X, Y, _ = _problem(n=500, d=16)
    seed = _identity_pairs(range(200))
    cands = {"l1": [L1ProcrustesAligner(solver=FAST)]}
    a = select_refinement(X, Y, seed, cands, random_state=1, record_unsupervised=True)
    b = select_refinement(X, Y, seed, cands, random_state=1, record_unsupervised=True)
    assert_array_equal(a.rotation_, b.rotation_)
    strip = lambda steps: [{k: v for k, v in s.items() if k != "fit_seconds"} for s in steps]
    assert strip(a.steps) == strip(b.steps)
    assert "unsupervised" in a.steps[1]


def test_select_refinement_folds_score_every_seed_word_once():
    X, Y, _ = _problem()
    seed = _identity_pairs(range(100))
    hurt, oracle, candidates = _hurt_and_help(len(X))
    sel = select_refinement(X, Y, seed, candidates, validation_folds=4, random_state=0)
    # Oracle: the pooled held-out hits of the ℓ2 base over SeedWordKFold's own folds.
    hits = []
    for fit, held in SeedWordKFold(4, random_state=0).split(seed):
        M = ProcrustesAligner().fit(X, Y, pairs=seed[fit]).rotation_
        hits.append(bli_precision(X @ M, Y, seed[held], k=1).hits[1])
    assert sel.steps[0]["held_out_p1"] == np.concatenate(hits).mean()
    assert sel.n_held_out_words == sel.n_held_out_pairs == 100 and sel.n_fit_pairs == 75
    assert sel.steps[0]["n_dictionary_pairs"] == 75  # the folds' mean ℓ2 seed
    assert sel.kept == "help[1]"
    assert [s["kept"] for s in sel.steps] == [True, False, True, True]
    assert sel.steps[1]["losses"] > sel.steps[1]["wins"] and not sel.steps[1]["significant"]
    for s in sel.steps[1:]:  # every seed word is scored once, so the counts cover all 100
        assert s["wins"] + s["losses"] <= 100
        assert s["held_out_p1"] - sel.steps[0]["held_out_p1"] == pytest.approx(
            (s["wins"] - s["losses"]) / 100)
    base = ProcrustesAligner().fit(X, Y, pairs=seed).rotation_  # refitted on the whole seed
    assert_allclose(sel.rotation_, apply_chain(X, Y, [hurt, oracle], base)[-1], atol=1e-12)
    report = json.loads(json.dumps(sel.report()))
    assert report["settings"]["validation_folds"] == 4 and report["settings"]["validation"] is None


def test_select_refinement_folds_refuse_a_candidate_that_hurts_and_are_seeded():
    X, Y, _ = _problem()
    seed = _identity_pairs(range(300))
    hurt = {"hurt": [ProcrustesAligner(dictionary=FixedBuilder(_wrong_pairs(len(X))))]}
    a = select_refinement(X, Y, seed, hurt, validation_folds=3, random_state=2)
    b = select_refinement(X, Y, seed, hurt, validation_folds=3, random_state=2)
    assert a.kept == "l2" and a.n_held_out_words == 300
    assert_allclose(a.rotation_, ProcrustesAligner().fit(X, Y, pairs=seed).rotation_, atol=1e-12)
    strip = lambda steps: [{k: v for k, v in s.items() if k != "fit_seconds"} for s in steps]
    assert strip(a.steps) == strip(b.steps)


def test_auto_folds_cross_validate_only_when_one_split_holds_out_few_words():
    X, Y, _ = _problem()
    small, large = _identity_pairs(range(300)), _identity_pairs(range(1000))
    auto = select_refinement(X, Y, small, {}, random_state=0)  # 60 held out < 500: 5 folds
    assert auto.settings["validation_folds"] == 5 and auto.settings["validation"] is None
    assert auto.n_held_out_words == 300 and auto.n_fit_pairs == 240
    one = select_refinement(X, Y, small, {}, validation_folds=1, random_state=0)
    assert one.settings["validation_folds"] is None and one.n_held_out_words == 60
    half = select_refinement(X, Y, large, {}, validation=0.5, random_state=0)  # 500 held out
    assert half.settings["validation_folds"] is None and half.n_held_out_words == 500
    held = _identity_pairs(range(300, 400))  # explicit held-out pairs: one split, no refit
    given = select_refinement(X, Y, small, {}, validation_pairs=held)
    assert given.settings["validation_folds"] is None and given.n_held_out_words == 100
    assert select_refinement(X, Y, small[:3], {}).settings["validation_folds"] == 3


@pytest.mark.parametrize("folds", [1, 4])
def test_validation_max_rank_scores_bli_precision_within_the_first_rows(folds):
    """Oracle: each step's pooled hits are ``bli_precision`` of ``X[:N] @ M`` and ``Y[:N]``."""
    X, Y, _ = _problem(n=1000, d=20, noise=1.0)
    seed = _identity_pairs(range(0, 1000, 4))
    candidates = {"l2_self": [ProcrustesAligner(dictionary=FixedBuilder(
        _identity_pairs(range(0, 1000, 3))))]}
    N = 500
    sel = select_refinement(X, Y, seed, candidates, validation_folds=folds,
                            validation_max_rank=N, random_state=0)
    splits = ([holdout_source_words(seed, 0.2, 0, stratify_max_rank=N)] if folds == 1 else
              [(seed[f], seed[h]) for f, h in
               SeedWordKFold(folds, random_state=0, stratify_max_rank=N).split(seed)])
    base_hits, step_hits, n_held = [], [], 0
    for fit, held in splits:
        held = held[(held < N).all(axis=1)]
        n_held += len(held)
        M = ProcrustesAligner().fit(X, Y, pairs=fit).rotation_
        base_hits.append(bli_precision(X[:N] @ M, Y[:N], held, k=1).hits[1])
        M = apply_chain(X, Y, candidates["l2_self"], M)[-1]
        step_hits.append(bli_precision(X[:N] @ M, Y[:N], held, k=1).hits[1])
    assert sel.n_held_out_words == n_held < (len(seed) if folds > 1 else 0.2 * len(seed))
    assert n_held > 0 and sel.settings["validation_max_rank"] == N
    assert sel.steps[0]["held_out_p1"] == np.concatenate(base_hits).mean()
    assert sel.steps[1]["held_out_p1"] == np.concatenate(step_hits).mean()
    # The fits use every seed pair: only the scoring is cut.
    uncut = select_refinement(X, Y, seed, candidates, validation_folds=folds, random_state=0)
    assert sel.n_fit_pairs == uncut.n_fit_pairs
    assert uncut.n_held_out_words > sel.n_held_out_words
    # The planted step (more true pairs) helps either way, and the refit is the same.
    assert sel.kept == uncut.kept == "l2_self[0]"
    assert_array_equal(sel.rotation_, uncut.rotation_)


def test_auto_folds_count_only_the_seed_words_a_max_rank_leaves_scorable():
    X, Y, _ = _problem(n=3000, d=8)
    seed = _identity_pairs(range(3000))  # one split holds out 600 words: no folds
    uncut = select_refinement(X, Y, seed, {}, random_state=0)
    assert uncut.settings["validation_folds"] is None and uncut.n_held_out_words == 600
    # Under a cap of 1,000 rows, one split would score about 200 words: 5 folds score all 1,000.
    cut = select_refinement(X, Y, seed, {}, validation_max_rank=1000, random_state=0)
    assert cut.settings["validation_folds"] == 5 and cut.n_held_out_words == 1000
    assert cut.n_fit_pairs == 2400  # each fold still fits on the other folds' 2,400 pairs
    wide = select_refinement(X, Y, seed, {}, validation_max_rank=2600, random_state=0)
    assert wide.settings["validation_folds"] is None  # 2,600 scorable words: 520 held out


def test_validation_max_rank_must_leave_held_out_pairs():
    X, Y, _ = _problem(n=400, d=8)
    seed = _identity_pairs(range(200, 300))
    with pytest.raises(ValueError, match=r"validation_max_rank=150 leaves a held-out set.*"
                                         r"\(no seed pair lies within the cap\)"):
        select_refinement(X, Y, seed, {}, validation_max_rank=150)
    # 3 scorable words among 103: "auto" makes 3 folds, each with one of the 3 (the folds
    # are stratified by the cap); 5 folds leave 2 folds with none, named with the count.
    few = np.concatenate([_identity_pairs(range(3)), seed])
    for random_state in range(5):
        auto = select_refinement(X, Y, few, {}, validation_max_rank=150,
                                 random_state=random_state)
        assert auto.settings["validation_folds"] == 3 and auto.n_held_out_words == 3
    with pytest.raises(ValueError, match=r"\(2 of the 5 folds got none of the 3 seed source "
                                         r"word\(s\) within the cap\)"):
        select_refinement(X, Y, few, {}, validation_max_rank=150, validation_folds=5,
                          random_state=0)
    with pytest.raises(ValueError, match=r"\(none of the 10 validation pairs lies within"):
        select_refinement(X, Y, seed, {}, validation_max_rank=150,
                          validation_pairs=_identity_pairs(range(300, 310)))
    with pytest.raises(ValueError, match="validation_max_rank"):
        select_refinement(X, Y, seed, {}, validation_max_rank=0)
    assert select_refinement(X, Y, seed, {}, validation_max_rank=400).n_held_out_words == 100


def test_select_refinement_folds_and_validation_pairs_exclude_each_other():
    X, Y, _ = _problem(n=200, d=8)
    seed, held = _identity_pairs(range(100)), _identity_pairs(range(100, 150))
    with pytest.raises(ValueError, match="pass one of the two"):
        select_refinement(X, Y, seed, {}, validation_pairs=held, validation_folds=3)
    with pytest.raises(ValueError, match="validation_folds"):
        select_refinement(X, Y, seed, {}, validation_folds=0)
    with pytest.raises(ValueError, match="validation_folds"):
        select_refinement(X, Y, seed, {}, validation_folds="all")
    with pytest.raises(ValueError, match="at least n_splits=3 distinct source words"):
        select_refinement(X, Y, seed[:2], {}, validation_folds=3)


def test_default_candidates_hold_the_papers_schedule():
    cands = default_candidates(seed_union=True)
    assert set(cands) == {"l1_flow", "paper", "l1_seed_union"}
    assert [type(s).__name__ for s in cands["paper"]] == [
        "ProcrustesAligner", "L1ProcrustesAligner", "L1ProcrustesAligner"]
    assert cands["paper"][0].n_refinements == 9
    assert cands["l1_seed_union"][0].refinement_dictionary == "seed+induced"
    assert cands["l1_flow"][0].solver.integrator == "cayley"


def test_select_refinement_records_each_steps_dictionary_and_stop():
    X, Y, _ = _problem(n=400, d=10)
    seed = _identity_pairs(range(150))
    induced = _identity_pairs(range(0, 400, 2))
    cands = {"l1": [L1ProcrustesAligner(dictionary=FixedBuilder(induced), solver=FAST)]}
    sel = select_refinement(X, Y, seed, cands, validation_folds=1, random_state=0)
    base, l1 = sel.steps
    assert base["n_dictionary_pairs"] == sel.n_fit_pairs == len(seed) - sel.n_held_out_pairs
    assert "stop_reason" not in base
    assert l1["n_dictionary_pairs"] == len(induced)
    assert l1["stop_reason"] in {r.value for r in StopReason}
    seen = []
    apply_chain(X, Y, cands["l1"], on_fitted=lambda i, est: seen.append((i, len(est.dictionary_))))
    assert seen == [(0, len(induced))]


def test_apply_chain_and_mean_csls_cosine_take_array_likes():
    X, Y, _ = _problem(n=60, d=5)
    chain = [ProcrustesAligner(dictionary="paired")]
    assert_allclose(apply_chain(X.tolist(), Y.tolist(), chain)[-1], apply_chain(X, Y, chain)[-1])
    assert mean_csls_cosine(X.tolist(), Y.tolist()) == pytest.approx(mean_csls_cosine(X, Y))
    bad = X.copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        mean_csls_cosine(bad, Y)
