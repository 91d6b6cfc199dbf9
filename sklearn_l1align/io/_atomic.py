"""The one way files are written: atomic single files, and staged sets that move together.

``atomic_write`` and ``atomic_save_npz`` write one file through a temporary file in the same
folder and :func:`os.replace` it into place. ``check_output_path`` is run first, by them and
by the ``l1align`` command for every output before any work: only a regular file is ever
replaced, and the folder must accept a new file. ``StagedOutputs`` writes several files into
a hidden staging folder beside them and moves them into place together on ``commit``: what
the ``l1align`` command uses for its outputs. The commit holds SIGINT and SIGTERM back with
Python-level handlers (``deferred_signals``), keeps every old file until the whole set is in
place and puts them all back on a failure or a signal, takes turns with other commits to
the same folder, and marks its staging folder with an ``flock`` that tells live runs from
killed ones in any PID namespace (``remove_stale_staging``).
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
import time
import zipfile
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import numpy as np
from sklearn.utils._param_validation import StrOptions, validate_params

if TYPE_CHECKING:
    from numpy.typing import ArrayLike


__all__ = [
    "StagedOutputs",
    "atomic_save_npz",
    "atomic_write",
    "check_output_path",
    "deferred_signals",
    "is_binary_name",
    "remove_stale_staging",
]

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


def _mode_for(path, st_mode=None):
    """The permission bits a file written to ``path`` gets: those of the file it replaces
    (``st_mode``, or looked up), else those ``open(path, "w")`` would give a new file."""
    if st_mode is None:
        try:
            st_mode = os.stat(path).st_mode
        except FileNotFoundError:
            return _new_file_mode()
    return stat.S_IMODE(st_mode)


# Linux inode flags (linux/fs.h) that make a file impossible to replace even for root.
_FS_IOC_GETFLAGS = 0x80086601
_FS_IMMUTABLE_FL = 0x00000010
_FS_APPEND_FL = 0x00000020


def _unreplaceable_flags(path):
    """The immutable / append-only flags of ``path`` (Linux only; 0 when unknown)."""
    try:
        import fcntl
        import struct

        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except (ImportError, OSError):
        return 0
    try:
        flags = struct.unpack("l", fcntl.ioctl(fd, _FS_IOC_GETFLAGS, struct.pack("l", 0)))[0]
    except OSError:
        return 0
    finally:
        os.close(fd)
    return flags & (_FS_IMMUTABLE_FL | _FS_APPEND_FL)


def _check_sticky(path, folder):
    """In a sticky folder (``/tmp``), only the owner of a file (or of the folder) may replace it."""
    if not hasattr(os, "geteuid"):  # pragma: no cover - not POSIX
        return
    user = os.geteuid()
    folder_stat, file_stat = os.stat(folder), os.lstat(path)
    if (folder_stat.st_mode & stat.S_ISVTX and user != 0
            and user not in (file_stat.st_uid, folder_stat.st_uid)):
        raise PermissionError(
            f"An output in a sticky folder (such as /tmp) must be owned by the user "
            f"replacing it. Got '{path}', owned by uid {file_stat.st_uid}, in '{folder}', "
            "instead."
        )


def _kind_of(mode):
    for test, name in ((stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
                       (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
                       (stat.S_ISLNK, "a symbolic link")):
        if test(mode):
            return name
    return "a special file"


@validate_params(
    {"path": [str, os.PathLike], "inputs": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def check_output_path(path: str | os.PathLike, inputs: Iterable[str | os.PathLike] = ()) -> Path:
    """Return ``path`` as a Path after checking that a regular file can be written there.

    Run before any reading or fitting, so that a run that cannot write its outputs
    fails at once, not after minutes of work. An existing ``path`` is only ever
    replaced if it is a regular file: a symbolic link, a device (``/dev/null``), a FIFO
    or a socket is refused, never replaced. The folder is probed by creating and
    removing a hidden temporary file in it, which detects an unwritable or read-only
    folder (also for root, who bypasses permission bits).

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

    Raises
    ------
    FileNotFoundError
        If the folder does not exist.
    NotADirectoryError
        If the folder is not a folder.
    IsADirectoryError
        If ``path`` is an existing folder.
    ValueError
        If ``path`` exists and is not a regular file, is immutable or append-only,
        or is one of ``inputs``.
    PermissionError
        If no file can be created in the folder (permissions, read-only file system).

    See Also
    --------
    atomic_write : Calls this before it writes.

    Examples
    --------
    >>> import os, tempfile
    >>> from sklearn_l1align.io import check_output_path
    >>> folder = tempfile.mkdtemp()
    >>> check_output_path(os.path.join(folder, "out.vec")).name
    'out.vec'
    >>> os.mkfifo(os.path.join(folder, "pipe"))
    >>> check_output_path(os.path.join(folder, "pipe"))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: An output must be a regular file, ... Got '...pipe', a FIFO (named pipe), instead.
    """
    path = Path(os.fspath(path))
    folder = path.parent
    if not folder.exists():
        raise FileNotFoundError(
            f"The output folder '{folder}' must exist to write '{path}'. Got a path to a "
            "missing folder instead; create the folder first."
        )
    if not folder.is_dir():
        raise NotADirectoryError(
            f"The output folder of '{path}' must be a folder. Got '{folder}', which is "
            "not one, instead."
        )
    try:
        mode = os.lstat(path).st_mode
    except FileNotFoundError:
        mode = None
    if mode is not None:
        if stat.S_ISDIR(mode):
            raise IsADirectoryError(
                f"The output path must be a file. Got the existing folder '{path}' instead."
            )
        if not stat.S_ISREG(mode):
            raise ValueError(
                f"An output must be a regular file, which is replaced; other files are "
                f"never replaced. Got '{path}', {_kind_of(mode)}, instead."
            )
        if _unreplaceable_flags(path):
            raise ValueError(
                f"An output must be a file that can be replaced. Got '{path}', which is "
                "immutable or append-only (chattr +i / +a), instead."
            )
        _check_sticky(path, folder)
    for given in inputs:
        if given is not None and Path(given).exists() and Path(given).resolve() == path.resolve():
            raise ValueError(f"An output must not overwrite an input. Got '{path}' as both instead.")
    try:
        fd, probe = tempfile.mkstemp(dir=folder, prefix=".l1align-probe-", suffix=".tmp")
    except OSError as exc:
        raise PermissionError(
            f"The output folder must be writable to write '{path}'. Got '{folder}', where "
            f"no file can be created ({exc.strerror or exc}), instead."
        ) from None
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return path


def is_binary_name(path: str | os.PathLike) -> bool:
    """Whether ``path`` is named like a word2vec binary file (``.bin`` or ``.bin.gz``).

    Parameters
    ----------
    path : str or os.PathLike
        A file name.

    Returns
    -------
    binary : bool
        True for a name ending in ``.bin`` or ``.bin.gz`` (any case).

    See Also
    --------
    read_word2vec : Decides from the content, not the name, with ``binary=None``.

    Examples
    --------
    >>> from sklearn_l1align.io import is_binary_name
    >>> is_binary_name("wiki.fr.bin"), is_binary_name("wiki.fr.vec.gz")
    (True, False)
    """
    name = os.fspath(path).lower()
    return name.endswith(".bin") or name.endswith(".bin.gz")


@validate_params(
    {"path": [str, os.PathLike], "mode": [StrOptions({"w", "wb"})], "encoding": [str]},
    prefer_skip_nested_validation=True,
)
@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w",
                 encoding: str = "utf-8") -> Iterator[IO[Any]]:
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
    path = check_output_path(path)
    file_mode = _mode_for(path)
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


@validate_params(
    {"path": [str, os.PathLike], "arrays": [dict], "compressed": ["boolean"]},
    prefer_skip_nested_validation=True,
)
def atomic_save_npz(path: str | os.PathLike, arrays: Mapping[str, ArrayLike], *,
                    compressed: bool = False) -> None:
    """Save arrays to a pickle-free ``.npz`` archive, atomically.

    Readable with ``np.load(path, allow_pickle=False)``. Unlike
    :func:`numpy.savez`, object arrays are refused instead of pickled, the
    name is used as given (no ``.npz`` is appended) and the output is
    byte-for-byte reproducible.

    Parameters
    ----------
    path : str or os.PathLike
        Destination file. Its folder must exist.
    arrays : dict of str to array-like
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


