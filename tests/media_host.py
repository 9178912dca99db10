"""A folder served over loopback HTTP: the "CDN" a gateway fetches ``media_base_url`` from.

Renders through a gateway try every media URL before paying (``run.mediacheck``), so a test that
renders serves its series folder with this instead of naming a host nobody answers on.
"""

from __future__ import annotations

import io
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any


class Handler(SimpleHTTPRequestHandler):
    """Files, and ``Range: bytes=0-N`` answered as 206 when the server is ``ranged``."""

    def log_message(self, format: str, *args: Any) -> None:
        pass

    def send_head(self) -> Any:
        spec = self.headers.get("Range", "")
        path = Path(self.translate_path(self.path))
        ranged = getattr(self.server, "ranged", False)
        if not ranged or not spec.startswith("bytes=0-") or not path.is_file():
            return super().send_head()
        data = path.read_bytes()
        part = data[:int(spec.split("-", 1)[1]) + 1]
        self.send_response(206)
        self.send_header("Content-Range", f"bytes 0-{len(part) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(part)))
        self.end_headers()
        return io.BytesIO(part)


@contextmanager
def serve(folder: Path, *, ranged: bool = True) -> Iterator[str]:
    """Serve ``folder`` on 127.0.0.1; yields the origin (``http://127.0.0.1:PORT``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    server.ranged = ranged  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
