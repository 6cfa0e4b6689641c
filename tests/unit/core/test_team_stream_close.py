"""Closing the team event stream ends its thread at once, even while the server is silent."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from console.core.gateways.team_events import CONNECTED, TeamEventStream
from tests.helpers import wait_until

release = threading.Event()


class SilentStream(BaseHTTPRequestHandler):
    """Says hello as the team server does (chunked), then sends nothing more (no heartbeat yet)."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        hello = b'event: hello\ndata: {"id": 7}\n\n'
        self.wfile.write(b"%x\r\n%s\r\n" % (len(hello), hello))
        self.wfile.flush()
        release.wait(60)

    def log_message(self, *args: object) -> None:
        pass


def test_close_ends_the_stream_while_it_waits_for_the_next_event():
    server = ThreadingHTTPServer(("127.0.0.1", 0), SilentStream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stream = TeamEventStream(f"http://127.0.0.1:{server.server_port}", "sbt_x", lambda e: None)
    stream.start()
    try:
        wait_until(lambda: stream.state == CONNECTED and stream.last_event_id == 7, timeout=10)
        closer = threading.Thread(target=stream.close)
        closer.start()
        closer.join(5)  # without shutting the socket down, close waits on the blocked read
        assert not closer.is_alive(), "close() hung while the stream waited for data"
        assert not stream.running
    finally:
        release.set()
        server.shutdown()
        server.server_close()
