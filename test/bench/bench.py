#!/usr/bin/python3
"""The benchmark suite's driver; test/bench/bench.sh runs it inside
pg_virtualenv with the DynamoDB server and the recording proxy started.

  bench.py RESULTS_DIR

Settings come from the environment (bench.sh documents them).  Every
figure goes into RESULTS_DIR/results.json; report.py turns that into
BENCHMARKS.md and the plots.
"""
import json
import os
import statistics
import subprocess
import sys
import time

import boto3

from benchlib import log, psql

BENCH = os.path.dirname(os.path.abspath(__file__))
PY = "/usr/bin/python3"
DATASETS = f"{PY} {BENCH}/datasets.py"
REPLAY = f"{BENCH}/build/replay"
ENV = os.environ
DIRECT = f"http://127.0.0.1:{ENV['WL_BENCH_DDB_PORT']}"
RECORDED = f"http://127.0.0.1:{ENV['WL_BENCH_RECORD_PORT']}"
LOG = ENV["WL_BENCH_LOG"]
FMNIST_SIZE = int(ENV.get("WL_BENCH_FMNIST", "60000"))
QUERIES = int(ENV.get("WL_BENCH_QUERIES", "200"))
SWEEP_QUERIES = min(QUERIES, 100)
FLOOR_QUERIES = min(QUERIES, 50)
SCALE_QUERIES = 50
PGBENCH_SECONDS = int(ENV.get("WL_BENCH_SECONDS", "30"))
SCALE = [int(x) for x in ENV.get("WL_BENCH_SCALE", "10000,100000").split(",") if x]
PROBES = [1, 2, 4, 8, 12, 24, 48]


def timed(sql):
    """Runs SQL; returns its wall-clock seconds."""
    start = time.monotonic()
    psql(sql)
    return time.monotonic() - start


def run(args, **kwargs):
    """Runs a command, failing the benchmark if it fails; returns stdout."""
    done = subprocess.run(args, text=True, capture_output=True, **kwargs)
    if done.returncode != 0:
        sys.exit(f"{args[0]} failed:\n{done.stderr}")
    return done.stdout


def replay(*args):
    """Runs test/bench/build/replay; returns its summary line."""
    lines = [json.loads(line) for line in run([REPLAY, *args]).splitlines()]
    return [line for line in lines if "summary" in line][0], lines


def mark(label):
    """Splits the recording: what follows belongs to `label`."""
    run(["curl", "-sf", "-X", "POST", "-H", f"X-Bench-Mark: {label}", RECORDED + "/"])


def setup():
    psql(f"""
SET client_min_messages = warning;
CREATE EXTENSION whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint '{DIRECT}');
CREATE SERVER rec FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint '{RECORDED}');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb OPTIONS (access_key_id 'bench', secret_access_key 'bench');
CREATE USER MAPPING FOR CURRENT_USER SERVER rec OPTIONS (access_key_id 'bench', secret_access_key 'bench');
SELECT whiplash_setup('ddb');
""")


def load(name, dataset, nbase, nqueries, dims, first=0):
    """Local tables {name}_base, {name}_queries (numbered from 1) and
    {name}_truth, and a collection {name} with foreign tables on both
    servers."""
    psql(f"""
CREATE TABLE IF NOT EXISTS {name}_base (id text, v real[]);
CREATE TABLE IF NOT EXISTS {name}_queries (n serial, id text, v real[]);
COPY {name}_base FROM PROGRAM '{DATASETS} rows {dataset} base {first} {nbase - first}';
""")
    if first == 0:
        psql(f"""
COPY {name}_queries (id, v) FROM PROGRAM '{DATASETS} rows {dataset} queries 0 {nqueries}';
SELECT collection FROM whiplash_create_collection('ddb', '{name}', {dims}, metric => 'l2', seed => 1, format => 'native');
CREATE FOREIGN TABLE {name} (id text, vector real[]) SERVER ddb OPTIONS (collection '{name}');
CREATE FOREIGN TABLE {name}_rec (id text, vector real[]) SERVER rec OPTIONS (collection '{name}');
""")
    psql(f"""
DROP TABLE IF EXISTS {name}_truth;
CREATE TABLE {name}_truth (query text, id text, rank int);
COPY {name}_truth FROM PROGRAM '{DATASETS} truth {dataset} {nbase} {nqueries} 10';
""")


