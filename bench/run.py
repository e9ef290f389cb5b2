"""Benchmark: build times and peak memory against the floor, measured in one run.

    python bench/run.py [--sizes 100,1000,5000] [--runs 3] [--pdf-sizes 100,1000]

For each size it generates a synthetic portfolio (bench/synth.py) and measures, as the median
of several runs, wall time and peak memory of: the floor (bench/floor.py), a full site build,
an unchanged rebuild, a rebuild after one concern changed, `check` alone, and the PDF. Every
figure is also given as a ratio to the floor of the same size, because only ratios measured in
one run compare on a noisy machine.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from synth import generate  # noqa: E402


def measure(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak resident megabytes of one run of ``command``."""
    wrapper = (
        "import resource, subprocess, sys, time\n"
        "t = time.perf_counter()\n"
        "code = subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL).returncode\n"
        "wall = time.perf_counter() - t\n"
        "peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024\n"
        "print(wall, peak, code)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", wrapper, *command], capture_output=True, text=True, check=True
    )
    wall, peak, code = result.stdout.split()
    if code not in ("0", "2"):
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return float(wall), float(peak)


def median(command: list[str], runs: int, before: object = None) -> tuple[float, float]:
    walls, peaks = [], []
    for _ in range(runs):
        if callable(before):
            before()
        wall, peak = measure(command)
        walls.append(wall)
        peaks.append(peak)
    return statistics.median(walls), max(peaks)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000")
    parser.add_argument("--pdf-sizes", default="100")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    portfolio = [sys.executable, "-m", "generator"]
    rows = []
    work = Path(tempfile.mkdtemp(prefix="portfolio-bench-"))
    try:
        for size in [int(s) for s in args.sizes.split(",")]:
            source = work / f"p{size}"
            generate(source, size)
            floor = median(
                [sys.executable, str(HERE / "floor.py"), str(source), str(work / "floor")],
                args.runs,
            )
            out = work / f"site{size}"

            def clean(out: Path = out) -> None:
                shutil.rmtree(out, ignore_errors=True)

            build = [
                *portfolio,
                "build",
                str(source),
                "-o",
                str(out),
                "--no-pdf",
                "--audience",
                "internal",
            ]
            full = median(build, args.runs, clean)
            unchanged = median(build, args.runs)
            target = next((source / "concerns").glob("*.md"))
            original = target.read_text()

            def touch(target: Path = target, original: str = original) -> None:
                target.write_text(original + f"\nEdited at {time.perf_counter()}.\n")

            one = median(build, args.runs, touch)
            target.write_text(original)
            check = median([*portfolio, "check", str(source)], args.runs)
            results = {
                "floor": floor,
                "full build": full,
                "unchanged rebuild": unchanged,
                "one concern changed": one,
                "check": check,
            }
            if str(size) in args.pdf_sizes.split(","):
                results["PDF"] = median(
                    [
                        *portfolio,
                        "build",
                        str(source),
                        "-o",
                        str(out),
                        "--pdf-only",
                        "--audience",
                        "internal",
                    ],
                    1,
                )
            for name, (wall, peak) in results.items():
                rows.append((size, name, wall, wall / floor[0], peak))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'concerns':>8}  {'what':<20} {'seconds':>8} {'x floor':>8} {'peak MB':>8}")
    for size, name, wall, ratio, peak in rows:
        print(f"{size:>8}  {name:<20} {wall:>8.2f} {ratio:>8.2f} {peak:>8.0f}")


if __name__ == "__main__":
    main()
