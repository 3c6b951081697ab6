#!/usr/bin/env bash
# Builds test/bench/build/replay and tests it, together with
# test/bench/record_proxy.py, against dynalite on 127.0.0.1: boto3 writes
# 500 items to each of two tables through the record proxy, then runs 20
# marked units of 10 Queries and 1 BatchGetItem of 50 keys; replay's three
# modes replay the log against dynalite directly, and their figures are
# checked.  Exits non-zero if a check fails.
#   bash test/bench/replay.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
source test/tools/deps.sh
WL_LOG_DIR=$(mktemp -d -t whiplash-replay.XXXXXX)
source test/tools/servers.sh
wl_install_deps
trap wl_stop_all EXIT

DDB_PORT=18431
PROXY_PORT=18432
UNITS=20
LOG="$WL_LOG_DIR/requests.jsonl"

mkdir -p test/bench/build
cc -std=gnu11 -O2 -Wall -Wextra -Werror -I src/core -o test/bench/build/replay \
    test/bench/replay.c src/core/dynamodb.c src/core/http.c src/core/sigv4.c \
    -lcurl -ljson-c -lcrypto -lpthread

wl_start_dynalite "$DDB_PORT"
wl_start_record "$PROXY_PORT" "$DDB_PORT" "$LOG"

# Records the traffic; prints the number of items boto3 put.
ITEMS=$(/usr/bin/python3 - "http://127.0.0.1:$PROXY_PORT" "$UNITS" <<'EOF'
import random
import subprocess
import sys

import boto3

endpoint, units = sys.argv[1], int(sys.argv[2])
dynamodb = boto3.resource("dynamodb", endpoint_url=endpoint, region_name="us-east-1",
                          aws_access_key_id="bench", aws_secret_access_key="bench")
client = dynamodb.meta.client
random.seed(1)
buckets = dynamodb.create_table(
    TableName="buckets", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "bucket", "KeyType": "HASH"}, {"AttributeName": "id", "KeyType": "RANGE"}],
    AttributeDefinitions=[{"AttributeName": "bucket", "AttributeType": "S"},
                          {"AttributeName": "id", "AttributeType": "S"}])
vectors = dynamodb.create_table(
    TableName="vectors", BillingMode="PAY_PER_REQUEST",
    KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}])
buckets.wait_until_exists()
vectors.wait_until_exists()
items = 0
with buckets.batch_writer() as writer:
    for i in range(500):
        writer.put_item(Item={"bucket": f"b{i % 50}", "id": str(i)})
        items += 1
with vectors.batch_writer() as writer:
    for i in range(500):
        writer.put_item(Item={"id": str(i), "vec": random.randbytes(512)})
        items += 1
for unit in range(units):
    subprocess.run(["curl", "-sf", "-X", "POST", "-H", f"X-Bench-Mark: search-{unit}", endpoint + "/"],
                   check=True, stdout=subprocess.DEVNULL)
    for _ in range(10):
        client.query(TableName="buckets", KeyConditionExpression="#b = :b",
                     ExpressionAttributeNames={"#b": "bucket"},
                     ExpressionAttributeValues={":b": f"b{random.randrange(50)}"})
    keys = [{"id": str(i)} for i in random.sample(range(500), 50)]
    client.batch_get_item(RequestItems={"vectors": {"Keys": keys}})
print(items)
EOF
)

REPLAY=test/bench/build/replay
ENDPOINT="http://127.0.0.1:$DDB_PORT"
echo "recorded $(wc -l <"$LOG") log lines; boto3 put $ITEMS items"
$REPLAY floor "$LOG" "$ENDPOINT" --repeat 3 >"$WL_LOG_DIR/floor.out"
$REPLAY throughput "$LOG" "$ENDPOINT" --sessions 4 --seconds 3 >"$WL_LOG_DIR/throughput.out"
$REPLAY writes "$LOG" "$ENDPOINT" >"$WL_LOG_DIR/writes.out"
grep summary "$WL_LOG_DIR"/{floor,throughput,writes}.out | sed 's/^.*\.out://'

# Checks the log and the three outputs; exits 1 with the failed checks.
/usr/bin/python3 - "$WL_LOG_DIR" "$UNITS" "$ITEMS" <<'EOF'
import collections
import json
import sys

folder, units, items = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def lines(name):
    with open(f"{folder}/{name}") as file:
        return [json.loads(line) for line in file]
log = lines("requests.jsonl")
floor = lines("floor.out")
throughput = lines("throughput.out")[-1]
writes = lines("writes.out")[-1]
ops = collections.Counter(entry.get("op", "mark") for entry in log)
unit_lines, summary = floor[:-1], floor[-1]
checks = {
    "log: one mark per unit": ops["mark"] == units,
    "log: every request succeeded": all(entry.get("status", 200) == 200 for entry in log),
    "log: times and sizes": all(entry["end"] >= entry["start"] and entry["bytes"] > 0
                                for entry in log if "op" in entry),
    "floor: one line per unit": [line["unit"] for line in unit_lines] == [f"search-{u}" for u in range(units)],
    "floor: 2 phases, 11 requests a unit": all(line["phases"] == 2 and line["requests"] == 11 and line["ms"] > 0
                                               for line in unit_lines),
    "floor: summary": summary["summary"] == "floor" and summary["units"] == units
                      and summary["requests_per_unit"] == 11 and summary["phases_per_unit"] == 2
                      and 0 < summary["p50_ms"] <= summary["p95_ms"] and summary["mean_ms"] > 0,
    "throughput: summary": throughput["sessions"] == 4 and throughput["units"] > 0
                           and throughput["units_per_s"] > 0
                           and 0 < throughput["p50_ms"] <= throughput["p95_ms"] <= throughput["p99_ms"],
    "writes: every item boto3 put": writes["items"] == items and writes["calls"] == ops["BatchWriteItem"]
                                    and "unprocessed" not in writes and writes["items_per_s"] > 0,
}
for name, passed in checks.items():
    print(("ok    " if passed else "FAILED") + " " + name)
print(f"{sum(checks.values())} passed, {len(checks) - sum(checks.values())} failed")
sys.exit(0 if all(checks.values()) else 1)
EOF