def search_loop(name, table, nqueries, settings="", passes=1, label="default"):
    """Searches the first nqueries queries (passes times each, after one
    warm-up search) in one session; returns per-search rows."""
    rows = psql(f"""
SET client_min_messages = warning;
{settings}
CREATE TEMP TABLE found (query text, id text);
CREATE TEMP TABLE costs (query text, pass int, ms float8, vectors_read bigint, requests bigint,
                         round_trips bigint, candidates bigint, bucket_entries bigint, buckets int,
                         bytes_read bigint, read_capacity float8, fine_bits int);
SELECT count(*) FROM whiplash_search('{table}', (SELECT v FROM {name}_queries WHERE n = 1), 10);
DO $$
DECLARE
  q record;
  t0 timestamptz;
  ms float8;
BEGIN
  FOR p IN 1..{passes} LOOP
    FOR q IN SELECT id, v FROM {name}_queries WHERE n <= {nqueries} ORDER BY n LOOP
      t0 := clock_timestamp();
      IF p = 1 THEN
        INSERT INTO found SELECT q.id, s.id FROM whiplash_search('{table}', q.v, 10) s;
      ELSE
        PERFORM count(*) FROM whiplash_search('{table}', q.v, 10);
      END IF;
      ms := extract(epoch FROM clock_timestamp() - t0) * 1000;
      INSERT INTO costs SELECT q.id, p, ms, vectors_read, requests, round_trips, candidates,
                               bucket_entries, buckets, bytes_read, read_capacity, fine_bits
                          FROM whiplash_last_search();
    END LOOP;
  END LOOP;
END $$;
SELECT c.query, c.pass, c.ms, c.vectors_read, c.requests, c.round_trips, c.candidates,
       c.bucket_entries, c.buckets, c.bytes_read, c.read_capacity, c.fine_bits,
       (SELECT count(*) FROM found f JOIN {name}_truth t USING (query, id) WHERE f.query = c.query)
  FROM costs c ORDER BY c.pass, c.query;
""")
    keys = ["query", "pass", "ms", "vectors_read", "requests", "round_trips", "candidates",
            "bucket_entries", "buckets", "bytes_read", "read_capacity", "fine_bits", "hits"]
    out = []
    for row in rows:
        if len(row) != len(keys):
            continue
        record = dict(zip(keys, row))
        for key in keys[1:]:
            record[key] = float(record[key])
        out.append(record)
    return out


def percentile(values, p):
    ordered = sorted(values)
    if not ordered:
        return 0.0
    index = (len(ordered) - 1) * p / 100
    low = int(index)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (index - low)


def summarise(rows, nbase):
    """Recall@10 and mean costs of one pass of searches."""
    first = [r for r in rows if r["pass"] == 1]
    ms = [r["ms"] for r in first]
    mean = lambda key: statistics.fmean(r[key] for r in first)  # noqa: E731
    return {
        "queries": len(first),
        "recall_at_10": sum(r["hits"] for r in first) / (10 * len(first)),
        "vectors_read": mean("vectors_read"),
        "percent_read": 100 * mean("vectors_read") / nbase,
        "max_percent_read": 100 * max(r["vectors_read"] for r in first) / nbase,
        "requests": mean("requests"),
        "round_trips_max": max(r["round_trips"] for r in first),
        "candidates": mean("candidates"),
        "bucket_entries": mean("bucket_entries"),
        "entries_per_key": mean("bucket_entries") / max(mean("buckets"), 1),
        "bytes_read": mean("bytes_read"),
        "read_capacity": mean("read_capacity"),
        "fine_bits": mean("fine_bits"),
        "mean_ms": statistics.fmean(ms),
        "p50_ms": percentile(ms, 50),
        "p95_ms": percentile(ms, 95),
        "p99_ms": percentile(ms, 99),
    }


