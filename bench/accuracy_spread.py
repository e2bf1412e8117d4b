#!/usr/bin/python3
"""How far a 3-seed mean of the seed recipe's test accuracy can swing, for nabla and for PyTorch.

  /usr/bin/python3 bench/accuracy_spread.py {mlp,cnn} FIRST LAST [--build build] [--runs DIR]

Trains the recipe once per seed in FIRST..LAST on each side: nabla's example (build/pytorch_style
--epochs 10, or build/cnn, 3 epochs) and bench/accuracy_torch.py (Debian's python3-torch), one
thread each, as many runs at once as the machine has cores. Each run's output is kept in DIR
(default build/accuracy-runs) and reused, so a longer range only trains the new seeds.

Prints every seed's test accuracy, each side's mean and standard deviation, and for issue 3's
target (MLP 87.5, CNN 90.0) how often a mean of 3 seeds reaches it: the share of all 3-seed subsets
of the runs that do, and the normal approximation P(mean of 3 >= target). Both sides run the same
recipe, so this says how much of a 3-seed result is the recipe's own seed-to-seed spread.
"""
import argparse
import itertools
import math
import os
import statistics
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

HERE = os.path.dirname(os.path.abspath(__file__))
TARGET = {"mlp": 87.5, "cnn": 90.0}


def command(side, model, seed, build):
    if side == "torch":
        return ["/usr/bin/python3", os.path.join(HERE, "accuracy_torch.py"), model, str(seed)]
    if model == "mlp":
        return [os.path.join(build, "pytorch_style"), "--epochs", "10", "--seed", str(seed), "--threads", "1"]
    return [os.path.join(build, "cnn"), "--seed", str(seed), "--threads", "1"]


def accuracy(text):
    for line in text.splitlines():
        if line.startswith("test accuracy"):
            return 100.0 * float(line.split()[2])
    return None


def run(side, model, seed, build, runs):
    path = os.path.join(runs, f"{side}_{model}_{seed}.txt")
    if os.path.exists(path):
        with open(path) as f:
            acc = accuracy(f.read())
        if acc is not None:
            return acc
    done = subprocess.run(command(side, model, seed, build), capture_output=True, text=True)
    acc = accuracy(done.stdout)
    if done.returncode != 0 or acc is None:
        sys.exit(f"{side} {model} seed {seed} failed (exit {done.returncode}):\n{done.stdout}{done.stderr}")
    with open(path + ".tmp", "w") as f:  # whole files only: a killed run is retrained next time
        f.write(done.stdout)
    os.replace(path + ".tmp", path)
    return acc


def share_of_triples(values, target):
    triples = list(itertools.combinations(values, 3))
    return sum(1 for t in triples if sum(t) / 3 >= target) / len(triples)


def normal_p(mean, sd, target):
    z = (mean - target) / (sd / math.sqrt(3))
    return 0.5 * (1 + math.erf(z / math.sqrt(2)))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["mlp", "cnn"])
    ap.add_argument("first", type=int)
    ap.add_argument("last", type=int)
    ap.add_argument("--build", default="build")
    ap.add_argument("--runs", default=None)
    a = ap.parse_args()
    if a.last - a.first < 2:
        sys.exit("need at least 3 seeds")
    runs = a.runs or os.path.join(a.build, "accuracy-runs")
    os.makedirs(runs, exist_ok=True)
    seeds = list(range(a.first, a.last + 1))
    jobs = [(side, s) for s in seeds for side in ("nabla", "torch")]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        got = dict(zip(jobs, pool.map(lambda j: run(j[0], a.model, j[1], a.build, runs), jobs)))

    target = TARGET[a.model]
    print(f"{a.model}: test accuracy (%) per seed, recipe as written; target {target} for a 3-seed mean\n")
    print("| seed | nabla | PyTorch |\n|---|---|---|")
    for s in seeds:
        print(f"| {s} | {got[('nabla', s)]:.2f} | {got[('torch', s)]:.2f} |")
    print("\n| side | seeds | mean | sd | 3-seed subsets reaching target | P(3-seed mean >= target), normal |")
    print("|---|---|---|---|---|---|")
    for side, name in (("nabla", "nabla"), ("torch", "PyTorch")):
        v = [got[(side, s)] for s in seeds]
        m, sd = statistics.mean(v), statistics.stdev(v)
        print(f"| {name} | {len(v)} | {m:.2f} | {sd:.2f} | {100 * share_of_triples(v, target):.0f}% "
              f"| {100 * normal_p(m, sd, target):.0f}% |")


if __name__ == "__main__":
    main()
