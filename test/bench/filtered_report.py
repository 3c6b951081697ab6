#!/usr/bin/python3
"""Turns test/bench/build/filtered.json (filtered.py) into the "Filtered
search" section of BENCHMARKS.md, between its markers.

  filtered_report.py FILTERED_JSON BENCHMARKS_MD "COMMAND THAT PRODUCED IT"
"""
import sys

from benchlib import set_names, write_report

BEGIN = "<!-- filtered: begin -->"
END = "<!-- filtered: end -->"


def section(results, command):
    out = [BEGIN, "", "## Filtered search, and what EXPLAIN estimates it costs", "",
           f"Measured by `{command}` (test/bench/filtered.py), against dynalite on",
           "127.0.0.1, at the default settings. Each set is loaded into a packed collection",
           "whose foreign table has an integer column `tag` (vector i's tag is i % 1000), and",
           "the table is ANALYZEd. Each search is `SELECT id FROM t WHERE <predicate> ORDER BY",
           "vector <op> q LIMIT 10`: the filter is checked on each fetched candidate, and the",
           "search widens until 10 match. Read units are priced by DynamoDB's billing rules at",
           "the SigV4 proxy (test/tools/pricing.py), eventually consistent. Recall@10 is against",
           "exact brute force among the vectors that pass (numpy). \"estimated\" is what",
           "`EXPLAIN (VERBOSE)` says beforehand, from the predicate's selectivity",
           "(`wl_search_plan_filtered`); \"× estimate\" is measured over estimated.",
           "Each set is measured twice: with `tag` a plain column, checked on each fetched",
           "vector, and with `tag` filterable (`OPTIONS (filterable 'true')`), carried in the",
           "index's records, so that a search drops the records that fail before it fetches.",
           "\"× unfiltered\" is over the same table's unfiltered search.", ""]
    for name in set_names(results):
        for records in (False, True):
            entries = [e for e in results if e["set"] == name and e.get("records", False) == records]
            if entries:
                out += table(name, records, entries)
    out.append(END)
    return "\n".join(out)


def table(name, records, entries):
    """One set's table, for a plain or a filterable tag."""
    first = entries[0]
    out = [f"### {name}: {first['vectors']:,} vectors, {first['dims']} dimensions, "
           f"{first['metric']}, {first['queries']:,} queries; tag "
           + ("filterable, in the records" if records else "plain, checked on fetched vectors"),
           "",
           "| predicate | passes | recall@10 | rows | read units | × unfiltered | "
           "estimated units | × estimate | rounds: most estimated | rounds: most measured | "
           "round trips (max) | requests |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    unfiltered = entries[0]["read_units"]
    for e in entries:
        recall = f"{e['recall_at_10']:.3f}" if e["recall_at_10"] is not None else "–"
        out.append(f"| `{e['where']}` | {e['predicate']} | {recall} | {e['rows']:.1f} | "
                   f"{e['read_units']:.1f} | {e['read_units'] / unfiltered:.1f} | "
                   f"{e['estimated_units']:.1f} | "
                   f"{e['read_units'] / max(e['estimated_units'], 0.1):.2f} | "
                   f"{e['estimated_rounds']} | {e['rounds_max']} | {e['round_trips_max']} | "
                   f"{e['proxy_requests']:.1f} |")
    out.append("")
    return out


if __name__ == "__main__":
    write_report(sys.argv[1], sys.argv[2], BEGIN, END, section, sys.argv[3])
