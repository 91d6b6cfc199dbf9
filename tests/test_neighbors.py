"""Tests of ``sklearn_l1align._neighbors``: the kernels against dense references, the exact CSLS
dictionary's re-scoring pass against brute force, and thread-count independence."""

import logging

import numpy as np
import pytest
from _helpers import brute_force_scores, min_score_gap, topk_mean_rows, unit64
from numpy.testing import assert_allclose, assert_array_equal
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_l1align import _neighbors, _threads
from sklearn_l1align._neighbors import (
    CSLS_K,
    csls_both_ways,
    csls_scores,
    nn_both_ways,
    topk_means,
    topk_neighbors,
    topk_rows,
    unit_rows,
)
from sklearn_l1align._threads import blas_threads, max_blas_threads


def _tied_matrix(rng, n_rows, n_cols):
    """float32 scores with exact ties: quantised values, repeated columns and a zero row."""
    S = np.round(rng.normal(size=(n_rows, n_cols)) * 4) / 4
    S[:, 100:140] = S[:, [7]]  # a column repeated 40 times
    S[3] = 0.0  # a row with every entry tied
    return S.astype(np.float32)


def _reference_topk(S, k):
    """Best first; ties to the lowest column (a stable sort of −S)."""
    idx = np.argsort(-S, axis=1, kind="stable")[:, :k]
    return idx, np.take_along_axis(S, idx, axis=1)


# ----------------------------------------------------------------------- unit rows
def test_unit_rows_extreme_scales_and_zero_rows():
    X = np.array([[1e20, -2e20, 3e20], [1e-25, 2e-25, -2e-25], [0.0, 0.0, 0.0],
                  [3e38, 3e38, 0.0], [3.0, 4.0, 0.0]], dtype=np.float32)
    with np.errstate(all="raise"):  # no overflow or underflow escapes
        U = unit_rows(X)
    assert U.dtype == np.float32
    norms = np.linalg.norm(U.astype(np.float64), axis=1)
    assert_allclose(norms[[0, 1, 3, 4]], 1.0, rtol=0, atol=1e-6)
    assert_array_equal(U[2], 0.0)
    # The direction is kept: the rescaled row is the same unit vector as its small copy.
    assert_allclose(U[0], unit64([[1.0, -2.0, 3.0]])[0], atol=1e-7)
    assert_allclose(U[1], unit64([[1.0, 2.0, -2.0]])[0], atol=1e-7)


def test_unit_rows_copy_and_in_place():
    X = np.random.default_rng(0).normal(size=(50, 6)).astype(np.float32)
    before = X.copy()
    U = unit_rows(X)
    assert U is not X and np.shares_memory(U, X) is False
    assert_array_equal(X, before)
    V = unit_rows(X, copy=False)
    assert V is X
    assert_array_equal(V, U)
    # A float64 input with dtype=float32 cannot be worked on in place: a copy, input untouched.
    X64 = before.astype(np.float64)
    W = unit_rows(X64, copy=False)
    assert W.dtype == np.float32 and W is not X64
    assert_array_equal(X64, before.astype(np.float64))
    assert unit_rows(X64, dtype=None).dtype == np.float64


def test_unit_rows_matches_float64_reference():
    X = np.random.default_rng(1).normal(size=(9000, 20)) * 50  # more rows than one chunk
    assert_allclose(unit_rows(X), unit64(X), rtol=0, atol=3e-7)


# ----------------------------------------------------------------------- CSLS formula
def test_csls_scores_by_definition_and_in_place():
    rng = np.random.default_rng(2)
    cos = rng.uniform(-1, 1, size=(4, 6)).astype(np.float32)
    r_rows, r_cols = rng.uniform(size=4), rng.uniform(size=6)
    expected = 2 * cos.astype(np.float64) - r_rows[:, None] - r_cols[None, :]
    out = csls_scores(cos.copy(), r_rows, r_cols)
    assert out.dtype == np.float32
    assert_allclose(out, expected, atol=1e-6)
    buf = cos.copy()
    assert csls_scores(buf, r_rows, r_cols, out=buf) is buf
    assert_array_equal(buf, out)
    # Per-row candidate lists: a 2-D r_cols is subtracted entry by entry.
    per_row = np.broadcast_to(r_cols, (4, 6))
    assert_array_equal(csls_scores(cos, r_rows, per_row), out)
    assert_allclose(csls_scores(cos), 2 * cos)


