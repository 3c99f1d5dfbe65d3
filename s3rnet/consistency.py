"""Projecting a fused cube onto the degradation model it came from, as far as the noise allows.

A fused cube ``Y`` should reproduce its own inputs: blurred and decimated it should give the
LR-HSI (``X_h = S B Y``) and seen through the MSI response it should give the HR-MSI
(``X_m = R Y``). With the stacked operator ``A = (S B, R)`` and the inputs ``b``,
:func:`project_onto_inputs` returns the maximum a posteriori cube for a Gaussian prior centred on
``Y`` and Gaussian noise on the inputs:

``Y' = Y + A^T z``,  ``(A A^T + D) z = b - A Y``,

solved by conjugate gradients. ``D`` is diagonal, the ratio of each input's noise power to the
power of the fused cube's error as the inputs see it; :func:`damping` estimates it per LR-HSI
band, from the inputs alone:

``D_l = k * g * sigma^2 / max(mean(r_l^2) - sigma^2, eps)``

with ``r_l`` the residual of band ``l`` of the LR-HSI, ``g`` the gain of ``S B`` on white noise
(``1 / ratio^2`` for the box PSF), ``sigma^2`` the LR-HSI's noise power
(:func:`lrhsi_noise_power`) and ``k`` a factor chosen on validation data. The HR-MSI is taken as
noise-free (its ``D`` is a floor that keeps the system definite). On clean inputs ``D`` is
about 0 and ``Y'`` reproduces both inputs; on noisy ones the residual is mostly noise, and
``Y'`` takes from the LR-HSI only the part of it that stands above the noise.

Without ``D`` the system is singular (a cube seen by both sensors satisfies
``R X_h = S B X_m``) and noisy inputs break that relation: conjugate gradients then grow the
solution along the null space, and a few iterations put the noise back with a gain (on the
Indian Pines val region at 35 dB, S3RNet's 30.97 dB became 20.29 dB).

Measured by ``python -m s3rnet project`` on the validation problems of
``configs/generalise-oli4-psnr.json`` / ``-oli6-psnr.json`` (Indian Pines val region, 12 synthetic
val seeds in radiance and reflectance, clean and 15 dB), the published ``lite-oli4`` / ``lite-oli6``
(network blended with HySime-Wiener-CNMF) without projection and projected with ``k = 1 / 4 / 16``,
selection PSNR in dB: 30.910, then 31.085 / 31.295 / 31.300 (oli4); 34.181, then 34.736 / 35.014
/ 35.030 (oli6); on the Indian Pines val region alone 28.634 to 28.924 (oli4), 32.020 to 32.928
(oli6). At 35 dB, which selection does not see, ``k = 1`` and ``4`` gain more than 16: on the
Indian Pines val region with oli4, 31.34 dB without, 31.49 / 31.49 / 31.43 with projection.
"""

from __future__ import annotations

import numpy as np
from scipy import sparse

from .baselines.noise import lrhsi_noise_power
from .degrade import psf_matrix
from .errors import ConfigError
from .fusion import FusionInputs

# Smallest relative curvature of A A^T + D along a search direction that CG still follows.
_CURVATURE_FLOOR = 1e-8
# D of the HR-MSI and lowest D of an LR-HSI band, relative to g: keeps A A^T + D definite.
_DAMPING_FLOOR = 1e-6
# k when none was chosen for a checkpoint: what validation chose for the published oli checkpoints.
DEFAULT_PROJECTION_FACTOR = 16.0
# Conjugate-gradient iterations at most by default, and the relative residual norm that stops them
# sooner: on the Indian Pines val region at 35 and 15 dB the result no longer changes after about
# 30-100 iterations (the HR-MSI is then reproduced to 1e-4 of its largest value).
ITERATIONS = 100
TOLERANCE = 1e-6
# Bands converted to float64 at a time when a cube's residuals are taken (64 MiB at 512 x 512 px).
RESIDUAL_BANDS = 32


def _operators(inputs: FusionInputs) -> tuple[sparse.csr_matrix, sparse.csr_matrix]:
    """The blur-and-decimate operator of each axis, sparse: a PSF covers a few HR pixels, so the
    projection's cost grows with the scene, not with its square."""
    rows, cols, _ = inputs.shape
    return (
        sparse.csr_matrix(psf_matrix(rows, inputs.ratio, inputs.psf, inputs.mtf)),
        sparse.csr_matrix(psf_matrix(cols, inputs.ratio, inputs.psf, inputs.mtf)),
    )