def pgbench(name, clients, seconds, nqueries, workdir):
    """Searches random queries from `clients` sessions for `seconds`;
    returns throughput and latency percentiles from pgbench's log."""
    script = os.path.join(workdir, "search.pgbench")
    with open(script, "w") as f:
        f.write(f"\\set q random(1, {nqueries})\n"
                f"SELECT count(*) FROM whiplash_search('{name}', "
                f"(SELECT v FROM {name}_queries WHERE n = :q), 10);\n")
    prefix = os.path.join(workdir, f"pgbench{clients}")
    run(["pgbench", "-n", "-c", str(clients), "-j", str(min(clients, 2)), "-T", str(seconds),
         "-f", script, "--log", f"--log-prefix={prefix}"], cwd=workdir)
    latencies = []
    for entry in os.listdir(workdir):
        if entry.startswith(os.path.basename(prefix) + "."):
            with open(os.path.join(workdir, entry)) as f:
                latencies += [int(line.split()[2]) / 1000 for line in f]
            os.unlink(os.path.join(workdir, entry))
    return {"clients": clients, "seconds": seconds, "searches": len(latencies),
            "searches_per_s": len(latencies) / seconds,
            "p50_ms": percentile(latencies, 50), "p95_ms": percentile(latencies, 95),
            "p99_ms": percentile(latencies, 99)}


def record_searches(name, nqueries):
    """Searches the first nqueries queries through the recording proxy,
    one mark before each, after a warm-up search (so that the log holds
    only what searches send once a backend is warm)."""
    lines = [f"SELECT count(*) FROM whiplash_search('{name}_rec', (SELECT v FROM {name}_queries WHERE n = 1), 10);"]
    for n in range(1, nqueries + 1):
        lines.append(f"\\! curl -sf -X POST -H 'X-Bench-Mark: q{n}' {RECORDED}/ >/dev/null")
        lines.append(f"SELECT count(*) FROM whiplash_search('{name}_rec', "
                     f"(SELECT v FROM {name}_queries WHERE n = {n}), 10);")
    psql("\n".join(lines) + "\n")


