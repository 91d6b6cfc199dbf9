"""Tests for sklearn_l1align.io._word2vec: word2vec text and binary files, fastText models, bounded and streaming reads."""

import gzip
import io
import logging
import os
import pickle
import re
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import sklearn_l1align.io as l1io
from sklearn_l1align.io import _word2vec
from sklearn_l1align.io import (
    EmbeddingFormatError,
    read_dictionary,
    read_word2vec,
    write_word2vec,
)

from _helpers import SHARED_DATA, requires_shared_data as needs_shared_data

from _io_helpers import WORDS, error_at, listing, random_vectors, write_file











# --------------------------------------------------------------------------
# Round trips
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name, binary",
    [("e.vec", False), ("e.txt", False), ("e.vec.gz", False), ("e.bin", True), ("e.bin.gz", True)],
)
def test_round_trip_float32_is_exact(tmp_path, name, binary):
    vectors = random_vectors()
    path = tmp_path / name
    write_word2vec(path, WORDS, vectors, binary=binary)
    words, back = read_word2vec(path)
    assert words == WORDS
    assert back.dtype == np.float32
    assert_array_equal(back, vectors)


def test_round_trip_float64_text_is_exact(tmp_path):
    vectors = random_vectors(dtype=np.float64)
    write_word2vec(tmp_path / "e.vec", WORDS, vectors)
    words, back = read_word2vec(tmp_path / "e.vec", dtype=np.float64)
    assert words == WORDS
    assert_array_equal(back, vectors)


def test_binary_stores_float32(tmp_path):
    vectors = random_vectors(dtype=np.float64)
    write_word2vec(tmp_path / "e.bin", WORDS, vectors, binary=True)
    _, back = read_word2vec(tmp_path / "e.bin", dtype=np.float64)
    assert_array_equal(back, vectors.astype(np.float32))
    assert not np.array_equal(back, vectors)


def test_binary_layout_matches_word2vec(tmp_path):
    path = tmp_path / "e.bin"
    write_word2vec(path, ["a", "бб"], np.array([[1.0, -2.0], [0.5, 4.0]]), binary=True)
    expected = (
        b"2 2\n"
        + b"a "
        + struct.pack("<2f", 1.0, -2.0)
        + b"\n"
        + "бб ".encode()
        + struct.pack("<2f", 0.5, 4.0)
        + b"\n"
    )
    assert path.read_bytes() == expected


def test_binary_without_newlines_between_records(tmp_path):
    # Some writers omit the newline after each vector.
    content = b"2 2\na " + struct.pack("<2f", 1.0, 2.0) + b"b " + struct.pack("<2f", 3.0, 4.0)
    path = write_file(tmp_path / "e.bin", content)
    words, vectors = read_word2vec(path)
    assert words == ["a", "b"]
    assert_array_equal(vectors, [[1.0, 2.0], [3.0, 4.0]])


def test_text_output_format(tmp_path):
    path = tmp_path / "e.vec"
    write_word2vec(path, ["chat", "chien"], np.array([[0.5, -2.0], [3.0, 1e-7]], dtype=np.float32))
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == ["2 2", "chat 0.5 -2", "chien 3 1.00000001e-07"]


def test_gzip_is_detected_by_content_and_written_for_gz(tmp_path):
    vectors = random_vectors()
    write_word2vec(tmp_path / "e.vec.gz", WORDS, vectors)
    assert (tmp_path / "e.vec.gz").read_bytes()[:2] == b"\x1f\x8b"
    # The same gzip bytes under a name that does not say so.
    disguised = write_file(tmp_path / "plain.txt", (tmp_path / "e.vec.gz").read_bytes())
    words, back = read_word2vec(disguised)
    assert words == WORDS
    assert_array_equal(back, vectors)


def test_gzip_output_is_reproducible(tmp_path):
    write_word2vec(tmp_path / "a.vec.gz", WORDS, random_vectors())
    data = (tmp_path / "a.vec.gz").read_bytes()
    # Bytes 4-8 of a gzip header hold the modification time; 0 means none, so
    # the same content always gives the same file.
    assert data[4:8] == b"\x00\x00\x00\x00"
    write_word2vec(tmp_path / "a.vec.gz", WORDS, random_vectors())
    assert (tmp_path / "a.vec.gz").read_bytes() == data


