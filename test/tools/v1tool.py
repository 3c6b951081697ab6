#!/usr/bin/python3
"""Independent tools for whiplash's tests, written with boto3 and numpy.

They act as the original Python library (whiplash-client 0.1.1) would, from
the format described in shared/ORIGINAL_WHIPLASH.md, and inspect DynamoDB
directly, so that tests compare the extension against something it does
not share code with.

  v1tool.py ENDPOINT create PROJECT STAGE NAME CSV_GZ FIRST COUNT
      create a v1 collection (metadata, tables) and insert rows FIRST ..
      FIRST+COUNT-1 of a digits-style CSV (features..., label) as ids "d<row>"
  v1tool.py ENDPOINT search PROJECT STAGE NAME K V1,V2,...
      the original's search: print "candidates N" then the k ids, closest first
  v1tool.py ENDPOINT count TABLE
      print the number of items in a table
  v1tool.py ENDPOINT drop PROJECT STAGE NAME
      delete a v1 collection's tables and metadata item
  v1tool.py ENDPOINT item TABLE ID
      print a vector item's attributes other than vector and keys, as
      DynamoDB JSON with sorted keys: the types any DynamoDB tool sees
  v1tool.py ENDPOINT put-attribute TABLE ID NAME DYNAMODB_JSON
      set one attribute of an item, as another tool would
  v1tool.py ENDPOINT put-item TABLE ITEM_JSON
  v1tool.py ENDPOINT delete-item TABLE KEY_JSON
  v1tool.py ENDPOINT delete-table TABLE
      write or delete one item (DynamoDB JSON) behind whiplash's back
  v1tool.py ENDPOINT dump ID FILE_GZ
      write a collection (its metadata item, whose id is ID, and every item
      of the tables it names) to a gzipped file of JSON lines, binary
      values in base64: a fixture of a collection as a release wrote it
  v1tool.py ENDPOINT restore FILE_GZ
      create the tables of a dump and write its items back
  v1tool.py ENDPOINT record-names ID
      count a packed collection's records by the form of their names and keys
"""
import base64
import json
import gzip
import os
import sys

import boto3
import numpy as np


def client(endpoint):
    """A DynamoDB client for the test server, with the test credentials."""
    return boto3.client(
        "dynamodb", endpoint_url=endpoint, region_name="us-east-1",
        aws_access_key_id=os.environ.get("WHIPLASH_KEY", "whiplashtestkey"),
        aws_secret_access_key=os.environ.get("WHIPLASH_SECRET", "whiplashtestsecret"))


def base36(n):
    """The original's bucket key: base 36, upper case, no padding."""
    digits = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    out = ""
    while True:
        out = digits[n % 36] + out
        n //= 36
        if n == 0:
            return out


def keys_of(planes, vector):
    """The bucket key of a vector in every table (bit 0 most significant)."""
    keys = []
    for plane in planes:
        bits = (np.dot(vector.astype(np.float64), plane) >= 0).astype(int)
        keys.append(base36(int("".join(map(str, bits)), 2)))
    return keys


def load_planes(ddb, cid):
    """The planes stored in a v1 metadata item."""
    item = ddb.get_item(TableName="whiplash_metadata", Key={"id": {"S": cid}},
                        ConsistentRead=True)["Item"]
    n_features = int(item["n_features"]["N"])
    planes = []
    for i in range(int(item["n_planes"]["N"])):
        raw = item["uniform_planes"]["M"][str(i)]["B"]
        planes.append(np.frombuffer(raw, dtype="<f8").reshape(n_features, -1))
    return planes


def wait_active(ddb, table):
    ddb.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 0.1})


