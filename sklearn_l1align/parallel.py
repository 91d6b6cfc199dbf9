"""Align several language pairs in parallel through joblib, locally or on a cluster."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone

from ._base import pairs_fit_parameter as _pairs_parameter

logger = logging.getLogger(__name__)

__all__ = ["align_many"]

_TASK_KEYS = ("X_src", "X_tgt", "pairs")


def _unpack_task(task, position):
    """Return ``(X_src, X_tgt, pairs)`` of one task, or raise naming its position."""
    if isinstance(task, Mapping):
        unknown = sorted(set(task) - set(_TASK_KEYS), key=str)
        missing = [key for key in _TASK_KEYS[:2] if key not in task]
        if unknown or missing:
            raise ValueError(
                f"Task {position} must be a mapping with keys 'X_src', 'X_tgt' and optionally "
                f"'pairs'. Got keys {sorted(map(str, task))} instead."
            )
        return task["X_src"], task["X_tgt"], task.get("pairs")
    if isinstance(task, (tuple, list)) and len(task) in (2, 3):
        return task[0], task[1], task[2] if len(task) == 3 else None
    described = f"a {type(task).__name__} of length {len(task)}" if isinstance(task, (tuple, list)) \
        else f"an object of type {type(task).__name__}"
    raise ValueError(
        f"Task {position} must be (X_src, X_tgt), (X_src, X_tgt, pairs) or a mapping with "
        f"those keys. Got {described} instead."
    )


def _check_shapes(X_src, X_tgt, position):
    """Fail in the caller's process, before any worker starts, on tasks that cannot fit."""
    shapes = []
    for name, X in (("X_src", X_src), ("X_tgt", X_tgt)):
        shape = getattr(X, "shape", None)
        if shape is None and isinstance(X, (list, tuple)):
            try:
                shape = np.shape(X)
            except ValueError:  # ragged nested lists
                shape = None
        if shape is None or len(shape) != 2:
            raise ValueError(
                f"Task {position}: {name} must be a 2-D array of shape (n_words, n_dims). "
                f"Got {'an object without a shape' if shape is None else f'shape {tuple(shape)}'} "
                "instead."
            )
        shapes.append(tuple(shape))
    if shapes[0][1] != shapes[1][1]:
        raise ValueError(
            f"Task {position}: X_src and X_tgt must have the same number of features (embedding "
            f"dimension). Got shapes {shapes[0]} and {shapes[1]} instead."
        )


def _fit_one(estimator, X_src, X_tgt, pairs, parameter):
    fit_params = {} if pairs is None else {parameter: pairs}
    return estimator.fit(X_src, X_tgt, **fit_params)


