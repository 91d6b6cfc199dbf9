"""Tests of ``CSLSDictionaryBuilder`` and ``mean_topk_similarity`` against dense float64 references."""

import numpy as np
import pytest
from _helpers import (
    brute_force_dictionary,
    brute_force_scores,
    min_score_gap,
    topk_mean_rows,
    unit64,
)
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.base import clone
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l1align import CSLSDictionaryBuilder, mean_topk_similarity
from sklearn_l1align._neighbors import topk_neighbors

METHODS = ("csls", "nn")
DIRECTIONS = ("mutual", "s2t", "t2s", "union")
#: Seeds whose best and second-best scores are far apart compared with float32 rounding
#: (checked by ``_random_spaces``), so that float32 argmaxes must equal float64 ones.
SEEDS = (0, 1, 4)
MIN_GAP = 2e-5


def _random_spaces(seed, n_src=300, n_tgt=200, d=16):
    rng = np.random.default_rng(seed)
    X, Y = rng.normal(size=(n_src, d)), rng.normal(size=(n_tgt, d))
    for method in METHODS:
        # A precondition, not a tolerance: near-ties would make any float32 code disagree.
        assert min_score_gap(X, Y, method=method) > MIN_GAP
    return X, Y


# ------------------------------------------------------------------- brute-force oracle
def test_reference_is_a_real_reference():
    """The hand-written reference itself: CSLS by definition on a tiny case."""
    X = np.array([[1.0, 0.0], [0.0, 1.0]])
    Y = np.array([[1.0, 0.0], [1.0, 1.0]])
    cos = np.array([[1.0, 1 / np.sqrt(2)], [0.0, 1 / np.sqrt(2)]])
    assert_allclose(brute_force_scores(X, Y, method="nn"), cos)
    k = 1
    r_T = cos.max(axis=1)
    r_S = cos.max(axis=0)
    assert_allclose(brute_force_scores(X, Y, k=k), 2 * cos - r_T[:, None] - r_S[None, :])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_builder_equals_brute_force(seed, method, direction):
    X, Y = _random_spaces(seed)
    expected = brute_force_dictionary(X, Y, method=method, k=10, direction=direction)
    got = CSLSDictionaryBuilder(method=method, k=10, direction=direction, max_rank=None,
                                batch_size=7).build(X, Y)
    assert got.dtype == np.int64
    assert_array_equal(got, expected)


@pytest.mark.parametrize("k", [1, 3, 250])
def test_builder_equals_brute_force_other_k(k):
    # k = 250 exceeds both 200 targets and the source count per block: r averages everything.
    X, Y = _random_spaces(0)
    expected = brute_force_dictionary(X, Y, method="csls", k=k, direction="union")
    got = CSLSDictionaryBuilder(k=k, direction="union", max_rank=None, batch_size=7).build(X, Y)
    assert_array_equal(got, expected)


def test_direction_sizes_and_relations():
    X, Y = _random_spaces(1)
    built = {d: CSLSDictionaryBuilder(direction=d, max_rank=None, batch_size=7).build(X, Y)
             for d in DIRECTIONS}
    as_set = {d: set(map(tuple, p.tolist())) for d, p in built.items()}
    assert_array_equal(built["s2t"][:, 0], np.arange(len(X)))
    assert len(built["t2s"]) == len(Y)
    assert_array_equal(np.sort(built["t2s"][:, 1]), np.arange(len(Y)))
    assert as_set["mutual"] == as_set["s2t"] & as_set["t2s"]
    assert as_set["union"] == as_set["s2t"] | as_set["t2s"]
    # Sorted by source row, then target row.
    for p in built.values():
        assert_array_equal(p, p[np.lexsort((p[:, 1], p[:, 0]))])


def test_identical_spaces_give_identity_dictionary():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 10))
    for method in METHODS:
        pairs = CSLSDictionaryBuilder(method=method, max_rank=None, batch_size=11).build(X, X)
        assert_array_equal(pairs, np.column_stack([np.arange(120)] * 2))


def test_scale_invariance():
    # Cosine and CSLS ignore row norms.
    X, Y = _random_spaces(4)
    scales = np.random.default_rng(0).uniform(0.1, 10, size=(len(X), 1))
    builder = CSLSDictionaryBuilder(direction="union", max_rank=None, batch_size=7)
    assert_array_equal(builder.build(X * scales, Y), builder.build(X, Y))