# --------------------------------------------------------------------------
# The staged commit: a set of files that move into place together
# --------------------------------------------------------------------------

_fcntl: Any
try:  # POSIX advisory locks; without them (Windows) liveness falls back to the pid.
    import fcntl as _fcntl
except ImportError:  # pragma: no cover
    _fcntl = None

#: The signals a commit defers: Ctrl-C, and what ``timeout``, ``docker stop`` and Slurm send.
DEFERRED_SIGNALS = tuple(getattr(signal, name) for name in ("SIGINT", "SIGTERM")
                         if hasattr(signal, name))
#: A staging folder from another PID namespace or boot whose lock is free is removed only
#: once it is this old (seconds): its lock is taken right after it is made, so a younger
#: one may be a live run's that has not locked it yet.
STALE_FOREIGN_AGE = 60.0

#: A staging folder of the older naming (``.l1align-<host>-<pid>-<random>.partial``, before
#: the boot and PID namespace were part of the name) whose lock is free is removed once it
#: is this old (seconds): its pid cannot be placed in a namespace, and no run of a version
#: that named folders so writes its outputs for a day.
STALE_OLDER_NAMING_AGE = 24 * 3600.0

#: Sub-folder of a staging folder that keeps the replaced files until the set is in place.
_PREVIOUS = ".previous"


