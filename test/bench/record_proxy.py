#!/usr/bin/python3
"""Recording pass-through proxy for benchmarks (run with /usr/bin/python3).

Forwards every request unchanged to the upstream DynamoDB server and appends
one JSON line per request to the log, written when the answer has been
relayed:

    {"op": "Query", "body": "<request body>", "start": S, "end": S,
     "status": 200, "bytes": N}

op is the X-Amz-Target suffix after the dot, start and end are monotonic
seconds (when the request arrived, when its answer was relayed), bytes is
the length of the response body.  test/bench/replay.c replays such a log.

    /usr/bin/python3 test/bench/record_proxy.py --port 8300 \\
        --upstream http://127.0.0.1:8000 --log /tmp/requests.jsonl

A request with the header `X-Bench-Mark: LABEL` is not forwarded: it appends
{"mark": "LABEL"} and is answered 200 with `{}`, so that a benchmark can
split the log into one group per search:

    curl -s -X POST -H 'X-Bench-Mark: search-3' http://127.0.0.1:8300/

`GET /__stats` answers {"requests": N, "marks": N} and is not logged.
Only errors are printed, on stderr.
"""

import argparse
import json
import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from proxy_common import CountingServerMixin, ForwardingMixin, parse_upstream  # noqa: E402


class RecordHandler(ForwardingMixin, BaseHTTPRequestHandler):
    """Handles one client connection: forwards each request and logs it."""

    PROXY_NAME = "record proxy"

    # Entry point for every method: stats, a mark, or forward and log.
    def handle_request(self):
        if self.command == "GET" and self.path == "/__stats":
            self.send_json(200, self.server.stats_snapshot())
            return
        start = time.monotonic()
        body = self.read_body()
        if body is None:
            return
        label = self.headers.get("X-Bench-Mark")
        if label is not None:
            self.server.record({"mark": label}, "marks")
            self.send_json(200, {})
            return
        self.answer = None
        self.forward(body)
        status, length = self.answer or (502, 0)
        self.server.record({
            "op": self.headers.get("X-Amz-Target", "").rpartition(".")[2],
            "body": body.decode("utf-8", errors="replace"),
            "start": start,
            "end": time.monotonic(),
            "status": status,
            "bytes": length,
        }, "requests")

    do_GET = do_POST = do_PUT = do_DELETE = handle_request

    # Makes the upstream exchange and keeps its status and body length for
    # the log; an upstream failure leaves them unset (answered 502).
    def exchange(self, body):
        response, data = super().exchange(body)
        self.answer = (response.status, len(data))
        return response, data
    # Logs nothing per request: BaseHTTPRequestHandler would print each one.
    def log_request(self, code="-", size="-"):
        pass


class RecordServer(CountingServerMixin, ThreadingHTTPServer):
    """Threading HTTP server holding the log file, its lock and the counters."""

    def __init__(self, port, upstream, log):
        super().__init__(("127.0.0.1", port), RecordHandler)
        self.upstream = upstream
        self.log = log
        self.init_counters(["requests", "marks"])

    # Appends one JSON line to the log and flushes it, and counts it.
    def record(self, entry, counter):
        line = json.dumps(entry, separators=(",", ":")) + "\n"
        with self.lock:
            self.log.write(line)
            self.log.flush()
            self.stats[counter] += 1


# Parses the command line and serves until killed.
def main():
    parser = argparse.ArgumentParser(description="Recording pass-through proxy for benchmarks.")
    parser.add_argument("--port", type=int, required=True, help="port to listen on, on 127.0.0.1")
    parser.add_argument("--upstream", type=parse_upstream, required=True, help="http://HOST:PORT to forward to")
    parser.add_argument("--log", required=True, help="file to append one JSON line per request to")
    args = parser.parse_args()

    with open(args.log, "a", encoding="utf-8") as log:
        server = RecordServer(args.port, args.upstream, log)
        server.serve_forever()


if __name__ == "__main__":
    main()
