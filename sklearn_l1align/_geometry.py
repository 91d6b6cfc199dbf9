"""Pure mathematics of the orthogonal group O(d), where the ℓ1 problem lives.

Skew parts, the tangent projection of Peng, Lin & Stevenson (2021, Eq. 6), the Cayley
retraction, the polar (nearest orthogonal) factor and the orthogonality measure of Eq. 8.
Pure NumPy: no scikit-learn, no state, no thread control (the callers hold the BLAS
threads, around whole loops).
"""

import numpy as np

__all__ = ["cayley_step", "orthogonality_error", "polar", "skew", "tangent_projection"]


def skew(X):
    """Skew-symmetric part ``(X − Xᵀ)/2``.

    Parameters
    ----------
    X : ndarray of shape (d, d)

    Returns
    -------
    S : ndarray of shape (d, d)
        ``S = −Sᵀ``.
    """
    return 0.5 * (X - X.T)


def tangent_projection(M, G):
    """Project ``G`` onto the tangent space of the orthogonal manifold at ``M`` (Eq. 6).

    ``π(G) = ½M(MᵀG − GᵀM) + (I − MMᵀ)G``. The second term vanishes when ``M`` is
    exactly orthogonal; it is kept so that a VODE trajectory that drifts off the
    manifold is integrated as the published code integrates it.

    Parameters
    ----------
    M : ndarray of shape (d, d)
        The current (near-)orthogonal map.
    G : ndarray of shape (d, d)
        A Euclidean gradient.

    Returns
    -------
    P : ndarray of shape (d, d)
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
        Step in flow time (or, for the minimisers, the step length τ).

    Returns
    -------
    M_next : ndarray of shape (d, d)
    """
    d = M.shape[0]
    half = (0.5 * h) * Omega
    eye = np.eye(d)
    Q = np.linalg.solve(eye + half, eye - half)
    return M @ Q


def polar(X):
    """The orthogonal polar factor of ``X``: ``U Vᵀ`` from ``X = U Σ Vᵀ``.

    It is the orthogonal matrix nearest to ``X`` in the Frobenius norm, and the maximiser
    of ``tr(MᵀX)`` over orthogonal ``M``: with ``X = AᵀB`` it solves the orthogonal
    Procrustes problem ``min ||AM − B||_F``.

    Parameters
    ----------
    X : array-like of shape (d, d)

    Returns
    -------
    M : ndarray of shape (d, d), float64
    """
    U, _, Vt = np.linalg.svd(np.asarray(X, dtype=np.float64))
    return U @ Vt


def orthogonality_error(M):
    """``max|MᵀM − I|``, the paper's orthogonality measure (Eq. 8).

    Parameters
    ----------
    M : array-like of shape (d, d)

    Returns
    -------
    error : float
        0.0 for an empty matrix.
    """
    M = np.asarray(M, dtype=np.float64)
    G = M.T @ M
    G[np.diag_indices_from(G)] -= 1.0
    return float(np.max(np.abs(G))) if G.size else 0.0
