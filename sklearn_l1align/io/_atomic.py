"""The one way files are written: atomic single files, and staged sets that move together.

``atomic_write`` and ``atomic_save_npz`` write one file through a temporary file in the same
folder and :func:`os.replace` it into place. ``StagedOutputs`` writes several files into a
hidden staging folder beside them and moves them into place together on ``commit``: what the
``l1align`` command uses for its outputs.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import socket
import stat
import tempfile
import threading
import zipfile
from pathlib import Path

import numpy as np

__all__ = ["StagedOutputs", "atomic_save_npz", "atomic_write", "check_output_path", "is_binary_name"]

logger = logging.getLogger(__name__)


# --------------------------------------------------------------------------
# Atomic writes
# --------------------------------------------------------------------------


def _new_file_mode():
    """Permission bits a plain ``open(path, "w")`` would give a new file."""
    # mkstemp creates files readable by the owner only; restore the usual
    # 0o666 & ~umask. Reading the umask through os.umask would briefly change
    # it for every thread, so read it from /proc where available.
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return 0o666 & ~int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    return 0o644


def check_output_path(path, inputs=()):
    """Return ``path`` as a Path after checking it can be written and is not one of ``inputs``.

    Parameters
    ----------
    path : str or os.PathLike
        The file to be written.
    inputs : iterable of str or os.PathLike, default=()
        Files the same run reads; the output must not overwrite any of them.

    Returns
    -------
    path : pathlib.Path
        ``path`` as given.
    """
    path = Path(os.fspath(path))
    folder = path.parent
    if not folder.is_dir():
        raise FileNotFoundError(
            f"The output folder '{folder}' must exist to write '{path}'. Got a path to a "
            "missing folder instead; create the folder first."
        )
    if path.is_dir():
        raise IsADirectoryError(
            f"The output path must be a file. Got the existing folder '{path}' instead."
        )
    for given in inputs:
        if given is not None and Path(given).exists() and Path(given).resolve() == path.resolve():
            raise ValueError(f"An output must not overwrite an input. Got '{path}' as both instead.")
    return path


def is_binary_name(path):
    """True when ``path`` names a word2vec binary file (``.bin`` or ``.bin.gz``)."""
    name = os.fspath(path).lower()
    return name.endswith(".bin") or name.endswith(".bin.gz")


@contextlib.contextmanager
def atomic_write(path, mode="w", encoding="utf-8"):
    """Open a file for writing that appears at ``path`` only when complete.

    The data are written to a temporary file in the same folder as ``path``,
    which is flushed, synced and moved over ``path`` with :func:`os.replace`
    when the ``with`` block ends normally. If the block raises, the temporary
    file is removed and a file already at ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Its folder must exist.
    mode : {"w", "wb"}, default="w"
        Text or binary mode.
    encoding : str, default="utf-8"
        Text encoding; ignored in binary mode.

    Yields
    ------
    file : file object
        The temporary file, open for writing.

    Raises
    ------
    FileNotFoundError
        If the folder of ``path`` does not exist; raised before anything is
        written.
    IsADirectoryError
        If ``path`` is an existing folder.
    ValueError
        If ``mode`` is not ``"w"`` or ``"wb"``.

    See Also
    --------
    atomic_save_npz : Atomic, pickle-free ``.npz`` archives.
    write_word2vec : Writes embeddings through this function.

    Notes
    -----
    A new file gets the permissions ``open`` would give it (``0o666`` minus
    the umask); a replaced file keeps its permissions.

    Examples
    --------
    >>> import json, os, tempfile
    >>> from sklearn_l1align.io import atomic_write
    >>> folder = tempfile.mkdtemp()
    >>> report = os.path.join(folder, "report.json")
    >>> with atomic_write(report) as f:
    ...     json.dump({"precision_at_1": 0.45}, f)
    >>> with open(report) as f:
    ...     json.load(f)
    {'precision_at_1': 0.45}
    >>> try:
    ...     with atomic_write(report) as f:
    ...         _ = f.write("{half a rep")
    ...         raise RuntimeError("interrupted")
    ... except RuntimeError:
    ...     pass
    >>> with open(report) as f:  # the old report survives
    ...     json.load(f)
    {'precision_at_1': 0.45}
    >>> sorted(os.listdir(folder))  # and no temporary file is left
    ['report.json']
    """
    if mode not in ("w", "wb"):
        raise ValueError(f"mode must be 'w' or 'wb'. Got {mode!r} instead.")
    path = check_output_path(path)
    try:
        file_mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        file_mode = _new_file_mode()
    fd, tmp_name = tempfile.mkstemp(
        dir=path.parent, prefix=f".{path.name}.", suffix=".tmp"
    )
    try:
        if mode == "wb":
            handle = os.fdopen(fd, "wb")
        else:
            handle = os.fdopen(fd, "w", encoding=encoding, newline="")
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(tmp_name, file_mode)
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def _npz_entry_info(name):
    # A fixed timestamp makes archives with equal content byte-identical.
    info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
    info.external_attr = 0o644 << 16
    return info


def atomic_save_npz(path, arrays, *, compressed=False):
    """Save arrays to a pickle-free ``.npz`` archive, atomically.

    Readable with ``np.load(path, allow_pickle=False)``. Unlike
    :func:`numpy.savez`, object arrays are refused instead of pickled, the
    name is used as given (no ``.npz`` is appended) and the output is
    byte-for-byte reproducible.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Its folder must exist.
    arrays : mapping of str to array-like
        The arrays to store, by name.
    compressed : bool, default=False
        Whether to deflate the entries, as :func:`numpy.savez_compressed`.

    Raises
    ------
    ValueError
        If an array has the object dtype (it would need pickle).
    FileNotFoundError
        If the folder of ``path`` does not exist.

    See Also
    --------
    atomic_write : The underlying atomic file.
    save_mapping : Saves an orthogonal mapping with metadata.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import atomic_save_npz
    >>> path = os.path.join(tempfile.mkdtemp(), "arrays.npz")
    >>> atomic_save_npz(path, {"x": np.arange(3)}, compressed=True)
    >>> with np.load(path, allow_pickle=False) as data:
    ...     data["x"].tolist()
    [0, 1, 2]
    """
    checked = {}
    for name, value in arrays.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"Array names must be non-empty strings. Got {name!r} instead.")
        array = np.asanyarray(value)
        if array.dtype.hasobject:
            raise ValueError(
                f"Array {name!r} must not have the object dtype, which would need "
                f"pickle. Got dtype {array.dtype} instead."
            )
        checked[name] = array
    compression = zipfile.ZIP_DEFLATED if compressed else zipfile.ZIP_STORED
    with atomic_write(path, "wb") as raw:
        with zipfile.ZipFile(raw, mode="w", compression=compression, allowZip64=True) as archive:
            for name, array in checked.items():
                with archive.open(_npz_entry_info(name), mode="w", force_zip64=True) as entry:
                    np.lib.format.write_array(entry, array, allow_pickle=False)


@contextlib.contextmanager
def deferred_sigint():
    """Hold Ctrl-C back while the outputs are moved into place, so they move together."""
    can_block = (hasattr(signal, "pthread_sigmask")
                 and threading.current_thread() is threading.main_thread())
    if not can_block:
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def hoststaging_prefix():
    """``.l1align-<host>-``: the start of every staging folder made on this host."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"
    return f".l1align-{host}-"


