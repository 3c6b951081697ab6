#!/usr/bin/python3
"""Native against packed collections, data set by data set: recall@10
against exact brute force, and what a search costs as DynamoDB bills it.
test/bench/formats.sh runs it inside pg_virtualenv with dynalite behind
the SigV4-checking proxy (which prices every read: test/tools/pricing.py)
and, in front of that, a proxy that adds a few milliseconds to every
request, as an in-region round trip does.

  formats.py RESULTS_JSON [LABEL=]SET:BASE:QUERIES[:METRIC] ...

For each set (named LABEL when given, so that one set can be loaded at two
sizes) it loads BASE vectors into a native and a packed collection
(one INSERT ... SELECT each; the packed one trains itself at the end of
it), then searches QUERIES held-out queries in each at the default
settings (and the packed one at every whiplash.recall_target of TARGETS),
on loopback and through the latency proxy.  Figures are means per search,
beside the recall the collection's calibration estimated for its plans.
WL_FORMATS_FORMATS (native,packed) chooses the formats, and an empty
WL_FORMATS_TARGETS skips the sweep.
"""
import base64
import json
import os
import statistics
import subprocess
import sys
import time

BENCH = os.path.dirname(os.path.abspath(__file__))
TOOLS = os.path.join(os.path.dirname(BENCH), "tools")
sys.path.insert(0, TOOLS)
from pricing import item_size  # noqa: E402

import boto3  # noqa: E402

from benchlib import log, psql  # noqa: E402

# COPY ... FROM PROGRAM runs it as the server, which does not share our
# environment: the word vectors' folders go on its command line.
DATASETS = " ".join(f"{name}={os.environ.get(name, '')}" for name in (
    "WL_BENCH_WORDS", "WL_BENCH_DOCS", "WL_BENCH_TEXT384", "WL_BENCH_LOWCONTRAST",
    "WL_BENCH_GEN384", "WL_BENCH_GEN768", "WL_BENCH_GEN1536")) + \
    f" /usr/bin/python3 {BENCH}/datasets.py"
PRICED = os.environ["WL_FORMATS_PRICED"]        # sigcheck proxy: /__stats
FAR = os.environ["WL_FORMATS_FAR"]              # latency proxy in front of it
DIRECT = os.environ["WL_FORMATS_DIRECT"]
TARGETS = [float(x) for x in os.environ.get("WL_FORMATS_TARGETS", "0.8,0.9,0.95,0.99").split(",") if x]
FORMATS = os.environ.get("WL_FORMATS_FORMATS", "native,packed").split(",")
FAR_QUERIES = int(os.environ.get("WL_FORMATS_FAR_QUERIES", "200"))
ITEM_OVERHEAD = 100    # bytes DynamoDB bills per item for storage


def proxy_stats():
    out = subprocess.run(["curl", "-sf", PRICED + "/__stats"], text=True, capture_output=True, check=True)
    return json.loads(out.stdout)


def setup():
    psql(f"""
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS whiplash;
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint '{PRICED}');
CREATE SERVER far FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint '{FAR}');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb OPTIONS (access_key_id 'bench', secret_access_key 'bench');
CREATE USER MAPPING FOR CURRENT_USER SERVER far OPTIONS (access_key_id 'bench', secret_access_key 'bench');
SELECT whiplash_setup('ddb');
""")


def load_set(name, source, nbase, nqueries):
    """Local tables {name}_base, {name}_queries and {name}_truth, of the
    data set source (datasets.py)."""
    psql(f"""
CREATE TABLE {name}_base (id text, v real[]);
CREATE TABLE {name}_queries (n serial, id text, v real[]);
CREATE TABLE {name}_truth (query text, id text, rank int);
COPY {name}_base FROM PROGRAM '{DATASETS} rows {source} base 0 {nbase}';
COPY {name}_queries (id, v) FROM PROGRAM '{DATASETS} rows {source} queries 0 {nqueries}';
COPY {name}_truth FROM PROGRAM '{DATASETS} truth {source} {nbase} {nqueries} 10';
""")


def make_collection(name, coll, dims, metric, fmt):
    """Creates and fills a collection; returns what the load sent."""
    psql(f"""
SELECT collection FROM whiplash_create_collection('ddb', '{coll}', {dims}, metric => '{metric}',
                                                 seed => 1, format => '{fmt}');
CREATE FOREIGN TABLE {coll} (id text, vector real[]) SERVER ddb OPTIONS (collection '{coll}');
CREATE FOREIGN TABLE {coll}_far (id text, vector real[]) SERVER far OPTIONS (collection '{coll}');
""")
    before = proxy_stats()
    start = time.monotonic()
    psql(f"SET client_min_messages = warning; INSERT INTO {coll} SELECT id, v FROM {name}_base;")
    seconds = time.monotonic() - start
    # Index builds run in the background: search the index the load leads to.
    psql(f"SELECT whiplash_wait_for_index('{coll}');")
    index_seconds = time.monotonic() - start - seconds
    after = proxy_stats()
    return {"load_seconds": seconds, "index_seconds": index_seconds,
            "load_requests": after["requests"] - before["requests"],
            "load_write_units": after["reported_write_units"] - before["reported_write_units"]}


