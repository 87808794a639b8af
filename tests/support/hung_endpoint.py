"""A TCP listener on 127.0.0.1 that accepts every connection and never answers: a hung S3 or Postgres."""

from __future__ import annotations

import contextlib
import socket
import threading
from collections.abc import Iterator


@contextlib.contextmanager
def hung_listener() -> Iterator[tuple[int, list[socket.socket]]]:
    """(port, the connections it accepted so far); every connection is held open, silent, until the end."""
    server = socket.create_server(("127.0.0.1", 0), backlog=128)
    server.settimeout(0.1)
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        while not stop.is_set():
            try:
                connection, _ = server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            accepted.append(connection)

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        yield server.getsockname()[1], accepted
    finally:
        stop.set()
        thread.join()
        for connection in accepted:
            connection.close()
        server.close()
