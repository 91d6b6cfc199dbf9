"""Tests of the gensim KeyedVectors adapters (``sklearn_l1align.gensim``)."""

import copy

import numpy as np
import pytest
from gensim.models import KeyedVectors
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import expm
from scipy.stats import special_ortho_group
from sklearn.exceptions import NotFittedError
from sklearn.pipeline import Pipeline

from sklearn_l1align import (
    CSLSDictionaryBuilder,
    EmbeddingNormalizer,
    L1ProcrustesAligner,
    ProcrustesAligner,
    StiefelFlowSolver,
    normalize_embeddings,
)
from sklearn_l1align._base import pairs_fit_parameter
from sklearn_l1align.datasets import load_demo
from sklearn_l1align.gensim import (
    BLI_CONVENTION,
    DictionaryCoverage,
    align,
    clear_translation_cache,
    dictionary_to_pairs,
    evaluate_bli,
    keyed_vectors_from_arrays,
    normalize_keyed_vectors,
    read_keyed_vectors,
    transform_keyed_vectors,
    translate,
    write_keyed_vectors,
)
from sklearn_l1align.io import EmbeddingFormatError
from sklearn_l1align.metrics import bli_precision

N_SMALL = 1500


@pytest.fixture(scope="module")
def demo():
    return load_demo()


@pytest.fixture(scope="module")
def small(demo):
    """The first 1,500 words of each demo space, normalised, with the dictionaries."""
    fr = normalize_keyed_vectors(
        keyed_vectors_from_arrays(demo.src_words[:N_SMALL], demo.src_vectors[:N_SMALL]))
    ru = normalize_keyed_vectors(
        keyed_vectors_from_arrays(demo.tgt_words[:N_SMALL], demo.tgt_vectors[:N_SMALL]))
    return fr, ru, demo.train_dictionary, demo.test_dictionary


def _snapshot(*kvs):
    return [(list(kv.index_to_key), dict(kv.key_to_index), kv.vectors.copy()) for kv in kvs]


def _assert_unchanged(kvs, snapshot):
    for kv, (keys, index, vectors) in zip(kvs, snapshot):
        assert kv.index_to_key == keys
        assert kv.key_to_index == index
        assert_array_equal(kv.vectors, vectors)


def _rotation_near_identity(d, angle, seed):
    rng = np.random.default_rng(seed)
    W = rng.normal(size=(d, d))
    S = W - W.T
    return expm(angle * S / np.linalg.norm(S, 2))


# ----------------------------------------------------------------------------- import & build
def test_module_import_gensim_is_the_library():
    import gensim

    import sklearn_l1align.gensim as adapters

    assert gensim.__name__ == "gensim" and hasattr(gensim, "models")
    assert adapters.KeyedVectors is gensim.models.KeyedVectors


def test_keyed_vectors_from_arrays_copies_and_keeps_order():
    vectors = np.arange(6, dtype=np.float64).reshape(3, 2)
    kv = keyed_vectors_from_arrays(["c", "a", "b"], vectors)
    assert kv.index_to_key == ["c", "a", "b"]
    assert kv.key_to_index == {"c": 0, "a": 1, "b": 2}
    assert kv.vectors.dtype == np.float32
    assert_array_equal(kv["a"], [2.0, 3.0])
    vectors[1] = -1
    assert_array_equal(kv["a"], [2.0, 3.0])
    # gensim's own machinery works on the result.
    assert kv.most_similar("b", topn=1)[0][0] in {"a", "c"}


def test_keyed_vectors_from_arrays_rejects_bad_input():
    with pytest.raises(ValueError, match="unique.*'a' at positions 0 and 2"):
        keyed_vectors_from_arrays(["a", "b", "a"], np.eye(3))
    with pytest.raises(ValueError, match="same length.*2 words and 3 vectors"):
        keyed_vectors_from_arrays(["a", "b"], np.eye(3))
    with pytest.raises(ValueError, match="2-D"):
        keyed_vectors_from_arrays(["a"], np.ones(3))


