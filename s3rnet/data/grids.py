"""Wavelength grids and spectral resampling of scenes from one grid to another.

A pretrained network knows the bands it was trained on; a scene from another sensor or
another band selection is brought onto those bands with :func:`resample` (SPy's
``BandResampler``: each target band is the source spectrum weighted by Gaussian band models).

``AVIRIS_172`` is this project's grid for the paper preset (the paper uses 172 AVIRIS bands
without listing them): 10 nm bands of 10 nm FWHM from 405 to 2395 nm, leaving out the
water-absorption windows 1340-1450 nm and 1790-1960 nm. That is 94 + 34 + 44 = 172 bands, each
of which overlaps bands of any full-range AVIRIS cube, Indian Pines' corrected set included.

A scene that misses some of a grid's bands (a sensor whose range ends short of the grid's, bad
bands removed) can still be brought onto it when :func:`resample` is allowed to fill them:
a missing band between covered ones is interpolated linearly in wavelength across the gap, a
missing band beyond the scene's range copies the nearest covered band, each within a stated
distance. The filled bands are recorded in the scene's ``meta["filled_bands"]`` (indices on the
grid; :func:`filled_band_mask`), so that scores can leave them out: they carry no measurement.
On Indian Pines, bands removed at 1000-1060 nm and filled back are within 2% of the measured
ones; at 1330-1392 nm, on the edge of a water absorption, they are off by 104%.
"""

from __future__ import annotations

import logging
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
# Limits of band filling for a network's input (see :func:`resample`): a band up to 50 nm beyond
# a scene's range (AVIRIS ends near 2457 nm where the 92AV3C grid goes to 2489; Hyperion with
# its noisy bands removed ends at 2345 nm, the 172-band grid at 2395), and gaps of missing bands
# up to 120 nm wide between covered ones (EnMAP without its bad bands at 1331-1391 nm).
FILL_EDGE_NM = 50.0
FILL_GAP_NM = 120.0


def band_widths(scene: Scene) -> np.ndarray:
    """The scene's FWHM, or the spacing between its sorted band centres when it has none."""
    wavelengths = scene.require_wavelengths("spectral resampling")
    return scene.fwhm if scene.fwhm is not None else spacing_widths(wavelengths)


def spacing_widths(wavelengths: np.ndarray) -> np.ndarray:
    """Band widths taken as the spacing between sorted band centres (shape (C,), the input's order)."""
    wavelengths = np.asarray(wavelengths, dtype=float)
    ordered = np.sort(wavelengths)
    spacing = np.gradient(ordered) if ordered.size > 1 else np.array([10.0])
    return spacing[np.argsort(np.argsort(wavelengths))]


def fill_matrix(centres: np.ndarray, covered: np.ndarray, max_edge_nm: float, max_gap_nm: float) -> np.ndarray:
    """How each band of a grid is made from its covered bands: itself, or filled.

    Parameters
    ----------
    centres : ndarray, shape (C,)
        The grid's band centres (in any order: neighbours are found by wavelength).
    covered : ndarray of bool, shape (C,)
        The bands the scene's own bands reach (at least one).
    max_edge_nm : float
        A missing band beyond the last (before the first) covered band copies that band when
        their centres are at most this far apart.
    max_gap_nm : float
        A missing band between covered ones is interpolated linearly in wavelength between its
        two covered neighbours when these are at most this far apart.

    Returns
    -------
    ndarray, shape (C, K), K = covered.sum()
        Row ``c`` gives band ``c`` as a combination of the covered bands (in grid order).

    Raises
    ------
    WavelengthError
        When some missing bands are beyond the limits; the message says which and how far.
    """
    index = np.flatnonzero(covered)
    column = {band: k for k, band in enumerate(index)}
    weights = np.zeros((centres.size, index.size))
    weights[index, np.arange(index.size)] = 1.0
    too_far: list[str] = []
    for band in np.flatnonzero(~covered):
        centre = centres[band]
        below, above = index[centres[index] < centre], index[centres[index] > centre]
        low = below[np.argmax(centres[below])] if below.size else None
        high = above[np.argmin(centres[above])] if above.size else None
        if low is not None and high is not None:
            span = centres[high] - centres[low]
            if span > max_gap_nm:
                too_far.append(f"{centre:.0f} nm (in a gap of {span:.0f} nm, limit {max_gap_nm:g})")
                continue
            share = (centre - centres[low]) / span
            weights[band, column[low]] = 1.0 - share
            weights[band, column[high]] = share
        else:
            nearest = low if low is not None else high
            distance = abs(centre - centres[nearest])
            if distance > max_edge_nm:
                too_far.append(f"{centre:.0f} nm ({distance:.0f} nm beyond the scene's last covered band, limit {max_edge_nm:g})")
                continue
            weights[band, column[nearest]] = 1.0
    if too_far:
        shown = "; ".join(too_far[:3]) + ("; ..." if len(too_far) > 3 else "")
        raise WavelengthError(f"{len(too_far)} bands cannot be filled: {shown}")
    return weights


def filled_band_mask(scene: Scene) -> np.ndarray:
    """Which of a scene's bands were filled by :func:`resample` (all False when none were).

    Returns
    -------
    ndarray of bool, shape (C,)
    """
    mask = np.zeros(scene.bands, dtype=bool)
    mask[list(scene.meta.get("filled_bands", []))] = True
    return mask


