"""Tests for sklearn_l1align.io._muse: MUSE dictionaries and word pairs to row indices."""

import gzip
import logging
import os
import pickle
import re
import stat
import struct
import time
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

import sklearn_l1align.io as l1io
from sklearn_l1align.io import (
    EmbeddingFormatError,
    atomic_save_npz,
    atomic_write,
    load_mapping,
    read_dictionary,
    read_word2vec,
    save_mapping,
    write_word2vec,
)

from _helpers import SHARED_DATA, requires_shared_data as needs_shared_data

WORDS = ["de", "Roi", "roi", "reine", "été", "король", "ROI"]


def _vectors(n=len(WORDS), dim=5, dtype=np.float32, seed=0):
    rng = np.random.default_rng(seed)
    # Mix magnitudes so that the text format has to keep many digits.
    scale = 10.0 ** rng.integers(-8, 8, size=(n, dim))
    return (rng.standard_normal((n, dim)) * scale).astype(dtype)


def _write(path, content):
    path.write_bytes(content.encode("utf-8") if isinstance(content, str) else content)
    return path


def _error_at(path, lineno, fragment=""):
    """Regex for an EmbeddingFormatError naming ``path`` and ``lineno``."""
    return rf"{re.escape(os.fspath(path))}, line {lineno}: .*{fragment}"


def _listing(folder):
    return sorted(p.name for p in Path(folder).iterdir())


# --------------------------------------------------------------------------
# Dictionaries
# --------------------------------------------------------------------------


def test_read_dictionary(tmp_path):
    path = _write(
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
    path = _write(tmp_path / "d.txt.gz", gzip.compress("a b\nc d\n".encode()))
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
    path = _write(tmp_path / "d.txt", content)
    with pytest.raises(EmbeddingFormatError, match=_error_at(path, lineno, fragment)):
        read_dictionary(path)


def test_read_dictionary_binary_file(tmp_path):
    path = tmp_path / "e.bin"
    write_word2vec(path, ["a", "b"], np.zeros((2, 4)), binary=True)
    with pytest.raises(EmbeddingFormatError, match=_error_at(path, 2, "NUL byte")):
        read_dictionary(path)


def test_read_dictionary_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.txt"):
        read_dictionary(tmp_path / "nope.txt")