def test_normalize_keyed_vectors_matches_arrays(demo):
    kv = keyed_vectors_from_arrays(demo.src_words[:200], demo.src_vectors[:200])
    before = _snapshot(kv)
    out = normalize_keyed_vectors(kv)
    _assert_unchanged([kv], before)
    expected = normalize_embeddings(demo.src_vectors[:200].astype(np.float64))
    assert_allclose(out.vectors, expected, atol=1e-6)
    assert out.index_to_key == kv.index_to_key
    assert_array_equal(normalize_keyed_vectors(kv, steps=()).vectors, kv.vectors)


# ----------------------------------------------------------------------------- files
@pytest.mark.parametrize("name, binary", [("fr.vec", False), ("fr.vec.gz", False), ("fr.bin", True)])
def test_round_trip_vec_align_write_read(tmp_path, demo, name, binary):
    src_file, tgt_file = tmp_path / name, tmp_path / "ru.vec"
    write_keyed_vectors(keyed_vectors_from_arrays(demo.src_words[:N_SMALL], demo.src_vectors[:N_SMALL]),
                        src_file, binary=binary)
    write_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words[:N_SMALL], demo.tgt_vectors[:N_SMALL]),
                        tgt_file)
    fr = read_keyed_vectors(src_file)
    ru = read_keyed_vectors(tgt_file)
    assert fr.index_to_key == demo.src_words[:N_SMALL]
    assert_array_equal(fr.vectors, demo.src_vectors[:N_SMALL])

    aligner = ProcrustesAligner()
    mapped = align(fr, ru, aligner, seed_dictionary=demo.train_dictionary)
    out = tmp_path / ("mapped" + name)
    write_keyed_vectors(mapped, out, binary=binary)
    back = read_keyed_vectors(out)
    assert back.index_to_key == fr.index_to_key
    assert_allclose(back.vectors, mapped.vectors, rtol=0, atol=1e-6)
    # The mapping is computed in float32: compare row by row, relative to the row's norm.
    expected = fr.vectors.astype(np.float64) @ aligner.rotation_
    error = np.linalg.norm(back.vectors - expected, axis=1) / np.linalg.norm(expected, axis=1)
    assert error.max() < 1e-6


def test_read_keyed_vectors_passes_options_and_names_bad_lines(tmp_path):
    path = tmp_path / "bad.vec"
    path.write_text("3 2\nRoi 1 2\nroi 3 4\nreine 5 6\n", encoding="utf-8")
    assert read_keyed_vectors(path, lowercase=True).index_to_key == ["roi", "reine"]
    assert read_keyed_vectors(path, max_vocab=1).index_to_key == ["Roi"]
    path.write_text("2 2\nroi 1 2\nreine 5\n", encoding="utf-8")
    with pytest.raises(EmbeddingFormatError, match=r"bad\.vec, line 3"):
        read_keyed_vectors(path)


def test_write_keyed_vectors_missing_folder_writes_nothing(tmp_path):
    kv = keyed_vectors_from_arrays(["a"], [[1.0]])
    with pytest.raises(FileNotFoundError):
        write_keyed_vectors(kv, tmp_path / "missing" / "a.vec")
    assert list(tmp_path.iterdir()) == []


# ----------------------------------------------------------------------------- dictionaries
OOV_DICTIONARY = [
    ("a", "x"),
    ("a", "q"),   # target OOV; a stays covered through (a, x)
    ("b", "y"),
    ("e", "x"),   # source OOV
    ("f", "w"),   # both OOV
    ("c", "q"),   # target OOV: c's only pair, so c is not covered
    ("a", "x"),   # exact duplicate: counted once
]


@pytest.fixture
def abc_spaces():
    src = keyed_vectors_from_arrays(["a", "b", "c", "d"], np.eye(4)[:, :3])
    tgt = keyed_vectors_from_arrays(["z", "x", "y"], np.eye(3))
    return src, tgt


