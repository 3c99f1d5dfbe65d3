"""Files the page offers for download: the fused cube (ENVI), the metrics (CSV, JSON), the
spectra of the clicked pixels (CSV)."""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from .compute import FusionResult
from .views import METRIC_COLUMNS, label


def _stem(result: FusionResult) -> str:
    (r0, r1), (c0, c1) = result.box
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", result.scene_name)
    return f"{name}_r{r0}-{r1}_c{c0}-{c1}_{result.settings.msi}_seed{result.settings.seed}"


def write_envi(result: FusionResult, folder: Path, method: str | None = None) -> list[Path]:
    """The fused cube of ``method`` (the fused result by default) as ENVI ``.hdr`` + ``.img``.

    float32, band sequential, in the scene's units, with the wavelengths and FWHM when known and
    the settings in the description.
    """
    from spectral.io import envi

    method = method or result.fused_method or result.methods[0]
    cube = result.outputs[method].astype(np.float32)
    header = folder / f"{_stem(result)}_{method}.hdr"
    metadata: dict[str, Any] = {
        "description": f"S3RNet Explorer: {label(method)} fusion of {result.scene_name}, settings {json.dumps(result.settings.as_dict())}",
        "data units": result.units,
        "band names": [f"band {i + 1}" for i in range(cube.shape[2])],
    }
    if result.wavelengths is not None:
        metadata["wavelength"] = [f"{w:.4f}" for w in result.wavelengths]
        metadata["wavelength units"] = "Nanometers"
        if result.fwhm is not None:
            metadata["fwhm"] = [f"{w:.4f}" for w in result.fwhm]
    envi.save_image(str(header), cube, dtype=np.float32, interleave="bsq", ext=".img", force=True, metadata=metadata)
    return [header, header.with_suffix(".img")]


def write_metrics(result: FusionResult, folder: Path) -> list[Path]:
    """The metrics as CSV (one row per method, every digit) and as JSON (with the protocol)."""
    stem = _stem(result)
    csv_path = folder / f"{stem}_metrics.csv"
    with csv_path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["method", *(key for key, _, _ in METRIC_COLUMNS)])
        for method, scores in result.metrics.items():
            writer.writerow([method, *(repr(float(scores[key])) for key, _, _ in METRIC_COLUMNS)])
    json_path = folder / f"{stem}_metrics.json"
    json_path.write_text(json.dumps(result.to_json(), indent=2) + "\n")
    return [csv_path, json_path]


def write_spectra(clicks: Sequence[dict[str, Any]], folder: Path) -> Path:
    """The clicked pixels' spectra as one CSV: a wavelength column, then one column per pixel and series.

    Raises
    ------
    ValueError
        When no pixel was clicked yet, or the clicks come from results with different bands.
    """
    if not clicks:
        raise ValueError("no pixel clicked yet: click a pixel on any image first")
    axis = clicks[-1]["wavelengths_nm"]
    usable = [c for c in clicks if c["wavelengths_nm"] == axis]
    columns: dict[str, list[float]] = {}
    for click in usable:
        for name, values in click["spectra"].items():
            key = f"x{click['x']}_y{click['y']} {name}"
            columns[key] = values
    path = folder / f"spectra_{len(usable)}_pixels.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([clicks[-1]["axis"], *columns])
        for i, w in enumerate(axis):
            writer.writerow([w, *(repr(values[i]) for values in columns.values())])
    return path
