"""Tests of the BLI metrics: hand-computed cases, a float64 brute-force reference, McNemar."""

import io
import sys

import numpy as np
import pytest
from _helpers import brute_force_scores, min_score_gap
from numpy.testing import assert_array_equal
from scipy.stats import binomtest
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l1align.metrics import bli_mrr, bli_precision, mcnemar_test

# A hand-checkable 2-D case (all vectors unit length).
#   sources: s0 = (1, 0), s1 = (0, 1), s2 = (-0.6, 0.8)
#   targets: t0 = (1, 0), t1 = (0, -1), t2 = (0.8, -0.6)
# cosines             t0     t1     t2
#   s0               1.0    0.0    0.8
#   s1               0.0   -1.0   -0.6
#   s2              -0.6   -0.8   -0.96
# NN ranks s2: t0, t1, t2.  With csls_k = 1, r_T = row max = (1, 0, -0.6) and
# r_S = column max over *all* sources = (1, 0, 0.8), so CSLS = 2cos − r_T − r_S:
#   s0               0.0   -1.0   -0.2      ranks t0, t2, t1
#   s2              -1.6   -1.0   -2.12     ranks t1, t0, t2   (the hub t0 is demoted)
SRC = np.array([[1.0, 0.0], [0.0, 1.0], [-0.6, 0.8]])
TGT = np.array([[1.0, 0.0], [0.0, -1.0], [0.8, -0.6]])


def test_hand_case_reference_matches_comment():
    S = brute_force_scores(SRC, TGT, method="csls", k=1)
    np.testing.assert_allclose(S[0], [0.0, -1.0, -0.2], atol=1e-12)
    np.testing.assert_allclose(S[2], [-1.6, -1.0, -2.12], atol=1e-12)


@pytest.mark.parametrize(
    "pairs, method, expected",
    [
        ([[2, 0]], "nn", 1.0),
        ([[2, 1]], "nn", 0.0),
        ([[2, 0]], "csls", 0.0),
        ([[2, 1]], "csls", 1.0),
        ([[0, 0], [2, 1]], "nn", 0.5),
        ([[0, 0], [2, 1]], "csls", 1.0),
        ([[0, 2], [2, 2]], "csls", 0.0),
    ],
)
def test_precision_at_1_hand_cases(pairs, method, expected):
    res = bli_precision(SRC, TGT, pairs, k=1, method=method, csls_k=1)
    assert res.precision[1] == expected


def test_csls_r_s_uses_all_source_rows():
    # Only s2 is a query, but r_S(t0) = 1 comes from s0. Computing r_S over the queries
    # alone would give r_S = (-0.6, -0.8, -0.96) and rank t0 first for s2 (a miss here).
    res = bli_precision(SRC, TGT, [[2, 1]], k=1, method="csls", csls_k=1)
    assert res.precision[1] == 1.0
    res_subset = bli_precision(SRC[2:], TGT, [[0, 1]], k=1, method="csls", csls_k=1)
    assert res_subset.precision[1] == 0.0


def test_precision_at_k_ranks():
    # s0 ranks t0, t2, t1 under CSLS-1: gold t1 is third.
    res = bli_precision(SRC, TGT, [[0, 1]], k=(1, 2, 3), method="csls", csls_k=1)
    assert res.precision == {1: 0.0, 2: 0.0, 3: 1.0}
    res = bli_precision(SRC, TGT, [[0, 2]], k=(1, 2, 3), method="nn")
    assert res.precision == {1: 0.0, 2: 1.0, 3: 1.0}


def test_any_gold_translation_counts():
    # s2 with golds {t1, t2}: a hit at 1 by CSLS (t1), and by NN only once t1 ranks (k=2).
    for golds, nn_p1, nn_p2 in (([1, 2], 0.0, 1.0), ([2, 0], 1.0, 1.0), ([2], 0.0, 0.0)):
        pairs = [[2, g] for g in golds]
        nn = bli_precision(SRC, TGT, pairs, k=(1, 2), method="nn")
        assert (nn.precision[1], nn.precision[2]) == (nn_p1, nn_p2)
        assert nn.n_queries == 1
    assert bli_precision(SRC, TGT, [[2, 2], [2, 1]], k=1, method="csls", csls_k=1).precision[1] == 1.0


def test_unique_source_words_are_the_queries():
    # Four pairs, two source words; s0 (gold t0 or t1) hits, s2 (gold t2 twice) misses.
    pairs = [[0, 0], [2, 2], [0, 1], [2, 2]]
    res = bli_precision(SRC, TGT, pairs, k=1, method="nn")
    assert res.n_queries == 2
    assert_array_equal(res.queries, [0, 2])
    assert_array_equal(res.hits[1], [True, False])
    assert res.precision[1] == 0.5


