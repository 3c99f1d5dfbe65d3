"""S3RNet as a fusion method: ``FusionInputs`` in, fused cube in the scene's units out.

:func:`fuse_with_model` is the one inference path (normalise the two inputs with statistics of
the inputs alone, run the network, bring the result back to the scene's units); training's
validation and :class:`CheckpointMethod` both use it. :class:`CheckpointMethod` wraps a
checkpoint so that it has the call signature of the classical baselines, and checks every scene
against what the checkpoint was trained for before running it.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .checkpoints import CheckpointError, check_compatible, load_checkpoint
from .degrade import InputNormalisation
from .errors import ConfigError
from .fusion import FusionInputs

WEIGHTS_DIR = Path(__file__).resolve().parents[1] / "assets" / "weights"
# Largest difference between a scene's MSI response and the checkpoint's, per band weight.
_RESPONSE_TOLERANCE = 1e-3


def resolve_device(device: str | torch.device | None = None) -> torch.device:
    """``cuda`` when available and nothing is asked, else the device asked for (checked)."""
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(device)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ConfigError("device 'cuda' was asked for, but no CUDA GPU is available")
    if device.type not in ("cpu", "cuda"):
        raise ConfigError(f"unsupported device {str(device)!r}; choose cpu or cuda")
    return device


def autocast(device: torch.device) -> torch.autocast:
    """bf16 autocast on CUDA (no loss scaling needed, half the activation memory); float32 on the
    CPU, where oneDNN has no fast bf16 path on our machines and runs stay exactly reproducible."""
    return torch.autocast(device_type=device.type, dtype=torch.bfloat16, enabled=device.type == "cuda")


def to_tensor(image: np.ndarray, device: torch.device) -> torch.Tensor:
    """(H, W, C) array -> (1, C, H, W) float32 tensor on ``device``."""
    return torch.from_numpy(np.ascontiguousarray(image.transpose(2, 0, 1)[None], dtype=np.float32)).to(device)


def fuse_with_model(
    model: torch.nn.Module, inputs: FusionInputs, normalisation: str = "global", device: torch.device | None = None
) -> np.ndarray:
    """Fuse one scene with a network.

    Parameters
    ----------
    model : S3RNet
    inputs : FusionInputs
    normalisation : {"global", "band"}
        How the inputs are scaled (:class:`~s3rnet.degrade.InputNormalisation`, fitted on the
        two inputs only).
    device : torch.device, optional
        Where the model lives; taken from its parameters when omitted.

    Returns
    -------
    ndarray, shape (H, W, C), float32
        The fused cube in the units of the LR-HSI.
    """
    device = device or next(model.parameters()).device
    scales = InputNormalisation.fit(inputs.lrhsi, inputs.hrmsi, normalisation)
    low, high = scales.normalise(inputs.lrhsi, inputs.hrmsi)
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad(), autocast(device):
            fused = model(to_tensor(low, device), to_tensor(high, device)).float()
    finally:
        model.train(was_training)
    return scales.denormalise(fused[0].permute(1, 2, 0).cpu().numpy()).astype(np.float32)


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


class CheckpointMethod:
    """A trained S3RNet with the call signature of the baselines: ``method(inputs) -> cube``.

    Parameters
    ----------
    checkpoint : str or path
        Published name or path (see :func:`resolve_checkpoint`).
    device : str or torch.device, optional
        ``cuda`` when available by default.
    """

    def __init__(self, checkpoint: str | Path, device: str | torch.device | None = None) -> None:
        device = resolve_device(device)
        self.model, self.metadata = load_checkpoint(resolve_checkpoint(checkpoint), device=device)
        self.device = device

    @property
    def name(self) -> str:
        return Path(self.metadata["source"]).stem

    def check(self, inputs: FusionInputs) -> None:
        """Refuse inputs the checkpoint was not trained for (bands, wavelengths, ratio, MSI)."""
        meta = self.metadata
        check_compatible(meta, bands=inputs.lrhsi.shape[-1], wavelengths=inputs.wavelengths, ratio=inputs.ratio)
        trained = np.asarray(meta["msi"]["response"])
        if inputs.hrmsi.shape[-1] != trained.shape[0]:
            raise CheckpointError(
                f"checkpoint {meta['source']} expects a {trained.shape[0]}-band MSI ({meta['msi']['name']}); "
                f"the HR-MSI has {inputs.hrmsi.shape[-1]} bands"
            )
        if inputs.srf is not None and np.abs(inputs.srf - trained).max() > _RESPONSE_TOLERANCE:
            raise CheckpointError(
                f"checkpoint {meta['source']} was trained with the MSI response {meta['msi']['name']!r}; "
                f"these inputs were made with another one"
            )

    def __call__(self, inputs: FusionInputs) -> np.ndarray:
        self.check(inputs)
        return fuse_with_model(self.model, inputs, self.metadata["normalisation"], self.device)
