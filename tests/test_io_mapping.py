"""Tests for sklearn_l1align.io._mapping: pickle-free mappings and their bounded loader."""

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
# Mappings
# --------------------------------------------------------------------------


def _rotation(dim=6, seed=0, dtype=np.float64):
    q, r = np.linalg.qr(np.random.default_rng(seed).standard_normal((dim, dim)))
    return (q * np.sign(np.diag(r))).astype(dtype)


def _mapping_arrays(**overrides):
    arrays = {
        "format": np.str_("sklearn_l1align.mapping"),
        "format_version": np.int64(1),
        "rotation": _rotation(),
        "metadata": np.str_("{}"),
    }
    arrays.update(overrides)
    return {k: v for k, v in arrays.items() if v is not None}


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_mapping_round_trip(tmp_path, dtype):
    rotation = _rotation(dtype=dtype)
    metadata = {"src_lang": "fr", "tgt_lang": "ru", "alpha": 1e8, "notes": "été", "k": [10]}
    path = tmp_path / "m.npz"
    save_mapping(path, rotation, metadata=metadata)
    loaded, meta = load_mapping(path)
    assert loaded.dtype == dtype
    assert_array_equal(loaded, rotation)
    assert meta == metadata
    assert _listing(tmp_path) == ["m.npz"]


def test_mapping_without_metadata(tmp_path):
    save_mapping(tmp_path / "m.npz", np.eye(3, dtype=int))
    rotation, metadata = load_mapping(tmp_path / "m.npz")
    assert rotation.dtype == np.float64
    assert_array_equal(rotation, np.eye(3))
    assert metadata == {}


@pytest.mark.parametrize(
    "rotation, fragment",
    [
        pytest.param(2 * np.eye(3), "orthogonal", id="scaled"),
        pytest.param(np.ones((3, 2)), "square", id="not-square"),
        pytest.param(np.ones(3), "square", id="1-D"),
        pytest.param(np.full((2, 2), np.nan), "finite", id="nan"),
        pytest.param(np.eye(2, dtype=complex), "floating-point", id="complex"),
    ],
)
def test_save_mapping_rejects_bad_rotations(tmp_path, rotation, fragment):
    with pytest.raises(ValueError, match=fragment):
        save_mapping(tmp_path / "m.npz", rotation)
    assert _listing(tmp_path) == []


def test_save_mapping_rejects_bad_metadata(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_mapping(tmp_path / "m.npz", np.eye(2), metadata={"x": object()})
    with pytest.raises(TypeError, match="dict"):
        save_mapping(tmp_path / "m.npz", np.eye(2), metadata=["a"])
    with pytest.raises(FileNotFoundError, match="missing"):
        save_mapping(tmp_path / "missing" / "m.npz", np.eye(2))
    assert _listing(tmp_path) == []


@pytest.mark.parametrize(
    "overrides, fragment",
    [
        pytest.param({"rotation": 1.5 * _rotation()}, r"orthogonal.*Got", id="not-orthogonal"),
        pytest.param({"rotation": np.ones((3, 2))}, "square.*Got shape \\(3, 2\\)", id="wrong-shape"),
        pytest.param({"rotation": np.eye(3, dtype=np.int64)}, "floating-point.*int64", id="int-dtype"),
        pytest.param({"rotation": np.full((2, 2), np.inf)}, "finite", id="inf"),
        pytest.param({"rotation": None}, "expected the keys", id="no-rotation"),
        pytest.param({"format_version": None}, "expected the keys", id="no-version"),
        pytest.param({"format": np.str_("something.else")}, "expected format", id="wrong-format"),
        pytest.param({"format_version": np.int64(99)}, "Got version 99.*upgrade", id="newer-version"),
        pytest.param({"metadata": np.str_("[1, 2]")}, "JSON object", id="metadata-list"),
        pytest.param({"metadata": np.str_("{oops")}, "JSON object", id="metadata-bad-json"),
    ],
)
def test_load_mapping_rejects_crafted_files(tmp_path, overrides, fragment):
    path = tmp_path / "m.npz"
    np.savez(path, **_mapping_arrays(**overrides))
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + fragment):
        load_mapping(path)


def test_load_mapping_tolerance(tmp_path):
    path = tmp_path / "m.npz"
    np.savez(path, **_mapping_arrays(rotation=np.eye(3) + 1e-3 * np.eye(3)))
    with pytest.raises(ValueError, match="orthogonal"):
        load_mapping(path)
    rotation, _ = load_mapping(path, ortho_tol=1e-2)
    assert rotation.shape == (3, 3)


_UNPICKLED = []


def _record_unpickling():
    _UNPICKLED.append(True)
    return "executed"


class _Payload:
    """An object whose unpickling runs code (it records that it did)."""

    def __reduce__(self):
        return _record_unpickling, ()


def test_load_mapping_refuses_pickled_objects(tmp_path):
    _UNPICKLED.clear()
    path = tmp_path / "evil.npz"
    np.savez(path, **_mapping_arrays(metadata=np.array([_Payload()], dtype=object)))
    assert not _UNPICKLED  # pickling alone runs nothing

    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*needs pickle"):
        load_mapping(path)
    assert not _UNPICKLED

    # Unsafe loading of the same file would have run the payload.
    with np.load(path, allow_pickle=True) as data:
        assert data["metadata"][0] == "executed"
    assert _UNPICKLED == [True]


def test_load_mapping_refuses_a_plain_pickle_and_npy(tmp_path):
    _UNPICKLED.clear()
    pickled = tmp_path / "m.pkl"
    pickled.write_bytes(pickle.dumps({"rotation": _Payload()}))
    with pytest.raises(ValueError, match=re.escape(str(pickled)) + ".*pickle"):
        load_mapping(pickled)
    assert not _UNPICKLED
    npy = tmp_path / "m.npy"
    np.save(npy, np.eye(3))
    with pytest.raises(ValueError, match=re.escape(str(npy)) + ".*npz"):
        load_mapping(npy)


def test_load_mapping_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.npz"):
        load_mapping(tmp_path / "nope.npz")