def test_k_beyond_number_of_targets():
    res = bli_precision(SRC, TGT, [[2, 2], [1, 1]], k=(1, 3, 10), method="nn")
    assert res.precision[10] == 1.0
    assert res.precision[3] == 1.0
    assert res.precision[1] == 0.0


def test_bli_precision_documented_example():
    X = np.eye(3)
    res = bli_precision(X, X, [[0, 0], [1, 1], [2, 0]], k=1, method="nn")
    assert res.precision[1] == pytest.approx(2 / 3)
    assert res.n_queries == 3


@pytest.mark.parametrize("method", ["nn", "csls"])
@pytest.mark.parametrize("seed", [0, 5])
def test_bli_precision_equals_brute_force(method, seed):
    rng = np.random.default_rng(seed)
    Xs, Xt = rng.normal(size=(150, 12)), rng.normal(size=(120, 12))
    assert min_score_gap(Xs, Xt, method=method, k=4) > 2e-5  # no near-ties
    pairs = np.column_stack([rng.integers(0, 150, 200), rng.integers(0, 120, 200)])
    res = bli_precision(Xs, Xt, pairs, k=(1, 5, 10), method=method, csls_k=4, batch_size=7)
    S = brute_force_scores(Xs, Xt, method=method, k=4)
    ranks = np.argsort(np.argsort(-S, axis=1), axis=1)  # 0-based rank of each target
    queries = np.unique(pairs[:, 0])
    best = np.array([min(ranks[q, t] for t in pairs[pairs[:, 0] == q, 1]) for q in queries])
    assert res.n_queries == len(queries)
    for k in (1, 5, 10):
        assert_array_equal(res.hits[k], best < k)
        assert res.precision[k] == pytest.approx(np.mean(best < k), abs=0)


def test_bli_precision_errors():
    with pytest.raises(ValueError, match=r"pairs\[:, 1\] indexes the target rows"):
        bli_precision(SRC, TGT, [[0, 3]])
    with pytest.raises(ValueError, match="same number of features"):
        bli_precision(SRC, TGT[:, :1], [[0, 0]])
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        bli_precision(SRC, TGT, [[0, 0]], method="cosine")
    with pytest.raises(ValueError, match="k must be a positive integer"):
        bli_precision(SRC, TGT, [[0, 0]], k=(0, 1))


# ---------------------------------------------------------------------------------- MRR
def test_mrr_hand_cases():
    # NN: s0 ranks t2 second (rr 1/2); s2 ranks t2 third (rr 1/3).
    pairs = [[0, 2], [2, 2]]
    assert bli_mrr(SRC, TGT, pairs) == pytest.approx((1 / 2 + 1 / 3) / 2)
    # Two OOV test words count as misses in the denominator (xling-eval).
    assert bli_mrr(SRC, TGT, pairs, n_oov=2) == pytest.approx((1 / 2 + 1 / 3) / 4)
    # CSLS-1: s2 ranks t1, t0, t2, so gold t0 is second; NN puts it first.
    assert bli_mrr(SRC, TGT, [[2, 0]], method="csls", csls_k=1) == pytest.approx(1 / 2)
    assert bli_mrr(SRC, TGT, [[2, 0]], method="nn") == 1.0
    # Several golds: the best-ranked one counts (s2: t1 is second by NN).
    assert bli_mrr(SRC, TGT, [[2, 2], [2, 1]]) == pytest.approx(1 / 2)