def align_many(tasks: Iterable[Sequence[Any] | Mapping[str, Any]], estimator: Any, *,
               n_jobs: int | None = None, backend: str | None = None,
               verbose: int = 0) -> list[Any]:
    """Fit a clone of ``estimator`` on each of several language pairs, in parallel.

    Each task is fitted by a fresh :func:`sklearn.base.clone` of ``estimator`` in a
    joblib worker; the fitted clones come back in task order. ``estimator`` itself is
    not fitted.

    Parameters
    ----------
    tasks : iterable of tuple or mapping
        One entry per language pair: ``(X_src, X_tgt)``, ``(X_src, X_tgt, pairs)``, or a
        mapping with the keys ``"X_src"``, ``"X_tgt"`` and optionally ``"pairs"``.
        ``X_src`` and ``X_tgt`` are 2-D arrays of the same dimension; ``pairs`` (None
        allowed) is an ``(n_pairs, 2)`` integer array of (source row, target row) seed
        pairs, passed to ``fit`` as ``pairs=``; for a
        :class:`~sklearn.pipeline.Pipeline`, to the first step whose ``fit`` accepts
        ``pairs`` (as ``<step>__pairs``).
    estimator : estimator or Pipeline
        The aligner to clone, e.g. :class:`~sklearn_l1align.L1ProcrustesAligner` or a
        Pipeline ending in one.
    n_jobs : int or None, default=None
        Number of parallel workers, as in scikit-learn: None means 1 unless inside a
        :func:`joblib.parallel_backend` context; -1 means all CPUs.
    backend : str or None, default=None
        The joblib backend: None for the default (``"loky"`` processes, or the one set by
        an enclosing :func:`joblib.parallel_backend`), ``"threading"``, ``"dask"``,
        ``"ray"``, ...
    verbose : int, default=0
        Level of joblib's progress messages (0 silent).

    Returns
    -------
    estimators : list of estimator
        The fitted clones, ``estimators[i]`` fitted on ``tasks[i]``.

    Raises
    ------
    ValueError
        If a task is not a 2- or 3-tuple or a mapping with those keys, if its arrays are
        not 2-D or differ in dimension (checked before any work starts, naming the
        task), or if pairs are given but no step of ``estimator`` accepts ``pairs``.
        Errors inside a fit (e.g. NaN input) are raised as the estimator raises them.

    See Also
    --------
    sklearn_l1align.gensim.align : One language pair, with gensim KeyedVectors.

    Notes
    -----
    **Scaling out.** joblib runs the tasks wherever its backend sends them:

    * On one machine the default ``loky`` backend starts worker processes
      (``n_jobs=-1``: one per CPU) and caps each worker's BLAS threads at
      ``cpu_count() // n_jobs``, so that workers and BLAS threads do not oversubscribe
      the CPUs. On Dask or Ray workers, set ``OMP_NUM_THREADS`` yourself.
    * On a Dask cluster (``pip install "sklearn-l1align[distributed]"``)::

          import joblib
          from dask.distributed import Client
          client = Client("scheduler:8786")  # registers the "dask" joblib backend
          with joblib.parallel_backend("dask"):
              fitted = align_many(tasks, L1ProcrustesAligner(), n_jobs=-1)

    * On a Ray cluster::

          import joblib
          from ray.util.joblib import register_ray
          register_ray()
          with joblib.parallel_backend("ray"):
              fitted = align_many(tasks, L1ProcrustesAligner(), n_jobs=-1)

    The same backends parallelise scikit-learn's own searches: a
    ``GridSearchCV(aligner, param_grid, n_jobs=-1)`` over solver or dictionary
    settings runs its fits on loky workers locally, and on the cluster inside the
    ``parallel_backend`` block above. The arrays of each task are sent to its worker,
    so on a cluster pass arrays (not file paths the workers cannot see).

    Each fit is deterministic (no randomness; ties broken by index), so results do
    not depend on the backend or ``n_jobs``; with several BLAS threads the last bits
    of floating-point sums may differ between runs.

    Examples
    --------
    >>> import numpy as np
    >>> from scipy.stats import special_ortho_group
    >>> from sklearn_l1align import ProcrustesAligner
    >>> from sklearn_l1align.parallel import align_many
    >>> rng = np.random.default_rng(0)
    >>> tasks = []
    >>> for seed in range(3):  # three "language pairs", each a rotated copy
    ...     X = rng.normal(size=(50, 4))
    ...     tasks.append((X, X @ special_ortho_group.rvs(4, random_state=seed)))
    >>> fitted = align_many(tasks, ProcrustesAligner(), n_jobs=2)
    >>> [f.rotation_.shape for f in fitted]
    [(4, 4), (4, 4), (4, 4)]
    >>> bool(np.allclose(tasks[1][0] @ fitted[1].rotation_, tasks[1][1]))
    True
    """
    unpacked = []
    for position, task in enumerate(tasks):
        X_src, X_tgt, pairs = _unpack_task(task, position)
        _check_shapes(X_src, X_tgt, position)
        unpacked.append((X_src, X_tgt, pairs))
    parameter = None
    if any(pairs is not None for _, _, pairs in unpacked):
        parameter = _pairs_parameter(estimator)
        if parameter is None:
            raise ValueError(
                "Tasks with pairs need an estimator whose fit accepts pairs (an aligner such "
                "as ProcrustesAligner, or a Pipeline holding one). Got "
                f"{type(estimator).__name__}, which has none, instead."
            )
    logger.info("Aligning %d language pairs with %s (n_jobs=%s, backend=%s).", len(unpacked),
                type(estimator).__name__, n_jobs, backend)
    parallel = Parallel(n_jobs=n_jobs, backend=backend, verbose=verbose)
    return parallel(
        delayed(_fit_one)(clone(estimator), X_src, X_tgt, pairs, parameter)
        for X_src, X_tgt, pairs in unpacked
    )
