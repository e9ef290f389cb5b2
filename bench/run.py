"""Benchmark: build times and peak memory against the floor, measured in one run.

    python bench/run.py [--sizes 100,1000,5000] [--runs 3] [--pdf-sizes 100,300] [--pdf-runs 1]

For each size it generates a synthetic portfolio (bench/synth.py) and measures, as the median
of several runs, wall time and peak memory of: the floor (bench/floor.py), a full site build,
an unchanged rebuild, a rebuild after one concern changed, `check` alone; and, for the PDF
sizes, the PDF as built (chunks laid out in parallel and joined) against the same document laid
out by one WeasyPrint call (bench/pdf_single.py). Every figure is also given as a ratio to the
floor of the same size, because only ratios measured in one run compare on a noisy machine.
It prints the table and writes it, with the machine and the targets, to bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import date
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


def machine() -> str:
    """One line on the machine the figures were measured on."""
    cpu = "unknown CPU"
    memory = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                memory = f", {int(line.split()[1]) / 1024 / 1024:.1f} GB memory"
                break
    except OSError:
        pass
    from importlib.metadata import version

    return (
        f"{cpu}, {os.cpu_count()} cores{memory}; {platform.system()} {platform.release()}; "
        f"Python {platform.python_version()}; WeasyPrint {version('weasyprint')}"
    )


Row = tuple[int, str, float, float, float]  # concerns, what, seconds, x floor, peak MB


def targets(rows: list[Row]) -> list[str]:
    """Where each target of the benchmark stands, from the figures of this run."""
    fig = {(size, what): (wall, peak) for size, what, wall, _, peak in rows}
    ratio = {(size, what): r for size, what, _, r, _ in rows}
    sizes = sorted({size for size, *_ in rows})
    out = []

    def line(ok: bool, text: str) -> None:
        out.append(f"- {'met' if ok else 'NOT met'}: {text}")

    for size in sizes:
        if (size, "full build") in fig:
            r = ratio[(size, "full build")]
            if size == 1000:
                line(r <= 1.5, f"full build of 1,000 concerns within 1.5x the floor: {r:.2f}x")
            full = fig[(size, "full build")][0]
            unchanged = fig[(size, "unchanged rebuild")][0] / full
            one = fig[(size, "one concern changed")][0] / full
            line(unchanged <= 0.10, f"{size}: unchanged rebuild {unchanged:.0%} of a full build")
            line(one <= 0.20, f"{size}: one changed concern {one:.0%} of a full build")
    if len(sizes) > 1:
        small, large = sizes[0], sizes[-1]
        if (small, "full build") in fig and (large, "full build") in fig:
            grow = fig[(large, "full build")][0] / fig[(small, "full build")][0]
            mem = fig[(large, "full build")][1] / fig[(small, "full build")][1]
            scale = large / small
            line(
                grow <= scale * 1.3,
                f"full build grows {grow:.1f}x from {small} to {large} concerns ({scale:.0f}x)",
            )
            line(
                mem <= scale * 1.3,
                f"peak memory grows {mem:.1f}x from {small} to {large} concerns ({scale:.0f}x)",
            )
        if (5000, "full build") in fig:
            peak = fig[(5000, "full build")][1]
            line(peak < 1024, f"peak memory at 5,000 concerns {peak:.0f} MB, under 1 GB")
    pdf_sizes = [s for s in sizes if (s, "PDF") in fig]
    for size in pdf_sizes:
        if (size, "PDF, one call") in fig:
            gain = fig[(size, "PDF, one call")][0] / fig[(size, "PDF")][0]
            line(gain >= 2, f"{size}: PDF throughput {gain:.2f}x that of one WeasyPrint call")
    if len(pdf_sizes) > 1:
        small, large = pdf_sizes[0], pdf_sizes[-1]
        grow = fig[(large, "PDF")][0] / fig[(small, "PDF")][0]
        mem = fig[(large, "PDF")][1] / fig[(small, "PDF")][1]
        scale = large / small
        line(grow <= scale * 1.3, f"PDF grows {grow:.1f}x from {small} to {large} ({scale:.0f}x)")
        line(mem <= 1.5, f"PDF peak memory {mem:.2f}x from {small} to {large} concerns (flat)")
    return out


def report(rows: list[Row], command: str) -> str:
    """RESULTS.md: the table, the machine, the date, and where the targets stand."""
    lines = [
        "# Benchmark results",
        "",
        f"Measured {date.today().isoformat()} with `{command}`, on: {machine()}.",
        "",
        "Medians of the runs; peak is the largest resident set of any process of the command.",
        "The floor reads, parses and renders every record with one trivial template on one core",
        '(bench/floor.py); "PDF, one call" lays the same print document out in one WeasyPrint',
        "call (bench/pdf_single.py).",
        "",
        "| concerns | what | seconds | x floor | peak MB |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for size, name, wall, ratio, peak in rows:
        lines.append(f"| {size:,} | {name} | {wall:.2f} | {ratio:.2f} | {peak:.0f} |")
    lines += ["", "## Targets", "", *targets(rows), ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--pdf-sizes", default="100,300")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pdf-runs", type=int, default=1)
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    command = "python bench/run.py " + " ".join(sys.argv[1:])
    portfolio = [sys.executable, "-m", "generator"]
    pdf_sizes = {int(s) for s in args.pdf_sizes.split(",") if s.strip().isdigit()}
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()} | pdf_sizes)
    rows: list[Row] = []
    work = Path(tempfile.mkdtemp(prefix="portfolio-bench-"))
    try:
        for size in sizes:
            source = work / f"p{size}"
            generate(source, size)
            floor = median(
                [sys.executable, str(HERE / "floor.py"), str(source), str(work / "floor")],
                args.runs,
            )
            out = work / f"site{size}"
            results = {"floor": floor}

            def clean(out: Path = out) -> None:
                # A full build: neither the output nor the build cache beside it.
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(work / ".portfolio-cache" / out.name, ignore_errors=True)

            build = [*portfolio, "build", str(source), "-o", str(out), "--audience", "internal"]
            if str(size) in args.sizes.split(","):
                site = [*build, "--no-pdf"]
                results["full build"] = median(site, args.runs, clean)
                results["unchanged rebuild"] = median(site, args.runs)
                target = next((source / "concerns").glob("*.md"))
                original = target.read_text()

                def touch(target: Path = target, original: str = original) -> None:
                    target.write_text(original + f"\nEdited at {time.perf_counter()}.\n")

                results["one concern changed"] = median(site, args.runs, touch)
                target.write_text(original)
                results["check"] = median([*portfolio, "check", str(source)], args.runs)
            if size in pdf_sizes:
                results["PDF"] = median([*build, "--pdf-only", "--force"], args.pdf_runs)
                single = [sys.executable, str(HERE / "pdf_single.py"), str(source)]
                results["PDF, one call"] = median([*single, str(work / "one.pdf")], args.pdf_runs)
            for name, (wall, peak) in results.items():
                rows.append((size, name, wall, wall / floor[0], peak))
            print(f"{size} concerns measured", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"{'concerns':>8}  {'what':<20} {'seconds':>8} {'x floor':>8} {'peak MB':>8}")
    for size, name, wall, ratio, peak in rows:
        print(f"{size:>8}  {name:<20} {wall:>8.2f} {ratio:>8.2f} {peak:>8.0f}")
    text = report(rows, command)
    Path(args.results).write_text(text, encoding="utf-8")
    print("\n".join(targets(rows)))
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
