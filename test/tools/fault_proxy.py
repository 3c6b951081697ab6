#!/usr/bin/python3
"""Fault-injecting reverse proxy for tests (run with /usr/bin/python3).

Neither dynalite nor DynamoDB Local ever throttles or fails, so tests put this
proxy in front of them to exercise a client's retry and timeout handling.

    /usr/bin/python3 fault_proxy.py --listen 8200 --upstream http://127.0.0.1:8000 \\
        --plan throttle,500,pass

PLAN is a comma-separated list of steps applied in turn to the attempts of each
distinct request. A request is identified by its X-Amz-Target header plus the
SHA-256 of its body, so a client's retries of one request walk through the
plan; after the last step, that request's next attempt starts the plan over.

Steps:
  pass           forward to the upstream
  throttle       400 ThrottlingException
  provisioned    400 ProvisionedThroughputExceededException
  limit          400 RequestLimitExceeded
  500            500 InternalServerError
  503            503 ServiceUnavailable
  reset          close the connection (TCP reset) without answering
  sleep:SECONDS  wait, then forward
  hang           never answer; hold the connection until the client goes
                 away or 120 s pass, then close it

`GET /__stats` answers JSON: {"requests": N, "pass": N, "throttle": N, ...},
one count per step kind ("sleep" counts every sleep:SECONDS).
"""

import argparse
import hashlib
import select
import socket
import struct
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from proxy_common import DYNAMODB_ERROR_PREFIX, ForwardingMixin

# Canned answers: step -> (HTTP status, error type, message).
ERROR_STEPS = {
    "throttle": (400, "ThrottlingException", "Rate of requests exceeds the allowed throughput."),
    "provisioned": (400, "ProvisionedThroughputExceededException",
                    "The level of configured provisioned throughput for the table was exceeded. "
                    "Consider increasing your provisioning level with the UpdateTable API."),
    "limit": (400, "RequestLimitExceeded",
              "Throughput exceeds the current throughput limit for your account."),
    "500": (500, "InternalServerError", "Internal server error"),
    "503": (503, "ServiceUnavailable", "Service unavailable"),
}
STEP_KINDS = ["pass", *ERROR_STEPS, "reset", "sleep", "hang"]
HANG_SECONDS = 120


class FaultHandler(ForwardingMixin, BaseHTTPRequestHandler):
    """Handles one client connection: applies the plan's next step to each request."""

    PROXY_NAME = "fault proxy"

    # Entry point for every method: stats, or the plan's next step.
    def handle_request(self):
        if self.command == "GET" and self.path == "/__stats":
            self.send_json(200, self.server.stats_snapshot())
            return
        body = self.read_body()
        if body is None:
            return
        key = (self.headers.get("X-Amz-Target", ""), hashlib.sha256(body).hexdigest())
        kind, arg = self.server.next_step(key)
        self.log_message("%s %s -> %s", key[0] or self.path, key[1][:12], kind if arg is None else f"{kind}:{arg}")
        if kind in ERROR_STEPS:
            status, error_type, message = ERROR_STEPS[kind]
            self.send_json(status, {"__type": DYNAMODB_ERROR_PREFIX + error_type, "message": message})
        elif kind == "reset":
            self.reset_connection()
        elif kind == "hang":
            self.hang()
        else:
            if kind == "sleep":
                time.sleep(arg)
            self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = handle_request

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

    # Closes the client connection at once with a TCP reset, answering nothing.
    def reset_connection(self):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    # Holds the connection without answering until the client closes it or
    # HANG_SECONDS pass; anything the client sends meanwhile is discarded.
    def hang(self):
        self.close_connection = True
        deadline = time.monotonic() + HANG_SECONDS
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], remaining)
            if readable and not self.connection.recv(65536):
                return


class FaultServer(ThreadingHTTPServer):
    """Threading HTTP server holding the plan, each request's position in it, and the counters."""

    def __init__(self, port, upstream, plan):
        super().__init__(("127.0.0.1", port), FaultHandler)
        self.upstream = upstream
        self.plan = plan
        self.positions = {}
        self.stats = dict.fromkeys(["requests", *STEP_KINDS], 0)
        self.lock = threading.Lock()

    # Returns the step (kind, argument) for the next attempt of the request
    # identified by key, advances that request's position and counts the step.
    def next_step(self, key):
        with self.lock:
            position = self.positions.get(key, 0)
            self.positions[key] = (position + 1) % len(self.plan)
            kind, arg = self.plan[position]
            self.stats["requests"] += 1
            self.stats[kind] += 1
        return kind, arg

    # Returns a copy of the counters.
    def stats_snapshot(self):
        with self.lock:
            return dict(self.stats)

    # Ignores clients that went away; reports any other handler error.
    def handle_error(self, request, client_address):
        if not isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


# Parses PLAN into a list of (kind, argument) steps; argument is the number
# of seconds for sleep and None otherwise.
def parse_plan(text):
    steps = []
    for item in text.split(","):
        item = item.strip()
        kind, sep, arg = item.partition(":")
        if kind == "sleep" and sep:
            try:
                seconds = float(arg)
            except ValueError:
                seconds = -1.0
            if seconds < 0:
                raise argparse.ArgumentTypeError(f"bad sleep duration in {item!r}")
            steps.append(("sleep", seconds))
        elif item in STEP_KINDS and item != "sleep":
            steps.append((item, None))
        else:
            raise argparse.ArgumentTypeError(
                f"unknown step {item!r}; steps: pass, throttle, provisioned, limit, 500, 503, "
                f"reset, sleep:SECONDS, hang")
    return steps


# Parses an http://HOST:PORT upstream URL into (host, port).
def parse_upstream(text):
    url = urllib.parse.urlsplit(text)
    if url.scheme != "http" or not url.hostname or url.path not in ("", "/"):
        raise argparse.ArgumentTypeError(f"expected http://HOST:PORT, got {text!r}")
    return url.hostname, url.port or 80


# Parses the command line and serves until killed.
def main():
    parser = argparse.ArgumentParser(description="Fault-injecting reverse proxy for tests.")
    parser.add_argument("--listen", type=int, required=True, help="port to listen on, on 127.0.0.1")
    parser.add_argument("--upstream", type=parse_upstream, required=True, help="http://HOST:PORT to forward to")
    parser.add_argument("--plan", type=parse_plan, required=True,
                        help="comma-separated steps: pass, throttle, provisioned, limit, 500, 503, "
                             "reset, sleep:SECONDS, hang")
    args = parser.parse_args()

    server = FaultServer(args.listen, args.upstream, args.plan)
    print(f"fault proxy listening on http://127.0.0.1:{args.listen} -> "
          f"http://{args.upstream[0]}:{args.upstream[1]}, plan "
          + ",".join(kind if arg is None else f"{kind}:{arg:g}" for kind, arg in args.plan), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