def _separable(cube: np.ndarray, rows_op: sparse.spmatrix, cols_op: sparse.spmatrix) -> np.ndarray:
    """``rows_op`` applied along the first axis of ``cube`` (H, W, C) and ``cols_op`` along the second."""
    height, width, bands = cube.shape
    along_rows = (rows_op @ cube.reshape(height, width * bands)).reshape(-1, width, bands)
    by_column = np.moveaxis(along_rows, 1, 0).reshape(width, -1)
    return np.moveaxis((cols_op @ by_column).reshape(cols_op.shape[0], -1, bands), 0, 1)


def check_factor(factor: object) -> float:
    """``factor`` as a float when it is a finite number > 0 (``k`` of the module docstring).

    Raises
    ------
    ConfigError
        Otherwise, saying so.
    """
    if isinstance(factor, bool) or not isinstance(factor, (int, float)) or not 0 < factor < np.inf:
        raise ConfigError(f"the projection's noise factor must be a finite number > 0, got {factor!r}")
    return float(factor)


def damping(residual: np.ndarray, noise_power: float, gain: float, factor: float) -> np.ndarray:
    """Each LR-HSI band's ``D_l`` (see the module docstring).

    Parameters
    ----------
    residual : ndarray, shape (h, w, C)
        ``X_h - S B Y``.
    noise_power : float
        ``sigma^2``.
    gain : float
        ``g``, the gain of ``S B`` on white noise.
    factor : float
        ``k``.

    Returns
    -------
    ndarray, shape (C,)
    """
    power = np.mean(np.square(residual), axis=(0, 1))
    seen = np.maximum(power - noise_power, 1e-12 * power.max(initial=0.0) + np.finfo(np.float64).tiny)
    return np.maximum(factor * gain * noise_power / seen, _DAMPING_FLOOR * gain)


def _forward(cube: np.ndarray, rows_op: sparse.spmatrix, cols_op: sparse.spmatrix,
             response: np.ndarray | None) -> list[np.ndarray]:
    """``A Y``: ``cube`` blurred and decimated (``S B Y``) and, with a response, seen by the MSI (``R Y``)."""
    low = _separable(cube, rows_op, cols_op)
    return [low] if response is None else [low, cube @ response.T]


def _observed(inputs: FusionInputs) -> list[np.ndarray]:
    """``b``: the LR-HSI and, with a response, the HR-MSI, in float64."""
    observed = [inputs.lrhsi.astype(np.float64)]
    if inputs.srf is not None:
        observed.append(inputs.hrmsi.astype(np.float64))
    return observed


def _input_residuals(cube: np.ndarray, inputs: FusionInputs, rows_op, cols_op) -> list[np.ndarray]:
    """What ``cube`` leaves unexplained of each input, ``b - A Y``, in float64.

    ``A Y`` is taken :data:`RESIDUAL_BANDS` bands at a time, so that no float64 copy of the whole
    cube is made (400 MiB for a 512 x 512 x 200 window of ``fuse``)."""
    low, *msi = _observed(inputs)
    response = None if inputs.srf is None else np.asarray(inputs.srf, dtype=np.float64)
    for start in range(0, cube.shape[-1], RESIDUAL_BANDS):
        bands = slice(start, start + RESIDUAL_BANDS)
        part = np.asarray(cube[..., bands], dtype=np.float64)
        low[..., bands] -= _separable(part, rows_op, cols_op)
        if response is not None:
            msi[0] -= part @ response[:, bands].T
    return [low, *msi]


