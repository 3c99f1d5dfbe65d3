"""The authors' weights: read a state dict of their ``FNN_Teacher`` and make it our checkpoint.

The authors' public code (GitHub ``ming053l/S3RNet``, ``models/KQD.py``, class ``FNN_Teacher``
with ``adaptive_fuse=3``) is the same network as :class:`s3rnet.models.S3RNet` under other tensor
names. Their names, and ours, by branch input:

============================ ===================================== ====================
their module                 input                                 our module
============================ ===================================== ====================
``hconv1``, ``hfeat``        X_h                                   branch Q
``mconv1``, ``mfeat``        X_m                                   branch K
``mhconv1``, ``mhfeat``      Cat(X_h, down(X_m)), low resolution   branch V
``hmconv1``, ``hmfeat``      Cat(up(X_h), X_m), high resolution    branch Z
``fuse_att``                 the four branches                     SSAWB (``fusion``)
``fuse``, ``last``           fused features                        reconstruction G
============================ ===================================== ====================

Inside a branch, ``{p}feat.{i}.MFB{j}.conv{k}`` is our residual group ``i``, DFAB ``j - 1``,
convolution ``k - 1``. Their ``fuse`` convolution may be grouped (``groups=args.groups``); a
grouped convolution is a full one whose weight is block-diagonal over the groups, so it is
loaded as such, exactly. Their SSAWB's attention product differs from eq. 3 (see
:class:`s3rnet.models.S3RNetConfig`, ``attention``): import with ``attention="authors"`` to
reproduce their outputs, ``"paper"`` for eq. 3 on their weights.

Files are read with ``torch.load(..., weights_only=True)``, which refuses any pickle that would
need code to load: nothing is ever unpickled. Their training maps each tile to [-1, 1] by its
ground truth's minimum and maximum; at inference only the inputs may be used, so imported
checkpoints use :class:`~s3rnet.degrade.InputNormalisation` ``"minmax"`` (the two inputs' joint
range) and record both in their sidecar.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import pickle
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import torch

from .checkpoints import CheckpointError, checkpoint_metadata, save_checkpoint, weights_path
from .data.grids import AVIRIS_172
from .degrade import binning_response
from .errors import S3RNetError
from .models import PRESETS, S3RNet, S3RNetConfig

# Their module prefix of each of our branches.
BRANCH_PREFIXES = {"Q": "h", "K": "m", "V": "mh", "Z": "hm"}
# Their SSAWB ("CrossSigmoidAttention") convolutions and ours.
SSAWB_NAMES = {
    "query_conv": "to_query",
    "key_conv": "to_key",
    "value_conv": "to_value",
    "output_conv": "project_out",
    "attention_weights": "to_weight_logits",
}
# Keys under which a checkpoint file may wrap the state dict.
WRAPPER_KEYS = ("state_dict", "model_state_dict", "model", "teacher", "net", "params")
# Module prefixes added by wrappers: DataParallel ("module."), their Teacher ("decoder.").
WRAPPER_PREFIXES = ("module.", "decoder.", "teacher.", "model.")
# Their heads are fixed in the code (MultiHeadCrossAttention(nf, 64, 4)); tensors cannot tell.
AUTHORS_HEADS = 4
AUTHORS_NORMALISATION = (
    "each tile mapped to [-1, 1] by its ground truth's minimum and maximum (the authors' data "
    "loader); at inference here: by the joint minimum and maximum of the LR-HSI and HR-MSI "
    "(InputNormalisation 'minmax'), the only statistics an inference may use; on 48 x 48 tiles of "
    "Indian Pines that range is 5-14% narrower than the truth's (tests/test_authors.py)"
)

_FEATURE_KEY = re.compile(r"^(?P<prefix>h|m|mh|hm)feat\.(?P<group>\d+)\.MFB(?P<dfab>\d)\.conv(?P<conv>\d)\.(?P<kind>weight|bias)$")
_ENTRY_KEY = re.compile(r"^(?P<prefix>h|m|mh|hm)conv1\.(?P<kind>weight|bias)$")


class AuthorsWeightsError(CheckpointError):
    """A file that is not a state dict of the authors' ``FNN_Teacher`` we can map."""


# --------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------


