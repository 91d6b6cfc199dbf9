"""Tests for sklearn_l1align.io._mapping: pickle-free mappings and their bounded loader."""

import pickle
import re
import struct
import zipfile

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_l1align.io import (
    load_mapping,
    save_mapping,
)

from _io_helpers import listing












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
    assert listing(tmp_path) == ["m.npz"]


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
    assert listing(tmp_path) == []


def test_save_mapping_rejects_bad_metadata(tmp_path):
    with pytest.raises(TypeError, match="JSON"):
        save_mapping(tmp_path / "m.npz", np.eye(2), metadata={"x": object()})
    with pytest.raises(TypeError, match="dict"):
        save_mapping(tmp_path / "m.npz", np.eye(2), metadata=["a"])
    with pytest.raises(FileNotFoundError, match="missing"):
        save_mapping(tmp_path / "missing" / "m.npz", np.eye(2))
    assert listing(tmp_path) == []


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


# --------------------------------------------------------------------------
# Bounded loading of untrusted files
# --------------------------------------------------------------------------


def _npy_header(shape, descr="<f8"):
    """A .npy version 1.0 header declaring ``shape`` (no data)."""
    header = repr({"descr": descr, "fortran_order": False, "shape": tuple(shape)}).encode("latin1")
    header += b" " * (-(10 + len(header) + 1) % 64) + b"\n"
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header


def _crafted(path, rotation_bytes, *, compression=zipfile.ZIP_STORED, metadata=np.str_("{}")):
    """A mapping archive whose rotation entry is the raw ``rotation_bytes``."""
    import io as _bytes_io

    with zipfile.ZipFile(path, "w", compression=compression) as archive:
        for key, value in (("format", np.str_("sklearn_l1align.mapping")),
                           ("format_version", np.int64(1)), ("metadata", metadata)):
            buffer = _bytes_io.BytesIO()
            np.lib.format.write_array(buffer, np.asarray(value))
            archive.writestr(f"{key}.npy", buffer.getvalue())
        archive.writestr("rotation.npy", rotation_bytes)
    return path


def test_declared_huge_array_is_refused_before_reading(tmp_path):
    path = _crafted(tmp_path / "bomb.npz", _npy_header((100_000, 100_000)) + b"\x00" * 64)
    assert path.stat().st_size < 2000
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*at most 4096 x 4096.*"
                                         r"\(100000, 100000\)"):
        load_mapping(path)


def test_compressed_large_identity_is_refused_from_its_header(tmp_path, monkeypatch):
    # A compressed 6000 x 6000 identity: refused from its declared shape, without
    # decompressing or multiplying it (the data read is counted).
    data = _npy_header((6000, 6000)) + np.eye(6000, dtype="<f8")[:50].tobytes()
    path = _crafted(tmp_path / "eye.npz", data, compression=zipfile.ZIP_DEFLATED)
    reads = []
    real_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        out = real_read(self, n)
        reads.append(len(out))
        return out

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    with pytest.raises(ValueError, match=r"at most 4096 x 4096 \(max_dim\)\. Got a declared shape "
                                         r"\(6000, 6000\).*pass a larger max_dim"):
        load_mapping(path)
    assert sum(reads) < 100_000


def test_max_dim_is_the_bound(tmp_path):
    save_mapping(tmp_path / "m.npz", _rotation(dim=6))
    with pytest.raises(ValueError, match="at most 5 x 5"):
        load_mapping(tmp_path / "m.npz", max_dim=5)
    assert load_mapping(tmp_path / "m.npz", max_dim=6)[0].shape == (6, 6)
    with pytest.raises(ValueError, match="'max_dim' parameter"):
        load_mapping(tmp_path / "m.npz", max_dim=0)


@pytest.mark.parametrize("cut", [0.3, 0.6, 0.9, 0.99])
def test_truncated_file_is_reported_as_truncated(tmp_path, cut):
    save_mapping(tmp_path / "m.npz", _rotation(dim=30), metadata={"a": 1})
    data = (tmp_path / "m.npz").read_bytes()
    (tmp_path / "cut.npz").write_bytes(data[: int(cut * len(data))])
    with pytest.raises(ValueError, match="truncated or corrupt") as info:
        load_mapping(tmp_path / "cut.npz")
    assert "needs pickle" not in str(info.value)


def test_declared_data_longer_than_the_entry_is_truncated(tmp_path):
    path = _crafted(tmp_path / "short.npz", _npy_header((3, 3)) + b"\x00" * 16)
    with pytest.raises(ValueError, match="declares 72 bytes of data. Got 16 bytes, a truncated"):
        load_mapping(path)


def test_deeply_nested_metadata_is_a_value_error(tmp_path):
    deep = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    path = _crafted(tmp_path / "deep.npz", _npy_header((2, 2)) + np.eye(2).tobytes(),
                    metadata=np.str_(deep))
    with pytest.raises(ValueError, match="metadata must be a JSON object.*nested 100001 deep, "
                                         "more than 32"):
        load_mapping(path)
    # Brackets inside strings are not nesting; 32 levels are fine.
    fine = '{"a": "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[", "b": ' + "[" * 31 + "]" * 31 + "}"
    path = _crafted(tmp_path / "fine.npz", _npy_header((2, 2)) + np.eye(2).tobytes(),
                    metadata=np.str_(fine))
    assert load_mapping(path)[1]["a"].startswith("[[[")


def test_oversized_metadata_is_refused_before_parsing(tmp_path):
    path = _crafted(tmp_path / "big.npz", _npy_header((2, 2)) + np.eye(2).tobytes(),
                    metadata=np.str_('{"x": "' + "y" * 300_000 + '"}'))
    with pytest.raises(ValueError, match="metadata must be at most 1048576 bytes"):
        load_mapping(path)


def test_extra_entries_are_refused(tmp_path):
    np.savez(tmp_path / "m.npz", **_mapping_arrays(), extra=np.zeros(3))
    with pytest.raises(ValueError, match="expected the keys"):
        load_mapping(tmp_path / "m.npz")


def test_oversized_format_entry_is_refused_before_reading(tmp_path):
    # A format string declared long inside a compressed entry: refused from its header.
    path = _crafted(tmp_path / "fmt.npz", _npy_header((2, 2)) + np.eye(2).tobytes())
    data = {}
    with zipfile.ZipFile(path) as archive:
        for name in archive.namelist():
            data[name] = archive.read(name)
    data["format.npy"] = _npy_header((), descr="<U1000") + b"\x00" * 64
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, value in data.items():
            archive.writestr(name, value)
    with pytest.raises(ValueError, match="the format must be at most 1024 bytes. Got a declared "
                                         "4000 bytes"):
        load_mapping(path)
    # One NumPy cannot even parse is an unreadable header, named with the file.
    data["format.npy"] = _npy_header((), descr="<U1000000000") + b"\x00" * 64
    with zipfile.ZipFile(path, "w") as archive:
        for name, value in data.items():
            archive.writestr(name, value)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*unreadable header in the entry "
                                         "'format'"):
        load_mapping(path)
