"""Fusing a user's own pair: two georeferenced files in, a georeferenced fused file and a report out.

:func:`fuse_pair` is the whole pipeline behind ``python -m s3rnet fuse``, the app's "Your own pair"
tab and notebook 4. Every step is recorded in the report it returns (and writes as JSON):

1. **open** both files for windowed reading (:func:`s3rnet.geo.open_image`); nothing is loaded whole;
2. **geometry** (:func:`pair_geometry`): the same CRS, the ratio from the pixel sizes (an integer)
   when both are georeferenced, else from the image sizes or ``ratio``; the common extent cut out,
   the LR-HSI's whole pixels inside it and the HR-MSI's pixels under them, so that the sizes are
   multiples of the ratio; the output georeferenced like the HR-MSI;
3. **statistics** fitted once, on the LR grid, on the whole overlap when it has at most
   :data:`SAMPLE_PIXELS` LR pixels and otherwise on :data:`SAMPLE_BLOCKS` blocks spread over it:
   the MSI response (:mod:`s3rnet.response`; the MSI is then used in the HSI's radiometry), the
   classical methods' regressions, the network's input scales; all tiles use them, so they agree;
4. **registration** (:mod:`s3rnet.registration`) on the central block: the LR-HSI seen through the
   response against the HR-MSI degraded to the LR grid; with ``register="auto"`` a shift above
   0.1 LR pixel is corrected (the LR-HSI is moved back, window by window) and the response refitted;
5. **method**: the one asked for, or a published checkpoint that fits the pair (its bands, or bands
   that reach its grid (:class:`GridBridge`), ratio, PSF, MSI bands, and a response within
   :data:`CHECKPOINT_RESPONSE_TOLERANCE`, or one that explains the MSI about as well as the pair's
   own once the LR-HSI's noise is allowed for; of several, the one that uses the most MSI bands,
   then one within the tolerance, then the one whose response explains the MSI best), else
   MTF-GLP-HPM, or HySime-Wiener-Hybrid when the LR-HSI looks noisy (:data:`NOISY_FALLBACK_SNR_DB`);
   the reasons each checkpoint was passed over are recorded. A checkpoint on
   another grid than the pair's bands corrects its classical estimate on its grid, and that
   correction comes back onto the pair's bands; one that learned fewer MSI bands than the pair has
   sees the pair's bands nearest its own (:class:`CheckpointFit`), and its correction goes onto
   its classical estimate made with every MSI band; one whose MSI response fits neither way (an
   MSI of another sensor) may see its own bands emulated from the pair's
   (:func:`s3rnet.response.emulate_bands`), its correction going onto that estimate too;
6. **tiles**: classical methods run on tiles with a halo wide enough that each tile's core equals
   the untiled result; so does the network, with a halo of its own context, the normalisation and
   its classical estimate's statistics fitted once (agreement up to the channel attention, which
   pools over the tile: 1.8e-3 of the largest value on 16 px tiles for lite-oli4, tested); the
   output is streamed to disk (:class:`s3rnet.geo.RasterWriter`), so peak memory depends on the
   tile, not on the scene (glibc's mmap threshold is fixed so that freed tiles' cubes are given
   back: :mod:`s3rnet.allocator`); a method that unmixes the scene as one (CNMF and its denoised forms)
   runs on the whole pair when it has at most ``window`` x ``window`` HR pixels, and above in
   overlapping windows of that side, each window's result fading into its neighbours' over the
   pixels they share (:func:`window_starts`, :func:`fade_in`), so the output has no seams; a
   checkpoint that names an ensemble partner (``python -m s3rnet ensemble``) has its output blended
   with that classical method the same way, the partner's share measured on each window; a
   checkpoint's projection onto its inputs (``python -m s3rnet project``) is applied only when
   asked for (``project``; see :data:`REAL_PAIR_PROJECTION`; the report says so);
7. **quality** without ground truth (:mod:`s3rnet.quality`): consistency with both inputs over the
   whole output (a pass over it in strips) and the QNR family on a central crop of at most
   :data:`QUALITY_CROP` pixels.
"""

from __future__ import annotations

import dataclasses
import json
import math
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from .allocator import MMAP_THRESHOLD_BYTES, fix_mmap_threshold
from .baselines._common import covering_band, upsample
from .baselines.noise import lrhsi_band_noise
from .degrade import MSI_RESPONSES, PSFS, gaussian_sigma, spatial_degrade
from .errors import ConfigError, ResponseRangeError, S3RNetError, ShapeError, WavelengthError
from .geo import GeoImage, RasterWriter, describe_crs, open_image, same_crs
from .quality import ConsistencyAccumulator, no_reference
from .registration import CORRECTION_THRESHOLD, correct_shift, estimate_shift
from .fusion import FusionInputs
from .response import (
    BandEmulation, ResponseFit, band_support, emulate_bands, estimate_response, fit_gain_offset, named_response,
    nearest_bands, noise_attenuation, read_response_csv, response_distance,
)

ProgressCallback = Callable[[float, str], None]

# Methods that run tile by tile; every other registered method (CNMF and its denoised forms, which
# unmix the scene as one) runs on the whole scene, or in overlapping windows above WHOLE_SCENE_WINDOW.
TILED_METHODS = (
    "bicubic", "gsa", "mtf-glp-hpm", "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid",
)
# The subspace methods: the LR-HSI projected onto its HySime subspace (fitted once, on the
# sample; plus the Wiener-kept residual for the Wiener ones), then the classical methods they name,
# blended band by band for hysime-wiener-hybrid.
SUBSPACE_METHODS = {
    "hysime-gsa": ("gsa",), "hysime-mtf": ("mtf-glp-hpm",), "hysime-wiener-mtf": ("mtf-glp-hpm",),
    "hysime-wiener-hybrid": ("gsa", "mtf-glp-hpm"),
}
DEFAULT_METHOD = "mtf-glp-hpm"
# When no checkpoint fits and the LR-HSI's SNR as HySime reads it on the sample is under
# NOISY_FALLBACK_SNR_DB, the fallback is NOISY_FALLBACK, which denoises the LR-HSI first.
# benchmarks/fuse_fallback.py (9 validation pairs per row, ALI's pan band, OLI 4-band and
# WorldView-2 HR images, response estimated; /work/team/s23/decision.md): HySime reads 32.5-49.5 dB
# on clean pairs, 30.0-33.9 at 35 dB; of HySime-Wiener-Hybrid and -MTF under 28, 30, 32 or 34 dB,
# HySime-Wiener-Hybrid under 34 dB scored best over the rows (mean 28.33 dB against MTF-GLP-HPM's
# 24.12; 27.70 against 22.08 at 35, 25 and 15 dB) and cost clean rows at most 0.04 dB; always
# denoising cost them up to 0.62 dB.
NOISY_FALLBACK = "hysime-wiener-hybrid"
NOISY_FALLBACK_SNR_DB = 34.0
# LR pixels of the statistics: the whole overlap up to this many, else SAMPLE_BLOCKS blocks of
# SAMPLE_BLOCK x SAMPLE_BLOCK LR pixels spread over it.
SAMPLE_PIXELS = 256 * 256
SAMPLE_BLOCK = 64
SAMPLE_BLOCKS = 16
# LR pixels of context around a network's tile. The published lite-oli4 (GSA estimate included),
# tiled in 16 px tiles of a 144 x 144 pair against one pass: largest difference relative to the
# largest value 4.7e-3 with a halo of 16, 2.6e-4 with 20, 9.9e-7 with 24 (tests/test_fuse.py).
NETWORK_HALO_LR = 24
# Bytes of a strip of rows in which a tile's classical fusion computes what has the cube's bands
# (the modulation of MTF-GLP-HPM, the injected detail of GSA) instead of one more whole cube.
STRIP_BYTES = 8 * 2**20
# HR pixels (per side) of the central crop on which the HR-MSI's noise is estimated.
NOISE_CROP = 512
# A checkpoint's fusion warns when an HR-MSI band's estimated SNR is under this. The published
# networks learned a clean HR-MSI. benchmarks/msi_noise.py --hrmsi-noise one --noisy-band 6
# (lite-oli6 blended with its partner as fuse runs it, LR-HSI at 35 dB, OLI band 7 alone noisy;
# validation scenes):
# at 20 dB it still led PCA-Wiener-CNMF (Indian Pines val 33.56 against 32.63 dB, synthetic val
# 37.83 against 34.94), at 15 dB it fell 0.29 dB under it on Indian Pines val (32.19 / 2.047 deg
# against 32.48 / 2.007) and still led on the synthetic scenes (36.64 against 33.52). With every
# band at 20 dB it led too (benchmarks/msi_noise.py --hrmsi-noise band). The estimate reads a
# band at 20 dB as 17.6-20.2 dB (benchmarks/msi_noise_estimate.py), hence 18.
NOISY_MSI_SNR_DB = 18.0
NOISY_MSI_ADVICE = ("the published networks learned a clean HR-MSI, and with one band at 15 dB lite-oli6 fell 0.3 dB "
                    "under PCA-Wiener-CNMF on the Indian Pines validation region: compare with --method pca-wiener-cnmf")
# A classical method that does not denoise the LR-HSI gets a warning under this LR-HSI SNR
# (estimated by HySime on the LR sample). benchmarks/lrhsi_noise_estimate.py (Indian Pines val, 8
# synthetic val scenes) reads 32.5-49.5 dB on clean LR-HSIs (HySime counts what neighbouring bands
# cannot predict as noise), 30.0-33.9 at 35 dB, 23.6-24.4 at 25 dB; at 25 dB MTF-GLP-HPM scored
# 24.0-25.0 dB where HySime-Wiener-MTF scored 29.8-32.4 (benchmarks/fuse_choice.py).
NOISY_LRHSI_SNR_DB = 28.0
NOISE_ROBUST_METHODS = (
    "hysime-gsa", "hysime-mtf", "hysime-wiener-mtf", "hysime-wiener-hybrid", "hysime-wiener-cnmf", "pca-wiener-cnmf",
)
# The central LR block on which the shift is measured.
REGISTRATION_BLOCK = 256
# HR pixels (per side) of the central crop scored by the no-reference indices.
QUALITY_CROP = 256
# Largest total-variation distance between the pair's response and a checkpoint's (per MSI band):
# a response estimated from a clean simulated OLI pair lies within 0.25 of the true one
# (tests/test_response.py).
CHECKPOINT_RESPONSE_TOLERANCE = 0.25
# A checkpoint's response farther than that still fits when it explains the pair's MSI bands about
# as well as the pair's own response: it leaves at most twice the unexplained variance, plus this
# share of each band's variance. Measured on Indian Pines: the OLI response leaves 0 on an OLI pair,
# 0.07-0.37% on a Sentinel-2 pair (refused), 4-79% on a binned one.
CHECKPOINT_UNEXPLAINED_MARGIN = 1e-3
# A checkpoint that fits neither way may still run on its own bands emulated from the pair's
# (s3rnet.response.emulate_bands) when each leaves at most this share of its variance unexplained
# beyond the LR-HSI's noise. Set before it was measured (/work/team/s23/decision.md).
EMULATION_MAX_UNEXPLAINED = 0.02
# ... and when at least this share of each of its bands' response lies where the pair's MSI looks
# (where one of the pair's bands responds at EMULATION_LOOKS of its peak or more): a band where the
# MSI does not look is not emulated, however well the scene's spectra let it be predicted (OLI's
# SWIR bands from WorldView-2's VNIR bands: 96.8% and 97.9% of their variance on Indian Pines,
# tests/test_response.py). On the validation pairs of benchmarks/fuse_choice.py, with the response
# estimated, OLI's bands had 0.59-1.0 of their response where an ALI pair looks, its SWIR bands
# 0-0.27 where a WorldView-2 pair does, clean to 15 dB; a band centroid was no guide (an ALI
# pair's SWIR2 estimated at 2137 nm at 35 dB against 2216).
EMULATION_COVERAGE = 0.5
EMULATION_LOOKS = 0.25
# A CNMF fusion holds the whole scene (it unmixes it as one): a pair of more than this side squared
# HR pixels is unmixed in overlapping windows of this side. PCA-Wiener-CNMF on a 512 x 512 x 200
# pair: 105 s and a peak of 1345 MiB on one thread (benchmarks/bench_large.py --size 512).
WHOLE_SCENE_WINDOW = 512
# HR pixels that neighbouring windows share, at least (about: starts fall on LR pixels), over which
# one window's result fades into the next's. benchmarks/fuse_windows.py (two synthetic validation
# seeds, 384 x 384, oli6, 35 dB): lite-oli6 blended with PCA-Wiener-CNMF in 9 windows of 192 px
# 38.780 dB / 0.832 deg, on the whole pair 38.706 / 0.837, the network alone 38.504 / 0.863.
WINDOW_OVERLAP = 64
# Why a checkpoint's projection onto its inputs (s3rnet.consistency) is applied to a real pair only
# when asked for. benchmarks/fuse_projection.py (validation pairs, OLI 6-band, response estimated;
# selection PSNR): with the box PSF fuse assumes, +0.26 dB clean and +0.17 dB at 35 dB; with a
# Gaussian PSF, +0.22 clean and -0.23 at 35 dB. Real pairs rarely have the assumed PSF.
REAL_PAIR_PROJECTION = (
    "not applied unless asked for (project=True, --project): it makes the output reproduce both inputs through the "
    "fitted response and the assumed PSF, and on validation pairs whose PSF was not the assumed one it cost 0.23 dB "
    "at 35 dB (it gained 0.17-0.26 dB where the PSF was the assumed one)"
)
PROJECTION_ASKED = ("asked for: the output reproduces both inputs through the fitted response and the assumed PSF, as far "
                    "as the LR-HSI's noise allows")
