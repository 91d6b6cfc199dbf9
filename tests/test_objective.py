"""Tests of ``_objective``: the ℓ1 loss, the smoothed gradient (Eq. 4–5), Huber, soft-threshold, Armijo."""

import math
import warnings

import numpy as np
import pytest
from _solver_helpers import random_orthogonal
from numpy.testing import assert_allclose, assert_array_equal

from sklearn_l1align._geometry import cayley_step, skew
from sklearn_l1align._objective import (
    ARMIJO_MAX_BACKTRACKS,
    SATURATION,
    adjoint,
    armijo_cayley_search,
    huber_derivative,
    huber_loss,
    l1_loss,
    l1_norm,
    residual,
    residual_scale,
    smoothed_abs_derivative,
    smoothed_gradient,
    soft_threshold,
)


def _direct_derivative(Z):
    """tanh Z + Z sech² Z written out; ``Z / cosh / cosh`` only overflows beyond |Z| ≈ 710."""
    c = np.cosh(Z)
    return np.tanh(Z) + Z / c / c


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
    M = random_orthogonal(d, 4)

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
    M = random_orthogonal(6, 5)
    G, R = smoothed_gradient(A, M, B, 1e8)
    assert_allclose(G, A.T @ np.sign(R), rtol=0, atol=1e-12)




def test_l1_norm_accumulates_float32_residuals_in_float64():
    # 2²⁴ + 1 float32 ones: a float32 running sum stalls at 2²⁴; the float64 sum is exact.
    R = np.ones(2**24 + 1, dtype=np.float32)
    R[1::2] = -1.0
    assert l1_norm(R) == 2**24 + 1
    # And against an exactly rounded sum of random float32 values.
    X = np.random.default_rng(11).normal(size=(3000, 300)).astype(np.float32)
    assert l1_norm(X) == pytest.approx(math.fsum(np.abs(X).astype(np.float64).ravel()), rel=1e-13)
    assert isinstance(l1_norm(X), float)


def test_adjoint_runs_in_the_dtype_of_A_and_returns_float64():
    rng = np.random.default_rng(12)
    A, G = rng.normal(size=(400, 30)), np.sign(rng.normal(size=(400, 30)))
    exact = A.T @ G
    out64 = adjoint(A, G)
    out32 = adjoint(A.astype(np.float32), G)
    assert out64.dtype == out32.dtype == np.float64
    assert_array_equal(out64, exact)
    # float32: relative error of a 400-term dot product of O(1) terms, far below 1e-5.
    assert_allclose(out32, exact, rtol=0, atol=1e-5 * np.abs(exact).max())
    assert not np.array_equal(out32, exact)


def test_smoothed_gradient_with_float32_A_matches_float64():
    rng = np.random.default_rng(13)
    A, B = rng.normal(size=(300, 12)), rng.normal(size=(300, 12))
    M = random_orthogonal(12, 13)
    G64, R = smoothed_gradient(A, M, B, 1e8)
    G32, R32 = smoothed_gradient(A.astype(np.float32), M, B, 1e8, R=R)
    assert R32 is R and G32.dtype == np.float64
    assert_allclose(G32, G64, rtol=0, atol=1e-5 * np.abs(G64).max())


# ------------------------------------------------------------------------------- Huber
@pytest.mark.parametrize("mu", [0.1, 1.0, 3.0])
def test_huber_loss_and_derivative(mu):
    R = np.random.default_rng(14).normal(scale=2.0, size=(50, 4))
    direct = sum(r * r / (2 * mu) if abs(r) <= mu else abs(r) - mu / 2 for r in R.ravel())
    assert huber_loss(R, mu) == pytest.approx(direct, rel=1e-13)
    # Continuous and once differentiable at |r| = μ; the derivative is the finite difference.
    eps = 1e-7
    fd = (np.array([huber_loss(np.array([r + eps]), mu) - huber_loss(np.array([r - eps]), mu)
                    for r in R.ravel()]) / (2 * eps)).reshape(R.shape)
    assert_allclose(huber_derivative(R, mu), fd, atol=1e-6)
    # |r| − μ/2 <= h_μ(r) <= |r|: it approaches the ℓ1 loss as μ → 0.
    assert l1_norm(R) - R.size * mu / 2 <= huber_loss(R, mu) <= l1_norm(R)
    assert huber_loss(R, 1e-12) == pytest.approx(l1_norm(R), rel=1e-10)


