#!/usr/bin/python3
"""A server that answers every POST in HTTP/0.9: the body alone, with no
status line and no headers, as some old or broken servers do.  GET /__stats
gets a proper HTTP/1.0 answer, so that the test scripts can see it is up.

Usage: http09_server.py PORT
"""
import socketserver
import sys


class Handler(socketserver.StreamRequestHandler):
    """Reads one request line and its headers, answers, and closes."""

    def handle(self):
        request_line = self.rfile.readline().decode("latin-1")
        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
            pass
        if request_line.startswith("GET /__stats"):
            self.wfile.write(b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\n{}\n")
        else:
            self.wfile.write(b"not an HTTP/1.x answer\n")


class Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True


def main():
    port = int(sys.argv[1])
    with Server(("127.0.0.1", port), Handler) as server:
        server.serve_forever()


if __name__ == "__main__":
    main()