def search(name, table, nqueries, settings=""):
    """Searches the first nqueries queries in one session; returns a summary."""
    before = proxy_stats()
    rows = psql(f"""
SET client_min_messages = warning;
{settings}
CREATE TEMP TABLE found (query text, id text);
CREATE TEMP TABLE costs (query text, ms float8, requests bigint, round_trips bigint,
                         bytes_read bigint, plan text, estimate float8);
SELECT count(*) FROM whiplash_search('{table}', (SELECT v FROM {name}_queries WHERE n = 1), 10);
DO $$
DECLARE
  q record;
  t0 timestamptz;
BEGIN
  FOR q IN SELECT id, v FROM {name}_queries WHERE n <= {nqueries} ORDER BY n LOOP
    t0 := clock_timestamp();
    INSERT INTO found SELECT q.id, s.id FROM whiplash_search('{table}', q.v, 10) s;
    INSERT INTO costs SELECT q.id, extract(epoch FROM clock_timestamp() - t0) * 1000,
                             requests, round_trips, bytes_read, plan, estimated_recall
                        FROM whiplash_last_search();
  END LOOP;
END $$;
SELECT c.ms, c.requests, c.round_trips, c.bytes_read, c.plan,
       (SELECT count(*) FROM found f JOIN {name}_truth t USING (query, id) WHERE f.query = c.query),
       coalesce(c.estimate, -1)
  FROM costs c;
""")
    after = proxy_stats()
    rows = [r for r in rows if len(r) == 7]
    ms = sorted(float(r[0]) for r in rows)
    n = len(rows)
    searches = n + 1   # the warm-up search
    plans = {}
    for r in rows:
        plans[r[4]] = plans.get(r[4], 0) + 1
    return {
        "queries": n,
        "recall_at_10": sum(int(r[5]) for r in rows) / (10 * n),
        "read_units": (after["read_units"] - before["read_units"]) / searches,
        "proxy_requests": (after["requests"] - before["requests"]) / searches,
        "requests": statistics.fmean(float(r[1]) for r in rows),
        "round_trips_max": max(int(r[2]) for r in rows),
        "bytes_read": statistics.fmean(float(r[3]) for r in rows),
        "p50_ms": ms[n // 2],
        "p95_ms": ms[min(n - 1, int(n * 0.95))],
        "plans": plans,
        "estimated_recall": statistics.fmean(float(r[6]) for r in rows),
    }


def wire(value):
    """An item or value as boto3 returns it, with binary as DynamoDB's JSON
    spells it (base64), for pricing.item_size."""
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: wire(v) for k, v in value.items()}
    if isinstance(value, list):
        return [wire(v) for v in value]
    return value


def storage(coll):
    """Bytes DynamoDB bills to store the collection's items, with the 100
    bytes of overhead per item, and the item count (both tables)."""
    rows = psql(f"SELECT vectors_table, buckets_table FROM whiplash_collections('ddb') "
                f"WHERE collection = '{coll}'")
    ddb = boto3.client("dynamodb", endpoint_url=DIRECT, region_name="us-east-1",
                       aws_access_key_id="bench", aws_secret_access_key="bench")
    total = 0
    items = 0
    for table in rows[0]:
        for page in ddb.get_paginator("scan").paginate(TableName=table):
            for item in page["Items"]:
                total += item_size(wire(item)) + ITEM_OVERHEAD
                items += 1
    return {"storage_bytes": total, "items": items}


def main(out_path, specs):
    setup()
    results = []
    for spec in specs:
        name, nbase, nqueries, *rest = spec.split(":")
        name, named, source = name.partition("=")
        source = source if named else name
        nbase, nqueries = int(nbase), int(nqueries)
        metric = rest[0] if rest else "l2"
        log(f"{name}: loading {nbase} base vectors, {nqueries} queries and their truth")
        load_set(name, source, nbase, nqueries)
        dims = int(psql(f"SELECT cardinality(v) FROM {name}_base LIMIT 1")[0][0])
        id_vector_bytes = float(psql(f"SELECT avg(octet_length(id)) + 4 * {dims} FROM {name}_base")[0][0])
        for fmt in FORMATS:
            coll = f"{name}_{fmt}"
            log(f"{coll}: loading")
            entry = {"set": name, "format": fmt, "vectors": nbase, "dims": dims, "metric": metric,
                     "id_vector_bytes": id_vector_bytes}
            entry.update(make_collection(name, coll, dims, metric, fmt))
            entry.update(storage(coll))
            log(f"{coll}: searching")
            entry["default"] = search(name, coll, nqueries)
            entry["far"] = search(name, f"{coll}_far", min(nqueries, FAR_QUERIES))
            if fmt == "packed" and TARGETS:
                entry["targets"] = {}
                for target in TARGETS:
                    entry["targets"][str(target)] = search(
                        name, coll, nqueries, f"SET whiplash.recall_target = {target};")
            log(f"{coll}: {json.dumps(entry['default'])}")
            results.append(entry)
            with open(out_path, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
