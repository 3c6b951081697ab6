"""What the benchmark drivers (bench.py, formats.py) share: a timestamped
log line and a psql session per SQL text."""
import subprocess
import sys
import time


def log(message):
    print(f"[{time.strftime('%H:%M:%S')}] {message}", flush=True)


def psql(sql):
    """Runs SQL in a new session; returns the rows of its output."""
    done = subprocess.run(["psql", "-X", "-q", "-At", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-f", "-"],
                          input=sql, text=True, capture_output=True)
    if done.returncode != 0:
        sys.exit(f"psql failed:\n{done.stderr}")
    return [line.split("\t") for line in done.stdout.splitlines() if line]