def test_coverage_report_hand_computed(abc_spaces, tmp_path):
    src, tgt = abc_spaces
    pairs, report = dictionary_to_pairs(OOV_DICTIONARY, src, tgt)
    assert pairs.dtype == np.int64
    assert pairs.tolist() == [[0, 1], [1, 2]]
    # 6 distinct pairs; 5 distinct sources a b e f c; covered a b.
    assert report == DictionaryCoverage(
        n_pairs=6, n_kept=2, n_dropped=4, n_source_words=5, n_source_covered=2, coverage=0.4,
        dropped=(("a", "q"), ("e", "x"), ("f", "w"), ("c", "q")))
    # The same dictionary from a MUSE file gives the same report.
    path = tmp_path / "dict.txt"
    path.write_text("".join(f"{s} {t}\n" for s, t in OOV_DICTIONARY), encoding="utf-8")
    file_pairs, file_report = dictionary_to_pairs(path, src, tgt)
    assert_array_equal(file_pairs, pairs)
    assert file_report == report
    assert file_report.to_dict(max_dropped=1)["dropped"] == [["a", "q"]]


def test_coverage_lowercase(abc_spaces):
    src, tgt = abc_spaces
    pairs, report = dictionary_to_pairs([("A", "X"), ("B", "y")], src, tgt, lowercase=True)
    assert pairs.tolist() == [[0, 1], [1, 2]] and report.coverage == 1.0


def test_all_oov_raises(abc_spaces):
    src, tgt = abc_spaces
    with pytest.raises(ValueError, match=r"Got 2 pairs, all out of vocabulary \(e\.g\. \('A', 'X'\)"):
        dictionary_to_pairs([("A", "X"), ("B", "y")], src, tgt)


def test_dictionary_entries_must_be_pairs(abc_spaces):
    src, tgt = abc_spaces
    with pytest.raises(ValueError, match="position 1"):
        dictionary_to_pairs([("a", "x"), ("a", "x", "y")], src, tgt)


# ----------------------------------------------------------------------------- align
def test_align_does_not_mutate_and_keeps_row_order(small):
    fr, ru, train, _ = small
    snap = _snapshot(fr, ru)
    aligner = ProcrustesAligner()
    mapped = align(fr, ru, aligner, seed_dictionary=train)
    _assert_unchanged([fr, ru], snap)
    assert mapped is not fr and not np.shares_memory(mapped.vectors, fr.vectors)
    assert mapped.vectors.dtype == np.float32
    assert mapped.index_to_key == fr.index_to_key
    # The seed pairs are the in-vocabulary training pairs, in dictionary order.
    expected, _ = dictionary_to_pairs(train, fr, ru)
    assert_array_equal(aligner.dictionary_, expected)

    # Shuffle the source rows: each word still gets the same mapped vector.
    perm = np.random.default_rng(0).permutation(len(fr.index_to_key))
    shuffled = keyed_vectors_from_arrays([fr.index_to_key[i] for i in perm], fr.vectors[perm])
    mapped_shuffled = transform_keyed_vectors(shuffled, aligner)
    assert mapped_shuffled.index_to_key == shuffled.index_to_key
    for word in fr.index_to_key[:50]:
        assert_allclose(mapped_shuffled[word], mapped[word], atol=1e-6)


def test_align_accepts_index_pairs_and_path(small, tmp_path):
    fr, ru, train, _ = small
    pairs, _ = dictionary_to_pairs(train, fr, ru)
    a, b, c = ProcrustesAligner(), ProcrustesAligner(), ProcrustesAligner()
    align(fr, ru, a, seed_dictionary=pairs)
    align(fr, ru, b, seed_dictionary=train)
    path = tmp_path / "train.txt"
    path.write_text("".join(f"{s} {t}\n" for s, t in train), encoding="utf-8")
    align(fr, ru, c, seed_dictionary=path)
    assert_array_equal(a.rotation_, b.rotation_)
    assert_array_equal(a.rotation_, c.rotation_)


