#!/usr/bin/python3
"""Checks of whiplash-api (the HTTP server) and whiplash (its CLI) against SQL.

Run by test/api/api.sh inside pg_virtualenv, once the server answers; psql
reaches the cluster as its superuser through the PG* environment, and every
answer of the API is compared with the same statement run there. Python's
standard library only. Prints one TAP line per check ("ok N - ..." /
"not ok N - ...", numbered from WL_TAP_START), the reasons of a failure and
the figures as "# " lines, and exits non-zero when a check failed.

Environment (api.sh sets all of it):
  WL_API_URL          the server, http://127.0.0.1:PORT
  WL_API_PID          its process id (its VmRSS is read from /proc)
  WL_API_LOG          its stderr: one line per request
  WL_WRITER_KEY       key of role api_writer: creates, writes and owns collections
  WL_READER_KEY       key of role api_reader: USAGE on the servers, no SELECT
  WL_GHOST_KEY        key of role api_ghost, which does not exist
  WL_PROJECT          project of foreign server "ddb" (apitest)
  WL_STAGE            stage of every server of the run (s<pid of api.sh>)
  WL_SLOW_PROJECT     project of foreign server "slow" (apislow): the same
                      DynamoDB behind a fault proxy that holds requests on
                      demand; its collection "held" (items h1..h20) is
                      readable by api_writer
  WL_PROXY_URL        that proxy (GET /__hold, /__release, /__stats)
  WL_WEB_URL          a web server that is not DynamoDB (answers POST with 501 HTML)
  WL_CLI_BIN          the CLI
  WL_WORK             a private scratch directory
  WL_SECONDS          seconds of the concurrency run (30)
  WL_REQUESTS         requests of the memory run (100000)
  WL_MAX_BODY         the server's max_body in bytes (1 MB)
  WL_REQUEST_TIMEOUT  the server's request_timeout in seconds (5)
  WL_TAP_START        number of the first TAP line (1)
It writes the number of answers it read to well-formed requests (sent with
http.client) to WL_WORK/answered: the server log must have a line for each.
"""
import calendar
import http.client
import json
import os
import random
import re
import socket
import struct
import subprocess
import sys
import threading
import time
import traceback
import urllib.parse
import uuid


def env(name, default=None):
    value = os.environ.get(name, default)
    if value is None:
        sys.exit(f"api_test.py: {name} is not set (run it through test/api/api.sh)")
    return value


URL = env("WL_API_URL")
HOST = urllib.parse.urlsplit(URL).hostname
PORT = urllib.parse.urlsplit(URL).port
SERVER_PID = int(env("WL_API_PID"))
LOG = env("WL_API_LOG")
WRITER = env("WL_WRITER_KEY")
READER = env("WL_READER_KEY")
GHOST = env("WL_GHOST_KEY")
PROJECT = env("WL_PROJECT", "apitest")
STAGE = env("WL_STAGE")
SLOW_PROJECT = env("WL_SLOW_PROJECT", "apislow")
PROXY_URL = env("WL_PROXY_URL")
WEB_URL = env("WL_WEB_URL")
CLI = env("WL_CLI_BIN")
WORK = env("WL_WORK")
RUN_SECONDS = float(env("WL_SECONDS", "30"))
REQUESTS = int(env("WL_REQUESTS", "100000"))
MAX_BODY = int(env("WL_MAX_BODY", str(1 << 20)))
REQUEST_TIMEOUT = float(env("WL_REQUEST_TIMEOUT", "5"))
TAP_START = int(env("WL_TAP_START", "1"))

WRONG_KEY = "not-a-key-" + "0" * 40
NOT_FOUND_STATES = {"42P01", "42704", "HV00R"}
EXISTS_STATES = {"42710", "42P07", "23505"}
DIMS = 16

# ---------------------------------------------------------------- TAP


class Problems(list):
    """What one check found wrong; empty when it passes."""

    def expect(self, condition, message):
        if not condition:
            self.append(message)
        return condition


TAP = {"n": TAP_START - 1, "failed": 0}


def check(name, function):
    """Runs function(problems) and prints its TAP line; function may return
    words to add to the name (figures). An exception is a failure."""
    problems = Problems()
    extra = None
    try:
        if not server_alive():
            raise RuntimeError(f"the server (pid {SERVER_PID}) is not running")
        extra = function(problems)
    except Exception:  # a crash fails this check, not the others
        lines = traceback.format_exc().strip().splitlines()
        problems.append("exception: " + " | ".join(lines[-4:]))
    TAP["n"] += 1
    title = name + (f" ({extra})" if extra else "")
    title = title.replace("#", "no.")  # '#' would start a TAP directive
    if problems:
        TAP["failed"] += 1
        print(f"not ok {TAP['n']} - {title}", flush=True)
        for problem in problems[:15]:
            print("#   " + str(problem).replace("\n", "\\n")[:600], flush=True)
        if len(problems) > 15:
            print(f"#   ... and {len(problems) - 15} more", flush=True)
    else:
        print(f"ok {TAP['n']} - {title}", flush=True)


def figure(text):
    print("# " + text, flush=True)


# ---------------------------------------------------------------- numbers and JSON

_F32 = struct.Struct("<f")


def f32(x):
    """x rounded to single precision, as real[] stores it."""
    return _F32.unpack(_F32.pack(x))[0]


def is_number(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def same_vector(got, want):
    """Equal as single-precision vectors (bit-exact after rounding to float32)."""
    try:
        return (isinstance(got, list) and len(got) == len(want)
                and all(is_number(g) and f32(g) == f32(w) for g, w in zip(got, want)))
    except (OverflowError, struct.error):
        return False


def same_dist(got, want):
    """A distance as whiplash_search gave it (float8): equal to 12 digits."""
    return is_number(got) and abs(got - want) <= 1e-12 * max(1.0, abs(want))


def same_json(a, b):
    """JSON equality where 2 and 2.0 are the same number but true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if is_number(a) and is_number(b):
        return a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(same_json(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(same_json(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b


def no_attrs(a):
    """No attributes: absent, null or {} are the same."""
    return a is None or a == {}


def same_attrs(got, want):
    return (no_attrs(got) and no_attrs(want)) or same_json(got, want)


def short(value, n=200):
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= n else text[:n] + "..."


# ---------------------------------------------------------------- HTTP

NOJSON = object()
_answered = [0]
_answered_lock = threading.Lock()


def count_answer():
    with _answered_lock:
        _answered[0] += 1


class Answer:
    """One HTTP answer: status, headers (lower-case names), body, parsed JSON."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = {name.lower(): value for name, value in headers}
        self.body = body
        self.elapsed = elapsed
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.json = NOJSON

    def header(self, name):
        return self.headers.get(name.lower())

    def __str__(self):
        return f"HTTP {self.status} {self.body[:240]!r}"


class Api:
    """A kept-alive connection to the server, sending one key."""

    def __init__(self, key=None, timeout=60):
        self.key = key
        self.timeout = timeout
        self.conn = None

    def call(self, method, path, body=None, key=..., headers=None):
        if self.conn is None:
            self.conn = http.client.HTTPConnection(HOST, PORT, timeout=self.timeout)
        sent = {}
        key = self.key if key is ... else key
        if key is not None:
            sent["x-api-key"] = key
        if body is not None and not isinstance(body, (bytes, bytearray)):
            body = json.dumps(body).encode()
        if body is not None:
            sent["Content-Type"] = "application/json"
        sent.update(headers or {})
        start = time.monotonic()
        try:
            self.conn.request(method, path, body=body, headers=sent)
            response = self.conn.getresponse()
            data = response.read()
        except Exception:
            self.close()
            raise
        count_answer()  # a well-formed request the server answered: it must log it
        return Answer(response.status, response.getheaders(), data, time.monotonic() - start)

    def close(self):
        if self.conn is not None:
            self.conn.close()
            self.conn = None


class Raw:
    """A plain socket to the server, for requests http.client will not send."""

    def __init__(self, timeout=15):
        self.sock = socket.create_connection((HOST, PORT), timeout=timeout)
        self.buf = b""

    def send(self, data):
        self.sock.sendall(data)

    def _fill(self):
        data = self.sock.recv(65536)
        if not data:
            raise EOFError
        self.buf += data

    def _line(self):
        while b"\r\n" not in self.buf:
            self._fill()
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line

    def _exact(self, n):
        while len(self.buf) < n:
            self._fill()
        data, self.buf = self.buf[:n], self.buf[n:]
        return data

    def response(self):
        """Reads one answer (a 100 Continue too); None when the connection
        ends or times out first."""
        start = time.monotonic()
        try:
            status = int(self._line().split(b" ", 2)[1])
            headers = []
            while True:
                line = self._line()
                if not line:
                    break
                name, _, value = line.partition(b":")
                headers.append((name.decode("latin-1").strip(), value.decode("latin-1").strip()))
            names = {name.lower(): value for name, value in headers}
            if 100 <= status < 200 or status in (204, 304):
                body = b""
            elif "chunked" in names.get("transfer-encoding", "").lower():
                body = b""
                while True:
                    size = int(self._line().split(b";")[0], 16)
                    if size == 0:
                        while self._line():
                            pass
                        break
                    body += self._exact(size)
                    self._exact(2)
            elif "content-length" in names:
                body = self._exact(int(names["content-length"]))
            else:
                try:
                    while True:
                        self._fill()
                except EOFError:
                    pass
                body, self.buf = self.buf, b""
        except (EOFError, OSError, ValueError, IndexError):
            return None
        return Answer(status, headers, body, time.monotonic() - start)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def raw(data, timeout=15):
    conn = Raw(timeout)
    try:
        conn.send(data)
        return conn.response()
    except OSError:
        return conn.response()
    finally:
        conn.close()


def plain_get(url, timeout=10):
    """GET of another local server (the proxy), as JSON."""
    parts = urllib.parse.urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=timeout)
    try:
        conn.request("GET", parts.path)
        return json.loads(conn.getresponse().read())
    finally:
        conn.close()


def proxy(path):
    return plain_get(PROXY_URL + path)


def q(segment):
    return urllib.parse.quote(segment, safe="")


def proj_path(project=PROJECT):
    return f"/projects/{q(project)}"


def colls_path(project=PROJECT):
    return proj_path(project) + "/collections"


def coll_path(name, project=PROJECT):
    return f"{colls_path(project)}/{q(name)}"


def items_path(name, project=PROJECT):
    return coll_path(name, project) + "/items"


def item_path(name, item_id, project=PROJECT):
    return f"{items_path(name, project)}/{q(item_id)}"


def search_path(name, project=PROJECT):
    return coll_path(name, project) + "/search"


def csv_query(vector):
    return ",".join(repr(x) for x in vector)


def search_get_path(name, vector, limit=None, filt=None, form="csv", project=PROJECT):
    text = csv_query(vector) if form == "csv" else json.dumps(vector)
    path = search_path(name, project) + "?query=" + urllib.parse.quote(text, safe=",")
    if limit is not None:
        path += f"&limit={limit}"
    if filt is not None:
        path += "&filter=" + urllib.parse.quote(json.dumps(filt), safe="")
    return path


def error_problem(answer, statuses, need_json=True, sqlstates=None, need_sqlstate=False):
    """Why answer is not an error of one of statuses with the spec's body; None if it is."""
    if answer is None:
        return "no answer (connection closed or timed out)"
    if answer.status not in statuses:
        return f"status {answer.status}, expected {sorted(statuses)}: {answer}"
    if not need_json:
        return None
    if not (answer.header("content-type") or "").startswith("application/json"):
        return f"content type {answer.header('content-type')!r}, not application/json: {answer}"
    body = answer.json
    if not isinstance(body, dict) or not isinstance(body.get("error"), dict):
        return f"body is not {{\"error\": {{...}}}}: {answer}"
    error = body["error"]
    if not is_number(error.get("status")) or error["status"] != answer.status:
        return f"error.status {error.get('status')!r} is not the HTTP status {answer.status}"
    if not isinstance(error.get("message"), str) or not error["message"]:
        return f"error.message missing or empty: {answer}"
    for name in ("hint", "detail"):
        if name in error and error[name] is not None and not isinstance(error[name], str):
            return f"error.{name} is not a string: {answer}"
    state = error.get("sqlstate")
    if state is not None and not (isinstance(state, str) and re.fullmatch(r"[0-9A-Z]{5}", state)):
        return f"error.sqlstate {state!r} is not a SQLSTATE"
    if need_sqlstate and state is None:
        return f"error.sqlstate missing (expected one of {sorted(sqlstates)}): {answer}"
    if sqlstates is not None and state is not None and state not in sqlstates:
        return f"error.sqlstate {state}, expected one of {sorted(sqlstates)}: {answer}"
    return None


def expect_error(p, label, answer, statuses, **kw):
    problem = error_problem(answer, set(statuses) if not isinstance(statuses, int) else {statuses}, **kw)
    if problem:
        p.append(f"{label}: {problem}")
    return problem is None


def expect_ok(p, label, answer, status=200):
    if answer is None:
        p.append(f"{label}: no answer")
        return False
    if answer.status != status:
        p.append(f"{label}: expected {status}, got {answer}")
        return False
    if not (answer.header("content-type") or "").startswith("application/json"):
        p.append(f"{label}: content type {answer.header('content-type')!r}")
        return False
    if answer.json is NOJSON:
        p.append(f"{label}: body is not JSON: {answer}")
        return False
    return True


def expect_success(p, label, answer):
    if expect_ok(p, label, answer):
        p.expect(isinstance(answer.json, dict) and answer.json.get("message") == "success",
                 f"{label}: body is not {{\"message\": \"success\"}}: {answer}")


