"""Packager speed and size against `zip -r -X -q -6`, measured in the same run.

Generates a seeded tree (default about 5,000 files, about 100 MB: Python sources,
JSON and incompressible binaries), or takes ``--tree DIR`` (real code, e.g. a
site-packages folder), then times ``deployer.package.build_artifact`` and the zip
baseline on it, best of N runs. Prints both times, the speed ratio, both sizes, and
whether ``unzip -t`` accepts our archive. The goal on the generated tree is >= 3x the
baseline's speed at <= 1.00x its size; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from deployer.package import build_artifact

WORDS = ["def", "class", "return", "import", "self", "value", "event", "context", "handler", "lambda", "deploy", "version", "alias"]


def generate(root: Path, files: int, megabytes: int, seed: int = 7) -> int:
    rng = random.Random(seed)
    budget = megabytes * 1024 * 1024
    per_file = budget // files
    total = 0
    for index in range(files):
        folder = root / f"pkg{index % 40}" / f"mod{index % 7}"
        folder.mkdir(parents=True, exist_ok=True)
        kind = index % 10
        size = max(64, int(rng.expovariate(1 / per_file)))
        if kind < 6:  # source-like text: compresses well
            line = " ".join(rng.choice(WORDS) for _ in range(12)) + "\n"
            data = (line * (size // len(line) + 1))[:size].encode()
            name = f"file{index}.py"
        elif kind < 8:  # structured data
            data = ("{" + ",".join(f'"k{rng.randrange(999)}": {rng.random():.6f}' for _ in range(size // 20)) + "}").encode()[:size]
            name = f"data{index}.json"
        else:  # already-compressed / binary: incompressible
            data = rng.randbytes(size)
            name = f"blob{index}.bin"
        (folder / name).write_bytes(data)
        total += len(data)
    return total


def best_of(runs: int, action: object) -> float:
    timings = []
    for _ in range(runs):
        # Flush the baseline's written zip (and the tree) to disk first, untimed, so the
        # kernel's writeback does not run inside the next measurement, whichever it is.
        os.sync()
        started = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3, help="runs per round; each round keeps the best of both")
    parser.add_argument("--rounds", type=int, default=5, help="paired rounds; the spread of their ratios is printed")
    parser.add_argument("--tree", type=Path, help="measure this directory instead of a generated tree")
    args = parser.parse_args()
    if shutil.which("zip") is None:
        print("zip is not installed (apt-get install zip); the baseline cannot be measured")
        return 1
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-bench-") as scratch:
        tree = args.tree or Path(scratch) / "tree"
        raw = sum(p.stat().st_size for p in tree.rglob("*") if p.is_file()) if args.tree else generate(tree, args.files, args.megabytes)
        count = sum(1 for p in tree.rglob("*") if p.is_file())
        baseline_zip = Path(scratch) / "baseline.zip"

        def baseline() -> None:
            baseline_zip.unlink(missing_ok=True)
            # The same files as ours: the packager always leaves out .git/, __pycache__/ and *.pyc.
            leave_out = ["-x", "*/.git/*", ".git/*", "*/__pycache__/*", "__pycache__/*", "*.pyc"]
            subprocess.run(["zip", "-r", "-X", "-q", "-6", str(baseline_zip), ".", *leave_out], cwd=tree, check=True)

        ours: list[bytes] = []
        rounds = []  # (ours, zip) per round, measured back to back so both meet the same machine
        for _ in range(args.rounds):
            rounds.append((best_of(args.runs, lambda: ours.append(build_artifact(tree).zip_bytes)), best_of(args.runs, baseline)))
        ours_time, zip_time = sorted(rounds, key=lambda pair: pair[1] / pair[0])[len(rounds) // 2]
        ratios = sorted(zip_ / ours_ for ours_, zip_ in rounds)
        zip_size = baseline_zip.stat().st_size
        checked = Path(scratch) / "ours.zip"
        checked.write_bytes(ours[-1])
        valid = subprocess.run(["unzip", "-tq", str(checked)], capture_output=True, check=False).returncode == 0
    size = len(ours[-1])
    print(f"tree: {args.tree or 'generated'}, {count} files, {raw / 1e6:.1f} MB raw")
    print(f"baseline `zip -r -X -q -6`: {zip_time:.2f} s, {zip_size / 1e6:.2f} MB")
    print(f"lambda-deploy packager:     {ours_time:.2f} s, {size / 1e6:.2f} MB; unzip -t: {'ok' if valid else 'FAILED'}")
    spread = ", ".join(f"{ratio:.2f}x" for ratio in ratios)
    print(f"speed: {zip_time / ours_time:.2f}x the baseline (the median of {len(ratios)} rounds: {spread}; goal >= 3x)")
    print(f"size: {size / zip_size:.3f}x the baseline's (goal <= 1.00x); the same bytes every run: {len(set(ours)) == 1}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