def test_text_reader_accepts_bom_trailing_spaces_and_crlf(tmp_path):
    path = write_file(tmp_path / "e.vec", "\ufeff2 3\r\na 1 2 3 \r\nb 4  5\t6\r\n\n")
    words, vectors = read_word2vec(path)
    assert words == ["a", "b"]
    assert_array_equal(vectors, [[1, 2, 3], [4, 5, 6]])


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_dtype(tmp_path, dtype):
    path = write_file(tmp_path / "e.vec", "1 2\na 0.25 -1.5\n")
    _, vectors = read_word2vec(path, dtype=dtype)
    assert vectors.dtype == dtype
    assert_array_equal(vectors, [[0.25, -1.5]])


def test_bad_arguments(tmp_path):
    path = write_file(tmp_path / "e.vec", "1 2\na 0.25 -1.5\n")
    with pytest.raises(ValueError, match="'max_vocab' parameter of read_word2vec must be an int"):
        read_word2vec(path, max_vocab=0)
    with pytest.raises(ValueError, match="'binary' parameter"):
        read_word2vec(path, binary="yes")
    with pytest.raises(ValueError, match="floating dtype"):
        read_word2vec(path, dtype=np.int32)


# --------------------------------------------------------------------------
# max_vocab and lowercase
# --------------------------------------------------------------------------


@pytest.mark.parametrize("name, binary", [("e.vec", False), ("e.bin.gz", True)])
def test_max_vocab_keeps_first_words(tmp_path, name, binary):
    vectors = random_vectors()
    write_word2vec(tmp_path / name, WORDS, vectors, binary=binary)
    words, back = read_word2vec(tmp_path / name, max_vocab=3)
    assert words == WORDS[:3]
    assert_array_equal(back, vectors[:3])
    words, back = read_word2vec(tmp_path / name, max_vocab=100)
    assert words == WORDS


def test_max_vocab_stops_reading_early(tmp_path):
    # Everything after row 2 is broken, and even the row count is a lie:
    # with max_vocab=2 none of it may be read.
    path = write_file(tmp_path / "e.vec", "1000 2\na 1 2\nb 3 4\nc 5 oops\n\xff\n")
    words, vectors = read_word2vec(path, max_vocab=2)
    assert words == ["a", "b"]
    assert_array_equal(vectors, [[1, 2], [3, 4]])
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 4, "'oops'")):
        read_word2vec(path, max_vocab=3)


def test_lowercase_keeps_first_occurrence(tmp_path, caplog):
    vectors = random_vectors()
    write_word2vec(tmp_path / "e.vec", WORDS, vectors)
    with caplog.at_level(logging.INFO, logger="sklearn_l1align.io"):
        words, back = read_word2vec(tmp_path / "e.vec", lowercase=True)
    # "Roi" (row 1) wins over "roi" (row 2) and "ROI" (row 6).
    assert words == ["de", "roi", "reine", "été", "король"]
    assert_array_equal(back, vectors[[0, 1, 3, 4, 5]])
    assert "dropped 2" in caplog.text


def test_lowercase_with_max_vocab_counts_kept_words(tmp_path):
    write_word2vec(tmp_path / "e.vec", WORDS, random_vectors())
    words, vectors = read_word2vec(tmp_path / "e.vec", lowercase=True, max_vocab=3)
    assert words == ["de", "roi", "reine"]
    assert vectors.shape == (3, 5)


# --------------------------------------------------------------------------
# Malformed word2vec files
# --------------------------------------------------------------------------


def test_missing_file(tmp_path):
    path = tmp_path / "nope.vec"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        read_word2vec(path)


