"""How much a scene looks like a real hyperspectral scene, in numbers.

Three properties a fusion network learns from, each a small function of a cube:

* **spectral dimensionality** (:func:`pca_decay`): the share of the variance in the first
  principal components, how many components hold 99% and 99.9% of it, and the slope of the
  log10 eigenvalues over components 1-20 (how fast the spectrum of eigenvalues decays);
* **spectral diversity** (:func:`angle_spread`): spectral angles between random pairs of pixels
  (median and 90th percentile, degrees);
* **spatial texture** (:func:`spatial_slope`): the slope of the radially averaged power spectrum
  of the band-mean image in log-log axes (natural images are near -2; smoother is steeper);
* **tails** (:func:`tail_residual`): the 99th percentile, over pixels, of each spectrum's relative
  residual outside the scene's own leading 10 principal components (the pixels a few
  components do not explain: water, shadow, artefacts).

:func:`realism_table` puts scenes side by side (``benchmarks/realism_synthetic.py`` prints it
for Indian Pines and synthetic scenes).
"""

from __future__ import annotations

import numpy as np

from .scene import Scene


def _pixels(cube: np.ndarray) -> np.ndarray:
    return np.asarray(cube, dtype=np.float64).reshape(-1, cube.shape[-1])


def pca_decay(cube: np.ndarray) -> dict[str, float]:
    """Principal component statistics of a cube's spectra (mean removed).

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)

    Returns
    -------
    dict
        ``pc1_share`` (0-1), ``pcs_99`` and ``pcs_999`` (components holding 99% / 99.9% of the
        variance), ``decay_slope`` (slope of log10 eigenvalue against component 1-20).
    """
    pixels = _pixels(cube)
    pixels -= pixels.mean(axis=0)
    eigenvalues = np.linalg.eigvalsh(pixels.T @ pixels / pixels.shape[0])[::-1].clip(1e-30, None)
    share = np.cumsum(eigenvalues) / eigenvalues.sum()
    count = min(20, eigenvalues.size)
    slope = np.polyfit(np.arange(1, count + 1), np.log10(eigenvalues[:count]), 1)[0]
    return {
        "pc1_share": float(share[0]),
        "pcs_99": int(np.searchsorted(share, 0.99) + 1),
        "pcs_999": int(np.searchsorted(share, 0.999) + 1),
        "decay_slope": float(slope),
    }


def angle_spread(cube: np.ndarray, pairs: int = 4000, seed: int = 0) -> dict[str, float]:
    """Spectral angles (degrees) between random pairs of pixels: median and 90th percentile.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
    pairs : int
    seed : int
        Seed of the pair draw.
    """
    pixels = _pixels(cube)
    rng = np.random.default_rng(seed)
    a, b = pixels[rng.integers(0, len(pixels), pairs)], pixels[rng.integers(0, len(pixels), pairs)]
    cosine = np.sum(a * b, axis=1) / np.maximum(np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1), 1e-30)
    angles = np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))
    return {"angle_median": float(np.median(angles)), "angle_p90": float(np.percentile(angles, 90))}


def spatial_slope(cube: np.ndarray, band_range: tuple[float, float] = (0.02, 0.35)) -> float:
    """Slope of the radially averaged power spectrum of the band-mean image, log-log.

    The image (mean removed, Hann window against edge effects) is Fourier transformed; its power
    is averaged over rings of radial frequency, and a line is fitted to log10 power against
    log10 frequency between ``band_range`` cycles per pixel.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
    band_range : (float, float)

    Returns
    -------
    float
        About -2 for natural images; more negative is smoother.
    """
    image = np.asarray(cube, dtype=np.float64).mean(axis=-1)
    rows, cols = image.shape
    image = (image - image.mean()) * np.outer(np.hanning(rows), np.hanning(cols))
    power = np.abs(np.fft.fft2(image)) ** 2
    radius = np.hypot(*np.meshgrid(np.fft.fftfreq(rows), np.fft.fftfreq(cols), indexing="ij"))
    edges = np.linspace(band_range[0], band_range[1], 25)
    which = np.digitize(radius.ravel(), edges)
    inside = (which > 0) & (which < edges.size)
    sums = np.bincount(which[inside], power.ravel()[inside], minlength=edges.size)[1:]
    counts = np.bincount(which[inside], minlength=edges.size)[1:]
    centres = 0.5 * (edges[1:] + edges[:-1])
    kept = counts > 0
    return float(np.polyfit(np.log10(centres[kept]), np.log10(sums[kept] / counts[kept]), 1)[0])


def tail_residual(cube: np.ndarray, components: int = 10, percentile: float = 99.0) -> float:
    """The ``percentile`` of the pixels' relative residual outside the leading ``components``
    principal components of the cube's own spectra (mean removed): ``|r| / |x|``.

    Parameters
    ----------
    cube : ndarray, shape (H, W, C)
    components : int
    percentile : float
    """
    pixels = _pixels(cube)
    mean = pixels.mean(axis=0)
    centred = pixels - mean
    _, vectors = np.linalg.eigh(centred.T @ centred)
    basis = vectors[:, ::-1][:, :components]
    residual = centred - (centred @ basis) @ basis.T
    ratio = np.linalg.norm(residual, axis=1) / np.maximum(np.linalg.norm(pixels, axis=1), 1e-30)
    return float(np.percentile(ratio, percentile))


def realism_statistics(scene: Scene | np.ndarray, seed: int = 0) -> dict[str, float]:
    """Every statistic of this module for one scene (or cube)."""
    cube = scene.cube if isinstance(scene, Scene) else scene
    return (
        pca_decay(cube)
        | angle_spread(cube, seed=seed)
        | {"spatial_slope": spatial_slope(cube), "tail_residual_p99": tail_residual(cube)}
    )


COLUMNS = {
    "pc1_share": ("PC1 share", "{:.3f}"),
    "pcs_99": ("PCs 99%", "{:.0f}"),
    "pcs_999": ("PCs 99.9%", "{:.0f}"),
    "decay_slope": ("log10 eigenvalue slope, PCs 1-20", "{:.3f}"),
    "angle_median": ("pair angle median (deg)", "{:.2f}"),
    "angle_p90": ("pair angle p90 (deg)", "{:.2f}"),
    "spatial_slope": ("power spectrum slope", "{:.2f}"),
    "tail_residual_p99": ("p99 residual outside 10 PCs", "{:.3f}"),
}


def realism_table(rows: dict[str, dict[str, float] | list[dict[str, float]]]) -> str:
    """A markdown table of :func:`realism_statistics`, one row per label.

    A row given as a list of statistics (several scenes of one kind) shows their mean and, in
    brackets, their minimum and maximum.
    """
    header = "| scene | " + " | ".join(label for label, _ in COLUMNS.values()) + " |"
    lines = [header, "|---|" + "---:|" * len(COLUMNS)]
    for name, stats in rows.items():
        cells = []
        for key, (_, form) in COLUMNS.items():
            if isinstance(stats, dict):
                cells.append(form.format(stats[key]))
            else:
                values = [s[key] for s in stats]
                cells.append(f"{form.format(np.mean(values))} ({form.format(min(values))}-{form.format(max(values))})")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
