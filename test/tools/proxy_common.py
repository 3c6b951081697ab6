"""What the test proxies share: relaying a request to the upstream DynamoDB
server over a kept-alive connection, and DynamoDB-style JSON answers.

A handler mixes in ForwardingMixin (before BaseHTTPRequestHandler) and sets
PROXY_NAME; its server mixes in CountingServerMixin (before
ThreadingHTTPServer) and sets `upstream` to (host, port).  Each client
connection gets its own kept-alive upstream connection, opened on first use.
"""
import argparse
import http.client
import json
import sys
import threading
import urllib.parse

JSON_CONTENT_TYPE = "application/x-amz-json-1.0"
DYNAMODB_ERROR_PREFIX = "com.amazonaws.dynamodb.v20120810#"
# Headers that describe one connection and are not passed back to the client.
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "te", "trailer",
              "transfer-encoding", "upgrade"}
UPSTREAM_TIMEOUT_SECONDS = 120


class ForwardingMixin:
    """Relays requests to the upstream on one kept-alive connection per handler."""

    PROXY_NAME = "proxy"
    protocol_version = "HTTP/1.1"
    # An answer goes out as headers, then body: without TCP_NODELAY, Nagle's
    # algorithm holds the body until the client's delayed ACK, 40 ms a request.
    disable_nagle_algorithm = True

    # Opens no upstream connection yet: it is made on the first forwarded request.
    def setup(self):
        super().setup()
        self.upstream = None

    # Serves the connection's requests; a client that goes away ends it quietly.
    def handle(self):
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            self.close_connection = True

    # Closes the upstream connection along with the client's.
    def finish(self):
        if self.upstream is not None:
            self.upstream.close()
        super().finish()

    # Sends the request unchanged to the upstream and relays its answer as it
    # is (status, headers and body), or answers 502 if the upstream fails.
    # Returns (status, body) of the upstream's answer, None when it failed.
    def forward(self, body):
        try:
            response, data = self.exchange(body)
        except (OSError, http.client.HTTPException) as err:
            self.log_message("upstream error: %r", err)
            self.send_json(502, {"__type": "BadGateway", "message": f"{self.PROXY_NAME}: upstream error: {err!r}"})
            return None
        self.send_response_only(response.status, response.reason)
        for name, value in response.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        return response.status, data

    # Makes one request/response exchange on the kept-alive upstream
    # connection; if the upstream had closed a reused connection meanwhile,
    # tries once more on a new one. Returns (response, body).
    def exchange(self, body):
        reused = self.upstream is not None
        if not reused:
            self.upstream = http.client.HTTPConnection(*self.server.upstream, timeout=UPSTREAM_TIMEOUT_SECONDS)
        try:
            self.upstream.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
            for name, value in self.headers.items():
                self.upstream.putheader(name, value)
            self.upstream.endheaders(body)
            response = self.upstream.getresponse()
            return response, response.read()
        except (ConnectionResetError, BrokenPipeError):
            self.upstream.close()
            self.upstream = None
            if not reused:
                raise
            return self.exchange(body)
        except BaseException:
            self.upstream.close()
            self.upstream = None
            raise

    # Reads the request body given by Content-Length; returns None (and ends
    # the connection) when the body cannot be read.
    def read_body(self):
        if "Transfer-Encoding" in self.headers:
            self.close_connection = True
            self.send_json(411, {"__type": "LengthRequired",
                                 "message": "chunked request bodies are not supported; send Content-Length"})
            return None
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self.send_json(400, {"__type": "BadRequest", "message": "invalid Content-Length"})
            return None
        body = self.rfile.read(length)
        if len(body) < length:
            self.close_connection = True
            return None
        return body

    # Sends a JSON document with DynamoDB's content type.
    def send_json(self, status, document):
        data = json.dumps(document, separators=(",", ":")).encode()
        self.send_response_only(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)


class CountingServerMixin:
    """A server's counters under one lock, served at /__stats, and quiet
    about clients that go away."""

    # Connections waiting to be accepted: a session opens up to its
    # server's max_connections (64 by default) at once, and socketserver's
    # 5 made the rest time out connecting.
    request_queue_size = 128

    # Starts the counters (a dict of name -> 0) and their lock.
    def init_counters(self, names):
        self.lock = threading.Lock()
        self.stats = dict.fromkeys(names, 0)

    # Returns a copy of the counters.
    def stats_snapshot(self):
        with self.lock:
            return json.loads(json.dumps(self.stats))

    # Ignores clients that went away; reports any other handler error.
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


# Parses an http://HOST:PORT upstream URL into (host, port).
def parse_upstream(text):
    url = urllib.parse.urlsplit(text)
    if url.scheme != "http" or not url.hostname or url.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"expected http://HOST:PORT, got {text!r}")
    return url.hostname, url.port or 80
