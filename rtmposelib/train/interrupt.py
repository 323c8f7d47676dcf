"""Stopping a training run cleanly: SIGINT / SIGTERM become a request the loop honours after the
current step, once the checkpoint is written; ``fit`` then raises :class:`TrainingInterrupted`, and a
rerun resumes from that checkpoint.
"""
from __future__ import annotations

import signal
import threading


class StopSignal:
    """Context manager turning SIGINT/SIGTERM into a request the loop honours after the current step.

    ``requested`` holds the signal's name once one arrived. A second signal stops immediately
    (``KeyboardInterrupt``). Outside the main thread signals cannot be caught, so nothing is installed.
    """

    SIGNALS = (signal.SIGINT, signal.SIGTERM)

    def __init__(self) -> None:
        self.requested: str | None = None
        self._previous: dict = {}

    def _handle(self, signum, frame) -> None:
        if self.requested is not None:
            raise KeyboardInterrupt(f"second {signal.Signals(signum).name}: stopping now")
        self.requested = signal.Signals(signum).name

    def __enter__(self) -> StopSignal:
        if threading.current_thread() is threading.main_thread():
            for sig in self.SIGNALS:
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()


class TrainingInterrupted(KeyboardInterrupt):
    """Raised by ``fit`` after a SIGINT/SIGTERM once the checkpoint is safely written."""