def read_state_dict(path: str | os.PathLike) -> dict[str, torch.Tensor]:
    """The tensors of a ``torch.save`` file, without running any code it may contain.

    Accepts a state dict, or a dict wrapping one under a key such as ``"state_dict"``, and
    strips a module prefix that every key shares (``module.``, ``decoder.``...).

    Raises
    ------
    AuthorsWeightsError
        A missing file; a pickle that needs code to load (refused by ``weights_only``); no
        dict of tensors inside.
    """
    path = Path(path)
    if not path.is_file():
        raise AuthorsWeightsError(f"{path}: no such file")
    try:
        content = torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        raise AuthorsWeightsError(
            f"{path}: refused, it holds Python objects that only code could rebuild (torch.load with "
            f"weights_only=True); save the state dict alone with torch.save(model.state_dict(), ...) "
            f"({str(exc).splitlines()[0]})"
        ) from exc
    except (RuntimeError, EOFError, OSError, ValueError) as exc:
        raise AuthorsWeightsError(f"{path}: not a readable torch.save file ({exc})") from exc
    state = _unwrap(content)
    if state is None:
        raise AuthorsWeightsError(
            f"{path}: no state dict inside (expected a dict of tensors, or one under "
            f"{', '.join(repr(k) for k in WRAPPER_KEYS)})"
        )
    return _strip_prefixes(state)


def _is_state_dict(value: Any) -> bool:
    return isinstance(value, Mapping) and bool(value) and all(
        isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in value.items()
    )


def _unwrap(content: Any) -> dict[str, torch.Tensor] | None:
    if _is_state_dict(content):
        return dict(content)
    if not isinstance(content, Mapping):
        return None
    for key in WRAPPER_KEYS:
        if _is_state_dict(content.get(key)):
            return dict(content[key])
    nested = [value for value in content.values() if _is_state_dict(value)]
    return dict(nested[0]) if len(nested) == 1 else None