@pytest.mark.parametrize(
    "content, lineno, fragment",
    [
        pytest.param("", 1, "empty file", id="empty"),
        pytest.param("two 3\na 1 2 3\n", 1, "two positive integers.*'two 3'", id="header-word"),
        pytest.param("0 3\n", 1, "two positive integers", id="header-zero"),
        pytest.param("2 -3\na 1\n", 1, "two positive integers", id="header-negative"),
        pytest.param("3\na 1 2 3\n", 1, "two positive integers", id="header-one-field"),
        pytest.param("a 1 2 3\nb 4 5 6\n", 1, "without a header", id="no-header"),
        pytest.param("3 3\na 1 2 3\nb 4 5\nc 7 8 9\n", 3, "Got 2 values for 'b'", id="short-row"),
        pytest.param("2 3\na 1 2 3\nb 4 5 6 7\n", 3, "Got 4 values for 'b'", id="long-row"),
        pytest.param(
            "2 5\na 1 2 3\nb 4 5 6\n", 2, "declares dimension 5.*Got 3 values", id="header-dim-lies"
        ),
        pytest.param("2 3\na 1 2 3\nb 4 x 6\n", 3, "must be numbers. Got 'x'", id="non-numeric"),
        pytest.param("2 3\na 1 2 3\nb 4 5,5 6\n", 3, "Got '5,5'", id="comma-decimal"),
        pytest.param(
            "3 2\na 1 2\nb 3 4\na 5 6\n", 4, "unique. Got 'a' again, first seen on line 2", id="duplicate"
        ),
        pytest.param("3 2\na 1 2\n\nb 3 4\n", 3, "empty line", id="blank-line"),
        pytest.param("2 2\na 1 2\n 3 4\n", 3, "starting with whitespace", id="no-word"),
        pytest.param("4 2\na 1 2\nb 3 4\n", 4, "declares 4 rows.*after 2 rows", id="truncated"),
        pytest.param("1 2\na 1 2\nb 3 4\n", 3, "must end after them", id="extra-rows"),
        pytest.param("2 2\na 1 2\nb nan 4\n", 3, "finite.*'b'", id="nan"),
        pytest.param("2 2\na 1 2\nb 3 -inf\n", 3, "finite.*'b'", id="inf"),
        pytest.param("2 2\na 1e39 2\nb 3 4\n", 2, "fit in float32.*'a'", id="float32-overflow"),
    ],
)
def test_malformed_text(tmp_path, content, lineno, fragment):
    path = write_file(tmp_path / "bad.vec", content)
    with pytest.raises(EmbeddingFormatError, match=error_at(path, lineno, fragment)) as info:
        read_word2vec(path)
    assert info.value.lineno == lineno
    assert info.value.filename == str(path)
    assert isinstance(info.value, ValueError)


def test_malformed_messages_say_what_was_got(tmp_path):
    path = write_file(tmp_path / "bad.vec", "2 3\na 1 2 3\nb 4 5\n")
    with pytest.raises(EmbeddingFormatError, match=r"needs 3 values.*Got 2 values for 'b' instead\."):
        read_word2vec(path)


def test_undecodable_utf8(tmp_path):
    path = write_file(tmp_path / "bad.vec", b"2 2\na 1 2\nb\xff\xfe 3 4\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 3, "UTF-8")):
        read_word2vec(path)


def test_duplicate_is_only_an_error_without_lowercase(tmp_path):
    path = write_file(tmp_path / "dup.vec", "3 2\nRoi 1 2\nroi 3 4\nRoi 5 6\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 4, "'Roi' again")):
        read_word2vec(path)
    words, vectors = read_word2vec(path, lowercase=True)
    assert words == ["roi"]
    assert_array_equal(vectors, [[1, 2]])


def test_max_vocab_reached_before_truncation_is_fine(tmp_path):
    path = write_file(tmp_path / "cut.vec", "10 2\na 1 2\nb 3 4\n")
    assert read_word2vec(path, max_vocab=2)[0] == ["a", "b"]
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 4, "after 2 rows")):
        read_word2vec(path, max_vocab=3)


def test_errors_inside_gzip_name_the_line(tmp_path):
    path = write_file(tmp_path / "bad.vec.gz", gzip.compress(b"2 2\na 1 2\nb 3 x\n"))
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 3, "'x'")):
        read_word2vec(path)