# LR pixels read around a window whose shift is corrected (the cubic spline's reach).
_SHIFT_MARGIN = 16
# Relative tolerance on an integer pixel-size ratio.
_RATIO_TOLERANCE = 1e-3


# --------------------------------------------------------------------------------------------
# Geometry
# --------------------------------------------------------------------------------------------


@dataclass
class PairGeometry:
    """Where the two images overlap, at which ratio, and the output's georeferencing.

    Attributes
    ----------
    ratio : int
    lr_window : (row, col, rows, cols)
        In the LR-HSI's pixels.
    hr_window : (row, col, rows, cols)
        In the HR-MSI's pixels; ``rows = ratio * lr rows``.
    transform, crs
        Of the output (the HR-MSI's grid), or None.
    grid_offset_hr : (float, float) or None
        How far (HR pixels, rows and columns) the LR grid's edges sit from the HR pixel edges
        they were rounded to; registration measures and corrects what it amounts to.
    steps : list of str
        What was done, in words.
    """

    ratio: int
    lr_window: tuple[int, int, int, int]
    hr_window: tuple[int, int, int, int]
    transform: Any
    crs: Any
    grid_offset_hr: tuple[float, float] | None
    steps: list[str] = field(default_factory=list)

    @property
    def lr_shape(self) -> tuple[int, int]:
        return self.lr_window[2], self.lr_window[3]

    @property
    def hr_shape(self) -> tuple[int, int]:
        return self.hr_window[2], self.hr_window[3]


def _integer_ratio(hsi: GeoImage, msi: GeoImage) -> int:
    (hx, hy), (mx, my) = hsi.pixel_size, msi.pixel_size
    rx, ry = hx / mx, hy / my
    rounded = round(rx)
    if rounded < 1 or abs(rx - rounded) > _RATIO_TOLERANCE * rx or abs(ry - rounded) > _RATIO_TOLERANCE * ry:
        raise ShapeError(
            f"{hsi.path} has {hx:g} x {hy:g} pixels and {msi.path} {mx:g} x {my:g}: a pixel-size ratio of "
            f"{rx:.4f} x {ry:.4f}, not an integer; resample one of them to an integer ratio first"
        )
    return int(rounded)


