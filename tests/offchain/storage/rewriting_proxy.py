"""A real HTTP reverse proxy in front of the IPFS node that can rewrite responses: a misbehaving node."""

from __future__ import annotations

import http.client
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from multiaddr import Multiaddr

Rewrite = Callable[[str, bytes], bytes]


def _read_request_body(handler: BaseHTTPRequestHandler) -> bytes:
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        body = bytearray()
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return bytes(body)
            body += handler.rfile.read(size)
            handler.rfile.readline()
    return handler.rfile.read(int(handler.headers.get("Content-Length", "0")))


@contextmanager
def rewriting_proxy(upstream_api: str, rewrite: Rewrite, port: int = 0) -> Iterator[ThreadingHTTPServer]:
    """Serve on 127.0.0.1:``port``, forward every request to ``upstream_api`` and pass each response body
    through ``rewrite(path, body)``. Yields the server; its API multiaddr is ``proxy_multiaddr(server)``."""
    upstream = Multiaddr(upstream_api)
    host, upstream_port = upstream.value_for_protocol("ip4"), int(upstream.value_for_protocol("tcp"))

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = _read_request_body(self)
            headers = {
                k: v for k, v in self.headers.items() if k.lower() not in ("transfer-encoding", "host")
            }
            connection = http.client.HTTPConnection(host, upstream_port, timeout=120)
            try:
                connection.request("POST", self.path, body=body, headers=headers)
                response = connection.getresponse()
                payload = rewrite(self.path.split("?")[0], response.read())
                self.send_response(response.status)
                self.send_header(
                    "Content-Type", response.getheader("Content-Type", "application/octet-stream")
                )
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)
            finally:
                connection.close()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: pytest shows failures, not every proxied call."""

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


def proxy_multiaddr(server: ThreadingHTTPServer) -> str:
    return f"/ip4/127.0.0.1/tcp/{server.server_address[1]}/http"
