#!/usr/bin/python3
"""Turns test/bench/build/writes.json (writes.py) into the "Writes, native
and packed" section of BENCHMARKS.md, between its markers.

  writes_report.py WRITES_JSON BENCHMARKS_MD "COMMAND THAT PRODUCED IT"
"""
import sys

from benchlib import set_names, write_report

BEGIN = "<!-- writes: begin -->"
END = "<!-- writes: end -->"
# On-demand prices, us-east-1: dollars per million write and read request units.
DOLLARS_PER_MILLION_WRITES = 0.625
DOLLARS_PER_MILLION_READS = 0.125
KINDS = [("load", "bulk load (one INSERT … SELECT)"),
         ("insert_one", "insert, one row a statement"),
         ("update_one", "update the vector, one row a statement"),
         ("delete_one", "delete, one row a statement"),
         ("insert_many", "insert, many rows a statement"),
         ("update_many", "update the vector, many rows a statement"),
         ("delete_many", "delete, many rows a statement")]


def operations(figures):
    return ", ".join(f"{op} {n:.2f}" for op, n in sorted(figures["operations"].items()))


def section(results, command):
    out = [BEGIN, "", "## Writes, native and packed", "",
           f"Measured by `{command}` (test/bench/writes.py), against DynamoDB Local on",
           "127.0.0.1 behind the SigV4 proxy, which counts every request by operation.",
           "Write and read units are the ConsumedCapacity DynamoDB Local reported;",
           "\"priced reads\" are the same reads priced by DynamoDB's rules from the items",
           "returned (test/tools/pricing.py). Figures are per vector written, or per search.",
           f"Dollars are per million vectors written at on-demand prices "
           f"(${DOLLARS_PER_MILLION_WRITES} a million write units, "
           f"${DOLLARS_PER_MILLION_READS} a million read units).", ""]
    for name in set_names(results):
        entries = [e for e in results if e["set"] == name]
        first = entries[0]
        rows = first["insert_one"]["vectors"]
        out += [f"### {name}: {first['vectors']:,} vectors loaded, {first['dims']} dimensions, "
                f"{first['metric']}; {rows} rows written each way", "",
                "| write | format | requests | write units | read units | priced reads | "
                "$ per million | requests by operation |",
                "|---|---|---:|---:|---:|---:|---:|---|"]
        for kind, label in KINDS:
            for e in entries:
                f = e[kind]
                dollars = (f["write_units"] * DOLLARS_PER_MILLION_WRITES +
                           f["read_units"] * DOLLARS_PER_MILLION_READS)
                out.append(f"| {label} | {e['format']} | {f['requests']:.2f} | "
                           f"{f['write_units']:.2f} | {f['read_units']:.2f} | "
                           f"{f['priced_read_units']:.2f} | {dollars:.2f} | {operations(f)} |")
        out += ["", "Searches at the default settings, per search:", "",
                "| format | requests | read units reported | read units priced |",
                "|---|---:|---:|---:|"]
        for e in entries:
            f = e["search"]
            out.append(f"| {e['format']} | {f['requests']:.1f} | {f['read_units']:.1f} | "
                       f"{f['priced_read_units']:.1f} |")
        out.append("")
    out.append(END)
    return "\n".join(out)


if __name__ == "__main__":
    write_report(sys.argv[1], sys.argv[2], BEGIN, END, section, sys.argv[3])