def resampling_matrix(
    wavelengths: np.ndarray, widths: np.ndarray, grid: SpectralGrid, *, max_edge_nm: float = 0.0,
    max_gap_nm: float = 0.0, what: str = "the scene",
) -> tuple[np.ndarray, np.ndarray]:
    """The linear map from a set of bands onto a grid, filling missing grid bands within limits.

    Target bands are Gaussian band models (SPy ``BandResampler``) over the source bands sorted by
    wavelength (AVIRIS lists step back where its spectrometers overlap). Grid bands that see
    none of the source bands are filled (:func:`fill_matrix`) when within ``max_edge_nm`` of the
    source range or inside a gap of at most ``max_gap_nm``.

    Parameters
    ----------
    wavelengths, widths : ndarray, shape (C,)
        Centres and FWHM of the source bands (nm), in their own order.
    grid : SpectralGrid
    max_edge_nm, max_gap_nm : float
        Limits of the filling; 0 fills nothing.
    what : str
        How messages name the source.

    Returns
    -------
    matrix : ndarray, shape (G, C)
        ``spectrum_on_grid = matrix @ spectrum`` for a spectrum in the source's band order.
    filled : ndarray of bool, shape (G,)
        The grid bands that were filled.

    Raises
    ------
    WavelengthError
        When some grid bands see none of the source bands and cannot be filled; the message
        lists them.
    """
    from spectral import BandResampler

    wavelengths = np.asarray(wavelengths, dtype=float)
    order = np.argsort(wavelengths, kind="stable")
    # SPy logs one INFO line per grid band it cannot cover; the WavelengthError or the filling
    # below says the same once, so its logger is quiet for this call.
    spy_logger = logging.getLogger("spectral")
    level = spy_logger.level
    spy_logger.setLevel(logging.WARNING)
    try:
        resampler = BandResampler(
            wavelengths[order].tolist(), grid.centres.tolist(), np.asarray(widths, dtype=float)[order].tolist(),
            grid.fwhm.tolist(),
        )
    finally:
        spy_logger.setLevel(level)
    matrix = np.asarray(resampler.matrix, dtype=np.float64)
    empty = ~np.isfinite(matrix).all(axis=1) | (np.abs(matrix).sum(axis=1) == 0)
    if empty.any():
        reason = f"does not cover {int(empty.sum())} bands of grid {grid.name!r}"
        missing = ", ".join(f"{c:.0f}" for c in grid.centres[empty][:8])
        span = f"{wavelengths.min():.0f}-{wavelengths.max():.0f} nm"
        if empty.all():
            raise WavelengthError(f"{what} ({span}) {reason}: none of them")
        try:
            filling = fill_matrix(grid.centres, ~empty, max_edge_nm, max_gap_nm)
        except WavelengthError as exc:
            raise WavelengthError(f"{what} ({span}) {reason} (at {missing} nm...): {exc}") from None
        matrix = filling @ matrix[~empty]
    unsorted = np.empty_like(matrix)
    unsorted[:, order] = matrix
    return unsorted, empty


def resample(scene: Scene, grid: SpectralGrid, *, max_edge_nm: float = 0.0, max_gap_nm: float = 0.0) -> Scene:
    """A scene resampled onto another set of bands, filling missing ones within limits.

    The map is :func:`resampling_matrix`; the filled bands' grid indices are kept in
    ``meta["filled_bands"]`` (see :func:`filled_band_mask`). By default nothing is filled.

    Raises
    ------
    WavelengthError
        When the scene has no wavelengths, or some target bands see none of the scene's bands
        and cannot be filled; the message lists them.
    """
    wavelengths = scene.require_wavelengths("spectral resampling")
    matrix, filled = resampling_matrix(wavelengths, band_widths(scene), grid, max_edge_nm=max_edge_nm,
                                       max_gap_nm=max_gap_nm, what=f"scene {scene.name!r}")
    cube = scene.cube @ matrix.T.astype(np.float32)
    meta = dict(scene.meta, resampled_from=f"{scene.bands} bands", grid=grid.name)
    if filled.any():
        meta["filled_bands"] = np.flatnonzero(filled).tolist()
    else:
        meta.pop("filled_bands", None)
    return scene.with_cube(cube, wavelengths=grid.centres.copy(), fwhm=grid.fwhm.copy(), meta=meta)


def interpolation_matrix(grid: SpectralGrid, wavelengths: np.ndarray, max_step_nm: float) -> np.ndarray:
    """Values on a grid's bands interpolated linearly in wavelength at other band centres.

    A band between two grid bands at most ``max_step_nm`` apart gets their linear interpolation;
    one beyond the grid's range or inside a wider gap (its water-absorption windows) copies the
    nearest grid band when within ``max_step_nm / 2`` of it; any other band gets nothing:
    its row is zero (``matrix.any(axis=1)`` says which bands got a value).

    Parameters
    ----------
    grid : SpectralGrid
    wavelengths : ndarray, shape (C,)
        Target band centres (nm), in any order.
    max_step_nm : float

    Returns
    -------
    ndarray, shape (C, G)
    """
    order = np.argsort(grid.centres, kind="stable")
    centres = grid.centres[order]
    weights = np.zeros((np.size(wavelengths), centres.size))
    for band, centre in enumerate(np.asarray(wavelengths, dtype=float)):
        high = int(np.searchsorted(centres, centre))
        if high < centres.size and abs(centres[high] - centre) < 1e-9:
            weights[band, high] = 1.0
        elif 0 < high < centres.size and centres[high] - centres[high - 1] <= max_step_nm:
            share = (centre - centres[high - 1]) / (centres[high] - centres[high - 1])
            weights[band, high - 1], weights[band, high] = 1.0 - share, share
        else:
            neighbours = [i for i in (high - 1, high) if 0 <= i < centres.size]
            nearest = min(neighbours, key=lambda i: abs(centres[i] - centre))
            if abs(centres[nearest] - centre) <= max_step_nm / 2:
                weights[band, nearest] = 1.0
    unsorted = np.empty_like(weights)
    unsorted[:, order] = weights
    return unsorted


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