def test_cut_gzip_stream(tmp_path):
    write_word2vec(tmp_path / "e.vec.gz", WORDS, random_vectors(dim=50))
    data = (tmp_path / "e.vec.gz").read_bytes()
    path = write_file(tmp_path / "cut.vec.gz", data[: len(data) // 2])
    with pytest.raises(EmbeddingFormatError, match=rf"{re.escape(str(path))}, line \d+: .*gzip"):
        read_word2vec(path)


def _binary_record(word, values):
    return word.encode("utf-8") + b" " + np.asarray(values, dtype="<f4").tobytes() + b"\n"


@pytest.mark.parametrize(
    "content, lineno, fragment",
    [
        pytest.param(b"2 2 x\n", 1, "two positive integers", id="header"),
        pytest.param(
            b"3 2\n" + _binary_record("a", [1, 2]) + _binary_record("b", [3, 4]),
            4,
            "declares 3 rows.*after 2 rows",
            id="truncated-between-records",
        ),
        pytest.param(
            b"2 2\n" + _binary_record("a", [1, 2]) + _binary_record("b", [3, 4])[:-5],
            3,
            "end of the file inside the record for 'b'",
            id="truncated-inside-record",
        ),
        pytest.param(
            b"2 2\n" + _binary_record("a", [1, 2]) + _binary_record("a", [3, 4]),
            3,
            "'a' again",
            id="duplicate",
        ),
        pytest.param(
            b"2 2\n" + _binary_record("a", [1, 2]) + _binary_record("b", [np.nan, 4]),
            3,
            "finite.*'b'",
            id="nan",
        ),
        pytest.param(
            b"1 2\n" + _binary_record("a", [1, 2]) + _binary_record("b", [3, 4]),
            3,
            "must end after them",
            id="extra-records",
        ),
        pytest.param(
            b"2 2\n" + _binary_record("a", [1, 2]) + b"\xff" + _binary_record("b", [3, 4]),
            3,
            "UTF-8",
            id="undecodable",
        ),
        # Sniffed as text (no float32 bytes after a word): the text reader explains it.
        pytest.param(b"2 2\nab\ncd", 2, "needs 2 values after the word. Got 0", id="text-like"),
        pytest.param(b"2 2\n" + b"x" * 5000 + b" " + struct.pack("<2f", 1.5, -2.0), 2,
                     "a word of at most 4096 bytes", id="word-too-long"),
    ],
)
def test_malformed_binary(tmp_path, content, lineno, fragment):
    path = write_file(tmp_path / "bad.bin", content)
    with pytest.raises(EmbeddingFormatError, match=error_at(path, lineno, fragment)):
        read_word2vec(path)


def test_binary_flag_overrides_extension(tmp_path):
    vectors = random_vectors()
    write_word2vec(tmp_path / "e.data", WORDS, vectors, binary=True)
    words, back = read_word2vec(tmp_path / "e.data", binary=True)
    assert words == WORDS
    assert_array_equal(back, vectors)
    write_word2vec(tmp_path / "t.bin", WORDS, vectors)
    assert read_word2vec(tmp_path / "t.bin", binary=False)[0] == WORDS


def test_error_pickles_with_its_fields():
    err = EmbeddingFormatError("x.vec", 7, "Expected 3 values. Got 2 instead.")
    back = pickle.loads(pickle.dumps(err))
    assert (back.filename, back.lineno, str(back)) == ("x.vec", 7, str(err))


# --------------------------------------------------------------------------
# write_word2vec validation and atomicity
# --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words, vectors, fragment",
    [
        pytest.param(["a", "b"], np.zeros((3, 2)), "same length. Got 2 words and 3 vectors", id="length"),
        pytest.param(["a", "b"], np.zeros(2), "2-D array", id="1-D"),
        pytest.param(["a", "b"], np.zeros((2, 2, 1)), "2-D array", id="3-D"),
        pytest.param(
            ["a", "b"], np.array([[0.0, 1.0], [np.nan, 2.0]]), "finite. Got NaN or infinity in row 1", id="nan"
        ),
        pytest.param(["a", "b"], np.array([[0.0, np.inf], [1.0, 2.0]]), "finite", id="inf"),
        pytest.param(
            ["a", ""], np.zeros((2, 2)), "without ASCII whitespace.*Got '' at position 1", id="empty-word"
        ),
        pytest.param(["a", "b c"], np.zeros((2, 2)), "Got 'b c'", id="space"),
        pytest.param(["a", "b\tc"], np.zeros((2, 2)), "without ASCII whitespace", id="tab"),
        pytest.param(["a", "b\n"], np.zeros((2, 2)), "without ASCII whitespace", id="newline"),
        pytest.param(["a", 3], np.zeros((2, 2)), "non-empty string", id="not-a-string"),
        pytest.param(["a", "a"], np.zeros((2, 2)), "unique. Got 'a' at positions 0 and 1", id="duplicate"),
        pytest.param(["a"], np.array([["x"]]), "real numbers", id="strings"),
    ],
)
def test_write_validation(tmp_path, words, vectors, fragment):
    with pytest.raises(ValueError, match=fragment):
        write_word2vec(tmp_path / "e.vec", words, vectors)
    assert listing(tmp_path) == []


def test_binary_write_rejects_values_beyond_float32(tmp_path):
    with pytest.raises(ValueError, match="float32"):
        write_word2vec(tmp_path / "e.bin", ["a"], np.array([[1e39]]), binary=True)
    assert listing(tmp_path) == []


def test_write_to_missing_folder_creates_nothing(tmp_path):
    target = tmp_path / "missing" / "e.vec"
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / "missing"))):
        write_word2vec(target, WORDS, random_vectors())
    assert listing(tmp_path) == []


