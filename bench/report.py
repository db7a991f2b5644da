#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""report.py RESULTS.json OUTDIR

Turns epbench's samples into what a person reads: for every measure, the
median of each backend with its spread (min..max) and the run count; the
ratio epollmod/native, taken per repetition (the two samples of one
repetition ran back to back) and summarised by its median and spread; and
every target of the issue, met or missed. Adds all of that to RESULTS.json
("summary", "targets"), writes the gnuplot data files into OUTDIR and
prints the table. Missed targets are reported, never an error: benchmarks
are not tests.

Ratios are costs: epollmod/native for times and bytes, native/epollmod for
rates, so above 1 always means epollmod is slower or bigger. A measure
whose "sides" are not the two backends (the C++ wrapper against the C ABI,
both on epollmod) gets the same treatment, its second side over its first,
in a table of its own.
"""
import json
import statistics
import sys
from pathlib import Path

BACKENDS = ("native", "epollmod")
RATIO_LIMIT = 1.10
FLATNESS_LIMIT = 1.2
# "No measurable cost" (C++ wrapper against the C ABI): its median paired
# ratio within what the harness cannot resolve. The A/A control (the same C
# loop against a copy of itself, bench/wrapper.cpp) put that at 3%: its
# medians ranged 0.97 to 1.01 over three runs, and in one of them a sign
# test over the pairs would have called the copy slower (p = 0.03).
WRAPPER_LIMIT = 1.03
# Memory per watch against native's, and what the final-fput probe may
# add to a close() of a file nobody watches (module loaded/unloaded).
MEMORY_LIMIT = 1.05
CLOSE_LIMIT = 1.03


def sides(result):
    return tuple(result.get("sides", BACKENDS))


def spread(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarize(result):
    samples = result["samples"]
    base, subject = sides(result)
    summary = {b: spread(samples[b]) for b in (base, subject) if samples[b]}
    pairs = list(zip(samples[base], samples[subject]))
    if result["higher_is_better"]:
        ratios = [n / e for n, e in pairs if e > 0]
    else:
        ratios = [e / n for n, e in pairs if n > 0]
    if ratios:
        summary["ratio"] = spread(ratios)
    return summary


def ratio_target(results, rid, what, limit=RATIO_LIMIT):
    """A ratio's verdict; with no @limit, shown for reference only."""
    ratio = results[rid]["summary"].get("ratio")
    if ratio is None:
        return None
    return {
        "target": what,
        "measure": rid,
        "value": ratio["median"],
        "spread": [ratio["min"], ratio["max"]],
        "limit": None if limit is None else f"<= {limit:.2f}",
        "met": None if limit is None else ratio["median"] <= limit,
    }


def ratio_targets(results, entries):
    """ratio_target() of each (id, what, limit) whose measure was taken."""
    out = []
    for rid, what, limit in entries:
        if rid in results:
            target = ratio_target(results, rid, what, limit)
            if target:
                out.append(target)
    return out