def partner_share(
    network: np.ndarray, partner: np.ndarray, inputs: FusionInputs, floor: float, noise_power: float | None = None,
    per_band: bool | str = False,
) -> dict[str, float]:
    """The ensemble partner's share for one scene, from how well the two cubes reproduce its inputs.

    Of the blends ``(1 - w) * network + w * partner``, the one that reproduces the inputs best
    (least squares over the LR-HSI and the HR-MSI, each weighed by the inverse of its mean square)
    has the share ``w_c`` (clipped to [0, 1]). Where the network explains the inputs worse than its
    partner, as on a scene unlike those it learned from, the partner is likely the better guess of
    what the inputs cannot see too, and its share is raised towards ``w_c``; it is never lowered
    below ``floor``, the share chosen on validation data (on synthetic scenes ``w_c`` is about 0.05
    and the blend at that share scores lower than at the validated one). The noise makes ``w_c``
    unreliable (a partner that fitted the noise reproduces it better), so the share is

    ``w = floor + s * max(0, w_c - floor)``,  ``s = max(0, 1 - sigma^2 / mean(r_h^2))``

    with ``r_h`` the network's LR-HSI residual and ``sigma^2`` the LR-HSI's noise power: ``s`` is the
    part of that residual that the noise does not explain (about 1 on clean inputs, about 0 at 15 dB).

    Parameters
    ----------
    network, partner : ndarray, shape (H, W, C)
        The two fused cubes, in the units of the inputs.
    inputs : FusionInputs
        Their inputs; without ``srf`` only the LR-HSI is compared.
    floor : float
        The lowest share, in [0, 1]: the share when the network explains the inputs as well as its
        partner or better, or when the noise hides which does.
    noise_power : float, optional
        ``sigma^2``; estimated by :func:`lrhsi_noise_power` otherwise.
    per_band : bool or "above-scene"
        One share per band (:func:`partner_share_per_band`) instead of one for the scene; with
        ``"above-scene"``, each band's share raised from the scene's share instead of from ``floor``
        (``scene_weight`` in the result).

    Returns
    -------
    dict
        ``weight`` (the share ``w``), ``consistent`` (``w_c``), ``reliability`` (``s``) and ``floor``;
        with ``per_band``, their means over the bands and ``weights``, the share of each band.

    Notes
    -----
    Measured on the validation problems of ``configs/generalise-oli4-psnr.json``
    (``python -m s3rnet ensemble --share consistency``, docs/synthetic.md "A share for each scene").
    """
    rows_op, cols_op = _operators(inputs)
    residual = _input_residuals(network, inputs, rows_op, cols_op)
    difference = [r - q for r, q in zip(residual, _input_residuals(partner, inputs, rows_op, cols_op))]
    sigma2 = lrhsi_noise_power(inputs) if noise_power is None else float(noise_power)
    if per_band == "above-scene":
        scene = _scene_share(residual, difference, inputs, floor, sigma2)
        return partner_share_per_band(residual[0], difference[0], scene["weight"], sigma2) | {
            "floor": float(floor), "scene_weight": scene["weight"]}
    if per_band:
        return partner_share_per_band(residual[0], difference[0], floor, sigma2)
    return _scene_share(residual, difference, inputs, floor, sigma2)


def _scene_share(residual: list[np.ndarray], difference: list[np.ndarray], inputs: FusionInputs, floor: float,
                 sigma2: float) -> dict[str, float]:
    """:func:`partner_share` for the whole scene, from the residuals of both inputs."""
    scale = [1.0 / max(float(np.mean(np.square(x.astype(np.float64)))), np.finfo(np.float64).tiny) / x.size
             for x in (inputs.lrhsi, inputs.hrmsi)[: len(residual)]]
    seen = sum(c * float(np.vdot(d, d)) for c, d in zip(scale, difference))
    consistent = floor if seen <= 0 else float(np.clip(
        sum(c * float(np.vdot(r, d)) for c, r, d in zip(scale, residual, difference)) / seen, 0.0, 1.0))
    power = float(np.mean(np.square(residual[0])))
    reliability = max(0.0, 1.0 - sigma2 / power) if power > 0 else 0.0
    return {"weight": floor + reliability * max(0.0, consistent - floor), "consistent": consistent,
            "reliability": reliability, "floor": float(floor)}


def partner_share_per_band(residual: np.ndarray, difference: np.ndarray, floor: float, noise_power: float) -> dict:
    """:func:`partner_share` band by band, from the LR-HSI alone.

    In band ``l``, ``w_c,l`` is the share of the blend that best reproduces the band of the LR-HSI
    (least squares, clipped to [0, 1]), ``s_l = max(0, 1 - sigma^2 / mean(r_l^2))`` and
    ``w_l = floor + s_l * max(0, w_c,l - floor)``. PSNR weighs every band alike and SAM the bright
    ones most; a partner that explains the bright bands better (CNMF on Indian Pines) then takes
    them, and the network keeps the others.

    Parameters
    ----------
    residual : ndarray, shape (h, w, C)
        The network's LR-HSI residual ``X_h - S B Y``.
    difference : ndarray, shape (h, w, C)
        That residual minus the partner's.
    floor : float
    noise_power : float
        ``sigma^2``.

    Returns
    -------
    dict
        ``weights`` (C,), and ``weight``, ``consistent`` and ``reliability`` as their means over the
        bands, and ``floor``.

    Notes
    -----
    Measured on the validation problems of ``configs/generalise-oli6-psnr.json`` with the published
    ``lite-oli6`` network, PCA-Wiener-CNMF and floor 0.2, projected with k 16 (PSNR dB / SAM deg):
    Indian Pines val clean 38.32 / 1.949 with the fixed share, 38.39 / 1.897 band by band; at 35 dB
    35.71 / 2.073 and 35.78 / 1.983; at 15 dB 27.69 / 2.841 and 27.64 / 2.828; the synthetic val
    scenes within 0.03 dB. Chosen on validation at floor 0.15, ``lite-oli6`` and ``lite-s2-6``
    use it (docs/synthetic.md, "A share for each band"); ``lite-oli4`` raises each band from the
    scene's share (``per_band="above-scene"`` in :func:`partner_share`).
    """
    num = np.sum(residual * difference, axis=(0, 1))
    den = np.sum(np.square(difference), axis=(0, 1))
    consistent = np.where(den > 0, np.clip(num / np.where(den > 0, den, 1.0), 0.0, 1.0), floor)
    power = np.mean(np.square(residual), axis=(0, 1))
    reliability = np.where(power > 0, np.clip(1.0 - noise_power / np.where(power > 0, power, 1.0), 0.0, 1.0), 0.0)
    weights = floor + reliability * np.maximum(0.0, consistent - floor)
    return {"weight": float(weights.mean()), "weights": weights, "consistent": float(consistent.mean()),
            "reliability": float(reliability.mean()), "floor": float(floor)}


