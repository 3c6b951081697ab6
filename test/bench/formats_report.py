#!/usr/bin/python3
"""Turns test/bench/build/formats.json (formats.py) into the "Native and
packed collections" section of BENCHMARKS.md, between its markers (or, with
WL_FORMATS_SECTION and WL_FORMATS_TITLE, another section).

  formats_report.py FORMATS_JSON BENCHMARKS_MD "COMMAND THAT PRODUCED IT" ["NOTE"]
"""
import os
import sys

from benchlib import set_names, write_report

# The section's name (its markers) and heading: formats.sh may write others.
SECTION = os.environ.get("WL_FORMATS_SECTION", "formats")
TITLE = os.environ.get("WL_FORMATS_TITLE", "Native and packed collections, data set by data set")
BEGIN = f"<!-- {SECTION}: begin -->"
END = f"<!-- {SECTION}: end -->"
# On-demand read price, us-east-1: dollars per million read request units.
DOLLARS_PER_MILLION_UNITS = 0.125


def cost(units):
    """Dollars per million searches at on-demand prices."""
    return units * DOLLARS_PER_MILLION_UNITS


def estimate(search):
    """The mean recall the calibration estimated, or a dash where none did."""
    value = search.get("estimated_recall", -1)
    return f"{value:.3f}" if value >= 0 else "–"


def section(results, command, note):
    out = [BEGIN, "", f"## {TITLE}", "",
           f"Measured by `{command}` (test/bench/formats.py), against dynalite on",
           "127.0.0.1. Read units are priced by DynamoDB's billing rules at the SigV4 proxy",
           "from the answers actually returned (test/tools/pricing.py); searches of both",
           "formats read eventually consistent (the default). \"far\" is",
           "the same search through a proxy that adds 3 ms to every request, as an",
           "in-region round trip does. Storage counts every item's billed size plus",
           "DynamoDB's 100 bytes of overhead an item, against the id plus its float32 vector.",
           "Recall@10 is against exact brute force (numpy) on held-out queries."]
    if note:
        out += ["", note]
    out.append("")
    for name in set_names(results):
        entries = [e for e in results if e["set"] == name]
        first = entries[0]
        out += [f"### {name}: {first['vectors']:,} vectors, {first['dims']} dimensions, "
                f"{first['metric']}, {first['default']['queries']:,} queries", "",
                "| format | recall@10 | estimated | read units | $ per million searches | requests | "
                "round trips (max) | KB read | p50 ms | p95 ms | far p50 ms | far p95 ms | "
                "storage bytes / vector | × id + vector | plan |",
                "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
        for e in entries:
            d, far = e["default"], e["far"]
            per_vector = e["storage_bytes"] / e["vectors"]
            plans = ", ".join(f"{k} {v}" for k, v in sorted(d["plans"].items()))
            out.append(f"| {e['format']} | {d['recall_at_10']:.3f} | {estimate(d)} | {d['read_units']:.1f} | "
                       f"{cost(d['read_units']):.2f} | {d['proxy_requests']:.1f} | "
                       f"{d['round_trips_max']} | {d['bytes_read'] / 1024:.1f} | {d['p50_ms']:.1f} | "
                       f"{d['p95_ms']:.1f} | {far['p50_ms']:.1f} | {far['p95_ms']:.1f} | "
                       f"{per_vector:,.0f} | {per_vector / e['id_vector_bytes']:.2f} | {plans} |")
        packed = [e for e in entries if e["format"] == "packed" and "targets" in e]
        if packed:
            out += ["", "Packed, by `whiplash.recall_target`:", "",
                    "| target | recall@10 | estimated | read units | requests | round trips (max) | p50 ms | plan |",
                    "|---:|---:|---:|---:|---:|---:|---:|---|"]
            for target, d in packed[0]["targets"].items():
                plans = ", ".join(f"{k} {v}" for k, v in sorted(d["plans"].items()))
                out.append(f"| {target} | {d['recall_at_10']:.3f} | {estimate(d)} | {d['read_units']:.1f} | "
                           f"{d['proxy_requests']:.1f} | {d['round_trips_max']} | "
                           f"{d['p50_ms']:.1f} | {plans} |")
        for e in entries:
            out.append("")
            index = (f", then {e['index_seconds']:.0f} s until its index was ready"
                     if "index_seconds" in e else "")
            units = (f", {e['load_write_units'] / e['vectors']:.2f} write units a vector"
                     if e.get("load_write_units") else "")
            out.append(f"Loading {e['format']}: {e['load_seconds']:.0f} s{index}, "
                       f"{e['load_requests'] / e['vectors']:.2f} requests a vector{units} "
                       f"({e['items']:,} items stored).")
        out.append("")
    out += ["For scale: published prices put S3 Vectors at about $3 and turbopuffer at",
            "about $1.3 per million searches of a collection the size of Fashion-MNIST.", "", END]
    return "\n".join(out)


if __name__ == "__main__":
    write_report(sys.argv[1], sys.argv[2], BEGIN, END, section, sys.argv[3],
                 sys.argv[4] if len(sys.argv) > 4 else "")
