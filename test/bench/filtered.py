#!/usr/bin/python3
"""Filtered searches through a foreign table's WHERE, data set by data set:
recall@10 against exact filtered brute force, what a search costs as
DynamoDB bills it, and what EXPLAIN (VERBOSE) estimated beforehand.
test/bench/filtered.sh runs it inside pg_virtualenv with dynalite behind
the SigV4-checking proxy, which prices every read (test/tools/pricing.py).

  filtered.py RESULTS_JSON SET:BASE:QUERIES[:METRIC] ...

For each set it loads BASE vectors into two packed collections whose
foreign tables have an integer column `tag`, vector i's tag being i % 1000
(as datasets.py's filtered truth counts them): in one the column is plain,
so the filter is checked on each fetched vector; in the other it is
filterable (OPTIONS (filterable 'true')), so the index's records carry it
and a search drops the records that fail before fetching.  It ANALYZEs
each table, then runs
QUERIES held-out queries as `SELECT id FROM t WHERE <predicate> ORDER BY
vector <op> q LIMIT 10` for each predicate of PREDICATES: none, and ones
that 10%, 1% and 0.1% of the vectors pass, and one that none passes.
Figures are means per search; the estimate is EXPLAIN (VERBOSE)'s, the
same for every query of a predicate.
"""
import json
import os
import re
import statistics
import sys

from benchlib import log, psql
from formats import DATASETS, proxy_stats, setup

# (label, WHERE clause, datasets.py truth's TAGS: tags below it pass)
PREDICATES = [("unfiltered", "true", 1000), ("10%", "tag < 100", 100),
              ("1%", "tag < 10", 10), ("0.1%", "tag = 0", 1), ("none", "tag = 1000", 0)]
OPERATORS = {"l2": "<->", "cosine": "<=>"}
# Which tables to measure: "plain" (tag checked on fetched vectors) and
# "records" (tag filterable); WL_FILTERED_MODES=records measures one.
MODES = os.environ.get("WL_FILTERED_MODES", "plain,records").split(",")


def load(name, source, nbase, nqueries):
    """Local tables {name}_base (with each vector's index n), {name}_queries
    and {name}_truth (the exact nearest of each predicate, by its TAGS)."""
    sql = f"""
CREATE TABLE {name}_base (n serial, id text, v real[]);
CREATE TABLE {name}_queries (n serial, id text, v real[]);
CREATE TABLE {name}_truth (query text, id text, rank int, tags int);
COPY {name}_base (id, v) FROM PROGRAM '{DATASETS} rows {source} base 0 {nbase}';
COPY {name}_queries (id, v) FROM PROGRAM '{DATASETS} rows {source} queries 0 {nqueries}';
"""
    for _, _, tags in PREDICATES:
        sql += f"""
COPY {name}_truth (query, id, rank) FROM PROGRAM '{DATASETS} truth {source} {nbase} {nqueries} 10 {tags}';
UPDATE {name}_truth SET tags = {tags} WHERE tags IS NULL;
"""
    psql(sql)


def make_collection(name, coll, dims, metric, records):
    """A packed collection of the base vectors, tagged (in its records too,
    when records), its index built and its foreign table analyzed."""
    option = " OPTIONS (filterable 'true')" if records else ""
    psql(f"""
SELECT collection FROM whiplash_create_collection('ddb', '{coll}', {dims}, metric => '{metric}',
                                                 seed => 1);
CREATE FOREIGN TABLE {coll} (id text, vector real[], tag int{option})
  SERVER ddb OPTIONS (collection '{coll}');
SET client_min_messages = warning;
INSERT INTO {coll} SELECT id, v, (n - 1) % 1000 FROM {name}_base;
SELECT whiplash_wait_for_index('{coll}');
ANALYZE {coll};
""")