def test_pipeline_routes_seed_pairs_to_first_aligner(small):
    fr, ru, train, _ = small
    pipe = Pipeline([
        ("norm", EmbeddingNormalizer()),
        ("l2", ProcrustesAligner()),
        ("l1", L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley", max_time=2e-4))),
    ])
    assert pairs_fit_parameter(pipe) == "l2__pairs"
    snap = _snapshot(fr, ru)
    mapped = align(fr, ru, pipe, seed_dictionary=train)
    _assert_unchanged([fr, ru], snap)
    seed, _ = dictionary_to_pairs(train, fr, ru)
    assert_array_equal(pipe["l2"].dictionary_, seed)
    # The ℓ1 step induced its own (mutual CSLS) dictionary instead of receiving the seed.
    assert not np.array_equal(pipe["l1"].dictionary_, seed)
    assert len(pipe["l1"].dictionary_) == pipe["l1"].dictionary_sizes_[0]
    assert pipe["l1"].solver_result_.loss <= pipe["l1"].solver_result_.initial_loss
    assert_allclose(mapped.vectors, pipe.transform(fr.vectors), atol=1e-6)
    assert mapped.index_to_key == fr.index_to_key


def test_pairs_parameter_nested_and_passthrough():
    inner = Pipeline([("norm", EmbeddingNormalizer()), ("l2", ProcrustesAligner())])
    outer = Pipeline([("skip", "passthrough"), ("inner", inner), ("l1", L1ProcrustesAligner())])
    assert pairs_fit_parameter(outer) == "inner__l2__pairs"
    assert pairs_fit_parameter(EmbeddingNormalizer()) is None
    assert pairs_fit_parameter(L1ProcrustesAligner()) == "pairs"


def test_seed_dictionary_needs_a_step_that_takes_pairs(small):
    fr, ru, train, _ = small
    with pytest.raises(ValueError, match="fit accepts pairs.*EmbeddingNormalizer"):
        align(fr, ru, EmbeddingNormalizer(), seed_dictionary=train)
    with pytest.raises(ValueError, match="fit accepts pairs.*Pipeline"):
        align(fr, ru, Pipeline([("norm", EmbeddingNormalizer())]), seed_dictionary=train)


def test_unsupervised_path():
    rng = np.random.default_rng(0)
    n, d = 400, 16
    X = rng.normal(size=(n, d))
    R = _rotation_near_identity(d, 0.2, seed=1)
    words = [f"w{i}" for i in range(n)]
    perm = rng.permutation(n)
    src = keyed_vectors_from_arrays(words, X)
    tgt = keyed_vectors_from_arrays([f"t{i}" for i in perm], (X @ R)[perm])
    # ℓ2 self-learning from an induced dictionary recovers the planted rotation.
    l2 = ProcrustesAligner(dictionary=CSLSDictionaryBuilder(max_rank=None), n_refinements=1)
    mapped = align(src, tgt, l2)
    assert_allclose(l2.rotation_, R, atol=1e-5)
    assert translate("w3", mapped, tgt, topn=1)["w3"][0][0] == "t3"
    # ℓ1 without seed: Algorithm 1 induces its own dictionary and lowers the ℓ1 loss.
    l1 = L1ProcrustesAligner(solver=StiefelFlowSolver(integrator="cayley"))
    mapped = align(src, tgt, l1)
    inverse = np.argsort(perm)
    assert (inverse[l1.dictionary_[:, 0]] == l1.dictionary_[:, 1]).mean() > 0.9
    assert l1.solver_result_.loss < l1.solver_result_.initial_loss
    assert np.linalg.norm(l1.rotation_ - R) < np.linalg.norm(np.eye(d) - R)


# ----------------------------------------------------------------------------- transform
def test_transform_keyed_vectors_with_matrix_and_estimator(small):
    fr, ru, train, _ = small
    aligner = ProcrustesAligner()
    align(fr, ru, aligner, seed_dictionary=train)
    fr_counted = copy.deepcopy(fr)
    for i, word in enumerate(fr_counted.index_to_key):
        fr_counted.set_vecattr(word, "count", 1000 - i)
    snap = _snapshot(fr_counted)
    by_estimator = transform_keyed_vectors(fr_counted, aligner)
    by_matrix = transform_keyed_vectors(fr_counted, aligner.rotation_)
    _assert_unchanged([fr_counted], snap)
    assert_allclose(by_matrix.vectors, by_estimator.vectors, atol=1e-6)
    assert by_matrix.vectors.dtype == by_estimator.vectors.dtype == np.float32
    # Per-key attributes (gensim's "expandos") follow the words, as copies.
    assert by_matrix.get_vecattr(fr.index_to_key[2], "count") == 998
    by_matrix.set_vecattr(fr.index_to_key[2], "count", 0)
    assert fr_counted.get_vecattr(fr.index_to_key[2], "count") == 998


def test_transform_keyed_vectors_errors(small):
    fr = small[0]
    with pytest.raises(ValueError, match=r"shape \(300, n_out\)"):
        transform_keyed_vectors(fr, np.eye(3))
    with pytest.raises(ValueError, match="finite"):
        transform_keyed_vectors(fr, np.full((300, 300), np.nan))
    with pytest.raises(NotFittedError):
        transform_keyed_vectors(fr, ProcrustesAligner())
    with pytest.raises(TypeError, match="KeyedVectors"):
        transform_keyed_vectors(fr.vectors, np.eye(300))


# ----------------------------------------------------------------------------- translate
@pytest.fixture(scope="module")
def planted():
    """A target space that is a rotated, shuffled copy of the source space."""
    rng = np.random.default_rng(0)
    n, d = 300, 24
    X = rng.normal(size=(n, d))
    R = special_ortho_group.rvs(d, random_state=0)
    perm = rng.permutation(n)
    src_words = [f"s{i}" for i in range(n)]
    src_mapped = keyed_vectors_from_arrays(src_words, X @ R)
    tgt = keyed_vectors_from_arrays([f"t{i}" for i in perm], (X @ R)[perm])
    return src_mapped, tgt


@pytest.mark.parametrize("method", ["nn", "csls"])
def test_translate_planted(planted, method):
    src_mapped, tgt = planted
    snap = _snapshot(src_mapped, tgt)
    words = ["s0", "s7", "s42", "s7"]
    out = translate(words, src_mapped, tgt, topn=5, method=method)
    _assert_unchanged([src_mapped, tgt], snap)
    assert list(out) == ["s0", "s7", "s42"]
    for word, candidates in out.items():
        assert len(candidates) == 5
        assert candidates[0][0] == "t" + word[1:]
        scores = [score for _, score in candidates]
        assert all(isinstance(s, float) for s in scores)
        assert scores == sorted(scores, reverse=True)
        assert len({w for w, _ in candidates}) == 5
    if method == "nn":
        assert out["s0"][0][1] == pytest.approx(1.0, abs=1e-5)


def test_translate_nn_agrees_with_gensim_most_similar(planted):
    src_mapped, tgt = planted
    words = [f"s{i}" for i in range(0, 300, 29)]
    out = translate(words, src_mapped, tgt, topn=10, method="nn")
    for word in words:
        ours = out[word]
        theirs = tgt.most_similar(positive=[src_mapped[word]], topn=10)
        assert [w for w, _ in ours] == [w for w, _ in theirs]
        assert_allclose([s for _, s in ours], [s for _, s in theirs], atol=1e-5)


def test_translate_single_word_and_errors(planted):
    src_mapped, tgt = planted
    out = translate("s5", src_mapped, tgt, topn=2, method="nn")
    assert list(out) == ["s5"] and len(out["s5"]) == 2
    with pytest.raises(KeyError, match="'nope'"):
        translate(["s1", "nope"], src_mapped, tgt)
    with pytest.raises(ValueError, match="topn"):
        translate("s1", src_mapped, tgt, topn=0)
    with pytest.raises(ValueError, match="method"):
        translate("s1", src_mapped, tgt, method="cosine")
    assert translate([], src_mapped, tgt) == {}


# ----------------------------------------------------------------------------- evaluate
def test_evaluate_bli_demo(demo):
    fr = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.src_words, demo.src_vectors))
    ru = normalize_keyed_vectors(keyed_vectors_from_arrays(demo.tgt_words, demo.tgt_vectors))
    mapped = align(fr, ru, ProcrustesAligner(), seed_dictionary=demo.train_pairs)
    snap = _snapshot(mapped, ru)
    res = evaluate_bli(mapped, ru, demo.test_dictionary)
    _assert_unchanged([mapped, ru], snap)
    assert res["n_queries"] == len({s for s, _ in demo.test_dictionary}) == 633
    assert res["coverage"].coverage == 1.0 and res["coverage"].n_dropped == 0
    assert res["convention"] == BLI_CONVENTION and "dropped" in res["convention"]
    assert res["csls_k"] == 10
    for method in ("nn", "csls"):
        reference = bli_precision(mapped.vectors, ru.vectors, demo.test_pairs, method=method)
        assert res["precision"][method] == reference.precision
        assert set(res["precision"][method]) == {1, 5, 10}
        p = res["precision"][method]
        assert 0 < p[1] <= p[5] <= p[10] <= 1
    # CSLS beats NN at P@1 on this sample, as on the full data (51.5 vs 43.4).
    assert res["precision"]["csls"][1] > res["precision"]["nn"][1] > 0.35

    # Out-of-vocabulary test pairs are dropped and reported, and do not change the score.
    with_oov = list(demo.test_dictionary) + [("zzz-inconnu", "ззз"), ("chat", "ззз-неизвестно")]
    res_oov = evaluate_bli(mapped, ru, with_oov, methods=("csls",), ks=(1,))
    assert res_oov["coverage"].n_dropped == 2
    assert res_oov["coverage"].n_source_words == 635
    assert res_oov["coverage"].coverage == pytest.approx(633 / 635)
    assert res_oov["n_queries"] == 633
    assert res_oov["precision"]["csls"][1] == res["precision"]["csls"][1]
    assert set(res_oov["precision"]) == {"csls"}