def test_ties_go_to_lowest_index_across_blocks():
    # Duplicated target rows tie for every source (S2T), duplicated source rows tie for
    # every target (T2S), and with batch_size=1 the source duplicates sit in different blocks.
    rng = np.random.default_rng(3)
    X = rng.normal(size=(40, 6))
    Y = rng.normal(size=(30, 6))
    X[25] = X[5]
    Y[20] = Y[2]
    for method in METHODS:
        fwd = CSLSDictionaryBuilder(method=method, direction="s2t", max_rank=None,
                                    batch_size=1).build(X, Y)
        bwd = CSLSDictionaryBuilder(method=method, direction="t2s", max_rank=None,
                                    batch_size=1).build(X, Y)
        assert 20 not in fwd[:, 1].tolist()
        assert 25 not in bwd[:, 0].tolist()
        assert fwd[5, 1] == fwd[25, 1]


# ----------------------------------------------------------------------------- max_rank
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_max_rank_computes_everything_within_the_cut(method, direction):
    X, Y = _random_spaces(0, n_src=400, n_tgt=350)
    cut = 150
    got = CSLSDictionaryBuilder(method=method, direction=direction, max_rank=cut,
                                batch_size=7).build(X, Y)
    assert got.max() < cut
    # VecMap's vocabulary cut-off: the same as running on the first rows only.
    assert_array_equal(got, brute_force_dictionary(X[:cut], Y[:cut], method=method,
                                                   direction=direction))
    assert_array_equal(got, brute_force_dictionary(X, Y, method=method, direction=direction,
                                                   max_rank=cut))


def test_max_rank_differs_from_search_then_filter():
    """The CSLS neighbourhoods are computed within the cut, unlike MUSE's ``dico_max_rank``.

    This shows that the max_rank test above can tell the two semantics apart.
    """
    X, Y = _random_spaces(0, n_src=400, n_tgt=350)
    cut = 150
    got = CSLSDictionaryBuilder(direction="s2t", max_rank=cut, batch_size=7).build(X, Y)
    full = brute_force_dictionary(X, Y, direction="s2t")
    muse_style = full[(full[:, 0] < cut) & (full[:, 1] < cut)]
    assert set(map(tuple, got.tolist())) != set(map(tuple, muse_style.tolist()))


def test_max_rank_larger_than_data_is_all_rows():
    X, Y = _random_spaces(1)
    assert_array_equal(CSLSDictionaryBuilder(max_rank=10_000).build(X, Y),
                       CSLSDictionaryBuilder(max_rank=None).build(X, Y))


def test_max_rank_cuts_each_space_separately():
    # Fewer target rows than max_rank: the source side is still cut.
    X, Y = _random_spaces(4, n_src=300, n_tgt=100)
    got = CSLSDictionaryBuilder(direction="s2t", max_rank=200, batch_size=7).build(X, Y)
    assert_array_equal(got[:, 0], np.arange(200))
    assert_array_equal(got, brute_force_dictionary(X[:200], Y, direction="s2t"))


# ------------------------------------------------------------------ blocking / batch size
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("direction", DIRECTIONS)
def test_results_identical_across_batch_sizes(method, direction):
    X, Y = _random_spaces(1)
    results = [CSLSDictionaryBuilder(method=method, direction=direction, max_rank=None,
                                     batch_size=b).build(X, Y) for b in (1, 5, 512)]
    for r in results[1:]:
        assert_array_equal(r, results[0])


@pytest.mark.parametrize("batch_size", [1, 5, 512])
@pytest.mark.parametrize("k", [1, 10, 500])
def test_mean_topk_similarity_equals_brute_force(batch_size, k):
    X, Y = _random_spaces(0)
    expected = topk_mean_rows(unit64(X) @ unit64(Y).T, k)
    got = mean_topk_similarity(X, Y, k=k, batch_size=batch_size)
    assert got.shape == (len(X),)
    # Float32 blocks: a cosine of 16-d unit vectors is exact to a few 1e-7.
    assert_allclose(got, expected, rtol=0, atol=2e-6)