def test_failed_write_leaves_existing_file_and_no_temp_files(tmp_path, monkeypatch):
    path = tmp_path / "e.vec"
    write_word2vec(path, WORDS, random_vectors())
    before = path.read_bytes()

    def failing_rows(words, vectors):
        yield f"{words[0]} 1 2 3 4 5\n"
        raise OSError("disk full")

    monkeypatch.setattr(_word2vec, "_text_rows", failing_rows)
    with pytest.raises(OSError, match="disk full"):
        write_word2vec(path, ["x", "y"], np.ones((2, 5)))
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["e.vec"]


def test_nan_write_leaves_existing_file(tmp_path):
    path = tmp_path / "e.vec"
    write_word2vec(path, WORDS, random_vectors())
    before = path.read_bytes()
    bad = random_vectors()
    bad[-1, -1] = np.nan
    with pytest.raises(ValueError, match="finite"):
        write_word2vec(path, WORDS, bad)
    assert path.read_bytes() == before
    assert listing(tmp_path) == ["e.vec"]


# --------------------------------------------------------------------------
# Real data
# --------------------------------------------------------------------------


@pytest.mark.realdata
@needs_shared_data
def test_real_french_vectors():
    start = time.perf_counter()
    words, vectors = read_word2vec(SHARED_DATA / "fr.vec.gz")
    full_seconds = time.perf_counter() - start
    assert len(words) == 19_999
    assert vectors.shape == (19_999, 300)
    assert vectors.dtype == np.float32
    assert len(set(words)) == len(words)
    assert np.isfinite(vectors).all()
    assert "roi" in words and "Roi" in words

    start = time.perf_counter()
    head, head_vectors = read_word2vec(SHARED_DATA / "fr.vec.gz", max_vocab=1000)
    head_seconds = time.perf_counter() - start
    assert head == words[:1000]
    assert_array_equal(head_vectors, vectors[:1000])
    # Stopping early must avoid parsing the other 95% of the file.
    assert head_seconds < full_seconds / 4

    # The data README: MUSE-style lowercasing leaves 18,207 French words.
    lowered, _ = read_word2vec(SHARED_DATA / "fr.vec.gz", lowercase=True)
    assert len(lowered) == 18_207


@pytest.mark.realdata
@needs_shared_data
def test_real_dictionaries_are_covered():
    words, _ = read_word2vec(SHARED_DATA / "fr.vec.gz")
    train = read_dictionary(SHARED_DATA / "fr-ru.train.txt")
    test = read_dictionary(SHARED_DATA / "fr-ru.test.txt")
    assert len({s for s, _ in train}) == 5000
    assert len({s for s, _ in test}) == 1500
    vocab = set(words)
    assert all(s in vocab for s, _ in train + test)


# --------------------------------------------------------------------------
# What a word is: Unicode whitespace is part of it, ASCII whitespace separates
# --------------------------------------------------------------------------

