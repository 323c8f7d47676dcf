"""Released weights on demand: a local cache, checked downloads that resume, and ``zoo:<name>`` resolution.

- Cache: ``$RTMPOSE_HOME``, else ``$XDG_CACHE_HOME/rtmposelib``, else ``~/.cache/rtmposelib``; released
  files live in its ``zoo/`` folder under their release file names, so a file placed there by hand is
  used as it is (after the same checks).
- A download goes to ``<file>.part`` and is renamed into place only when complete and checked
  (atomic: the cache never holds a half file under the final name). An interrupted download keeps its
  ``.part``; the next attempt asks the server for the rest (HTTP ``Range``) and appends, or starts over
  when the server ignores the range.
- Checks: a body that is an HTML page (an error page served with status 200) is refused; fewer bytes
  than ``Content-Length`` is an interruption; the file must be a complete zip archive (a PyTorch
  checkpoint is one, and so is an ONNX SDK zip: a truncated file lacks the archive's end record; a
  pre-1.6 PyTorch file is recognised by its magic number); a checkpoint's sha256 must start with the
  prefix embedded in its release name. A wrong hash deletes
  the file.
- ``zoo:<name>`` names the released checkpoint (``.pth``); ``zoo:<name>.onnx`` the ``end2end.onnx`` of
  its MMDeploy SDK zip (the archives rtmlib downloads), extracted next to the zip.
"""
from __future__ import annotations

import hashlib
import http.client
import os
import sys
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

from rtmposelib.zoo.registry import ZOO, ZooEntry, get_entry, release_url

PREFIX = "zoo:"
_CHUNK = 1 << 16
_LEGACY_TORCH = b"\x80\x02\x8a\nl\xfc\x9cf\xf9 j\xa8p\x19."   # torch.save before 1.6 (lower-cased, as read)
_HTML_STARTS = (b"<!doctype", b"<html", b"<?xml", b"<head", b"<body")


def cache_dir() -> Path:
    """Where released files are kept (module docstring)."""
    if os.environ.get("RTMPOSE_HOME"):
        return Path(os.environ["RTMPOSE_HOME"]).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    return (Path(xdg).expanduser() if xdg else Path.home() / ".cache") / "rtmposelib"


def zoo_dir() -> Path:
    return cache_dir() / "zoo"


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_file(path: Path, url: str, sha256_prefix: str | None) -> None:
    """Raise ValueError naming ``path`` (and deleting it) unless it is a complete zip archive whose
    sha256 starts with ``sha256_prefix`` (None: no hash check)."""
    with open(path, "rb") as f:
        head = f.read(512).lstrip().lower()
    problem = None
    if head.startswith(_HTML_STARTS):
        problem = "is an HTML page, not a model file (the server answered with an error or login page)"
    elif not (zipfile.is_zipfile(path) or head.startswith(_LEGACY_TORCH)):
        problem = "is truncated or not a model archive (no zip end record)"
    elif sha256_prefix:
        digest = sha256_of(path)
        if not digest.startswith(sha256_prefix):
            problem = f"has sha256 {digest[:12]}..., expected a hash starting {sha256_prefix}"
    if problem:
        path.unlink(missing_ok=True)
        raise ValueError(f"{path} (from {url}) {problem}; the file was deleted, try again")


def download(url: str, dest: str | Path, *, sha256_prefix: str | None = None, progress: bool = True,
             timeout: float = 60.0) -> Path:
    """``dest`` fetched from ``url`` (resuming a previous ``dest.part``) and checked; returns ``dest``.

    A file already at ``dest`` is checked and returned without a download. Offline or unreachable:
    FileNotFoundError naming the URL and ``dest`` (where a file placed by hand will be found).
    Interrupted: ConnectionError; the partial file stays for the next attempt to resume.
    """
    from tqdm import tqdm

    dest = Path(dest)
    if dest.is_file():
        check_file(dest, url, sha256_prefix)
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.is_file() else 0
    request = urllib.request.Request(url, headers={"User-Agent": "rtmposelib"})
    if offset:
        request.add_header("Range", f"bytes={offset}-")
    try:
        response = urllib.request.urlopen(request, timeout=timeout)   # noqa: S310 - http(s) URLs of the registry
    except urllib.error.HTTPError as err:
        if err.code == 416 and offset:                   # the range starts at the end: the .part is whole
            return _finish(part, dest, url, sha256_prefix)
        raise FileNotFoundError(f"cannot download {url}: HTTP {err.code} {err.reason}; place the file by hand "
                                f"at {dest}") from None
    except (urllib.error.URLError, OSError) as err:
        reason = getattr(err, "reason", err)
        raise FileNotFoundError(f"cannot download {url} ({reason}); offline? place the file by hand at "
                                f"{dest}") from None
    with response:
        resumed = offset and response.status == 206
        if not resumed:
            offset = 0
        if "html" in response.headers.get("Content-Type", "").lower():
            part.unlink(missing_ok=True)
            raise ValueError(f"{url} served an HTML page, not a model file (an error or login page); "
                             f"nothing was written to {dest}")
        length = response.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        received = offset
        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=dest.name[:40], disable=not progress, file=sys.stderr, leave=False)
        with bar, open(part, "ab" if resumed else "wb") as out:
            try:
                for chunk in iter(lambda: response.read(_CHUNK), b""):
                    out.write(chunk)
                    received += len(chunk)
                    bar.update(len(chunk))
            except (OSError, http.client.HTTPException) as err:       # reset, timeout, IncompleteRead
                raise ConnectionError(f"download of {url} interrupted after {received} bytes ({err}); run "
                                      f"again to resume from {part}") from None
            out.flush()
            os.fsync(out.fileno())
    if total is not None and received < total:
        raise ConnectionError(f"download of {url} interrupted after {received} of {total} bytes; run again "
                              f"to resume from {part}")
    return _finish(part, dest, url, sha256_prefix)


