"""The process's TLS context: httpx's own default (certifi's bundle, or ``SSL_CERT_FILE`` and
``SSL_CERT_DIR``), made once per setting and shared by every HTTP client storyboard makes.

Loading a CA bundle costs about 17 ms of CPU on an idle machine, and more on a busy one; a client
made per request (a local server's description, a media URL's check, a worker's batch) would pay
it every time. An ``ssl.SSLContext`` is safe to share between clients and threads.
"""

from __future__ import annotations

import functools
import os
import ssl


def context() -> ssl.SSLContext:
    """The shared context for the environment's certificate settings as they are now."""
    return _context(os.environ.get("SSL_CERT_FILE", ""), os.environ.get("SSL_CERT_DIR", ""))


@functools.lru_cache(maxsize=4)
def _context(cert_file: str, cert_dir: str) -> ssl.SSLContext:
    import httpx  # where a client is made: a command that talks no HTTP never loads it
    return httpx.create_ssl_context()