def create(ddb, project, stage, name, csv_gz, first, count):
    cid = f"{project}_{stage}_{name}"
    with gzip.open(csv_gz, "rt") as f:
        rows = [list(map(float, line.split(","))) for line in f][first:first + count]
    data = np.array([r[:-1] for r in rows], dtype=np.float32)
    n_features, n_planes, bit_start, bit_scale = data.shape[1], 6, 8, 2
    rng = np.random.default_rng(7)
    planes = [rng.standard_normal((n_features, int(bit_start + i * bit_scale)))
              for i in range(n_planes)]
    for suffix in ("vectors", "buckets"):
        ddb.create_table(TableName=f"{cid}_{suffix}", BillingMode="PAY_PER_REQUEST",
                         AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
                         KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}])
        wait_active(ddb, f"{cid}_{suffix}")
    ddb.put_item(TableName="whiplash_metadata", Item={
        "id": {"S": cid}, "name": {"S": name}, "region": {"S": "us-east-1"},
        "stage": {"S": stage}, "project_name": {"S": project},
        "n_features": {"N": str(n_features)}, "n_planes": {"N": str(n_planes)},
        "bit_start": {"N": str(bit_start)}, "bit_scale_factor": {"N": str(bit_scale)},
        "uniform_planes": {"M": {str(i): {"B": p.astype("<f8").tobytes()}
                                 for i, p in enumerate(planes)}}})
    for row, vector in enumerate(data):
        vid = f"d{first + row}"
        ddb.put_item(TableName=f"{cid}_vectors",
                     Item={"id": {"S": vid}, "vector": {"B": vector.astype("<f4").tobytes()}})
        for key in keys_of(planes, vector):
            ddb.update_item(TableName=f"{cid}_buckets", Key={"id": {"S": key}},
                            UpdateExpression="ADD ids :i",
                            ExpressionAttributeValues={":i": {"SS": [vid]}})


def batch_get(ddb, table, ids):
    """Every item of ids, 100 keys a call, following UnprocessedKeys."""
    items = []
    ids = list(ids)
    for start in range(0, len(ids), 100):
        request = {table: {"Keys": [{"id": {"S": i}} for i in ids[start:start + 100]]}}
        while request:
            answer = ddb.batch_get_item(RequestItems=request)
            items += answer["Responses"].get(table, [])
            request = answer.get("UnprocessedKeys")
    return items


def search(ddb, project, stage, name, k, query):
    cid = f"{project}_{stage}_{name}"
    planes = load_planes(ddb, cid)
    query = np.array(query, dtype=np.float32)
    keys = sorted(set(keys_of(planes, query)))
    candidates = set()
    for item in batch_get(ddb, f"{cid}_buckets", keys):
        candidates.update(item.get("ids", {}).get("SS", []))
    scored = []
    for item in batch_get(ddb, f"{cid}_vectors", candidates):
        vector = np.frombuffer(item["vector"]["B"], dtype="<f4")
        scored.append((float(np.linalg.norm(vector - query)), item["id"]["S"]))
    print(f"candidates {len(candidates)}")
    for distance, vid in sorted(scored)[:k]:
        print(vid)


def count(ddb, table):
    total, start = 0, None
    while True:
        args = {"TableName": table, "Select": "COUNT"}
        if start:
            args["ExclusiveStartKey"] = start
        answer = ddb.scan(**args)
        total += answer["Count"]
        start = answer.get("LastEvaluatedKey")
        if not start:
            print(total)
            return


def drop(ddb, project, stage, name):
    cid = f"{project}_{stage}_{name}"
    for suffix in ("vectors", "buckets"):
        ddb.delete_table(TableName=f"{cid}_{suffix}")
    ddb.delete_item(TableName="whiplash_metadata", Key={"id": {"S": cid}})


def item(ddb, table, item_id):
    got = ddb.get_item(TableName=table, Key={"id": {"S": item_id}}, ConsistentRead=True)
    attrs = {k: v for k, v in got.get("Item", {}).items() if k not in ("vector", "keys")}
    print(json.dumps(attrs, sort_keys=True))


def put_attribute(ddb, table, item_id, name, value):
    ddb.update_item(TableName=table, Key={"id": {"S": item_id}},
                    UpdateExpression="SET #n = :v", ExpressionAttributeNames={"#n": name},
                    ExpressionAttributeValues={":v": json.loads(value)})
    print("ok")


def put_item(ddb, table, item_json):
    ddb.put_item(TableName=table, Item=json.loads(item_json))
    print("ok")


def delete_item(ddb, table, key_json):
    ddb.delete_item(TableName=table, Key=json.loads(key_json))
    print("ok")


def delete_table(ddb, table):
    ddb.delete_table(TableName=table)
    print("ok")


def delete_entries(ddb, table, bucket_prefix, item_id):
    """Deletes every bucket entry of item_id in buckets beginning with
    bucket_prefix, whatever fine bits lead its sort key."""
    deleted = 0
    for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
        for entry in page["Items"]:
            sort = entry["id"]["S"]
            if entry["bucket"]["S"].startswith(bucket_prefix) and \
                    (sort == item_id or sort.endswith("/" + item_id)):
                ddb.delete_item(TableName=table, Key={"bucket": entry["bucket"], "id": entry["id"]})
                deleted += 1
    print(f"deleted {deleted}")