def _finish(part: Path, dest: Path, url: str, sha256_prefix: str | None) -> Path:
    check_file(part, url, sha256_prefix)
    os.replace(part, dest)
    return dest


def fetch_entry(entry: ZooEntry, *, onnx: bool = False, progress: bool = True) -> Path:
    """The local path of a released checkpoint (``onnx=False``) or of the ``end2end.onnx`` of its SDK zip,
    downloading into the cache when missing."""
    if not onnx:
        url = release_url(entry.url)
        return download(url, zoo_dir() / entry.file_name, sha256_prefix=entry.sha256, progress=progress)
    if entry.onnx_url is None:
        raise ValueError(f"{entry.file_name}: the release has no ONNX SDK archive for this model; use the "
                         f".pth (rtmpose export converts it)")
    url = release_url(entry.onnx_url)
    archive = download(url, zoo_dir() / url.rsplit("/", 1)[1], progress=progress)
    return extract_sdk_onnx(archive)


def extract_sdk_onnx(archive: str | Path) -> Path:
    """The ``end2end.onnx`` of an MMDeploy SDK zip (``<stem>/end2end.onnx`` as released), extracted once
    to ``<archive without .zip>/end2end.onnx`` beside the archive; ValueError names a zip without one."""
    archive = Path(archive)
    target = archive.with_suffix("") / "end2end.onnx"
    if target.is_file():
        return target
    with zipfile.ZipFile(archive) as zf:
        members = [m for m in zf.namelist() if m.rsplit("/", 1)[-1] == "end2end.onnx"]
        if not members:
            raise ValueError(f"{archive}: no end2end.onnx in the archive (members: {zf.namelist()[:5]})")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(target.name + ".part")
        tmp.write_bytes(zf.read(members[0]))
    os.replace(tmp, target)
    return target


def is_zoo(spec) -> bool:
    return isinstance(spec, str) and spec.startswith(PREFIX)


def parse(spec: str, zoo: dict[str, ZooEntry] | None = None) -> tuple[ZooEntry, bool]:
    """(entry, wants the ONNX file) of ``zoo:<name>`` or ``zoo:<name>.onnx``."""
    name = spec[len(PREFIX):] if is_zoo(spec) else spec
    onnx = name.endswith(".onnx")
    return get_entry(name[:-len(".onnx")] if onnx else name, ZOO if zoo is None else zoo), onnx


def resolve(spec, *, progress: bool = True):
    """A local path for ``zoo:<name>[.onnx]`` (downloaded when needed); any other value unchanged."""
    if not is_zoo(spec):
        return spec
    entry, onnx = parse(spec)
    return str(fetch_entry(entry, onnx=onnx, progress=progress))


def resolve_checkpoint(spec, preset_name: str | None = None):
    """(path, RunConfig or None) for a pose ``--checkpoint``: for ``zoo:<name>`` the downloaded file and
    the entry's configuration (architecture, input size, keypoints); otherwise ``(spec, None)``."""
    if not is_zoo(spec):
        return spec, None
    from rtmposelib.zoo.registry import pose_run_config

    entry, onnx = parse(spec)
    if onnx:
        raise ValueError(f"{spec}: a checkpoint is needed here; use zoo:{spec[len(PREFIX):-len('.onnx')]}")
    cfg = pose_run_config(entry)
    if preset_name is not None and preset_name != cfg.name:
        print(f"note: --preset {preset_name} ignored; {spec} is {cfg.name}", file=sys.stderr)
    return str(fetch_entry(entry)), cfg
