"""S3RNet as a fusion method: ``FusionInputs`` in, fused cube in the scene's units out.

:func:`fuse_with_model` is the one inference path (normalise the two inputs with statistics of
the inputs alone, run the network, bring the result back to the scene's units); training's
validation and :class:`CheckpointMethod` both use it. :class:`CheckpointMethod` wraps a
checkpoint so that it has the call signature of the classical baselines, and checks every scene
against what the checkpoint was trained for before running it.

A checkpoint may also name an ensemble partner (its sidecar's ``"ensemble"``: a classical
method and a weight chosen on validation data by :func:`s3rnet.training.choose_ensemble`);
:class:`CheckpointMethod` then returns :func:`blend_outputs` of the network's cube and that
method's, unless asked for the network alone.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .adaptation import ProgressCallback, adapt_model
from .baselines import get_method
from .checkpoints import ENSEMBLE_SHARES, CheckpointError, check_compatible, load_checkpoint
from .consistency import DEFAULT_PROJECTION_FACTOR, lrhsi_noise_power, partner_share, project_onto_inputs
from .data import Scene, SpectralGrid, resample
from .data.grids import FILL_EDGE_NM, FILL_GAP_NM
from .degrade import InputNormalisation
from .device import autocast, resolve_device, to_tensor
from .errors import ConfigError, S3RNetError
from .estimates import ESTIMATES, classical_estimate
from .fusion import FusionInputs
from .response import nearest_bands

__all__ = [
    "ENSEMBLE_SHARES", "ESTIMATES", "WEIGHTS_DIR", "CheckpointMethod", "ModelFusion", "ProgressCallback", "autocast",
    "blend_outputs", "blend_with_partner",
    "checkpoint_grid", "classical_estimate", "fuse_with_model", "list_checkpoints", "prepare_scene",
    "resolve_checkpoint", "resolve_device", "run_model", "to_tensor",
]

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "assets" / "weights"
# Largest difference between a scene's MSI response and the checkpoint's, per band weight.
_RESPONSE_TOLERANCE = 1e-3


@dataclass
class ModelFusion:
    """What a network's fusion of one scene gives besides the cube.

    Attributes
    ----------
    cube : ndarray, shape (H, W, C), float32
        The fused cube in the units of the LR-HSI.
    weights : ndarray, shape (4, H, W), or None
        The SSAWB weights of the Q, K, V and Z branches (eq. 5); None for the ``"sum"`` ablation.
    fused_features : ndarray, shape (nf, H, W)
        F_fused (eq. 6), the features the reconstruction sees.
    adapt_seconds : float
        Time spent adapting the network to the scene (0 without adaptation).
    layers : dict of str to list of ndarray, shape (nf, H, W), or None
        Each branch's features after each residual group (for the layer-wise CKA of the
        paper's Fig. 2), when asked for.
    ensemble : dict or None
        The checkpoint's ensemble partner (``method``, ``weight``) and ``applied``: True when
        :attr:`cube` blends the network's output with it, False (with ``why``) when the partner
        failed on these inputs and the cube is the network's alone; None without a partner.
    projection : dict or None
        When :attr:`cube` was projected onto its inputs
        (:func:`s3rnet.consistency.project_onto_inputs`): its ``factor`` and the LR-HSI
        ``noise_power`` it estimated; None without a projection.
    msi_bands : list of int or None
        For an HR-MSI with more bands than the checkpoint's, the bands the network saw
        (:meth:`CheckpointMethod.check`); None when it saw every band.
    """

    cube: np.ndarray
    weights: np.ndarray | None
    fused_features: np.ndarray
    adapt_seconds: float = 0.0
    layers: dict[str, list[np.ndarray]] | None = None
    ensemble: dict | None = None
    projection: dict | None = None
    msi_bands: list[int] | None = None


def run_model(
    model: torch.nn.Module,
    inputs: FusionInputs,
    normalisation: str = "global",
    estimate: str | None = None,
    device: torch.device | None = None,
    keep_layers: bool = False,
) -> ModelFusion:
    """Fuse one scene with a network, keeping the SSAWB weights and the fused features.

    Parameters
    ----------
    model : S3RNet
    inputs : FusionInputs
    normalisation : {"global", "band"}
        How the inputs are scaled (:class:`~s3rnet.degrade.InputNormalisation`, fitted on the
        two inputs only).
    estimate : str, optional
        The classical method whose estimate the network corrects (:data:`ESTIMATES`), for a
        model with the ``"estimate"`` skip; computed on the normalised inputs, as in training.
    device : torch.device, optional
        Where the model lives; taken from its parameters when omitted.
    keep_layers : bool
        Also return every residual group's output features (:attr:`ModelFusion.layers`).
    """
    device = device or next(model.parameters()).device
    scales = InputNormalisation.fit(inputs.lrhsi, inputs.hrmsi, normalisation)
    low, high = scales.normalise(inputs.lrhsi, inputs.hrmsi)
    extra = {}
    if estimate is not None:
        extra["estimate"] = to_tensor(
            classical_estimate(estimate, low, high, inputs.ratio, inputs.psf, inputs.wavelengths, inputs.srf, scales), device
        )
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), autocast(device):
            output = model(to_tensor(low, device), to_tensor(high, device), return_extras=True, keep_layers=keep_layers,
                           ratio=inputs.ratio, **extra)
    finally:
        model.train(was_training)
    cube = scales.denormalise(output.fused[0].float().permute(1, 2, 0).cpu().numpy()).astype(np.float32)
    weights = None if output.weights is None else output.weights[0].float().cpu().numpy()
    layers = None
    if keep_layers:
        layers = {name: [f[0].float().cpu().numpy() for f in maps] for name, maps in output.layers.items()}
    return ModelFusion(cube, weights, output.fused_features[0].float().cpu().numpy(), layers=layers)


def fuse_with_model(
    model: torch.nn.Module,
    inputs: FusionInputs,
    normalisation: str = "global",
    device: torch.device | None = None,
    estimate: str | None = None,
) -> np.ndarray:
    """The fused cube (H, W, C) alone; see :func:`run_model`."""
    return run_model(model, inputs, normalisation, estimate, device).cube


def blend_outputs(network: np.ndarray, partner: np.ndarray, weight: float | np.ndarray,
                  out: np.ndarray | None = None) -> np.ndarray:
    """The ensemble of a network's fused cube and a classical method's: ``(1 - weight) * network
    + weight * partner``.

    Parameters
    ----------
    network, partner : ndarray, shape (H, W, C)
        Both in the scene's units.
    weight : float or ndarray, shape (C,)
        The partner's share, in [0, 1], or each band's.
    out : ndarray, shape (H, W, C), float32, optional
        Where to write the blend; it may be ``network`` itself (``fuse``'s windows do so).

    Returns
    -------
    ndarray, shape (H, W, C), float32
    """
    if not np.all((np.asarray(weight) >= 0.0) & (np.asarray(weight) <= 1.0)):
        raise ConfigError(f"an ensemble weight must lie in [0, 1], got {weight!r}")
    # In float32 and a row at a time: on a 512 x 512 x 200 window of fuse, float64 temporaries of
    # the whole cube took 1.2 GiB.
    share = np.asarray(weight, dtype=np.float32)
    blended = np.multiply(network, 1 - share, out=out, dtype=np.float32)
    for row, partner_row in zip(blended, partner):
        row += partner_row * share
    return blended


def blend_with_partner(
    network: np.ndarray, partner: np.ndarray, inputs: FusionInputs, ensemble: dict, out: np.ndarray | None = None,
    noise_power: float | None = None,
) -> tuple[np.ndarray, dict]:
    """The blend of a network's cube and its partner's as a checkpoint's ``"ensemble"`` asks.

    Parameters
    ----------
    network, partner : ndarray, shape (H, W, C)
        Both in the units of ``inputs``.
    inputs : FusionInputs
        What both were fused from (read only by the ``"consistency"`` share).
    ensemble : dict
        ``method``, ``weight`` and optionally ``share`` (:data:`ENSEMBLE_SHARES`, ``"fixed"`` by
        default): with ``"consistency"`` the weight is the floor of
        :func:`s3rnet.consistency.partner_share`, with ``"band-consistency"`` of its share for each band,
        with ``"scene-band-consistency"`` of the scene's share, from which each band's is raised.
    out : ndarray, shape (H, W, C), float32, optional
        Where to write the blend (see :func:`blend_outputs`); the share is measured first.
    noise_power : float, optional
        The LR-HSI's noise power for a consistency share (:func:`s3rnet.consistency.partner_share`).

    Returns
    -------
    cube : ndarray, shape (H, W, C), float32
    record : dict
        ``method``, ``weight`` (the share used; with ``"band-consistency"`` its mean over the bands)
        and, with a consistency share, ``share``, ``consistent``, ``reliability`` and ``floor``
        (and ``weights``, each band's share, a list; ``scene_weight``, the scene's share that each
        band's was raised from).
    """
    record = {"method": ensemble["method"], "weight": float(ensemble["weight"])}
    share = ensemble.get("share", "fixed")
    if share == "fixed":
        return blend_outputs(network, partner, record["weight"], out), record
    per_band = {"consistency": False, "band-consistency": True, "scene-band-consistency": "above-scene"}[share]
    record |= {"share": share} | partner_share(network, partner, inputs, floor=record["weight"], noise_power=noise_power,
                                               per_band=per_band)
    weights = record.pop("weights", None)
    if weights is None:
        return blend_outputs(network, partner, record["weight"], out), record
    return blend_outputs(network, partner, weights, out), record | {"weights": [round(float(w), 4) for w in weights]}


def resolve_checkpoint(name_or_path: str | Path) -> Path:
    """A checkpoint path from a published name (``lite-oli4``) or a path to one.

    Raises
    ------
    CheckpointError
        When neither a published name nor an existing file.
    """
    path = Path(name_or_path)
    if path.suffix in (".safetensors", ".json") or path.exists() or path.with_suffix(".safetensors").exists():
        return path
    published = WEIGHTS_DIR / f"{name_or_path}.safetensors"
    if published.exists():
        return published
    names = sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors")) if WEIGHTS_DIR.is_dir() else []
    raise CheckpointError(
        f"no checkpoint {str(name_or_path)!r}: not a file, nor a published name "
        f"({', '.join(names) or 'none published yet'})"
    )


def list_checkpoints() -> list[str]:
    """Names of the published checkpoints (``assets/weights/NAME.safetensors``), sorted."""
    if not WEIGHTS_DIR.is_dir():
        return []
    return sorted(p.stem for p in WEIGHTS_DIR.glob("*.safetensors") if p.with_suffix(".json").is_file())


def checkpoint_grid(metadata: dict) -> SpectralGrid | None:
    """The wavelength grid a checkpoint was trained on, or None when it records none."""
    if metadata.get("wavelengths_nm") is None:
        return None
    centres = np.asarray(metadata["wavelengths_nm"], dtype=float)
    fwhm = metadata.get("fwhm_nm")
    widths = np.full_like(centres, 10.0) if fwhm is None else np.asarray(fwhm, dtype=float)
    name = ((metadata.get("training") or {}).get("config") or {}).get("grid")
    if name in (None, "scene"):
        name = f"the grid of {Path(metadata.get('source', 'checkpoint')).stem}"
    return SpectralGrid(name, centres, widths)


def prepare_scene(scene: Scene, metadata: dict) -> Scene:
    """The scene on the checkpoint's wavelength grid: unchanged when it already is (its FWHM
    taken from the checkpoint when it has none), resampled (:func:`s3rnet.data.resample`)
    otherwise. Units need no conversion: the network sees inputs
    normalised by their own statistics.

    Grid bands the scene does not reach are filled (up to ``FILL_EDGE_NM`` beyond its range,
    across gaps up to ``FILL_GAP_NM``; :mod:`s3rnet.data.grids`) and listed in
    ``meta["filled_bands"]``; a scene that misses more raises a ``WavelengthError`` saying so."""
    grid = checkpoint_grid(metadata)
    if grid is None or scene.wavelengths is None:
        return scene
    if scene.bands == grid.bands and np.abs(scene.wavelengths - grid.centres).max() <= 1.0:
        if scene.fwhm is None:
            # Same bands, widths unknown: the checkpoint's widths give the MSI response it was
            # trained with, instead of one guessed from the band spacing.
            return scene.with_cube(scene.cube, fwhm=grid.fwhm.copy())
        return scene
    return resample(scene, grid, max_edge_nm=FILL_EDGE_NM, max_gap_nm=FILL_GAP_NM)


class CheckpointMethod:
    """A trained S3RNet with the call signature of the baselines: ``method(inputs) -> cube``.

    Parameters
    ----------
    checkpoint : str or path
        Published name or path (see :func:`resolve_checkpoint`).
    device : str or torch.device, optional
        ``cuda`` when available by default.
    adapt_steps : int
        Test-time adaptation steps on each scene before fusing it
        (:func:`s3rnet.adaptation.adapt_model`); 0 fuses with the weights as trained.
    project : bool
        Project each fused cube onto its inputs (:func:`s3rnet.consistency.project_onto_inputs`)
        even when the checkpoint does not (its sidecar's ``"projection"``).
    seed : int
        Seed of the adaptation.
    ensemble : bool
        Apply what the checkpoint's sidecar adds to the network as published: the blend with its
        ensemble partner (``"ensemble"``, :func:`blend_outputs`) and the projection onto the
        inputs (``"projection"``). False returns the network's output alone (projected, with the
        checkpoint's noise factor, only when ``project`` asks).
    study_ratio : int, optional
        A spatial ratio to fuse at although the checkpoint was neither trained nor validated there,
        to validate it (:func:`s3rnet.training.ratio_scores`); the others are refused as usual
        (:func:`s3rnet.checkpoints.usable_ratios`).
    """

    def __init__(
        self,
        checkpoint: str | Path,
        device: str | torch.device | None = None,
        adapt_steps: int = 0,
        project: bool = False,
        seed: int = 0,
        ensemble: bool = True,
        study_ratio: int | None = None,
    ) -> None:
        if isinstance(adapt_steps, bool) or not isinstance(adapt_steps, int) or adapt_steps < 0:
            raise ConfigError(f"adapt_steps must be a non-negative integer, got {adapt_steps!r}")
        device = resolve_device(device)
        self.model, self.metadata = load_checkpoint(resolve_checkpoint(checkpoint), device=device)
        # Channels-last weights run the convolutions about 20% faster on the inputs of to_tensor.
        self.model.to(memory_format=torch.channels_last)
        self.device = device
        self.adapt_steps = adapt_steps
        self.project = project
        self.seed = seed
        self.ensemble = self.metadata.get("ensemble") if ensemble else None
        self.projection = self.metadata.get("projection") if ensemble else None
        self.study_ratio = study_ratio

    @property
    def name(self) -> str:
        return Path(self.metadata["source"]).stem

    @property
    def projection_factor(self) -> float:
        """The noise factor of the checkpoint's projection (:data:`DEFAULT_PROJECTION_FACTOR` when
        its sidecar has none), used whenever this method projects."""
        return float((self.metadata.get("projection") or {}).get("factor", DEFAULT_PROJECTION_FACTOR))

    @property
    def estimate(self) -> str | None:
        """The classical method the network corrects, or None."""
        return self.metadata.get("estimate")

    def check(self, inputs: FusionInputs) -> list[int] | None:
        """Refuse inputs the checkpoint was not trained for (bands, wavelengths, ratio, MSI).

        An HR-MSI with more bands than the checkpoint's passes when its response (``inputs.srf``)
        holds the checkpoint's bands (an ``s2-10`` simulation for ``s2-6`` weights, ``oli7`` for
        ``oli6``; :func:`s3rnet.response.nearest_bands` finds them), as in ``fuse``.

        Returns
        -------
        list of int or None
            Those bands of the HR-MSI, the network's input; None for every band.
        """
        meta = self.metadata
        ratio = None if inputs.ratio == self.study_ratio else inputs.ratio
        check_compatible(meta, bands=inputs.lrhsi.shape[-1], wavelengths=inputs.wavelengths, ratio=ratio)
        trained = np.asarray(meta["msi"]["response"])
        bands = inputs.hrmsi.shape[-1]
        wider = bands > trained.shape[0] and inputs.srf is not None
        if bands != trained.shape[0] and not wider:
            raise CheckpointError(
                f"checkpoint {meta['source']} expects a {trained.shape[0]}-band MSI ({meta['msi']['name']}); "
                f"the HR-MSI has {bands} bands" + (" and no response to find its bands among them" if bands > trained.shape[0] else "")
            )
        seen = nearest_bands(trained, inputs.srf)[0].tolist() if wider else None
        if inputs.srf is not None and np.abs(inputs.srf[seen if wider else slice(None)] - trained).max() > _RESPONSE_TOLERANCE:
            raise CheckpointError(
                f"checkpoint {meta['source']} was trained with the MSI response {meta['msi']['name']!r}; "
                f"these inputs were made with another one" + (" that does not hold its bands" if wider else "")
            )
        return seen

    def fuse(
        self, inputs: FusionInputs, progress: ProgressCallback | None = None, keep_layers: bool = False
    ) -> ModelFusion:
        """Check, adapt (when asked), fuse, blend with the ensemble partner and project onto the
        inputs (each when the checkpoint asks for it and it is not switched off, or, for the
        projection, when asked) one scene.

        Parameters
        ----------
        inputs : FusionInputs
        progress : callable, optional
            ``progress(fraction, message)`` during the adaptation.
        keep_layers : bool
            Also return the branches' per-residual-group features (:attr:`ModelFusion.layers`).
        """
        seen = self.check(inputs)
        normalisation = self.metadata["normalisation"]
        # The estimate reads the MSI response it was trained with when the inputs carry none.
        model_inputs = inputs if inputs.srf is not None else dataclasses.replace(
            inputs, srf=np.asarray(self.metadata["msi"]["response"], dtype=np.float64)
        )
        every_band = model_inputs
        if seen is not None:
            model_inputs = dataclasses.replace(model_inputs, hrmsi=model_inputs.hrmsi[..., seen], srf=model_inputs.srf[seen])
        model, adapt_seconds = self.model, 0.0
        if self.adapt_steps:
            start = time.perf_counter()
            model = adapt_model(
                self.model, model_inputs, self.adapt_steps, normalisation=normalisation, estimate=self.estimate,
                seed=self.seed, progress=progress,
            )
            adapt_seconds = time.perf_counter() - start
        result = run_model(model, model_inputs, normalisation, self.estimate, self.device, keep_layers)
        result.adapt_seconds = adapt_seconds
        if seen is not None:
            # As fuse does: the network's correction of its estimate goes onto that estimate made
            # with every MSI band (the estimate's gain from the bands the network did not see).
            estimate = get_method(self.estimate or "bicubic")
            result.cube += estimate(every_band) - estimate(model_inputs)
            result.msi_bands = seen
        if self.ensemble is not None:
            result.cube, result.ensemble = self._blend(result.cube, every_band)
        if self.project or self.projection is not None:
            noise_power = lrhsi_noise_power(every_band)
            result.cube = project_onto_inputs(result.cube, every_band, factor=self.projection_factor,
                                              noise_power=noise_power)
            result.projection = {"factor": self.projection_factor, "noise_power": noise_power}
        return result

    def _blend(self, cube: np.ndarray, inputs: FusionInputs) -> tuple[np.ndarray, dict]:
        """The network's cube blended with the ensemble partner's, and what was done; the cube
        alone when the partner fails on these inputs, so that a classical method's failure does
        not take the network's output with it."""
        method = self.ensemble["method"]
        record = {"method": method, "weight": self.ensemble["weight"]}
        try:
            partner = get_method(method)(inputs)
        except (S3RNetError, np.linalg.LinAlgError) as exc:
            return cube, record | {"applied": False, "why": f"{method} failed on these inputs ({exc}): the network alone"}
        if partner.shape != cube.shape or not np.isfinite(partner).all():
            return cube, record | {"applied": False, "why": f"{method} gave no finite cube of the network's shape: the network alone"}
        blended, record = blend_with_partner(cube, partner, inputs, self.ensemble)
        return blended, record | {"applied": True}

    def __call__(self, inputs: FusionInputs) -> np.ndarray:
        return self.fuse(inputs).cube
