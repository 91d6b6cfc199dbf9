"""Tests of ``_flow``: the ℓ1 loss, the smoothed gradient (Eq. 5), the projection (Eq. 6), Cayley steps."""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import expm

from sklearn_l1align._flow import (
    SATURATION,
    cayley_step,
    l1_loss,
    residual,
    skew,
    smoothed_abs_derivative,
    smoothed_gradient,
    tangent_projection,
)
from sklearn_l1align._validation import orthogonality_error


def _direct_derivative(Z):
    """tanh Z + Z sech² Z written out; ``Z / cosh / cosh`` only overflows beyond |Z| ≈ 710."""
    c = np.cosh(Z)
    return np.tanh(Z) + Z / c / c


def _random_orthogonal(d, seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(d, d)))
    return q * np.sign(np.diag(r))


def _random_skew(d, seed, norm=1.0):
    W = np.random.default_rng(seed).normal(size=(d, d))
    S = W - W.T
    return norm * S / np.linalg.norm(S)


# ------------------------------------------------------------------ smoothed derivative
@pytest.mark.parametrize("alpha", [1.0, 3.0, 1e8])
def test_smoothed_abs_derivative_equals_direct_formula(alpha):
    # Z = αR spread over (−700, 700): both sides of the saturation cut, and the cut itself.
    Z = np.concatenate([
        np.linspace(-699.0, 699.0, 20001),
        np.array([0.0, SATURATION, -SATURATION, np.nextafter(SATURATION, 0), np.nextafter(SATURATION, 99)]),
        np.random.default_rng(0).normal(scale=5.0, size=5000),
    ])
    R = Z / alpha
    g = smoothed_abs_derivative(R, alpha)
    assert g.shape == R.shape and g.dtype == np.float64
    assert_allclose(g, _direct_derivative(alpha * R), rtol=0, atol=1e-15)


def test_smoothed_abs_derivative_is_sign_when_saturated():
    Z = np.concatenate([np.linspace(20.0 + 1e-9, 700.0, 5000), [1e3, 1e10, 1e300, np.inf]])
    Z = np.concatenate([Z, -Z])
    g = smoothed_abs_derivative(Z, 1.0)
    assert_array_equal(g, np.sign(Z))
    # The cut is harmless: there the exact formula is within 2 ulp of sign(Z)
    # (4.4e-16 at |Z| = 20, exactly ±1 from |Z| ≈ 20.6 on).
    finite = np.abs(Z) < 700
    assert np.max(np.abs(_direct_derivative(Z[finite]) - np.sign(Z[finite]))) <= 4.5e-16


def test_smoothed_abs_derivative_small_entries_and_zero():
    R = np.array([[0.0, 1e-9, -1e-9], [2e-7, -2e-7, 3e-7]])
    g = smoothed_abs_derivative(R, 1e8)
    assert g[0, 0] == 0.0
    # g is odd and, for tiny Z, ≈ 2Z.
    assert_allclose(g[0, 1], 2 * 0.1, rtol=1e-2)
    assert g[0, 2] == -g[0, 1]
    assert_allclose(g[1, :2], _direct_derivative(1e8 * R[1, :2]), atol=1e-15)
    assert g[1, 2] == 1.0


@pytest.mark.parametrize(
    "R, alpha",
    [
        (np.array([1e300, -1e300, 1e-300, 0.0, 5.0]), 1.0),     # |Z| up to 1e300
        (np.array([1e300, -1e300, 1e-300, 0.0, 5.0]), 1e8),     # αR would overflow
        (np.array([1e-300, -1e-310, 1e-7, 0.0]), 1e8),          # subnormals, unsaturated
        (np.array([np.inf, -np.inf, 1.0]), 1e8),
    ],
)
def test_smoothed_abs_derivative_is_warning_free(R, alpha):
    filters_before = list(warnings.filters)
    err_before = np.geterr()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        with np.errstate(all="raise"):
            g = smoothed_abs_derivative(R, alpha)
            smoothed_gradient(np.ones((len(R), 1)), np.ones((1, 1)), -R[:, None] + 1.0, alpha)
    assert np.all(np.isfinite(g))
    assert np.all(np.abs(g) <= 1.2)
    # Nothing global is touched: no warning filter, no numpy error state.
    assert list(warnings.filters) == filters_before
    assert np.geterr() == err_before


def test_smoothed_abs_derivative_float32_input():
    rng = np.random.default_rng(1)
    R = (rng.normal(size=(50, 7)) * 1e-7).astype(np.float32)
    g = smoothed_abs_derivative(R, 1e8)
    assert g.dtype == np.float32
    assert_allclose(g, _direct_derivative(1e8 * R.astype(np.float64)), rtol=0, atol=1e-6)


@pytest.mark.parametrize("layout", ["fortran", "transposed", "strided"])
def test_smoothed_abs_derivative_any_memory_layout(layout):
    # The result must not depend on how R is laid out in memory.
    rng = np.random.default_rng(2)
    base = rng.normal(scale=0.3, size=(40, 12))
    R = {"fortran": np.asfortranarray(base), "transposed": base.T, "strided": base[::2, ::3]}[layout]
    g = smoothed_abs_derivative(R, 3.0)
    assert_allclose(g, _direct_derivative(3.0 * np.asarray(R)), rtol=0, atol=1e-15)
    assert_allclose(g, smoothed_abs_derivative(np.ascontiguousarray(R), 3.0), rtol=0, atol=0)