def project_onto_inputs(
    fused: np.ndarray, inputs: FusionInputs, factor: float = DEFAULT_PROJECTION_FACTOR, iterations: int = ITERATIONS,
    noise_power: float | None = None,
) -> np.ndarray:
    """The cube nearest to ``fused`` that reproduces the HR-MSI and the LR-HSI as far as its noise
    allows (the module docstring gives the model).

    Parameters
    ----------
    fused : ndarray, shape (H, W, C)
        A fused cube in the units of the inputs.
    inputs : FusionInputs
        The inputs it was fused from; their PSF, ratio and MTF define ``S B``, and their
        ``srf`` (when given) defines ``R``. Without ``srf`` only the LR-HSI is reproduced.
    factor : float
        ``k``, how much the noise is weighed (> 0); a checkpoint's is chosen on validation data
        (``"projection"`` in its sidecar, ``python -m s3rnet project``).
    iterations : int
        Conjugate-gradient iterations at most (fewer when the residual falls below
        :data:`TOLERANCE` of its first norm).
    noise_power : float, optional
        The LR-HSI's noise power when known; estimated by :func:`lrhsi_noise_power` otherwise.

    Returns
    -------
    ndarray, shape (H, W, C), float32
    """
    check_factor(factor)
    rows_op, cols_op = _operators(inputs)
    response = None if inputs.srf is None else np.asarray(inputs.srf, dtype=np.float64)
    rows_adjoint, cols_adjoint = rows_op.T.tocsr(), cols_op.T.tocsr()
    gain = float(rows_op[0].power(2).sum() * cols_op[0].power(2).sum())

    def forward(cube: np.ndarray) -> list[np.ndarray]:
        return _forward(cube, rows_op, cols_op, response)

    def adjoint(parts: list[np.ndarray]) -> np.ndarray:
        cube = _separable(parts[0], rows_adjoint, cols_adjoint)
        return cube if response is None else cube + parts[1] @ response

    def dot(a: list[np.ndarray], b: list[np.ndarray]) -> float:
        return float(sum(np.vdot(x, y) for x, y in zip(a, b)))

    estimate = np.asarray(fused, dtype=np.float64)
    residual = _input_residuals(estimate, inputs, rows_op, cols_op)
    sigma2 = lrhsi_noise_power(inputs) if noise_power is None else float(noise_power)
    diagonal = [damping(residual[0], sigma2, gain, factor)]
    if response is not None:
        diagonal.append(np.full(response.shape[0], _DAMPING_FLOOR * gain))

    def system(parts: list[np.ndarray]) -> list[np.ndarray]:
        return [a + d * p for a, d, p in zip(forward(adjoint(parts)), diagonal, parts)]

    solution = [np.zeros_like(r) for r in residual]
    direction = [r.copy() for r in residual]
    norm = dot(residual, residual)
    stop = (TOLERANCE ** 2) * norm
    for _ in range(iterations):
        image = system(direction)
        curvature = dot(direction, image)
        if curvature <= _CURVATURE_FLOOR * dot(direction, direction):
            break
        step = norm / curvature
        solution = [s + step * d for s, d in zip(solution, direction)]
        residual = [r - step * q for r, q in zip(residual, image)]
        new_norm = dot(residual, residual)
        if new_norm <= stop:
            break
        direction = [r + (new_norm / norm) * d for r, d in zip(residual, direction)]
        norm = new_norm
    return (estimate + adjoint(solution)).astype(np.float32)


__all__ = [
    "DEFAULT_PROJECTION_FACTOR", "ITERATIONS", "TOLERANCE", "check_factor", "damping", "lrhsi_noise_power", "partner_share",
    "partner_share_per_band", "project_onto_inputs",
]
