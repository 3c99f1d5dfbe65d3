"""Projecting a fused cube onto the degradation model it came from.

A fused cube ``Y`` should reproduce its own inputs: blurred and decimated it should give the
LR-HSI (``X_h = S B Y``) and seen through the MSI response it should give the HR-MSI
(``X_m = R Y``). :func:`project_onto_inputs` returns the cube closest to ``Y`` (in the sum of
squares) that does so, ``Y + A^T z`` with ``A A^T z = b - A Y`` for the stacked operator
``A = (S B, R)``, solved by conjugate gradients. ``A A^T`` is singular (a cube seen by both
sensors satisfies ``R X_h = S B X_m``), and noisy inputs break that relation, so the
iterations are stopped early: a few are enough to remove the part of the error that the inputs
can see. Noise in the inputs goes into the result with them, so the projection helps most on
clean inputs.
"""

from __future__ import annotations

import numpy as np

from .degrade import psf_matrix
from .fusion import FusionInputs

# Smallest relative curvature of A A^T along a search direction that CG still follows; the
# non-zero eigenvalues are at least ~1e-2 (1/ratio^2 for the box PSF), the null ones ~1e-16.
_CURVATURE_FLOOR = 1e-8


def _operators(inputs: FusionInputs) -> tuple[np.ndarray, np.ndarray]:
    rows, cols, _ = inputs.shape
    return (
        psf_matrix(rows, inputs.ratio, inputs.psf, inputs.mtf),
        psf_matrix(cols, inputs.ratio, inputs.psf, inputs.mtf),
    )


def project_onto_inputs(fused: np.ndarray, inputs: FusionInputs, iterations: int = 10) -> np.ndarray:
    """The cube nearest to ``fused`` that reproduces the LR-HSI and, with a response, the HR-MSI.

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
        A fused cube in the units of the inputs.
    inputs : FusionInputs
        The inputs it was fused from; their PSF, ratio and MTF define ``S B``, and their
        ``srf`` (when given) defines ``R``. Without ``srf`` only the LR-HSI is reproduced.
    iterations : int
        Conjugate-gradient iterations (early stopping, see the module docstring).

    Returns
    -------
    ndarray, shape (H, W, C), float32
    """
    rows_op, cols_op = _operators(inputs)
    response = inputs.srf

    def forward(cube: np.ndarray) -> list[np.ndarray]:
        low = np.einsum("ih,hwc,jw->ijc", rows_op, cube, cols_op, optimize=True)
        return [low] if response is None else [low, cube @ response.T]

    def adjoint(parts: list[np.ndarray]) -> np.ndarray:
        cube = np.einsum("ih,ijc,jw->hwc", rows_op, parts[0], cols_op, optimize=True)
        return cube if response is None else cube + parts[1] @ response

    def dot(a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return float(sum(np.vdot(x, y) for x, y in zip(a, b)))

    estimate = np.asarray(fused, dtype=np.float64)
    observed = [inputs.lrhsi.astype(np.float64)]
    if response is not None:
        observed.append(inputs.hrmsi.astype(np.float64))
    residual = [b - a for b, a in zip(observed, forward(estimate))]
    solution = [np.zeros_like(r) for r in residual]
    direction = [r.copy() for r in residual]
    norm = dot(residual, residual)
    for _ in range(iterations):
        image = forward(adjoint(direction))
        curvature = dot(direction, image)
        # What is left lies (numerically) in the null space of A A^T: CG cannot reduce it, and
        # a step along a direction of near-zero curvature would blow the solution up.
        if curvature <= _CURVATURE_FLOOR * dot(direction, direction):
            break
        step = norm / curvature
        solution = [s + step * d for s, d in zip(solution, direction)]
        residual = [r - step * q for r, q in zip(residual, image)]
        new_norm = dot(residual, residual)
        direction = [r + (new_norm / norm) * d for r, d in zip(residual, direction)]
        norm = new_norm
    return (estimate + adjoint(solution)).astype(np.float32)
