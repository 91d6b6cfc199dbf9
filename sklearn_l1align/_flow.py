"""The mathematics of the ℓ1 Stiefel flow (Peng, Lin & Stevenson 2021, Eqs. 4–7).

Pure NumPy: no scikit-learn, no state. ``A`` and ``B`` are the stacked source and
target vectors of the dictionary pairs, ``M`` the (near-)orthogonal map.
"""

import numpy as np

__all__ = [
    "SATURATION",
    "cayley_step",
    "l1_loss",
    "residual",
    "skew",
    "smoothed_abs_derivative",
    "smoothed_gradient",
    "tangent_projection",
]

#: Above this |z|, tanh z + z sech² z equals sign(z) to double precision: 1 − tanh(20) ≈ 8.5e-18
#: and 20·sech²(20) ≈ 3.4e-16, so the formula is within 2 ulp (4.4e-16) of ±1 at |z| = 20 and
#: rounds to exactly ±1 from |z| ≈ 20.6 on.
SATURATION = 20.0


def residual(A, M, B):
    """``AM − B``, the per-coordinate errors of the mapped dictionary pairs."""
    R = A @ M
    R -= B
    return R


def l1_loss(A, M, B):
    """The exact ℓ1 loss ``||AM − B||_1`` (sum of absolute entries), the objective of Eq. 3."""
    return float(np.abs(residual(A, M, B)).sum())


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
    g : ndarray, same shape as ``R``
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
        Stacked source and target vectors.
    M : ndarray of shape (d, d)
        Current map.
    alpha : float
        Smoothing sharpness α (1e8 in the paper).
    R : ndarray of shape (n, d), optional
        ``AM − B`` if already computed.

    Returns
    -------
    grad : ndarray of shape (d, d)
    R : ndarray of shape (n, d)
        The residual used.
    """
    if R is None:
        R = residual(A, M, B)
    return A.T @ smoothed_abs_derivative(R, alpha), R


def skew(X):
    """Skew-symmetric part ``(X − Xᵀ)/2``."""
    return 0.5 * (X - X.T)


def tangent_projection(M, G):
    """Project ``G`` onto the tangent space of the orthogonal manifold at ``M`` (Eq. 6).

    ``π(G) = ½M(MᵀG − GᵀM) + (I − MMᵀ)G``. The second term vanishes when ``M`` is
    exactly orthogonal; it is kept so that a VODE trajectory that drifts off the
    manifold is integrated as the published code integrates it.
    """
    # ½M(MᵀG − GᵀM) + G − MMᵀG = G − M·sym(MᵀG), sym(X) = (X + Xᵀ)/2: the same matrix with
    # two d×d×d products instead of three.
    MtG = M.T @ G
    sym = MtG + MtG.T
    sym *= 0.5
    return G - M @ sym


def cayley_step(M, Omega, h):
    """One Cayley (Lie–Euler) step of ``dM/dt = −MΩ``: ``M (I + hΩ/2)⁻¹ (I − hΩ/2)``.

    For skew ``Ω`` the Cayley transform is orthogonal, so an orthogonal ``M`` stays
    orthogonal to rounding error however many steps are taken.

    Parameters
    ----------
    M : ndarray of shape (d, d)
        Current orthogonal map.
    Omega : ndarray of shape (d, d)
        Skew-symmetric generator, ``skew(Mᵀ∇)``.
    h : float
        Step in flow time.

    Returns
    -------
    M_next : ndarray of shape (d, d)
    """
    d = M.shape[0]
    half = (0.5 * h) * Omega
    eye = np.eye(d)
    Q = np.linalg.solve(eye + half, eye - half)
    return M @ Q