class deferred_signals:
    """Record SIGINT and SIGTERM inside the block; hand them to the earlier handlers after it.

    Python runs signal handlers in the main thread whichever thread the kernel delivered
    the signal to (an OpenBLAS worker, say), so replacing the handlers, unlike blocking the
    signal in the main thread, holds back every delivery. A second signal inside the block
    is recorded too; each kind is delivered once. Outside the main thread handlers cannot
    be installed, and none are needed: Python raises ``KeyboardInterrupt`` only in the
    main thread.

    Attributes
    ----------
    received : list of int
        The signals that arrived inside the block, in order.
    """

    def __enter__(self):
        self.received = []
        self.previous = {}
        if threading.current_thread() is threading.main_thread():
            for signum in DEFERRED_SIGNALS:
                try:
                    self.previous[signum] = signal.signal(signum, self._record)
                except (OSError, ValueError):  # pragma: no cover - not settable here
                    pass
        return self

    def _record(self, signum, frame):
        self.received.append(signum)

    @property
    def pending(self):
        """The received signals that the earlier handlers do not ignore."""
        return [s for s in dict.fromkeys(self.received) if self.previous.get(s) != signal.SIG_IGN]

    def __exit__(self, exc_type, exc, tb):
        pending = self.pending
        for signum, handler in self.previous.items():
            signal.signal(signum, handler)
        for signum in pending:
            handler = self.previous.get(signum)
            if callable(handler):
                handler(signum, None)
            elif signum == getattr(signal, "SIGINT", None):
                raise KeyboardInterrupt
            else:  # SIG_DFL of SIGTERM: end the process as the signal would, after clean-up
                raise SystemExit(128 + signum)
        return False


#: Kept for callers of the first release of the commit.
deferred_sigint = deferred_signals


def _namespace_id():
    """This boot and PID namespace, so that a pid is only ever compared within them."""
    parts = []
    try:
        with open("/proc/sys/kernel/random/boot_id", encoding="ascii") as f:
            parts.append(f.read().strip().replace("-", "")[:8])
    except OSError:
        parts.append("0")
    try:
        parts.append(str(os.stat("/proc/self/ns/pid").st_ino))
    except OSError:
        parts.append("0")
    return "".join(c if c.isalnum() else "_" for c in "n".join(parts))


