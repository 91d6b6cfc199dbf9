"""Tests of ``_geometry``: skew parts, the tangent projection (Eq. 6), Cayley steps, polar, Eq. 8."""

import numpy as np
import pytest
from _solver_helpers import random_orthogonal, random_skew
from numpy.testing import assert_allclose, assert_array_equal
from scipy.linalg import expm, orthogonal_procrustes
from scipy.linalg import polar as scipy_polar

from sklearn_l1align._geometry import (
    cayley_step,
    orthogonality_error,
    polar,
    skew,
    tangent_projection,
)


# ---------------------------------------------------------------------------- projection
def test_skew():
    X = np.random.default_rng(6).normal(size=(5, 5))
    S = skew(X)
    assert_array_equal(S, -S.T)
    assert_allclose(S + 0.5 * (X + X.T), X, atol=1e-15)


@pytest.mark.parametrize("d", [3, 10, 30])
def test_tangent_projection_on_orthogonal_matrix(d):
    M = random_orthogonal(d, d)
    G = np.random.default_rng(d + 1).normal(size=(d, d))
    P = tangent_projection(M, G)
    assert_allclose(P, M @ skew(M.T @ G), rtol=0, atol=1e-12)
    MtP = M.T @ P
    assert_allclose(MtP, -MtP.T, rtol=0, atol=1e-12)
    # Projecting twice changes nothing; the tangent part of a tangent vector is itself.
    assert_allclose(tangent_projection(M, P), P, rtol=0, atol=1e-12)
    S = random_skew(d, d + 2)
    assert_allclose(tangent_projection(M, M @ S), M @ S, rtol=0, atol=1e-12)
    # A normal vector M·(symmetric) projects to zero.
    W = np.random.default_rng(d + 3).normal(size=(d, d))
    assert_allclose(tangent_projection(M, M @ (W + W.T)), 0.0, atol=1e-12)


def test_tangent_projection_off_manifold_is_eq6():
    # Off the manifold (as a drifting VODE trajectory is), the full Eq. 6 is applied.
    rng = np.random.default_rng(7)
    d = 6
    M = random_orthogonal(d, 7) + 1e-3 * rng.normal(size=(d, d))
    G = rng.normal(size=(d, d))
    expected = 0.5 * M @ (M.T @ G - G.T @ M) + (np.eye(d) - M @ M.T) @ G
    assert_allclose(tangent_projection(M, G), expected, rtol=0, atol=1e-12)
    assert not np.allclose(tangent_projection(M, G), M @ skew(M.T @ G), atol=1e-6)


# --------------------------------------------------------------------------------- Cayley
def test_cayley_step_keeps_orthogonality_over_1000_steps():
    d = 20
    M = random_orthogonal(d, 8)
    rng = np.random.default_rng(8)
    for i in range(1000):
        W = rng.normal(size=(d, d))
        M = cayley_step(M, skew(W), 0.05)
    assert orthogonality_error(M) <= 1e-12
    assert np.linalg.det(M) == pytest.approx(np.linalg.det(random_orthogonal(d, 8)), abs=1e-10)


def test_cayley_step_is_third_order_accurate():
    d = 8
    M = random_orthogonal(d, 9)
    Omega = random_skew(d, 9, norm=2.0)
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
    M = random_orthogonal(d, 10)
    Omega = random_skew(d, 10)
    assert_allclose(cayley_step(M, np.zeros((d, d)), 0.3), M, atol=1e-15)
    assert_allclose(cayley_step(M, Omega, 0.0), M, atol=1e-15)
    # Stepping forward then backward returns to the start (the Cayley map is symmetric).
    assert_allclose(cayley_step(cayley_step(M, Omega, 0.3), Omega, -0.3), M, atol=1e-14)


# ---------------------------------------------------------------------------------- polar
@pytest.mark.parametrize("d, seed", [(1, 0), (4, 1), (30, 2)])
def test_polar_matches_scipy_polar_and_procrustes(d, seed):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(d, d))
    M = polar(X)
    U, _ = scipy_polar(X)
    assert_allclose(M, U, atol=1e-12)
    assert orthogonality_error(M) <= 1e-13
    # polar(AᵀB) solves the orthogonal Procrustes problem min ||AM − B||_F.
    A, B = rng.normal(size=(50, d)), rng.normal(size=(50, d))
    R, _ = orthogonal_procrustes(A, B)
    assert_allclose(polar(A.T @ B), R, atol=1e-12)


def test_polar_is_the_nearest_orthogonal_matrix_and_fixes_orthogonal_ones():
    rng = np.random.default_rng(3)
    Q = random_orthogonal(8, 3)
    assert_allclose(polar(Q), Q, atol=1e-13)
    X = Q + 0.05 * rng.normal(size=(8, 8))
    M = polar(X)
    best = np.linalg.norm(X - M)
    # No other orthogonal matrix (a few random ones near M) is closer to X.
    for seed in range(20):
        other = M @ expm(random_skew(8, 100 + seed, norm=0.01))
        assert np.linalg.norm(X - other) > best
    # Its result is float64 whatever the input.
    assert polar(X.astype(np.float32)).dtype == np.float64


# -------------------------------------------------------------------- orthogonality_error
def test_orthogonality_error():
    Q = random_orthogonal(6, 4)
    assert orthogonality_error(Q) <= 1e-14
    assert orthogonality_error(np.eye(3)) == 0.0
    assert orthogonality_error(2 * np.eye(3)) == 3.0  # max|4I − I|
    S = np.eye(2)
    S[0, 1] = 0.1  # MᵀM = [[1, .1], [.1, 1.01]]
    assert orthogonality_error(S) == pytest.approx(0.1, rel=1e-12)
    assert orthogonality_error(np.zeros((0, 0))) == 0.0
    assert isinstance(orthogonality_error([[1.0]]), float)
