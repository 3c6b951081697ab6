#!/usr/bin/python3
"""SigV4-verifying reverse proxy for tests (run with /usr/bin/python3).

Neither dynalite nor DynamoDB Local checks request signatures, so tests put this
proxy in front of them. Every request's AWS Signature Version 4 is recomputed
with botocore (an implementation independent of whiplash's) from the request's
own X-Amz-Date, signed headers and body, and compared with the one sent. Valid
requests are forwarded unchanged to the upstream over a kept-alive connection;
invalid ones get the error DynamoDB would answer.

    /usr/bin/python3 sigcheck_proxy.py --listen 8100 \\
        --upstream http://127.0.0.1:8000 \\
        --credential testkey:testsecret [--credential key2:secret2:token2 ...] \\
        [--region us-east-1] [--service dynamodb]

`GET /__stats` (unsigned) answers {"requests": N, "verified": N, "rejected": N,
"read_units": U, "items_read": N, "reads": {operation: N}, "operations":
{operation: N}, "reported_read_units": U, "reported_write_units": U}: the
read units are what DynamoDB would bill for the answers (pricing.py), so
that tests can bound what a search costs by counting what was sent; the
reported ones are the ConsumedCapacity the server itself answered.
A mismatching request's canonical request and string to sign, as botocore
computes them, are written to stderr.
"""

import argparse
import datetime
import hashlib
import hmac
import re
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from botocore.auth import SIGV4_TIMESTAMP, SigV4Auth
from botocore.awsrequest import AWSRequest, HTTPHeaders
from botocore.credentials import Credentials

from pricing import read_units, reported_units
from proxy_common import DYNAMODB_ERROR_PREFIX, CountingServerMixin, ForwardingMixin, parse_upstream

INVALID_SIGNATURE = "com.amazon.coral.service#InvalidSignatureException"
SIGNATURE_MISMATCH_MESSAGE = (
    "The request signature we calculated does not match the signature you provided. "
    "Check your AWS Secret Access Key and signing method. "
    "Consult the service documentation for details."
)
INVALID_TOKEN_MESSAGE = "The security token included in the request is invalid."
# Largest clock difference between X-Amz-Date and now that DynamoDB accepts.
MAX_CLOCK_SKEW = datetime.timedelta(minutes=15)
AUTH_RE = re.compile(r"AWS4-HMAC-SHA256 +(.*)\Z", re.S)
AMZ_DATE_RE = re.compile(r"\d{8}T\d{6}Z\Z")
SIGNATURE_RE = re.compile(r"[0-9a-f]{64}\Z")


class Rejection(Exception):
    """A request that fails verification: carries the error type and message."""

    def __init__(self, error_type, message):
        super().__init__(message)
        self.error_type = error_type
        self.message = message


class ExactHeadersSigV4Auth(SigV4Auth):
    """botocore's SigV4 signer, signing every header the request carries.

    botocore never signs User-Agent, Expect or X-Amzn-Trace-Id itself, but a
    client may; the verifier's request holds exactly the signed headers.
    """

    # Returns all of the request's headers, lower-cased, as the headers to sign.
    def headers_to_sign(self, request):
        header_map = HTTPHeaders()
        for name, value in request.headers.items():
            header_map[name.lower()] = value
        return header_map


# Parses the Authorization header into (key id, date, region, service,
# signed header names, signature); raises Rejection when it is missing or garbled.
def parse_authorization(value):
    missing = Rejection(DYNAMODB_ERROR_PREFIX + "MissingAuthenticationTokenException",
                        "Request is missing Authentication Token")
    match = AUTH_RE.match(value or "")
    if not match:
        raise missing
    params = {}
    for part in match.group(1).split(","):
        name, sep, val = part.strip().partition("=")
        if not sep or not val or name in params:
            raise missing
        params[name] = val
    if set(params) != {"Credential", "SignedHeaders", "Signature"}:
        raise missing
    scope = params["Credential"].split("/")
    if len(scope) != 5 or scope[4] != "aws4_request" or not all(scope):
        raise missing
    if not SIGNATURE_RE.match(params["Signature"]):
        raise missing
    key_id, date, region, service, _ = scope
    return key_id, date, region, service, params["SignedHeaders"].split(";"), params["Signature"]


