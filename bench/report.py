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
rates, so above 1 always means epollmod is slower or bigger.
"""
import json
import statistics
import sys
from pathlib import Path

BACKENDS = ("native", "epollmod")
RATIO_LIMIT = 1.10
FLATNESS_LIMIT = 1.2


def spread(values):
    return {
        "median": statistics.median(values),
        "min": min(values),
        "max": max(values),
        "n": len(values),
    }


def summarize(result):
    samples = result["samples"]
    summary = {b: spread(samples[b]) for b in BACKENDS if samples[b]}
    pairs = list(zip(samples["native"], samples["epollmod"]))
    if result["higher_is_better"]:
        ratios = [n / e for n, e in pairs if e > 0]
    else:
        ratios = [e / n for n, e in pairs if n > 0]
    if ratios:
        summary["ratio"] = spread(ratios)
    return summary


def ratio_target(results, rid, what):
    ratio = results[rid]["summary"].get("ratio")
    if ratio is None:
        return None
    return {
        "target": what,
        "measure": rid,
        "value": ratio["median"],
        "limit": f"<= {RATIO_LIMIT:.2f}",
        "met": ratio["median"] <= RATIO_LIMIT,
    }


def targets(results):
    """Every target of the issue whose measures were taken."""
    out = []
    for rid, what in (
        ("harvest.k1", "case 1: epollmod/native <= 1.10"),
        ("harvest.k64", "case 1: epollmod/native <= 1.10"),
        ("ctl.add", "case 3: epollmod/native <= 1.10"),
        ("ctl.mod", "case 3: epollmod/native <= 1.10"),
        ("ctl.del", "case 3: epollmod/native <= 1.10"),
        ("latency.p50", "case 4: epollmod/native <= 1.10"),
        ("latency.p99", "case 4: epollmod/native <= 1.10"),
        ("echo.rate", "case 7: epollmod/native <= 1.10"),
    ):
        if rid in results:
            target = ratio_target(results, rid, what)
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

    if "memory.slab" in results:
        s = results["memory.slab"]["summary"]
        out.append({
            "target": "case 6: epollmod bytes/watch <= native's",
            "measure": "memory.slab",
            "value": s["epollmod"]["median"],
            "limit": f"<= {s['native']['median']:.1f}",
            "met": s["epollmod"]["median"] <= s["native"]["median"],
        })
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


def table(doc, target_list):
    env = doc["environment"]
    reps = env["reps"]
    verdicts = verdicts_by_measure(target_list)
    header = ("case", "measure", "unit", "native", "epollmod",
              "epollmod/native", "target")
    rows = []
    for r in doc["results"]:
        s = r["summary"]
        met = verdicts.get(r["id"])
        rows.append((
            str(r["case"]) if r["case"] else "-",
            r["title"],
            r["unit"],
            fmt_spread(s["native"]),
            fmt_spread(s["epollmod"]),
            fmt_spread(s["ratio"]) if "ratio" in s else "",
            "" if met is None else ("met" if all(met) else "MISSED"),
        ))
    widths = [max(len(row[i]) for row in rows + [header])
              for i in range(len(header))]
    lines = [
        f"epollmod vs native epoll: {env['kernel']}, {env['cpus']} vCPUs "
        f"under QEMU/TCG (no KVM): only ratios within this boot mean "
        f"anything.",
        f"Every value: median [min..max] of {reps} runs per backend, the "
        f"backends alternating; epollmod/native is the median [min..max] "
        f"of the {reps} per-run ratios (costs: above 1 = epollmod slower).",
        "",
        "  ".join(h.ljust(w) for h, w in zip(header, widths)),
        "  ".join("-" * w for w in widths),
    ]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip()
              for row in rows]
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
    sweeps = env.get("sweeps_during", {})
    if sweeps:
        lines += ["", "epollmod periodic sweeps during each case (every "
                  f"{env['sweep_interval_ms']} ms while files are watched): "
                  + ", ".join(f"{k} {v}" for k, v in sweeps.items())]
    return "\n".join(lines)


def write_plot_data(doc, outdir):
    with open(outdir / "idle.dat", "w") as f:
        f.write("# N, then median min max for native and for epollmod "
                "(ns/wait)\n")
        for r in sorted((r for r in doc["results"] if r["case"] == 2),
                        key=lambda r: r["params"]["N"]):
            s = r["summary"]
            f.write(f"{r['params']['N']}")
            for b in BACKENDS:
                f.write(f" {s[b]['median']} {s[b]['min']} {s[b]['max']}")
            f.write("\n")
    with open(outdir / "harvest.dat", "w") as f:
        f.write("# K, then median min max for native and for epollmod "
                "(ns/event)\n")
        for r in sorted((r for r in doc["results"] if r["case"] == 1),
                        key=lambda r: r["params"]["K"]):
            s = r["summary"]
            f.write(f"{r['params']['K']}")
            for b in BACKENDS:
                f.write(f" {s[b]['median']} {s[b]['min']} {s[b]['max']}")
            f.write("\n")
    with open(outdir / "ratios.dat", "w") as f:
        f.write("# index, label, median min max of epollmod/native\n")
        index = 0
        for r in doc["results"]:
            ratio = r["summary"].get("ratio")
            if r["case"] == 0 or ratio is None or r["id"] == "herd.returns":
                continue
            label = r["title"].replace('"', "'")
            f.write(f"{index} \"{label}\" {ratio['median']} "
                    f"{ratio['min']} {ratio['max']}\n")
            index += 1


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
