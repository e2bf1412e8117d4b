"""Ratio table from Google Benchmark JSON files (medians of repetitions).

Benchmark names are <case>/<impl>/threads:<n>. The metric is GFLOP/s when the FLOPS counter is set,
GB/s when bytes are counted, else the time per iteration. Every case is compared with every other
implementation of the same case and thread count; an impl named "memcpy" is the baseline for every
case of its file.
"""
import json
import sys
from collections import defaultdict


def load(path):
    with open(path) as f:
        data = json.load(f)
    rows = defaultdict(dict)  # (case, threads) -> impl -> (value, unit)
    for b in data["benchmarks"]:
        if b.get("aggregate_name", "median") != "median":
            continue
        parts = [p for p in b["run_name"].split("/") if p != "real_time"]  # UseRealTime() suffix
        threads = parts[-1].split(":")[-1]
        impl, case = parts[-2], "/".join(parts[:-2])
        if "FLOPS" in b:
            val, unit = b["FLOPS"] / 1e9, "GFLOP/s"
        elif "bytes_per_second" in b:
            val, unit = b["bytes_per_second"] / 1e9, "GB/s"
        else:
            scale = {"ns": 1e-3, "us": 1.0, "ms": 1e3, "s": 1e6}[b["time_unit"]]
            val, unit = b["real_time"] * scale, "us"
        rows[(case, threads)][impl] = (val, unit)
    base = {t: impls["memcpy"] for (c, t), impls in rows.items() if "memcpy" in impls}
    for (case, t), impls in rows.items():
        if "memcpy" not in impls and t in base:
            impls["memcpy"] = base[t]
    return {k: v for k, v in rows.items() if "nabla" in v}


def main(paths):
    print(f"| case | threads | nabla | others | ratios (nabla/x) |")
    print("|---|---|---|---|---|")
    for path in paths:
        for (case, t), impls in load(path).items():
            nv, unit = impls["nabla"]
            better = "lower is better" if unit == "us" else "higher is better"
            others = ", ".join(f"{k} {v:.3g}" for k, (v, _) in sorted(impls.items()) if k != "nabla")
            ratios = ", ".join(f"/{k} {nv / v:.2f}" for k, (v, _) in sorted(impls.items()) if k != "nabla")
            print(f"| {case} | {t} | {nv:.3g} {unit} | {others} | {ratios} ({better}) |")


if __name__ == "__main__":
    main(sys.argv[1:])
