#!/usr/bin/python3
"""Checks the shape of the source tree after a build (run from the root):
no source file of src/ (the extension, src/api/ and src/cli/) over 1,000 lines, and no circle in the
graph of which file calls which, drawn from the built objects' symbols
(nm): a file calls another when it uses a symbol the other defines.
Prints one TAP line per check, and what is wrong under a failed one."""

import collections
import glob
import subprocess
import sys

MAX_LINES = 1000


def file_graph(objects):
    """Edges file -> files whose symbols it uses, with the symbols."""
    defined = {}
    used = collections.defaultdict(set)
    for obj in objects:
        listing = subprocess.run(["nm", obj], capture_output=True, text=True, check=True).stdout
        for line in listing.splitlines():
            fields = line.split()
            if len(fields) == 3 and fields[1] in "TDBR":
                defined[fields[2]] = obj
            elif len(fields) == 2 and fields[0] == "U":
                used[obj].add(fields[1])
    edges = collections.defaultdict(dict)
    for obj in objects:
        for symbol in sorted(used[obj]):
            to = defined.get(symbol)
            if to is not None and to != obj:
                edges[obj].setdefault(to, symbol)
    return edges


def circles(nodes, edges):
    """The graph's strongly connected components of more than one file."""
    index, low, stack, on_stack, found = {}, {}, [], set(), []

    def visit(node):
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for to in edges[node]:
            if to not in index:
                visit(to)
                low[node] = min(low[node], low[to])
            elif to in on_stack:
                low[node] = min(low[node], index[to])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    sys.setrecursionlimit(10000)
    for node in nodes:
        if node not in index:
            visit(node)
    return found


# The programs, each its own graph: the extension, the HTTP API server and
# the CLI (whose symbol names may repeat each other's).
PROGRAMS = [["src/*.c", "src/core/*.c"], ["src/api/*.c"], ["src/cli/*.c"]]
GENERATED = {"src/api/openapi.c"}


def main():
    groups = [sorted(s for pattern in patterns for s in glob.glob(pattern) if s not in GENERATED)
              for patterns in PROGRAMS]
    sources = [s for group in groups for s in group]
    long_files = []
    for source in sources:
        with open(source, encoding="utf-8") as f:
            lines = sum(1 for _ in f)
        if lines > MAX_LINES:
            long_files.append(f"{source}: {lines} lines")
    objects = [s[:-2] + ".o" for s in sources]
    missing = [o for o in objects if not glob.glob(o)]
    ok = not long_files
    print(f"{'ok' if ok else 'not ok'} - no source file over {MAX_LINES} lines ({len(sources)} files)")
    for line in long_files:
        print(f"# {line}")
    if missing:
        print(f"not ok - the file graph: objects not built: {' '.join(missing)}")
        return 1
    found = []
    edges = {}
    for group in groups:
        group_objects = [s[:-2] + ".o" for s in group]
        group_edges = file_graph(group_objects)
        edges.update(group_edges)
        found += circles(group_objects, group_edges)
    print(f"{'ok' if not found else 'not ok'} - no circle in the graph of which file calls which")
    for component in found:
        print("# circle: " + " ".join(component))
        for obj in component:
            for to, symbol in sorted(edges[obj].items()):
                if to in component:
                    print(f"#   {obj} -> {to} ({symbol})")
    return 0 if ok and not found else 1


if __name__ == "__main__":
    sys.exit(main())
