"""Tests for sklearn_l1align.io._atomic: atomic files and the output-path check."""

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


def test_atomic_write_commits_on_success_only(tmp_path):
    path = tmp_path / "report.json"
    with atomic_write(path) as f:
        f.write("{}")
        # Nothing visible under the final name before the block ends.
        assert not path.exists()
        assert len(_listing(tmp_path)) == 1
    assert path.read_text() == "{}"

    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as f:
            f.write('{"half":')
            raise KeyboardInterrupt
    assert path.read_text() == "{}"
    assert _listing(tmp_path) == ["report.json"]


def test_atomic_write_binary_and_text_modes(tmp_path):
    with atomic_write(tmp_path / "a.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    with atomic_write(tmp_path / "a.txt", encoding="utf-8") as f:
        f.write("été\n")
    assert (tmp_path / "a.txt").read_bytes() == "été\n".encode()
    with pytest.raises(ValueError, match="mode must be"):
        with atomic_write(tmp_path / "a.txt", "a"):
            pass


def test_atomic_write_refuses_a_folder(tmp_path):
    with pytest.raises(IsADirectoryError):
        with atomic_write(tmp_path):
            pass


def test_atomic_write_permissions(tmp_path):
    with open(tmp_path / "plain", "w") as f:
        f.write("x")
    with atomic_write(tmp_path / "atomic") as f:
        f.write("x")
    mode = stat.S_IMODE(os.stat(tmp_path / "atomic").st_mode)
    assert mode == stat.S_IMODE(os.stat(tmp_path / "plain").st_mode)
    # A replaced file keeps its permissions.
    os.chmod(tmp_path / "atomic", 0o600)
    with atomic_write(tmp_path / "atomic") as f:
        f.write("y")
    assert stat.S_IMODE(os.stat(tmp_path / "atomic").st_mode) == 0o600


def test_atomic_save_npz(tmp_path):
    path = tmp_path / "a.npz"
    atomic_save_npz(path, {"x": np.arange(4), "s": np.str_("été")}, compressed=True)
    with np.load(path, allow_pickle=False) as data:
        assert_array_equal(data["x"], np.arange(4))
        assert str(data["s"]) == "été"
    first = path.read_bytes()
    atomic_save_npz(path, {"x": np.arange(4), "s": np.str_("été")}, compressed=True)
    assert path.read_bytes() == first
    with pytest.raises(ValueError, match="object dtype"):
        atomic_save_npz(tmp_path / "o.npz", {"o": np.array([{}], dtype=object)})
    assert _listing(tmp_path) == ["a.npz"]