def pair_geometry(hsi: GeoImage, msi: GeoImage, ratio: int | None = None) -> PairGeometry:
    """The common extent of the two images, the ratio and the windows to read (see the module docstring).

    Raises
    ------
    ShapeError
        Different CRS, extents that do not overlap, a pixel-size ratio that is not an integer, a
        ``ratio`` that contradicts the pixel sizes, images too small for one LR pixel.
    """
    if ratio is not None and (not isinstance(ratio, int) or ratio < 1):
        raise ConfigError(f"the ratio must be a positive integer, got {ratio!r}")
    steps: list[str] = []
    if hsi.georeferenced and msi.georeferenced:
        return _georeferenced_geometry(hsi, msi, ratio, steps)
    if hsi.georeferenced != msi.georeferenced:
        bare = msi if hsi.georeferenced else hsi
        steps.append(f"{bare.path} has no georeferencing: the images are matched by their sizes, upper-left corners together")
    if ratio is None:
        ry, rx = msi.rows / hsi.rows, msi.cols / hsi.cols
        if ry != rx or not float(rx).is_integer():
            raise ShapeError(
                f"{hsi.path} is {hsi.rows}x{hsi.cols} and {msi.path} {msi.rows}x{msi.cols}: without georeferencing "
                f"the ratio comes from the sizes, and {ry:.4f} x {rx:.4f} is not one integer; give the ratio"
            )
        ratio = int(rx)
        steps.append(f"ratio {ratio} from the image sizes")
    else:
        steps.append(f"ratio {ratio} as given")
    rows, cols = min(hsi.rows, msi.rows // ratio), min(hsi.cols, msi.cols // ratio)
    if rows < 1 or cols < 1:
        raise ShapeError(f"{msi.path} ({msi.rows}x{msi.cols}) is smaller than one LR pixel at ratio {ratio}")
    if (rows * ratio, cols * ratio) != (msi.rows, msi.cols) or (rows, cols) != (hsi.rows, hsi.cols):
        steps.append(f"cropped to {rows}x{cols} LR pixels = {rows * ratio}x{cols * ratio} HR pixels (a multiple of the ratio)")
    transform = msi.transform if msi.georeferenced else None
    return PairGeometry(ratio, (0, 0, rows, cols), (0, 0, rows * ratio, cols * ratio), transform, msi.crs, None, steps)


def _georeferenced_geometry(hsi: GeoImage, msi: GeoImage, ratio: int | None, steps: list[str]) -> PairGeometry:
    from rasterio.transform import Affine

    if not same_crs(hsi.crs, msi.crs):
        raise ShapeError(
            f"{hsi.path} is in {describe_crs(hsi.crs)} and {msi.path} in {describe_crs(msi.crs)}: different "
            f"coordinate systems; reproject one onto the other's first"
        )
    for image in (hsi, msi):
        if image.transform.a <= 0 or image.transform.e >= 0:
            raise ShapeError(f"{image.path}: the grid is not north-up ({image.transform}); warp it first")
    measured = _integer_ratio(hsi, msi)
    if ratio is not None and ratio != measured:
        raise ShapeError(
            f"the ratio {ratio} was given, but the pixel sizes of {hsi.path} and {msi.path} give {measured}"
        )
    ratio = measured
    steps.append(f"ratio {ratio} from the pixel sizes ({hsi.pixel_size[0]:g} and {msi.pixel_size[0]:g} map units)")
    (hl, hb, hr, ht), (ml, mb, mr, mt) = hsi.bounds(), msi.bounds()
    left, bottom, right, top = max(hl, ml), max(hb, mb), min(hr, mr), min(ht, mt)
    if left >= right or bottom >= top:
        raise ShapeError(
            f"the extents do not overlap: {hsi.path} covers x {hl:.1f}..{hr:.1f}, y {hb:.1f}..{ht:.1f} and "
            f"{msi.path} x {ml:.1f}..{mr:.1f}, y {mb:.1f}..{mt:.1f} ({describe_crs(hsi.crs)})"
        )
    t, size_x, size_y = hsi.transform, hsi.pixel_size[0], hsi.pixel_size[1]
    eps = 1e-6
    c0 = math.ceil((left - t.c) / size_x - eps)
    c1 = math.floor((right - t.c) / size_x + eps)
    r0 = math.ceil((t.f - top) / size_y - eps)
    r1 = math.floor((t.f - bottom) / size_y + eps)
    m, msize_x, msize_y = msi.transform, msi.pixel_size[0], msi.pixel_size[1]
    hc_exact = (t.c + c0 * size_x - m.c) / msize_x
    hr_exact = (m.f - (t.f - r0 * size_y)) / msize_y
    hc0, hr0 = round(hc_exact), round(hr_exact)
    # Whole LR pixels whose HR block lies inside the HR-MSI (rounding may push one edge out).
    c0 += max(0, math.ceil(-hc0 / ratio))
    r0 += max(0, math.ceil(-hr0 / ratio))
    hc0, hr0 = round((t.c + c0 * size_x - m.c) / msize_x), round((m.f - (t.f - r0 * size_y)) / msize_y)
    cols = min(c1 - c0, (msi.cols - hc0) // ratio)
    rows = min(r1 - r0, (msi.rows - hr0) // ratio)
    if rows < 1 or cols < 1:
        raise ShapeError(f"the overlap of {hsi.path} and {msi.path} holds no whole LR pixel")
    offset = (hr_exact - round(hr_exact), hc_exact - round(hc_exact))
    steps.append(
        f"common extent: LR-HSI rows {r0}:{r0 + rows}, cols {c0}:{c0 + cols}; HR-MSI rows {hr0}:{hr0 + rows * ratio}, "
        f"cols {hc0}:{hc0 + cols * ratio} ({rows * ratio}x{cols * ratio} HR pixels)"
    )
    if max(abs(offset[0]), abs(offset[1])) > 1e-3:
        steps.append(
            f"the LR grid sits {offset[0]:+.3f}, {offset[1]:+.3f} HR pixels (rows, cols) off the HR grid; "
            f"registration measures what remains"
        )
    transform = m @ Affine.translation(hc0, hr0)
    return PairGeometry(ratio, (r0, c0, rows, cols), (hr0, hc0, rows * ratio, cols * ratio), transform, msi.crs,
                        offset, steps)


# --------------------------------------------------------------------------------------------
# Reading the pair
# --------------------------------------------------------------------------------------------


class PairReader:
    """Windows of the two images on the common grid: the LR-HSI (shift-corrected) and the HR-MSI.

    LR coordinates are relative to the LR window, HR coordinates to the HR window; the MSI comes
    in its own units (:meth:`msi`) or in the HSI's radiometry once a response is fitted.
    """

    def __init__(self, hsi: GeoImage, msi: GeoImage, geometry: PairGeometry) -> None:
        self.hsi, self.msi, self.geometry = hsi, msi, geometry
        self.shift = (0.0, 0.0)
        self.fit: ResponseFit | None = None

    def lr(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """LR-HSI rows ``r0:r1``, cols ``c0:c1`` of the common grid, moved back by :attr:`shift`."""
        top, left, rows, cols = self.geometry.lr_window
        if not any(self.shift):
            return self.hsi.read((top + r0, top + r1), (left + c0, left + c1))
        # Read a margin (inside the common window, mirrored beyond it as in the untiled case).
        m0, m1 = max(0, r0 - _SHIFT_MARGIN), min(rows, r1 + _SHIFT_MARGIN)
        n0, n1 = max(0, c0 - _SHIFT_MARGIN), min(cols, c1 + _SHIFT_MARGIN)
        block = self.hsi.read((top + m0, top + m1), (left + n0, left + n1))
        return correct_shift(block, self.shift)[r0 - m0 : r1 - m0, c0 - n0 : c1 - n0]

    def msi_raw(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        top, left, _, _ = self.geometry.hr_window
        return self.msi.read((top + r0, top + r1), (left + c0, left + c1))

    def hr(self, r0: int, r1: int, c0: int, c1: int) -> np.ndarray:
        """HR-MSI window in the HSI's radiometry (the response fit's gains and offsets undone)."""
        raw = self.msi_raw(r0, r1, c0, c1)
        return raw if self.fit is None else self.fit.to_hsi_units(raw)


def hrmsi_noise(reader: PairReader) -> dict[str, Any]:
    """Each HR-MSI band's SNR, estimated on the central :data:`NOISE_CROP` x :data:`NOISE_CROP` HR
    pixels of the common window (:func:`s3rnet.baselines.noise.hrmsi_band_snr`)."""
    from .baselines.noise import hrmsi_band_snr

    big_h, big_w = reader.geometry.hr_shape
    rows, cols = min(NOISE_CROP, big_h), min(NOISE_CROP, big_w)
    r0, c0 = (big_h - rows) // 2, (big_w - cols) // 2
    snr = hrmsi_band_snr(reader.msi_raw(r0, r0 + rows, c0, c0 + cols))
    return {"band_snr_db": [round(float(v), 2) if np.isfinite(v) else None for v in snr], "crop_hr": [r0, r0 + rows, c0, c0 + cols],
            "estimate": "Immerkaer's mask, each band's part that the other bands do not explain, its median absolute "
                        "deviation (errs towards more noise on textured bands)"}


def sample_blocks(rows: int, cols: int, margin: int = 0) -> list[tuple[int, int, int, int]]:
    """LR windows ``(r0, r1, c0, c1)`` for the statistics: the whole grid, or blocks spread over it.

    ``margin`` LR pixels along the edges are left out (where a shift correction mirrors the image,
    its pixels are not the scene's), as long as 4 x 4 pixels remain.
    """
    if min(rows, cols) - 2 * margin < 4:
        margin = 0
    inner_r, inner_c = rows - 2 * margin, cols - 2 * margin
    if inner_r * inner_c <= SAMPLE_PIXELS:
        return [(margin, rows - margin, margin, cols - margin)]
    per_side = int(math.isqrt(SAMPLE_BLOCKS))
    size_r, size_c = min(SAMPLE_BLOCK, inner_r), min(SAMPLE_BLOCK, inner_c)
    starts_r = np.unique(np.linspace(margin, rows - margin - size_r, per_side).round().astype(int))
    starts_c = np.unique(np.linspace(margin, cols - margin - size_c, per_side).round().astype(int))
    return [(r, r + size_r, c, c + size_c) for r in starts_r for c in starts_c]


def _degrade(hr: np.ndarray, ratio: int, psf: str, mtf: float) -> np.ndarray:
    return spatial_degrade(np.ascontiguousarray(hr, dtype=np.float32), ratio, psf, mtf)


def read_sample(reader: PairReader, blocks, psf: str, mtf: float, in_hsi_units: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """The LR-HSI and the degraded HR-MSI of the sample blocks, stacked into one (n * h, w, .) image each."""
    ratio = reader.geometry.ratio
    lows, msis = [], []
    for r0, r1, c0, c1 in blocks:
        lows.append(reader.lr(r0, r1, c0, c1))
        read = reader.hr if in_hsi_units else reader.msi_raw
        msis.append(_degrade(read(r0 * ratio, r1 * ratio, c0 * ratio, c1 * ratio), ratio, psf, mtf))
    width = min(block.shape[1] for block in lows)
    return (np.concatenate([b[:, :width] for b in lows], axis=0),
            np.concatenate([b[:, :width] for b in msis], axis=0))


def central_block(rows: int, cols: int, size: int) -> tuple[int, int, int, int]:
    """The central ``size x size`` window (the whole grid when smaller)."""
    h, w = min(rows, size), min(cols, size)
    r0, c0 = (rows - h) // 2, (cols - w) // 2
    return r0, r0 + h, c0, c0 + w


# --------------------------------------------------------------------------------------------
# The MSI response
# --------------------------------------------------------------------------------------------


def check_msi_bands(hsi: GeoImage, msi: GeoImage) -> None:
    """Refuse an MSI whose recorded band centres lie outside the HSI's wavelengths."""
    if msi.wavelengths is None or hsi.wavelengths is None:
        return
    low, high = hsi.wavelengths.min(), hsi.wavelengths.max()
    outside = [(i, w) for i, w in enumerate(msi.wavelengths) if not low <= w <= high]
    if outside:
        listing = ", ".join(f"band {i + 1} at {w:.0f} nm" for i, w in outside)
        raise ResponseRangeError(
            f"{msi.path}: {listing} outside the wavelengths of {hsi.path} ({low:.0f}-{high:.0f} nm); the HSI "
            f"cannot predict what such a band sees: drop it from the MSI file"
        )


def fit_response(
    spec: str, hsi: GeoImage, msi: GeoImage, lrhsi: np.ndarray, lrmsi: np.ndarray,
) -> ResponseFit:
    """The response named by ``spec`` (``estimate``, a sensor name, or a CSV path), fitted to the pair.

    Parameters
    ----------
    lrhsi, lrmsi : ndarray, shape (h, w, C) and (h, w, M)
        The sample: the LR-HSI and the HR-MSI (its own units) degraded to the LR grid.
    """
    names = [f"{i + 1}" for i in range(msi.bands)]
    if spec == "estimate":
        support = None
        if msi.wavelengths is not None and hsi.wavelengths is not None:
            support = band_support(msi.wavelengths, msi.fwhm, hsi.wavelengths)
        try:
            return estimate_response(lrhsi, lrmsi, hsi.wavelengths, band_names=names, support=support)
        except ShapeError as exc:
            raise ShapeError(f"{msi.path} against {hsi.path}: {exc}") from exc
    try:
        if spec in MSI_RESPONSES:
            response, names = named_response(spec, hsi.wavelengths, hsi.fwhm)
            source = spec
        elif spec.lower().endswith(".csv"):
            if hsi.wavelengths is None:
                raise WavelengthError(f"{hsi.path} has no wavelengths, and the response table {spec} needs them")
            response, names = read_response_csv(spec, hsi.wavelengths, hsi.fwhm)
            source = spec
        else:
            raise ConfigError(
                f"unknown MSI response {spec!r}: 'estimate', a sensor ({', '.join(MSI_RESPONSES)}) or a .csv table"
            )
    except (ResponseRangeError, WavelengthError) as exc:
        raise type(exc)(f"{hsi.path} with MSI response {spec}: {exc}") from exc
    if response.shape[0] != msi.bands:
        raise ShapeError(
            f"{msi.path} has {msi.bands} bands, but the MSI response {spec} has {response.shape[0]} "
            f"({', '.join(names)}); give the response of the bands the file holds"
        )
    return fit_gain_offset(lrhsi, lrmsi, response, source, names)


def cross_fitted_noise_power(spec: str, hsi: GeoImage, msi: GeoImage, lrhsi: np.ndarray, lrmsi: np.ndarray) -> float:
    """The LR-HSI's noise power read through the pair's response fitted on the other half of the sample.

    The response :func:`fit_response` fits (``spec``) on the even LR rows is read on the odd ones,
    and the reverse: the mean square of ``R X_h - X_m`` (the MSI in the HSI's radiometry) over
    pixels and bands, over ``||R||_F^2``, averaged over the two ways. Read on the rows it was
    fitted on, an estimated response takes up part of the noise (it is fitted to it), and the
    ensemble partner's share, which must know how much of the network's LR-HSI residual is noise,
    rose to 0.57 of PCA-Wiener-CNMF on a 15 dB Indian Pines pair (0.22 with the true response).

    Parameters
    ----------
    lrhsi, lrmsi : ndarray, shape (h, w, C) and (h, w, M)
        The sample: the LR-HSI and the HR-MSI (its own units) degraded to the LR grid; h >= 2.

    Returns
    -------
    float
    """
    halves = (slice(0, None, 2), slice(1, None, 2))
    powers = []
    for fitted_on, read_on in (halves, halves[::-1]):
        fit = fit_response(spec, hsi, msi, lrhsi[fitted_on], lrmsi[fitted_on])
        seen = lrhsi[read_on].astype(np.float64) @ fit.response.T
        disagreement = seen - fit.to_hsi_units(lrmsi[read_on]).astype(np.float64)
        powers.append(float(np.sum(np.mean(np.square(disagreement), axis=(0, 1))) / np.sum(np.square(fit.response))))
    return float(np.mean(powers))


# --------------------------------------------------------------------------------------------
# Methods with global statistics
# --------------------------------------------------------------------------------------------


@dataclass
class TileContext:
    """What a tile's fusion needs besides its pixels: the pair's degradation and the global statistics."""

    ratio: int
    psf: str
    mtf: float
    response: np.ndarray
    statistics: dict[str, Any]


def _low_pass(hr: np.ndarray, context: TileContext) -> np.ndarray:
    return upsample(_degrade(hr, context.ratio, context.psf, context.mtf), context.ratio)


def _denoise(cube: np.ndarray, basis: np.ndarray, gains: np.ndarray | None) -> np.ndarray:
    """The projection onto ``basis``, plus the residual times ``gains`` when there are any."""
    from .baselines.hysime_gsa import project
    from .baselines.hysime_wiener_mtf import denoise

    return project(cube, basis) if gains is None else denoise(cube, basis, gains)


def fit_statistics(method: str, lrhsi: np.ndarray, lrmsi: np.ndarray, response: np.ndarray | None,
                   wavelengths: np.ndarray | None = None) -> dict[str, Any]:
    """A classical method's global statistics, fitted once on the LR sample.

    * ``hysime-gsa``, ``hysime-mtf``, ``hysime-wiener-mtf``, ``hysime-wiener-hybrid``: the basis of
      the sample's HySime signal subspace (:func:`s3rnet.baselines.hysime_gsa.fit_subspace`,
      neighbours in ``wavelengths`` order), the gains of the residual each band keeps (the Wiener
      gains of :func:`s3rnet.baselines.hysime_wiener_mtf.fit_denoiser`, else None: the projection
      alone), and under ``"inner"`` the statistics of GSA and/or MTF-GLP-HPM on the denoised
      sample; for the hybrid also each band's share of GSA
      (:func:`s3rnet.baselines.hysime_wiener_hybrid.gsa_weights`);
    * ``mtf-glp-hpm``: the non-negative weights of each band's synthetic pan
      (:func:`s3rnet.baselines.mtf_glp_hpm.pan_weights`) and the floor of the low-pass pan;
    * ``gsa``: the intensity regression (:func:`s3rnet.baselines.gsa.intensity_weights`), the
      intensity's mean and standard deviation, the MSI's mean and low-pass standard deviation, and
      the injection gains, all on the LR grid (the untiled baseline takes the last three at HR).
    """
    if method in SUBSPACE_METHODS:
        from .baselines.hysime_gsa import fit_subspace
        from .baselines.hysime_wiener_mtf import fit_denoiser

        if method.startswith("hysime-wiener-"):
            basis, gains = fit_denoiser(lrhsi, wavelengths)
        else:
            basis, gains = fit_subspace(lrhsi, wavelengths), None
        denoised = _denoise(lrhsi, basis, gains)
        inner = {name: fit_statistics(name, denoised, lrmsi, response) for name in SUBSPACE_METHODS[method]}
        statistics = {"basis": basis, "gains": gains, "dimension": basis.shape[1], "inner": inner}
        if method == "hysime-wiener-hybrid":
            from .baselines.hysime_wiener_hybrid import gsa_weights

            statistics["gsa_weights"] = gsa_weights(gains, response)
        return statistics
    if method == "mtf-glp-hpm":
        from .baselines.mtf_glp_hpm import _FLOOR, pan_weights

        weights = pan_weights(lrhsi, lrmsi, response, "regression")
        floor = _FLOOR * np.abs(lrmsi.reshape(-1, lrmsi.shape[-1]).astype(np.float64) @ weights).mean(axis=0)
        return {"weights": weights.astype(np.float32), "floor": floor.astype(np.float32)}
    if method == "gsa":
        from .baselines.gsa import injection_gains, intensity_weights

        weights, intercept = intensity_weights(lrhsi, lrmsi)
        intensity = lrhsi.astype(np.float64) @ weights + intercept
        band = covering_band(lrhsi, lrmsi, response)
        injection = np.zeros((lrmsi.shape[-1], lrhsi.shape[-1]))
        injection[band, np.arange(band.size)] = injection_gains(lrhsi.astype(np.float64), intensity, band)
        return {
            "weights": weights.astype(np.float32), "intercept": intercept.astype(np.float32),
            "intensity_mean": intensity.mean(axis=(0, 1)), "intensity_std": intensity.std(axis=(0, 1)),
            "msi_mean": lrmsi.mean(axis=(0, 1), dtype=np.float64), "msi_low_std": lrmsi.std(axis=(0, 1), dtype=np.float64),
            "injection": injection.astype(np.float32),
        }
    return {}


def _row_strips(shape: tuple[int, ...]) -> list[slice]:
    """Slices of the rows of a (H, W, C) float32 cube, each about :data:`STRIP_BYTES`."""
    rows = max(1, STRIP_BYTES // (int(np.prod(shape[1:])) * 4))
    return [slice(start, min(start + rows, shape[0])) for start in range(0, shape[0], rows)]


def fuse_tile(method: str, lr: np.ndarray, hr: np.ndarray, context: TileContext) -> np.ndarray:
    """One tile of a classical method with the global statistics (float32 throughout).

    Parameters
    ----------
    lr : ndarray, shape (h, w, C)
    hr : ndarray, shape (h * ratio, w * ratio, M)
        In the HSI's radiometry.
    """
    stats = context.statistics
    if method in SUBSPACE_METHODS:
        denoised = _denoise(lr, stats["basis"], stats["gains"])
        fused = {
            name: fuse_tile(name, denoised, hr, dataclasses.replace(context, statistics=stats["inner"][name]))
            for name in SUBSPACE_METHODS[method]
        }
        if method == "hysime-wiener-hybrid":
            from .baselines.hysime_wiener_hybrid import blend

            return blend(fused["gsa"], fused["mtf-glp-hpm"], stats["gsa_weights"], out=fused["gsa"])
        return fused[SUBSPACE_METHODS[method][0]]
    up = upsample(lr, context.ratio)
    if method == "bicubic":
        return up
    # In place, and what has as many bands as the cube a strip of rows at a time: a tile's working
    # set sets the peak memory of a large pair's fusion.
    if method == "mtf-glp-hpm":
        weights = stats["weights"]
        pan_low_bands = _low_pass(hr, context)
        for rows in _row_strips(up.shape):
            modulation = hr[rows] @ weights
            pan_low = pan_low_bands[rows] @ weights
            reliable = pan_low > stats["floor"]
            np.divide(modulation, pan_low, out=modulation, where=reliable)
            modulation[~reliable] = 1.0
            up[rows] *= modulation
        return up
    if method == "gsa":
        intensity = up @ stats["weights"] + stats["intercept"]
        gain = np.divide(stats["intensity_std"], stats["msi_low_std"], out=np.ones_like(stats["intensity_std"]),
                         where=stats["msi_low_std"] > 0)
        pan = ((hr - stats["msi_mean"]) * gain + stats["intensity_mean"]).astype(np.float32)
        detail = pan - intensity
        for rows in _row_strips(up.shape):
            up[rows] += detail[rows] @ stats["injection"]
        return up
    raise ConfigError(f"method {method!r} does not run tile by tile; choose one of {', '.join(TILED_METHODS)}")


# --------------------------------------------------------------------------------------------
# Checkpoints
# --------------------------------------------------------------------------------------------


# A pair's band between two grid bands at most this many grid steps apart takes the network's
# correction interpolated between them; a band in a wider gap of the grid (its water-absorption
# windows) or beyond its range keeps the classical estimate alone.
BRIDGE_MAX_STEPS = 1.5


@dataclass(frozen=True)
class GridBridge:
    """How a pair whose bands are not a checkpoint's reaches its grid, and how the result comes back.

    The LR-HSI is resampled onto the checkpoint's grid, missing grid bands filled within the limits
    of :mod:`s3rnet.data.grids` (``to_grid``). The network there corrects a classical estimate;
    that correction, interpolated linearly in wavelength onto the pair's bands (``to_bands``), is
    added to the same classical method run on the pair's own bands. So the output keeps every band
    of the pair: bands the grid does not reach (water-absorption windows, beyond its range) hold
    the classical estimate alone, and the report lists them.

    Attributes
    ----------
    grid : SpectralGrid
    to_grid : ndarray, shape (G, C)
    filled : ndarray of bool, shape (G,)
        Grid bands the pair does not reach, filled from its neighbours.
    to_bands : ndarray, shape (C, G)
    """

    grid: Any
    to_grid: np.ndarray
    filled: np.ndarray
    to_bands: np.ndarray

    @classmethod
    def for_checkpoint(cls, metadata: dict, wavelengths: np.ndarray | None, fwhm: np.ndarray | None) -> GridBridge | None:
        """The bridge from the pair's bands to a checkpoint's grid; None when they are the same bands
        or either has no wavelengths.

        Raises
        ------
        WavelengthError
            When the pair misses grid bands beyond the filling limits.
        """
        from .data import FILL_EDGE_NM, FILL_GAP_NM, interpolation_matrix, resampling_matrix, spacing_widths
        from .inference import checkpoint_grid

        grid = checkpoint_grid(metadata)
        if grid is None or wavelengths is None:
            return None
        wavelengths = np.asarray(wavelengths, dtype=float)
        if wavelengths.size == grid.bands and np.abs(wavelengths - grid.centres).max() <= 1.0:
            return None
        widths = spacing_widths(wavelengths) if fwhm is None else np.asarray(fwhm, dtype=float)
        to_grid, filled = resampling_matrix(wavelengths, widths, grid, max_edge_nm=FILL_EDGE_NM,
                                            max_gap_nm=FILL_GAP_NM, what="the pair's LR-HSI")
        step = float(np.median(np.diff(np.sort(grid.centres))))
        to_bands = interpolation_matrix(grid, wavelengths, BRIDGE_MAX_STEPS * step)
        return cls(grid, to_grid.astype(np.float32), filled, to_bands.astype(np.float32))

    def to_grid_units(self, cube: np.ndarray) -> np.ndarray:
        """(..., C) on the pair's bands -> (..., G) on the grid."""
        return cube @ self.to_grid.T

    def to_pair_bands(self, cube: np.ndarray) -> np.ndarray:
        """(..., G) on the grid -> (..., C) on the pair's bands (zero where the grid does not reach)."""
        return cube @ self.to_bands.T

    def describe(self, wavelengths: np.ndarray, base: str) -> dict[str, Any]:
        """What the report says about the bridge."""
        reached = self.to_bands.any(axis=1)
        return {
            "checkpoint_grid": self.grid.name, "grid_bands": self.grid.bands,
            "filled_grid_bands_nm": [round(float(c), 1) for c in self.grid.centres[self.filled]],
            "pair_bands_corrected": int(reached.sum()),
            "pair_bands_classical_only_nm": [round(float(c), 1) for c in np.asarray(wavelengths)[~reached]],
            "how": f"the network's correction of {base} on the grid, interpolated onto the pair's bands and added to "
                   f"{base} on the pair's own bands; bands the grid does not reach keep {base} alone",
        }


class CheckpointFit(NamedTuple):
    """Whether a checkpoint fits a pair (:func:`checkpoint_fit`).

    Attributes
    ----------
    fits : bool
    reason : str
    distance : float or None
        Largest total-variation distance between the two responses' bands (0 identical, 1 disjoint).
    msi_bands : tuple of int or None
        When the pair's HR-MSI has more bands than the checkpoint's, the ones it runs on (indices
        into the pair's bands, one per checkpoint band, in the checkpoint's order); None when it
        runs on all of them.
    emulation : BandEmulation or None
        When the checkpoint runs on its own bands emulated from all of the pair's.
    """

    fits: bool
    reason: str
    distance: float | None = None
    msi_bands: tuple[int, ...] | None = None
    emulation: BandEmulation | None = None


def checkpoint_fit(metadata: dict, *, bands: int, wavelengths: np.ndarray | None, ratio: int, psf: str,
                   response: np.ndarray, explained: np.ndarray | None = None,
                   explained_by: Callable[[np.ndarray, Sequence[int] | None], np.ndarray] | None = None,
                   fwhm: np.ndarray | None = None,
                   emulate: Callable[[np.ndarray], BandEmulation] | None = None) -> CheckpointFit:
    """Whether a checkpoint fits the pair, why not, how far its MSI response is from the pair's,
    and on which of the pair's MSI bands it runs.

    A pair on other bands than the checkpoint's fits when it reaches the checkpoint's grid
    (:class:`GridBridge`); the checkpoint's response is then compared on the pair's bands. An
    HR-MSI with more bands than the checkpoint's (a 7-band Landsat 8 image for a 6-band OLI
    checkpoint, a 10-band Sentinel-2 stack for a 4- or 6-band one) fits on the bands nearest the
    checkpoint's (:func:`s3rnet.response.nearest_bands`) when those fit; the others are left out.

    Parameters
    ----------
    response : ndarray, shape (M, C)
        The pair's response (named, tabulated or estimated).
    explained : ndarray, shape (M,), optional
        Variance of each MSI band that the pair's response explains.
    explained_by : callable, optional
        ``explained_by(other_response, msi_bands) -> (K,)``: the same for another response of K
        bands, fitted to the pair's MSI bands ``msi_bands`` (all of them when None); ``fuse``
        corrects it for the LR-HSI's noise (:func:`s3rnet.response.noise_attenuation`), so it may
        exceed 1. With both, a response farther than :data:`CHECKPOINT_RESPONSE_TOLERANCE` still
        fits when it explains the MSI about as well (:data:`CHECKPOINT_UNEXPLAINED_MARGIN`).
    fwhm : ndarray, shape (C,), optional
        The pair's band widths, for resampling onto a checkpoint's grid.
    emulate : callable, optional
        ``emulate(other_response) -> BandEmulation``: another response's K bands emulated from the
        pair's MSI bands (:func:`s3rnet.response.emulate_bands`), their ``explained`` corrected for
        the LR-HSI's noise. A checkpoint of K <= M bands that fits neither way above still fits on
        its bands emulated from all of the pair's when each leaves at most
        :data:`EMULATION_MAX_UNEXPLAINED` of its variance unexplained and has at least
        :data:`EMULATION_COVERAGE` of its response where the pair's MSI looks.
    """
    from .checkpoints import CheckpointError, check_compatible

    estimate = metadata.get("estimate")
    if estimate is not None and estimate not in TILED_METHODS:
        return CheckpointFit(False, f"its network corrects {estimate}, which unmixes the scene as one; fuse runs a network "
                                    f"tile by tile, on the estimates that do too ({', '.join(TILED_METHODS)})")
    if metadata.get("wavelengths_nm") is not None and wavelengths is None:
        return CheckpointFit(False, "the pair's HSI has no wavelengths to compare with the checkpoint's")
    try:
        bridge = GridBridge.for_checkpoint(metadata, wavelengths, fwhm)
    except WavelengthError as exc:
        return CheckpointFit(False, f"the pair cannot reach the checkpoint's grid: {exc}")
    try:
        if bridge is None:
            check_compatible(metadata, bands=bands, wavelengths=wavelengths, ratio=ratio, what="the pair")
        else:
            check_compatible(metadata, ratio=ratio, what="the pair")
    except CheckpointError as exc:
        return CheckpointFit(False, str(exc))
    if metadata["psf"] != psf:
        return CheckpointFit(False, f"trained with the {metadata['psf']} PSF; the pair is fused with {psf}")
    trained = _response_on_pair_bands(metadata, bridge)
    msi_name = metadata["msi"]["name"]
    if trained.shape[0] > response.shape[0]:
        return CheckpointFit(False, f"expects a {trained.shape[0]}-band MSI ({msi_name}); the pair has {response.shape[0]}")
    through = "" if bridge is None else f"; through its {bridge.grid.bands}-band grid, {int(bridge.filled.sum())} grid bands filled"
    if ratio != int(metadata["ratio"]):
        through += f"; trained at ratio {metadata['ratio']}, validated at ratio {ratio} (its sidecar's \"ratios\")"
    msi_bands = None
    pair_bands = response.shape[0]
    looks = (response / response.max(axis=1, keepdims=True) >= EMULATION_LOOKS).any(axis=0)

    def emulated_or(refusal: str) -> CheckpointFit:
        if emulate is None or trained.shape[0] > pair_bands:
            return CheckpointFit(False, refusal, distance)
        coverage = (trained / trained.sum(axis=1, keepdims=True))[:, looks].sum(axis=1)
        if (coverage < EMULATION_COVERAGE).any():
            unseen = [str(b + 1) for b in np.flatnonzero(coverage < EMULATION_COVERAGE)]
            return CheckpointFit(False, (f"{refusal}; nor can its bands be emulated from the pair's: its {msi_name} bands "
                                         f"{', '.join(unseen)} lie mostly where the pair's MSI does not look (at most "
                                         f"{100 * coverage.min():.0f}% of their response where it does)"), distance)
        emulation = emulate(trained)
        unexplained = 1.0 - emulation.explained
        listing = ", ".join(f"{100 * max(u, 0.0):.2f}%" for u in unexplained)
        if (unexplained <= EMULATION_MAX_UNEXPLAINED).all():
            return CheckpointFit(True, (f"fits on its {msi_name} bands emulated from the pair's {pair_bands} (least squares "
                                        f"on the LR-HSI, leaving {listing} unexplained beyond its noise); directly "
                                        f"it did not: {refusal}"), distance, None, emulation)
        return CheckpointFit(False, (f"{refusal}; nor can its bands be emulated from the pair's (they leave {listing} "
                                     f"unexplained beyond the LR-HSI's noise; at most "
                                     f"{100 * EMULATION_MAX_UNEXPLAINED:g}% allowed)"), distance)

    if trained.shape[0] < response.shape[0]:
        msi_bands = tuple(int(b) for b in nearest_bands(trained, response)[0])
        left_out = [b for b in range(response.shape[0]) if b not in msi_bands]
        through += (f"; on MSI bands {', '.join(str(b + 1) for b in msi_bands)} of the pair's {response.shape[0]}, those "
                    f"nearest its {msi_name} bands (bands {', '.join(str(b + 1) for b in left_out)} left out)")
        response = response[list(msi_bands)]
        explained = None if explained is None else explained[list(msi_bands)]
    distance = float(response_distance(response, trained).max())
    if distance <= CHECKPOINT_RESPONSE_TOLERANCE:
        return CheckpointFit(True, f"fits (response distance {distance:.3f}{through})", distance, msi_bands)
    reason = (f"trained with the MSI response {msi_name!r}, which differs from the pair's by {distance:.3f} "
              f"(largest total-variation distance over the bands; tolerance {CHECKPOINT_RESPONSE_TOLERANCE}"
              f"{'' if msi_bands is None else ', on the pair bands nearest its own'})")
    if explained is None or explained_by is None:
        return emulated_or(reason)
    theirs = explained_by(trained, msi_bands)
    unexplained, allowed = 1.0 - theirs, 2.0 * (1.0 - explained) + CHECKPOINT_UNEXPLAINED_MARGIN
    listing = ", ".join(f"{100 * max(a, 0.0):.2f}%" for a in unexplained)
    own = ", ".join(f"{100 * (1.0 - e):.2f}%" for e in explained)
    if (unexplained <= allowed).all():
        return CheckpointFit(True, (f"fits: its response is {distance:.3f} from the pair's, but leaves {listing} of the MSI "
                                    f"bands' variance unexplained beyond the LR-HSI's noise, against {own} with the pair's"
                                    f"{through}"), distance, msi_bands)
    return emulated_or(f"{reason}, and leaves {listing} of the MSI bands' variance unexplained beyond the LR-HSI's "
                       f"noise, against {own} with the pair's")


def _msi_bands_entry(fit: CheckpointFit) -> dict[str, Any]:
    """``{"msi_bands": [...]}`` (0-based) for a checkpoint that runs on some of the MSI bands only,
    ``{"emulated_msi": BandEmulation}`` for one that runs on its bands emulated from the pair's, else ``{}``."""
    if not fit.fits:
        return {}
    if fit.emulation is not None:
        return {"emulated_msi": fit.emulation}
    return {} if fit.msi_bands is None else {"msi_bands": list(fit.msi_bands)}


def _response_on_pair_bands(metadata: dict, bridge: GridBridge | None) -> np.ndarray:
    """A checkpoint's MSI response, shape (M, C), on the pair's bands (through its grid's bridge)."""
    trained = np.asarray(metadata["msi"]["response"], dtype=float)
    return trained if bridge is None else trained @ bridge.to_grid


def _published_metadata(name: str) -> dict:
    from .inference import WEIGHTS_DIR

    return json.loads((WEIGHTS_DIR / f"{name}.json").read_text())


def choose_method(
    method: str | None, checkpoint: str | None, *, bands: int, wavelengths, ratio: int, psf: str, response: np.ndarray,
    device: str | None = None, explained: np.ndarray | None = None,
    explained_by: Callable[[np.ndarray, Sequence[int] | None], np.ndarray] | None = None, fwhm: np.ndarray | None = None,
    emulate: Callable[[np.ndarray], BandEmulation] | None = None,
) -> tuple[dict[str, Any], Any]:
    """The method to run and why, and the loaded network when it is a checkpoint.

    Returns
    -------
    choice : dict
        ``{"kind": "classical"|"checkpoint", "name", "reason", "candidates"}``; ``candidates`` says for
        each published checkpoint whether it fits the pair and why not. A checkpoint that runs on
        some of the pair's MSI bands only has them in ``"msi_bands"``, one that runs on its bands
        emulated from the pair's has the :class:`~s3rnet.response.BandEmulation` in ``"emulated_msi"``
        (:class:`CheckpointFit`).
    network : CheckpointMethod or None
    """
    from .baselines import METHODS
    from .checkpoints import CheckpointError, read_pair
    from .inference import CheckpointMethod, list_checkpoints, resolve_checkpoint

    if method is not None and checkpoint is not None:
        raise ConfigError("give --method or --checkpoint, not both")
    if method is not None:
        if method not in METHODS:
            raise ConfigError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}, or a --checkpoint")
        return {"kind": "classical", "name": method, "reason": "asked for", "candidates": {}}, None
    if checkpoint is not None:
        path = resolve_checkpoint(checkpoint)
        _, metadata = read_pair(path)
        fit = checkpoint_fit(metadata, bands=bands, wavelengths=wavelengths, ratio=ratio, psf=psf, response=response,
                             explained=explained, explained_by=explained_by, fwhm=fwhm, emulate=emulate)
        if not fit.fits:
            raise CheckpointError(f"checkpoint {checkpoint} does not fit the pair: {fit.reason}")
        return ({"kind": "checkpoint", "name": str(checkpoint), "path": str(path), "reason": f"asked for; it {fit.reason}",
                 "response_distance": fit.distance, "candidates": {}} | _msi_bands_entry(fit),
                CheckpointMethod(path, device=device))
    candidates = {}
    for name in list_checkpoints():
        fit = checkpoint_fit(_published_metadata(name), bands=bands, wavelengths=wavelengths, ratio=ratio, psf=psf,
                             response=response, explained=explained, explained_by=explained_by, fwhm=fwhm,
                             emulate=emulate)
        candidates[name] = {"fits": fit.fits, "reason": fit.reason, "response_distance": fit.distance} | _msi_bands_entry(fit)
    # Several may fit: first those that use the most of the pair's MSI bands (a 6-band checkpoint
    # before a 4-band one on a 6-band pair), then those whose response lies within the tolerance
    # of the pair's (with a noisy LR-HSI the OLI response "explained" a Sentinel-2 pair's bands as
    # well as Sentinel-2's own on some validation scenes), then the one whose response explains the
    # pair's MSI best (OLI and Sentinel-2 4-band weights both fit a 4-band pair whose response is
    # estimated, often both beyond the tolerance; an estimated response is too uncertain to rank
    # them by distance: on a shifted OLI pair it lay nearer Sentinel-2's). One that runs on emulated
    # bands counts as leaving out as many bands as the pair has beyond its own and as beyond the
    # tolerance, and is ranked among those by the variance its emulated bands leave unexplained.
    def closeness(name: str) -> tuple:
        candidate = candidates[name]
        metadata = _published_metadata(name)
        trained = _response_on_pair_bands(metadata, GridBridge.for_checkpoint(metadata, wavelengths, fwhm))
        emulation = candidate.get("emulated_msi")
        if emulation is not None:
            left_out, unexplained = response.shape[0] - trained.shape[0], float(np.mean(1.0 - emulation.explained))
            return (left_out, True, unexplained, 1.0, name) if explained_by is not None else (left_out, True, 1.0, name)
        left_out = response.shape[0] - len(candidate.get("msi_bands", range(response.shape[0])))
        distance = candidate["response_distance"]
        beyond = distance > CHECKPOINT_RESPONSE_TOLERANCE
        if explained_by is None:
            return left_out, beyond, distance, name
        return left_out, beyond, float(np.mean(1.0 - explained_by(trained, candidate.get("msi_bands")))), distance, name

    fitting = sorted((name for name, c in candidates.items() if c["fits"]), key=closeness)
    for name in fitting:
        distance = candidates[name]["response_distance"]
        try:
            network = CheckpointMethod(name, device=device)
        except CheckpointError as exc:
            candidates[name] = {"fits": False, "reason": f"fits the pair but cannot be loaded: {exc}",
                                "response_distance": distance}
            continue
        reason = ("published checkpoint that fits the pair" if len(fitting) == 1 else
                  f"of the {len(fitting)} published checkpoints that fit the pair, the one that uses the most of its "
                  f"MSI bands, with its response within the tolerance when one is, and, of those, whose MSI response "
                  f"explains the pair's MSI best")
        return ({"kind": "checkpoint", "name": name, "path": str(resolve_checkpoint(name)),
                 "reason": reason, "response_distance": distance,
                 "candidates": candidates} | {k: candidates[name][k] for k in ("msi_bands", "emulated_msi")
                                              if k in candidates[name]},
                network)
    reason = "no published checkpoint fits the pair" if candidates else "no published checkpoint"
    return {"kind": "classical", "name": DEFAULT_METHOD, "reason": reason, "candidates": candidates}, None


# --------------------------------------------------------------------------------------------
# The pipeline
# --------------------------------------------------------------------------------------------


@dataclass
class PairFusion:
    """What :func:`fuse_pair` gives back besides the file.

    Attributes
    ----------
    report : dict
        Everything the JSON report holds.
    output : Path
    fit : ResponseFit
    maps : dict of str to ndarray, shape (h, w)
        Consistency maps on the LR grid: ``spatial_sam``, ``spatial_rmse``, ``spectral_sam``,
        ``spectral_rmse``.
    wavelengths : ndarray or None
    """

    report: dict
    output: Path
    fit: ResponseFit
    maps: dict[str, np.ndarray]
    wavelengths: np.ndarray | None


def _round_to(value: int, ratio: int) -> int:
    return max(ratio, value - value % ratio)


def window_starts(n: int, size: int, overlap: int, ratio: int = 1) -> list[int]:
    """First pixels of the fewest windows of ``size`` pixels that cover ``n``, evenly spaced, each
    sharing at least about ``overlap`` pixels with the next.

    Parameters
    ----------
    n, size, overlap : int
        Pixels; ``n`` and ``size`` multiples of ``ratio``, ``overlap < size``.
    ratio : int
        Starts are multiples of it (windows fall on whole LR pixels).

    Returns
    -------
    list of int
        ``[0]`` when ``n <= size``; else ascending, the last ``n - size``.
    """
    if n <= size:
        return [0]
    count = 1 + math.ceil((n - size) / (size - overlap))
    return [ratio * round(k * (n - size) / ratio / (count - 1)) for k in range(count)]


def fade_in(n: int, shared: int) -> np.ndarray:
    """A window's own weight along one axis of its ``n`` pixels, shape (n,): rising linearly over the
    first ``shared`` pixels, which the window before it covers too, and 1 after them."""
    weight = np.ones(n, dtype=np.float32)
    weight[:shared] = (np.arange(shared, dtype=np.float32) + 0.5) / max(shared, 1)
    return weight


def _fade_over(result: np.ndarray, areas, before: list[np.ndarray], rows: np.ndarray, cols: np.ndarray) -> None:
    """Fade ``result`` (H, W, C) in over what was there ``before`` in each of ``areas`` (slices), in
    place, with the weights ``rows[:, None] * cols[None, :]`` (:func:`fade_in` along each axis)."""
    weight = (rows[:, None] * cols[None, :])[..., None]
    for area, earlier in zip(areas, before):
        own = result[area]
        own -= earlier
        own *= weight[area]
        own += earlier


def _run_in_windows(reader: PairReader, writer: RasterWriter, size: int, overlap: int,
                    fuse_window: Callable[[tuple[int, int, int, int], np.ndarray], np.ndarray], notify: ProgressCallback,
                    progress: tuple[float, float]) -> int:
    """Run ``fuse_window((r0, r1, c0, c1), underneath)`` on overlapping ``size`` x ``size`` HR windows
    (:func:`window_starts`) in raster order, and write each result faded into what the windows before
    it wrote (:func:`fade_in` along both axes). ``underneath`` is what the writer held in the window
    before this pass (the network's output, which a partner is blended with): the network's values of
    the rows and columns a window shares with the next are kept aside before they are written over.
    ``fuse_window`` returns a new array or ``underneath``, which is then overwritten. Returns the
    number of windows."""
    ratio = reader.geometry.ratio
    big_h, big_w = reader.geometry.hr_shape
    rows, cols = window_starts(big_h, size, overlap, ratio), window_starts(big_w, size, overlap, ratio)
    above: np.ndarray | None = None  # underneath, the rows this window row shares with the one before, whole width
    done = 0
    for i, r0 in enumerate(rows):
        r1 = min(r0 + size, big_h)
        top = 0 if i == 0 else rows[i - 1] + size - r0
        next_row = rows[i + 1] if i + 1 < len(rows) else r1
        below = np.empty((r1 - next_row, big_w, writer.bands), dtype=np.float32)
        left: np.ndarray | None = None  # underneath, the columns this window shares with the one before
        for j, c0 in enumerate(cols):
            c1 = min(c0 + size, big_w)
            side = 0 if j == 0 else cols[j - 1] + size - c0
            underneath = writer.read(r0, c0, r1 - r0, c1 - c0)
            # What the windows before wrote, needed only where this one fades in over it: its first
            # rows and columns (keeping all of it would cost a window-sized cube more).
            fading = (slice(0, top), slice(None)), (slice(top, None), slice(0, side))
            written = [underneath[area].copy() for area in fading]
            if top:
                underneath[:top] = above[:, c0:c1]
            if side:
                underneath[:, :side] = left
            below[:, c0:c1] = underneath[next_row - r0 :]
            if j + 1 < len(cols):
                left = underneath[:, cols[j + 1] - c0 :].copy()
            result = np.asarray(fuse_window((r0, r1, c0, c1), underneath), dtype=np.float32)
            _fade_over(result, fading, written, fade_in(r1 - r0, top), fade_in(c1 - c0, side))
            writer.write(r0, c0, result)
            # Freed before the next window is read and its partner runs, which is the peak.
            del result, underneath
            done += 1
            notify(progress[0] + (progress[1] - progress[0]) * done / (len(rows) * len(cols)),
                   f"window {done}/{len(rows) * len(cols)}")
        above = below
    return done


def fuse_pair(
    lrhsi: str | Path, hrmsi: str | Path, out: str | Path, *, method: str | None = None, checkpoint: str | None = None,
    msi_response: str = "estimate", ratio: int | None = None, register: str = "auto", tile: int = 256,
    psf: str = "box", mtf: float = 0.3, report: str | Path | None = None, progress: ProgressCallback | None = None,
    progress_bar: bool = False, device: str | None = None, ensemble: bool = True, window: int = WHOLE_SCENE_WINDOW,
    project: bool = False,
) -> PairFusion:
    """Fuse a real LR-HSI with a real HR-MSI into a georeferenced file (see the module docstring).

    Parameters
    ----------
    lrhsi, hrmsi : path
        GeoTIFF or ENVI files.
    out : path
        ``.hdr`` (ENVI) or ``.tif`` (GeoTIFF), float32, with wavelengths and FWHM of the LR-HSI,
        georeferenced like the HR-MSI's common window.
    method : str, optional
        A classical method (:data:`s3rnet.baselines.METHODS`).
    checkpoint : str, optional
        A published name or a path; without ``method`` and ``checkpoint`` a published checkpoint that
        fits runs, else MTF-GLP-HPM (HySime-Wiener-Hybrid on a noisy LR-HSI, :data:`NOISY_FALLBACK_SNR_DB`).
    msi_response : str
        ``estimate``, a sensor name (:data:`s3rnet.degrade.MSI_RESPONSES`) or a CSV table.
    ratio : int, optional
        Needed only when the images are not georeferenced and their sizes do not give it.
    register : {"auto", "off"}
        ``auto`` corrects a measured shift above 0.1 LR pixel; ``off`` measures and reports only.
    tile : int
        Side of the tiles in HR pixels (rounded down to a multiple of the ratio).
    psf : {"box", "gaussian"}
        The assumed PSF relating the two images (``mtf``: the Gaussian's gain at Nyquist).
    report : path, optional
        Where to write the JSON report.
    progress : callable, optional
        ``progress(fraction, message)``.
    progress_bar : bool
        A tqdm bar on stderr over the tiles.
    device : str, optional
        For a checkpoint.
    ensemble : bool
        Blend a checkpoint's network with the classical partner its sidecar names (on the whole
        pair or in windows, as ``window`` says); False: the network alone.
    window : int
        A method that unmixes the scene as one (CNMF and its kin; a checkpoint's ensemble partner)
        runs on the whole pair when it has at most ``window`` x ``window`` HR pixels, else in
        overlapping windows of that side (rounded down to a multiple of the ratio; at least 8 LR
        pixels). Memory grows with it.
    project : bool
        Project a checkpoint's output onto the pair's inputs, as its sidecar's ``"projection"``
        does in simulations, through the fitted response and the assumed ``psf`` (in the same
        windows); off by default (:data:`REAL_PAIR_PROJECTION` says why).
    """
    started = time.perf_counter()
    if register not in ("auto", "off"):
        raise ConfigError(f"register must be 'auto' or 'off', got {register!r}")
    if psf not in PSFS:
        raise ConfigError(f"unknown PSF {psf!r}; choose one of {', '.join(PSFS)}")
    notify = progress or (lambda fraction, message: None)
    hsi, msi = open_image(lrhsi), open_image(hrmsi)
    out = Path(out)
    for image in (hsi, msi):
        if image.path.resolve() in (out.resolve(), out.with_suffix(".img").resolve()):
            raise ConfigError(f"{out}: the output would overwrite the input {image.path}")
    if msi.bands > hsi.bands:
        raise ShapeError(f"{msi.path} has {msi.bands} bands, more than the {hsi.bands} of {hsi.path}: swapped inputs?")
    check_msi_bands(hsi, msi)
    geometry = pair_geometry(hsi, msi, ratio)
    ratio = geometry.ratio
    window = _round_to(int(window), ratio)
    if window < 8 * ratio:
        raise ConfigError(f"window must be at least 8 LR pixels ({8 * ratio} HR pixels at ratio {ratio}), got {window}")
    h, w = geometry.lr_shape
    big_h, big_w = geometry.hr_shape
    needed = big_h * big_w * hsi.bands * 4
    free = shutil.disk_usage(out.parent if out.parent.is_dir() else Path.cwd()).free
    if needed > free:
        raise ShapeError(f"{out}: the output needs {needed / 2**30:.1f} GiB, and its disk has {free / 2**30:.1f} GiB free")
    reader = PairReader(hsi, msi, geometry)
    threshold_fixed = fix_mmap_threshold()
    warnings_: list[str] = list(hsi.notes) + list(msi.notes)
    notify(0.02, "fitting the MSI response")

    # Statistics and registration on the LR grid.
    blocks = sample_blocks(h, w)
    central = central_block(h, w, REGISTRATION_BLOCK)
    sample_lr, sample_msi = read_sample(reader, blocks, psf, mtf, in_hsi_units=False)
    fit = fit_response(msi_response, hsi, msi, sample_lr, sample_msi)
    reader.fit = fit
    central_lr, central_msi = read_sample(reader, [central], psf, mtf)
    measured = estimate_shift(central_msi, central_lr @ fit.response.T.astype(np.float32))
    size = float(np.hypot(*measured))
    corrected = register == "auto" and size > CORRECTION_THRESHOLD
    registration = {
        "mode": register, "block_lr": list(central), "shift_lr_px": list(measured), "magnitude_lr_px": size,
        "threshold_lr_px": CORRECTION_THRESHOLD, "corrected": corrected,
    }
    if corrected:
        reader.shift = measured
        reader.fit = None
        blocks = sample_blocks(h, w, math.ceil(max(abs(measured[0]), abs(measured[1]))) + 2)
        sample_lr, sample_msi = read_sample(reader, blocks, psf, mtf, in_hsi_units=False)
        fit = fit_response(msi_response, hsi, msi, sample_lr, sample_msi)
        reader.fit = fit
        central_lr, central_msi = read_sample(reader, [central], psf, mtf)
        registration["residual_lr_px"] = list(estimate_shift(central_msi, central_lr @ fit.response.T.astype(np.float32)))
    elif size > CORRECTION_THRESHOLD:
        warnings_.append(f"the pair is shifted by {size:.2f} LR pixels and registration is off")
    warnings_ += fit.warnings()
    sample_hr_units = fit.to_hsi_units(sample_msi)

    band_noise = lrhsi_band_noise(sample_lr, hsi.wavelengths)

    def explained_by(other: np.ndarray, msi_bands: Sequence[int] | None = None) -> np.ndarray:
        # Corrected for the LR-HSI's noise, which a fixed response cannot fit and the pair's own
        # estimate, fitted on the same sample, partly does: with a 15 dB LR-HSI the true OLI
        # response left 39% of SWIR2 unexplained against the estimate's 8.7%, and every checkpoint
        # was refused (benchmarks/fuse_choice.py).
        msi_sample = sample_msi if msi_bands is None else sample_msi[..., list(msi_bands)]
        explained = fit_gain_offset(sample_lr, msi_sample, other, "checkpoint").explained
        return explained / np.maximum(1.0 - noise_attenuation(sample_lr, other, band_noise), 1e-6)

    def emulate(other: np.ndarray) -> BandEmulation:
        # The LR-HSI's noise is in the emulated bands' target only: it lowers their R^2 as it
        # lowers explained_by's, and is allowed for the same way.
        emulation = emulate_bands(sample_lr, sample_hr_units, other)
        attenuation = noise_attenuation(sample_lr, other, band_noise)
        return dataclasses.replace(emulation, explained=emulation.explained / np.maximum(1.0 - attenuation, 1e-6))

    choice, network = choose_method(method, checkpoint, bands=hsi.bands, wavelengths=hsi.wavelengths, ratio=ratio,
                                    psf=psf, response=fit.response, device=device, explained=fit.explained,
                                    explained_by=explained_by, fwhm=hsi.fwhm, emulate=emulate)
    lrhsi_snr_db = float(10.0 * np.log10(np.mean(np.square(sample_lr.astype(np.float64)))
                                         / max(float(np.mean(band_noise)), np.finfo(np.float64).tiny)))
    if choice["kind"] == "classical" and method is None and lrhsi_snr_db < NOISY_FALLBACK_SNR_DB:
        choice |= {"name": NOISY_FALLBACK, "reason": (
            f"{choice['reason']}; the LR-HSI's SNR reads about {lrhsi_snr_db:.1f} dB (HySime, from the image), under "
            f"{NOISY_FALLBACK_SNR_DB:g}, so {NOISY_FALLBACK}, which denoises it first, instead of {DEFAULT_METHOD}")}
    if choice["kind"] == "classical" and choice["name"] not in NOISE_ROBUST_METHODS and lrhsi_snr_db < NOISY_LRHSI_SNR_DB:
        warnings_.append(
            f"{hsi.path.name} looks noisy: SNR about {lrhsi_snr_db:.1f} dB (estimated from the image by HySime), and "
            f"{choice['name']} passes the LR-HSI's noise on to the output; a method that denoises it first "
            f"({', '.join(NOISE_ROBUST_METHODS)}) does better there: compare with --method hysime-wiener-mtf")
    msi_noise = hrmsi_noise(reader)
    noisy = [(snr, band) for band, snr in enumerate(msi_noise["band_snr_db"]) if snr is not None and snr < NOISY_MSI_SNR_DB]
    if choice["kind"] == "checkpoint" and noisy:
        snr, band = min(noisy)
        warnings_.append(
            f"HR-MSI band {band + 1} of {msi.path.name} looks noisy: SNR about {snr:.1f} dB (estimated from the image; "
            f"under {NOISY_MSI_SNR_DB:g} dB); {NOISY_MSI_ADVICE}")
    notify(0.1, f"fusing with {choice['name']}")
    writer = RasterWriter(out, big_h, big_w, hsi.bands, transform=geometry.transform, crs=geometry.crs,
                          wavelengths=hsi.wavelengths, fwhm=hsi.fwhm, units=hsi.units,
                          description=f"s3rnet fuse: {choice['name']} of {hsi.path.name} and {msi.path.name}")
    try:
        tile = _round_to(int(tile), ratio)
        if choice["kind"] == "checkpoint":
            context = TileContext(ratio, psf, mtf, fit.response, {})
            bridge = GridBridge.for_checkpoint(network.metadata, hsi.wavelengths, hsi.fwhm)
            tiling = _run_network(choice, network, reader, writer, sample_lr, sample_hr_units, context, tile,
                                  notify, progress_bar, bridge, choice.get("msi_bands"), choice.get("emulated_msi"))
            if "msi_bands" in choice:
                used = [fit.band_names[b] for b in choice["msi_bands"]]
                others = [name for b, name in enumerate(fit.band_names) if b not in choice["msi_bands"]]
                positions = [str(b + 1) for b in choice["msi_bands"]]
                in_file = "" if used == positions else f" (the file's bands {', '.join(positions)})"
                warnings_.append(
                    f"the network sees MSI bands {', '.join(used)}{in_file} of {msi.path.name}, those nearest the bands it was "
                    f"trained with; bands {', '.join(others)} reach the output through {network.estimate or 'bicubic'} "
                    f"fused with every band, to which the network's correction is added")
            if "emulated_msi" in choice:
                warnings_.append(
                    f"{msi.path.name} is not from the sensor {choice['name']} learned ({network.metadata['msi']['name']}): "
                    f"the network sees its {len(choice['emulated_msi'].offset)} bands emulated from the file's "
                    f"{msi.bands} (least squares on the LR-HSI), and its correction is added to "
                    f"{network.estimate or 'bicubic'} fused with every band")
            if network.ensemble is not None:
                if ensemble:
                    notify(0.88, f"blending with {network.ensemble['method']}")
                    reads_noise = network.ensemble.get("share", "fixed") != "fixed"
                    floor = cross_fitted_noise_power(msi_response, hsi, msi, sample_lr, sample_msi) if reads_noise else None
                    choice["ensemble"] = _blend_partner(network.ensemble, reader, writer, fit, ratio, psf, mtf,
                                                        hsi.wavelengths, window, notify, floor)
                else:
                    choice["ensemble"] = {"method": network.ensemble["method"], "weight": network.ensemble["weight"],
                                          "applied": False, "why": "switched off: the network alone, as asked"}
                if ensemble and "why" in choice["ensemble"]:
                    where = "" if choice["ensemble"]["applied"] else "not here: "
                    warnings_.append(f"the checkpoint blends in {network.ensemble['method']}; {where}{choice['ensemble']['why']}")
            if network.projection is not None and project:
                notify(0.89, "projecting onto the inputs")
                choice["projection"] = _project_output(network.projection["factor"], reader, writer, fit, ratio, psf,
                                                       mtf, hsi.wavelengths, window, notify)
            elif network.projection is not None:
                choice["projection"] = {"factor": network.projection["factor"], "applied": False, "why": REAL_PAIR_PROJECTION}
        elif choice["name"] in TILED_METHODS:
            context = TileContext(ratio, psf, mtf, fit.response,
                                  fit_statistics(choice["name"], sample_lr, sample_hr_units, fit.response,
                                                 wavelengths=hsi.wavelengths))
            tiling = _run_classical(choice["name"], context, reader, writer, tile, notify, progress_bar)
        else:
            tiling = _run_whole(choice["name"], reader, writer, fit, ratio, psf, mtf, hsi.wavelengths, window, notify)
        notify(0.9, "measuring the quality")
        quality, maps = _quality(reader, writer, fit, ratio, psf, mtf, tile)
        output = writer.close()
    except BaseException:
        writer.abort()
        raise
    result = {
        "inputs": {
            role: {"path": str(image.path), "format": image.kind, "shape": list(image.shape),
                   "crs": describe_crs(image.crs), "pixel_size": image.pixel_size, "units": image.units,
                   "wavelengths_known": image.wavelengths is not None}
            for role, image in (("lrhsi", hsi), ("hrmsi", msi))
        },
        "lrhsi_noise": {"snr_db": lrhsi_snr_db, "band_power": band_noise,
                        "how": "HySime's regression of each band on its neighbours, on the LR sample (an upper bound)"},
        "hrmsi_noise": msi_noise,
        "geometry": {
            "ratio": ratio, "lr_window": list(geometry.lr_window), "hr_window": list(geometry.hr_window),
            "grid_offset_hr_px": None if geometry.grid_offset_hr is None else list(geometry.grid_offset_hr),
            "steps": geometry.steps, "psf": psf, "mtf": mtf if psf == "gaussian" else None,
            "gaussian_sigma_hr_px": gaussian_sigma(ratio, mtf) if psf == "gaussian" else None,
        },
        "statistics": {"blocks_lr": [list(b) for b in blocks], "pixels_lr": int(sum((b[1] - b[0]) * (b[3] - b[2]) for b in blocks)),
                       "whole_overlap": len(blocks) == 1 and (blocks[0][1] - blocks[0][0]) * (blocks[0][3] - blocks[0][2]) <= SAMPLE_PIXELS},
        "response": fit.to_json(hsi.wavelengths),
        "registration": registration,
        "method": {k: v for k, v in choice.items()},
        "tiling": tiling,
        "memory": {"mmap_threshold_bytes": MMAP_THRESHOLD_BYTES if threshold_fixed else None,
                   "why": "freed cubes go back to the system (s3rnet.allocator)" if threshold_fixed
                   else "the allocator's own (no glibc mallopt here)"},
        "output": {"path": str(output), "format": writer.kind, "shape": [big_h, big_w, hsi.bands],
                   "crs": describe_crs(geometry.crs),
                   "transform": None if geometry.transform is None else list(geometry.transform)[:6]},
        "quality": quality,
        "warnings": warnings_,
        "seconds": time.perf_counter() - started,
    }
    if report is not None:
        Path(report).write_text(json.dumps(result, indent=2, default=_json_default) + "\n")
    notify(1.0, "done")
    return PairFusion(result, output, fit, maps, hsi.wavelengths)


def _json_default(value):
    if isinstance(value, BandEmulation):
        return value.to_json()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _bar(total: int, enabled: bool, label: str):
    if not enabled:
        return None
    from tqdm import tqdm

    return tqdm(total=total, desc=label, unit="tile")


def _fuse_in_tiles(reader: PairReader, writer: RasterWriter, tile: int, halo: int, fuse_window: Callable,
                   label: str, notify: ProgressCallback, progress_bar: bool) -> int:
    """Run ``fuse_window(lr, hr)`` on each ``tile`` x ``tile`` core read with ``halo`` HR pixels
    around it, and write the core of its output; returns the number of tiles."""
    ratio = reader.geometry.ratio
    big_h, big_w = reader.geometry.hr_shape
    cores = [(r, c) for r in range(0, big_h, tile) for c in range(0, big_w, tile)]
    bar = _bar(len(cores), progress_bar, label)
    for index, (r, c) in enumerate(cores):
        r1, c1 = min(r + tile, big_h), min(c + tile, big_w)
        a0, a1, b0, b1 = max(0, r - halo), min(big_h, r1 + halo), max(0, c - halo), min(big_w, c1 + halo)
        lr = reader.lr(a0 // ratio, a1 // ratio, b0 // ratio, b1 // ratio)
        fused = fuse_window(lr, reader.hr(a0, a1, b0, b1))
        writer.write(r, c, np.asarray(fused[r - a0 : r1 - a0, c - b0 : c1 - b0], dtype=np.float32))
        notify(0.1 + 0.8 * (index + 1) / len(cores), f"tile {index + 1}/{len(cores)}")
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.close()
    return len(cores)


def _run_classical(method: str, context: TileContext, reader: PairReader, writer: RasterWriter, tile: int,
                   notify: ProgressCallback, progress_bar: bool) -> dict:
    ratio = context.ratio
    halo = ratio * (8 + (math.ceil(3 * gaussian_sigma(ratio, context.mtf)) // ratio if context.psf == "gaussian" else 0))
    tiles = _fuse_in_tiles(reader, writer, tile, halo, lambda lr, hr: fuse_tile(method, lr, hr, context), method,
                           notify, progress_bar)
    return {"mode": "tiles with a halo (cores equal the untiled result)", "tile_hr_px": tile, "halo_hr_px": halo,
            "tiles": tiles, "statistics": "fitted once on the LR sample"}


def _window_inputs(reader: PairReader, fit: ResponseFit, ratio: int, psf: str, mtf: float,
                   wavelengths: np.ndarray | None, window: tuple[int, int, int, int] | None = None) -> FusionInputs:
    """Both images in an HR window ``(r0, r1, c0, c1)`` (the whole pair by default), for a method that
    unmixes what it is given as one."""
    big_h, big_w = reader.geometry.hr_shape
    r0, r1, c0, c1 = window or (0, big_h, 0, big_w)
    return FusionInputs(reader.lr(r0 // ratio, r1 // ratio, c0 // ratio, c1 // ratio), reader.hr(r0, r1, c0, c1),
                        ratio=ratio, srf=fit.response, psf=psf, mtf=mtf, wavelengths=wavelengths)


def _fits_whole(reader: PairReader, window: int) -> bool:
    big_h, big_w = reader.geometry.hr_shape
    return big_h * big_w <= window * window


def _windowing(window: int, overlap: int, count: int) -> dict:
    return {"mode": "overlapping windows (each unmixed as one, fading into its neighbours over the pixels they share)",
            "window_hr_px": window, "overlap_hr_px": overlap, "windows": count}


def _run_whole(method: str, reader: PairReader, writer: RasterWriter, fit: ResponseFit, ratio: int, psf: str,
               mtf: float, wavelengths: np.ndarray | None, window: int, notify: ProgressCallback) -> dict:
    """A method that is not tiled: on the whole pair, or in overlapping windows above ``window`` squared HR pixels."""
    from .baselines import get_method

    fuse = get_method(method)
    if _fits_whole(reader, window):
        writer.write(0, 0, fuse(_window_inputs(reader, fit, ratio, psf, mtf, wavelengths)))
        return {"mode": "whole scene (the method is not tiled)", "tiles": 1}
    overlap = _round_to(min(WINDOW_OVERLAP, window // 2), ratio)
    count = _run_in_windows(
        reader, writer, window, overlap,
        lambda box, _: fuse(_window_inputs(reader, fit, ratio, psf, mtf, wavelengths, box)), notify, (0.1, 0.9))
    return _windowing(window, overlap, count) | {"tiles": count}


def _blend_partner(ensemble: dict, reader: PairReader, writer: RasterWriter, fit: ResponseFit, ratio: int, psf: str,
                   mtf: float, wavelengths: np.ndarray | None, window: int, notify: ProgressCallback,
                   noise_floor: float | None = None) -> dict:
    """Blend the network's output, already written, with its checkpoint's ensemble partner
    (:func:`s3rnet.inference.blend_with_partner`, with the pair's fitted response and PSF), run on
    the whole pair or, above ``window`` squared HR pixels, in overlapping windows, each with the
    share its own inputs give. A window where the partner fails keeps the network's output, and the
    returned record says so; on the whole pair, the output is then the network's alone.

    A share measured by consistency with the inputs reads the LR-HSI's noise through the fitted
    response, in each window, and never below ``noise_floor`` (:func:`cross_fitted_noise_power`)."""
    from .baselines import get_method
    from .baselines.noise import lrhsi_noise_power
    from .inference import blend_with_partner

    partner = get_method(ensemble["method"])
    record = {"method": ensemble["method"], "weight": ensemble["weight"]}
    if noise_floor is not None:
        record["noise_floor"] = noise_floor
    failures: list[str] = []
    records: list[dict] = []

    def blend(box: tuple[int, int, int, int] | None, network: np.ndarray) -> np.ndarray:
        inputs = _window_inputs(reader, fit, ratio, psf, mtf, wavelengths, box)
        try:
            cube = partner(inputs)
        except (S3RNetError, np.linalg.LinAlgError) as exc:
            failures.append(f"{ensemble['method']} failed on the pair{_window_text(box)} ({exc})")
            return network
        if not np.isfinite(cube).all():
            failures.append(f"{ensemble['method']} gave non-finite values{_window_text(box)}")
            return network
        # Over the network's cube, which the caller gives to be written over: a window then holds
        # no third cube.
        noise_power = None if noise_floor is None else max(lrhsi_noise_power(inputs), noise_floor)
        blended, done = blend_with_partner(network, cube, inputs, ensemble, out=network, noise_power=noise_power)
        records.append(done if noise_power is None else done | {"noise_power": noise_power, "noise_floor": noise_floor})
        return blended

    if _fits_whole(reader, window):
        big_h, big_w = reader.geometry.hr_shape
        blended = blend(None, writer.read(0, 0, big_h, big_w))
        if failures:
            return record | {"applied": False, "why": f"{failures[0]}: the output is the network's alone"}
        writer.write(0, 0, blended)
        return records[0] | {"applied": True}
    overlap = _round_to(min(WINDOW_OVERLAP, window // 2), ratio)
    count = _run_in_windows(reader, writer, window, overlap, blend, notify, (0.88, 0.9))
    if not records:
        return record | {"applied": False, "why": f"{failures[0]} and in every other window: the output is the network's alone"}
    shares = [r["weight"] for r in records]
    record |= {k: records[0][k] for k in ("share", "floor") if k in records[0]}
    record |= {"weight": float(np.mean(shares)), "window_weights": [round(w, 4) for w in shares],
               "applied": True} | _windowing(window, overlap, count)
    if failures:
        record["why"] = f"applied in {len(records)} of {count} windows; the others keep the network's output: " + "; ".join(failures)
    return record


def _project_output(factor: float, reader: PairReader, writer: RasterWriter, fit: ResponseFit, ratio: int, psf: str,
                    mtf: float, wavelengths: np.ndarray | None, window: int, notify: ProgressCallback) -> dict:
    """Project the output, already written, onto the pair's inputs through the fitted response and
    the assumed PSF (:func:`s3rnet.consistency.project_onto_inputs`, with the checkpoint's noise
    factor), on the whole pair or in overlapping windows as the partner runs."""
    from .consistency import project_onto_inputs

    def project(box: tuple[int, int, int, int] | None, fused: np.ndarray) -> np.ndarray:
        return project_onto_inputs(fused, _window_inputs(reader, fit, ratio, psf, mtf, wavelengths, box), factor)

    record = {"factor": factor, "applied": True, "why": PROJECTION_ASKED}
    if _fits_whole(reader, window):
        big_h, big_w = reader.geometry.hr_shape
        writer.write(0, 0, project(None, writer.read(0, 0, big_h, big_w)))
        return record
    overlap = _round_to(min(WINDOW_OVERLAP, window // 2), ratio)
    count = _run_in_windows(reader, writer, window, overlap, project, notify, (0.89, 0.9))
    return record | _windowing(window, overlap, count) | {
        "mode": "overlapping windows (each projected onto its own inputs, fading into its neighbours over the pixels "
                "they share)"}


def _window_text(box: tuple[int, int, int, int] | None) -> str:
    return "" if box is None else f" in the window of HR rows {box[0]}-{box[1]}, columns {box[2]}-{box[3]}"


def _run_network(choice: dict, network, reader: PairReader, writer: RasterWriter, sample_lr: np.ndarray,
                 sample_hr: np.ndarray, context: TileContext, tile: int, notify: ProgressCallback,
                 progress_bar: bool, bridge: GridBridge | None = None, msi_bands: Sequence[int] | None = None,
                 emulation: BandEmulation | None = None) -> dict:
    """The network on tiles read with a halo of :data:`NETWORK_HALO_LR` LR pixels, of which each
    keeps its core: with the normalisation and the corrected estimate's statistics fitted once on
    the sample, a tile's core sees what it would see in one pass over the whole pair, up to the
    network's context beyond the halo and the channel attention's pooling over its tile (tiled and
    untiled agree to 2e-3 of the largest value, tests/test_fuse.py).

    With a ``bridge`` (the pair's bands are not the checkpoint's) each tile's LR-HSI is resampled
    onto the checkpoint's grid; the network's correction of its classical estimate there is
    interpolated back onto the pair's bands and added to the same classical method run on the
    pair's own bands (:class:`GridBridge`).

    With ``msi_bands`` (an HR-MSI with more bands than the checkpoint's, :class:`CheckpointFit`) the
    network sees those MSI bands only, and its correction is added, the same way, to its classical
    estimate made with every MSI band (``benchmarks/fuse_msi_bands.py`` measures it). With an
    ``emulation`` (an MSI of another sensor) the network sees its own bands emulated from the
    pair's, and its correction is added to its classical estimate made with the pair's bands."""
    import torch

    from .degrade import InputNormalisation
    from .estimates import RESPONSE_ESTIMATES
    from .inference import autocast, to_tensor

    ratio = context.ratio
    estimate = network.estimate
    base = estimate or "bicubic"
    halo = NETWORK_HALO_LR * ratio
    model = network.model
    mode = network.metadata["normalisation"]
    seen = list(msi_bands) if msi_bands is not None else slice(None)

    def network_msi(hr: np.ndarray) -> np.ndarray:
        return hr[..., seen] if emulation is None else emulation.apply(hr)

    trained_response = np.asarray(network.metadata["msi"]["response"], dtype=np.float32)
    if bridge is None:
        grid_sample, grid_wavelengths = sample_lr, reader.hsi.wavelengths
        grid_response = context.response[seen] if emulation is None else trained_response
        grid_context = dataclasses.replace(context, response=grid_response)
    else:
        grid_sample = bridge.to_grid_units(sample_lr)
        grid_context = dataclasses.replace(context, response=trained_response)
        grid_wavelengths = bridge.grid.centres
    sample_seen = network_msi(sample_hr)
    scales = InputNormalisation.fit(grid_sample, sample_seen, mode)
    low, high = scales.normalise(grid_sample, sample_seen)
    # As in training (s3rnet.estimates.classical_estimate): only some estimates read the response;
    # the others (GSA) pair bands by correlation without it.
    reads_response = base in RESPONSE_ESTIMATES
    grid_context = dataclasses.replace(grid_context, statistics=fit_statistics(
        base, low, high, grid_context.response if reads_response else None, wavelengths=grid_wavelengths))
    pair_context = None
    corrects_pair_estimate = bridge is not None or msi_bands is not None or emulation is not None
    if corrects_pair_estimate:
        pair_context = dataclasses.replace(context, statistics=fit_statistics(
            base, sample_lr, sample_hr, context.response if reads_response else None, wavelengths=reader.hsi.wavelengths))

    def network_on_grid(lr: np.ndarray, hr: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
        """The network's output on the grid and the estimate it corrects (when it needs one), in
        the pair's units."""
        grid_lr = lr if bridge is None else bridge.to_grid_units(lr)
        low, high = scales.normalise(grid_lr, network_msi(hr))
        # A network without an estimate needs one only to carry its correction to the pair's estimate.
        needed = estimate is not None or corrects_pair_estimate
        estimated = fuse_tile(base, low, high, grid_context) if needed else None
        extra = {"estimate": to_tensor(estimated, network.device)} if estimate is not None else {}
        with torch.no_grad(), autocast(network.device):
            fused = model(to_tensor(low, network.device), to_tensor(high, network.device), keep_layers=False,
                          ratio=context.ratio, **extra)
        fused = scales.denormalise(fused[0].float().permute(1, 2, 0).cpu().numpy())
        return fused, None if estimated is None else scales.denormalise(estimated)

    def correction_on_pair_bands(lr: np.ndarray, hr: np.ndarray) -> np.ndarray:
        fused, estimated = network_on_grid(lr, hr)
        fused -= estimated
        return fused if bridge is None else bridge.to_pair_bands(fused)

    def fuse_window(lr: np.ndarray, hr: np.ndarray) -> np.ndarray:
        if not corrects_pair_estimate:
            return network_on_grid(lr, hr)[0]
        # The grid's cubes and tensors are freed (on return) before the pair's own estimate is
        # computed: held with it, they set fuse's peak memory.
        correction = correction_on_pair_bands(lr, hr)
        correction += fuse_tile(base, lr, hr, pair_context)
        return correction

    tiles = _fuse_in_tiles(reader, writer, tile, halo, fuse_window, choice["name"], notify, progress_bar)
    result = {"mode": "tiles with a halo (each keeps its core)", "tile_hr_px": tile, "halo_hr_px": halo,
              "tiles": tiles, "normalisation": f"{mode}, fitted once on the LR sample",
              "estimate": estimate, "estimate_statistics": "fitted once on the LR sample" if estimate else None}
    if bridge is not None:
        result["grid"] = bridge.describe(reader.hsi.wavelengths, base)
    if msi_bands is not None:
        result["msi_bands"] = {"seen_by_network": [int(b) for b in msi_bands],
                               "correction_added_to": f"{base} with every MSI band"}
    if emulation is not None:
        result["msi_bands"] = {"seen_by_network": f"its {network.metadata['msi']['name']} bands emulated from every MSI band",
                               "correction_added_to": f"{base} with every MSI band"}
    return result


def _quality(reader: PairReader, writer: RasterWriter, fit: ResponseFit, ratio: int, psf: str, mtf: float,
             tile: int) -> tuple[dict, dict[str, np.ndarray]]:
    """Consistency over the whole output (strips of rows) and the no-reference indices on a central crop."""
    big_h, big_w = reader.geometry.hr_shape
    h, w = reader.geometry.lr_shape
    bands = writer.bands
    spatial = ConsistencyAccumulator((h, w), bands)
    spectral = ConsistencyAccumulator((h, w), fit.response.shape[0], block=ratio)
    strip = max(ratio, (16 * 2**20 // max(1, big_w * bands * 4)) // ratio * ratio)
    halo = 0 if psf == "box" else ratio * math.ceil((3 * gaussian_sigma(ratio, mtf) + ratio) / ratio)
    response = fit.response.T.astype(np.float32)
    for r in range(0, big_h, strip):
        r1 = min(r + strip, big_h)
        a0, a1 = max(0, r - halo), min(big_h, r1 + halo)
        fused = writer.read(a0, 0, a1 - a0, big_w)
        degraded = _degrade(fused, ratio, psf, mtf)[(r - a0) // ratio : (r1 - a0) // ratio]
        spatial.add(r // ratio, 0, degraded, reader.lr(r // ratio, r1 // ratio, 0, w))
        spectral.add(r // ratio, 0, fused[r - a0 : r1 - a0] @ response, reader.hr(r, r1, 0, big_w))
    quality = {
        "consistency": {"spatial": spatial.summary(), "spectral": spectral.summary(),
                        "conventions": "PSNR: mean over bands, peak = band maximum of the input; SAM: degrees"},
    }
    crop = min(QUALITY_CROP, big_h, big_w) // ratio * ratio
    if crop // ratio >= 11:
        r0, r1, c0, c1 = central_block(big_h // ratio, big_w // ratio, crop // ratio)
        fused = writer.read(r0 * ratio, c0 * ratio, (r1 - r0) * ratio, (c1 - c0) * ratio)
        scores = no_reference(fused, reader.lr(r0, r1, c0, c1), reader.hr(r0 * ratio, r1 * ratio, c0 * ratio, c1 * ratio),
                              ratio, psf, mtf)
        quality["no_reference"] = {**scores, "crop_hr": [r0 * ratio, r1 * ratio, c0 * ratio, c1 * ratio]}
    else:
        quality["no_reference"] = {"skipped": f"the output is smaller than the {11 * ratio} HR pixels the Q window needs"}
    maps = {"spatial_sam": spatial.sam_map, "spatial_rmse": spatial.rmse_map,
            "spectral_sam": spectral.sam_map, "spectral_rmse": spectral.rmse_map}
    return quality, maps


# --------------------------------------------------------------------------------------------
# An example pair
# --------------------------------------------------------------------------------------------

# Where the example pair is placed: UTM zone 16 North (Indiana, where Indian Pines was flown).
EXAMPLE_CRS_EPSG = 32616
EXAMPLE_ORIGIN = (500000.0, 4480000.0)
EXAMPLE_HR_PIXEL = 5.0


def write_example_pair(
    folder: str | Path, *, msi: str = "s2-4", size: int = 96, ratio: int = 4, shift: tuple[float, float] = (0.3, -0.2),
    snr_db: float = float("inf"), suffix: str = ".tif", seed: int = 0,
):
    """Two georeferenced files simulated from the built-in Indian Pines scene, as if from two instruments.

    The LR-HSI and HR-MSI of the scene's rows ``145 - size - 1 : 144`` (its lower part) and columns
    ``0:size`` (:func:`s3rnet.degrade.simulate`: box PSF, the LR-HSI shifted by ``shift`` LR pixels),
    written with UTM 16N georeferencing (HR pixels of 5 m, LR pixels of ``5 * ratio`` m), the HSI's
    wavelengths and FWHM, and the MSI bands' centres and half-maximum widths from ``pyrsr``.

    Returns
    -------
    lrhsi, hrmsi : Path
    simulation : Simulation
        With the truth, the true response and the protocol, to check the pipeline's estimates.
    """
    from rasterio.transform import Affine
    from rasterio.crs import CRS

    from .data import load_scene
    from .degrade import sensor_response_table, simulate
    from .geo import write_image

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    size -= size % ratio
    scene = load_scene("indian_pines")
    cube = scene.cube[144 - size : 144, :size]
    simulation = simulate(cube, scene.wavelengths, scene.fwhm, msi=msi, ratio=ratio, shift=shift,
                          lrhsi_snr_db=snr_db, hrmsi_snr_db=snr_db, seed=seed)
    grid, table = sensor_response_table(msi)
    weights = table / table.sum(axis=1, keepdims=True)
    centres = weights @ grid
    widths = np.array([float((row >= 0.5 * row.max()).sum()) for row in table])
    crs = CRS.from_epsg(EXAMPLE_CRS_EPSG)
    x0, y0 = EXAMPLE_ORIGIN
    lr = write_image(folder / f"lrhsi{suffix}", simulation.lrhsi, transform=Affine(EXAMPLE_HR_PIXEL * ratio, 0, x0, 0, -EXAMPLE_HR_PIXEL * ratio, y0),
                     crs=crs, wavelengths=scene.wavelengths, fwhm=scene.fwhm, units=scene.units,
                     description=f"LR-HSI simulated from Indian Pines (ratio {ratio}, shift {shift} LR px)")
    hr = write_image(folder / f"hrmsi{suffix}", simulation.hrmsi, transform=Affine(EXAMPLE_HR_PIXEL, 0, x0, 0, -EXAMPLE_HR_PIXEL, y0),
                     crs=crs, wavelengths=centres, fwhm=widths, units=scene.units,
                     description=f"HR-MSI simulated from Indian Pines ({msi})")
    return lr, hr, simulation


__all__ = [
    "CHECKPOINT_RESPONSE_TOLERANCE", "CHECKPOINT_UNEXPLAINED_MARGIN", "CheckpointFit", "DEFAULT_METHOD", "NOISY_FALLBACK",
    "NOISY_FALLBACK_SNR_DB", "PairFusion", "PairGeometry", "PairReader", "TILED_METHODS",
    "check_msi_bands", "checkpoint_fit", "choose_method", "fit_response", "fit_statistics", "fuse_pair", "fuse_tile",
    "pair_geometry", "sample_blocks", "write_example_pair",
]
