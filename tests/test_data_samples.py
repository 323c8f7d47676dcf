"""The one lookup of the real sample folder: $RTMPOSE_SAMPLES first, then the fallback, else a reason."""
from __future__ import annotations

from rtmposelib.data import samples


def test_environment_variable_wins(tmp_path, monkeypatch):
    monkeypatch.setenv(samples.SAMPLES_ENV, str(tmp_path))
    assert samples.samples_dir() == tmp_path


def test_missing_folder_from_the_environment_is_named(tmp_path, monkeypatch):
    monkeypatch.setenv(samples.SAMPLES_ENV, str(tmp_path / "absent"))
    assert samples.samples_dir() is None
    reason = samples.samples_missing_reason()
    assert "RTMPOSE_SAMPLES" in reason and "absent" in reason and "\n" not in reason


def test_fallback_when_the_variable_is_unset(tmp_path, monkeypatch):
    monkeypatch.delenv(samples.SAMPLES_ENV, raising=False)
    monkeypatch.setattr(samples, "FALLBACK_SAMPLES", tmp_path / "none")
    assert samples.samples_candidate() == tmp_path / "none"
    assert samples.samples_dir() is None
    assert "set RTMPOSE_SAMPLES" in samples.samples_missing_reason()
    monkeypatch.setattr(samples, "FALLBACK_SAMPLES", tmp_path)
    assert samples.samples_dir() == tmp_path