def server_alive():
    try:
        os.kill(SERVER_PID, 0)
    except OSError:
        return False
    return True


def healthy(p, after):
    """The server still runs and answers /healthz."""
    if not server_alive():
        p.append(f"the server process is gone after {after}")
        raise RuntimeError("the server died")
    try:
        answer = Api(None, timeout=10).call("GET", "/healthz")
    except OSError as err:
        p.append(f"/healthz failed after {after}: {err!r}")
        return False
    return p.expect(answer.status == 200, f"/healthz answered {answer} after {after}")


def rss_kb():
    with open(f"/proc/{SERVER_PID}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


# ---------------------------------------------------------------- SQL


class SqlError(Exception):
    pass


def psql(query):
    result = subprocess.run(["psql", "-X", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-c", query],
                            capture_output=True, text=True, timeout=600)
    if result.returncode != 0:
        raise SqlError(f"psql failed: {result.stderr.strip()[:600]}")
    return result.stdout.strip("\n")


def sql_json(query):
    out = psql(query)
    return json.loads(out) if out.strip() else None


def lit(text):
    return "'" + text.replace("'", "''") + "'"


def real_array(vector):
    return "'{" + ",".join(repr(float(x)) for x in vector) + "}'::real[]"


def sql_items(table):
    """id -> (vector, attributes) of every row of a foreign table."""
    rows = sql_json(f"SELECT coalesce(json_agg(json_build_array(id, vector, attributes)), '[]') FROM {table}")
    return {row[0]: (row[1], row[2]) for row in rows}


def sql_ids(table):
    return set(sql_json(f"SELECT coalesce(json_agg(id), '[]') FROM {table}"))


def sql_search(table, vector, k, filt=None):
    """[[id, distance], ...] of whiplash_search, closest first."""
    return sql_searches(table, [vector], k, [filt])[0]


def sql_searches(table, vectors, k, filters=None):
    """The answers of many searches in one statement: a list of [[id, distance], ...]."""
    filters = filters or [None] * len(vectors)
    rows = ",\n".join(
        f"({n}, {real_array(v)}, {('NULL' if f is None else lit(json.dumps(f)))}::jsonb)"
        for n, (v, f) in enumerate(zip(vectors, filters)))
    return sql_json(f"""
SELECT json_agg(coalesce(res, '[]'::json) ORDER BY n) FROM (
  SELECT q.n, (SELECT json_agg(json_build_array(s.id, s.distance) ORDER BY s.r)
                 FROM whiplash_search({lit(table)}, q.v, {k}, filter => q.f)
                      WITH ORDINALITY AS s(id, distance, r)) AS res
    FROM (VALUES {rows}) AS q(n, v, f)) x""")


def sql_collections(server="ddb"):
    """whiplash_collections(server) in its own order, as the API's collection
    objects: name, n_features, metric, tables, bits, format, and table, the
    foreign table that maps it (schema.name, quoted as needed) or null."""
    return sql_json(f"""
SELECT coalesce(json_agg(json_build_object(
         'name', c.collection, 'n_features', c.dimensions, 'metric', c.metric,
         'tables', c.tables, 'bits', c.bits, 'format', c.format,
         'table', (SELECT format('%I.%I', n.nspname, r.relname)
                     FROM pg_foreign_table t JOIN pg_class r ON r.oid = t.ftrelid
                     JOIN pg_namespace n ON n.oid = r.relnamespace
                    WHERE t.ftserver = s.oid AND ('collection=' || c.collection) = ANY (t.ftoptions)
                    ORDER BY 1 LIMIT 1))
       ORDER BY c.ord), '[]')
  FROM pg_foreign_server s,
       whiplash_collections(s.srvname) WITH ORDINALITY
         AS c(collection, dimensions, metric, tables, bits, format, vectors_table, buckets_table, ord)
 WHERE s.srvname = {lit(server)}""")


def sql_collection(name, server="ddb"):
    for row in sql_collections(server):
        if row["name"] == name:
            return row
    return None


def same_table(got, want):
    """The API's "table" against format('%I.%I'): quoted the same, or unquoted."""
    return got == want or (want is not None and isinstance(got, str) and got == want.replace('"', ""))


def coll_problems(label, got, want, project=PROJECT):
    """Differences between an API collection object and its SQL row."""
    if want is None:
        return [f"{label}: SQL has no such collection"]
    if not isinstance(got, dict):
        return [f"{label}: not an object: {short(got)}"]
    problems = []
    for key in ("name", "n_features", "metric", "tables", "bits", "format"):
        if key not in got or not same_json(got[key], want[key]):
            problems.append(f"{label}: {key} is {short(got.get(key, '(missing)'))}, SQL says {want[key]!r}")
    if got.get("project_name") != project:
        problems.append(f"{label}: project_name {got.get('project_name')!r}, expected {project!r}")
    if got.get("stage") != STAGE:
        problems.append(f"{label}: stage {got.get('stage')!r}, expected {STAGE!r}")
    if "table" not in got or not same_table(got["table"], want["table"]):
        problems.append(f"{label}: table {got.get('table', '(missing)')!r}, SQL says {want['table']!r}")
    return problems


def item_problems(label, got, item_id, vector, attrs):
    """Differences between a GET item answer and the row (vector, attributes)."""
    if not isinstance(got, dict):
        return [f"{label}: not an object: {short(got)}"]
    problems = []
    if got.get("id") != item_id:
        problems.append(f"{label}: id {got.get('id')!r}, expected {item_id!r}")
    if not same_vector(got.get("vector"), vector):
        problems.append(f"{label}: vector {short(got.get('vector'), 120)} differs from {short(vector, 120)}")
    if not same_attrs(got.get("attributes"), attrs):
        problems.append(f"{label}: attributes {short(got.get('attributes'))} differ from {short(attrs)}")
    extra = set(got) - {"id", "vector", "attributes"}
    if extra:
        problems.append(f"{label}: unexpected keys {sorted(extra)}")
    return problems


def search_problems(label, got, want, model=None):
    """Differences between a search answer and SQL's [[id, distance], ...];
    model (id -> (vector, attributes)) checks the vectors and attributes too."""
    if not isinstance(got, list):
        return [f"{label}: answer is not a list: {short(got)}"]
    ids = [g.get("id") if isinstance(g, dict) else g for g in got]
    want_ids = [w[0] for w in want]
    if ids != want_ids:
        first = next((i for i, (a, b) in enumerate(zip(ids, want_ids)) if a != b), min(len(ids), len(want_ids)))
        return [f"{label}: {len(ids)} ids, SQL {len(want_ids)}; first difference at {first}: "
                f"{short(ids[first:first + 3])} vs SQL {short(want_ids[first:first + 3])}"]
    for n, (g, (wid, wdist)) in enumerate(zip(got, want)):
        keys = set(g)
        if not {"id", "vector", "dist"} <= keys or keys - {"id", "vector", "dist", "attributes"}:
            return [f"{label}: result {n} has keys {sorted(keys)}, expected id, vector, dist (attributes)"]
        if not same_dist(g["dist"], wdist):
            return [f"{label}: result {n} ({wid}) dist {g['dist']!r}, SQL distance {wdist!r}"]
        if model is not None:
            vector, attrs = model[wid]
            if not same_vector(g["vector"], vector):
                return [f"{label}: result {n} ({wid}) vector differs from the item's"]
            if g.get("attributes") is not None and not same_attrs(g["attributes"], attrs):
                return [f"{label}: result {n} ({wid}) attributes {short(g['attributes'])} differ from {short(attrs)}"]
    return []


# ---------------------------------------------------------------- data

RNG = random.Random(20261205)


def new_id(rng):
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def new_vector(rng, dims=DIMS):
    return [f32(rng.uniform(-1.0, 1.0)) for _ in range(dims)]


def doc_attrs(i):
    """Attributes of the i-th item: none for a third of them."""
    if i % 3 == 0:
        return None
    attrs = {"group": i % 5, "name": f"item {i}", "even": i % 2 == 0}
    if i % 7 == 1:
        attrs["meta"] = {"tags": [1, "x", None], "deep": {"z": 1.5}}
    if i == 4:
        attrs["label"] = "é 漢字 ☃"
    return attrs


# docs: the main collection (l2), id -> (vector, attributes), kept equal to
# what the API was told to store.
DOC_IDS = [new_id(RNG) for _ in range(300)]
DOCS = {i: (new_vector(RNG), doc_attrs(n)) for n, i in enumerate(DOC_IDS)}
SPECIAL_IDS = ["a/b c?d%e#f&g=h+i", "é漢字-☃", "quote'\"back\\slash"]
QUERIES = [new_vector(RNG) for _ in range(12)]
LEGACY_IDS = [new_id(RNG) for _ in range(300)]
LEGACY = {i: (new_vector(RNG), None) for i in LEGACY_IDS}
DIMS_IDS = [f"d{n}" for n in range(40)]
DIMS_ITEMS = {i: (new_vector(RNG, 8), {"n": n}) for n, i in enumerate(DIMS_IDS)}
ODD = "Odd-Name.v2"
ODD_ITEMS = {f"o{n}": (new_vector(RNG, 4), None) for n in range(5)}
Q = QUERIES[0]


def items_body(model, ids):
    out = []
    for i in ids:
        vector, attrs = model[i]
        entry = {"id": i, "vector": vector}
        if attrs is not None:
            entry["attributes"] = attrs
        out.append(entry)
    return out


def table_differences(label, table, model):
    """Differences between a foreign table's rows and the model."""
    rows = sql_items(table)
    problems = []
    missing = set(model) - set(rows)
    extra = set(rows) - set(model)
    if missing:
        problems.append(f"{label}: {len(missing)} items missing in SQL, e.g. {short(sorted(missing)[:3])}")
    if extra:
        problems.append(f"{label}: {len(extra)} unexpected items in SQL, e.g. {short(sorted(extra)[:3])}")
    wrong = [i for i in set(rows) & set(model)
             if not same_vector(rows[i][0], model[i][0]) or not same_attrs(rows[i][1], model[i][1])]
    if wrong:
        i = sorted(wrong)[0]
        problems.append(f"{label}: {len(wrong)} items differ in SQL, e.g. {i!r}: "
                        f"{short(rows[i], 160)} vs {short(model[i], 160)}")
    return problems


# ---------------------------------------------------------------- routes

W = Api(WRITER)


def t_healthz(p):
    answer = Api(None).call("GET", "/healthz")
    if expect_ok(p, "GET /healthz", answer):
        p.expect(answer.json == {"status": "ok"}, f"GET /healthz body {answer}")


OPENAPI = {}
SPEC_ROUTES = {
    "/healthz": {"get"},
    "/openapi.json": {"get"},
    "/projects": {"get"},
    "/projects/{}": {"get"},
    "/projects/{}/collections": {"get", "post"},
    "/projects/{}/collections/{}": {"get", "delete"},
    "/projects/{}/collections/{}/items": {"post"},
    "/projects/{}/collections/{}/items/batch": {"post"},
    "/projects/{}/collections/{}/items/{}": {"get", "put", "delete"},
    "/projects/{}/collections/{}/search": {"get", "post"},
}
HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


def t_openapi(p):
    answer = Api(None).call("GET", "/openapi.json")
    if not expect_ok(p, "GET /openapi.json", answer):
        return
    doc = answer.json
    OPENAPI["body"] = answer.body
    if not p.expect(isinstance(doc, dict), "not an object"):
        return
    p.expect(str(doc.get("openapi", "")).startswith("3.0"), f"openapi is {doc.get('openapi')!r}, not 3.0.x")
    p.expect(isinstance(doc.get("info"), dict) and "title" in doc["info"] and "version" in doc["info"],
             "info.title / info.version missing")
    paths = doc.get("paths") if isinstance(doc.get("paths"), dict) else {}
    routes = {}
    for path, item in paths.items():
        routes[re.sub(r"\{[^}]*\}", "{}", path)] = {m for m in (item or {}) if m in HTTP_METHODS}
    routes.setdefault("/openapi.json", {"get"})  # the document may leave itself out
    p.expect(routes == SPEC_ROUTES,
             f"paths and methods differ from the spec's: missing {sorted(set(SPEC_ROUTES) - set(routes))}, "
             f"extra {sorted(set(routes) - set(SPEC_ROUTES))}, methods differ on "
             f"{sorted(r for r in set(routes) & set(SPEC_ROUTES) if routes[r] != SPEC_ROUTES[r])}")
    schemes = ((doc.get("components") or {}).get("securitySchemes") or {}).values()
    p.expect(any(isinstance(s, dict) and s.get("type") == "apiKey" and s.get("in") == "header"
                 and str(s.get("name", "")).lower() == "x-api-key" for s in schemes),
             "no securityScheme of type apiKey in header x-api-key")


CREATED = {}


def t_create(p):
    psql("SELECT 1 FROM whiplash_create_collection('ddb', 'bare', 4)")  # no foreign table maps it
    wanted = [
        ("docs", {"name": "docs", "n_features": DIMS, "metric": "l2"}, DIMS, "l2", "packed"),
        ("dims", {"name": "dims", "dimensions": 8, "metric": "inner_product", "format": "native"},
         8, "inner_product", "native"),
        (ODD, {"name": ODD, "n_features": 4, "format": "packed"}, 4, "cosine", "packed"),
    ]
    for name, body, n_features, metric, fmt in wanted:
        answer = W.call("POST", colls_path(), body)
        if not expect_ok(p, f"POST {short(body)}", answer, 201):
            continue
        got = answer.json
        CREATED[name] = got
        want = sql_collection(name)
        p.extend(coll_problems(f"created {name}", got, want))
        p.expect(got.get("n_features") == n_features and got.get("metric") == metric
                 and got.get("format") == fmt,
                 f"created {name}: {short(got)} is not {n_features} dimensions, {metric}, {fmt}")
        if want is not None and p.expect(want["table"], f"created {name}: no foreign table maps it"):
            # the table that maps it has the spec's columns, and the key's role owns it
            table = lit(want["table"])
            columns = sql_json(f"""
SELECT json_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod) ORDER BY a.attnum)
  FROM pg_attribute a WHERE a.attrelid = {table}::regclass AND a.attnum > 0 AND NOT a.attisdropped""")
            p.expect(columns == ["id text", "vector real[]", "attributes jsonb"],
                     f"created {name}: table {want['table']} has columns {columns}")
            owner = psql(f"SELECT pg_get_userbyid(relowner) FROM pg_class WHERE oid = {table}::regclass")
            p.expect(owner == "api_writer", f"created {name}: table owned by {owner!r}, not the key's role api_writer")
    return "docs: name, n_features, l2; dims: dimensions, inner_product, native; a name that needs quoting"


def t_list_collections(p):
    answer = W.call("GET", colls_path())
    if not expect_ok(p, "GET collections", answer):
        return
    want = sql_collections()
    got = answer.json
    if not p.expect(isinstance(got, list), f"not a list: {answer}"):
        return
    p.expect([c.get("name") if isinstance(c, dict) else c for c in got] == [w["name"] for w in want],
             f"names {[c.get('name') if isinstance(c, dict) else c for c in got]}, SQL {[w['name'] for w in want]}")
    for g, w in zip(got, want):
        p.extend(coll_problems(f"collection {w['name']}", g, w))
    bare = next((c for c in got if isinstance(c, dict) and c.get("name") == "bare"), None)
    p.expect(bare is not None and "table" in bare and bare["table"] is None,
             f"bare (no foreign table) should have table null: {short(bare)}")
    return f"{len(want)} collections"


def t_get_collection(p):
    for name, path in (("docs", coll_path("docs")), ("dims", coll_path("dims")), (ODD, coll_path(ODD)),
                       ("bare", coll_path("bare")), ("docs", colls_path() + "/%64ocs")):
        answer = W.call("GET", path)
        if expect_ok(p, f"GET {path}", answer):
            p.extend(coll_problems(f"GET {path}", answer.json, sql_collection(name)))


def t_projects(p):
    listing = W.call("GET", colls_path()).json
    answer = W.call("GET", proj_path())
    if expect_ok(p, "GET /projects/{p}", answer):
        p.expect(answer.json == {"project_name": PROJECT, "collections": listing},
                 f"GET {proj_path()} is not {{project_name, collections}} equal to the listing: {answer}")
    answer = W.call("GET", "/projects")
    if expect_ok(p, "GET /projects", answer):
        projects = answer.json.get("projects") if isinstance(answer.json, dict) else None
        if p.expect(isinstance(projects, dict), f"no projects object: {answer}"):
            p.expect(set(projects) == {PROJECT, SLOW_PROJECT},
                     f"projects {sorted(projects)}, expected {sorted([PROJECT, SLOW_PROJECT])}")
            p.expect(projects.get(PROJECT) == {"project_name": PROJECT, "collections": listing},
                     f"projects[{PROJECT}] differs from GET {proj_path()}: {short(projects.get(PROJECT))}")
            slow = projects.get(SLOW_PROJECT) or {}
            want = sql_collections("slow")
            got = slow.get("collections")
            if p.expect(isinstance(got, list) and len(got) == len(want),
                        f"projects[{SLOW_PROJECT}] collections {short(got)}, SQL {short(want)}"):
                for g, w in zip(got, want):
                    p.extend(coll_problems(f"{SLOW_PROJECT} {w['name']}", g, w, SLOW_PROJECT))


def t_post_items(p):
    for i in DOC_IDS[:20]:
        body = items_body(DOCS, [i])[0]
        expect_success(p, f"POST item {i}", W.call("POST", items_path("docs"), body))
    # a second POST of an id overwrites it
    first = DOC_IDS[0]
    expect_success(p, "POST over an item", W.call("POST", items_path("docs"),
                                                  {"id": first, "vector": QUERIES[1], "attributes": {"tmp": 1}}))
    got = sql_items("public.docs").get(first)
    p.expect(got is not None and same_vector(got[0], QUERIES[1]) and same_json(got[1], {"tmp": 1}),
             f"after a second POST, SQL has {short(got)}")
    expect_success(p, "POST item back", W.call("POST", items_path("docs"), items_body(DOCS, [first])[0]))
    p.extend(table_differences("after 20 POSTs", "public.docs", {i: DOCS[i] for i in DOC_IDS[:20]}))
    # dims and the odd name, one at a time too
    for i in DIMS_IDS[:5]:
        expect_success(p, f"POST dims {i}", W.call("POST", items_path("dims"), items_body(DIMS_ITEMS, [i])[0]))
    for i in ODD_ITEMS:
        expect_success(p, f"POST {ODD} {i}", W.call("POST", items_path(ODD), items_body(ODD_ITEMS, [i])[0]))
    p.extend(table_differences(ODD, '"Odd-Name.v2"', ODD_ITEMS))
    return "vectors bit-exact and attributes in SQL, a second POST overwrites"


def t_batch(p):
    for ids in (DOC_IDS[20:220], DOC_IDS[220:]):
        answer = W.call("POST", items_path("docs") + "/batch", {"vectors": items_body(DOCS, ids)})
        if expect_ok(p, f"batch of {len(ids)}", answer):
            p.expect(answer.json == {"message": "success", "inserted": len(ids)},
                     f"batch of {len(ids)} answered {answer}")
    answer = W.call("POST", items_path("dims") + "/batch", {"vectors": items_body(DIMS_ITEMS, DIMS_IDS[5:])})
    expect_ok(p, "dims batch", answer)
    p.extend(table_differences("docs", "public.docs", DOCS))
    p.extend(table_differences("dims", "public.dims", DIMS_ITEMS))
    # all or nothing: one vector of the wrong size among ten new ones
    bad = [{"id": f"bad-{n}", "vector": QUERIES[2] if n != 5 else QUERIES[2][:15]} for n in range(10)]
    answer = W.call("POST", items_path("docs") + "/batch", {"vectors": bad})
    expect_error(p, "batch with one 15-dimension vector", answer, 400)
    stored = psql("SELECT count(*) FROM docs WHERE id LIKE 'bad-%'")
    p.expect(stored == "0", f"the refused batch left {stored} of its items")
    return "inserted counts, SQL equals, all or nothing"


def t_put(p):
    # creates, with ids that need percent-encoding
    for n, i in enumerate(SPECIAL_IDS):
        vector, attrs = QUERIES[3 + n], {"special": n}
        expect_success(p, f"PUT {i!r}", W.call("PUT", item_path("docs", i), {"vector": vector, "attributes": attrs}))
        DOCS[i] = (vector, attrs)
    # replaces: new vector and attributes
    i = DOC_IDS[5]
    DOCS[i] = (QUERIES[7], {"group": 9, "replaced": True})
    expect_success(p, "PUT replace", W.call("PUT", item_path("docs", i),
                                            {"vector": DOCS[i][0], "attributes": DOCS[i][1]}))
    # replaced without attributes: they are gone
    i = DOC_IDS[1]
    p.expect(DOCS[i][1] is not None, "item 1 should have attributes")
    DOCS[i] = (QUERIES[8], None)
    expect_success(p, "PUT without attributes", W.call("PUT", item_path("docs", i), {"vector": DOCS[i][0]}))
    # the id in the body may repeat the path's
    i = DOC_IDS[2]
    DOCS[i] = (QUERIES[9], {"group": 2, "body_id": True})
    expect_success(p, "PUT with the same id in the body",
                   W.call("PUT", item_path("docs", i), {"id": i, "vector": DOCS[i][0], "attributes": DOCS[i][1]}))
    # and must not differ from it
    answer = W.call("PUT", item_path("docs", DOC_IDS[3]), {"id": DOC_IDS[4], "vector": QUERIES[10]})
    expect_error(p, "PUT with another id in the body", answer, 400)
    p.extend(table_differences("docs after PUTs", "public.docs", DOCS))


def t_get_items(p):
    rows = sql_items("public.docs")
    p.expect(set(rows) == set(DOCS), f"SQL has {len(rows)} items, the model {len(DOCS)}")
    for i in DOCS:
        if i not in rows:
            continue
        answer = W.call("GET", item_path("docs", i))
        if expect_ok(p, f"GET item {i!r}", answer):
            p.extend(item_problems(f"GET item {i!r}", answer.json, i, rows[i][0], rows[i][1]))
            p.extend(item_problems(f"GET item {i!r} (model)", answer.json, i, *DOCS[i]))
    answer = W.call("GET", colls_path() + "/%64ocs/items/" + q(DOC_IDS[10]))
    if expect_ok(p, "GET through %64ocs", answer):
        p.extend(item_problems("GET through %64ocs", answer.json, DOC_IDS[10], *DOCS[DOC_IDS[10]]))
    return f"{len(rows)} items equal their SQL rows, also ids with / ? % # & + quotes and non-ASCII"


def t_delete_item(p):
    i = "to-delete/ü"
    expect_success(p, "PUT to-delete", W.call("PUT", item_path("docs", i), {"vector": QUERIES[11]}))
    p.expect(i in sql_ids("public.docs"), "the PUT item is not in SQL")
    expect_success(p, "DELETE item", W.call("DELETE", item_path("docs", i)))
    expect_error(p, "GET deleted item", W.call("GET", item_path("docs", i)), 404)
    p.expect(i not in sql_ids("public.docs"), "the deleted item is still in SQL")
    expect_error(p, "DELETE it again", W.call("DELETE", item_path("docs", i)), 404)
    p.extend(table_differences("docs after DELETE", "public.docs", DOCS))


def t_post_search(p):
    n = 0
    cases = []  # (collection, table, model, body, k for SQL, filter)
    for v in QUERIES:
        cases.append(("docs", "public.docs", DOCS, {"query": v, "limit": 10}, 10, None))
    cases += [
        ("docs", "public.docs", DOCS, {"query": QUERIES[1]}, 5, None),  # default limit 5
        ("docs", "public.docs", DOCS, {"query": QUERIES[2], "limit": 1}, 1, None),
        ("docs", "public.docs", DOCS, {"query": QUERIES[3], "limit": 1000}, 1000, None),
        ("docs", "public.docs", DOCS, {"query": DOCS[DOC_IDS[7]][0], "limit": 3}, 3, None),  # its own vector
        ("docs", "public.docs", DOCS, {"query": QUERIES[4], "limit": 10, "filter": {"group": 2}}, 10, {"group": 2}),
        ("docs", "public.docs", DOCS, {"query": QUERIES[5], "limit": 7, "filter": {"even": True, "group": 1}},
         7, {"even": True, "group": 1}),
        ("docs", "public.docs", DOCS, {"query": QUERIES[6], "limit": 10, "filter": {"meta": {"deep": {"z": 1.5}}}},
         10, {"meta": {"deep": {"z": 1.5}}}),
        ("docs", "public.docs", DOCS, {"query": QUERIES[6], "limit": 10, "filter": {"group": 99}}, 10, {"group": 99}),
        ("docs", "public.docs", DOCS, {"query": QUERIES[6], "limit": 10, "filter": {}}, 10, {}),
        ("docs", "public.docs", DOCS,
         {"query": QUERIES[7], "limit": 6, "filter": {"group": {"$in": [1, 3]}, "even": {"$ne": True}}},
         6, {"group": {"$in": [1, 3]}, "even": {"$ne": True}}),
    ]
    for v in QUERIES[:3]:
        cases.append(("dims", "public.dims", DIMS_ITEMS, {"query": v[:8], "limit": 5}, 5, None))
        cases.append(("dims", "public.dims", DIMS_ITEMS, {"query": v[:8], "limit": 5, "filter": {"n": 3}}, 5, {"n": 3}))
    cases.append((ODD, '"Odd-Name.v2"', ODD_ITEMS, {"query": Q[:4], "limit": 3}, 3, None))
    empty = 0
    for coll, table, model, body, k, filt in cases:
        want = sql_search(table, body["query"], k, filt)
        answer = W.call("POST", search_path(coll), body)
        if expect_ok(p, f"search {coll} {short(body, 80)}", answer):
            p.extend(search_problems(f"search {coll} {short(body, 80)}", answer.json, want, model))
        n += 1
        empty += not want
    p.expect(empty == 1, f"{empty} searches found nothing in SQL, expected only the filter group 99")
    return f"{n} searches: default limit 5, 1, 10, 1000, filters, l2, inner_product, cosine"


def t_get_search(p):
    cases = [
        (QUERIES[0], None, None, "csv", 5),
        (QUERIES[1], 10, None, "csv", 10),
        (QUERIES[2], 10, None, "json", 10),
        (QUERIES[3], 8, {"group": 3}, "csv", 8),
        (QUERIES[4], 6, {"name": "item 4", "label": "é 漢字 ☃"}, "json", 6),
    ]
    for vector, limit, filt, form, k in cases:
        want = sql_search("public.docs", vector, k, filt)
        path = search_get_path("docs", vector, limit, filt, form)
        answer = W.call("GET", path)
        if expect_ok(p, f"GET {path[:120]}", answer):
            p.extend(search_problems(f"GET search {form} limit {limit} filter {filt}", answer.json, want, DOCS))
    # commas percent-encoded too
    want = sql_search("public.docs", QUERIES[5], 4)
    path = search_path("docs") + "?limit=4&query=" + urllib.parse.quote(csv_query(QUERIES[5]), safe="")
    answer = W.call("GET", path)
    if expect_ok(p, "GET search with %2C", answer):
        p.extend(search_problems("GET search with %2C", answer.json, want, DOCS))
    return "query as 0.1,0.2,... and as [0.1,...], limit, url-encoded filter"


def t_wire(p):
    """The original whiplash-client's calls, byte for byte what it sent."""
    body = {"collection_name": "legacy", "n_features": DIMS, "n_planes": 6, "bit_start": 8, "bit_scale_factor": 2}
    answer = W.call("POST", colls_path(), body)
    if expect_ok(p, "create with collection_name", answer, 201):
        p.extend(coll_problems("legacy", answer.json, sql_collection("legacy")))
        p.expect(answer.json.get("name") == "legacy" and answer.json.get("metric") == "cosine",
                 f"legacy: {short(answer.json)}")
    answer = W.call("POST", colls_path(), {"name": "legacy2", "n_features": 8, "n_planes": 3,
                                           "bit_start": 4.0, "bit_scale_factor": 1.5})
    if expect_ok(p, "create with name and n_planes/bit_start/bit_scale_factor", answer, 201):
        p.extend(coll_problems("legacy2", answer.json, sql_collection("legacy2")))
    answer = W.call("POST", items_path("legacy") + "/batch",
                    {"vectors": [{"id": i, "vector": LEGACY[i][0]} for i in LEGACY_IDS]})
    if expect_ok(p, "batch {vectors}", answer):
        p.expect(answer.json == {"message": "success", "inserted": len(LEGACY_IDS)}, f"batch answered {answer}")
    p.extend(table_differences("legacy", "public.legacy", LEGACY))
    for n, v in enumerate(QUERIES[:6]):
        body = {"query": v} if n % 2 else {"query": v, "limit": 5}
        answer = W.call("POST", search_path("legacy"), body)
        if expect_ok(p, "legacy search", answer):
            got = answer.json
            p.expect(isinstance(got, list) and all(isinstance(g, dict) and set(g) == {"id", "vector", "dist"}
                                                   for g in got),
                     f"results are not exactly {{id, vector, dist}}: {short(got)}")
            p.extend(search_problems("legacy search", got, sql_search("public.legacy", v, 5), LEGACY))
    answer = W.call("DELETE", coll_path("legacy2"))
    expect_success(p, "DELETE legacy2", answer)
    return "collection_name and name with n_planes/bit_start/bit_scale_factor, {vectors: [...]}, [{id, vector, dist}]"


def t_delete_collection(p):
    for name, table in (("dims", "public.dims"), (ODD, 'public."Odd-Name.v2"'), ("bare", None)):
        answer = W.call("DELETE", coll_path(name))
        expect_success(p, f"DELETE {name}", answer)
        expect_error(p, f"GET deleted {name}", W.call("GET", coll_path(name)), 404)
        p.expect(sql_collection(name) is None, f"{name} is still in whiplash_collections")
        if table:
            p.expect(psql(f"SELECT to_regclass({lit(table)}) IS NULL") == "t", f"{table} still exists")
    expect_error(p, "DELETE it again", W.call("DELETE", coll_path("dims")), 404)
    return "its foreign table gone too; also one without a table"


# ---------------------------------------------------------------- errors


def t_400(p):
    expect_error(p, "malformed JSON", W.call("POST", search_path("docs"), b'{"query": [1, 2'), 400)
    expect_error(p, "query of 15 dimensions", W.call("POST", search_path("docs"), {"query": Q[:15]}), 400)
    expect_error(p, "missing query", W.call("POST", search_path("docs"), {"limit": 3}), 400)
    # errors raised by whiplash in SQL carry their SQLSTATE
    answer = W.call("POST", search_path("legacy"), {"query": [0.0] * DIMS, "limit": 3})
    expect_error(p, "a zero query in a cosine collection (SQL error)", answer, 400,
                 sqlstates={"22000"}, need_sqlstate=True)
    answer = W.call("POST", colls_path(), {"name": "toolarge", "n_features": 16001})
    expect_error(p, "16001 dimensions", answer, 400)
    answer = W.call("POST", colls_path(), {"name": "a b", "n_features": 4})
    expect_error(p, "invalid collection name", answer, 400)
    answer = W.call("PUT", item_path("docs", "k" * 3000), {"vector": Q})
    expect_error(p, "an id of 3000 bytes", answer, 400)
    p.expect(sql_collection("toolarge") is None and sql_collection("a b") is None,
             "a refused create left a collection")
    return "JSON, fields, vector size, SQL errors with their SQLSTATE"


def t_401(p):
    cases = [("GET", colls_path(), None), ("GET", item_path("docs", DOC_IDS[0]), None),
             ("POST", search_path("docs"), {"query": Q}), ("GET", "/projects", None),
             ("POST", colls_path(), {"name": "nokey", "n_features": 4}),
             ("DELETE", coll_path("docs"), None), ("DELETE", item_path("docs", DOC_IDS[0]), None),
             ("PUT", item_path("docs", DOC_IDS[0]), {"vector": Q})]
    for method, path, body in cases:
        expect_error(p, f"{method} {path} without a key", Api(None).call(method, path, body), 401)
        expect_error(p, f"{method} {path} with a wrong key", Api(WRONG_KEY).call(method, path, body), 401)
    expect_error(p, "an empty key", Api("").call("GET", colls_path()), 401)
    expect_error(p, "the key with a space added", Api(WRITER + " x").call("GET", colls_path()), 401)
    expect_error(p, "a prefix of the key", Api(WRITER[:-1]).call("GET", colls_path()), 401)
    expect_error(p, "a key as a query parameter", Api(None).call("GET", colls_path() + "?x-api-key=" + WRITER), 401)
    p.expect(sql_collection("nokey") is None, "POST without a key created a collection")
    p.extend(table_differences("docs after refused writes", "public.docs", DOCS))
    p.expect(sql_collection("docs") is not None, "DELETE without a key dropped docs")
    # the header's name is case-insensitive
    answer = Api(None).call("GET", colls_path(), headers={"X-API-KEY": WRITER})
    expect_ok(p, "X-API-KEY", answer)
    answer = Api(None).call("GET", colls_path(), headers={"X-Api-Key": READER})
    expect_ok(p, "X-Api-Key (reader)", answer)
    return "no key, wrong key, empty key, on every kind of route; nothing written"


def t_403(p):
    R = Api(READER)
    want = sql_search("public.docs", Q, 5)
    expect_error(p, "reader searches docs", R.call("POST", search_path("docs"), {"query": Q}), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    expect_error(p, "reader GET search", R.call("GET", search_get_path("docs", Q)), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    expect_error(p, "reader gets an item", R.call("GET", item_path("docs", DOC_IDS[0])), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    expect_error(p, "reader writes an item", R.call("PUT", item_path("docs", "r1"), {"vector": Q}), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    expect_error(p, "reader creates a collection", R.call("POST", colls_path(), {"name": "byreader", "n_features": 4}),
                 403, sqlstates={"42501"}, need_sqlstate=True)
    expect_error(p, "reader drops docs", R.call("DELETE", coll_path("docs")), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    p.expect(sql_collection("byreader") is None and sql_collection("docs") is not None,
             "the reader's refused create or drop took effect")
    p.expect("r1" not in sql_ids("public.docs"), "the reader's refused PUT took effect")
    expect_ok(p, "reader lists collections (USAGE on the server)", R.call("GET", colls_path()))
    # GRANTs decide, at once
    psql("GRANT SELECT ON public.docs TO api_reader")
    try:
        answer = R.call("POST", search_path("docs"), {"query": Q})
        if expect_ok(p, "reader searches docs after GRANT SELECT", answer):
            p.extend(search_problems("reader search", answer.json, want, DOCS))
        answer = R.call("GET", item_path("docs", DOC_IDS[0]))
        if expect_ok(p, "reader gets an item after GRANT SELECT", answer):
            p.extend(item_problems("reader item", answer.json, DOC_IDS[0], *DOCS[DOC_IDS[0]]))
    finally:
        psql("REVOKE SELECT ON public.docs FROM api_reader")
    expect_error(p, "reader searches docs after REVOKE", R.call("POST", search_path("docs"), {"query": Q}), 403,
                 sqlstates={"42501"}, need_sqlstate=True)
    return "search, get, write, create, drop by api_reader; GRANT SELECT then REVOKE"


def t_404(p):
    def not_found(label, method, path, body=None, names=()):
        answer = W.call(method, path, body)
        if expect_error(p, label, answer, 404, sqlstates=NOT_FOUND_STATES):
            message = answer.json["error"]["message"]
            for name in names:
                p.expect(name in message, f"{label}: message {message!r} does not name {name!r}")
    not_found("no project", "GET", proj_path("nosuchproject"), names=["nosuchproject"])
    not_found("no project's collections", "GET", colls_path("nosuchproject"))
    not_found("collection in no project", "GET", coll_path("docs", "nosuchproject"))
    not_found("search in no project", "POST", search_path("docs", "nosuchproject"), {"query": Q})
    not_found("no collection", "GET", coll_path("nosuchcoll"), names=["nosuchcoll"])
    not_found("search of no collection", "POST", search_path("nosuchcoll"), {"query": Q})
    not_found("GET search of no collection", "GET", search_get_path("nosuchcoll", Q))
    not_found("item of no collection", "GET", item_path("nosuchcoll", "x"))
    not_found("POST item to no collection", "POST", items_path("nosuchcoll"), {"id": "x", "vector": Q})
    not_found("batch to no collection", "POST", items_path("nosuchcoll") + "/batch",
              {"vectors": [{"id": "x", "vector": Q}]})
    not_found("PUT item in no collection", "PUT", item_path("nosuchcoll", "x"), {"vector": Q})
    not_found("DELETE no collection", "DELETE", coll_path("nosuchcoll"))
    not_found("no item", "GET", item_path("docs", "nosuchitem"))
    not_found("DELETE no item", "DELETE", item_path("docs", "nosuchitem"))
    for path in ("/", "/nosuch", "/projects/x/y", f"{coll_path('docs')}/bogus",
                 f"{item_path('docs', 'x')}/extra", f"{search_path('docs')}/x", "/healthz/x", "/openapi.json/x",
                 "/openapi", "/PROJECTS"):
        not_found(f"unknown route {path}", "GET", path)
    p.extend(table_differences("docs after 404s", "public.docs", DOCS))
    return "project, collection, item, unknown routes"


def t_405(p):
    cases = [
        ("POST", "/projects", {"GET"}), ("DELETE", "/healthz", {"GET"}), ("POST", "/openapi.json", {"GET"}),
        ("PUT", proj_path(), {"GET"}), ("DELETE", colls_path(), {"GET", "POST"}),
        ("PATCH", coll_path("docs"), {"GET", "DELETE"}), ("POST", coll_path("docs"), {"GET", "DELETE"}),
        ("GET", items_path("docs"), {"POST"}), ("DELETE", items_path("docs"), {"POST"}),
        ("POST", item_path("docs", DOC_IDS[0]), {"GET", "PUT", "DELETE"}),
        ("PUT", search_path("docs"), {"GET", "POST"}), ("DELETE", search_path("docs"), {"GET", "POST"}),
    ]
    for method, path, allowed in cases:
        answer = W.call(method, path, {} if method in ("POST", "PUT", "PATCH") else None)
        if expect_error(p, f"{method} {path}", answer, 405):
            allow = {m.strip().upper() for m in (answer.header("allow") or "").split(",") if m.strip()}
            p.expect(allowed <= allow and method not in allow,
                     f"{method} {path}: Allow {answer.header('allow')!r}, expected {sorted(allowed)}")
    p.extend(table_differences("docs after 405s", "public.docs", DOCS))
    return "with Allow"


def t_409(p):
    answer = W.call("POST", colls_path(), {"name": "docs", "n_features": DIMS})
    expect_error(p, "create docs again", answer, 409, sqlstates=EXISTS_STATES, need_sqlstate=True)
    answer = W.call("POST", colls_path(), {"collection_name": "legacy", "n_features": DIMS, "n_planes": 6})
    expect_error(p, "create legacy again (collection_name)", answer, 409, sqlstates=EXISTS_STATES, need_sqlstate=True)
    answer = W.call("POST", colls_path(), {"name": "docs", "n_features": 8, "metric": "cosine"})
    expect_error(p, "create docs again with other settings", answer, 409, sqlstates=EXISTS_STATES)
    got = sql_collection("docs")
    p.expect(got is not None and got["n_features"] == DIMS and got["metric"] == "l2", f"docs changed: {got}")
    p.extend(table_differences("docs after 409s", "public.docs", DOCS))


def t_409_table_taken(p):
    psql("CREATE TABLE public.clash (x int)")
    try:
        answer = W.call("POST", colls_path(), {"name": "clash", "n_features": 4})
        expect_error(p, "create clash (its table name is taken)", answer, 409, sqlstates=EXISTS_STATES)
        p.expect(sql_collection("clash") is None,
                 "the refused create left collection clash in DynamoDB (a second create would now fail)")
        p.expect(psql("SELECT relkind FROM pg_class WHERE oid = 'public.clash'::regclass") == "r",
                 "the plain table public.clash changed")
    finally:
        psql("DROP TABLE public.clash")
        if sql_collection("clash") is not None:
            psql("SELECT whiplash_drop_collection('ddb', 'clash')")


def send_big(head, parts, expect_continue=False):
    """Sends head, then the body parts from another thread while reading
    the answer (a server may answer before the body is in, and close)."""
    conn = Raw(timeout=30)
    try:
        conn.send(head)
        how = "body sent"
        if expect_continue:
            conn.sock.settimeout(3)
            first = conn.response()
            conn.sock.settimeout(30)
            if first is not None and first.status != 100:
                return first, "answered before the body"
            how = "after 100 Continue" if first is not None else "no 100 Continue within 3 s, body sent"
        sender_error = []

        def sender():
            try:
                for part in parts:
                    conn.send(part)
            except OSError as err:
                sender_error.append(err)
        thread = threading.Thread(target=sender, daemon=True)
        thread.start()
        answer = conn.response()
        thread.join(30)
        return answer, how
    finally:
        conn.close()


def t_413(p):
    size = 2 * 1024 * 1024
    start = b'{"query": ['
    filler = start + b" " * (size - len(start) - 2) + b"]}"
    path = search_path("docs").encode()

    def head(extra):
        return (b"POST " + path + b" HTTP/1.1\r\nHost: " + HOST.encode() + b"\r\nx-api-key: " + WRITER.encode()
                + b"\r\nContent-Type: application/json\r\n" + extra + b"\r\n")
    chunks = [filler[i:i + 65536] for i in range(0, len(filler), 65536)]
    answer, how = send_big(head(b"Content-Length: %d\r\n" % size), chunks)
    expect_error(p, f"2 MB with Content-Length ({how})", answer, 413)
    healthy(p, "413 with Content-Length")
    answer, how = send_big(head(b"Content-Length: %d\r\nExpect: 100-continue\r\n" % size), chunks, True)
    expect_error(p, f"2 MB with Expect: 100-continue ({how})", answer, 413)
    healthy(p, "413 with Expect")
    chunked = [b"%x\r\n" % len(c) + c + b"\r\n" for c in chunks] + [b"0\r\n\r\n"]
    answer, how = send_big(head(b"Transfer-Encoding: chunked\r\n"), chunked)
    expect_error(p, f"2 MB chunked ({how})", answer, 413)
    healthy(p, "413 chunked")
    # a body under max_body is read whole
    body = json.dumps({"query": Q, "limit": 3}).encode()
    padded = body[:-1] + b" " * (int(MAX_BODY * 0.85) - len(body)) + b"}"
    answer = W.call("POST", search_path("docs"), padded)
    if expect_ok(p, f"a {len(padded)}-byte body (under max_body)", answer):
        p.extend(search_problems("padded search", answer.json, sql_search("public.docs", Q, 3), DOCS))
    # a chunked body that is small is read too
    conn = Raw()
    try:
        conn.send(head(b"Transfer-Encoding: chunked\r\n") + b"".join(
            b"%x\r\n" % len(body[i:i + 7]) + body[i:i + 7] + b"\r\n" for i in range(0, len(body), 7)) + b"0\r\n\r\n")
        answer = conn.response()
    finally:
        conn.close()
    if expect_ok(p, "a small chunked body", answer):
        p.extend(search_problems("chunked search", answer.json, sql_search("public.docs", Q, 3), DOCS))
    return f"max_body {MAX_BODY}: 2 MB with Content-Length, Expect: 100-continue and chunked; 0.85 x max_body accepted"


def t_503_unavailable(p):
    """DynamoDB unavailable. A project with no collection would not show it
    unless something asks DynamoDB: here every route of a project whose
    server's endpoint is a closed port (127.0.0.1:1) must reach DynamoDB
    (listing Scans whiplash_metadata; search, get and insert through the
    foreign table read the collection's metadata first; create makes
    tables), and each gets "connection refused", which whiplash raises as
    HV00N (fdw_unable_to_establish_connection) after its two quick retries."""
    psql(f"""
CREATE SERVER apidown FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint 'http://127.0.0.1:1', project 'apidown', stage {lit(STAGE)});
CREATE USER MAPPING FOR PUBLIC SERVER apidown OPTIONS (access_key_id 'AKIDOWN', secret_access_key 'down');
GRANT USAGE ON FOREIGN SERVER apidown TO api_writer, api_reader;
CREATE FOREIGN TABLE public.downcoll (id text, vector real[], attributes jsonb)
  SERVER apidown OPTIONS (collection 'gone');
GRANT SELECT, INSERT, UPDATE, DELETE ON public.downcoll TO api_writer;""")
    try:
        cases = [("GET", colls_path("apidown"), None), ("GET", proj_path("apidown"), None),
                 ("POST", search_path("gone", "apidown"), {"query": Q, "limit": 3}),
                 ("GET", search_get_path("gone", Q, 3, project="apidown"), None),
                 ("GET", item_path("gone", "x", "apidown"), None),
                 ("POST", items_path("gone", "apidown"), {"id": "x", "vector": Q}),
                 ("POST", colls_path("apidown"), {"name": "new", "n_features": 4})]
        for method, path, body in cases:
            answer = W.call(method, path, body)
            if expect_error(p, f"{method} {path}", answer, 503, sqlstates={"HV00N"}, need_sqlstate=True):
                p.expect(answer.header("retry-after") == "1",
                         f"{method} {path}: Retry-After {answer.header('retry-after')!r}, expected '1'")
                p.expect(answer.elapsed < 15, f"{method} {path} took {answer.elapsed:.1f} s")
    finally:
        psql("DROP SERVER apidown CASCADE")
    healthy(p, "503s")
    return "listing, project, search (POST, GET), get, insert, create on a closed port: HV00N, Retry-After: 1"


def t_503_timeout(p):
    """request_timeout runs as statement_timeout: a request the proxy holds
    longer is cancelled (57014)."""
    held = sql_items("public.held")
    before = proxy("/__stats").get("hold", 0)
    proxy("/__hold")
    try:
        answer = W.call("GET", item_path("held", "h2", SLOW_PROJECT))
        held_now = proxy("/__stats").get("hold", 0)
    finally:
        proxy("/__release")
    p.expect(held_now > before, "the proxy held no request: the test did not test")
    if expect_error(p, "a request held past request_timeout", answer, 503, sqlstates={"57014"}, need_sqlstate=True):
        p.expect(answer.header("retry-after") == "1", f"Retry-After {answer.header('retry-after')!r}")
    p.expect(REQUEST_TIMEOUT - 0.5 <= answer.elapsed <= REQUEST_TIMEOUT + 5,
             f"answered after {answer.elapsed:.1f} s, request_timeout is {REQUEST_TIMEOUT} s")
    # the pooled sessions go on working
    api = Api(WRITER)
    for n in range(1, 13):
        i = f"h{n}"
        answer = api.call("GET", item_path("held", i, SLOW_PROJECT))
        if expect_ok(p, f"GET {i} after the timeout", answer):
            p.extend(item_problems(f"held {i}", answer.json, i, *held[i]))
    return f"after {answer.elapsed:.1f} s: 57014, Retry-After: 1; the pool then answers"


def t_500_config(p):
    """The server's own misconfiguration: a key whose role does not exist
    (SET ROLE fails), and two foreign servers naming one project."""
    for method, path, body in (("GET", colls_path(), None), ("POST", search_path("docs"), {"query": Q}),
                               ("GET", item_path("docs", DOC_IDS[0]), None)):
        expect_error(p, f"{method} {path} with the key of a role that does not exist",
                     Api(GHOST).call(method, path, body), 500)
    psql(f"""
CREATE SERVER apidup FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint {lit(WEB_URL)}, project {lit(PROJECT)}, stage {lit(STAGE)});
GRANT USAGE ON FOREIGN SERVER apidup TO api_writer, api_reader;""")
    try:
        expect_error(p, "GET collections of a project two servers name", W.call("GET", colls_path()), 500)
    finally:
        psql("DROP SERVER apidup CASCADE")
    expect_ok(p, "GET collections once the second server is gone", W.call("GET", colls_path()))
    healthy(p, "500s")
    return "a key whose role does not exist; two servers with one project"


def t_500(p):
    """A server whose endpoint answers, but not as DynamoDB (a web server's
    501 HTML page): whiplash raises HV000 (fdw_error), which no class of
    the spec claims (it lists HV024 and HV00R, HV00N), and which is no
    fault of the request's: the operator must fix the endpoint."""
    psql(f"""
CREATE SERVER apiweb FOREIGN DATA WRAPPER whiplash
  OPTIONS (endpoint {lit(WEB_URL)}, project 'apiweb', stage {lit(STAGE)});
CREATE USER MAPPING FOR PUBLIC SERVER apiweb OPTIONS (access_key_id 'AKIWEB', secret_access_key 'web');
GRANT USAGE ON FOREIGN SERVER apiweb TO api_writer, api_reader;
CREATE FOREIGN TABLE public.webcoll (id text, vector real[], attributes jsonb)
  SERVER apiweb OPTIONS (collection 'page');
GRANT SELECT ON public.webcoll TO api_writer;""")
    try:
        for method, path, body in (("GET", colls_path("apiweb"), None),
                                   ("POST", search_path("page", "apiweb"), {"query": Q, "limit": 3})):
            expect_error(p, f"{method} {path}", W.call(method, path, body), 500, sqlstates={"HV000"})
    finally:
        psql("DROP SERVER apiweb CASCADE")
    healthy(p, "500s")


# ---------------------------------------------------------------- malformed requests


def t_bodies(p):
    s = search_path("docs")
    nums = ", ".join(repr(x) for x in Q)
    nums15 = ", ".join(repr(x) for x in Q[:15])
    good = json.dumps({"query": Q, "limit": 3})
    V = Q
    cases = [
        ("truncated JSON", "POST", s, b'{"query": [0.1, 0.2'),
        ("truncated after a key", "POST", s, b'{"query"'),
        ("an array, not an object", "POST", s, b"[1, 2, 3]"),
        ("a string, not an object", "POST", s, b'"query"'),
        ("null", "POST", s, b"null"),
        ("a number", "POST", s, b"42"),
        ("empty body", "POST", s, b""),
        ("only spaces", "POST", s, b"   "),
        ("trailing garbage", "POST", s, good.encode() + b" xyz"),
        ("two objects", "POST", s, good.encode() + good.encode()),
        ("single quotes", "POST", s, b"{'query': [" + nums.encode() + b"]}"),
        ("a comment", "POST", s, b'{"query": [' + nums.encode() + b"] /* x */}"),
        ("query as a string", "POST", s, {"query": csv_query(Q)}),
        ("query as an object", "POST", s, {"query": {"a": 1}}),
        ("a string in the query", "POST", s, {"query": Q[:15] + ["x"]}),
        ("null in the query", "POST", s, {"query": Q[:15] + [None]}),
        ("true in the query", "POST", s, {"query": Q[:15] + [True]}),
        ("nested query", "POST", s, {"query": [Q]}),
        ("query of 15", "POST", s, {"query": Q[:15]}),
        ("query of 17", "POST", s, {"query": Q + [0.5]}),
        ("empty query", "POST", s, {"query": []}),
        ("NaN in the query", "POST", s, b'{"query": [NaN, ' + nums15.encode() + b"]}"),
        ("Infinity in the query", "POST", s, b'{"query": [Infinity, ' + nums15.encode() + b"]}"),
        ("-Infinity in the query", "POST", s, b'{"query": [-Infinity, ' + nums15.encode() + b"]}"),
        ("1e400 in the query", "POST", s, b'{"query": [1e400, ' + nums15.encode() + b"]}"),
        ("1e39 in the query (beyond real)", "POST", s, b'{"query": [1e39, ' + nums15.encode() + b"]}"),
        ("a 400-digit integer in the query", "POST", s, b'{"query": [' + b"9" * 400 + b", " + nums15.encode() + b"]}"),
        ("limit 0", "POST", s, {"query": V, "limit": 0}),
        ("limit -1", "POST", s, {"query": V, "limit": -1}),
        ("limit 1001", "POST", s, {"query": V, "limit": 1001}),
        ("limit 10^9", "POST", s, {"query": V, "limit": 10 ** 9}),
        ("limit 2^32 + 5", "POST", s, {"query": V, "limit": 2 ** 32 + 5}),
        ("limit 10^30", "POST", s, {"query": V, "limit": 10 ** 30}),
        ("limit 2.5", "POST", s, {"query": V, "limit": 2.5}),
        ("limit 1e400", "POST", s, b'{"query": [' + nums.encode() + b'], "limit": 1e400}'),
        ("limit as a string", "POST", s, {"query": V, "limit": "5"}),
        ("limit true", "POST", s, {"query": V, "limit": True}),
        ("filter as an array", "POST", s, {"query": V, "filter": [1]}),
        ("filter as a string", "POST", s, {"query": V, "filter": '{"group": 1}'}),
        ("deep nesting", "POST", s, b'{"query": ' + b"[" * 100000 + b"]" * 100000 + b"}"),
        ("deep nesting of objects", "POST", s, b'{"query": [' + nums.encode() + b'], "filter": '
         + b'{"a": ' * 50000 + b"1" + b"}" * 50000 + b"}"),
        ("invalid UTF-8 in a string", "POST", s, b'{"query": [' + nums.encode() + b'], "filter": {"name": "\xff\xfe"}}'),
        ("invalid UTF-8 in a key", "POST", s, b'{"query": [' + nums.encode() + b'], "filter": {"\xc3\x28": 1}}'),
        ("a bad escape", "POST", s, b'{"query": [' + nums.encode() + b'], "filter": {"name": "\\q"}}'),
        ("an id that is a number", "POST", items_path("docs"), {"id": 5, "vector": V}),
        ("an empty id", "POST", items_path("docs"), {"id": "", "vector": V}),
        ("no id", "POST", items_path("docs"), {"vector": V}),
        ("no vector", "POST", items_path("docs"), {"id": "cat-novec"}),
        ("a vector as a string", "POST", items_path("docs"), {"id": "cat-vecstr", "vector": csv_query(V)}),
        ("a vector of booleans", "POST", items_path("docs"), {"id": "cat-bool", "vector": [True] * DIMS}),
        ("a vector of 15", "POST", items_path("docs"), {"id": "cat-15", "vector": V[:15]}),
        ("NaN in a vector", "POST", items_path("docs"), b'{"id": "cat-nan", "vector": [NaN, ' + nums15.encode() + b"]}"),
        ("1e39 in a vector", "POST", items_path("docs"), b'{"id": "cat-big", "vector": [1e39, ' + nums15.encode() + b"]}"),
        ("attributes as an array", "POST", items_path("docs"), {"id": "cat-attrs", "vector": V, "attributes": [1]}),
        ("attributes as a string", "POST", items_path("docs"), {"id": "cat-attrs2", "vector": V, "attributes": "x"}),
        ("a NUL in the id", "POST", items_path("docs"), b'{"id": "cat\\u0000nul", "vector": [' + nums.encode() + b"]}"),
        ("an id of 3000 bytes", "POST", items_path("docs"), {"id": "cat" + "k" * 3000, "vector": V}),
        ("vectors as an object", "POST", items_path("docs") + "/batch", {"vectors": {}}),
        ("vectors of numbers", "POST", items_path("docs") + "/batch", {"vectors": [1, 2]}),
        ("no vectors", "POST", items_path("docs") + "/batch", {}),
        ("an entry without a vector", "POST", items_path("docs") + "/batch", {"vectors": [{"id": "cat-b1"}]}),
        ("PUT without a vector", "PUT", item_path("docs", "cat-put"), {"attributes": {}}),
        ("PUT of 17", "PUT", item_path("docs", "cat-put"), {"vector": V + [1.0]}),
        ("PUT of an array", "PUT", item_path("docs", "cat-put"), [V]),
        ("create: name a number", "POST", colls_path(), {"name": 5, "n_features": 4}),
        ("create: no dimensions", "POST", colls_path(), {"name": "cat1"}),
        ("create: no name", "POST", colls_path(), {"n_features": 4}),
        ("create: an empty name", "POST", colls_path(), {"name": "", "n_features": 4}),
        ("create: 0 dimensions", "POST", colls_path(), {"name": "cat2", "n_features": 0}),
        ("create: -3 dimensions", "POST", colls_path(), {"name": "cat3", "n_features": -3}),
        ("create: dimensions as a string", "POST", colls_path(), {"name": "cat4", "n_features": "16"}),
        ("create: 1.5 dimensions", "POST", colls_path(), {"name": "cat5", "n_features": 1.5}),
        ("create: 10^12 dimensions", "POST", colls_path(), {"name": "cat6", "n_features": 10 ** 12}),
        ("create: 2^32 + 4 dimensions", "POST", colls_path(), {"name": "cat6b", "n_features": 2 ** 32 + 4}),
        ("create: metric manhattan", "POST", colls_path(), {"name": "cat7", "n_features": 4, "metric": "manhattan"}),
        ("create: metric as a number", "POST", colls_path(), {"name": "cat7b", "n_features": 4, "metric": 1}),
        ("create: format zip", "POST", colls_path(), {"name": "cat8", "n_features": 4, "format": "zip"}),
        ("create: n_planes a string", "POST", colls_path(), {"name": "cat9", "n_features": 4, "n_planes": "six"}),
        ("create: bit_start an array", "POST", colls_path(), {"name": "cat9b", "n_features": 4, "bit_start": [1]}),
        ("create: a quote and SQL in the name", "POST", colls_path(),
         {"name": 'cat"; DROP TABLE public.canary; --', "n_features": 4}),
        ("create: a slash in the name", "POST", colls_path(), {"name": "cat/x", "n_features": 4}),
        ("create: a 300-character name", "POST", colls_path(), {"name": "cat" + "x" * 297, "n_features": 4}),
    ]
    psql("CREATE TABLE public.canary (x int)")
    before = [c["name"] for c in sql_collections()]
    for label, method, path, body in cases:
        answer = Api(WRITER).call(method, path, body)
        expect_error(p, label, answer, 400)
        healthy(p, label)
    after = [c["name"] for c in sql_collections()]
    p.expect(after == before, f"collections changed: {sorted(set(after) ^ set(before))}")
    p.expect(psql("SELECT to_regclass('public.canary') IS NOT NULL") == "t", "public.canary was dropped")
    psql("DROP TABLE public.canary")
    stray = sql_json("SELECT coalesce(json_agg(id), '[]') FROM docs WHERE id LIKE 'cat%'")
    p.expect(not stray, f"refused writes stored {short(stray)}")
    p.extend(table_differences("docs after the malformed bodies", "public.docs", DOCS))
    return f"{len(cases)} bodies, each 400 with the error body, nothing written, the server alive after each"


def t_paths(p):
    existing = DOC_IDS[0]
    csv = csv_query(Q)
    s = search_path("docs")
    cases = [
        # (label, path, statuses)
        ("an encoded slash in the project", f"/projects/{PROJECT}%2Fcollections", {404}),
        ("a double-encoded collection name", colls_path() + "/%2564ocs", {404}),
        ("a bad escape %zz", items_path("docs") + "/%zz", {400, 404}),
        ("a lone %", items_path("docs") + "/%", {400, 404}),
        ("a short escape %4", items_path("docs") + "/%4", {400, 404}),
        ("a NUL after an existing id", item_path("docs", existing) + "%00", {400, 404}),
        ("a NUL after an existing id and more", item_path("docs", existing) + "%00xyz", {400, 404}),
        ("invalid UTF-8 %FF%FE", items_path("docs") + "/%FF%FE", {400, 404}),
        ("overlong UTF-8 %C0%AF", items_path("docs") + "/%C0%AF", {400, 404}),
        ("a NUL in a collection name", colls_path() + "/docs%00x", {400, 404}),
        ("a NUL in a project name", f"/projects/{PROJECT}%00x/collections", {400, 404}),
        (".. segments", coll_path("docs") + "/../docs/items/nosuch", {400, 404}),
        ("encoded .. segments", items_path("docs") + "/..%2F..%2F..%2Fhealthz", {400, 404}),
        ("an empty segment", "/projects//collections", {400, 404}),
        ("an empty item id", items_path("docs") + "/", {400, 404, 405}),
        ("an item id of 8000 bytes", item_path("docs", "k" * 8000), {400, 404, 414}),
        ("a project name of 8000 bytes", colls_path("p" * 8000), {400, 404, 414}),
        ("query=abc", s + "?query=abc", {400}),
        ("query=", s + "?query=", {400}),
        ("no query", s + "?limit=3", {400}),
        ("no query string", s, {400}),
        ("query=1,,2", s + "?query=1,,2", {400}),
        ("query with a trailing comma", s + "?query=" + csv + ",", {400}),
        ("query=%ZZ", s + "?query=%ZZ", {400}),
        ("query of 15", s + "?query=" + csv_query(Q[:15]), {400}),
        ("query=nan,...", s + "?query=nan," + csv_query(Q[1:]), {400}),
        ("query=inf,...", s + "?query=inf," + csv_query(Q[1:]), {400}),
        ("query=1e400,...", s + "?query=1e400," + csv_query(Q[1:]), {400}),
        ("query=0x10,...", s + "?query=0x10," + csv_query(Q[1:]), {400}),
        ("query=[0.1 unterminated", s + "?query=%5B0.1", {400}),
        ("query as a JSON object", s + "?query=%7B%7D", {400}),
        ("limit=abc", s + "?query=" + csv + "&limit=abc", {400}),
        ("limit=", s + "?query=" + csv + "&limit=", {400}),
        ("limit=0", s + "?query=" + csv + "&limit=0", {400}),
        ("limit=-1", s + "?query=" + csv + "&limit=-1", {400}),
        ("limit=1001", s + "?query=" + csv + "&limit=1001", {400}),
        ("limit=1000000000", s + "?query=" + csv + "&limit=1000000000", {400}),
        ("limit=99999999999999999999", s + "?query=" + csv + "&limit=99999999999999999999", {400}),
        ("limit=5x", s + "?query=" + csv + "&limit=5x", {400}),
        ("limit=2.5", s + "?query=" + csv + "&limit=2.5", {400}),
        ("filter=notjson", s + "?query=" + csv + "&filter=notjson", {400}),
        ("filter=[1]", s + "?query=" + csv + "&filter=%5B1%5D", {400}),
        ("filter truncated", s + "?query=" + csv + "&filter=%7B%22a%22", {400}),
        ("filter with invalid UTF-8", s + "?query=" + csv + "&filter=%7B%22a%22%3A%22%FF%22%7D", {400}),
    ]
    for label, path, statuses in cases:
        answer = Api(WRITER).call("GET", path)
        expect_error(p, label, answer, statuses)
        if answer.status == 200 and "NUL" in label:
            p.append(f"{label}: answered an item (the id was cut at the NUL?)")
        healthy(p, label)
    return f"{len(cases)} paths and query strings, each 4xx with the error body"


def t_protocol(p):
    host = f"Host: {HOST}:{PORT}\r\n".encode()
    colls = colls_path().encode()
    nums = ", ".join(repr(x) for x in Q).encode()
    body = b'{"query": [' + nums + b'], "limit": 3}'
    cases = [
        # (label, bytes, statuses, JSON body required)
        ("a header without a value", b"GET " + colls + b" HTTP/1.1\r\n" + host + b"x-api-key:\r\n\r\n", {401}, True),
        ("a header of spaces", b"GET " + colls + b" HTTP/1.1\r\n" + host + b"x-api-key:    \r\n\r\n", {401}, True),
        ("a key of invalid UTF-8", b"GET " + colls + b" HTTP/1.1\r\n" + host + b"x-api-key: \xff\xfe\r\n\r\n",
         {400, 401}, True),
        ("a header line without a colon", b"GET " + colls + b" HTTP/1.1\r\n" + host + b"x-api-key\r\n\r\n",
         range(400, 500), False),
        ("a key of 100 KB", b"GET " + colls + b" HTTP/1.1\r\n" + host + b"x-api-key: " + b"k" * 100000 + b"\r\n\r\n",
         range(400, 500), False),
        ("a path of 100 KB", b"GET " + items_path("docs").encode() + b"/" + b"k" * 100000 + b" HTTP/1.1\r\n"
         + host + b"\r\n", range(400, 500), False),
        ("a raw non-ASCII path", b"GET " + items_path("docs").encode() + b"/\xff\xfe HTTP/1.1\r\n" + host
         + b"x-api-key: " + WRITER.encode() + b"\r\n\r\n", range(400, 500), False),
        ("Content-Length: abc", b"POST " + search_path("docs").encode() + b" HTTP/1.1\r\n" + host
         + b"x-api-key: " + WRITER.encode() + b"\r\nContent-Length: abc\r\n\r\n" + body, range(400, 500), False),
        ("Content-Length: -5", b"POST " + search_path("docs").encode() + b" HTTP/1.1\r\n" + host
         + b"x-api-key: " + WRITER.encode() + b"\r\nContent-Length: -5\r\n\r\n" + body, range(400, 500), False),
        ("a bad chunk size", b"POST " + search_path("docs").encode() + b" HTTP/1.1\r\n" + host
         + b"x-api-key: " + WRITER.encode() + b"\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n" + body + b"\r\n0\r\n\r\n",
         range(400, 500), False),
        ("unknown method FOO", b"FOO /healthz HTTP/1.1\r\n" + host + b"\r\n", {405, 501}, True),
    ]
    for label, data, statuses, need_json in cases:
        answer = raw(data)
        expect_error(p, label, answer, statuses, need_json=need_json)
        if answer is not None and answer.status == 405:
            p.expect("GET" in (answer.header("allow") or ""), f"{label}: Allow {answer.header('allow')!r}")
        healthy(p, label)
    # a body shorter than its Content-Length, then the client goes away
    conn = Raw()
    conn.send(b"POST " + search_path("docs").encode() + b" HTTP/1.1\r\n" + host + b"x-api-key: " + WRITER.encode()
              + b"\r\nContent-Length: 500\r\n\r\n" + body[:20])
    conn.close()
    healthy(p, "a client that left mid-body")
    p.expect(server_alive(), "the server is gone")
    answer = W.call("POST", search_path("docs"), {"query": Q, "limit": 3})
    if expect_ok(p, "a search after the catalogue", answer):
        p.extend(search_problems("search after the catalogue", answer.json, sql_search("public.docs", Q, 3), DOCS))
    return f"{len(cases)} malformed requests, each 4xx (JSON where the request reaches the handler)"


def t_slow_clients(p):
    body = json.dumps({"query": Q, "limit": 3}).encode()
    want = sql_search("public.docs", Q, 3)
    slow = []
    try:
        for n in range(20):
            conn = Raw(timeout=20)
            if n < 12:  # headers, then 10 bytes of a body, then nothing (more than the pool's 8 connections)
                conn.send(b"POST " + search_path("docs").encode() + b" HTTP/1.1\r\nHost: " + HOST.encode()
                          + b"\r\nx-api-key: " + WRITER.encode() + b"\r\nContent-Type: application/json\r\n"
                          + b"Content-Length: %d\r\n\r\n" % len(body) + body[:10])
            else:  # half a header line
                conn.send(b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Sl")
            slow.append(conn)
        time.sleep(0.3)
        api = Api(WRITER, timeout=20)
        worst = 0.0
        for n in range(30):
            if n % 3 == 0:
                answer = api.call("POST", search_path("docs"), {"query": Q, "limit": 3})
                if expect_ok(p, "search beside slow clients", answer):
                    p.extend(search_problems("search beside slow clients", answer.json, want, DOCS))
            elif n % 3 == 1:
                i = DOC_IDS[n]
                answer = api.call("GET", item_path("docs", i))
                if expect_ok(p, "get beside slow clients", answer):
                    p.extend(item_problems("get beside slow clients", answer.json, i, *DOCS[i]))
            else:
                answer = Api(None, timeout=20).call("GET", "/healthz")
                expect_ok(p, "healthz beside slow clients", answer)
            worst = max(worst, answer.elapsed)
        p.expect(worst < 2.0, f"the slowest request beside the slow clients took {worst:.2f} s")
        # the first slow client finishes its body: its search is answered
        slow[0].send(body[10:])
        answer = slow[0].response()
        if expect_ok(p, "the slow client's own request", answer):
            p.extend(search_problems("the slow client's search", answer.json, want, DOCS))
    finally:
        for conn in slow:
            conn.close()
    healthy(p, "slow clients")
    return f"20 stalled connections (12 mid-body, 8 mid-header); 30 requests beside them, slowest {worst * 1000:.0f} ms"


LOG_LINE = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z) (\S+) ([A-Z]+) (\S+) (\d{3}) (\d+) "
                      r"(\d+(?:\.\d+)?(?:us|µs|ms|s)) role=(\S+)$")


def t_log(p):
    sequence = [
        # (method, path, key, body, status, role: None = not checked)
        ("GET", "/healthz", None, None, 200, "-"),
        ("GET", colls_path(), WRITER, None, 200, "api_writer"),
        ("GET", search_get_path("docs", Q, 3), WRITER, None, 200, "api_writer"),
        ("GET", colls_path(), None, None, 401, "-"),
        ("GET", colls_path(), WRONG_KEY, None, 401, "-"),
        ("POST", search_path("docs"), READER, {"query": Q, "limit": 3}, 403, "api_reader"),
        ("GET", item_path("docs", "evil\nline\r\n2026-01-01T00:00:00Z 6.6.6.6 GET /x 200 1 1ms role=x"),
         WRITER, None, 404, "api_writer"),
        ("GET", "/openapi.json", None, None, 200, "-"),
    ]
    time.sleep(0.5)  # lines of earlier requests are in
    start = os.path.getsize(LOG)
    answers = []
    api = Api(None)
    for method, path, key, body, status, role in sequence:
        answers.append(api.call(method, path, body, key=key))
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with open(LOG, "rb") as log:
            log.seek(start)
            text = log.read()
        if text.count(b"\n") >= len(sequence):
            break
        time.sleep(0.1)
    time.sleep(0.5)
    with open(LOG, "rb") as log:
        log.seek(start)
        lines = log.read().decode("utf-8", "replace").splitlines()
    p.expect(len(lines) == len(sequence), f"{len(lines)} log lines for {len(sequence)} requests: {short(lines, 600)}")
    now = time.time()
    for (method, path, key, body, status, role), answer, line in zip(sequence, answers, lines):
        p.expect(answer.status == status, f"{method} {path[:60]}: {answer}, expected {status}")
        if "evil" in path:
            p.expect(re.search(" GET " + re.escape(items_path("docs")) + r"/evil\S* 404 %d \S+ role=api_writer$"
                               % len(answer.body), line),
                     f"log line {line!r} for a path with an encoded newline")
            continue
        match = LOG_LINE.match(line)
        if not p.expect(match, f"log line {line!r} is not 'TIME ADDRESS METHOD PATH STATUS BYTES DURATION role=ROLE'"):
            continue
        when, address, l_method, l_path, l_status, l_bytes, _, l_role = match.groups()
        stamp = calendar.timegm(time.strptime(when[:19], "%Y-%m-%dT%H:%M:%S"))
        p.expect(abs(stamp - now) < 300, f"log time {when} is not now (UTC)")
        p.expect(address == "127.0.0.1", f"log address {address!r}")
        p.expect(l_method == method, f"log method {l_method} for {method}")
        p.expect(l_path == path.split("?")[0], f"log path {l_path!r} for {path[:80]!r} (no query string)")
        p.expect(int(l_status) == status, f"log status {l_status} for {status}")
        p.expect(int(l_bytes) == len(answer.body), f"log bytes {l_bytes}, the body had {len(answer.body)}")
        if role is not None:
            p.expect(l_role == role, f"log role {l_role!r} for {method} {path[:60]}, expected {role!r}")
    return "one line per request, in order; query string not logged; a newline in a path does not make a line"


# ---------------------------------------------------------------- CLI

CLI_DIR = os.path.join(WORK, "cli")
CLI_HOME = os.path.join(CLI_DIR, "home")


def cli(*args, key=WRITER, url=URL, timeout=300):
    environment = {k: v for k, v in os.environ.items() if not k.startswith("WHIPLASH_")}
    environment.update(HOME=CLI_HOME, XDG_STATE_HOME=os.path.join(CLI_HOME, "state"),
                       XDG_CONFIG_HOME=os.path.join(CLI_HOME, "config"),
                       XDG_CACHE_HOME=os.path.join(CLI_HOME, "cache"),
                       WHIPLASH_API_URL=url, WHIPLASH_PROJECT=PROJECT)
    if key is not None:
        environment["WHIPLASH_API_KEY"] = key
    return subprocess.run([CLI, *args], cwd=CLI_DIR, env=environment, capture_output=True, timeout=timeout)


def cli_problem(label, result, code=0):
    if result.returncode != code:
        return (f"{label}: exit {result.returncode}, expected {code}; stdout {result.stdout[:300]!r}; "
                f"stderr {result.stderr[-400:]!r}")
    return None


def cli_json(p, label, result):
    problem = cli_problem(label, result)
    if problem:
        p.append(problem)
        return NOJSON
    try:
        return json.loads(result.stdout)
    except ValueError:
        p.append(f"{label}: --json output is not JSON: {result.stdout[:300]!r}")
        return NOJSON


CLI_RNG = random.Random(424242)
JSONL_IDS = [new_id(CLI_RNG) for _ in range(500)]
JSONL = {i: (new_vector(CLI_RNG), {"src": "jsonl", "n": n, "odd": n % 2 == 1} if n % 2 == 0 else None)
         for n, i in enumerate(JSONL_IDS)}
CSV_IDS = [new_id(CLI_RNG) for _ in range(200)]
CSV = {i: (new_vector(CLI_RNG), None) for i in CSV_IDS}


def t_cli_import(p):
    os.makedirs(CLI_HOME, exist_ok=True)
    p.expect(not (problem := cli_problem("create clijson", cli("create", "clijson", "--dimensions", str(DIMS))))
             , problem)
    p.expect(not (problem := cli_problem("create clicsv", cli("create", "clicsv", "--dimensions", str(DIMS),
                                                                 "--metric", "l2"))), problem)
    for name, metric in (("clijson", "cosine"), ("clicsv", "l2")):
        got = sql_collection(name)
        p.expect(got is not None and got["n_features"] == DIMS and got["metric"] == metric
                 and got["table"] == f"public.{name}", f"{name} in SQL: {got}")
    jsonl = os.path.join(CLI_DIR, "items.jsonl")
    with open(jsonl, "w") as out:
        for i in JSONL_IDS:
            vector, attrs = JSONL[i]
            out.write(json.dumps({"id": i, "vector": vector, **({"attributes": attrs} if attrs else {})}) + "\n")
    csv = os.path.join(CLI_DIR, "items.csv")
    with open(csv, "w") as out:
        out.write("id," + ",".join(f"v{n}" for n in range(1, DIMS + 1)) + "\n")
        for i in CSV_IDS:
            out.write(i + "," + ",".join(repr(x) for x in CSV[i][0]) + "\n")
    result = cli("import", "clijson", jsonl, "--format", "jsonl", "--batch", "64")
    if not p.expect(result.returncode == 0, cli_problem("import jsonl", result)):
        return
    result = cli("import", "clicsv", csv, "--format", "csv", "--batch", "50")
    if not p.expect(result.returncode == 0, cli_problem("import csv", result)):
        return
    p.extend(table_differences("clijson", "public.clijson", JSONL))
    p.extend(table_differences("clicsv", "public.clicsv", CSV))
    return f"{len(JSONL)} JSON lines (batches of 64), {len(CSV)} CSV rows with a header (batches of 50)"


def t_cli_read(p):
    v = QUERIES[3]
    got = cli_json(p, "search --query", cli("--json", "search", "clijson", "--query", json.dumps(v), "--limit", "7"))
    if got is not NOJSON:
        p.extend(search_problems("cli search", got, sql_search("public.clijson", v, 7), JSONL))
    query_file = os.path.join(CLI_DIR, "query.json")
    with open(query_file, "w") as out:
        json.dump(QUERIES[4], out)
    got = cli_json(p, "search --query-file", cli("--json", "search", "clicsv", "--query-file", query_file,
                                                 "--limit", "5"))
    if got is not NOJSON:
        p.extend(search_problems("cli search --query-file", got, sql_search("public.clicsv", QUERIES[4], 5), CSV))
    got = cli_json(p, "search default limit", cli("--json", "search", "clicsv", "--query", json.dumps(v)))
    if got is not NOJSON:
        p.extend(search_problems("cli search default limit", got, sql_search("public.clicsv", v, 5), CSV))
    filt = {"src": "jsonl", "odd": False}
    got = cli_json(p, "search --filter", cli("--json", "search", "clijson", "--query", json.dumps(v), "--limit", "6",
                                             "--filter", json.dumps(filt)))
    if got is not NOJSON:
        p.extend(search_problems("cli search --filter", got, sql_search("public.clijson", v, 6, filt), JSONL))
    rows = sql_items("public.clijson")
    for i in (JSONL_IDS[0], JSONL_IDS[1], JSONL_IDS[-1]):
        got = cli_json(p, f"get clijson {i}", cli("--json", "get", "clijson", i))
        if got is not NOJSON:
            p.extend(item_problems(f"cli get {i}", got, i, *rows[i]))
    got = cli_json(p, "get clijson", cli("--json", "get", "clijson"))
    if got is not NOJSON:
        p.extend(coll_problems("cli get clijson", got, sql_collection("clijson")))
    got = cli_json(p, "collections", cli("--json", "collections"))
    if got is not NOJSON:
        want = sql_collections()
        p.expect(isinstance(got, list) and [c.get("name") for c in got if isinstance(c, dict)]
                 == [w["name"] for w in want], f"cli collections {short(got)}, SQL {[w['name'] for w in want]}")
    return "search (--query, --query-file, --filter, default limit), get of items and a collection, collections"


def t_cli_resume(p):
    """A file whose line 450 is a zero vector, which a cosine collection
    refuses at the server (so no client-side check can catch it first):
    with batches of 100, 400 rows arrive and the import fails; the line is
    then fixed in place (same length, so the offsets before it hold) and the
    import run again. Rows the first run wrote are not sent again: markers
    written over two of them meanwhile survive."""
    rng = random.Random(777)
    ids = [f"r{n:04d}-{new_id(rng)}" for n in range(1000)]
    vectors = [new_vector(rng) for _ in ids]
    bad = 449
    vectors[bad] = [0.5] + [0.0] * (DIMS - 1)

    def line(n, broken=False):
        values = ["0.0"] * DIMS if broken else [repr(x) for x in vectors[n]]
        if n == bad and not broken:
            values = ["0.5"] + ["0.0"] * (DIMS - 1)
        return '{"id": "%s", "vector": [%s], "attributes": {"n": %d}}\n' % (ids[n], ", ".join(values), n)
    path = os.path.join(CLI_DIR, "resume.jsonl")
    with open(path, "w") as out:
        out.writelines(line(n, n == bad) for n in range(1000))
    size = os.path.getsize(path)
    p.expect(not (problem := cli_problem("create cliresume", cli("create", "cliresume", "--dimensions", str(DIMS)))),
             problem)
    first = cli("import", "cliresume", path, "--format", "jsonl", "--batch", "100")
    p.expect(first.returncode == 1, f"the failing import exited {first.returncode}, expected 1 (the server refused a "
                                    f"batch); stderr {first.stderr[-300:]!r}")
    stored = sql_ids("public.cliresume")
    p.expect(stored == set(ids[:400]),
             f"after the failure SQL holds {len(stored)} rows; expected exactly the first 400 "
             f"(prefix: {stored == set(ids[:len(stored)])})")
    markers = {ids[0]: [0.25] * DIMS, ids[250]: [-0.25] * DIMS}
    for i, vector in markers.items():
        expect_success(p, f"marker on {i}", W.call("PUT", item_path("cliresume", i), {"vector": vector}))
    with open(path, "w") as out:
        out.writelines(line(n) for n in range(1000))
    p.expect(os.path.getsize(path) == size, "the fixed file changed size")
    second = cli("import", "cliresume", path, "--format", "jsonl", "--batch", "100")
    p.expect(second.returncode == 0, cli_problem("the resumed import", second))
    rows = sql_items("public.cliresume")
    p.expect(len(rows) == 1000, f"SQL holds {len(rows)} rows, expected 1000")
    # a marker was PUT without attributes: it has none
    want = {i: (markers[i], None) if i in markers else (vectors[n], {"n": n}) for n, i in enumerate(ids)}
    p.extend(table_differences("cliresume", "public.cliresume", want))
    return "exit 1 at the bad batch, 400 rows; after the fix, 1000 rows, the first run's rows not sent again"


def t_cli_delete(p):
    i = JSONL_IDS[5]
    p.expect(not (problem := cli_problem("delete item", cli("delete", "clijson", i))), problem)
    p.expect(i not in sql_ids("public.clijson"), "the deleted item is still in SQL")
    result = cli("get", "clijson", i)
    p.expect(result.returncode == 4, f"get of the deleted item exited {result.returncode}, expected 4")
    result = cli("delete", "clicsv")
    p.expect(result.returncode == 2, f"delete of a collection without --yes exited {result.returncode}, expected 2")
    p.expect(sql_collection("clicsv") is not None, "delete without --yes dropped the collection")
    p.expect(not (problem := cli_problem("delete --yes", cli("delete", "clicsv", "--yes"))), problem)
    p.expect(sql_collection("clicsv") is None, "clicsv is still in whiplash_collections")
    p.expect(psql("SELECT to_regclass('public.clicsv') IS NULL") == "t", "public.clicsv still exists")


def t_cli_codes(p):
    query = json.dumps(QUERIES[0])
    cases = [
        ("--help", [], ["--help"], 0),
        ("no arguments", [], [], 2),
        ("an unknown command", [], ["frobnicate"], 2),
        ("an unknown option", [], ["collections", "--frobnicate"], 2),
        ("search without a query", [], ["search", "clijson"], 2),
        ("search without a name", [], ["search"], 2),
        ("create without --dimensions", [], ["create", "clinodim"], 2),
        ("create with --dimensions abc", [], ["create", "clinodim", "--dimensions", "abc"], 2),
        ("--limit abc", [], ["search", "clijson", "--query", query, "--limit", "abc"], 2),
        ("import of a missing file", [], ["import", "clijson", os.path.join(CLI_DIR, "nosuch.jsonl")], None),
        ("no server", ["--url", "http://127.0.0.1:1"], ["collections"], 3),
        ("no server, search", ["--url", "http://127.0.0.1:1"], ["search", "clijson", "--query", query], 3),
        ("a collection not found", [], ["get", "nosuchcoll"], 4),
        ("an item not found", [], ["get", "clijson", "nosuchitem"], 4),
        ("search of a missing collection", [], ["search", "nosuchcoll", "--query", query], 4),
        ("delete of a missing item", [], ["delete", "clijson", "nosuchitem"], 4),
        ("an error answer (2 dimensions)", [], ["search", "clijson", "--query", "[0.1, 0.2]"], 1),
        ("create of an existing collection", [], ["create", "clijson", "--dimensions", "16"], 1),
    ]
    for label, before, args, code in cases:
        result = cli(*before, *args)
        if code is None:
            p.expect(result.returncode not in (0, 3, 4), f"{label}: exit {result.returncode}")
        else:
            p.expect(result.returncode == code, f"{label}: exit {result.returncode}, expected {code}; "
                                                f"stderr {result.stderr[-200:]!r}")
    result = cli("collections", key=WRONG_KEY)
    p.expect(result.returncode == 1, f"a wrong key: exit {result.returncode}, expected 1")
    result = cli("--help")
    p.expect(b"import" in result.stdout + result.stderr, "--help does not mention import")
    p.expect(sql_collection("clinodim") is None, "a usage error created a collection")
    return "0 help, 1 error answer, 2 usage, 3 no server, 4 not found"


# ---------------------------------------------------------------- load


def percentile(sorted_values, fraction):
    return sorted_values[min(len(sorted_values) - 1, int(fraction * (len(sorted_values) - 1) + 0.5))]


def t_concurrency(p):
    rng = random.Random(99)
    queries = [new_vector(rng) for _ in range(40)]
    filters = [({"group": n % 5} if n % 4 == 3 else None) for n in range(40)]
    want = sql_searches("public.docs", queries, 10, filters)
    rows = sql_items("public.docs")
    ids = sorted(rows)
    stop_at = time.monotonic() + RUN_SECONDS
    latencies = [[] for _ in range(16)]
    bad = []
    lock = threading.Lock()

    def client(w):
        api = Api(WRITER, timeout=60)
        r = random.Random(1000 + w)
        while time.monotonic() < stop_at:
            x = r.random()
            n = r.randrange(len(queries))
            start = time.monotonic()
            try:
                if x < 0.45:
                    body = {"query": queries[n], "limit": 10}
                    if filters[n] is not None:
                        body["filter"] = filters[n]
                    answer = api.call("POST", search_path("docs"), body)
                    problems = ([f"POST search: {answer}"] if answer.status != 200 else
                                search_problems(f"POST search {n}", answer.json, want[n], DOCS))
                elif x < 0.55:
                    answer = api.call("GET", search_get_path("docs", queries[n], 10, filters[n]))
                    problems = ([f"GET search: {answer}"] if answer.status != 200 else
                                search_problems(f"GET search {n}", answer.json, want[n], DOCS))
                else:
                    i = r.choice(ids)
                    answer = api.call("GET", item_path("docs", i))
                    problems = ([f"GET item: {answer}"] if answer.status != 200 else
                                item_problems(f"GET item {i}", answer.json, i, *rows[i]))
            except Exception as err:
                problems = [f"{type(err).__name__}: {err}"]
                api = Api(WRITER, timeout=60)
            latencies[w].append(time.monotonic() - start)
            if problems:
                with lock:
                    bad.extend(problems)
    threads = [threading.Thread(target=client, args=(w,)) for w in range(16)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    everything = sorted(t for per in latencies for t in per)
    total = len(everything)
    p.expect(total > 0, "no request was made")
    p.extend(bad[:10])
    if bad:
        p.append(f"{len(bad)} wrong answers or errors in all")
    if total:
        figure(f"p50 {percentile(everything, 0.5) * 1000:.1f} ms, p99 {percentile(everything, 0.99) * 1000:.1f} ms, "
               f"{total / elapsed:.0f} requests/s (16 clients, {elapsed:.0f} s, {total} requests: "
               f"45% POST search, 10% GET search, 45% GET item, k = 10)")
    healthy(p, "the concurrency run")
    return f"16 clients for {RUN_SECONDS:g} s, {total} requests, {len(bad)} wrong"


def t_memory(p):
    rows = sql_items("public.docs")
    ids = sorted(rows)
    rng = random.Random(5)
    queries = [new_vector(rng) for _ in range(20)]
    want = sql_searches("public.docs", queries, 5)
    openapi = OPENAPI.get("body")

    def one(api, i, n):
        """Request number n of a client: one of 10 kinds, each checked; the
        five that reach PostgreSQL one request in eight, so that 100,000
        requests take about a minute."""
        kind = n % 40
        if kind >= 10:
            kind %= 5
        if kind == 0:
            answer = api.call("GET", "/healthz", key=None)
            return answer.status == 200 and answer.json == {"status": "ok"}
        if kind == 1:
            answer = api.call("GET", "/openapi.json", key=None)
            return answer.status == 200 and (openapi is None or answer.body == openapi)
        if kind == 2:
            return api.call("GET", colls_path(), key=None).status == 401
        if kind == 3:
            return api.call("GET", colls_path(), key=WRONG_KEY).status == 401
        if kind == 4:
            return api.call("GET", "/nosuch/route").status == 404
        if kind == 5:
            item = ids[i % len(ids)]
            answer = api.call("GET", item_path("docs", item))
            return answer.status == 200 and not item_problems("", answer.json, item, *rows[item])
        if kind == 6:
            m = i % len(queries)
            answer = api.call("POST", search_path("docs"), {"query": queries[m]})
            return answer.status == 200 and not search_problems("", answer.json, want[m])
        if kind == 7:
            m = i % len(queries)
            answer = api.call("GET", search_get_path("docs", queries[m], 5))
            return answer.status == 200 and not search_problems("", answer.json, want[m])
        if kind == 8:
            return api.call("GET", item_path("docs", f"missing-{i}")).status == 404
        return api.call("POST", search_path("docs"), {"query": queries[i % 20][:15]}).status == 400

    per_client = [REQUESTS // 4 + (1 if w < REQUESTS % 4 else 0) for w in range(4)]
    done = [0, 0, 0, 0]
    wrong = [0, 0, 0, 0]
    examples = []

    def client(w):
        api = Api(WRITER, timeout=60)
        for n in range(per_client[w]):
            try:
                ok = one(api, n * 4 + w, n + w)
            except Exception as err:
                ok = False
                if len(examples) < 5:
                    examples.append(f"{type(err).__name__}: {err}")
                api = Api(WRITER, timeout=60)
            if not ok:
                wrong[w] += 1
                if len(examples) < 5:
                    examples.append(f"request kind {(n + w) % 40} answered unexpectedly")
            done[w] += 1
    warm_at = max(1, REQUESTS // 20)
    curve = []
    rss_warm = None
    threads = [threading.Thread(target=client, args=(w,)) for w in range(4)]
    began = time.monotonic()
    for thread in threads:
        thread.start()
    next_mark = REQUESTS // 10
    while any(thread.is_alive() for thread in threads):
        total = sum(done)
        if rss_warm is None and total >= warm_at:
            rss_warm = rss_kb()
            curve.append((total, rss_warm))
        if next_mark and total >= next_mark:
            curve.append((total, rss_kb()))
            next_mark += REQUESTS // 10
        time.sleep(0.02)
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - began
    rss_end = rss_kb()
    curve.append((sum(done), rss_end))
    figure(f"memory: {sum(done)} requests in {elapsed:.0f} s ({sum(done) / elapsed:.0f}/s), server VmRSS in kB "
           f"after N requests (N:kB): " + " ".join(f"{n}:{kb}" for n, kb in curve))
    p.expect(sum(done) == REQUESTS, f"{sum(done)} requests made of {REQUESTS}")
    MEMORY["wrong"] = sum(wrong)
    MEMORY["examples"] = examples
    if rss_warm is None:
        rss_warm = curve[0][1]
    growth = rss_end - rss_warm
    MEMORY["growth"] = growth
    p.expect(abs(growth) < 8192, f"VmRSS went from {rss_warm} kB after {warm_at} requests to {rss_end} kB")
    return f"{REQUESTS} requests from 4 kept-alive clients, VmRSS changed {growth:+d} kB after the first 5%"


MEMORY = {}


def t_memory_answers(p):
    p.expect("wrong" in MEMORY, "the memory run did not run")
    p.expect(MEMORY.get("wrong", 1) == 0, f"{MEMORY.get('wrong')} unexpected answers")
    p.extend(MEMORY.get("examples", []))
    healthy(p, "the memory run")
    return (f"{MEMORY.get('wrong')} of {REQUESTS} unexpected: healthz, openapi, 401 x2, unknown route, "
            "get item, search POST and GET, missing item, wrong dimension")


# ---------------------------------------------------------------- main


def main():
    if not server_alive():
        print(f"not ok {TAP_START} - the server (pid {SERVER_PID}) is not running", flush=True)
        return 1
    # an early failure of the set-up checks makes the rest meaningless
    check("GET /healthz: 200 {\"status\": \"ok\"} without a key", t_healthz)
    check("GET /openapi.json: OpenAPI 3.0 without a key, exactly the spec's routes and methods, "
          "the x-api-key scheme", t_openapi)
    check("POST /projects/{p}/collections: 201 with the collection, equal to whiplash_collections, "
          "its table (id text, vector real[], attributes jsonb) owned by the key's role", t_create)
    check("GET /projects/{p}/collections: every collection in order, equal to SQL", t_list_collections)
    check("GET /projects/{p}/collections/{c}: equal to SQL, also with a percent-encoded name", t_get_collection)
    check("GET /projects and GET /projects/{p}: the projects with their collections", t_projects)
    check("POST .../items: 200 success, each item in SQL as sent", t_post_items)
    check("POST .../items/batch: {vectors: [...]}", t_batch)
    check("PUT .../items/{id}: creates, replaces (attributes dropped when not given), body id must match, "
          "percent-encoded ids", t_put)
    check("GET .../items/{id}: every item equals its SQL row", t_get_items)
    check("DELETE .../items/{id}: 200, then 404, gone from SQL", t_delete_item)
    check("POST .../search: ids and distances equal whiplash_search in SQL, vectors equal the items", t_post_search)
    check("GET .../search: equal to SQL", t_get_search)
    check("the original client's wire calls", t_wire)
    check("DELETE /projects/{p}/collections/{c}: 200, then 404", t_delete_collection)
    check("400: bad input, with the SQLSTATE of errors raised in SQL", t_400)
    check("401: missing or unknown key", t_401)
    check("403: api_reader without SELECT (sqlstate 42501)", t_403)
    check("404: no project, collection, item or route", t_404)
    check("405: known path, wrong method", t_405)
    check("409: the collection exists", t_409)
    check("409 when the collection's table name is taken, leaving no collection behind", t_409_table_taken)
    check("413: body over max_body", t_413)
    check("503: DynamoDB unavailable (a closed port)", t_503_unavailable)
    check("503: request_timeout passed (statement_timeout, 57014)", t_503_timeout)
    check("500: the server's configuration is wrong", t_500_config)
    check("500: DynamoDB's endpoint answers as a web server (HV000)", t_500)
    check("malformed bodies: 400", t_bodies)
    check("malformed paths and query strings: 4xx", t_paths)
    check("malformed HTTP: 4xx, server alive", t_protocol)
    check("slow clients do not stop others being served", t_slow_clients)
    check("server log", t_log)
    check("CLI: create, import of JSON lines and CSV: SQL holds exactly the files' rows", t_cli_import)
    check("CLI: search and get (--json) equal SQL", t_cli_read)
    check("CLI: import resumes after a failed batch, every row exactly once", t_cli_resume)
    check("CLI: delete of an item, of a collection only with --yes", t_cli_delete)
    check("CLI: exit codes", t_cli_codes)
    check("concurrency: every answer equals SQL's", t_concurrency)
    check("memory: server VmRSS flat", t_memory)
    check("memory: every answer as expected", t_memory_answers)
    return 1 if TAP["failed"] else 0


if __name__ == "__main__":
    status = 1
    try:
        status = main()
    finally:
        with open(os.path.join(WORK, "answered"), "w") as out:
            out.write(f"{_answered[0]}\n")
    sys.exit(status)
