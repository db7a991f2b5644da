#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Tests of bench/report.py on made-up samples: python3 bench/report_test.py"""
import json
import sys
import tempfile
import unittest
from pathlib import Path

sys.dont_write_bytecode = True  # no __pycache__ in the source tree
sys.path.insert(0, str(Path(__file__).parent))
import report  # noqa: E402


def result(rid, case, samples_native, samples_epollmod, higher=False,
           **params):
    return {
        "id": rid, "case": case, "title": rid, "unit": "u",
        "higher_is_better": higher, "params": params,
        "samples": {"native": samples_native, "epollmod": samples_epollmod},
    }


def document(results):
    return {
        "schema": 1,
        "environment": {"kernel": "k", "cpus": 2, "reps": 3},
        "results": results,
    }


def run(doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.json"
        path.write_text(json.dumps(doc))
        report.main_with(path, Path(tmp))
        out = json.loads(path.read_text())
        files = {p.name: p.read_text() for p in Path(tmp).iterdir()}
    return out, files


class ReportTest(unittest.TestCase):
    def test_ratios_are_paired_costs(self):
        out, _ = run(document([
            # A drift that hits both backends of a run alike cancels out.
            result("harvest.k1", 1, [100, 200, 400], [105, 210, 420], K=1),
            result("echo.rate", 7, [1000, 500, 250], [800, 400, 200],
                   higher=True),
        ]))
        harvest, echo = out["results"]
        self.assertEqual(harvest["summary"]["native"]["median"], 200)
        self.assertAlmostEqual(harvest["summary"]["ratio"]["median"], 1.05)
        self.assertAlmostEqual(harvest["summary"]["ratio"]["max"], 1.05)
        # A rate: native/epollmod, so that above 1 means epollmod slower.
        self.assertAlmostEqual(echo["summary"]["ratio"]["median"], 1.25)
        met = {t["measure"]: t["met"] for t in out["targets"]}
        self.assertEqual(met, {"harvest.k1": True, "echo.rate": False})

    def test_flatness_compares_runs_of_one_repetition(self):
        out, files = run(document([
            result("idle.n10", 2, [10, 20, 40], [10, 20, 40], N=10),
            result("idle.n100000", 2, [11, 22, 44], [13, 26, 52],
                   N=100000),
        ]))
        flat = {t["target"]: t for t in out["targets"]}
        epollmod = next(t for k, t in flat.items() if "epollmod" in k)
        native = next(t for k, t in flat.items() if "native" in k)
        self.assertAlmostEqual(epollmod["value"], 1.3)
        self.assertFalse(epollmod["met"])
        self.assertIsNone(native["met"])
        self.assertIn("10 ", files["idle.dat"])

    def test_herd_must_be_exactly_one_in_every_run(self):
        out, _ = run(document([
            result("herd.wakeups", 5, [1, 1, 1], [1, 1.0625, 1]),
        ]))
        (target,) = out["targets"]
        self.assertFalse(target["met"])
        self.assertEqual(target["value"], 1.0625)

    def test_memory_and_table(self):
        out, files = run(document([
            result("memory.slab", 6, [208, 208, 208], [200, 200, 200]),
            result("ctl.add", 3, [10, 10, 10], [20, 20, 20]),
        ]))
        met = {t["measure"]: t["met"] for t in out["targets"]}
        self.assertEqual(met, {"memory.slab": True, "ctl.add": False})
        table = files["table.txt"]
        self.assertIn("MISSED  case 3", table)
        self.assertIn("met     case 6", table)
        self.assertIn("2.00 [2.00..2.00]", table)

    def test_wrapper_against_the_c_abi_has_its_own_table(self):
        wrapper = result("wrapper.empty", 0, [], [])
        wrapper["sides"] = ["c_abi", "cxx"]
        # Up to 3% in the median: what the A/A control cannot resolve.
        wrapper["samples"] = {"c_abi": [100, 100, 100, 100, 100, 100],
                              "cxx": [103, 97, 104, 99, 103, 96]}
        slow = dict(wrapper, id="wrapper.mod",
                    samples={"c_abi": [200] * 6,
                             "cxx": [207, 208, 206, 209, 207, 208]})
        control = dict(wrapper, id="wrapper.control",
                       sides=["c_abi", "c_abi_copy"],
                       samples={"c_abi": [200] * 3,
                                "c_abi_copy": [198, 204, 202]})
        out, files = run(document([
            result("ctl.add", 3, [10, 10, 10], [10, 10, 10]), wrapper, slow,
            control,
        ]))
        met = {t["measure"]: t["met"] for t in out["targets"]}
        self.assertEqual(met, {"ctl.add": True, "wrapper.empty": True,
                               "wrapper.mod": False,
                               "wrapper.control": None})
        self.assertAlmostEqual(
            out["results"][1]["summary"]["ratio"]["median"], 1.01)
        table = files["table.txt"]
        self.assertIn("cxx/c_abi", table)
        self.assertIn("c_abi_copy/c_abi", table)
        self.assertIn("info    A/A control", table)
        self.assertIn("epollmod/native", table)
        # Not an epollmod/native ratio: kept out of that plot.
        self.assertNotIn("wrapper", files["ratios.dat"])

    def test_kqueue_ratios_are_for_reference(self):
        out, files = run(document([
            result("kqueue.empty", 0, [500, 500, 500], [1500, 1500, 1500]),
            result("kqueue.rearm", 8, [2000, 2000, 2000], [1500, 1600, 1700],
                   N=256, K=1),
            result("kqueue.rearm.calls", 8, [2, 2, 2], [1, 1, 1]),
            result("kqueue.timers.rate", 9, [27000, 27000, 27000],
                   [27000, 27000, 27000], higher=True),
            result("kqueue.user", 10, [10000, 10000, 10000],
                   [11000, 12000, 13000]),
        ]))
        by_measure = {t["measure"]: t for t in out["targets"]}
        self.assertEqual(set(by_measure), {"kqueue.rearm", "kqueue.user"})
        self.assertTrue(all(t["met"] is None and t["limit"] is None
                            for t in by_measure.values()))
        self.assertAlmostEqual(by_measure["kqueue.rearm"]["value"], 0.8)
        self.assertAlmostEqual(by_measure["kqueue.user"]["value"], 1.2)
        calls = out["results"][2]["summary"]
        self.assertEqual(calls["ratio"]["median"], 0.5)
        table = files["table.txt"]
        self.assertIn("info    case 8: kqueue re-arm", table)
        self.assertIn("info    case 10: kqueue user events", table)
        self.assertNotIn("MISSED", table)
        # Calls counted, not costs: not in the plot; the rest is.
        self.assertNotIn("kqueue.rearm.calls", files["ratios.dat"])
        self.assertIn("kqueue.rearm", files["ratios.dat"])
        self.assertIn("kqueue.timers.rate", files["ratios.dat"])
        # A floor (case 0) is in the table, not in the plot.
        self.assertIn("kqueue.empty", table)
        self.assertNotIn("kqueue.empty", files["ratios.dat"])

    def test_minwait_and_fairness_are_for_reference(self):
        out, files = run(document([
            result("minwait.cpu", 11, [10000, 10000, 10000],
                   [8000, 9000, 7000]),
            result("minwait.csw", 11, [1.0, 1.0, 1.0], [0.5, 0.4, 0.6]),
            result("minwait.plain.cpu", 11, [10000, 10000, 10000],
                   [12000, 12000, 12000]),
            result("minwait.events_per_wait", 11, [1.0, 1.0, 1.0],
                   [2.0, 2.0, 2.0], higher=True),
            result("fair.lifo.cv", 12, [2.0, 2.0, 2.0], [2.0, 2.0, 2.0]),
            result("fair.fifo.cv", 12, [2.0, 2.0, 2.0], [0.1, 0.2, 0.1]),
        ]))
        by_measure = {t["measure"]: t for t in out["targets"]}
        self.assertEqual(set(by_measure), {
            "minwait.cpu", "minwait.csw", "minwait.plain.cpu",
            "fair.lifo.cv", "fair.fifo.cv"})
        self.assertTrue(all(t["met"] is None and t["limit"] is None
                            for t in by_measure.values()))
        self.assertAlmostEqual(by_measure["minwait.cpu"]["value"], 0.8)
        self.assertAlmostEqual(by_measure["minwait.csw"]["value"], 0.5)
        self.assertAlmostEqual(by_measure["fair.fifo.cv"]["value"], 0.05)
        table = files["table.txt"]
        self.assertIn("info    case 11: min-wait batching, CPU", table)
        self.assertIn("info    case 12: accepts/worker stddev/mean, FIFO",
                      table)
        self.assertNotIn("MISSED", table)
        # Events per wait is a count, not a cost: not in the plot.
        self.assertNotIn("minwait.events_per_wait", files["ratios.dat"])
        self.assertIn("minwait.cpu", files["ratios.dat"])

    def test_echo_io_uring_column(self):
        uring = result("echo.uring.rate", 7, [1000, 1000, 1000],
                       [1100, 1250, 1000], higher=True, connections=1000)
        uring["sides"] = ["native", "io_uring"]
        uring["samples"] = {"native": uring["samples"]["native"],
                            "io_uring": uring["samples"]["epollmod"]}
        skipped = dict(uring, id="echo.uring.c10.rate",
                       params={"connections": 10},
                       samples={"native": [], "io_uring": []},
                       notes="skipped: io_uring_queue_init: "
                       "Operation not permitted")
        out, files = run(document([
            result("echo.rate", 7, [1000, 1000, 1000], [1000, 1000, 1000],
                   higher=True, connections=1000),
            result("echo.syscalls", 7, [2.1, 2.1, 2.1], [4.2, 4.2, 4.2]),
            uring, skipped,
        ]))
        by_measure = {t["measure"]: t for t in out["targets"]}
        # A rate: native/io_uring, above 1 = io_uring slower; no target.
        self.assertAlmostEqual(by_measure["echo.uring.rate"]["value"],
                               1 / 1.1)
        self.assertIsNone(by_measure["echo.uring.rate"]["met"])
        self.assertIn("1000 connections, io_uring/native",
                      by_measure["echo.uring.rate"]["target"])
        self.assertNotIn("echo.uring.c10.rate", by_measure)
        self.assertEqual(out["results"][3]["summary"], {})
        table = files["table.txt"]
        self.assertIn("io_uring/native", table)
        self.assertIn("skipped: io_uring_queue_init: Operation not "
                      "permitted", table)
        # Calls per request are counts: in the table, not in the plot.
        self.assertIn("echo.syscalls", table)
        self.assertNotIn("echo.syscalls", files["ratios.dat"])
        self.assertIn("echo.rate", files["ratios.dat"])


if __name__ == "__main__":
    unittest.main()
