#!/usr/bin/python3
"""What writes cost, native against packed: requests, write units and read
units per vector inserted, updated and deleted, as the server reports them
(its ConsumedCapacity) and, for reads, as DynamoDB's rules price them.
test/bench/writes.sh runs it inside pg_virtualenv with DynamoDB Local behind
the SigV4-checking proxy, which counts every request by operation.

  writes.py RESULTS_JSON SET:BASE[:METRIC] ...

For each set and format it loads BASE vectors with one INSERT ... SELECT
(a packed collection trains itself at its end), then, one row a statement,
inserts, updates (a new vector) and deletes ROWS vectors, and then does the
same with ROWS rows in one statement.  Last it runs SEARCHES searches, to set
DynamoDB Local's reported read units beside the priced ones.
"""
import json
import os
import subprocess
import sys

BENCH = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, BENCH)
from benchlib import log, psql  # noqa: E402

DATASETS = f"/usr/bin/python3 {BENCH}/datasets.py"
PRICED = os.environ["WL_WRITES_PRICED"]     # sigcheck proxy: /__stats
ROWS = int(os.environ.get("WL_WRITES_ROWS", "200"))
SEARCHES = int(os.environ.get("WL_WRITES_SEARCHES", "200"))


def proxy_stats():
    out = subprocess.run(["curl", "-sf", PRICED + "/__stats"], text=True, capture_output=True,
                         check=True)
    return json.loads(out.stdout)


def measured(sql, vectors):
    """Runs sql; returns what it sent per vector."""
    before = proxy_stats()
    psql("SET client_min_messages = warning;\n" + sql)
    after = proxy_stats()
    operations = {op: (n - before["operations"].get(op, 0)) / vectors
                  for op, n in after["operations"].items()
                  if n != before["operations"].get(op, 0)}
    return {
        "vectors": vectors,
        "requests": (after["requests"] - before["requests"]) / vectors,
        "write_units": (after["reported_write_units"] - before["reported_write_units"]) / vectors,
        "read_units": (after["reported_read_units"] - before["reported_read_units"]) / vectors,
        "priced_read_units": (after["read_units"] - before["read_units"]) / vectors,
        "operations": operations,
    }


def one_a_statement(template, ids):
    """One statement a row, each its own transaction."""
    return "\n".join(template.format(id=i) for i in ids)


def run_format(name, nbase, dims, metric, fmt):
    coll = f"{name}_{fmt}"
    psql(f"""
SELECT collection FROM whiplash_create_collection('ddb', '{coll}', {dims}, metric => '{metric}',
                                                 seed => 1, format => '{fmt}');
CREATE FOREIGN TABLE {coll} (id text, vector real[]) SERVER ddb OPTIONS (collection '{coll}');
""")
    entry = {"set": name, "format": fmt, "vectors": nbase, "dims": dims, "metric": metric}
    log(f"{coll}: loading {nbase}")
    entry["load"] = measured(f"INSERT INTO {coll} SELECT id, v FROM {name}_base;", nbase)
    # the spare rows: ids s0..; new vectors for the updates come from them too
    spare = [f"'s{i}'" for i in range(ROWS)]
    base = [f"'b{i}'" for i in range(ROWS)]
    log(f"{coll}: one row a statement")
    entry["insert_one"] = measured(one_a_statement(
        f"INSERT INTO {coll} SELECT 's' || n, v FROM {name}_spare WHERE n = {{id}};",
        range(ROWS)), ROWS)
    entry["update_one"] = measured(one_a_statement(
        f"UPDATE {coll} SET vector = (SELECT v FROM {name}_spare WHERE n = {ROWS} + {{id}})"
        f" WHERE id = 'b{{id}}';", range(ROWS)), ROWS)
    entry["delete_one"] = measured(one_a_statement(
        f"DELETE FROM {coll} WHERE id = {{id}};", spare), ROWS)
    log(f"{coll}: {ROWS} rows a statement")
    entry["insert_many"] = measured(
        f"INSERT INTO {coll} SELECT 's' || n, v FROM {name}_spare WHERE n < {ROWS};", ROWS)
    entry["update_many"] = measured(
        f"UPDATE {coll} c SET vector = s.v FROM {name}_spare s"
        f" WHERE c.id IN ({', '.join(base)}) AND s.n = {2 * ROWS} + substr(c.id, 2)::int;", ROWS)
    entry["delete_many"] = measured(
        f"DELETE FROM {coll} WHERE id IN ({', '.join(spare)});", ROWS)
    log(f"{coll}: {SEARCHES} searches")
    entry["search"] = measured(f"""
DO $$
DECLARE q record;
BEGIN
  FOR q IN SELECT v FROM {name}_spare WHERE n < {SEARCHES} LOOP
    PERFORM count(*) FROM whiplash_search('{coll}', q.v, 10);
  END LOOP;
END $$;""", SEARCHES)
    log(f"{coll}: {json.dumps(entry)}")
    return entry


def main(out_path, specs):
    psql("""
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS whiplash;
""" + f"""
CREATE SERVER ddb FOREIGN DATA WRAPPER whiplash OPTIONS (endpoint '{PRICED}');
CREATE USER MAPPING FOR CURRENT_USER SERVER ddb OPTIONS (access_key_id 'bench', secret_access_key 'bench');
SELECT whiplash_setup('ddb');
""")
    results = []
    for spec in specs:
        name, nbase, *rest = spec.split(":")
        nbase = int(nbase)
        metric = rest[0] if rest else "l2"
        # base vectors, then 3 * ROWS spare ones (the queries' part) numbered from 0
        psql(f"""
CREATE TABLE {name}_base (id text, v real[]);
CREATE TABLE {name}_spare_load (id text, v real[]);
COPY {name}_base FROM PROGRAM '{DATASETS} rows {name} base 0 {nbase}';
COPY {name}_spare_load FROM PROGRAM '{DATASETS} rows {name} queries 0 {3 * ROWS}';
CREATE TABLE {name}_spare AS
  SELECT substr(id, 2)::int AS n, v FROM {name}_spare_load;
""")
        dims = int(psql(f"SELECT cardinality(v) FROM {name}_base LIMIT 1")[0][0])
        for fmt in ("native", "packed"):
            results.append(run_format(name, nbase, dims, metric, fmt))
            with open(out_path, "w") as f:
                json.dump(results, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2:])