def estimate(name, coll, op, where):
    """EXPLAIN (VERBOSE)'s read units and rounds for a predicate's search."""
    lines = psql(f"""
EXPLAIN (VERBOSE, FORMAT JSON)
SELECT id FROM {coll} WHERE {where}
 ORDER BY vector {op} (SELECT v FROM {name}_queries WHERE n = 1) LIMIT 10;
""")
    nodes = [json.loads("\n".join("\t".join(line) for line in lines))[0]["Plan"]]
    while nodes[0].get("Node Type") != "Foreign Scan":
        nodes = nodes[1:] + nodes[0].get("Plans", [])
    node = nodes[0]
    units = float(re.search(r"about ([0-9.]+) read units", node["Search"]).group(1))
    rounds = re.search(r"up to ([0-9]+) rounds?", node.get("Filter Estimate", ""))
    return {"estimated_units": units, "estimated_rounds": int(rounds.group(1)) if rounds else 1,
            "filter_estimate": node.get("Filter Estimate", "")}


def search(name, coll, op, where, tags, nqueries):
    """Searches the first nqueries queries in one session; returns a summary."""
    before = proxy_stats()
    rows = psql(f"""
SET client_min_messages = warning;
CREATE TEMP TABLE found (query text, id text);
CREATE TEMP TABLE costs (query text, requests bigint, round_trips bigint, rounds int, results int);
DO $$
DECLARE
  q record;
BEGIN
  FOR q IN SELECT id, v FROM {name}_queries WHERE n <= {nqueries} ORDER BY n LOOP
    INSERT INTO found
      SELECT q.id, f.id FROM (SELECT id FROM {coll} WHERE {where}
                               ORDER BY vector {op} q.v LIMIT 10) f;
    INSERT INTO costs SELECT q.id, requests, round_trips, rounds, results
                        FROM whiplash_last_search();
  END LOOP;
END $$;
SELECT c.requests, c.round_trips, c.rounds, c.results,
       (SELECT count(*) FROM found f JOIN {name}_truth t USING (query, id)
         WHERE f.query = c.query AND t.tags = {tags}),
       (SELECT count(*) FROM {name}_truth t WHERE t.query = c.query AND t.tags = {tags})
  FROM costs c;
""")
    after = proxy_stats()
    n = len(rows)
    truth = sum(int(r[5]) for r in rows)
    return {
        "queries": n,
        "recall_at_10": sum(int(r[4]) for r in rows) / truth if truth else None,
        "rows": statistics.fmean(int(r[3]) for r in rows),
        "read_units": (after["read_units"] - before["read_units"]) / n,
        "proxy_requests": (after["requests"] - before["requests"]) / n,
        "round_trips_max": max(int(r[1]) for r in rows),
        "rounds_max": max(int(r[2]) for r in rows),
    }


def kept_results(out_path):
    """The entries of an earlier run for the modes this one does not measure
    (WL_FILTERED_MODES), so that the report still shows them."""
    if not os.path.exists(out_path):
        return []
    with open(out_path) as f:
        earlier = json.load(f)
    return [e for e in earlier if ("records" if e.get("records") else "plain") not in MODES]


def main(out_path, specs):
    setup()
    results = kept_results(out_path)
    for spec in specs:
        name, nbase, nqueries, *rest = spec.split(":")
        nbase, nqueries = int(nbase), int(nqueries)
        metric = rest[0] if rest else "l2"
        log(f"{name}: loading {nbase} base vectors, {nqueries} queries and their filtered truth")
        load(name, name, nbase, nqueries)
        dims = int(psql(f"SELECT cardinality(v) FROM {name}_base LIMIT 1")[0][0])
        for records in [mode == "records" for mode in MODES]:
            coll = f"{name}_records" if records else f"{name}_tagged"
            make_collection(name, coll, dims, metric, records)
            for label, where, tags in PREDICATES:
                entry = {"set": name, "vectors": nbase, "dims": dims, "metric": metric,
                         "records": records, "predicate": label, "where": where}
                entry.update(estimate(name, coll, OPERATORS[metric], where))
                entry.update(search(name, coll, OPERATORS[metric], where, tags, nqueries))
                log(f"{coll} {label}: {json.dumps(entry)}")
                results.append(entry)
                with open(out_path, "w") as f:
                    json.dump(results, f, indent=1)
            psql(f"SELECT whiplash_drop_collection('ddb', '{coll}')")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