def encode_binary(value):
    """A DynamoDB JSON value with bytes (B, BS, nested) in base64."""
    if isinstance(value, dict):
        return {k: (base64.b64encode(v).decode() if k == "B" else
                    [base64.b64encode(b).decode() for b in v] if k == "BS" else
                    encode_binary(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [encode_binary(v) for v in value]
    return value


def decode_binary(value):
    """The inverse of encode_binary."""
    if isinstance(value, dict):
        return {k: (base64.b64decode(v) if k == "B" else
                    [base64.b64decode(b) for b in v] if k == "BS" else
                    decode_binary(v)) for k, v in value.items()}
    if isinstance(value, list):
        return [decode_binary(v) for v in value]
    return value


def dump(ddb, cid, path):
    meta = ddb.get_item(TableName="whiplash_metadata", Key={"id": {"S": cid}},
                        ConsistentRead=True)["Item"]
    tables = [meta["vectors_table"]["S"], meta["buckets_table"]["S"]]
    with gzip.open(path, "wt") as out:
        for table in tables:
            schema = ddb.describe_table(TableName=table)["Table"]
            out.write(json.dumps({"table": table, "keys": schema["KeySchema"],
                                  "attributes": schema["AttributeDefinitions"]}) + "\n")
        lines = []
        for table in tables:
            for page in ddb.get_paginator("scan").paginate(TableName=table, ConsistentRead=True):
                for entry in page["Items"]:
                    lines.append(json.dumps({"put": table, "item": encode_binary(entry)},
                                            sort_keys=True))
        for line in sorted(lines):
            out.write(line + "\n")
        out.write(json.dumps({"put": "whiplash_metadata", "item": encode_binary(meta)},
                             sort_keys=True) + "\n")
    print(f"dumped {len(lines)} items")


def record_names(ddb, cid):
    """Counts a packed collection's records by the form of their names:
    plain ("~<id>") and compact UUIDs ("^<22 characters>"); and by the form
    of their keys: in a partition of a cell ("<gen>/<table>:<cell>") or of
    a block of cells ("<gen>/b:<block>")."""
    meta = ddb.get_item(TableName="whiplash_metadata", Key={"id": {"S": cid}},
                        ConsistentRead=True)["Item"]
    counts = {"plain": 0, "uuid": 0, "in cells": 0, "in blocks": 0}
    for page in ddb.get_paginator("scan").paginate(TableName=meta["buckets_table"]["S"],
                                                   ConsistentRead=True):
        for entry in page["Items"]:
            blocked = "/b:" in entry["bucket"]["S"]
            for name in entry:
                if name.startswith("~"):
                    counts["plain"] += 1
                elif name.startswith("^"):
                    counts["uuid"] += 1
                else:
                    continue
                counts["in blocks" if blocked else "in cells"] += 1
    for form, n in counts.items():
        print(f"{form} {n}")


def restore(ddb, path):
    items = 0
    with gzip.open(path, "rt") as dumped:
        for line in dumped:
            record = json.loads(line)
            if "table" in record:
                ddb.create_table(TableName=record["table"], KeySchema=record["keys"],
                                 AttributeDefinitions=record["attributes"],
                                 BillingMode="PAY_PER_REQUEST")
                wait_active(ddb, record["table"])
            else:
                ddb.put_item(TableName=record["put"], Item=decode_binary(record["item"]))
                items += 1
    print(f"restored {items} items")


def main(argv):
    ddb = client(argv[1])
    command = argv[2]
    if command == "create":
        create(ddb, argv[3], argv[4], argv[5], argv[6], int(argv[7]), int(argv[8]))
    elif command == "search":
        search(ddb, argv[3], argv[4], argv[5], int(argv[6]), [float(x) for x in argv[7].split(",")])
    elif command == "count":
        count(ddb, argv[3])
    elif command == "drop":
        drop(ddb, argv[3], argv[4], argv[5])
    elif command == "item":
        item(ddb, argv[3], argv[4])
    elif command == "put-attribute":
        put_attribute(ddb, argv[3], argv[4], argv[5], argv[6])
    elif command == "put-item":
        put_item(ddb, argv[3], argv[4])
    elif command == "delete-item":
        delete_item(ddb, argv[3], argv[4])
    elif command == "delete-table":
        delete_table(ddb, argv[3])
    elif command == "dump":
        dump(ddb, argv[3], argv[4])
    elif command == "record-names":
        record_names(ddb, argv[3])
    elif command == "restore":
        restore(ddb, argv[3])
    elif command == "delete-entries":
        delete_entries(ddb, argv[3], argv[4], argv[5])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main(sys.argv)
