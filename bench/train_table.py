"""Ratio table of the training / batch-1 inference benchmarks (RESULT lines of train_nabla,
train_libtorch and train_torch.py; see bench/train_harness.h).

    python3 bench/train_table.py results.txt [more.txt ...]

Rows are (model, threads); the value is the median over every timed epoch of every run of that row
(each run prints its epochs in "reps"), so repeated rounds pool into one median. "best" compares each
side at its own best thread count. Ratios are nabla / other for samples/s (higher is better) and
other / nabla for latency (so > 1 always means nabla is faster).
"""
import json
import statistics
import sys
from collections import defaultdict

IMPLS = ("nabla", "libtorch", "pytorch")


def load(paths):
    runs = []
    for path in paths:
        with open(path) as f:
            for line in f:
                if line.startswith("RESULT "):
                    runs.append(json.loads(line[len("RESULT "):]))
    return runs


def main(paths):
    runs = load(paths)
    # (kind, model, threads) -> impl -> [values], [rss]
    vals = defaultdict(lambda: defaultdict(list))
    cpu = defaultdict(lambda: defaultdict(list))  # samples per CPU-second (all of the process's threads)
    rss = defaultdict(lambda: defaultdict(list))
    blas = {}
    for r in runs:
        key = (r["kind"], r["model"], r["threads"])
        vals[key][r["impl"]] += r.get("reps", [r["median"]]) if r["kind"] == "train" else [r["median"]]
        rss[(r["kind"], r["model"])][r["impl"]].append(r["peak_rss_mib"])
        if "per_cpu_s" in r:
            cpu[key][r["impl"]] += r["per_cpu_s"]
        blas[r["impl"]] = r["blas"]
    med = {k: {i: statistics.median(v) for i, v in d.items()} for k, d in vals.items()}
    cpu_med = {k: {i: statistics.median(v) for i, v in d.items()} for k, d in cpu.items()}

    def ratio_cells(row, higher_better):
        n = row.get("nabla")
        cells = []
        for other in IMPLS[1:]:
            o = row.get(other)
            if n is None or o is None:
                cells.append("-")
            else:
                cells.append(f"{(n / o if higher_better else o / n):.2f}x")
        return cells

    print("| benchmark | threads | nabla | libtorch | pytorch | nabla vs libtorch | nabla vs pytorch |")
    print("|---|---|---|---|---|---|---|")
    for model, samples in (("mlp", "MLP train"), ("cnn", "CNN train")):
        keys = sorted(k for k in med if k[0] == "train" and k[1] == model)
        if not keys:
            continue
        per = {k[2]: med[k] for k in keys}
        for t, row in per.items():
            cells = [f"{row[i]:,.0f}" if i in row else "-" for i in IMPLS]
            print(f"| {samples} samples/s | {t} | " + " | ".join(cells + ratio_cells(row, True)) + " |")
        best, best_t = {}, {}
        for t, row in per.items():
            for i, v in row.items():
                if v > best.get(i, 0):
                    best[i], best_t[i] = v, t
        cells = [f"{best[i]:,.0f} ({best_t[i]}t)" if i in best else "-" for i in IMPLS]
        print(f"| {samples} samples/s | best | " + " | ".join(cells + ratio_cells(best, True)) + " |")
        for t in per:
            row = cpu_med.get(("train", model, t), {})
            if row:
                cells = [f"{row[i]:,.0f}" if i in row else "-" for i in IMPLS]
                print(f"| {samples} samples per CPU-s | {t} | " + " | ".join(cells + ratio_cells(row, True)) + " |")
        r = rss[("train", model)]
        cells = [f"{max(r[i]):.0f}" if i in r else "-" for i in IMPLS]
        lower = [f"{max(r['libtorch']) / max(r['nabla']):.2f}x" if "nabla" in r and "libtorch" in r else "-",
                 f"{max(r['pytorch']) / max(r['nabla']):.2f}x" if "nabla" in r and "pytorch" in r else "-"]
        print(f"| {samples} peak RSS MiB | all | " + " | ".join(cells + lower) + " |")
    for k in sorted(k for k in med if k[0] == "infer"):
        row = med[k]
        cells = [f"{row[i]:.2f}" if i in row else "-" for i in IMPLS]
        print(f"| MLP batch-1 latency us (median) | {k[2]} | " + " | ".join(cells + ratio_cells(row, False)) + " |")
    print("\n(ratios: > 1 means nabla is faster / smaller; RSS ratio is other / nabla. samples per CPU-s:"
          " the same epochs divided by the process's CPU time instead of wall time, steadier when other"
          " jobs share the cores)")
    print("BLAS loaded:")
    for i in IMPLS:
        if i in blas:
            print(f"  {i}: {blas[i]}")


if __name__ == "__main__":
    main(sys.argv[1:])