def test_csls_scores_equal_the_brute_force_reference():
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(40, 8)), rng.normal(size=(30, 8))
    cos = unit64(X) @ unit64(Y).T
    got = csls_scores(cos, topk_mean_rows(cos, 10), topk_mean_rows(cos.T, 10))
    assert_allclose(got, brute_force_scores(X, Y, k=10), atol=1e-12)


# ----------------------------------------------------------------------- selections
@pytest.mark.parametrize("k", [1, 10, 32, 100])
@pytest.mark.parametrize("kind", ["continuous", "tied"])
def test_topk_rows_equals_stable_sort(k, kind):
    rng = np.random.default_rng(k)
    # 5,000 columns: enough groups of 64 for the grouped path, plus a partial last group.
    n_cols = 5_000
    S = (rng.normal(size=(50, n_cols)).astype(np.float32) if kind == "continuous"
         else _tied_matrix(rng, 50, n_cols))
    idx, vals = topk_rows(S, k)
    ref_idx, ref_vals = _reference_topk(S, k)
    assert_array_equal(idx, ref_idx)
    assert_array_equal(vals, ref_vals)


def test_topk_rows_short_rows_and_k_above_width():
    S = np.array([[0.5, 0.1, 0.5], [0.0, 0.0, 0.0]], dtype=np.float32)
    idx, vals = topk_rows(S, 2)
    assert_array_equal(idx, [[0, 2], [0, 1]])
    assert_array_equal(vals, [[0.5, 0.5], [0.0, 0.0]])
    idx, vals = topk_rows(S, 10)
    assert_array_equal(idx, [[0, 2, 1], [0, 1, 2]])
    assert_array_equal(vals, S[[[0], [1]], idx])


@pytest.mark.parametrize("batch", [1, 7, 64, 500])
def test_column_topk_and_argmax_equal_dense_references(batch):
    rng = np.random.default_rng(batch)
    S = _tied_matrix(rng, 500, 300)
    S[250] = S[20]  # a repeated row in another block: the argmax tie goes to row 20
    top, arg = _neighbors._ColumnTopK(10), _neighbors._ColumnArgmax(S.shape[1])
    lower = None
    for start in range(0, len(S), batch):
        block = S[start:start + batch].copy()
        top.update(block)
        arg.update(block, start)
        block[:] = np.nan  # the caller reuses its buffer: nothing may keep a view of it
        if top.mean is not None:
            # The running mean only grows: a lower bound of the final one.
            if lower is not None:
                assert (top.mean >= lower).all()
            lower = top.mean.copy()
    final = np.sort(S, axis=0)[-10:].mean(axis=0, dtype=np.float64)
    assert_allclose(top.means(), final, rtol=0, atol=1e-7)
    assert (lower <= top.means()).all()
    assert_array_equal(arg.arg, np.argmax(S, axis=0))


# ----------------------------------------------------------------------- neighbourhoods
def test_topk_means_both_sides_on_the_grouped_path():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(300, 10)), rng.normal(size=(5_000, 10))
    r_src, r_tgt = topk_means(unit_rows(X), unit_rows(Y), 10, 64)
    cos = unit64(X) @ unit64(Y).T
    assert_allclose(r_src, topk_mean_rows(cos, 10), atol=2e-6)
    assert_allclose(r_tgt, topk_mean_rows(cos.T, 10), atol=2e-6)
    only_src, none = topk_means(unit_rows(X), unit_rows(Y), 10, 64, need_tgt=False)
    assert none is None
    assert_array_equal(only_src, r_src)


