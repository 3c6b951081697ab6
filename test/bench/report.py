#!/usr/bin/python3
"""Writes BENCHMARKS.md and the plots from a benchmark run's results.json.

  report.py RESULTS_JSON COMMAND MARKDOWN PLOT_DIR
"""
import json
import os
import subprocess
import sys


def table(header, rows):
    """A Markdown table; numbers are right-aligned."""
    lines = ["| " + " | ".join(header) + " |",
             "|" + "|".join("---:" if i else "---" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def f(value, digits=1):
    return f"{value:,.{digits}f}"


def plot(script, data, workdir):
    """Runs gnuplot on a script that reads the data file 'data.tsv'."""
    with open(os.path.join(workdir, "data.tsv"), "w") as out:
        out.write(data)
    subprocess.run(["gnuplot"], input=script, text=True, check=True, cwd=workdir)


def plots(r, plot_dir, workdir):
    """recall_throughput.png and scale.png."""
    curve = os.path.abspath(os.path.join(plot_dir, "recall_throughput.png"))
    data = "".join(f"{s['searches_per_s']:.3f}\t{s['recall_at_10']:.4f}\t{s['probes']}\t{s['percent_read']:.2f}\n"
                   for s in r["sweep"])
    plot(f"""
set terminal pngcairo size 800,500 font ',11' noenhanced
set output '{curve}'
set title 'Fashion-MNIST, {r["fmnist"]["vectors"]:,} vectors: recall@10 against searches a second (1 session)'
set xlabel 'searches per second, one session'
set ylabel 'recall@10'
set grid
set key off
set yrange [0:1.05]
set offsets graph 0.08, graph 0.08, 0, 0
plot 'data.tsv' using 1:2 with linespoints pt 7 lc rgb '#1f77b4', \\
     '' every 2 using 1:2:(sprintf('%d probes, %.1f%% read', $3, $4)) with labels offset 0,-1.2 center font ',9', \\
     '' every 2::1 using 1:2:(sprintf('%d probes, %.1f%% read', $3, $4)) with labels offset 0,1.2 center font ',9'
""", data, workdir)
    scale_png = os.path.abspath(os.path.join(plot_dir, "scale.png"))
    data = "".join(f"{s['vectors']}\t{s['grown']['bucket_entries']:.1f}\t{s['fixed']['bucket_entries']:.1f}\t"
                   f"{s['grown']['bytes_read'] / 1024:.1f}\t{s['fixed']['bytes_read'] / 1024:.1f}\n"
                   for s in r["scale"])
    plot(f"""
set terminal pngcairo size 800,500 font ',11' noenhanced
set output '{scale_png}'
set title 'Clustered set, 32 dimensions: what one search reads as the collection grows'
set xlabel 'vectors in the collection'
set ylabel 'per search'
set logscale xy
set grid
set key top left
plot 'data.tsv' using 1:2 with linespoints pt 7 title 'bucket entries read, growing precision', \\
     '' using 1:3 with linespoints pt 5 title 'bucket entries read, fixed 12 bits', \\
     '' using 1:4 with linespoints pt 7 dt 2 title 'KB read, growing precision', \\
     '' using 1:5 with linespoints pt 5 dt 2 title 'KB read, fixed 12 bits'
""", data, workdir)


def targets(r):
    fm, floor = r["fmnist"], r["floor"]
    pg8 = [p for p in r["pgbench"] if p["clients"] == 8][0]
    bare8 = [b for b in r["bare_throughput"] if b["sessions"] == 8][0]
    rows = []

    def row(name, want, got, met):
        rows.append((name, want, got, "met" if met else "**missed**"))

    row("sequential round trips per search", "≤ 2", f(fm["round_trips_max"], 0) + " (most of any search)",
        fm["round_trips_max"] <= 2)
    row("search time over the bare requests' time", "≤ 1.2×",
        f"{floor['ratio']:.2f}× ({f(floor['extension_mean_ms'])} ms against {f(floor['bare_mean_ms'])} ms)",
        floor["ratio"] <= 1.2)
    row("recall@10 on Fashion-MNIST", "≥ 0.95", f"{fm['recall_at_10']:.3f}", fm["recall_at_10"] >= 0.95)
    row("share of the collection read per search", "≤ 5%",
        f"{fm['percent_read']:.2f}% on average, {fm['max_percent_read']:.2f}% at most",
        fm["max_percent_read"] <= 5)
    ratio = r["writes"]["items_per_s"] / r["writes_bare"]["items_per_s"]
    row("INSERT … SELECT item rate over bare BatchWriteItem", "≥ 80%",
        f"{100 * ratio:.0f}% ({f(r['writes']['items_per_s'], 0)} against "
        f"{f(r['writes_bare']['items_per_s'], 0)} items/s)", ratio >= 0.8)
    ratio = pg8["searches_per_s"] / bare8["units_per_s"]
    row("8 sessions' search rate over the server's for the same requests", "≥ 80%",
        f"{100 * ratio:.0f}% ({f(pg8['searches_per_s'])} against {f(bare8['units_per_s'])} searches/s)",
        ratio >= 0.8)
    return rows


def markdown(r, command):
    fm, dg, floor, ins = r["fmnist"], r["digits"], r["floor"], r["insert"]
    out = [f"""# Benchmarks

Every figure below comes from one run of

    {command}

(settings: {r["settings"]["fmnist"]:,} Fashion-MNIST vectors, {r["settings"]["queries"]} queries,
{r["settings"]["pgbench_seconds"]} s per concurrency run, scale sizes
{", ".join(f"{s:,}" for s in r["settings"]["scale"])}), started {r["started"]} on {r["machine"]},
Debian 12, PostgreSQL 15, against {r["settings"]["server"]} in memory on 127.0.0.1. It took
{r["minutes"]:.0f} minutes. The file is written by `test/bench/report.py`; the settings
are described at the top of `test/bench/bench.sh`. These sections measure native
collections (`bench.sh` makes them with `format => 'native'`); new collections are packed,
measured under "Native and packed collections".

The server matters: dynalite is a single-threaded Node.js program, so it serves about as
many requests a second as one core allows, and every figure that is a rate measures it as
much as whiplash. The floor replays (below) measure exactly that share: the same requests
sent by a minimal C client, without Postgres.

## Targets

"""]
    out.append(table(["target", "wanted", "measured", ""], targets(r)))
    out.append(f"""

## Fashion-MNIST: recall and the cost of one search

{fm["vectors"]:,} training images stored (784 dimensions, Euclidean), {fm["queries"]} test
images searched at the default settings (10 tables × 12 bits, 12 probes a table, candidate
budget 8% of the collection and at most 2,000), one session, compared with exact brute force
(numpy). Figures are means per search unless they say otherwise.

""")
    out.append(table(
        ["recall@10", "vectors read", "% of collection", "HTTP requests", "round trips (max)",
         "bucket entries", "candidates", "KB read", "read capacity units", "p50 ms", "p95 ms", "p99 ms"],
        [(f"{fm['recall_at_10']:.3f}", f(fm["vectors_read"], 0), f"{fm['percent_read']:.2f}",
          f(fm["requests"]), f(fm["round_trips_max"], 0), f(fm["bucket_entries"], 0),
          f(fm["candidates"], 0), f(fm["bytes_read"] / 1024), f(fm["read_capacity"]),
          f(fm["p50_ms"]), f(fm["p95_ms"]), f(fm["p99_ms"]))]))
    out.append(f"""

## Recall against throughput

The same collection, {r["sweep"][0]["queries"]} queries at each number of probes (buckets read
per hash table; the candidate budget stays the same). Searches a second are one session's,
1000 / mean latency.

![recall@10 against searches a second](test/bench/recall_throughput.png)

""")
    out.append(table(
        ["probes", "recall@10", "% read", "HTTP requests", "bucket entries", "KB read", "mean ms",
         "searches/s"],
        [(s["probes"], f"{s['recall_at_10']:.3f}", f"{s['percent_read']:.2f}", f(s["requests"]),
          f(s["bucket_entries"], 0), f(s["bytes_read"] / 1024), f(s["mean_ms"]),
          f(s["searches_per_s"])) for s in r["sweep"]]))
    out.append(f"""

## The floor: the same requests without Postgres

{floor["searches"]} searches were run through a recording proxy (`test/bench/record_proxy.py`)
from a warm backend; `test/bench/replay.c` then sent exactly those requests again with the
core's client alone (16 kept-alive connections, as the extension has, each phase's requests
all in flight at once), 3 times each. The extension's time is the median of 3 timed runs of
each search, straight to the server.

""")
    out.append(table(
        ["searches", "phases per search", "requests per search", "other requests", "extension mean ms",
         "bare mean ms", "ratio", "extension p50 ms", "bare p50 ms"],
        [(floor["searches"], f(floor["phases_per_search"]), f(floor["requests_per_search"]),
          floor["other_requests"], f(floor["extension_mean_ms"]), f(floor["bare_mean_ms"]),
          f"{floor['ratio']:.2f}×", f(floor["extension_p50_ms"]), f(floor["bare_p50_ms"]))]))
    out.append("""

"Other requests" counts what the warm backend sent besides bucket Queries and
BatchGetItem calls while searching: metadata or catalog reads would show here.

## Concurrency

pgbench with a custom script (`SELECT count(*) FROM whiplash_search(...)` of a random
test image), 1 and 8 client sessions; the bare rate is the replay client running the recorded
searches from as many threads, each with its own 16 connections.

""")
    rows = []
    for p in r["pgbench"]:
        bare = [b for b in r["bare_throughput"] if b["sessions"] == p["clients"]][0]
        rows.append((p["clients"], f(p["searches_per_s"]), f(p["p50_ms"]), f(p["p95_ms"]), f(p["p99_ms"]),
                     f(bare["units_per_s"]), f(bare["p50_ms"]),
                     f"{100 * p['searches_per_s'] / bare['units_per_s']:.0f}%"))
    out.append(table(["sessions", "searches/s", "p50 ms", "p95 ms", "p99 ms", "bare searches/s",
                      "bare p50 ms", "share of bare"], rows))
    bare, w = r["writes_bare"], r["writes"]
    out.append(f"""

## Writes

`INSERT INTO ... SELECT ...` from a local table, one statement. Each vector is
{ins["items_per_vector"]:.0f} DynamoDB items (the vector and one entry per hash table),
written with BatchWriteItem, 25 items a call, 16 calls in flight; before each batch of
`whiplash.write_batch_size` rows the extension also reads the ids' current bucket keys
(BatchGetItem), so that a replaced vector leaves no stale entry. The floor: 3,000 vectors
inserted into an empty collection by the extension, and the BatchWriteItem calls of the
same insert (recorded) replayed bare into the same tables emptied again.

""")
    out.append(table(["INSERT", "vectors", "seconds", "vectors/s", "items/s", "share of bare"],
                     [("all of Fashion-MNIST", f(ins["vectors"], 0), f(ins["seconds"]),
                       f(ins["vectors_per_s"], 0), f(ins["items_per_s"], 0), ""),
                      ("3,000 into an empty collection", f(w["vectors"], 0), f(w["seconds"]),
                       f(w["vectors"] / w["seconds"], 0), f(w["items_per_s"], 0),
                       f"{100 * w['items_per_s'] / bare['items_per_s']:.0f}%"),
                      ("the same BatchWriteItem calls, bare", f(w["vectors"], 0), f(bare["seconds"]),
                       f(w["vectors"] / bare["seconds"], 0), f(bare["items_per_s"], 0), "")]))
    out.append(f"""

## A second real set: handwritten digits

scikit-learn's digits (Debian's python3-sklearn): {dg["vectors"]:,} images of 64 pixels stored,
the other 100 searched, defaults.

""")
    out.append(table(["vectors", "INSERT vectors/s", "recall@10", "% read", "HTTP requests",
                      "round trips (max)", "p50 ms", "p95 ms"],
                     [(f(dg["vectors"], 0), f(dg["insert_vectors_per_s"], 0), f"{dg['recall_at_10']:.3f}",
                       f"{dg['percent_read']:.2f}", f(dg["requests"]), f(dg["round_trips_max"], 0),
                       f(dg["p50_ms"]), f(dg["p95_ms"]))]))
    out.append("""

## Scale: growing precision

A synthetic set (32 dimensions, 1,000 Gaussian clusters) grown in one collection through the
sizes below, 50 queries at each size against exact brute force. New collections keep 12
further code bits per hash table in each bucket entry's sort key; a search reads the fewest
of them that bring a probed key to `whiplash.bucket_capacity` (16) entries on average, with
`begins_with` on the sort key, so nothing is re-written as the collection grows. "Fixed" is
the same collection searched with the precision held at 12 bits
(`whiplash.bucket_capacity` set very high), as the original library's buckets behave.

![what a search reads as the collection grows](test/bench/scale.png)

""")
    rows = []
    for s in r["scale"]:
        g, x = s["grown"], s["fixed"]
        rows.append((f(s["vectors"], 0), f(s["insert_vectors_per_s"], 0), f(g["fine_bits"], 0),
                     f(g["entries_per_key"]), f(x["entries_per_key"]), f(g["bucket_entries"], 0),
                     f(x["bucket_entries"], 0), f(g["bytes_read"] / 1024), f(x["bytes_read"] / 1024),
                     f"{g['recall_at_10']:.3f}", f"{x['recall_at_10']:.3f}", f"{g['percent_read']:.2f}",
                     f(g["mean_ms"]), f(x["mean_ms"]), s["metadata_bytes"]))
    out.append(table(["vectors", "INSERT vectors/s", "fine bits read", "entries a key", "(fixed)",
                      "entries read", "(fixed)", "KB read", "(fixed)", "recall@10", "(fixed)",
                      "% read", "mean ms", "(fixed)", "metadata bytes"], rows))
    out.append("""

## Hashing and re-ranking in C

`test/bench/hash_bench.c`, the core without Postgres: the keys of one vector (10 tables ×
24-bit codes), the multi-probe keys of one query (12 a table), and one exact Euclidean
distance, with the default build and with `-march=native` (`make OPTFLAGS=-march=native`
builds the extension so). Projections are built with `-ffp-contract=off` either way, so that
servers built differently hash alike.

""")
    out.append(table(["build", "dimensions", "hash a vector µs", "probe keys µs", "distance ns"],
                     [(h["flags"], h["dims"], f(h["hash_us"]), f(h["probe_keys_us"]), f(h["distance_ns"]))
                      for h in r["hashing"]]))
    out.append("\n")
    return "".join(out)


# Where the part of BENCHMARKS.md that other scripts write begins (formats.sh,
# million.sh, writes.sh, and the notes between their sections).
KEPT_FROM = "<!-- formats: begin -->"


def main(argv):
    with open(argv[1]) as f:
        r = json.load(f)
    workdir = os.path.join(os.path.dirname(os.path.abspath(argv[1])), "plots")
    os.makedirs(workdir, exist_ok=True)
    plots(r, argv[4], workdir)
    # what formats_report.py and writes_report.py write, and the notes
    # between their sections, are kept as they stand
    kept = ""
    if os.path.exists(argv[3]):
        with open(argv[3]) as f:
            old = f.read()
        if KEPT_FROM in old:
            kept = "\n" + old[old.index(KEPT_FROM):]
    with open(argv[3], "w") as f:
        f.write(markdown(r, argv[2]) + kept)
    print(f"wrote {argv[3]} and the plots in {argv[4]}")


if __name__ == "__main__":
    main(sys.argv)
