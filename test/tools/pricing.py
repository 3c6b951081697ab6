"""Read units of DynamoDB answers, priced by DynamoDB's billing rules.

Used by the SigV4-checking proxy to count what the extension's reads would
cost on AWS, from the requests it sends and the items they return:

- Query and Scan add up the sizes of a page's items and round once up to
  4 KB;
- GetItem and BatchGetItem round every item up to 4 KB;
- a GetItem, Query or Scan that finds nothing still costs one unit;
- eventually consistent reads (the default) cost half.

The items are priced as they come back.  A projection returns less than the
whole item, which DynamoDB bills for, so such reads are priced low; the
extension's searches read whole items.  Item sizes follow DynamoDB's
documented rules: attribute names plus values, numbers at one byte per two
significant digits plus one, lists and maps three bytes plus one per element.
"""
import base64
import decimal
import json

WRITES = ("PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem")

UNIT_BYTES = 4096


# The size in bytes DynamoDB bills for one attribute value.
def value_size(value):
    (kind, data), = value.items()
    if kind == "S":
        return len(data.encode())
    if kind == "N":
        return number_size(data)
    if kind == "B":
        return len(base64.b64decode(data))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(s.encode()) for s in data)
    if kind == "NS":
        return sum(number_size(n) for n in data)
    if kind == "BS":
        return sum(len(base64.b64decode(b)) for b in data)
    if kind == "L":
        return 3 + sum(1 + value_size(v) for v in data)
    if kind == "M":
        return 3 + sum(1 + len(k.encode()) + value_size(v) for k, v in data.items())
    raise ValueError(f"unknown attribute type {kind!r}")


# Bytes of a number: one per two significant digits, plus one.
def number_size(text):
    digits = decimal.Decimal(text).as_tuple().digits
    significant = "".join(map(str, digits)).strip("0") or "0"
    return (len(significant) + 1) // 2 + 1


# The size of an item: its attributes' names and values.
def item_size(item):
    return sum(len(name.encode()) + value_size(value) for name, value in item.items())


# Units of one read of `size` bytes, at least one, halved when not consistent.
def units(size, consistent):
    whole = max(1, -(-size // UNIT_BYTES))
    return whole if consistent else whole / 2


# The read units of one answered request: (units, items read); (0, 0) for
# writes, table calls and errors.
def read_units(operation, request_body, status, response_body):
    if status != 200 or operation not in ("GetItem", "BatchGetItem", "Query", "Scan"):
        return 0, 0
    request = json.loads(request_body)
    response = json.loads(response_body)
    if operation == "GetItem":
        item = response.get("Item")
        size = item_size(item) if item else 0
        return units(size, request.get("ConsistentRead", False)), 1 if item else 0
    if operation in ("Query", "Scan"):
        items = response.get("Items", [])
        return units(sum(map(item_size, items)), request.get("ConsistentRead", False)), len(items)
    total = 0
    count = 0
    for table, items in response.get("Responses", {}).items():
        consistent = request["RequestItems"].get(table, {}).get("ConsistentRead", False)
        for item in items:
            total += units(item_size(item), consistent)
            count += 1
    return total, count


# The capacity units an answer reports (its ConsumedCapacity: an object, or
# an array for batch operations), as ("read" or "write", units); None when
# it reports none.  The server's own figures, beside the priced ones.
def reported_units(operation, status, response_body):
    if status != 200:
        return None
    consumed = json.loads(response_body).get("ConsumedCapacity")
    if consumed is None:
        return None
    if isinstance(consumed, dict):
        consumed = [consumed]
    total = sum(float(c.get("CapacityUnits", 0)) for c in consumed)
    return ("write" if operation in WRITES else "read"), total