def hoststaging_prefix():
    """``.l1align-<host>-``: the start of every staging folder made on this host."""
    host = "".join(c if c.isalnum() else "_" for c in socket.gethostname()) or "host"
    return f".l1align-{host}-"


def staging_prefix(pid=None, namespace=None):
    """``.l1align-<host>-<boot+pid namespace>-<pid>-``: whose staging folder it is.

    The pid is only meaningful inside its boot and PID namespace (a container on the same
    host numbers its processes afresh), so both are part of the name.
    """
    namespace = _namespace_id() if namespace is None else namespace
    return f"{hoststaging_prefix()}{namespace}-{os.getpid() if pid is None else pid}-"


def pid_alive(pid):
    """Whether process ``pid`` of this PID namespace exists (True when it cannot be told)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists (or cannot tell): leave its folder alone
    return True


def _try_lock(folder, blocking=False):
    """An fd of ``folder`` holding its exclusive flock, or None if another process holds it."""
    fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    if _fcntl is None:  # pragma: no cover
        return fd
    try:
        _fcntl.flock(fd, _fcntl.LOCK_EX | (0 if blocking else _fcntl.LOCK_NB))
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError:  # a file system without locks: say "held", leave the folder alone
        os.close(fd)
        return None if not blocking else os.open(folder, os.O_RDONLY)
    return fd


def _is_stale(entry, name, host_prefix, namespace):
    """Whether the staging folder ``entry`` belongs to a run that is gone."""
    fields = name[len(host_prefix):].split("-")
    if len(fields) == 2 and fields[0].isdigit():
        min_age = STALE_OLDER_NAMING_AGE  # the older naming: <pid>-<random>.partial
    elif len(fields) < 3 or not fields[1].isdigit():
        return False  # not ours: leave it alone
    elif fields[0] == namespace:
        pid = int(fields[1])
        return pid != os.getpid() and not pid_alive(pid)
    else:
        min_age = STALE_FOREIGN_AGE  # another container or boot: its pid means nothing here
    try:
        age = time.time() - entry.stat().st_mtime
    except OSError:
        return False
    return age >= min_age


def remove_stale_staging(parent):
    """Remove staging folders that runs on this host left when they were killed (SIGKILL, power loss).

    A live run holds an exclusive ``flock`` on its staging folder from the moment it
    makes it until it removes it, and the kernel drops the lock when the process dies, so
    a folder whose lock is held is never touched, whatever PID namespace its run is in.
    Of the folders whose lock is free, one named for this boot and PID namespace is
    removed when its pid is gone; one from another namespace or boot when it is older
    than :data:`STALE_FOREIGN_AGE`; one of the older naming, without the namespace, when
    it is older than :data:`STALE_OLDER_NAMING_AGE`. Another host's folders (on a shared
    file system) are left alone.
    """
    host_prefix = hoststaging_prefix()
    namespace = _namespace_id()
    try:
        entries = list(Path(parent).iterdir())
    except OSError:
        return
    for entry in entries:
        name = entry.name
        if not (name.startswith(host_prefix) and name.endswith(".partial")):
            continue
        if entry.is_symlink() or not entry.is_dir() or not _is_stale(entry, name, host_prefix,
                                                                     namespace):
            continue
        try:
            fd = _try_lock(entry)
        except OSError:
            continue
        if fd is None:
            continue  # a live run holds it
        try:
            shutil.rmtree(entry, ignore_errors=True)
        finally:
            os.close(fd)
        logger.warning("Removed %s, the staging folder of an earlier run that was killed before "
                       "it could finish writing.", entry)


class StagedOutputs:
    """Write outputs into hidden staging folders beside them; move them all into place on commit.

    Each file is itself written atomically; staging adds that a run's files replace the
    old ones together, or not at all:

    - the commit holds SIGINT and SIGTERM back (:class:`deferred_signals`), and a signal
      that arrives before the set is in place rolls the whole set back, then is delivered;
    - each old file is kept (hard-linked) in the staging folder until every new file is
      in place; if any step fails (an immutable old file, a full disk, a signal), every
      file already moved is put back;
    - concurrent commits to the same folder take turns (an exclusive ``flock`` on the
      folder), so two runs never interleave their sets;
    - on any exception the staging folders are removed. A folder left by a run that was
      killed outright is removed by the next run that writes to the same place
      (:func:`remove_stale_staging`); a live run's never is, since it holds a lock on it.

    Parameters
    ----------
    finals : iterable of str or os.PathLike
        The files to write.
    """

    def __init__(self, finals):
        self.finals = [Path(p) for p in finals]
        self.folders = {}
        self.staged = {}
        self._locks = []
        self._keep = False

    def __enter__(self):
        try:
            for final in self.finals:
                parent = final.parent
                if parent not in self.folders:
                    remove_stale_staging(parent)
                    folder = Path(tempfile.mkdtemp(dir=parent, prefix=staging_prefix(),
                                                   suffix=".partial"))
                    self.folders[parent] = folder
                    fd = _try_lock(folder)
                    if fd is not None:
                        self._locks.append(fd)
                    (folder / _PREVIOUS).mkdir()
                self.staged[final] = self.folders[parent] / final.name
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def __getitem__(self, final):
        return self.staged[Path(final)]

    def _set_aside(self, final, staged):
        """Keep the old ``final`` in the staging folder; return where, or None if there is none."""
        try:
            mode = os.lstat(final).st_mode
        except FileNotFoundError:
            return None, False
        if not stat.S_ISREG(mode):
            raise ValueError(
                f"An output must be a regular file, which is replaced; other files are never "
                f"replaced. Got '{final}', {_kind_of(mode)}, instead."
            )
        # A replaced file keeps its permissions, as atomic_write does.
        os.chmod(staged, _mode_for(final, mode))
        backup = staged.parent / _PREVIOUS / final.name
        try:
            os.link(final, backup)
            return backup, False
        except PermissionError:
            raise
        except OSError:  # no hard links here: move it aside (put back on failure)
            os.replace(final, backup)
            return backup, True

    def _roll_back(self, done):
        failed = []
        for final, backup, moved_aside, replaced in reversed(done):
            try:
                if backup is not None and (replaced or moved_aside):
                    os.replace(backup, final)
                elif replaced:
                    os.unlink(final)
            except OSError as exc:
                failed.append(f"{final} ({exc.strerror or exc})")
        if failed:
            self._keep = True
            folders = ", ".join(str(f / _PREVIOUS) for f in self.folders.values())
            logger.error("Could not put back %s; the earlier files are kept in %s.",
                         ", ".join(failed), folders)

    def commit(self):
        """Move every staged file into place, all or none.

        Raises
        ------
        OSError
            If a file cannot be moved into place; the earlier files are all restored.
        KeyboardInterrupt
            If SIGINT (or SIGTERM, as the earlier handler of that signal decides)
            arrived during the commit; the earlier files are all restored first.
        """
        done = []
        with deferred_signals() as signals:
            locks = [_try_lock(parent, blocking=True) for parent in sorted(self.folders)]
            try:
                try:
                    for final, staged in self.staged.items():
                        backup, moved_aside = self._set_aside(final, staged)
                        done.append((final, backup, moved_aside, False))
                        os.replace(staged, final)
                        done[-1] = (final, backup, moved_aside, True)
                except BaseException:
                    self._roll_back(done)
                    raise
                if signals.pending:
                    self._roll_back(done)
                    interrupted = True
                else:
                    interrupted = False
            finally:
                for fd in locks:
                    if fd is not None:
                        os.close(fd)
        if interrupted:  # the earlier handler did not raise: still, nothing was committed
            raise KeyboardInterrupt
        logger.info("Wrote %s.", ", ".join(str(p) for p in self.finals))

    def __exit__(self, exc_type, exc, tb):
        # A second Ctrl-C must not cut the clean-up short and leave a staging folder.
        with deferred_signals():
            if not self._keep:
                for folder in self.folders.values():
                    shutil.rmtree(folder, ignore_errors=True)
            for fd in self._locks:
                os.close(fd)
            self._locks = []
        return False