# Raises Rejection unless the X-Amz-Date value is well formed, matches the
# credential scope's date and lies within MAX_CLOCK_SKEW of now.
def check_date(amz_date, scope_date):
    if amz_date is None or not AMZ_DATE_RE.match(amz_date):
        raise Rejection(INVALID_SIGNATURE,
                        f"X-Amz-Date must be in ISO-8601 basic format (yyyymmddThhmmssZ); got {amz_date!r}")
    if scope_date != amz_date[:8]:
        raise Rejection(INVALID_SIGNATURE,
                        f"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
                        f"date from HTTP: '{scope_date}' != '{amz_date[:8]}', from '{amz_date}'.")
    signed_at = datetime.datetime.strptime(amz_date, SIGV4_TIMESTAMP).replace(tzinfo=datetime.timezone.utc)
    now = datetime.datetime.now(datetime.timezone.utc)
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise Rejection(INVALID_SIGNATURE,
                        f"Signature expired or not yet current: {amz_date} is more than 15 min. "
                        f"away from {now.strftime(SIGV4_TIMESTAMP)}.")


class SigcheckHandler(ForwardingMixin, BaseHTTPRequestHandler):
    """Handles one client connection: verifies each request, then forwards it."""

    PROXY_NAME = "sigcheck proxy"

    # Entry point for every method: stats, or verify and forward.
    def handle_request(self):
        if self.command == "GET" and self.path == "/__stats":
            self.send_json(200, self.server.stats_snapshot())
            return
        body = self.read_body()
        if body is None:
            return
        self.server.count("requests")
        try:
            self.verify(body)
        except Rejection as rejection:
            self.server.count("rejected")
            self.log_message("rejected %s %s: %s", self.command, self.path, rejection.message)
            self.send_json(400, {"__type": rejection.error_type, "message": rejection.message})
            return
        self.server.count("verified")
        answer = self.forward(body)
        if answer is not None:
            operation = (self.headers.get("X-Amz-Target") or "").rpartition(".")[2]
            self.server.price(operation, body, *answer)

    do_GET = do_POST = do_PUT = do_DELETE = handle_request
    # Raises Rejection unless the request carries a valid SigV4 signature for
    # one of the configured credentials.
    def verify(self, body):
        auth_values = self.headers.get_all("Authorization") or []
        key_id, scope_date, region, service, signed, signature = parse_authorization(
            auth_values[0] if len(auth_values) == 1 else None)
        credentials = self.server.credentials.get(key_id)
        if credentials is None:
            raise Rejection(DYNAMODB_ERROR_PREFIX + "UnrecognizedClientException", INVALID_TOKEN_MESSAGE)
        if service != self.server.service:
            raise Rejection(INVALID_SIGNATURE,
                            f"Credential should be scoped to correct service: '{self.server.service}'.")
        if region != self.server.region:
            raise Rejection(INVALID_SIGNATURE, "Credential should be scoped to a valid region.")
        for required in ("host", "x-amz-date"):
            if required not in signed:
                raise Rejection(INVALID_SIGNATURE, f"'{required}' must be a 'SignedHeader' in the AWS Authorization.")
        token = self.headers.get("X-Amz-Security-Token")
        if token is not None and "x-amz-security-token" not in signed:
            raise Rejection(INVALID_SIGNATURE, "'x-amz-security-token' must be a 'SignedHeader' when it is sent.")
        if token != credentials.token:
            raise Rejection(DYNAMODB_ERROR_PREFIX + "UnrecognizedClientException", INVALID_TOKEN_MESSAGE)
        amz_date = self.headers.get("X-Amz-Date")
        check_date(amz_date, scope_date)
        content_sha = self.headers.get("X-Amz-Content-SHA256")
        if content_sha is not None and content_sha != hashlib.sha256(body).hexdigest():
            raise Rejection(INVALID_SIGNATURE, "X-Amz-Content-SHA256 does not match the SHA-256 of the body.")

        # The URL is the Host header plus the request target exactly as sent:
        # botocore normalises and encodes the path and query itself.
        request = AWSRequest(method=self.command, url=f"http://{self.headers.get('Host')}{self.path}", data=body)
        for name in signed:
            values = self.headers.get_all(name)
            if not values:
                raise Rejection(INVALID_SIGNATURE, f"Signed header '{name}' is not in the request.")
            for value in values:
                request.headers[name] = value
        request.context["timestamp"] = amz_date
        signer = ExactHeadersSigV4Auth(credentials, service, region)
        canonical_request = signer.canonical_request(request)
        string_to_sign = signer.string_to_sign(request, canonical_request)
        expected = signer.signature(string_to_sign, request)
        if not hmac.compare_digest(expected, signature):
            # Written as is (log_message would escape the newlines).
            sys.stderr.write(f"signature mismatch for {self.command} {self.path}: expected {expected}, "
                             f"got {signature}\n--- botocore's canonical request:\n{canonical_request}\n"
                             f"--- botocore's string to sign:\n{string_to_sign}\n---\n")
            raise Rejection(INVALID_SIGNATURE, SIGNATURE_MISMATCH_MESSAGE)


