"""Fitted mappings: a pickle-free ``.npz`` holding an orthogonal matrix and JSON metadata.

:func:`save_mapping` writes it atomically; :func:`load_mapping` reads it with bounds
that make it safe for untrusted files: nothing is unpickled, and every declared size
(the rotation's shape, the metadata's length and nesting) is checked against a
documented limit before anything is read, decompressed or parsed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import zipfile
import zlib
from numbers import Integral, Real
from typing import TYPE_CHECKING, Any

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params

from ._atomic import atomic_save_npz

if TYPE_CHECKING:
    from numpy.typing import ArrayLike, NDArray


__all__ = [
    "MAX_MAPPING_DIM",
    "MAX_METADATA_BYTES",
    "MAX_METADATA_DEPTH",
    "load_mapping",
    "save_mapping",
]

logger = logging.getLogger(__name__)

_MAPPING_FORMAT = "sklearn_l1align.mapping"
_MAPPING_VERSION = 1
_MAPPING_KEYS = frozenset({"format", "format_version", "rotation", "metadata"})
_DEFAULT_ORTHO_TOL = 1e-4
#: The largest rotation ``load_mapping`` reads by default: 4096 x 4096 (128 MiB as float64).
MAX_MAPPING_DIM = 4096
#: The largest metadata string ``load_mapping`` parses: 1 MiB of UTF-32 (NumPy's str dtype).
MAX_METADATA_BYTES = 1 << 20
#: The deepest nesting of lists and objects accepted in the metadata.
MAX_METADATA_DEPTH = 32
# The largest format name or version entry read (they hold a short string and an int).
_MAX_SCALAR_BYTES = 1024
# The largest .npy header NumPy itself accepts before it parses one.
_MAX_HEADER_BYTES = 10_000
_JSON_STRING = re.compile(r'"(?:[^"\\]|\\.)*"')


def _check_rotation(rotation, ortho_tol, where):
    """Validate an orthogonal matrix; ``where`` names its origin in messages."""
    if rotation.dtype.kind != "f":
        raise ValueError(
            f"{where}: the rotation must be a floating-point array. Got dtype "
            f"{rotation.dtype} instead."
        )
    if rotation.ndim != 2 or rotation.shape[0] != rotation.shape[1] or rotation.shape[0] == 0:
        raise ValueError(
            f"{where}: the rotation must be a non-empty square 2-D array. Got "
            f"shape {rotation.shape} instead."
        )
    if not np.isfinite(rotation).all():
        raise ValueError(f"{where}: the rotation must be finite. Got NaN or infinity instead.")
    m = rotation.astype(np.float64, copy=False)
    deviation = float(np.max(np.abs(m.T @ m - np.eye(m.shape[0]))))
    if deviation > ortho_tol:
        raise ValueError(
            f"{where}: the rotation must be orthogonal, max|M^T M - I| <= {ortho_tol:g}. "
            f"Got {deviation:.3g} instead."
        )


@validate_params(
    {"path": [str, os.PathLike], "rotation": ["array-like"], "metadata": [dict, None]},
    prefer_skip_nested_validation=True,
)
def save_mapping(path: str | os.PathLike, rotation: ArrayLike, *,
                 metadata: dict[str, Any] | None = None) -> None:
    """Save an orthogonal mapping to a pickle-free ``.npz`` file, atomically.

    Parameters
    ----------
    path : str or os.PathLike
        Destination; ``.npz`` is the conventional extension (none is added).
        The folder must exist.
    rotation : array-like of shape (dim, dim)
        An orthogonal matrix: ``max|MᵀM − I| <= 1e-4``.
    metadata : dict or None, default=None
        JSON-serialisable information kept with the matrix (languages,
        parameters, scores). Stored as a JSON string.

    Raises
    ------
    ValueError
        If ``rotation`` is not a finite, square, orthogonal real matrix.
    TypeError
        If ``metadata`` is not a dict or not JSON-serialisable.
    FileNotFoundError
        If the folder of ``path`` does not exist; nothing is written.

    See Also
    --------
    load_mapping : The inverse operation.

    Notes
    -----
    The archive holds plain arrays only: the matrix, a format name, a format
    version and the metadata as a unicode string. Unlike pickle or joblib
    files, which can run arbitrary code when loaded (never load one from an
    untrusted source), this format is read with ``allow_pickle=False`` and
    cannot execute anything.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import load_mapping, save_mapping
    >>> path = os.path.join(tempfile.mkdtemp(), "fr-ru.npz")
    >>> rotation = np.array([[0.0, -1.0], [1.0, 0.0]])
    >>> save_mapping(path, rotation, metadata={"src_lang": "fr", "tgt_lang": "ru"})
    >>> loaded, metadata = load_mapping(path)
    >>> bool(np.array_equal(loaded, rotation)), metadata
    (True, {'src_lang': 'fr', 'tgt_lang': 'ru'})
    """
    rotation = np.asarray(rotation)
    if rotation.dtype.kind in "iub":
        rotation = rotation.astype(np.float64)
    _check_rotation(rotation, _DEFAULT_ORTHO_TOL, "save_mapping")
    if metadata is None:
        metadata = {}
    if not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict or None. Got {type(metadata).__name__} instead.")
    try:
        metadata_json = json.dumps(metadata, allow_nan=False, sort_keys=True, ensure_ascii=False)
    except (TypeError, ValueError) as exc:
        raise TypeError(
            f"metadata must be JSON-serialisable (no NaN). Got a value that is not ({exc}) instead."
        ) from None
    atomic_save_npz(
        path,
        {
            "format": np.str_(_MAPPING_FORMAT),
            "format_version": np.int64(_MAPPING_VERSION),
            "rotation": rotation,
            "metadata": np.str_(metadata_json),
        },
    )
    logger.info("Saved a %d x %d mapping to %s.", *rotation.shape, os.fspath(path))


@validate_params(
    {
        "path": [str, os.PathLike],
        "ortho_tol": [Interval(Real, 0, None, closed="left")],
        "max_dim": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def load_mapping(path: str | os.PathLike, *, ortho_tol: float = _DEFAULT_ORTHO_TOL,
                 max_dim: int = MAX_MAPPING_DIM) -> tuple[NDArray[np.float64], dict[str, Any]]:
    """Load an orthogonal mapping saved by :func:`save_mapping`.

    Parameters
    ----------
    path : str or os.PathLike
        The ``.npz`` file.
    ortho_tol : float, default=1e-4
        Largest accepted ``max|MᵀM − I|``.
    max_dim : int, default=4096
        Largest accepted dimension of the rotation (:data:`MAX_MAPPING_DIM`). The
        shape is read from the archive's own header before any data, so a file that
        declares a huge array is refused at once, without reading or decompressing it.

    Returns
    -------
    rotation : ndarray of shape (dim, dim)
        The orthogonal matrix, in the floating dtype it was saved with.
    metadata : dict
        The metadata saved with it (empty if none).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file is not such an archive: not an ``.npz`` (or truncated or
        corrupt), missing or extra entries, another format or a newer version,
        pickled (object) arrays, a rotation larger than ``max_dim`` or that is not
        a finite, square, orthogonal float matrix, or metadata larger than
        :data:`MAX_METADATA_BYTES` or nested deeper than
        :data:`MAX_METADATA_DEPTH`. The message names the file and what was wrong.

    See Also
    --------
    save_mapping : The inverse operation.

    Notes
    -----
    Loading is bounded, so that a file from an untrusted source can neither run
    code nor exhaust memory or the stack: each entry's ``.npy`` header is read and
    checked first (dtype, shape, declared size), arrays are read with
    ``allow_pickle=False`` (an archive holding pickled objects is refused, never
    unpickled), and the metadata's size and nesting are checked before the JSON is
    parsed.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from sklearn_l1align.io import load_mapping, save_mapping
    >>> path = os.path.join(tempfile.mkdtemp(), "identity.npz")
    >>> save_mapping(path, np.eye(3))
    >>> rotation, metadata = load_mapping(path)
    >>> rotation.shape, metadata
    ((3, 3), {})
    """
    path_str = os.fspath(path)
    if not os.path.exists(path_str):
        raise FileNotFoundError(f"No such file: '{path_str}'.")
    where = f"{path_str} is not a mapping saved by save_mapping"
    try:
        with zipfile.ZipFile(path_str) as archive:
            arrays = _read_entries(archive, where, int(max_dim))
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError, NotImplementedError,
            RuntimeError) as exc:  # RuntimeError: an encrypted entry; NotImplementedError: its compression
        if isinstance(exc, (FileNotFoundError, PermissionError, IsADirectoryError)):
            raise
        raise ValueError(
            f"{where}: expected a complete pickle-free .npz (zip) archive. Got a truncated "
            f"or corrupt file, or another format such as a pickle or a .npy ({exc}), "
            "instead."
        ) from None
    fmt, version = arrays["format"], arrays["format_version"]
    if fmt.shape != () or fmt.dtype.kind != "U" or str(fmt) != _MAPPING_FORMAT:
        raise ValueError(f"{where}: expected format {_MAPPING_FORMAT!r}. Got {fmt!r} instead.")
    if version.shape != () or version.dtype.kind not in "iu":
        raise ValueError(f"{where}: expected an integer format_version. Got {version!r} instead.")
    if int(version) > _MAPPING_VERSION:
        raise ValueError(
            f"{path_str}: this release of sklearn_l1align reads mapping format "
            f"version {_MAPPING_VERSION} or older. Got version {int(version)} "
            "instead; upgrade sklearn_l1align to load it."
        )
    metadata = _parse_metadata(arrays["metadata"], where)
    rotation = arrays["rotation"]
    _check_rotation(rotation, ortho_tol, f"{path_str}")
    logger.info("Loaded a %d x %d mapping from %s.", *rotation.shape, path_str)
    return rotation, metadata


def _declared(entry, where, key):
    """The dtype and shape an ``.npy`` entry declares, read from its header alone."""
    try:
        version = np.lib.format.read_magic(entry)
        if version == (1, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_1_0(
                entry, max_header_size=_MAX_HEADER_BYTES)
        elif version == (2, 0):
            shape, fortran, dtype = np.lib.format.read_array_header_2_0(
                entry, max_header_size=_MAX_HEADER_BYTES)
        else:
            raise ValueError(f"version {version}, where 1.0 or 2.0 is expected")
    except ValueError as exc:
        raise ValueError(
            f"{where}: each entry must start with a valid .npy header. Got an unreadable "
            f"header in the entry {key!r} ({exc}) instead."
        ) from None
    return dtype, shape, fortran


def _check_declared(key, dtype, shape, where, max_dim):
    """Refuse, before reading it, an entry of the wrong kind or too large."""
    if dtype.hasobject:
        raise ValueError(
            f"{where}: its arrays must load without pickle. Got the entry {key!r} with "
            f"dtype {dtype}, which needs pickle, instead."
        )
    if key == "rotation":
        if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
            raise ValueError(
                f"{where}: the rotation must be a non-empty square 2-D array. Got "
                f"shape {shape} instead."
            )
        if shape[0] > max_dim:
            raise ValueError(
                f"{where}: the rotation must be at most {max_dim} x {max_dim} "
                f"(max_dim). Got a declared shape {shape} instead (pass a larger "
                "max_dim to load it)."
            )
        if dtype.kind != "f" or dtype.itemsize > 8:
            raise ValueError(
                f"{where}: the rotation must be a floating-point array. Got dtype "
                f"{dtype} instead."
            )
    else:
        if shape != ():
            raise ValueError(
                f"{where}: the entry {key!r} must be a scalar. Got shape {shape} instead."
            )
        limit = MAX_METADATA_BYTES if key == "metadata" else _MAX_SCALAR_BYTES
        if dtype.itemsize > limit:
            raise ValueError(
                f"{where}: the {key} must be at most {limit} bytes. Got a declared "
                f"{dtype.itemsize} bytes instead."
            )


def _read_entries(archive, where, max_dim):
    names = {info.filename: info for info in archive.infolist()}
    keys = {name[: -len(".npy")] if name.endswith(".npy") else name for name in names}
    if keys != _MAPPING_KEYS:
        raise ValueError(
            f"{where}: expected the keys {sorted(_MAPPING_KEYS)}. Got {sorted(keys)} instead."
        )
    arrays = {}
    for key in sorted(_MAPPING_KEYS):
        info = names.get(f"{key}.npy")
        if info is None:
            raise ValueError(f"{where}: expected the entry {key + '.npy'!r}. Got "
                             f"{sorted(names)} instead.")
        with archive.open(info) as entry:
            dtype, shape, fortran = _declared(entry, where, key)
            _check_declared(key, dtype, shape, where, max_dim)
            n_bytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            data = entry.read(n_bytes) if n_bytes <= info.file_size else b""
            if len(data) != n_bytes:
                raise ValueError(
                    f"{where}: the entry {key!r} declares {n_bytes} bytes of data. Got "
                    f"{len(data)} bytes, a truncated or corrupt file, instead."
                )
            array = np.frombuffer(data, dtype=dtype).reshape(shape, order="F" if fortran else "C")
            arrays[key] = array.copy()
    return arrays


def _nesting_depth(text):
    """The deepest nesting of ``[`` and ``{`` in JSON ``text``, outside its strings."""
    depth = deepest = 0
    for char in _JSON_STRING.sub("", text):
        if char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _parse_metadata(metadata_array, where):
    try:
        if metadata_array.shape != () or metadata_array.dtype.kind != "U":
            raise ValueError("not a unicode scalar")
        text = str(metadata_array)
        depth = _nesting_depth(text)
        if depth > MAX_METADATA_DEPTH:
            raise ValueError(f"nested {depth} deep, more than {MAX_METADATA_DEPTH}")
        metadata = json.loads(text)
        if not isinstance(metadata, dict):
            raise ValueError("not a JSON object")
    except (ValueError, RecursionError) as exc:
        raise ValueError(
            f"{where}: the metadata must be a JSON object string. Got an unreadable "
            f"value ({exc}) instead."
        ) from None
    return metadata
