"""What one browser session (or one gradio_client) keeps between events.

A :class:`SessionState` lives in a ``gr.State``, so each session has its own and no user ever
sees another's results. It is small: the settings of the session's last fusion name its result,
which lives in the process's result store (:mod:`app.results`) and is computed again if the
store dropped it. A session that has not fused anything yet shows the start-up result.
"""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import threading
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from s3rnet.data import Scene

from .compute import FusionSettings

# The clicked spectra kept for the CSV export (the oldest are dropped first).
MAX_CLICKS = 50
# Uploaded scenes kept per session (the oldest is dropped first): each may weigh up to the
# upload limit, so a session cannot pile them up.
MAX_UPLOADS = 2


@functools.cache
def downloads_root() -> Path:
    """One folder per process for every session's downloads, removed when the process exits
    (gradio forgets the sessions still open at shutdown without telling them)."""
    root = Path(tempfile.mkdtemp(prefix="s3rnet-app-"))
    atexit.register(shutil.rmtree, root, ignore_errors=True)
    return root


@dataclass
class SessionState:
    """A session's uploads, the settings of its last fusion and the pixels it clicked.

    Attributes
    ----------
    settings : FusionSettings or None
        The settings of the last successful fusion of this session (None until it fuses: the
        start-up result is shown).
    uploads : dict
        Dropdown value (``"upload:NAME"``) -> uploaded :class:`~s3rnet.data.Scene`, at most
        :data:`MAX_UPLOADS`.
    clicks : list of dict
        Spectra of the clicked pixels, as returned by :func:`app.compute.pixel_spectra`.
    pixel : (int, int) or None
        The last clicked pixel (x, y), shown again after each new fusion.
    failed : str or None
        Why the last fusion failed, while the page shows no result (None after a success).
    """

    settings: FusionSettings | None = None
    uploads: dict[str, Scene] = field(default_factory=dict)
    clicks: list[dict[str, Any]] = field(default_factory=list)
    pixel: tuple[int, int] | None = None
    failed: str | None = None
    _folder: Path | None = field(default=None, repr=False)

    def add_upload(self, key: str, scene: Scene) -> None:
        self.uploads.pop(key, None)
        self.uploads[key] = scene
        while len(self.uploads) > MAX_UPLOADS:
            del self.uploads[next(iter(self.uploads))]

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
        """Drop the uploads and clicks and remove the downloads (the tab closed, or gradio forgot
        the session)."""
        self.uploads.clear()
        self.clicks.clear()
        if self._folder is not None:
            shutil.rmtree(self._folder, ignore_errors=True)
            self._folder = None


def close_session(state: SessionState | None) -> None:
    """``gr.State`` delete callback."""
    if isinstance(state, SessionState):
        state.close()


class OpenSessions:
    """The sessions of open browser tabs by gradio's session hash, so that a closing tab's state
    is freed at once (gradio keeps a closed tab's state for an hour, in case it comes back).

    Holds weak references only: a session gradio forgot is not kept alive here.
    """

    def __init__(self) -> None:
        self._sessions: weakref.WeakValueDictionary[str, SessionState] = weakref.WeakValueDictionary()
        self._lock = threading.Lock()

    def remember(self, session_hash: str, state: SessionState) -> None:
        with self._lock:
            self._sessions[session_hash] = state

    def close(self, session_hash: str | None) -> bool:
        """Close the session of a tab that closed; False when none was known."""
        with self._lock:
            state = self._sessions.pop(session_hash, None) if session_hash else None
        if state is None:
            return False
        state.close()
        return True

    def __len__(self) -> int:
        return len(self._sessions)


OPEN_SESSIONS = OpenSessions()