UNICODE_SPACE_WORDS = ["a\u00a0b", "thin\u2009space", "\u3000ideo", "next\x85line", "\u200bzw",
                       "sep\x1c", "plain"]


@pytest.mark.parametrize("name, binary", [("u.vec", False), ("u.bin", True), ("u.vec.gz", False)])
def test_words_with_unicode_whitespace_round_trip(tmp_path, name, binary):
    vectors = random_vectors(n=len(UNICODE_SPACE_WORDS))
    write_word2vec(tmp_path / name, UNICODE_SPACE_WORDS, vectors, binary=binary)
    words, back = read_word2vec(tmp_path / name)
    assert words == UNICODE_SPACE_WORDS
    assert_array_equal(back, vectors)


def test_tab_separates_like_a_space(tmp_path):
    path = write_file(tmp_path / "t.vec", "2 2\nchat\t1 2\nchien 3\t4 \r\n")
    words, vectors = read_word2vec(path)
    assert words == ["chat", "chien"]
    assert_array_equal(vectors, [[1, 2], [3, 4]])


@pytest.mark.parametrize("word", ["a b", "a\tb", "a\nb", "a\rb", "a\x0bb", "a\x0cb", "", "\ud800"])
def test_writer_refuses_what_the_reader_would_split(tmp_path, word):
    with pytest.raises(ValueError, match="without ASCII whitespace"):
        write_word2vec(tmp_path / "w.vec", ["ok", word], np.ones((2, 2)))
    assert listing(tmp_path) == []
    assert not l1io.is_word(word)


# --------------------------------------------------------------------------
# Bounds: headers, lines, devices
# --------------------------------------------------------------------------