def staging_prefix(pid=None):
    """``.l1align-<host>-<pid>-``: whose staging folder it is, so a dead run's can be found."""
    return f"{hoststaging_prefix()}{os.getpid() if pid is None else pid}-"


def pid_alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (or cannot tell): leave its folder alone
    return True


def remove_stale_staging(parent):
    """Remove staging folders that a run on this host left when it was killed (SIGKILL, power loss).

    Only folders named by :func:`staging_prefix` for this host whose process is gone are
    touched; a live run's folder, or another host's on a shared file system, is left alone.
    """
    host_prefix = hoststaging_prefix()
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(host_prefix) and name.endswith(".partial") and entry.is_dir()):
            continue
        pid = name[len(host_prefix):].split("-", 1)[0]
        if pid.isdigit() and int(pid) != os.getpid() and not pid_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)
            logger.warning("Removed %s, the staging folder of an earlier run (pid %s) that was killed "
                           "before it could finish writing.", entry, pid)


class StagedOutputs:
    """Write outputs into hidden staging folders beside them; move them all into place on commit.

    Each file is itself written atomically by :mod:`sklearn_l1align.io`; staging adds
    that a run's files replace the old ones together, or not at all. On any exception
    (including KeyboardInterrupt) the staging folders are removed. A folder left by a run
    that was killed outright (named with its host and pid) is removed by the next run that
    writes to the same place.
    """

    def __init__(self, finals):
        self.finals = [Path(p) for p in finals]
        self.folders = {}
        self.staged = {}

    def __enter__(self):
        for final in self.finals:
            parent = final.parent
            if parent not in self.folders:
                remove_stale_staging(parent)
                self.folders[parent] = Path(tempfile.mkdtemp(dir=parent, prefix=staging_prefix(),
                                                             suffix=".partial"))
            self.staged[final] = self.folders[parent] / final.name
        return self

    def __getitem__(self, final):
        return self.staged[Path(final)]

    def commit(self):
        with deferred_sigint():
            for final, staged in self.staged.items():
                if final.exists():
                    # A replaced file keeps its permissions, as io.atomic_write does.
                    os.chmod(staged, final.stat().st_mode & 0o7777)
                os.replace(staged, final)
        logger.info("Wrote %s.", ", ".join(str(p) for p in self.finals))

    def __exit__(self, exc_type, exc, tb):
        for folder in self.folders.values():
            shutil.rmtree(folder, ignore_errors=True)
        return False