def test_evaluate_bli_errors(planted):
    src_mapped, tgt = planted
    with pytest.raises(ValueError, match="methods"):
        evaluate_bli(src_mapped, tgt, [("s0", "t0")], methods=("mrr",))
    with pytest.raises(ValueError, match="all out of vocabulary"):
        evaluate_bli(src_mapped, tgt, [("x", "y")])
    other = keyed_vectors_from_arrays(["u"], np.ones((1, 3)))
    with pytest.raises(ValueError, match="same vector size"):
        evaluate_bli(src_mapped, other, [("s0", "u")])


def test_results_are_new_keyed_vectors_with_the_mapped_rows(planted):
    src_mapped, _ = planted
    M = special_ortho_group.rvs(24, random_state=1)
    out = transform_keyed_vectors(src_mapped, M)
    assert isinstance(out, KeyedVectors) and out is not src_mapped
    assert out.index_to_key == src_mapped.index_to_key
    assert out.vectors.dtype == np.float32
    assert not np.shares_memory(out.vectors, src_mapped.vectors)
    assert_allclose(out.vectors, src_mapped.vectors.astype(np.float64) @ M, rtol=0, atol=1e-5)
    assert_allclose(out["s3"], src_mapped["s3"] @ M, atol=1e-5)


def test_empty_dictionary_is_reported_as_empty():
    import numpy as np
    import pytest

    from sklearn_l1align.gensim import dictionary_to_pairs, keyed_vectors_from_arrays

    kv = keyed_vectors_from_arrays(["a", "b"], np.eye(2))
    with pytest.raises(ValueError, match="dictionary is empty"):
        dictionary_to_pairs([], kv, kv)


