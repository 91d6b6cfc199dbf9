"""Pure mathematics of the objective ``||AM − B||_1`` and its smoothings.

The residual, the exact ℓ1 loss, the smoothed ``|x| ≈ x·tanh(αx)`` of Peng, Lin &
Stevenson (2021, Eq. 4) and its gradient (Eq. 5), the Huber function, soft-thresholding,
and an Armijo backtracking search along the Cayley curve of :mod:`._geometry`.
Pure NumPy: no scikit-learn, no state.

``A`` and ``B`` are the stacked source and target vectors of the dictionary pairs and
``M`` the (near-)orthogonal map. ``A`` may be float32: the solvers keep a float32 copy for
their large products (:func:`adjoint`, and the VODE right-hand side), while every loss is
summed in float64.
"""

import numpy as np

from ._geometry import cayley_step

__all__ = [
    "ARMIJO_MAX_BACKTRACKS",
    "SATURATION",
    "adjoint",
    "armijo_cayley_search",
    "huber_derivative",
    "huber_loss",
    "l1_loss",
    "l1_norm",
    "residual",
    "residual_scale",
    "smoothed_abs_derivative",
    "smoothed_gradient",
    "soft_threshold",
]

#: Above this |z|, tanh z + z sech² z equals sign(z) to double precision: 1 − tanh(20) ≈ 8.5e-18
#: and 20·sech²(20) ≈ 3.4e-16, so the formula is within 2 ulp (4.4e-16) of ±1 at |z| = 20 and
#: rounds to exactly ±1 from |z| ≈ 20.6 on.
SATURATION = 20.0

#: Default cap on the step reductions of :func:`armijo_cayley_search`. With the reduction
#: factor 0.2 of Wen & Yin (2013), 30 reductions shrink the step by 0.2³⁰ ≈ 1e-21: a step that
#: began at one radian then moves ``M`` by far less than the rounding of its entries (1e-16),
#: so a search that fails that far has met a point where no descent can be seen.
ARMIJO_MAX_BACKTRACKS = 30


def residual(A, M, B):
    """``AM − B``, the per-coordinate errors of the mapped dictionary pairs.

    Parameters
    ----------
    A, B : ndarray of shape (n, d)
    M : ndarray of shape (d, d)

    Returns
    -------
    R : ndarray of shape (n, d)
    """
    R = A @ M
    R -= B
    return R


def l1_norm(R):
    """``Σ|R|``, summed in float64 whatever ``R``'s dtype.

    Parameters
    ----------
    R : ndarray

    Returns
    -------
    total : float
    """
    return float(np.abs(R).sum(dtype=np.float64))


def l1_loss(A, M, B):
    """The exact ℓ1 loss ``||AM − B||_1`` (sum of absolute entries), the objective of Eq. 3.

    Parameters
    ----------
    A, B : ndarray of shape (n, d)
    M : ndarray of shape (d, d)

    Returns
    -------
    loss : float
    """
    return l1_norm(residual(A, M, B))


def adjoint(A, G):
    """``AᵀG`` computed in ``A``'s precision and returned in float64.

    The solvers pass a float32 copy of ``A`` so that this ``d × n × d`` product, the
    largest of an iteration, runs at float32 speed; ``G`` is cast to match.

    Parameters
    ----------
    A : ndarray of shape (n, d)
    G : ndarray of shape (n, d)

    Returns
    -------
    AtG : ndarray of shape (d, d), float64
    """
    return (A.T @ G.astype(A.dtype, copy=False)).astype(np.float64, copy=False)


def smoothed_abs_derivative(R, alpha):
    """``g = tanh Z + Z ⊙ sech² Z`` with ``Z = αR``: the derivative of x·tanh(αx) (Eq. 4–5).

    Computed without overflow or warnings: entries with ``|Z| > SATURATION`` are exactly
    ``sign(Z)`` to double precision, so only the few unsaturated entries are evaluated
    (with α = 1e8 these are the residuals smaller than 2e-7). ``cosh`` is only applied
    to ``|Z| <= 20``, where it cannot overflow.

    Parameters
    ----------
    R : ndarray
        Residuals ``AM − B``.
    alpha : float
        Smoothing sharpness α.

    Returns
    -------
    g : ndarray, same shape and dtype as ``R``
    """
    # C order, so that ``g.ravel()`` below is a view (for a Fortran-ordered or
    # transposed R, np.sign would return a Fortran-ordered g and ravel a copy).
    g = np.sign(R, order="C")
    limit = SATURATION / alpha
    # A boolean mask: np.flatnonzero on bools is ~10x faster than on a float array.
    small = np.flatnonzero(np.abs(R) <= limit)
    if small.size:
        # Evaluated in float64 whatever R's dtype, then stored back.
        z = alpha * R.ravel()[small].astype(np.float64)
        c = np.cosh(z)
        g.ravel()[small] = np.tanh(z) + z / (c * c)
    return g


