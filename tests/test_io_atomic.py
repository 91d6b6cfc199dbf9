"""Tests for sklearn_l1align.io._atomic: atomic files and the output-path check."""

import os
import stat
import subprocess
from pathlib import Path

import numpy as np
import pytest
from numpy.testing import assert_array_equal

from sklearn_l1align.io import _atomic
from sklearn_l1align.io import (
    atomic_save_npz,
    atomic_write,
    check_output_path,
    save_mapping,
    write_word2vec,
)

from _io_helpers import listing












def test_atomic_write_commits_on_success_only(tmp_path):
    path = tmp_path / "report.json"
    with atomic_write(path) as f:
        f.write("{}")
        # Nothing visible under the final name before the block ends.
        assert not path.exists()
        assert len(listing(tmp_path)) == 1
    assert path.read_text() == "{}"

    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as f:
            f.write('{"half":')
            raise KeyboardInterrupt
    assert path.read_text() == "{}"
    assert listing(tmp_path) == ["report.json"]


def test_atomic_write_binary_and_text_modes(tmp_path):
    with atomic_write(tmp_path / "a.bin", "wb") as f:
        f.write(b"\x00\x01")
    assert (tmp_path / "a.bin").read_bytes() == b"\x00\x01"
    with atomic_write(tmp_path / "a.txt", encoding="utf-8") as f:
        f.write("été\n")
    assert (tmp_path / "a.txt").read_bytes() == "été\n".encode()
    with pytest.raises(ValueError, match="'mode' parameter of atomic_write must be a str among"):
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
    assert listing(tmp_path) == ["a.npz"]


# --------------------------------------------------------------------------
# check_output_path: regular files only, folders probed up front
# --------------------------------------------------------------------------

def test_check_output_path_accepts_new_and_regular_files(tmp_path):
    assert check_output_path(tmp_path / "new.vec") == tmp_path / "new.vec"
    (tmp_path / "old.vec").write_text("x")
    assert check_output_path(tmp_path / "old.vec") == tmp_path / "old.vec"
    assert listing(tmp_path) == ["old.vec"]  # the probe file is gone


def test_fifo_output_is_refused_never_replaced(tmp_path):
    os.mkfifo(tmp_path / "pipe")
    for write in (lambda p: check_output_path(p), lambda p: write_word2vec(p, ["a"], np.ones((1, 2))),
                  lambda p: save_mapping(p, np.eye(2))):
        with pytest.raises(ValueError, match="must be a regular file.*a FIFO"):
            write(tmp_path / "pipe")
        assert stat.S_ISFIFO(os.lstat(tmp_path / "pipe").st_mode)
    assert listing(tmp_path) == ["pipe"]


def test_symlink_output_is_refused_never_replaced(tmp_path):
    (tmp_path / "target.json").write_text("keep")
    (tmp_path / "link.json").symlink_to(tmp_path / "target.json")
    with pytest.raises(ValueError, match="a symbolic link"):
        with atomic_write(tmp_path / "link.json") as f:
            f.write("new")
    assert (tmp_path / "link.json").is_symlink()
    assert (tmp_path / "target.json").read_text() == "keep"


@pytest.mark.skipif(not Path("/dev/null").exists(), reason="no /dev/null")
def test_dev_null_output_is_refused():
    before = os.stat("/dev/null")
    with pytest.raises(ValueError, match="'/dev/null', a character device"):
        check_output_path("/dev/null")
    with pytest.raises(ValueError, match="a character device"):
        with atomic_write("/dev/null") as f:
            f.write("x")
    after = os.stat("/dev/null")
    assert stat.S_ISCHR(after.st_mode) and after.st_ino == before.st_ino


def test_unwritable_folder_is_found_up_front(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    if os.geteuid() != 0:
        folder.chmod(0o500)
    else:  # root bypasses permission bits; a read-only file system still says EROFS
        def read_only(*args, **kwargs):
            raise OSError(30, "Read-only file system")

        monkeypatch.setattr(_atomic.tempfile, "mkstemp", read_only)
    try:
        with pytest.raises(PermissionError, match="must be writable.*where no file can be created"):
            check_output_path(folder / "out.vec")
    finally:
        folder.chmod(0o700)
    assert listing(folder) == []


def test_folder_that_is_a_file(tmp_path):
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match="must be a folder"):
        check_output_path(tmp_path / "file" / "out.vec")


@pytest.mark.skipif(os.geteuid() != 0, reason="chattr +i needs root")
def test_immutable_output_is_found_up_front(tmp_path):
    path = tmp_path / "report.json"
    path.write_text("old")
    if subprocess.run(["chattr", "+i", str(path)], capture_output=True, check=False).returncode:
        pytest.skip("this file system has no immutable flag")
    try:
        with pytest.raises(ValueError, match="immutable or append-only"):
            check_output_path(path)
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=False)


def test_output_must_not_be_an_input(tmp_path):
    (tmp_path / "in.vec").write_text("x")
    (tmp_path / "sub").mkdir()
    with pytest.raises(ValueError, match="must not overwrite an input"):
        check_output_path(tmp_path / "sub" / ".." / "in.vec", inputs=[tmp_path / "in.vec"])


def test_another_users_file_in_a_sticky_folder_is_found_up_front(tmp_path, monkeypatch):
    folder = tmp_path / "sticky"
    folder.mkdir()
    folder.chmod(0o1777)
    (folder / "report.json").write_text("someone else's")
    monkeypatch.setattr(os, "geteuid", lambda: os.stat(folder).st_uid + 4242)
    with pytest.raises(PermissionError, match="sticky folder.*owned by uid"):
        check_output_path(folder / "report.json")
    check_output_path(folder / "new.json")  # a new file is fine