def test_soft_threshold_is_the_l1_proximal_map():
    V = np.linspace(-3, 3, 61)
    t = 0.7
    Z = soft_threshold(V, t)
    # Brute force: argmin_z ½(z − v)² + t|z| on a fine grid.
    grid = np.linspace(-4, 4, 80001)
    brute = grid[np.argmin(0.5 * (grid[None, :] - V[:, None]) ** 2 + t * np.abs(grid)[None, :], axis=1)]
    assert_allclose(Z, brute, atol=1e-4)
    assert_array_equal(Z[np.abs(V) <= t], 0.0)
    assert_array_equal(soft_threshold(V, 0.0), V)


def test_residual_scale():
    assert residual_scale(np.array([-3.0, 1.0, 2.0])) == 2.0
    # More than half exactly zero: the median of the nonzero ones.
    assert residual_scale(np.array([0.0, 0.0, 0.0, -4.0, 2.0])) == 3.0
    assert residual_scale(np.zeros((3, 3))) == 0.0


# ------------------------------------------------------------------------------ Armijo
def _quadratic_problem(seed=15, d=6):
    rng = np.random.default_rng(seed)
    A = rng.normal(size=(80, d))
    B = A @ random_orthogonal(d, seed) + 0.01 * rng.normal(size=(80, d))
    M = np.eye(d)

    def value(M_new):
        R = residual(A, M_new, B)
        return 0.5 * float(np.sum(R * R)), R

    Omega = skew(M.T @ (A.T @ residual(A, M, B)))
    return M, Omega, value


def test_armijo_accepts_first_step_with_sufficient_decrease():
    M, Omega, value = _quadratic_problem()
    f0, _ = value(M)
    slope = float(np.sum(Omega * Omega))
    # So long that the decrease asked for exceeds f0 itself: it must backtrack.
    tau0 = 1.5 * f0 / (1e-4 * slope)
    calls = []

    def counted(M_new):
        calls.append(1)
        return value(M_new)

    tau, M_new, f_new, R_new = armijo_cayley_search(M, Omega, tau0, counted, f0, slope)
    k = len(calls) - 1
    assert k >= 1 and tau == pytest.approx(tau0 * 0.2 ** k, rel=1e-12)
    assert f_new <= f0 - 1e-4 * tau * slope
    assert_array_equal(M_new, cayley_step(M, Omega, tau))
    assert_array_equal(R_new, value(M_new)[1])
    # The step before the accepted one did not give sufficient decrease.
    assert value(cayley_step(M, Omega, tau / 0.2))[0] > f0 - 1e-4 * (tau / 0.2) * slope


def test_armijo_gives_up_after_max_backtracks():
    M, Omega, value = _quadratic_problem()
    f0, _ = value(M)
    calls = []

    def counted(M_new):
        calls.append(1)
        return value(M_new)

    # Asking to fall below the true minimum can never be met.
    assert armijo_cayley_search(M, Omega, 1.0, counted, -1.0, 1.0, max_backtracks=7) is None
    assert len(calls) == 7
    calls.clear()
    assert armijo_cayley_search(M, Omega, 1.0, counted, -1.0, 1.0) is None
    assert len(calls) == ARMIJO_MAX_BACKTRACKS
    # An ascent direction is not accepted while the steps are long enough to see the rise.
    assert armijo_cayley_search(M, -Omega, 1e-3, value, f0, float(np.sum(Omega * Omega)),
                                max_backtracks=5) is None


def test_armijo_on_a_descent_direction_always_succeeds_with_the_default_cap():
    for seed in range(5):
        M, Omega, value = _quadratic_problem(seed=20 + seed)
        f0, _ = value(M)
        out = armijo_cayley_search(M, Omega, 1.0, value, f0, float(np.sum(Omega * Omega)))
        assert out is not None and out[2] < f0