# ------------------------------------------------------------- translate's CSLS cache
@pytest.fixture
def count_topk_means(monkeypatch):
    """Record the number of rows of the first argument of every ``topk_means`` call."""
    from sklearn_l1align import _neighbors

    calls = []
    real = _neighbors.topk_means

    def counting(Xs, Xt, *args, **kwargs):
        calls.append((Xs.shape[0], Xt.shape[0]))
        return real(Xs, Xt, *args, **kwargs)

    monkeypatch.setattr(_neighbors, "topk_means", counting)
    clear_translation_cache()
    yield calls
    clear_translation_cache()


def test_translate_csls_caches_the_target_term(planted, count_topk_means):
    src_mapped, tgt = planted
    n_src, n_tgt = len(src_mapped.index_to_key), len(tgt.index_to_key)
    first = translate(["s0", "s7"], src_mapped, tgt, topn=3)
    # The O(n_src × n_tgt) pass: r_S of every target over every mapped source row.
    assert (n_tgt, n_src) in count_topk_means
    count_topk_means.clear()
    second = translate(["s0", "s7", "s42"], src_mapped, tgt, topn=3)
    # Only the queries' own r_T: 3 rows against the targets, no pass over all sources.
    assert count_topk_means == [(3, n_tgt)]
    assert second["s0"] == first["s0"] and second["s7"] == first["s7"]
    # The cached answer is the uncached one.
    clear_translation_cache()
    assert translate(["s0", "s7", "s42"], src_mapped, tgt, topn=3) == second