# --------------------------------------------------------------------- loss and gradient
def test_residual_and_l1_loss():
    rng = np.random.default_rng(3)
    A, B, M = rng.normal(size=(30, 4)), rng.normal(size=(30, 4)), rng.normal(size=(4, 4))
    assert_allclose(residual(A, M, B), A @ M - B, rtol=1e-14)
    assert l1_loss(A, M, B) == pytest.approx(np.sum(np.abs(A @ M - B)), rel=1e-14)
    assert l1_loss(A, np.eye(4), A) == 0.0
    assert isinstance(l1_loss(A, M, B), float)


@pytest.mark.parametrize("alpha", [1.0, 3.0])
def test_smoothed_gradient_matches_finite_differences(alpha):
    rng = np.random.default_rng(4)
    n, d = 40, 5
    A, B = rng.normal(size=(n, d)), rng.normal(size=(n, d))
    M = _random_orthogonal(d, 4)

    def smoothed_loss(M):
        R = A @ M - B
        return np.sum(R * np.tanh(alpha * R))

    G, R = smoothed_gradient(A, M, B, alpha)
    assert_allclose(R, A @ M - B, rtol=1e-14)
    eps = 1e-6
    fd = np.empty((d, d))
    for i in range(d):
        for j in range(d):
            E = np.zeros((d, d))
            E[i, j] = eps
            fd[i, j] = (smoothed_loss(M + E) - smoothed_loss(M - E)) / (2 * eps)
    assert_allclose(G, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())
    # A precomputed residual gives the same gradient.
    G2, R2 = smoothed_gradient(A, M, B, alpha, R=R)
    assert R2 is R
    assert_array_equal(G2, G)


def test_smoothed_gradient_large_alpha_is_subgradient():
    rng = np.random.default_rng(5)
    A, B = rng.normal(size=(60, 6)), rng.normal(size=(60, 6))
    M = _random_orthogonal(6, 5)
    G, R = smoothed_gradient(A, M, B, 1e8)
    assert_allclose(G, A.T @ np.sign(R), rtol=0, atol=1e-12)


# ---------------------------------------------------------------------------- projection
def test_skew():
    X = np.random.default_rng(6).normal(size=(5, 5))
    S = skew(X)
    assert_array_equal(S, -S.T)
    assert_allclose(S + 0.5 * (X + X.T), X, atol=1e-15)


@pytest.mark.parametrize("d", [3, 10, 30])
def test_tangent_projection_on_orthogonal_matrix(d):
    M = _random_orthogonal(d, d)
    G = np.random.default_rng(d + 1).normal(size=(d, d))
    P = tangent_projection(M, G)
    assert_allclose(P, M @ skew(M.T @ G), rtol=0, atol=1e-12)
    MtP = M.T @ P
    assert_allclose(MtP, -MtP.T, rtol=0, atol=1e-12)
    # Projecting twice changes nothing; the tangent part of a tangent vector is itself.
    assert_allclose(tangent_projection(M, P), P, rtol=0, atol=1e-12)
    S = _random_skew(d, d + 2)
    assert_allclose(tangent_projection(M, M @ S), M @ S, rtol=0, atol=1e-12)
    # A normal vector M·(symmetric) projects to zero.
    W = np.random.default_rng(d + 3).normal(size=(d, d))
    assert_allclose(tangent_projection(M, M @ (W + W.T)), 0.0, atol=1e-12)


def test_tangent_projection_off_manifold_is_eq6():
    # Off the manifold (as a drifting VODE trajectory is), the full Eq. 6 is applied.
    rng = np.random.default_rng(7)
    d = 6
    M = _random_orthogonal(d, 7) + 1e-3 * rng.normal(size=(d, d))
    G = rng.normal(size=(d, d))
    expected = 0.5 * M @ (M.T @ G - G.T @ M) + (np.eye(d) - M @ M.T) @ G
    assert_allclose(tangent_projection(M, G), expected, rtol=0, atol=1e-12)
    assert not np.allclose(tangent_projection(M, G), M @ skew(M.T @ G), atol=1e-6)


# --------------------------------------------------------------------------------- Cayley
def test_cayley_step_keeps_orthogonality_over_1000_steps():
    d = 20
    M = _random_orthogonal(d, 8)
    rng = np.random.default_rng(8)
    for i in range(1000):
        W = rng.normal(size=(d, d))
        M = cayley_step(M, skew(W), 0.05)
    assert orthogonality_error(M) <= 1e-12
    assert np.linalg.det(M) == pytest.approx(np.linalg.det(_random_orthogonal(d, 8)), abs=1e-10)


def test_cayley_step_is_third_order_accurate():
    d = 8
    M = _random_orthogonal(d, 9)
    Omega = _random_skew(d, 9, norm=2.0)
    errors = []
    hs = [0.2, 0.1, 0.05, 0.025]
    for h in hs:
        exact = M @ expm(-h * Omega)
        step = cayley_step(M, Omega, h)
        errors.append(np.linalg.norm(step - exact))
        # The leading error term of the Cayley transform: −(hΩ)³/12.
        lead = np.linalg.norm(M @ np.linalg.matrix_power(h * Omega, 3)) / 12
        assert errors[-1] == pytest.approx(lead, rel=0.1)
    ratios = np.array(errors[:-1]) / np.array(errors[1:])
    assert np.all((ratios > 7.0) & (ratios < 9.0)), ratios


def test_cayley_step_zero_and_inverse():
    d = 5
    M = _random_orthogonal(d, 10)
    Omega = _random_skew(d, 10)
    assert_allclose(cayley_step(M, np.zeros((d, d)), 0.3), M, atol=1e-15)
    assert_allclose(cayley_step(M, Omega, 0.0), M, atol=1e-15)
    # Stepping forward then backward returns to the start (the Cayley map is symmetric).
    assert_allclose(cayley_step(cayley_step(M, Omega, 0.3), Omega, -0.3), M, atol=1e-14)