def test_topk_neighbors_on_the_grouped_path_and_cached_r_candidates():
    rng = np.random.default_rng(8)
    X, Y = rng.normal(size=(300, 10)), rng.normal(size=(5_000, 10))
    S = brute_force_scores(X, Y, k=10)
    idx, scores = topk_neighbors(X, Y, 10, method="csls", batch_size=64)
    assert_array_equal(idx[:, 0], S.argmax(axis=1))
    assert_allclose(scores, np.take_along_axis(S, idx, axis=1), atol=5e-6)
    # r_S passed in gives the same answer, for a subset of queries.
    r_c = topk_means(unit_rows(Y), unit_rows(X), CSLS_K, need_tgt=False)[0]
    queries = np.array([5, 17, 250])
    idx2, scores2 = topk_neighbors(X, Y, 10, queries=queries, r_candidates=r_c)
    assert_array_equal(idx2, idx[queries])
    # Equal to float32 rounding, not always bit for bit: some BLAS kernels give a row other
    # bits in a 3-row product than in a 300-row one (measured on AMD EPYC with OpenBLAS's
    # Haswell float32 kernel: a row's bits follow its place in tiles of 6 rows).
    assert_allclose(scores2, scores[queries], rtol=0, atol=1e-6)


def test_topk_neighbors_validates():
    X = np.eye(3)
    with pytest.raises(InvalidParameterError, match="'method' parameter"):
        topk_neighbors(X, X, 1, method="cosine")
    with pytest.raises(InvalidParameterError, match="'k' parameter"):
        topk_neighbors(X, X, 0)
    with pytest.raises(ValueError, match=r"r_candidates must have shape \(3,\)"):
        topk_neighbors(X, X, 1, r_candidates=np.zeros(2))
    with pytest.raises(ValueError, match="same number of features"):
        topk_neighbors(X, X[:, :2], 1)


# ----------------------------------------------------------------------- both ways
@pytest.mark.parametrize("n_cos, n_opt, batch_size", [(1, 1, 128), (1, 1, 1), (10, 2, 7), (32, 16, 128)])
def test_csls_both_ways_equals_brute_force_with_few_candidates(n_cos, n_opt, batch_size, monkeypatch):
    # Fewer kept candidates (1 means k = 10 by cosine and 1 optimistic) send more rows
    # through the re-scoring pass, which must give the same argmaxes.
    monkeypatch.setattr(_neighbors, "_S2T_CANDIDATES", n_cos)
    monkeypatch.setattr(_neighbors, "_CSLS_CANDIDATES", n_opt)
    rng = np.random.default_rng(3)
    X, Y = rng.normal(size=(700, 100)), rng.normal(size=(4_200, 100))
    assert min_score_gap(X, Y) > 2e-5  # no near-ties that float32 could not resolve
    S = brute_force_scores(X, Y, k=10)
    stats = {}
    s2t, t2s = csls_both_ways(unit_rows(X), unit_rows(Y), 10, batch_size, stats=stats)
    assert_array_equal(s2t, S.argmax(axis=1))
    assert_array_equal(t2s, S.argmax(axis=0))
    if n_opt == 1:
        assert stats["rows_rescored"] > 0  # the re-scoring pass really ran
    # Re-scored rows touch only a prefix of the targets, never the whole matrix.
    assert stats["entries_rescored"] < 0.01 * S.size


def test_rescoring_pass_with_hubs_against_brute_force(monkeypatch):
    """Hubs and anti-hubs spread r_S widely: the r_S-sorted prefix must still hold every winner."""
    monkeypatch.setattr(_neighbors, "_S2T_CANDIDATES", 10)
    monkeypatch.setattr(_neighbors, "_CSLS_CANDIDATES", 1)
    rng = np.random.default_rng(12)
    d = 30
    hub = rng.normal(size=d)
    X = rng.normal(size=(600, d)) + 0.8 * hub
    Y = np.concatenate([rng.normal(size=(700, d)) + rng.uniform(0, 2, size=(700, 1)) * hub,
                        rng.normal(size=(300, d)) - 0.5 * hub])
    assert min_score_gap(X, Y) > 2e-5
    S = brute_force_scores(X, Y, k=10)
    stats = {}
    s2t, t2s = csls_both_ways(unit_rows(X), unit_rows(Y), 10, 50, stats=stats)
    assert stats["rows_rescored"] > 0
    assert_array_equal(s2t, S.argmax(axis=1))
    assert_array_equal(t2s, S.argmax(axis=0))


