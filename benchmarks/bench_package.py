"""Packager speed and size against `zip -r -X -q -6`, measured in the same run.

Generates a seeded tree (default about 5,000 files, about 100 MB: Python sources,
JSON, minified-looking text and incompressible binaries), then times
``deployer.package.build_artifact`` and the zip baseline on it, best of N runs.
Prints both times, the speed ratio and both sizes. The target is >= 1.5x faster at
<= 1.02x the size; this script reports, it does not assert.
"""

from __future__ import annotations

import argparse
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
        started = time.perf_counter()
        action()  # type: ignore[operator]
        timings.append(time.perf_counter() - started)
    return min(timings)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5000)
    parser.add_argument("--megabytes", type=int, default=100)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if shutil.which("zip") is None:
        print("zip is not installed (apt-get install zip); the baseline cannot be measured")
        return 1
    with tempfile.TemporaryDirectory(prefix="lambda-deploy-bench-") as scratch:
        tree = Path(scratch) / "tree"
        raw = generate(tree, args.files, args.megabytes)
        baseline_zip = Path(scratch) / "baseline.zip"

        def baseline() -> None:
            baseline_zip.unlink(missing_ok=True)
            subprocess.run(["zip", "-r", "-X", "-q", "-6", str(baseline_zip), "."], cwd=tree, check=True)

        ours: list[int] = []
        ours_time = best_of(args.runs, lambda: ours.append(build_artifact(tree).size))
        zip_time = best_of(args.runs, baseline)
        zip_size = baseline_zip.stat().st_size
    print(f"tree: {args.files} files, {raw / 1e6:.1f} MB raw")
    print(f"baseline `zip -r -X -q -6`: {zip_time:.2f} s, {zip_size / 1e6:.2f} MB")
    print(f"lambda-deploy packager:     {ours_time:.2f} s, {ours[-1] / 1e6:.2f} MB")
    print(f"speed: {zip_time / ours_time:.2f}x the baseline (target >= 1.5x); size: {ours[-1] / zip_size:.3f}x (target <= 1.02x)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
