"""What one browser session (or one gradio_client) keeps between events.

A :class:`SessionState` lives in a ``gr.State``, so each session has its own and no user ever
sees another's results. Fusion results are never modified once made: a session that has not
fused anything yet points at the start-up result, which every such session shares.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3rnet.data import Scene

from .compute import FusionResult

# The clicked spectra kept for the CSV export (the oldest are dropped first).
MAX_CLICKS = 50


@functools.cache
def downloads_root() -> Path:
    """One folder per process for every session's downloads, removed when the process exits
    (gradio forgets the sessions still open at shutdown without telling them)."""
    root = Path(tempfile.mkdtemp(prefix="s3rnet-app-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@dataclass
class SessionState:
    """A session's uploads, its last fusion result and the pixels it clicked.

    Attributes
    ----------
    result : FusionResult
        The last fusion of this session (the start-up result until it fuses).
    uploads : dict
        Dropdown value (``"upload:NAME"``) -> uploaded :class:`~s3rnet.data.Scene`.
    clicks : list of dict
        Spectra of the clicked pixels, as returned by :func:`app.compute.pixel_spectra`.
    pixel : (int, int) or None
        The last clicked pixel (x, y), shown again after each new fusion.
    """

    result: FusionResult
    uploads: dict[str, Scene] = field(default_factory=dict)
    clicks: list[dict[str, Any]] = field(default_factory=list)
    pixel: tuple[int, int] | None = None
    _folder: Path | None = field(default=None, repr=False)

    def remember_click(self, spectra: dict[str, Any]) -> None:
        self.pixel = (spectra["x"], spectra["y"])
        self.clicks.append(spectra)
        del self.clicks[:-MAX_CLICKS]

    def export_folder(self) -> Path:
        """A fresh folder for this session's downloads (older downloads are removed)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
        self._folder = Path(tempfile.mkdtemp(prefix="export-", dir=downloads_root()))
        return self._folder

    def close(self) -> None:
        """Remove the session's downloads (called when gradio forgets the session)."""
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def close_session(state: SessionState | None) -> None:
    """``gr.State`` delete callback."""
    if isinstance(state, SessionState):
        state.close()