def targets(results):
    """Every target of the issue whose measures were taken."""
    out = ratio_targets(results, [
        (rid, f"case {case}: epollmod/native <= 1.10", RATIO_LIMIT)
        for rid, case in (
            ("harvest.k1", 1), ("harvest.k64", 1), ("ctl.add", 3),
            ("ctl.mod", 3), ("ctl.del", 3), ("latency.p50", 4),
            ("latency.p99", 4), ("echo.rate", 7))])

    # The ready ring: harvest from memory, and a server on it. Rates are
    # costs here too (native/ring): ">= 1.2x native" is "<= 1/1.2".
    out += ratio_targets(results, (
        ("harvest.ring.k64", "case 13: ring/native <= 0.50", 0.50),
        ("harvest.ring.k1", "case 13: ring/native <= 1.00", 1.00),
        ("echo.ring.rate", "case 7: ring >= 1.2x native's req/s", 1 / 1.2),
        ("echo.ring.c10.rate", "case 7: ring >= 0.97x native's req/s, "
         "light load", 1 / 0.97),
        ("harvest.ring.level.k64",
         "case 13: ring/native, level-triggered (reference)", None),
    ))

    # The light load, and io_uring against native on one server: no target.
    for rid, what in (
        ("echo.c10.rate", "epollmod/native"),
        ("echo.uring.rate", "io_uring/native"),
        ("echo.uring.c10.rate", "io_uring/native"),
    ):
        if rid in results:
            conns = results[rid]["params"].get("connections")
            target = ratio_target(
                results, rid, f"case 7: echo at {conns} connections, "
                f"{what} (reference)", None)
            if target:
                out.append(target)

    idle = sorted(
        (r["params"]["N"], r) for r in results.values() if r["case"] == 2
    )
    if len(idle) >= 2:
        (n_lo, lo), (n_hi, hi) = idle[0], idle[-1]
        for b in BACKENDS:
            # Both N ran in the same repetition: compare them per run.
            growth = spread([h / l for h, l in
                             zip(hi["samples"][b], lo["samples"][b])])
            reference = b != "epollmod"
            out.append({
                "target": f"case 2: {b} ns/wait at N={n_hi} over N={n_lo}"
                + (" (reference)" if reference else ""),
                "measure": f"{hi['id']}/{lo['id']}",
                "value": growth["median"],
                "spread": [growth["min"], growth["max"]],
                "limit": None if reference else f"<= {FLATNESS_LIMIT}",
                "met": None if reference
                else growth["median"] <= FLATNESS_LIMIT,
            })

    if "herd.wakeups" in results:
        samples = results["herd.wakeups"]["samples"]["epollmod"]
        worst = max(samples, key=lambda v: abs(v - 1.0))
        out.append({
            "target": "case 5: epollmod exactly 1.0 wakeups/event, every run",
            "measure": "herd.wakeups",
            "value": worst,
            "limit": "== 1.0",
            "met": all(v == 1.0 for v in samples),
        })

    for rid, r in results.items():
        if sides(r) == ("c_abi", "cxx"):
            target = ratio_target(
                results, rid, "issue 5: C++ wrapper/C ABI, no measurable "
                "cost", WRAPPER_LIMIT)
        elif sides(r) == ("c_abi", "c_abi_copy"):
            target = ratio_target(
                results, rid, "A/A control, the same C loop twice "
                "(reference)", None)
        else:
            continue
        if target:
            out.append(target)

    # The kqueue face, min-wait batching and fair exclusive wakeups have
    # no target: their ratios are there to be read.
    out += ratio_targets(results, [
        (rid, f"{what}, epollmod/native (reference)", None)
        for rid, what in (
            ("kqueue.rearm", "case 8: kqueue re-arm, ns/event"),
            ("kqueue.timers.cpu", "case 9: kqueue timers, CPU/expiration"),
            ("kqueue.timers.setup", "case 9: kqueue timers, arming"),
            ("kqueue.user", "case 10: kqueue user events, round trip"),
            ("minwait.cpu", "case 11: min-wait batching, CPU/request"),
            ("minwait.csw", "case 11: min-wait batching, switches/request"),
            ("minwait.plain.cpu", "case 11: no batching, CPU/request"),
            ("minwait.plain.csw",
             "case 11: no batching, switches/request"),
            ("fair.lifo.cv",
             "case 12: accepts/worker stddev/mean, default"),
            ("fair.fifo.cv", "case 12: accepts/worker stddev/mean, FIFO"),
        )])

    if "memory.slab" in results:
        s = results["memory.slab"]["summary"]
        limit = MEMORY_LIMIT * s["native"]["median"]
        out.append({
            "target": f"case 6: epollmod bytes/watch <= {MEMORY_LIMIT:.2f}"
            " x native's",
            "measure": "memory.slab",
            "value": s["epollmod"]["median"],
            "limit": f"<= {limit:.1f}",
            "met": s["epollmod"]["median"] <= limit,
        })
    if "close.unwatched" in results:
        target = ratio_target(
            results, "close.unwatched",
            "the final-fput probe: close() with the module loaded/unloaded",
            CLOSE_LIMIT)
        if target:
            out.append(target)
    return out


def fmt(value):
    if value >= 100:
        return f"{value:.0f}"
    if value >= 10:
        return f"{value:.1f}"
    return f"{value:.2f}"


def fmt_spread(s):
    return f"{fmt(s['median'])} [{fmt(s['min'])}..{fmt(s['max'])}]"


def verdicts_by_measure(target_list):
    out = {}
    for t in target_list:
        if t["met"] is not None:
            out.setdefault(t["measure"], []).append(t["met"])
    return out


