"""A straight transcription of the published refinement loop (Peng et al. 2021, trainer.py),
kept only as the baseline the benchmarks compare against. Not part of the package.

What it reproduces, on purpose: the right-hand side evaluates tanh and cosh⁻² over every
entry of Z = α(AH − B) (cosh overflows to inf for |Z| > 710, which the original hides by
ignoring all warnings; here the overflow is silenced locally), builds the identity matrix on
each call, re-opens a log file and appends a line on every output step, and stops when the
loss falls by less than ``cov_imp`` (which includes any rise), when the previous accepted
step's max|I − HHᵀ| exceeds the tolerance, or after ``max_steps`` steps.
"""

import os
import tempfile
import time

import numpy as np
from scipy.integrate import ode


def published_l1_refine(P, Q, H0, alpha=1e8, step=1e-6, atol=1e-7, rtol=1e-5, max_idd_err=1e-5,
                        cov_imp=5e-3, max_steps=5000, time_budget=None, log_path=None):
    """Return (H, loss, n_steps, t, stop, losses, n_rhs, wall) as the published loop would."""
    n, d = P.shape
    n_rhs = [0]

    def rhs(t, y):
        n_rhs[0] += 1
        H = y.reshape((d, d))
        Z = alpha * (P.dot(H) - Q)
        with np.errstate(over="ignore"):
            Y = np.tanh(Z) + Z * pow(np.cosh(Z), -2)
        grad = P.T.dot(Y)
        return -1 * (1 / 2 * H.dot(H.T.dot(grad) - grad.T.dot(H))
                     + (np.identity(d) - H.dot(H.T)).dot(grad)).reshape(-1)

    solver = ode(rhs).set_integrator("vode", method="bdf", order=15, rtol=rtol, atol=atol)
    solver.set_initial_value(H0.reshape(-1), 0)
    old_loss = np.sum(np.abs(Q - P.dot(H0)))
    old_H, idd_err = H0, 0.0
    losses = [old_loss]
    if log_path is None:
        fd, log_path = tempfile.mkstemp(suffix=".l1log")
        os.close(fd)
    open(log_path, "w").close()
    start = time.perf_counter()
    stop = "solver_unsuccessful"
    while solver.successful():
        log = open(log_path, "a")
        new_H = solver.integrate(solver.t + step).reshape(d, d)
        new_loss = np.sum(np.abs(Q - P.dot(new_H)))
        if old_loss - new_loss < cov_imp:
            stop = "loss_increased" if new_loss > old_loss else "small_decrease"
            log.close()
            break
        if idd_err > max_idd_err:
            stop = "orthogonality"
            log.close()
            break
        if solver.t > max_steps * step:
            stop = "max_time"
            log.close()
            break
        old_loss, old_H = new_loss, new_H
        losses.append(old_loss)
        idd_err = np.max(np.abs(np.identity(d) - old_H.dot(old_H.T)))
        log.write(f"{solver.t}\t{old_loss}\t{idd_err}\t{solver.get_return_code()}\n")
        log.close()
        if time_budget is not None and time.perf_counter() - start > time_budget:
            stop = "time_budget"
            break
    os.remove(log_path)
    return dict(H=old_H, loss=float(old_loss), n_steps=len(losses) - 1, t=(len(losses) - 1) * step,
                stop=stop, losses=np.asarray(losses), n_rhs=n_rhs[0], wall=time.perf_counter() - start)