def empty_tables(path):
    """Deletes and re-creates, empty, the tables a recording wrote to, so
    that its writes replay into the state they were first made in."""
    ddb = boto3.client("dynamodb", endpoint_url=DIRECT, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    tables = set()
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            if entry.get("op") == "BatchWriteItem":
                tables.update(json.loads(entry["body"])["RequestItems"])
    for table in tables:
        shape = ddb.describe_table(TableName=table)["Table"]
        ddb.delete_table(TableName=table)
        ddb.get_waiter("table_not_exists").wait(TableName=table)
        ddb.create_table(TableName=table, KeySchema=shape["KeySchema"],
                         AttributeDefinitions=shape["AttributeDefinitions"],
                         BillingMode="PAY_PER_REQUEST")
        ddb.get_waiter("table_exists").wait(TableName=table)


def other_requests(path):
    """Requests of a recording, after its first mark, that are neither
    bucket Queries nor BatchGetItem calls (what a warm backend should not
    send while searching)."""
    count = 0
    marked = False
    with open(path) as f:
        for line in f:
            entry = json.loads(line)
            marked = marked or "mark" in entry
            count += marked and entry.get("op") not in (None, "Query", "BatchGetItem")
    return count


def hashing():
    """The C cost of hashing, probing and distances (hash_bench)."""
    out = []
    for flags, binary in (("-O2", "hash_bench"), ("-O2 -march=native", "hash_bench_native")):
        for dims in (784, 32):
            line = run([f"{BENCH}/build/{binary}", str(dims), "10", "12", "12", "12"])
            result = json.loads(line)
            result["flags"] = flags
            out.append(result)
    return out


def item_size(value):
    """DynamoDB's size of an attribute value (names counted by the caller)."""
    kind, inner = next(iter(value.items()))
    if kind == "M":
        return 3 + sum(len(k) + item_size(v) for k, v in inner.items())
    if kind == "L":
        return 3 + sum(1 + item_size(v) for v in inner)
    if kind in ("SS", "NS", "BS"):
        return sum(len(x) for x in inner)
    if kind in ("BOOL", "NULL"):
        return 1
    return len(inner)


def metadata_bytes(name):
    """The size of a collection's metadata item, as DynamoDB counts it."""
    ddb = boto3.client("dynamodb", endpoint_url=DIRECT, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    item = ddb.get_item(TableName="whiplash_metadata", Key={"id": {"S": f"whiplash_dev_{name}"}})["Item"]
    return sum(len(k) + item_size(v) for k, v in item.items())


def fmnist(results, workdir):
    log(f"Fashion-MNIST: loading {FMNIST_SIZE} vectors and {QUERIES} queries, exact truth")
    load("fm", "fmnist", FMNIST_SIZE, QUERIES, 784)
    log("Fashion-MNIST: INSERT ... SELECT")
    seconds = timed("INSERT INTO fm SELECT id, v FROM fm_base;")
    results["insert"] = {"vectors": FMNIST_SIZE, "seconds": seconds,
                         "vectors_per_s": FMNIST_SIZE / seconds}

    log("writes: 3,000 vectors into an empty collection, then the same requests bare")
    psql("""
SELECT collection FROM whiplash_create_collection('ddb', 'fw', 784, metric => 'l2', seed => 2, format => 'native');
SELECT collection FROM whiplash_create_collection('ddb', 'fx', 784, metric => 'l2', seed => 2, format => 'native');
CREATE FOREIGN TABLE fw (id text, vector real[]) SERVER ddb OPTIONS (collection 'fw');
CREATE FOREIGN TABLE fx_rec (id text, vector real[]) SERVER rec OPTIONS (collection 'fx');
""")
    seconds = timed("INSERT INTO fw SELECT id, v FROM fm_base ORDER BY id LIMIT 3000;")
    open(LOG, "w").close()
    mark("writes")
    psql("INSERT INTO fx_rec SELECT id, v FROM fm_base ORDER BY id LIMIT 3000;")
    empty_tables(LOG)
    bare, _ = replay("writes", LOG, DIRECT)
    results["writes_bare"] = bare
    results["writes"] = {"vectors": 3000, "seconds": seconds, "items": bare["items"],
                         "items_per_s": bare["items"] / seconds}
    results["insert"]["items_per_vector"] = bare["items"] / 3000
    results["insert"]["items_per_s"] = results["insert"]["vectors_per_s"] * bare["items"] / 3000

    log("Fashion-MNIST: searches at the default settings")
    rows = search_loop("fm", "fm", QUERIES)
    results["fmnist"] = summarise(rows, FMNIST_SIZE)
    results["fmnist"]["vectors"] = FMNIST_SIZE

    log("Fashion-MNIST: sweeping probes")
    results["sweep"] = []
    for probes in PROBES:
        rows = search_loop("fm", "fm", SWEEP_QUERIES, f"SET whiplash.probes = {probes};")
        summary = summarise(rows, FMNIST_SIZE)
        summary["probes"] = probes
        summary["searches_per_s"] = 1000 / summary["mean_ms"]
        results["sweep"].append(summary)
        log(f"  probes {probes}: recall {summary['recall_at_10']:.3f}, {summary['mean_ms']:.1f} ms")

    log(f"floor: {FLOOR_QUERIES} searches timed (3 passes), recorded and replayed bare")
    rows = search_loop("fm", "fm", FLOOR_QUERIES, passes=4)
    by_query = {}
    for r in rows:
        if r["pass"] > 1:
            by_query.setdefault(r["query"], []).append(r["ms"])
    extension_ms = [statistics.median(v) for v in by_query.values()]
    open(LOG, "w").close()
    record_searches("fm", FLOOR_QUERIES)
    floor, lines = replay("floor", LOG, DIRECT, "--repeat", "3")
    results["floor"] = {
        "searches": FLOOR_QUERIES,
        "extension_mean_ms": statistics.fmean(extension_ms),
        "extension_p50_ms": statistics.median(extension_ms),
        "bare_mean_ms": floor["mean_ms"],
        "bare_p50_ms": floor["p50_ms"],
        "ratio": statistics.fmean(extension_ms) / floor["mean_ms"],
        "phases_per_search": floor["phases_per_unit"],
        "requests_per_search": floor["requests_per_unit"],
        "other_requests": other_requests(LOG),
    }

    log(f"concurrency: pgbench 1 and 8 sessions, {PGBENCH_SECONDS} s each; bare replay at 8")
    results["pgbench"] = [pgbench("fm", c, PGBENCH_SECONDS, QUERIES, workdir) for c in (1, 8)]
    results["bare_throughput"] = [
        replay("throughput", LOG, DIRECT, "--sessions", str(s), "--seconds", str(PGBENCH_SECONDS))[0]
        for s in (1, 8)]


def digits(results):
    log("digits: loading, INSERT, searches")
    load("dg", "digits", 1697, 100, 64)
    seconds = timed("INSERT INTO dg SELECT id, v FROM dg_base;")
    summary = summarise(search_loop("dg", "dg", 100), 1697)
    summary["vectors"] = 1697
    summary["insert_vectors_per_s"] = 1697 / seconds
    results["digits"] = summary


def scale(results):
    results["scale"] = []
    done = 0
    for size in SCALE:
        log(f"scale: growing the clustered collection to {size} vectors")
        load("sc", "clustered", size, SCALE_QUERIES, 32, first=done)
        start = time.monotonic()
        psql(f"INSERT INTO sc SELECT id, v FROM sc_base WHERE substr(id, 2)::int >= {done};")
        insert_s = time.monotonic() - start
        done = size
        grown = summarise(search_loop("sc", "sc", SCALE_QUERIES,
                                      "SET whiplash.collection_cache_ttl = 0;"), size)
        fixed = summarise(search_loop("sc", "sc", SCALE_QUERIES,
                                      "SET whiplash.collection_cache_ttl = 0;"
                                      " SET whiplash.bucket_capacity = 1000000;"), size)
        results["scale"].append({"vectors": size, "insert_vectors_per_s": (size - (results["scale"][-1]["vectors"] if results["scale"] else 0)) / insert_s,
                                 "grown": grown, "fixed": fixed, "metadata_bytes": metadata_bytes("sc")})
        log(f"  {size}: fine bits {grown['fine_bits']:.0f}, {grown['entries_per_key']:.1f} entries a key, "
            f"recall {grown['recall_at_10']:.3f}, {grown['mean_ms']:.1f} ms "
            f"(fixed: {fixed['entries_per_key']:.1f}, {fixed['recall_at_10']:.3f}, {fixed['mean_ms']:.1f} ms)")


def main(outdir):
    workdir = os.path.join(outdir, "work")
    os.makedirs(workdir, exist_ok=True)
    results = {"started": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
               "machine": run(["sh", "-c", "echo \"$(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, "
                                            "$(lscpu | sed -n 's/^Model name: *//p')\""]).strip(),
               "settings": {"fmnist": FMNIST_SIZE, "queries": QUERIES, "pgbench_seconds": PGBENCH_SECONDS,
                            "scale": SCALE, "server": ENV.get("WL_BENCH_SERVER", "dynalite")}}
    started = time.monotonic()
    setup()
    results["hashing"] = hashing()
    # Each part's figures are saved as soon as it ends.
    for part in (lambda: fmnist(results, workdir), lambda: digits(results), lambda: scale(results)):
        part()
        results["minutes"] = (time.monotonic() - started) / 60
        with open(os.path.join(outdir, "results.json"), "w") as f:
            json.dump(results, f, indent=1)
    log(f"done in {results['minutes']:.1f} minutes")


if __name__ == "__main__":
    main(sys.argv[1])