def _strip_prefixes(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    stripped = True
    while stripped:
        stripped = False
        for prefix in WRAPPER_PREFIXES:
            if all(key.startswith(prefix) for key in state):
                state = {key.removeprefix(prefix): value for key, value in state.items()}
                stripped = True
    return state


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------


def _require(state: Mapping[str, torch.Tensor], key: str, where: str) -> torch.Tensor:
    if key not in state:
        raise AuthorsWeightsError(f"{where}: not a state dict of the authors' FNN_Teacher (no tensor {key!r})")
    return state[key]


def _fusion_of(state: Mapping[str, torch.Tensor], where: str) -> str:
    attention_keys = {key.split(".")[1] for key in state if key.startswith("fuse_att.")}
    if not attention_keys:
        return "sum"  # adaptive_fuse=0: the four branches are added
    if attention_keys == set(SSAWB_NAMES):
        return "ssawb"  # adaptive_fuse=3, CrossSigmoidAttention: the paper's SSAWB
    variants = {
        frozenset({"weights"}): "SigmoidAttentionFusion (adaptive_fuse=1)",
        frozenset({"query_conv", "key_conv", "value_conv", "output_conv"}): "MultiHeadCrossAttention (adaptive_fuse=2)",
        frozenset({"attention_conv"}): "ConcatAttentionFusion (adaptive_fuse=4)",
    }
    name = variants.get(frozenset(attention_keys), f"an unknown fusion with {sorted(attention_keys)}")
    raise AuthorsWeightsError(
        f"{where}: its fusion block is {name}; only the paper's SSAWB (adaptive_fuse=3) and the plain "
        f"sum (adaptive_fuse=0) are S3RNet"
    )


def infer_config(
    state: Mapping[str, torch.Tensor],
    *,
    attention: str = "authors",
    ratio: int = 4,
    heads: int = AUTHORS_HEADS,
    where: str = "state dict",
) -> S3RNetConfig:
    """The :class:`S3RNetConfig` of an authors' state dict, every size read off the tensors.

    C and nf from ``hconv1``, M from ``mconv1``, gc from the first DFAB convolution, the residual
    groups per branch by counting ``{p}feat.{i}``, the convolution groups from the DFAB weights,
    the attention dimension from ``fuse_att.query_conv``. The heads and the ratio are not in the
    tensors: their code fixes 4 heads and ratio 4.

    Raises
    ------
    AuthorsWeightsError
        Tensors missing, or sizes that disagree between branches.
    """
    entry = _require(state, "hconv1.weight", where)
    nf, bands = int(entry.shape[0]), int(entry.shape[1])
    msi_bands = int(_require(state, "mconv1.weight", where).shape[1])
    groups: dict[str, int] = {}
    conv_groups: set[int] = set()
    gc = None
    for name, prefix in BRANCH_PREFIXES.items():
        _require(state, f"{prefix}conv1.weight", where)
        indices = {int(m["group"]) for key in state if (m := _FEATURE_KEY.match(key)) and m["prefix"] == prefix}
        groups[name] = len(indices)
        if indices != set(range(len(indices))):
            raise AuthorsWeightsError(f"{where}: the residual groups of {prefix}feat are not numbered 0..{len(indices) - 1}")
        if indices:
            first = _require(state, f"{prefix}feat.0.MFB1.conv1.weight", where)
            gc = int(first.shape[0]) if gc is None else gc
            if int(first.shape[0]) != gc:
                raise AuthorsWeightsError(f"{where}: growth channels differ between branches ({gc} and {int(first.shape[0])})")
            conv_groups.add(nf // int(first.shape[1]))
    if len(conv_groups) > 1:
        raise AuthorsWeightsError(
            f"{where}: the branches use different convolution groups ({sorted(conv_groups)}); this looks like "
            f"the authors' FNN_Student, which is not S3RNet's teacher network"
        )
    fusion = _fusion_of(state, where)
    attn_dim = int(state["fuse_att.query_conv.weight"].shape[0]) if fusion == "ssawb" else PRESETS["paper"]["attn_dim"]
    try:
        return S3RNetConfig(
            bands=bands, msi_bands=msi_bands, nf=nf, gc=gc if gc is not None else PRESETS["paper"]["gc"],
            groups_q=groups["Q"], groups_k=groups["K"], groups_v=groups["V"], groups_z=groups["Z"],
            heads=heads, attn_dim=attn_dim, ratio=ratio, conv_groups=conv_groups.pop() if conv_groups else 1,
            fusion=fusion, attention=attention,
        )
    except S3RNetError as exc:
        raise AuthorsWeightsError(f"{where}: {exc}") from exc


# --------------------------------------------------------------------------------------------
# Names
# --------------------------------------------------------------------------------------------


def _ungroup(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A grouped convolution's weight (out, in / g, k, k) as the block-diagonal full one."""
    groups = in_channels // weight.shape[1]
    if groups == 1:
        return weight
    out_per_group, in_per_group = weight.shape[0] // groups, weight.shape[1]
    full = weight.new_zeros(weight.shape[0], in_channels, *weight.shape[2:])
    for g in range(groups):
        rows = slice(g * out_per_group, (g + 1) * out_per_group)
        full[rows, g * in_per_group : (g + 1) * in_per_group] = weight[rows]
    return full


def authors_to_ours(state: Mapping[str, torch.Tensor], config: S3RNetConfig, where: str = "state dict") -> dict[str, torch.Tensor]:
    """Their tensors under our names, for :meth:`S3RNet.load_state_dict` with ``strict=True``.

    Raises
    ------
    AuthorsWeightsError
        A tensor left over that has no place in our network (named in the message).
    """
    ours: dict[str, torch.Tensor] = {}
    left = set(state)
    for key, tensor in state.items():
        if match := _ENTRY_KEY.match(key):
            branch = _branch_of(match["prefix"])
            ours[f"mbfn.branches.{branch}.entry.{match['kind']}"] = tensor
        elif match := _FEATURE_KEY.match(key):
            branch = _branch_of(match["prefix"])
            name = (
                f"mbfn.branches.{branch}.residual_groups.{match['group']}.body.{int(match['dfab']) - 1}"
                f".convs.{int(match['conv']) - 1}.{match['kind']}"
            )
            ours[name] = tensor
        elif key.startswith("fuse_att.") and key.split(".")[1] in SSAWB_NAMES:
            _, module, kind = key.split(".")
            ours[f"fusion.{SSAWB_NAMES[module]}.{kind}"] = tensor
        elif key == "fuse.weight":
            ours["reconstruction.0.weight"] = _ungroup(tensor, config.nf)
        elif key == "fuse.bias":
            ours["reconstruction.0.bias"] = tensor
        elif key == "last.weight":
            ours["reconstruction.2.weight"] = tensor
        else:
            continue
        left.discard(key)
    if left:
        raise AuthorsWeightsError(
            f"{where}: {len(left)} tensor(s) have no place in S3RNet: {', '.join(sorted(left)[:8])}"
        )
    return ours


def _branch_of(prefix: str) -> str:
    return next(name for name, p in BRANCH_PREFIXES.items() if p == prefix)


def ours_to_authors(model: S3RNet) -> dict[str, torch.Tensor]:
    """Our network's tensors under the authors' names: a state dict their ``FNN_Teacher`` (with
    ``groups=1`` in ``fuse``) loads, and :func:`import_authors` reads back."""
    renamed: dict[str, torch.Tensor] = {}
    ssawb = {ours: theirs for theirs, ours in SSAWB_NAMES.items()}
    for key, tensor in model.state_dict().items():
        parts = key.split(".")
        if parts[0] == "mbfn":
            prefix = BRANCH_PREFIXES[parts[2]]
            if parts[3] == "entry":
                renamed[f"{prefix}conv1.{parts[4]}"] = tensor
            else:
                group, dfab, conv, kind = parts[4], int(parts[6]), int(parts[8]), parts[9]
                renamed[f"{prefix}feat.{group}.MFB{dfab + 1}.conv{conv + 1}.{kind}"] = tensor
        elif parts[0] == "fusion":
            renamed[f"fuse_att.{ssawb[parts[1]]}.{parts[2]}"] = tensor
        elif key.startswith("reconstruction.0."):
            renamed[f"fuse.{parts[2]}"] = tensor
        else:
            renamed["last.weight"] = tensor
    return renamed


# --------------------------------------------------------------------------------------------
# The import
# --------------------------------------------------------------------------------------------


def load_authors_model(
    path: str | os.PathLike,
    *,
    attention: str = "authors",
    bands: int | None = None,
    msi_bands: int | None = None,
    ratio: int = 4,
    heads: int = AUTHORS_HEADS,
) -> S3RNet:
    """Our :class:`S3RNet` holding the weights of an authors' ``.pth`` file (strictly loaded).

    ``bands`` and ``msi_bands``, when given, are checked against the sizes the tensors give.
    """
    where = str(path)
    state = read_state_dict(path)
    config = infer_config(state, attention=attention, ratio=ratio, heads=heads, where=where)
    for name, asked, found in (("bands", bands, config.bands), ("MSI bands", msi_bands, config.msi_bands)):
        if asked is not None and asked != found:
            raise AuthorsWeightsError(f"{where}: {asked} {name} were asked for, but the weights are for {found}")
    model = S3RNet(config)
    ours = authors_to_ours(state, config, where)
    try:
        model.load_state_dict(ours, strict=True)
    except RuntimeError as exc:
        raise AuthorsWeightsError(f"{where}: the tensors do not fit the network they describe ({exc})") from exc
    return model.eval()


def _preset_name(config: S3RNetConfig) -> str:
    fields = dataclasses.asdict(config)
    for name, values in PRESETS.items():
        if all(fields[key] == value for key, value in values.items()):
            return name
    return "custom"


def import_authors(
    path: str | os.PathLike,
    out: str | os.PathLike,
    *,
    attention: str = "authors",
    bands: int | None = None,
    msi_bands: int | None = None,
    ratio: int = 4,
    heads: int = AUTHORS_HEADS,
) -> Path:
    """Convert an authors' ``FNN_Teacher`` state dict to ``OUT.safetensors`` + ``OUT.json``.

    The sidecar records the source file's name and sha256, the attention, the normalisation
    (theirs, and the input-only one used here), and what the tensors cannot say and is assumed:
    the MSI response is the paper's band binning (``binning{M}``), the PSF the paper's box
    aggregation, and with 172 bands the grid :data:`s3rnet.data.grids.AVIRIS_172` (the paper
    does not list its bands).

    Returns
    -------
    Path
        The weights file, loadable with :func:`s3rnet.checkpoints.load_checkpoint` and
        ``--checkpoint``.
    """
    source = Path(path)
    model = load_authors_model(path, attention=attention, bands=bands, msi_bands=msi_bands, ratio=ratio, heads=heads)
    config = model.config
    grid = AVIRIS_172 if config.bands == AVIRIS_172.bands else None
    metadata = checkpoint_metadata(
        preset=_preset_name(config),
        model_config=dataclasses.asdict(config),
        wavelengths=None if grid is None else grid.centres,
        fwhm=None if grid is None else grid.fwhm,
        msi=f"binning{config.msi_bands}",
        srf=binning_response(config.bands, config.msi_bands),
        psf="box",
        ratio=ratio,
        normalisation="minmax",
        training={
            "by": "the authors (ming053l/S3RNet, FNN_Teacher), imported with python -m s3rnet import-authors",
            "source_file": source.name,
            "source_sha256": hashlib.sha256(source.read_bytes()).hexdigest(),
            "attention": attention,
            "authors_normalisation": AUTHORS_NORMALISATION,
            "assumed": {
                "msi": f"binning{config.msi_bands}: the paper's spectral degradation (adjacent bands averaged)",
                "psf": "box: the paper's aggregation of neighbouring pixels",
                "wavelengths": (
                    "s3rnet's aviris-172 grid (the paper uses 172 AVIRIS bands without listing them)"
                    if grid is not None else "unknown"
                ),
                "heads": f"{heads} (fixed in their code; not recorded in the tensors)",
            },
        },
        steps=0,
        validation=None,
    )
    target = weights_path(out)
    target.parent.mkdir(parents=True, exist_ok=True)
    return save_checkpoint(target, model, metadata)