def smoothed_gradient(A, M, B, alpha, R=None):
    """Euclidean gradient of the smoothed loss, ``∇ = Aᵀ(tanh Z + Z ⊙ sech² Z)`` (Eq. 5).

    Since d/dx [x·tanh(αx)] = tanh(αx) + αx·sech²(αx), this is the exact gradient of the
    smoothed loss ``Σ R ⊙ tanh(αR)`` with ``R = AM − B``.

    Parameters
    ----------
    A, B : ndarray of shape (n, d)
        Stacked source and target vectors; the product ``Aᵀg`` runs in ``A``'s dtype.
    M : ndarray of shape (d, d)
        Current map.
    alpha : float
        Smoothing sharpness α (1e8 in the paper).
    R : ndarray of shape (n, d), optional
        ``AM − B`` if already computed (in any precision).

    Returns
    -------
    grad : ndarray of shape (d, d), float64
    R : ndarray of shape (n, d)
        The residual used.
    """
    if R is None:
        R = residual(A, M, B)
    return adjoint(A, smoothed_abs_derivative(R, alpha)), R


def huber_loss(R, mu):
    """``Σ h_μ(R)``: ``r²/(2μ)`` where ``|r| <= μ``, ``|r| − μ/2`` beyond; summed in float64.

    Parameters
    ----------
    R : ndarray
        Residuals.
    mu : float
        Width μ > 0 of the quadratic zone.

    Returns
    -------
    value : float
    """
    a = np.abs(R)
    return float(np.where(a <= mu, 0.5 * R * R / mu, a - 0.5 * mu).sum(dtype=np.float64))


def huber_derivative(R, mu):
    """``h_μ'(R) = clip(R/μ, −1, 1)``, elementwise.

    Parameters
    ----------
    R : ndarray
    mu : float

    Returns
    -------
    g : ndarray, same shape as ``R``
    """
    return np.clip(R / mu, -1.0, 1.0)


def soft_threshold(V, threshold):
    """The proximal map of ``threshold·||·||_1``: ``sign(V)·max(|V| − threshold, 0)``.

    Parameters
    ----------
    V : ndarray
    threshold : float
        Non-negative.

    Returns
    -------
    Z : ndarray, same shape as ``V``
    """
    return np.sign(V) * np.maximum(np.abs(V) - threshold, 0.0)


def residual_scale(R):
    """``median|R|``, or the median of the nonzero ``|R|`` when more than half are exactly 0.

    Used to size a Huber width or an ADMM penalty; it is 0 only when ``R == 0``.

    Parameters
    ----------
    R : ndarray

    Returns
    -------
    scale : float
    """
    a = np.abs(R)
    scale = float(np.median(a))
    if scale == 0.0:
        nonzero = a[a > 0]
        scale = float(np.median(nonzero)) if nonzero.size else 0.0
    return scale


def armijo_cayley_search(M, Omega, tau, value, reference, slope, *, sufficient=1e-4, shrink=0.2,
                         max_backtracks=ARMIJO_MAX_BACKTRACKS):
    """Backtrack along the Cayley curve ``M(τ) = cayley_step(M, Ω, τ)`` to sufficient decrease.

    Tries ``τ, shrink·τ, shrink²·τ, …`` and accepts the first with
    ``f(M(τ)) <= reference − sufficient·τ·slope`` (Armijo; with a nonmonotone
    ``reference`` as Zhang & Hager 2004). For the Cayley curve, ``d/dτ f(M(τ))`` at 0 is
    ``−||Ω||_F²`` when ``Ω = skew(Mᵀ∇f)``, so ``slope = ||Ω||_F²``.

    Parameters
    ----------
    M : ndarray of shape (d, d)
        Current orthogonal point.
    Omega : ndarray of shape (d, d)
        Skew-symmetric descent generator.
    tau : float
        First step tried.
    value : callable
        ``value(M_new) -> (f, aux)``: the objective at a trial point and anything the
        caller wants back from it (e.g. the residual).
    reference : float
        The value to decrease from (``f(M)``, or a nonmonotone average of past values).
    slope : float
        ``−d/dτ f(M(τ))`` at ``τ = 0`` (``||Ω||_F²``).
    sufficient : float, default=1e-4
        Armijo constant (Wen & Yin 2013).
    shrink : float, default=0.2
        Step reduction factor per backtrack (Wen & Yin 2013).
    max_backtracks : int, default=ARMIJO_MAX_BACKTRACKS
        Trials before giving up (see :data:`ARMIJO_MAX_BACKTRACKS`).

    Returns
    -------
    accepted : tuple or None
        ``(tau, M_new, f_new, aux)`` for the accepted step, or None when no trial among
        ``max_backtracks`` gave sufficient decrease.
    """
    for _ in range(max_backtracks):
        M_new = cayley_step(M, Omega, tau)
        f_new, aux = value(M_new)
        if f_new <= reference - sufficient * tau * slope:
            return tau, M_new, f_new, aux
        tau *= shrink
    return None