def test_mean_topk_similarity_hand_case():
    X = np.array([[1.0, 0.0], [0.0, 2.0]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [-1.0, 0.0], [1.0, 1.0]])
    s = 1 / np.sqrt(2)
    # Row 0 cosines: 1, 0, -1, s; row 1: 0, 1, 0, s.
    assert_allclose(mean_topk_similarity(X, Y, k=1), [1.0, 1.0], atol=1e-7)
    assert_allclose(mean_topk_similarity(X, Y, k=2), [(1 + s) / 2, (1 + s) / 2], atol=1e-7)
    assert_allclose(mean_topk_similarity(X, Y, k=4), [s / 4, (1 + s) / 4], atol=1e-7)


def test_mean_topk_similarity_errors():
    X, Y = _random_spaces(0)
    with pytest.raises(ValueError, match="same number of features"):
        mean_topk_similarity(X, Y[:, :5])
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        mean_topk_similarity(X, Y, k=0)


@pytest.mark.parametrize("method", METHODS)
def test_topk_neighbors_equals_brute_force(method):
    X, Y = _random_spaces(4)
    S = brute_force_scores(X, Y, method=method, k=10)
    idx, scores = topk_neighbors(X, Y, 5, method=method, csls_k=10, batch_size=7)
    assert_array_equal(idx[:, 0], S.argmax(axis=1))
    assert_allclose(scores, np.take_along_axis(S, idx, axis=1), atol=5e-6)
    # Best first, and the returned set is the true top 5 (ranks 5 and 6 are not tied here).
    assert (np.diff(scores, axis=1) <= 0).all()
    assert_array_equal(np.sort(idx, axis=1), np.sort(np.argsort(-S, axis=1)[:, :5], axis=1))


# ---------------------------------------------------------------- estimator protocol
def test_get_set_params_and_clone():
    b = CSLSDictionaryBuilder(method="nn", k=5, direction="union", max_rank=100, batch_size=3)
    assert b.get_params() == {"method": "nn", "k": 5, "direction": "union", "max_rank": 100,
                              "batch_size": 3, "verbose": 0}
    c = clone(b)
    assert c is not b and c.get_params() == b.get_params()
    assert c.set_params(k=7, direction="s2t") is c
    assert (c.k, c.direction, b.k) == (7, "s2t", 5)
    X, Y = _random_spaces(0)
    assert_array_equal(
        c.set_params(max_rank=None, method="csls").build(X, Y),
        brute_force_dictionary(X, Y, k=7, direction="s2t"),
    )


@pytest.mark.parametrize(
    "params, fragment",
    [
        ({"method": "cosine"}, "'method' parameter"),
        ({"k": 0}, "'k' parameter"),
        ({"direction": "both"}, "'direction' parameter"),
        ({"max_rank": 0}, "'max_rank' parameter"),
        ({"batch_size": 0}, "'batch_size' parameter"),
        ({"verbose": "loud"}, "'verbose' parameter"),
    ],
)
def test_invalid_params_raise_at_build(params, fragment):
    X, Y = _random_spaces(0)
    with pytest.raises(InvalidParameterError, match=fragment):
        CSLSDictionaryBuilder(**params).build(X, Y)


def test_dimension_mismatch_raises():
    X, Y = _random_spaces(0)
    with pytest.raises(ValueError, match=r"X_src and X_tgt must have the same number of features.*"
                                         r"Got 16 and 15 instead"):
        CSLSDictionaryBuilder().build(X, Y[:, :15])


def test_inputs_not_modified_and_float32_accepted():
    X, Y = _random_spaces(0)
    X0, Y0 = X.copy(), Y.copy()
    b = CSLSDictionaryBuilder(max_rank=None, direction="union")
    p64 = b.build(X, Y)
    assert_array_equal(X, X0)
    assert_array_equal(Y, Y0)
    assert_array_equal(b.build(X.astype(np.float32), Y.astype(np.float32)), p64)


def test_builder_progress_line_at_verbose_1(monkeypatch):
    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    X, Y = _random_spaces(0)
    quiet = CSLSDictionaryBuilder(max_rank=None, batch_size=50).build(X, Y)
    assert term.getvalue() == ""
    loud = CSLSDictionaryBuilder(max_rank=None, batch_size=50, verbose=1).build(X, Y)
    assert "CSLS dictionary: 100% (6/6)" in term.getvalue()  # 300 source rows in blocks of 50
    assert_array_equal(loud, quiet)
