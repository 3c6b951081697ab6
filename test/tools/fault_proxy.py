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

With --tls-cert FILE --tls-key FILE the proxy speaks HTTPS to its clients
(the upstream stays plain HTTP): tests of certificate verification.

With --only OPERATION,... the faults apply to those DynamoDB operations alone
(e.g. BatchWriteItem); every other request passes.

Instead of a plan, --mix STEP=WEIGHT,... --seed N picks each attempt's step at
random with the given weights (e.g. pass=70,throttle=5,garbage=5). The choice
is a hash of the seed, the request and its attempt number, so a request meets
the same faults however concurrent calls interleave (requests that name a
whiplash collection's tables differ between runs: the names carry a random
generation).

Steps:
  pass           forward to the upstream
  throttle       400 ThrottlingException
  provisioned    400 ProvisionedThroughputExceededException
  limit          400 RequestLimitExceeded
  500            500 InternalServerError
  503            503 ServiceUnavailable
  reset          close the connection (TCP reset) without answering
  sleep:SECONDS  wait, then forward
  hold:SECONDS   wait until a client asks for /__release (or SECONDS pass),
                 then forward: a test orders another session's requests
                 between a request and its answer
  stall:SECONDS  forward, then hold the answer for SECONDS (past the
                 client's timeout), answering only if the client still waits
  truncate       forward, then send the upstream's status and headers but
                 only half its body before closing the connection
  garbage        forward, then answer 200 with half of the upstream's body:
                 complete HTTP, malformed JSON
  hang           never answer; hold the connection until the client goes
                 away or 120 s pass, then close it
  keep           answer as AWS does while it deletes a table (200, status
                 DELETING), without forwarding: the table stays and answers
                 on (use with --only DeleteTable)

`GET /__stats` answers JSON: {"requests": N, "pass": N, "throttle": N, ...},
one count per step kind ("sleep" counts every sleep:SECONDS, "stall" every
stall:SECONDS, "hold" every request held so far).  `GET /__release` lets
every held request go on, and every later hold step pass at once; `GET
/__hold` makes hold steps hold again. The forwarding steps truncate, garbage and stall reach the
upstream, so the client sees a failure of a request that took effect.
"""

import argparse
import hashlib
import http.client
import json
import select
import ssl
import socket
import struct
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from proxy_common import (DYNAMODB_ERROR_PREFIX, JSON_CONTENT_TYPE, CountingServerMixin,
                          ForwardingMixin, parse_upstream)

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
TIMED_STEPS = ("sleep", "stall", "hold")
STEP_KINDS = ["pass", *ERROR_STEPS, "reset", "sleep", "stall", "hold", "truncate", "garbage", "hang",
              "keep"]
HANG_SECONDS = 120


# The TableName of a request body, or "" when it has none.
def deleted_table(body):
    try:
        return str(json.loads(body).get("TableName", ""))
    except (ValueError, AttributeError):
        return ""


class FaultHandler(ForwardingMixin, BaseHTTPRequestHandler):
    """Handles one client connection: applies the plan's next step to each request."""

    PROXY_NAME = "fault proxy"

    # Entry point for every method: stats, or the plan's next step.
    def handle_request(self):
        if self.command == "GET" and self.path == "/__stats":
            self.send_json(200, self.server.stats_snapshot())
            return
        if self.command == "GET" and self.path == "/__release":
            self.server.released.set()
            self.send_json(200, {"released": True})
            return
        if self.command == "GET" and self.path == "/__hold":
            self.server.released.clear()
            self.send_json(200, {"holding": True})
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
            self.hang(HANG_SECONDS)
        elif kind == "keep":
            self.send_json(200, {"TableDescription": {"TableName": deleted_table(body),
                                                      "TableStatus": "DELETING"}})
        elif kind in ("stall", "truncate", "garbage"):
            self.forward_damaged(body, kind, arg)
        else:
            if kind == "sleep":
                time.sleep(arg)
            elif kind == "hold":
                self.server.released.wait(arg)
            self.forward(body)

    do_GET = do_POST = do_PUT = do_DELETE = handle_request
    # Closes the client connection at once with a TCP reset, answering nothing.
    def reset_connection(self):
        self.close_connection = True
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.connection.close()

    # Holds the connection without answering until the client closes it or
    # the given seconds pass; anything the client sends meanwhile is
    # discarded. Returns True when the client went away.
    def hang(self, seconds):
        self.close_connection = True
        deadline = time.monotonic() + seconds
        while (remaining := deadline - time.monotonic()) > 0:
            readable, _, _ = select.select([self.connection], [], [], remaining)
            if readable and not self.connection.recv(65536):
                return True
        return False

    # Forwards the request, so that it takes effect upstream, and then lets
    # the answer fail as the step says: late (stall), cut short (truncate) or
    # as malformed JSON (garbage).
    def forward_damaged(self, body, kind, seconds):
        try:
            response, data = self.exchange(body)
        except (OSError, http.client.HTTPException) as err:
            self.send_json(502, {"__type": "BadGateway", "message": f"fault proxy: upstream error: {err!r}"})
            return
        if kind == "stall":
            if not self.hang(seconds):
                self.send_raw(response.status, data, len(data))
            return
        half = data[: len(data) // 2]
        self.close_connection = True
        if kind == "truncate":
            self.send_raw(response.status, half, len(data))
        else:
            self.send_raw(200, half, len(half))

    # Sends an answer with DynamoDB's content type whose Content-Length says
    # length, which may promise more than the body holds.
    def send_raw(self, status, data, length):
        self.send_response_only(status)
        self.send_header("Content-Type", JSON_CONTENT_TYPE)
        self.send_header("Content-Length", str(length))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(data)
        self.wfile.flush()


class FaultServer(CountingServerMixin, ThreadingHTTPServer):
    """Threading HTTP server holding the plan, each request's position in it, and the counters."""

    def __init__(self, port, upstream, plan, mix, seed, only):
        super().__init__(("127.0.0.1", port), FaultHandler)
        self.only = only
        self.upstream = upstream
        self.plan = plan
        self.mix = mix
        self.seed = seed
        self.positions = {}
        self.released = threading.Event()
        self.init_counters(["requests", *STEP_KINDS])

    # Returns the step (kind, argument) for the next attempt of the request
    # identified by key, advances that request's position and counts the step.
    def next_step(self, key):
        with self.lock:
            position = self.positions.get(key, 0)
            if self.only and key[0].rpartition(".")[2] not in self.only:
                kind, arg = "pass", None
            elif self.mix is None:
                self.positions[key] = (position + 1) % len(self.plan)
                kind, arg = self.plan[position]
            else:
                self.positions[key] = position + 1
                kind, arg = self.mixed_step(key, position)
            self.stats["requests"] += 1
            self.stats[kind] += 1
        return kind, arg

    # Picks the step of attempt number position of the request key from the
    # mix, by a hash of the seed, the request and the attempt.
    def mixed_step(self, key, position):
        digest = hashlib.sha256(f"{self.seed}|{key[0]}|{key[1]}|{position}".encode()).digest()
        point = int.from_bytes(digest[:8], "big") % sum(weight for _, weight in self.mix)
        for step, weight in self.mix:
            if point < weight:
                return step
            point -= weight
        raise AssertionError("weights exhausted")


STEP_HELP = ("pass, throttle, provisioned, limit, 500, 503, reset, sleep:SECONDS, "
             "stall:SECONDS, hold:SECONDS, truncate, garbage, hang, keep")


# Parses one step into (kind, argument); argument is the number of seconds
# for sleep, stall and hold, None otherwise.
def parse_step(item):
    kind, sep, arg = item.strip().partition(":")
    if kind in TIMED_STEPS and sep:
        try:
            seconds = float(arg)
        except ValueError:
            seconds = -1.0
        if seconds < 0:
            raise argparse.ArgumentTypeError(f"bad {kind} duration in {item!r}")
        return kind, seconds
    if kind in STEP_KINDS and kind not in TIMED_STEPS and not sep:
        return kind, None
    raise argparse.ArgumentTypeError(f"unknown step {item!r}; steps: {STEP_HELP}")


# Parses PLAN into a list of (kind, argument) steps.
def parse_plan(text):
    return [parse_step(item) for item in text.split(",")]


# Parses MIX ("STEP=WEIGHT,...") into a list of ((kind, argument), weight).
def parse_mix(text):
    mix = []
    for item in text.split(","):
        step, sep, weight = item.rpartition("=")
        if not sep or not weight.isdigit() or int(weight) == 0:
            raise argparse.ArgumentTypeError(f"expected STEP=WEIGHT (a positive integer), got {item!r}")
        mix.append((parse_step(step), int(weight)))
    return mix


# Parses the command line and serves until killed.
def main():
    parser = argparse.ArgumentParser(description="Fault-injecting reverse proxy for tests.")
    parser.add_argument("--listen", type=int, required=True, help="port to listen on, on 127.0.0.1")
    parser.add_argument("--upstream", type=parse_upstream, required=True, help="http://HOST:PORT to forward to")
    choice = parser.add_mutually_exclusive_group(required=True)
    choice.add_argument("--plan", type=parse_plan, help=f"comma-separated steps: {STEP_HELP}")
    choice.add_argument("--mix", type=parse_mix, help="comma-separated STEP=WEIGHT, chosen at random")
    parser.add_argument("--seed", type=int, default=1, help="seed of the --mix choices")
    parser.add_argument("--tls-cert", help="PEM certificate chain: serve HTTPS")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--only", type=lambda text: set(text.split(",")), default=None,
                        help="comma-separated DynamoDB operations the faults apply to (default: all)")
    args = parser.parse_args()

    server = FaultServer(args.listen, args.upstream, args.plan, args.mix, args.seed, args.only)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        server.socket = context.wrap_socket(server.socket, server_side=True)
    steps = args.plan or [step for step, _ in args.mix]
    print(f"fault proxy listening on http://127.0.0.1:{args.listen} -> "
          f"http://{args.upstream[0]}:{args.upstream[1]}{', TLS' if args.tls_cert else ''}, "
          + ("plan " if args.plan else f"seed {args.seed}, mix ")
          + ",".join(kind if arg is None else f"{kind}:{arg:g}" for kind, arg in steps), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
