"""Tests for sklearn_l1align.io._muse: MUSE dictionaries and word pairs to row indices."""

import gzip
import os
import threading
from pathlib import Path

import numpy as np
import pytest

from sklearn_l1align.io import (
    EmbeddingFormatError,
    dictionary_to_indices,
    read_dictionary,
    read_word2vec,
    write_word2vec,
)

from _io_helpers import error_at, write_file












# --------------------------------------------------------------------------
# Dictionaries
# --------------------------------------------------------------------------


def test_read_dictionary(tmp_path):
    path = write_file(
        tmp_path / "d.txt",
        "\ufeffroi король\nroi\tцарь\n\n  \nRoi король\nroi король\nreine   королева  \r\n",
    )
    assert read_dictionary(path) == [
        ("roi", "король"),
        ("roi", "царь"),
        ("Roi", "король"),
        ("reine", "королева"),
    ]
    assert read_dictionary(path, lowercase=True) == [
        ("roi", "король"),
        ("roi", "царь"),
        ("reine", "королева"),
    ]


def test_read_dictionary_gzip(tmp_path):
    path = write_file(tmp_path / "d.txt.gz", gzip.compress("a b\nc d\n".encode()))
    assert read_dictionary(path) == [("a", "b"), ("c", "d")]


@pytest.mark.parametrize(
    "content, lineno, fragment",
    [
        pytest.param(
            "a b\nc\n",
            2,
            "[Ee]xpected two whitespace-separated columns.*Got 1 column \\('c'\\)",
            id="one-column",
        ),
        pytest.param(
            "a b\n\nc d e\n", 3, "two whitespace-separated columns.*Got 3 columns", id="three-columns"
        ),
        pytest.param(b"a b\nc\x00d e\n", 2, "NUL byte", id="nul"),
        pytest.param(b"a b\nc \xff\xfe\n", 2, "UTF-8", id="undecodable"),
        pytest.param("", 1, "at least one.*empty file", id="empty"),
        pytest.param("\n  \n\n", 3, "at least one.*only blank lines", id="blank"),
    ],
)
def test_read_dictionary_errors(tmp_path, content, lineno, fragment):
    path = write_file(tmp_path / "d.txt", content)
    with pytest.raises(EmbeddingFormatError, match=error_at(path, lineno, fragment)):
        read_dictionary(path)


def test_read_dictionary_binary_file(tmp_path):
    path = tmp_path / "e.bin"
    write_word2vec(path, ["a", "b"], np.zeros((2, 4)), binary=True)
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 2, "NUL byte")):
        read_dictionary(path)


def test_read_dictionary_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_dictionary(tmp_path / "nope.txt")


# --------------------------------------------------------------------------
# What a word is, in a dictionary
# --------------------------------------------------------------------------


def test_words_with_unicode_whitespace_are_two_columns(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("a\u00a0b c\u3000\nthin\u2009space\tnext\x85line\n  x  \t y \r\n", encoding="utf-8")
    assert read_dictionary(path) == [("a\u00a0b", "c\u3000"), ("thin\u2009space", "next\x85line"),
                                     ("x", "y")]


def test_dictionary_words_match_the_embedding_words(tmp_path):
    words = ["chat\u00a0noir", "\u3000roi"]
    write_word2vec(tmp_path / "fr.vec", words, np.eye(2))
    (tmp_path / "d.txt").write_text("chat\u00a0noir кот\n\u3000roi король\n", encoding="utf-8")
    read_words, _ = read_word2vec(tmp_path / "fr.vec")
    pairs, coverage = dictionary_to_indices(read_dictionary(tmp_path / "d.txt"), read_words,
                                            ["кот", "король"])
    assert pairs.tolist() == [[0, 0], [1, 1]] and coverage.coverage == 1.0


def test_three_ascii_columns_are_still_an_error(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("a b\nc\td e\n", encoding="utf-8")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 2, "Got 3 columns")):
        read_dictionary(path)


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
def test_dictionary_from_dev_zero_fails_fast():
    with pytest.raises(EmbeddingFormatError, match="/dev/zero, line 1: A line must be at most"):
        read_dictionary("/dev/zero")


def test_dictionary_from_a_fifo(tmp_path):
    os.mkfifo(tmp_path / "pipe")

    def feed():
        with open(tmp_path / "pipe", "wb") as fifo:
            fifo.write(gzip.compress("a b\nc d\n".encode()))

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    assert read_dictionary(tmp_path / "pipe") == [("a", "b"), ("c", "d")]
    thread.join(timeout=10)


# --------------------------------------------------------------------------
# dictionary_to_indices: the word-list path for arrays users
# --------------------------------------------------------------------------


def test_dictionary_to_indices_keeps_order_and_reports_coverage():
    pairs, coverage = dictionary_to_indices(
        [("chat", "кот"), ("chien", "собака"), ("chien", "пёс"), ("roi", "король"), ("chat", "кот")],
        ["roi", "chat", "chien"], ["собака", "кот"])
    assert pairs.dtype == np.int64 and pairs.tolist() == [[1, 1], [2, 0]]
    assert (coverage.n_pairs, coverage.n_kept, coverage.n_dropped) == (4, 2, 2)
    assert (coverage.n_source_words, coverage.n_source_covered) == (3, 2)
    assert coverage.coverage == pytest.approx(2 / 3)
    assert coverage.dropped == (("chien", "пёс"), ("roi", "король"))
    assert coverage.to_dict(max_dropped=1)["dropped"] == [["chien", "пёс"]]


def test_dictionary_to_indices_agrees_with_the_gensim_adapter():
    gensim_adapter = pytest.importorskip("sklearn_l1align.gensim")
    rng = np.random.default_rng(0)
    src = [f"s{i}" for i in range(50)]
    tgt = [f"t{i}" for i in range(40)]
    words = [(f"s{i}", f"t{j}") for i, j in rng.integers(0, 60, size=(80, 2))]
    pairs, coverage = dictionary_to_indices(words, src, tgt)
    kv_src = gensim_adapter.keyed_vectors_from_arrays(src, np.ones((50, 2)))
    kv_tgt = gensim_adapter.keyed_vectors_from_arrays(tgt, np.ones((40, 2)))
    expected, expected_coverage = gensim_adapter.dictionary_to_pairs(words, kv_src, kv_tgt)
    np.testing.assert_array_equal(pairs, expected)
    assert coverage.to_dict() == expected_coverage.to_dict()
    # The rows index the word lists.
    assert all(src[i] == s and tgt[j] == t for (i, j), (s, t) in
               zip(pairs.tolist(), [w for w in dict.fromkeys(words) if w[0] in src and w[1] in tgt]))


@pytest.mark.parametrize("word_pairs, words, error, fragment", [
    ([], ["a"], ValueError, "empty"),
    ([("x", "y")], ["a"], ValueError, "all out of vocabulary"),
    ([("a", 1)], ["a"], TypeError, "Dictionary words must be strings. Got 1 \\(int\\) in \\('a', 1\\) at "
                                   "position 0"),
    (["ab"], ["a"], ValueError, "word pairs. Got 'ab' at position 0"),
    ([("a", "a")], ["a", 3], TypeError, "src_words must hold strings"),
])
def test_dictionary_to_indices_errors(word_pairs, words, error, fragment):
    with pytest.raises(error, match=fragment):
        dictionary_to_indices(word_pairs, words, ["a"])
