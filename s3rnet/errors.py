"""Errors raised by s3rnet.

Every problem with user input surfaces as one subclass of :class:`S3RNetError` whose
message names the file (when there is one) and what is wrong with it, so that the CLI,
the app and the notebooks can show it as it is.
"""

from __future__ import annotations


class S3RNetError(Exception):
    """Base class of every error s3rnet raises on purpose."""


class SceneFormatError(S3RNetError):
    """A file that is not a readable scene: unknown type, truncated, corrupt header."""


class SceneDataError(S3RNetError):
    """A scene whose values cannot be used: NaN or Inf, wrong rank, empty."""


class WavelengthError(S3RNetError):
    """Wavelengths missing where they are needed, or inconsistent with the data."""


class ShapeError(S3RNetError):
    """Arrays whose shapes do not fit together (band mismatch, size not a multiple of the ratio)."""


class ResponseRangeError(S3RNetError):
    """A spectral response that falls outside the wavelengths of the cube."""


class ConfigError(S3RNetError):
    """An unknown name or an impossible value among the options (preset, method, PSF, SNR...)."""
