"""A release host on 127.0.0.1 for the model-zoo tests: serves a folder with HTTP Range support, and can
misbehave per path (an HTML error page, a truncated body, a connection dropped once)."""
from __future__ import annotations

import hashlib
import http.server
import threading
import zipfile
from dataclasses import replace
from pathlib import Path

import torch

from rtmposelib.zoo.registry import RELEASE_HOST, ZooEntry


class ReleaseHost:
    """``files``: the folder served at ``/``. ``faults[name]``: "html" | "truncate" | "drop_once"."""

    def __init__(self, files: Path) -> None:
        self.files = files
        self.faults: dict[str, str] = {}
        self.requests: list[tuple[str, str | None]] = []          # (name, Range header)
        host = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args) -> None:                   # quiet
                pass

            def do_GET(self) -> None:                               # noqa: N802 - http.server's name
                name = self.path.rsplit("/", 1)[-1]
                rng = self.headers.get("Range")
                host.requests.append((name, rng))
                path = host.files / name
                fault = host.faults.get(name)
                if fault == "html":
                    body = b"<!DOCTYPE html><html><body>Access denied</body></html>"
                    self.send_response(200)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)
                    return
                if not path.is_file():
                    self.send_error(404)
                    return
                data = path.read_bytes()
                start = int(rng.split("=")[1].split("-")[0]) if rng else 0
                self.send_response(206 if rng else 200)
                self.send_header("Content-Type", "application/octet-stream")
                self.send_header("Content-Length", str(len(data) - start))
                if rng:
                    self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
                self.end_headers()
                if fault == "truncate" or (fault == "drop_once" and not rng):
                    if fault == "drop_once":
                        host.faults.pop(name)
                    self.wfile.write(data[start:start + (len(data) - start) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data[start:])

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> ReleaseHost:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()


def publish(state_dict: dict, folder: Path, stem: str) -> tuple[str, str]:
    """Save ``{'state_dict': ...}`` as MMPose's ``publish_model`` names it: ``<stem>-<sha256[:8]>.pth``.
    Returns (file name, hash prefix)."""
    tmp = folder / f"{stem}.tmp"
    torch.save({"state_dict": state_dict, "meta": {}}, tmp)
    sha = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    name = f"{stem}-{sha}.pth"
    tmp.rename(folder / name)
    return name, sha


def sdk_zip(onnx_file: Path, folder: Path, stem: str) -> str:
    """An MMDeploy-SDK-style archive ``<stem>.zip`` holding ``<stem>/end2end.onnx`` and its json files."""
    name = f"{stem}.zip"
    with zipfile.ZipFile(folder / name, "w") as zf:
        zf.write(onnx_file, f"{stem}/end2end.onnx")
        zf.writestr(f"{stem}/pipeline.json", "{}")
        zf.writestr(f"{stem}/deploy.json", "{}")
    return name


def hosted(entry: ZooEntry, name: str, sha: str, **changes) -> ZooEntry:
    """``entry`` pointing at ``name`` under the release host (served by ``$RTMPOSE_ZOO_URL``)."""
    return replace(entry, url=f"{RELEASE_HOST}/zoo-test/{name}", sha256=sha, **changes)