def test_huge_dimension_in_the_header_is_an_input_error(tmp_path):
    path = write_file(tmp_path / "h.vec", "10 2000000000\na 1 2\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 1, "at most 100000. Got 2000000000")):
        read_word2vec(path)


def test_header_beyond_the_available_memory_is_an_input_error(tmp_path, monkeypatch):
    monkeypatch.setattr(_word2vec, "_available_memory", lambda: 1 << 30)
    path = write_file(tmp_path / "h.vec", "100000000 3000\na 1 2\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 1, "must fit in memory.*max_vocab")):
        read_word2vec(path)
    # max_vocab bounds the rows kept, so the same header is fine with a small one.
    with pytest.raises(EmbeddingFormatError, match="needs 3000 values"):
        read_word2vec(path, max_vocab=10)


def test_lying_header_allocates_little(tmp_path):
    path = write_file(tmp_path / "h.vec", "50000000 2\na 1 2\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 3, "declares 50000000 rows")):
        read_word2vec(path)
    buffer = _word2vec._RowBuffer(50_000_000, 300, np.dtype(np.float32))
    assert buffer.data.nbytes <= 64 << 20


@pytest.mark.skipif(not Path("/dev/zero").exists(), reason="no /dev/zero")
@pytest.mark.parametrize("binary", [None, True, False])
def test_dev_zero_fails_fast(binary):
    with pytest.raises(EmbeddingFormatError, match="/dev/zero, line 1: The header line must be at most"):
        read_word2vec("/dev/zero", binary=binary)


def test_row_longer_than_its_bound(tmp_path):
    path = write_file(tmp_path / "long.vec", "1 2\nw " + "1" * 10_000 + " 2\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 2, "A row must be at most")):
        read_word2vec(path)


# --------------------------------------------------------------------------
# Streams: FIFOs and process substitution
# --------------------------------------------------------------------------


def _serve_fifo(path, data):
    os.mkfifo(path)

    def feed():
        with open(path, "wb") as fifo:
            fifo.write(data)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return thread


@pytest.mark.parametrize("compress", [False, True])
def test_fifo_is_read_as_a_stream(tmp_path, compress):
    write_word2vec(tmp_path / "e.vec", WORDS, random_vectors())
    data = (tmp_path / "e.vec").read_bytes()
    thread = _serve_fifo(tmp_path / "pipe", gzip.compress(data) if compress else data)
    words, vectors = read_word2vec(tmp_path / "pipe")
    thread.join(timeout=10)
    assert words == WORDS
    assert_array_equal(vectors, random_vectors())


def test_process_substitution(tmp_path):
    write_word2vec(tmp_path / "e.vec.gz", WORDS, random_vectors(), binary=False)
    script = ("import sys; from sklearn_l1align.io import read_word2vec; "
              "w, v = read_word2vec(sys.argv[1]); print(len(w), v.shape[1])")
    done = subprocess.run(["bash", "-c", f'"{sys.executable}" -c "{script}" <(zcat "{tmp_path / "e.vec.gz"}")'],
                          capture_output=True, text=True, timeout=60, check=False,
                          env=dict(os.environ, PYTHONPATH=str(Path(__file__).resolve().parents[1])))
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [str(len(WORDS)), "5"]


# --------------------------------------------------------------------------
# Sniffing the format: text named .bin, binary named .vec, fastText models
# --------------------------------------------------------------------------


def test_text_file_named_bin_is_read_as_text(tmp_path):
    write_word2vec(tmp_path / "t.bin", WORDS, random_vectors())  # text, despite the name
    words, vectors = read_word2vec(tmp_path / "t.bin")
    assert words == WORDS
    assert_array_equal(vectors, random_vectors())
    with pytest.raises(EmbeddingFormatError, match=error_at(tmp_path / "t.bin", 2, "Got a text row")):
        read_word2vec(tmp_path / "t.bin", binary=True)


@pytest.mark.parametrize("seed", range(20))
def test_binary_file_named_vec_is_read_as_binary(tmp_path, seed):
    vectors = random_vectors(seed=seed, dim=3)
    write_word2vec(tmp_path / "b.vec", WORDS, vectors, binary=True)
    words, back = read_word2vec(tmp_path / "b.vec")
    assert words == WORDS
    assert_array_equal(back, vectors)


def test_fasttext_model_through_gensim(tmp_path):
    fasttext = pytest.importorskip("gensim.models.fasttext")
    sentences = [["le", "chat", "noir", "dort"], ["le", "chien", "blanc", "court"],
                 ["un", "chat", "et", "un", "chien"]] * 5
    model = fasttext.FastText(sentences, vector_size=8, min_count=1, epochs=2, seed=0, workers=1,
                              bucket=1000)
    path = tmp_path / "model.bin"
    fasttext.save_facebook_model(model, str(path))
    expected = fasttext.load_facebook_vectors(str(path))
    words, vectors = read_word2vec(path)
    assert words == list(expected.index_to_key) == list(model.wv.index_to_key)
    assert vectors.dtype == np.float32 and vectors.shape == (len(words), 8)
    assert_array_equal(vectors, expected.vectors)
    np.testing.assert_allclose(vectors, model.wv.vectors, rtol=1e-5, atol=1e-6)
    assert read_word2vec(path, max_vocab=3)[0] == words[:3]


def test_fasttext_model_from_a_fifo_is_refused_by_name(tmp_path):
    data = (790712314).to_bytes(4, "little")  # not the magic: an ordinary bad header
    magic = (793712314).to_bytes(4, "little") + b"\x0c\x00\x00\x00" + b"\x00" * 64
    thread = _serve_fifo(tmp_path / "pipe", magic)
    with pytest.raises(EmbeddingFormatError, match="pipe, line 1: A fastText .bin model must be read "
                                                   "from a regular"):
        read_word2vec(tmp_path / "pipe")
    thread.join(timeout=10)
    assert data != magic[:4]


# --------------------------------------------------------------------------
# The bulk text parser
# --------------------------------------------------------------------------


def _per_line(path, dtype=np.float32):
    """The arrays of a plain line-by-line np.fromstring parse: the reference."""
    lines = Path(path).read_text(encoding="utf-8").splitlines()[1:]
    words = [line.split(" ", 1)[0] for line in lines]
    rows = [np.fromstring(line.split(" ", 1)[1], dtype=np.float64, sep=" ") for line in lines]
    return words, np.array(rows).astype(dtype)


@pytest.mark.parametrize("batch_bytes", [1, 300, 1 << 22])
def test_bulk_parse_gives_the_per_line_arrays(tmp_path, monkeypatch, batch_bytes):
    monkeypatch.setattr(_word2vec, "_PARSE_BATCH_BYTES", batch_bytes)
    rng = np.random.default_rng(1)
    vectors = rng.standard_normal((500, 7)) * 10.0 ** rng.integers(-30, 30, size=(500, 7))
    write_word2vec(tmp_path / "e.vec", [f"w{i}" for i in range(500)], vectors)
    for dtype in (np.float32, np.float64):
        words, back = read_word2vec(tmp_path / "e.vec", dtype=dtype)
        ref_words, ref = _per_line(tmp_path / "e.vec", dtype)
        assert words == ref_words
        assert_array_equal(back, ref)


@pytest.mark.parametrize("batch_bytes", [1, 1 << 22])
def test_bulk_parse_names_the_bad_line(tmp_path, monkeypatch, batch_bytes):
    monkeypatch.setattr(_word2vec, "_PARSE_BATCH_BYTES", batch_bytes)
    # Rows 3 and 4 have 3 and 1 values: the batch's total is right, each line is wrong.
    path = write_file(tmp_path / "e.vec", "4 2\na 1 2\nb 3 4\nc 5 6 7\nd 8\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 4, "Got 3 values for 'c'")):
        read_word2vec(path)
    path = write_file(tmp_path / "f.vec", "3 2\na 1 2\nb 3 x\nc 5 6\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 3, "Got 'x'")):
        read_word2vec(path)
    path = write_file(tmp_path / "g.vec", "3 2\na 1 2\nb nan 4\nc 5 6\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 3, "finite")):
        read_word2vec(path)


def test_unicode_space_between_numbers_is_not_a_separator(tmp_path):
    path = write_file(tmp_path / "nb.vec", "1 2\nw 1\u00a02\n")
    with pytest.raises(EmbeddingFormatError, match=error_at(path, 2, re.escape("must be numbers. Got '1\\xa02'"))):
        read_word2vec(path)


@pytest.mark.realdata
@needs_shared_data
def test_real_file_bulk_parse_equals_the_per_line_parse(tmp_path):
    (tmp_path / "fr.vec").write_bytes(gzip.decompress((SHARED_DATA / "fr.vec.gz").read_bytes()))
    words, vectors = read_word2vec(SHARED_DATA / "fr.vec.gz")
    ref_words, ref = _per_line(tmp_path / "fr.vec")
    assert words == ref_words
    assert_array_equal(vectors, ref)


@pytest.mark.parametrize("batch_bytes", [1, 100, 1 << 22])
@pytest.mark.parametrize("lowercase, max_vocab", [(False, None), (True, None), (True, 3), (False, 4)])
def test_binary_batches_give_the_same_rows(tmp_path, monkeypatch, batch_bytes, lowercase, max_vocab):
    monkeypatch.setattr(_word2vec, "_PARSE_BATCH_BYTES", batch_bytes)
    vectors = random_vectors()
    write_word2vec(tmp_path / "e.bin", WORDS, vectors, binary=True)
    words, back = read_word2vec(tmp_path / "e.bin", lowercase=lowercase, max_vocab=max_vocab)
    expected, seen = [], set()
    for i, word in enumerate(WORDS):
        key = word.lower() if lowercase else word
        if key not in seen:
            seen.add(key)
            expected.append((key, i))
    expected = expected[:max_vocab]
    assert words == [w for w, _ in expected]
    assert_array_equal(back, vectors[[i for _, i in expected]])


class _Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.mark.parametrize("binary", [False, True])
def test_progress_line_when_asked_on_a_terminal(tmp_path, monkeypatch, binary):
    write_word2vec(tmp_path / "e.vec", WORDS, random_vectors(), binary=binary)
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    read_word2vec(tmp_path / "e.vec")
    assert terminal.getvalue() == ""  # silent by default
    read_word2vec(tmp_path / "e.vec", verbose=1)
    assert f"Reading e.vec: 100% ({len(WORDS)}/{len(WORDS)})" in terminal.getvalue()


def test_socket_input_is_refused_by_name(tmp_path):
    import socket

    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(tmp_path / "sock"))
        with pytest.raises(ValueError, match="Got the socket '.*sock' instead"):
            read_word2vec(tmp_path / "sock")
