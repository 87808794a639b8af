"""An HTTP proxy in front of the S3 emulator that refuses the PUTs of chosen keys: a real S3 fault in mid-write.

Every other request goes through to the emulator unchanged, so the client under test talks S3 over HTTP as usual.
"""

from __future__ import annotations

import contextlib
import http.client
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

ACCESS_DENIED = (
    b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>'
)
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length"}


@contextlib.contextmanager
def refusing_puts(upstream: str, refused_keys: set[str]) -> Iterator[tuple[str, list[tuple[str, str, int]]]]:
    """(the proxy's endpoint, every request seen as (method, object key, status)); a PUT of a refused key gets 403."""
    target = urlsplit(upstream)
    seen: list[tuple[str, str, int]] = []

    class Handler(BaseHTTPRequestHandler):
        def _forward(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            key = unquote(urlsplit(self.path).path).lstrip("/").partition("/")[2]  # path style: /bucket/key
            if self.command == "PUT" and key in refused_keys:
                self._reply(403, {"Content-Type": "application/xml"}, ACCESS_DENIED)
                seen.append((self.command, key, 403))
                return
            connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
            try:
                connection.request(self.command, self.path, body=body or None, headers=dict(self.headers))
                response = connection.getresponse()
                payload = response.read()
                headers = {name: value for name, value in response.getheaders() if name.lower() not in HOP_BY_HOP}
                self._reply(response.status, headers, payload)
            finally:
                connection.close()
            seen.append((self.command, key, response.status))

        def _reply(self, status: int, headers: dict[str, str], payload: bytes) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(payload)

        do_GET = do_PUT = do_DELETE = do_HEAD = do_POST = _forward

        def log_message(self, *args) -> None:  # quiet: the test asserts on `seen`
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
