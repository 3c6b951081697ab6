#!/usr/bin/python3
"""The original whiplash library's own API client, unchanged, against
whiplash-api: create, list and get a collection, insert one item and a
batch, get an item and search, each compared with SQL.  Run by
test/api/api.sh when ORIGINAL_WHIPLASH_DIR names a checkout of
ericmillsio/whiplash (its client needs Debian's python3-requests,
python3-numpy, python3-xxhash and python3-boto3); prints TAP lines from
WL_TAP_START on."""

import os
import random
import subprocess
import sys
import uuid

import numpy as np

sys.path.insert(0, os.environ["ORIGINAL_WHIPLASH_DIR"])
from whiplash.api.client import Whiplash  # noqa: E402
from whiplash.api.client.vector import Vector  # noqa: E402

URL = os.environ["WL_API_URL"]
KEY = os.environ["WL_WRITER_KEY"]
PROJECT = os.environ["WL_PROJECT"]
DIMS = 16
number = int(os.environ.get("WL_TAP_START", "1"))
failed = 0


def check(name, ok, detail=""):
    """One TAP line."""
    global number, failed
    print(f"{'ok' if ok else 'not ok'} {number} - {name}")
    if not ok:
        failed += 1
        if detail:
            print(f"#   {detail}")
    number += 1


def sql(query):
    """Rows of a query, as lists of text fields."""
    out = subprocess.run(["psql", "-X", "-A", "-t", "-F", "\t", "-v", "ON_ERROR_STOP=1", "-c", query],
                         capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


def literal(vector):
    return "'{" + ",".join(repr(float(x)) for x in vector) + "}'::real[]"


rng = random.Random(11)
client = Whiplash(URL, KEY, project_name=PROJECT)
collection = client.create_collection("origclient", n_features=DIMS)
check("the original client creates a collection (name, n_features and its LSH defaults)",
      collection.metadata.get("name") == "origclient" and collection.metadata.get("n_features") == DIMS,
      f"metadata {collection.metadata}")
names = [c.name for c in client.get_collections()]
check("... lists it", "origclient" in names, f"names {names}")
collection = client.get_collection("origclient")
check("... gets it", collection is not None and collection.metadata.get("table") == "public.origclient")

vectors = [Vector(str(uuid.UUID(int=rng.getrandbits(128))), [rng.uniform(-1, 1) for _ in range(DIMS)])
           for _ in range(300)]
collection.insert(vectors[0])
collection.insert_batch(vectors[1:])
stored = {row[0]: row[1] for row in sql("SELECT id, vector FROM origclient")}
want = {v.id: "{" + ",".join(repr(float(np.float32(x))) for x in v.vector) + "}" for v in vectors}
same = len(stored) == 300 and all(
    np.allclose(np.array(stored[i].strip("{}").split(","), dtype=np.float32),
                np.array(want[i].strip("{}").split(","), dtype=np.float32), rtol=0, atol=0)
    for i in want if i in stored)
check("... inserts one item and a batch of 299: SQL holds the 300, as float32", same,
      f"{len(stored)} stored")

item = collection.get_item(vectors[7].id)
check("... gets an item equal to what it sent, as float32",
      item.id == vectors[7].id and np.array_equal(np.float32(item.vector), np.float32(vectors[7].vector)))

differ = 0
for _ in range(20):
    query = [rng.uniform(-1, 1) for _ in range(DIMS)]
    hits = collection.search(query, limit=10)
    rows = sql(f"SELECT id, distance FROM whiplash_search('public.origclient', {literal(query)}, 10)")
    got = [(h.id, h.dist) for h in hits]
    expect = [(r[0], float(r[1])) for r in rows]
    if [g[0] for g in got] != [e[0] for e in expect] or any(
            abs(g[1] - e[1]) > 1e-12 * max(1.0, abs(e[1])) for g, e in zip(got, expect)):
        differ += 1
check("... searches: 20 searches of 10, ids and distances equal whiplash_search in SQL",
      differ == 0, f"{differ} of 20 differ")
sql("DROP FOREIGN TABLE origclient")
sql(f"SELECT whiplash_drop_collection('ddb', 'origclient')")
sys.exit(1 if failed else 0)