def test_ties_in_the_rescoring_pass_go_to_the_lowest_target(monkeypatch):
    monkeypatch.setattr(_neighbors, "_S2T_CANDIDATES", 1)
    monkeypatch.setattr(_neighbors, "_CSLS_CANDIDATES", 1)
    rng = np.random.default_rng(5)
    X, Y = rng.normal(size=(60, 6)), rng.normal(size=(80, 6))
    Y[70] = Y[3]  # a duplicated target: the same score for every source
    Y[71] = Y[3]
    s2t, _ = csls_both_ways(unit_rows(X), unit_rows(Y), 10, 7)
    assert not np.isin(s2t, [70, 71]).any()
    S = brute_force_scores(X, Y, k=10)
    S[:, [70, 71]] = -np.inf  # the reference, with the duplicates' ties resolved downwards
    assert_array_equal(s2t, S.argmax(axis=1))


def test_aligned_spaces_need_almost_no_rescoring(caplog):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(2_000, 50))
    Y = np.concatenate([X + 0.5 * rng.normal(size=X.shape), rng.normal(size=(3_000, 50))])
    stats = {}
    with caplog.at_level(logging.DEBUG, logger="sklearn_l1align._neighbors"):
        s2t, _ = csls_both_ways(unit_rows(X), unit_rows(Y), 10, 512, stats=stats)
    assert (s2t == np.arange(len(X))).mean() > 0.99
    assert stats["rows_rescored"] < 0.01 * len(X)
    assert any("rows rescored" in r.getMessage() for r in caplog.records)


def test_nn_both_ways_equals_argmaxes():
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(90, 5)), rng.normal(size=(70, 5))
    cos = unit64(X) @ unit64(Y).T
    s2t, t2s = nn_both_ways(unit_rows(X), unit_rows(Y), 16)
    assert_array_equal(s2t, cos.argmax(axis=1))
    assert_array_equal(t2s, cos.argmax(axis=0))


# ----------------------------------------------------------------------- threads
@pytest.mark.skipif(max_blas_threads() < 2, reason="needs two usable cores")
def test_dictionary_is_identical_at_one_and_two_blas_threads(monkeypatch):
    from sklearn_l1align import CSLSDictionaryBuilder, _threads

    # Either OpenBLAS's threads give the same bits here, or the blocks are split over
    # Python threads at one BLAS thread each (a split that changes bits is refused: then
    # the results do follow the threads, and this test says so by failing).

    # Measure even these small blocks, so that both thread counts compute blocks.
    monkeypatch.setattr(_threads, "MEASURE_MIN_FLOPS", 0)
    rng = np.random.default_rng(9)
    X = rng.normal(size=(1_500, 64)).astype(np.float32)
    Y = (X + 2 * rng.normal(size=X.shape)).astype(np.float32)
    builder = CSLSDictionaryBuilder(max_rank=None, direction="union", batch_size=256)
    results = {}
    for n in (1, 2):
        with blas_threads(n):
            results[n] = (builder.build(X, Y),
                          topk_neighbors(X, Y, 5, method="csls", batch_size=256))
    assert_array_equal(results[1][0], results[2][0])
    assert_array_equal(results[1][1][0], results[2][1][0])
    assert_array_equal(results[1][1][1], results[2][1][1])


@pytest.mark.skipif(max_blas_threads() < 2, reason="needs two usable cores")
@pytest.mark.parametrize("inner, dtype", [(300, np.float32), (448, np.float32), (500, np.float32),
                                          (512, np.float32), (600, np.float32), (64, np.float64)])
def test_same_bits_agrees_with_a_full_size_product(inner, dtype):
    from sklearn_l1align._threads import same_bits

    # The probe is small; its verdict must hold for a block as large as the search's.
    rng = np.random.default_rng(inner)
    A = rng.normal(size=(1024, inner)).astype(dtype)
    B = rng.normal(size=(inner, 6000)).astype(dtype)
    products = []
    for n in (1, 2):
        with blas_threads(n):
            products.append(A @ B)
    assert same_bits(inner, dtype, (1, 2)) == np.array_equal(*products)


def test_fastest_blas_threads_drops_its_candidates_when_any_inner_dimension_changes_bits(
        monkeypatch):
    asked = []

    def fake_same_bits(inner, dtype, candidates):
        asked.append((inner, np.dtype(dtype).name, candidates))
        return inner != 500

    monkeypatch.setattr(_threads, "same_bits", fake_same_bits)
    kept = _threads.FastestBlasThreads(candidates=(1, 2), inner=[384, 17])
    assert kept.candidates == (1, 2) and kept.chosen is None
    dropped = _threads.FastestBlasThreads(candidates=(1, 2), inner=[384, 500], dtype=np.float64)
    assert dropped.candidates == () and dropped.run(lambda: 3) == 3 and dropped.chosen is None
    assert (500, "float64", (1, 2)) in asked
    assert _threads.FastestBlasThreads(candidates=(2,), inner=500).chosen == 2  # nothing to compare