def test_mrr_documented_example_and_ties():
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[1.0, 0.1], [0.9, 0.0]])
    assert bli_mrr(X, Y, [[0, 1], [1, 1]]) == 0.75
    # Ties are optimistic: an identical row ranked "before" the gold does not push it down.
    Y2 = np.array([[1.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
    assert bli_mrr(X, Y2, [[0, 1]]) == 1.0


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_mrr_equals_brute_force(method):
    rng = np.random.default_rng(2)
    Xs, Xt = rng.normal(size=(90, 8)), rng.normal(size=(70, 8))
    pairs = np.column_stack([rng.integers(0, 90, 60), rng.integers(0, 70, 60)])
    S = brute_force_scores(Xs, Xt, method=method, k=3)
    queries = np.unique(pairs[:, 0])
    rr = []
    for q in queries:
        best = S[q, pairs[pairs[:, 0] == q, 1]].max()
        rr.append(1 / (1 + np.count_nonzero(S[q] > best)))
    got = bli_mrr(Xs, Xt, pairs, method=method, csls_k=3, batch_size=7)
    assert got == pytest.approx(np.mean(rr), rel=1e-12)


# ------------------------------------------------------------------------------ McNemar
@pytest.mark.parametrize(
    "n01, n10", [(0, 0), (1, 0), (6, 0), (5, 5), (3, 10), (10, 3), (25, 40), (100, 70), (0, 17)]
)
def test_mcnemar_equals_scipy_binomtest(n01, n10):
    n11, n00 = 7, 4  # concordant queries do not matter
    a = np.array([1] * n01 + [0] * n10 + [1] * n11 + [0] * n00, dtype=bool)
    b = np.array([0] * n01 + [1] * n10 + [1] * n11 + [0] * n00, dtype=bool)
    p = mcnemar_test(a, b)
    expected = 1.0 if n01 + n10 == 0 else binomtest(n01, n01 + n10, 0.5).pvalue
    assert p == pytest.approx(expected, rel=1e-12, abs=1e-300)
    assert mcnemar_test(b, a) == p  # symmetric


def test_mcnemar_documented_value_and_errors():
    assert mcnemar_test([1, 1, 1, 1, 1, 1, 0], [0] * 7) == pytest.approx(2 / 64)
    with pytest.raises(ValueError, match="1-D and of equal length"):
        mcnemar_test([1, 0], [1, 0, 1])


# ------------------------------------------------------------- large samples, cut-offs
@pytest.mark.parametrize("n01, n10", [(600, 500), (2_400, 2_600), (5_000, 5_000), (30, 3_000)])
def test_mcnemar_large_discordant_counts_do_not_overflow(n01, n10):
    from fractions import Fraction

    a = np.array([1] * n01 + [0] * n10, dtype=bool)
    p = mcnemar_test(a, ~a)
    n, m = n01 + n10, min(n01, n10)
    # Exact rational arithmetic with Python integers: no float until the end.
    term, tail = 1, 1  # C(n, 0), then C(n, i) by the running product
    for i in range(1, m + 1):
        term = term * (n - i + 1) // i
        tail += term
    exact = min(Fraction(1), Fraction(2 * tail, 2**n))
    assert np.isfinite(p) and 0.0 <= p <= 1.0
    assert p == pytest.approx(float(exact), rel=1e-9, abs=1e-300)


@pytest.mark.parametrize("k", [(1.5,), 1.5, (0,), (1, -2), (True,), True, 2.0, (), ("1",), [1, None]])
def test_bli_precision_refuses_bad_cutoffs(k):
    # A scalar float is refused by the declared constraints, the rest by the cut-off check.
    with pytest.raises(ValueError, match=r"k must be a positive integer|The 'k' parameter"):
        bli_precision(SRC, TGT, [[0, 0]], k=k)


def test_bli_precision_accepts_numpy_integer_cutoffs():
    res = bli_precision(SRC, TGT, [[0, 0], [2, 1]], k=(np.int64(1), np.int32(2)), method="nn")
    assert set(res.precision) == {1, 2}
    assert all(type(key) is int for key in res.precision)


def test_pairs_near_2_to_the_64_are_not_reported_as_negative():
    pairs = np.array([[0, 0], [2**64 - 2, 1]], dtype=np.uint64)
    with pytest.raises(ValueError, match="must be < 3. Got 18446744073709551614 at row 1"):
        bli_precision(SRC, TGT, pairs)


def test_bli_mrr_csls_equals_brute_force_ranks():
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(60, 8)), rng.normal(size=(50, 8))
    pairs = np.column_stack([np.arange(0, 60, 3), rng.integers(0, 50, size=20)])
    assert min_score_gap(X, Y) > 2e-5
    S = brute_force_scores(X, Y, method="csls", k=10)
    ranks = [1 + int((S[i] > S[i, j]).sum()) for i, j in pairs]
    assert bli_mrr(X, Y, pairs, method="csls", batch_size=7) == pytest.approx(np.mean(1 / np.array(ranks)))


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal, so that progress lines are drawn into it."""

    def isatty(self):
        return True


@pytest.mark.parametrize("how", ["verbose", "show_progress"])
def test_bli_precision_progress_line(monkeypatch, how):
    from sklearn_l1align._progress import show_progress

    term = _Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(40, 6)), rng.normal(size=(30, 6))
    pairs = np.column_stack([np.arange(20), np.arange(20)])
    if how == "verbose":
        bli_precision(X, Y, pairs, k=1, batch_size=4, verbose=1)
    else:
        with show_progress():
            bli_precision(X, Y, pairs, k=1, batch_size=4)
    out = term.getvalue()
    assert "CSLS retrieval: 100% (5/5)" in out  # 20 queries in blocks of 4
    assert "CSLS neighbourhoods" in out
    term.truncate(0)
    bli_precision(X, Y, pairs, k=1, batch_size=4)  # verbose=0 outside show_progress: silent
    assert term.getvalue().strip("\x00") == ""