def table_rows(pair, results, verdicts):
    base, subject = pair
    header = ("case", "measure", "unit", base, subject,
              f"{subject}/{base}", "target")
    rows = []
    for r in results:
        s = r["summary"]
        met = verdicts.get(r["id"])
        # A side that could not run (io_uring) has no samples: say why.
        missing = r.get("notes", "") if r.get("notes", "").startswith(
            "skipped") else "-"
        rows.append((
            str(r["case"]) if r["case"] else "-",
            r["title"],
            r["unit"],
            fmt_spread(s[base]) if base in s else "-",
            fmt_spread(s[subject]) if subject in s else missing,
            fmt_spread(s["ratio"]) if "ratio" in s else "",
            "" if met is None else ("met" if all(met) else "MISSED"),
        ))
    widths = [max(len(row[i]) for row in rows + [header])
              for i in range(len(header))]
    lines = ["  ".join(h.ljust(w) for h, w in zip(header, widths)),
             "  ".join("-" * w for w in widths)]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
              for row in rows]
    return lines


def table(doc, target_list):
    env = doc["environment"]
    reps = env["reps"]
    verdicts = verdicts_by_measure(target_list)
    lines = [
        f"epollmod vs native epoll: {env['kernel']}, {env['cpus']} vCPUs "
        f"under QEMU/TCG (no KVM): only ratios within this boot mean "
        f"anything.",
        f"Every value: median [min..max] of {reps} runs per backend, the "
        f"backends alternating; epollmod/native is the median [min..max] "
        f"of the {reps} per-run ratios (costs: above 1 = epollmod slower).",
    ]
    groups = {}
    for r in doc["results"]:
        groups.setdefault(sides(r), []).append(r)
    for pair, results in groups.items():
        lines += [""] + table_rows(pair, results, verdicts)
    lines += ["", "Targets (benchmarks never fail the build):"]
    for t in target_list:
        verdict = ("info" if t["met"] is None
                   else "met" if t["met"] else "MISSED")
        limit = f" (limit {t['limit']})" if t["limit"] else ""
        value = fmt(t["value"])
        if "spread" in t:
            value += f" [{fmt(t['spread'][0])}..{fmt(t['spread'][1])}]"
        lines.append(f"  {verdict:6}  {t['target']}: {value}"
                     f"{limit}  [{t['measure']}]")
    return "\n".join(lines)


def write_dat(path, header, rows):
    """Writes a gnuplot data file, or none when a partial run (--only)
    measured nothing for it: the plots need the whole set."""
    if not rows:
        return
    with open(path, "w") as f:
        f.write(header + "\n")
        f.writelines(row + "\n" for row in rows)


def curve_rows(doc, case, param):
    rows = []
    for r in sorted((r for r in doc["results"] if r["case"] == case),
                    key=lambda r: r["params"][param]):
        s = r["summary"]
        rows.append(f"{r['params'][param]} " + " ".join(
            f"{s[b]['median']} {s[b]['min']} {s[b]['max']}"
            for b in BACKENDS))
    return rows


def write_plot_data(doc, outdir):
    write_dat(outdir / "idle.dat", "# N, then median min max for native "
              "and for epollmod (ns/wait)", curve_rows(doc, 2, "N"))
    write_dat(outdir / "harvest.dat", "# K, then median min max for native "
              "and for epollmod (ns/event)", curve_rows(doc, 1, "K"))
    rows = []
    for r in doc["results"]:
        ratio = r["summary"].get("ratio")
        # Counts of calls are not costs to compare with the target line.
        if (r["case"] == 0 or ratio is None or
                r["id"] in ("herd.returns", "kqueue.rearm.calls",
                            "minwait.events_per_wait") or
                r["id"].endswith(".syscalls") or
                sides(r)[0] != "native"):
            continue
        label = r["title"].replace('"', "'")
        # The ring's and io_uring's rows: which side is over native.
        if sides(r) != BACKENDS:
            label += f" ({sides(r)[1]})"
        rows.append(f"{len(rows)} \"{label}\" {ratio['median']} "
                    f"{ratio['min']} {ratio['max']}")
    write_dat(outdir / "ratios.dat", "# index, label, median min max of "
              "epollmod (or ring, io_uring)/native", rows)


def main_with(path, outdir):
    doc = json.loads(path.read_text())
    for r in doc["results"]:
        r["summary"] = summarize(r)
    results = {r["id"]: r for r in doc["results"]}
    doc["targets"] = targets(results)
    path.write_text(json.dumps(doc, indent=1) + "\n")
    write_plot_data(doc, outdir)
    text = table(doc, doc["targets"])
    (outdir / "table.txt").write_text(text + "\n")
    return text


def main():
    if len(sys.argv) != 3:
        sys.exit("usage: report.py RESULTS.json OUTDIR")
    print(main_with(Path(sys.argv[1]), Path(sys.argv[2])))


if __name__ == "__main__":
    main()