@pytest.mark.skipif(max_blas_threads() < 2, reason="needs two usable cores")
@pytest.mark.parametrize("d", [300, 500, 600])
def test_block_products_do_not_depend_on_which_thread_count_measures_faster(monkeypatch, d):
    # Whichever count the timing favours, every block has the same bits, including the
    # dimensions (here 500 and 600) at which one thread and two compute different ones.
    from sklearn_l1align._threads import current_blas_threads

    monkeypatch.setattr(_threads, "MEASURE_MIN_FLOPS", 0)
    rng = np.random.default_rng(d)
    X = rng.normal(size=(2_000, d)).astype(np.float32)
    Y = rng.normal(size=(3_000, d)).astype(np.float32)
    blocks = {}
    for faster in (1, 2):
        clock = {"now": 0.0}

        def timer(faster=faster, clock=clock):
            clock["now"] += 1.0 if current_blas_threads() == faster else 5.0
            return clock["now"]

        with blas_threads(2):
            product = _neighbors._BlockProduct(X, Y, 256)
            product.threads.timer = timer
            blocks[faster] = [product(start).copy() for start in range(0, 2_000, 256)]
            if product.threads.candidates:
                assert product.threads.chosen == faster
    for one, two in zip(blocks[1], blocks[2]):
        assert_array_equal(one, two)


@pytest.mark.parametrize("durations, expected", [({1: 0.5, 2: 0.2}, 2), ({1: 0.2, 2: 0.5}, 1)])
def test_fastest_blas_threads_keeps_the_faster_count(durations, expected):
    from sklearn_l1align._threads import FastestBlasThreads, current_blas_threads

    clock = {"now": 0.0}
    seen = []

    def product():
        # A fake product whose duration depends on the thread count it runs at.
        n = current_blas_threads()
        seen.append(n)
        clock["now"] += durations[n]
        return len(seen)

    chooser = FastestBlasThreads(candidates=(1, 2), timer=lambda: clock["now"])
    assert chooser.run(product, timed=False) == 1  # a partial block: run, not measured
    for _ in range(4):
        chooser.run(product)
    assert chooser.chosen == expected
    assert chooser.timings == pytest.approx(durations)
    assert seen[1:3] == [1, 2]  # the two measured calls ran at one thread, then two
    assert seen[3:] == [expected] * 2


def test_fastest_blas_threads_leaves_small_products_alone():
    from sklearn_l1align._threads import FastestBlasThreads

    chooser = FastestBlasThreads(flops=10.0)
    assert chooser.candidates == () and chooser.run(lambda: 7) == 7 and chooser.chosen is None


# ----------------------------------------------------------------------- real data
@pytest.mark.slow
@pytest.mark.realdata
def test_real_fr_ru_20k_rescores_few_rows_and_is_exact():
    """Issue 12: on fr→ru (ℓ2-aligned, 20,000 rows) the old bound re-scored 56% of the rows."""
    from _helpers import SHARED_DATA, read_muse_pairs, read_vectors

    from sklearn_l1align import ProcrustesAligner, normalize_embeddings

    sw, sx = read_vectors(SHARED_DATA / "fr.vec.gz")
    tw, tx = read_vectors(SHARED_DATA / "ru.vec.gz")
    X, Y = normalize_embeddings(sx), normalize_embeddings(tx)
    train = read_muse_pairs(SHARED_DATA / "fr-ru.train.txt", sw, tw)
    n = min(20_000, len(X), len(Y))
    Xs = unit_rows(ProcrustesAligner().fit(X, Y, pairs=train).transform(X)[:n])
    Yt = unit_rows(Y[:n])
    stats = {}
    s2t, t2s = csls_both_ways(Xs, Yt, 10, 512, stats=stats)
    assert stats["rows_rescored"] < 0.15 * n
    # The reference: every row's full float32 CSLS row, the same operations in the same order.
    r_src, r_tgt = topk_means(Xs, Yt, 10)
    best_col = np.full(n, -np.inf, dtype=np.float32)
    arg_col = np.zeros(n, dtype=np.int64)
    for start in range(0, n, 2_000):
        S = csls_scores(Xs[start:start + 2_000] @ Yt.T, r_src[start:start + 2_000].astype(np.float32),
                        r_tgt.astype(np.float32))
        assert_array_equal(s2t[start:start + 2_000], S.argmax(axis=1))
        col_max = S.max(axis=0)
        better = col_max > best_col  # strictly: ties stay with the lower row
        arg_col[better] = start + S.argmax(axis=0)[better]
        best_col[better] = col_max[better]
    assert_array_equal(t2s, arg_col)