class SigcheckServer(CountingServerMixin, ThreadingHTTPServer):
    """Threading HTTP server holding the configuration and the counters."""

    def __init__(self, port, upstream, credentials, region, service):
        super().__init__(("127.0.0.1", port), SigcheckHandler)
        self.upstream = upstream
        self.credentials = credentials
        self.region = region
        self.service = service
        self.init_counters(["requests", "verified", "rejected", "read_units", "items_read",
                            "reported_read_units", "reported_write_units"])
        self.stats["reads"] = {}
        self.stats["operations"] = {}

    # Adds one to a counter.
    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    # Adds an answered request's read units and items to the counters, and
    # the capacity the server reported.
    def price(self, operation, request_body, status, response_body):
        with self.lock:
            self.stats["operations"][operation] = self.stats["operations"].get(operation, 0) + 1
        try:
            units, items = read_units(operation, request_body, status, response_body)
            reported = reported_units(operation, status, response_body)
        except (ValueError, KeyError, TypeError) as err:
            self.log_message_unpriced(operation, err)
            return
        if reported is not None:
            with self.lock:
                self.stats[f"reported_{reported[0]}_units"] += reported[1]
        if items or units:
            with self.lock:
                self.stats["read_units"] += units
                self.stats["items_read"] += items
                self.stats["reads"][operation] = self.stats["reads"].get(operation, 0) + 1

    # Notes on stderr an answer that could not be priced.
    def log_message_unpriced(self, operation, err):
        sys.stderr.write(f"could not price a {operation} answer: {err!r}\n")


# Parses KEYID:SECRET[:SESSIONTOKEN] into botocore Credentials.
def parse_credential(text):
    parts = text.split(":", 2)
    if len(parts) < 2 or not parts[0] or not parts[1]:
        raise argparse.ArgumentTypeError(f"expected KEYID:SECRET[:SESSIONTOKEN], got {text!r}")
    return Credentials(parts[0], parts[1], parts[2] if len(parts) == 3 else None)


# Parses the command line and serves until killed.
def main():
    parser = argparse.ArgumentParser(description="SigV4-verifying reverse proxy (botocore) for tests.")
    parser.add_argument("--listen", type=int, required=True, help="port to listen on, on 127.0.0.1")
    parser.add_argument("--upstream", type=parse_upstream, required=True, help="http://HOST:PORT to forward to")
    parser.add_argument("--credential", type=parse_credential, action="append", required=True,
                        help="KEYID:SECRET[:SESSIONTOKEN] accepted (repeatable)")
    parser.add_argument("--region", default="us-east-1", help="region the credential scope must name")
    parser.add_argument("--service", default="dynamodb", help="service the credential scope must name")
    args = parser.parse_args()

    credentials = {c.access_key: c for c in args.credential}
    server = SigcheckServer(args.listen, args.upstream, credentials, args.region, args.service)
    print(f"sigcheck proxy listening on http://127.0.0.1:{args.listen} -> "
          f"http://{args.upstream[0]}:{args.upstream[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
