"""Classical fusion baselines, all with the signature ``fuse(inputs: FusionInputs) -> (H, W, C)``.

:data:`METHODS` maps each name to its function, :data:`METHOD_INFO` to a short description and
the reference the CLI and the app show, and :func:`get_method` looks a name up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError
from ..fusion import FusionInputs
from . import (
    bicubic, cnmf, gsa, hysime_gsa, hysime_mtf, hysime_wiener_cnmf, hysime_wiener_hybrid, hysime_wiener_mtf, mtf_glp_hpm,
    pca_wiener_cnmf,
)

FusionMethod = Callable[[FusionInputs], np.ndarray]


@dataclass(frozen=True)
class MethodInfo:
    """What the CLI and the app say about a baseline.

    Attributes
    ----------
    label : str
        Display name.
    description : str
        One sentence on how the method works.
    reference : str
        The paper it follows.
    needs_srf : bool
        Whether it refuses to run without the MSI's spectral response.
    """

    label: str
    description: str
    reference: str
    needs_srf: bool = False


METHODS: dict[str, FusionMethod] = {
    "bicubic": bicubic.fuse,
    "gsa": gsa.fuse,
    "mtf-glp-hpm": mtf_glp_hpm.fuse,
    "cnmf": cnmf.fuse,
    "hysime-gsa": hysime_gsa.fuse,
    "hysime-mtf": hysime_mtf.fuse,
    "hysime-wiener-mtf": hysime_wiener_mtf.fuse,
    "hysime-wiener-hybrid": hysime_wiener_hybrid.fuse,
    "hysime-wiener-cnmf": hysime_wiener_cnmf.fuse,
    "pca-wiener-cnmf": pca_wiener_cnmf.fuse,
}

METHOD_INFO: dict[str, MethodInfo] = {
    "bicubic": MethodInfo(
        "Bicubic",
        "Bicubic interpolation of the LR-HSI; ignores the MSI.",
        "R. Keys, IEEE Trans. ASSP 29(6), 1981.",
    ),
    "gsa": MethodInfo(
        "GSA",
        "Component substitution: each band gets the detail of its MSI band minus an intensity "
        "regressed from the HSI bands, with an adaptive gain.",
        "B. Aiazzi, S. Baronti, M. Selva, IEEE TGRS 45(10), 2007.",
    ),
    "mtf-glp-hpm": MethodInfo(
        "MTF-GLP-HPM",
        "Multiresolution analysis: each band is modulated by the ratio of a synthetic pan "
        "(nonnegative regression of the MSI bands) to its MTF-matched low-pass version.",
        "B. Aiazzi et al., PE&RS 72(5), 2006; G. Vivone et al., IEEE TGRS 53(5), 2015.",
    ),
    "cnmf": MethodInfo(
        "CNMF",
        "Coupled NMF unmixing: endmembers from the HSI, high-resolution abundances from the "
        "MSI, alternated; the fused cube is their product.",
        "N. Yokoya, T. Yairi, A. Iwasaki, IEEE TGRS 50(2), 2012.",
        needs_srf=True,
    ),
    "hysime-gsa": MethodInfo(
        "HySime-GSA",
        "GSA on the LR-HSI projected onto its signal subspace, whose dimension HySime chooses "
        "from the data (noise by regression on neighbouring bands, minimum mean-squared error): "
        "robust to noise in the LR-HSI.",
        "J. M. Bioucas-Dias, J. M. P. Nascimento, IEEE TGRS 46(8), 2008; B. Aiazzi et al., "
        "IEEE TGRS 45(10), 2007.",
    ),
    "hysime-mtf": MethodInfo(
        "HySime-MTF",
        "MTF-GLP-HPM on the LR-HSI projected onto its HySime signal subspace: the noise "
        "robustness of HySime-GSA with the multiresolution fusion's detail injection.",
        "J. M. Bioucas-Dias, J. M. P. Nascimento, IEEE TGRS 46(8), 2008; B. Aiazzi et al., "
        "PE&RS 72(5), 2006.",
    ),
    "hysime-wiener-mtf": MethodInfo(
        "HySime-Wiener-MTF",
        "MTF-GLP-HPM on the LR-HSI projected onto its HySime signal subspace plus the part the "
        "subspace leaves out, kept per band by a Wiener gain: as robust as HySime-MTF on noisy "
        "inputs, close to MTF-GLP-HPM on clean ones.",
        "J. M. Bioucas-Dias, J. M. P. Nascimento, IEEE TGRS 46(8), 2008; B. Aiazzi et al., "
        "PE&RS 72(5), 2006.",
    ),
    "hysime-wiener-hybrid": MethodInfo(
        "HySime-Wiener-Hybrid",
        "The LR-HSI denoised as in HySime-Wiener-MTF, then GSA's additive detail in the bands an "
        "MSI band covers, as far as the denoiser found them noisy, and MTF-GLP-HPM's modulation "
        "elsewhere: the more robust detail model where the noise is.",
        "J. M. Bioucas-Dias, J. M. P. Nascimento, IEEE TGRS 46(8), 2008; B. Aiazzi et al., "
        "IEEE TGRS 45(10), 2007; B. Aiazzi et al., PE&RS 72(5), 2006.",
    ),
    "hysime-wiener-cnmf": MethodInfo(
        "HySime-Wiener-CNMF",
        "CNMF on the LR-HSI denoised as in HySime-Wiener-MTF: endmembers extracted from denoised "
        "spectra, so the unmixing's detail in every band survives noise in the LR-HSI.",
        "J. M. Bioucas-Dias, J. M. P. Nascimento, IEEE TGRS 46(8), 2008; N. Yokoya, T. Yairi, "
        "A. Iwasaki, IEEE TGRS 50(2), 2012.",
        needs_srf=True,
    ),
    "pca-wiener-cnmf": MethodInfo(
        "PCA-Wiener-CNMF",
        "CNMF on the LR-HSI denoised in its principal components: those above the noise power "
        "that the LR-HSI and the HR-MSI disagree on are kept, the rest by a Wiener gain; plain "
        "CNMF on clean inputs.",
        "V. A. Marchenko, L. A. Pastur, Math. USSR-Sbornik 1(4), 1967; N. Yokoya, T. Yairi, "
        "A. Iwasaki, IEEE TGRS 50(2), 2012.",
        needs_srf=True,
    ),
}


def get_method(name: str) -> FusionMethod:
    """The fusion function registered under ``name``.

    Parameters
    ----------
    name : str
        One of the keys of :data:`METHODS`.

    Returns
    -------
    callable
        ``fuse(inputs: FusionInputs) -> ndarray (H, W, C) float32``.

    Raises
    ------
    ConfigError
        For an unknown name; the message lists the valid ones.
    """
    try:
        return METHODS[name]
    except KeyError:
        raise ConfigError(
            f"unknown method {name!r}; choose one of {', '.join(METHODS)}"
        ) from None


__all__ = ["METHODS", "METHOD_INFO", "MethodInfo", "FusionMethod", "get_method"]