# ----------------------------------------------------------------------- split blocks
def _split_block_setup(monkeypatch, bits_differ=True):
    monkeypatch.setattr(_threads, "MEASURE_MIN_FLOPS", 0)
    monkeypatch.setattr(_threads, "same_bits", lambda *args: not bits_differ)
    monkeypatch.setattr(_threads, "_bit_checks", {})
    rng = np.random.default_rng(11)
    X = unit_rows(rng.normal(size=(1_000, 40)))
    Y = unit_rows(rng.normal(size=(700, 40)))
    return X, Y


@pytest.mark.skipif(max_blas_threads() < 2, reason="needs two usable cores")
def test_blocks_split_over_python_threads_where_blas_threads_change_bits(monkeypatch):
    import threading

    X, Y = _split_block_setup(monkeypatch)
    with blas_threads(2):
        block = _neighbors._BlockProduct(X, Y, 256)
    assert block.split is not None and len(block.cuts) == 2
    assert all(b % _neighbors.SPLIT_ROW_ALIGN == 0 for _, b in block.cuts[:-1])
    with blas_threads(1):  # each block's own single-thread product
        whole = [X[start:start + 256] @ Y.T for start in range(0, 1_000, 256)]
    idents = set()
    real = np.matmul

    def matmul(*args, **kwargs):
        idents.add(threading.get_ident())
        return real(*args, **kwargs)

    with blas_threads(2):
        monkeypatch.setattr(np, "matmul", matmul)
        try:
            blocks = [block(start).copy() for start in range(0, 1_000, 256)]
        finally:
            monkeypatch.setattr(np, "matmul", real)
    if not _threads._bit_checks[("neighbour_block", (256, 40), (40, 700), "<f4",
                                tuple(block.cuts))]:
        pytest.skip("this BLAS gives other bits for a 256-row block split at "
                    f"{block.cuts}: refused, as test_a_block_split_that_changes_bits_... checks")
    # Every block, split (after the measurement) or whole, has the single-thread bits.
    for got, want in zip(blocks, whole):
        assert_array_equal(got, want)
    assert block.split.chosen in (1, 2) and len(idents) == 2


@pytest.mark.skipif(max_blas_threads() < 2, reason="needs two usable cores")
def test_a_block_split_that_changes_bits_is_refused_and_runs_at_the_callers_threads(monkeypatch):
    X, Y = _split_block_setup(monkeypatch)
    real = _neighbors._BlockProduct._product

    def off_by_one_ulp(self, A, out, cuts):
        out = real(self, A, out, cuts)
        if len(cuts) > 1:
            out[-1, -1] = np.nextafter(out[-1, -1], np.inf)
        return out

    monkeypatch.setattr(_neighbors._BlockProduct, "_product", off_by_one_ulp)
    with blas_threads(2):
        block = _neighbors._BlockProduct(X, Y, 256)
        assert block.split is not None
        first = block(0).copy()
        assert block.split is None  # refused on the first full block
    with blas_threads(2):
        assert_array_equal(first, X[:256] @ Y.T)  # at the caller's two threads


def test_blocks_are_not_split_where_blas_threads_keep_the_bits(monkeypatch):
    X, Y = _split_block_setup(monkeypatch, bits_differ=False)
    with blas_threads(2):
        block = _neighbors._BlockProduct(X, Y, 256)
    assert block.split is None
    with blas_threads(1):
        block = _neighbors._BlockProduct(X, Y, 256)  # one thread: nothing to split over
    assert block.split is None
