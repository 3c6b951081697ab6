"""What the benchmark drivers (bench.py, formats.py, writes.py) and their
reports share: a timestamped log line, a psql session per SQL text, and a
section of BENCHMARKS.md rewritten between its markers."""
import json
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


def replace_section(md_path, begin, end, new):
    """Puts new (which starts with begin and ends with end) in place of the
    text between the markers, or at the end of the file."""
    with open(md_path) as f:
        text = f.read()
    if begin in text:
        text = text[:text.index(begin)] + new + text[text.index(end) + len(end):]
    else:
        text = text.rstrip("\n") + "\n\n" + new + "\n"
    with open(md_path, "w") as f:
        f.write(text)


def write_report(json_path, md_path, begin, end, section, *args):
    """Rewrites a section of BENCHMARKS.md: section(results, *args), from
    a driver's results file."""
    with open(json_path) as f:
        results = json.load(f)
    replace_section(md_path, begin, end, section(results, *args))


def set_names(results):
    """The data sets of a results list, in the order they were run."""
    names = []
    for entry in results:
        if entry["set"] not in names:
            names.append(entry["set"])
    return names
