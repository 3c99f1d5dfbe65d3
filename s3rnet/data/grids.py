"""Wavelength grids and spectral resampling of scenes from one grid to another.

A pretrained network knows the bands it was trained on; a scene from another sensor or
another band selection is brought onto those bands with :func:`resample` (SPy's
``BandResampler``: each target band is the source spectrum weighted by Gaussian band models).

``AVIRIS_172`` is this project's grid for the paper preset (the paper uses 172 AVIRIS bands
without listing them): 10 nm bands of 10 nm FWHM from 405 to 2395 nm, leaving out the
water-absorption windows 1340-1450 nm and 1790-1960 nm. That is 94 + 34 + 44 = 172 bands, each
of which overlaps bands of any full-range AVIRIS cube, Indian Pines' corrected set included.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import WavelengthError
from .scene import Scene


@dataclass(frozen=True)
class SpectralGrid:
    """A named set of bands.

    Attributes
    ----------
    name : str
    centres : ndarray, shape (C,)
        Band centres in nm, ascending.
    fwhm : ndarray, shape (C,)
        Band widths in nm.
    """

    name: str
    centres: np.ndarray
    fwhm: np.ndarray

    @property
    def bands(self) -> int:
        return int(self.centres.size)


def _aviris_172() -> SpectralGrid:
    centres = np.concatenate(
        [np.arange(405.0, 1340.0, 10.0), np.arange(1455.0, 1790.0, 10.0), np.arange(1965.0, 2400.0, 10.0)]
    )
    return SpectralGrid("aviris-172", centres, np.full_like(centres, 10.0))


AVIRIS_172 = _aviris_172()
WATER_ABSORPTION_NM = ((1340.0, 1450.0), (1790.0, 1960.0))


def band_widths(scene: Scene) -> np.ndarray:
    """The scene's FWHM, or the spacing between its sorted band centres when it has none."""
    wavelengths = scene.require_wavelengths("spectral resampling")
    if scene.fwhm is not None:
        return scene.fwhm
    ordered = np.sort(wavelengths)
    spacing = np.gradient(ordered) if ordered.size > 1 else np.array([10.0])
    return spacing[np.argsort(np.argsort(wavelengths))]


def resample(scene: Scene, grid: SpectralGrid) -> Scene:
    """A scene resampled onto another set of bands.

    The source bands are sorted by wavelength first (AVIRIS lists step back where the
    spectrometers overlap). Target bands are Gaussian band models (SPy ``BandResampler``).

    Raises
    ------
    WavelengthError
        When the scene has no wavelengths, or some target bands see none of the scene's bands
        (they would be NaN); the message lists them.
    """
    from spectral import BandResampler

    wavelengths = scene.require_wavelengths("spectral resampling")
    order = np.argsort(wavelengths, kind="stable")
    resampler = BandResampler(
        wavelengths[order].tolist(), grid.centres.tolist(),
        band_widths(scene)[order].tolist(), grid.fwhm.tolist(),
    )
    matrix = np.asarray(resampler.matrix, dtype=np.float64)
    empty = ~np.isfinite(matrix).all(axis=1) | (np.abs(matrix).sum(axis=1) == 0)
    if empty.any():
        missing = ", ".join(f"{c:.0f}" for c in grid.centres[empty][:8])
        raise WavelengthError(
            f"scene {scene.name!r} ({wavelengths.min():.0f}-{wavelengths.max():.0f} nm) does not "
            f"cover {int(empty.sum())} bands of grid {grid.name!r} (at {missing} nm...)"
        )
    cube = scene.cube[:, :, order] @ matrix.T.astype(np.float32)
    meta = dict(scene.meta, resampled_from=f"{scene.bands} bands", grid=grid.name)
    return scene.with_cube(cube, wavelengths=grid.centres.copy(), fwhm=grid.fwhm.copy(), meta=meta)


def msi_response_fit(scene: Scene) -> dict[str, str | None]:
    """Which MSI spectral responses can be simulated from a scene's bands.

    A sensor response (``oli4``, ``s2-4``...) needs the scene's wavelengths to cover at least
    90% of each MSI band's response (:func:`s3rnet.degrade.sensor_response`); a binning
    response needs more bands than MSI bands.

    Returns
    -------
    dict
        Each name of :data:`s3rnet.degrade.MSI_RESPONSES` -> None when it fits, else the reason
        it does not (one sentence).
    """
    from ..degrade import MSI_RESPONSES, spectral_response
    from ..errors import S3RNetError

    fit: dict[str, str | None] = {}
    for name in MSI_RESPONSES:
        if name.startswith("binning"):
            groups = int(name.removeprefix("binning"))
            fit[name] = None if scene.bands > groups else (
                f"{name} averages {groups} groups of bands and the scene has only {scene.bands}"
            )
            continue
        try:
            spectral_response(name, scene.wavelengths, scene.fwhm, scene.bands)
        except S3RNetError as exc:
            fit[name] = str(exc)
        else:
            fit[name] = None
    return fit