def test_translate_cache_is_per_space_and_k(planted, count_topk_means):
    src_mapped, tgt = planted
    n_src, n_tgt = len(src_mapped.index_to_key), len(tgt.index_to_key)
    translate("s0", src_mapped, tgt, csls_k=10)
    count_topk_means.clear()
    translate("s0", src_mapped, tgt, csls_k=5)  # another neighbourhood size: computed again
    assert (n_tgt, n_src) in count_topk_means
    count_topk_means.clear()
    other = keyed_vectors_from_arrays(src_mapped.index_to_key, src_mapped.vectors[:, ::-1])
    out = translate("s0", other, tgt, csls_k=10)  # another source space: computed again
    assert (n_tgt, n_src) in count_topk_means
    assert out["s0"][0][0] != "t0"  # and the answer is that space's, not the cached one's
    count_topk_means.clear()
    src_mapped.vectors = src_mapped.vectors.copy()  # a replaced array invalidates the entry
    translate("s0", src_mapped, tgt, csls_k=10)
    assert (n_tgt, n_src) in count_topk_means
    count_topk_means.clear()
    translate("s0", src_mapped, tgt, method="nn")  # NN needs no CSLS term at all
    assert count_topk_means == []


# ------------------------------------------------------------- input checks
def test_align_refuses_a_float_index_array(small):
    fr, ru, _, _ = small
    with pytest.raises(TypeError, match="seed_dictionary as an array must hold integer.*float64"):
        align(fr, ru, ProcrustesAligner(), seed_dictionary=np.array([[0.0, 1.0], [2.0, 3.0]]))
    # Integer arrays and word arrays are accepted.
    align(fr, ru, ProcrustesAligner(), seed_dictionary=np.array([[0, 1], [2, 3], [4, 5]]))


@pytest.mark.parametrize("bad", [3, None, b"a", 1.5])
@pytest.mark.parametrize("lowercase", [False, True])
def test_dictionary_to_pairs_refuses_non_string_words(abc_spaces, bad, lowercase):
    src, tgt = abc_spaces
    with pytest.raises(TypeError, match=r"Dictionary words must be strings\. Got .* at position 1"):
        dictionary_to_pairs([("a", "x"), ("b", bad)], src, tgt, lowercase=lowercase)


@pytest.mark.parametrize(
    "call, fragment",
    [
        (lambda kv: write_keyed_vectors(kv.vectors, "x.vec"), "'kv' parameter of write_keyed_vectors"),
        (lambda kv: normalize_keyed_vectors(kv, steps=3), "'steps' parameter"),
        (lambda kv: dictionary_to_pairs([("a", "b")], kv, kv, lowercase="yes"), "'lowercase' parameter"),
        (lambda kv: align(kv, kv, object()), "'estimator' parameter of align"),
        (lambda kv: translate("a", kv, kv, csls_k=0), "'csls_k' parameter of translate"),
        (lambda kv: evaluate_bli(kv, kv, [("a", "a")], csls_k=1.5), "'csls_k' parameter"),
        (lambda kv: evaluate_bli(kv, kv, [("a", "a")], ks=(1, 2.5)), "ks must be a positive integer"),
        (lambda kv: read_keyed_vectors(3), "'path' parameter of read_keyed_vectors"),
    ],
)
def test_public_functions_validate_their_parameters(abc_spaces, call, fragment):
    from sklearn.utils._param_validation import InvalidParameterError

    src, _ = abc_spaces
    with pytest.raises((InvalidParameterError, ValueError), match=fragment):
        call(src)
