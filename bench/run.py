"""Benchmark: build times and peak memory against the floor, measured in one run.

    python bench/run.py [--sizes 100,1000,5000] [--runs 3] [--pdf-sizes sample,100,300]
                        [--pdf-runs 3]

For each size it generates a synthetic portfolio (bench/synth.py) and measures, as the median
of several runs, wall time and peak memory of: the floor (bench/floor.py), a full site build,
an unchanged rebuild, a rebuild after one concern changed, `check` alone. Every figure is also
given as a ratio to the floor of the same size, because only ratios measured in one run compare
on a noisy machine.

For each PDF size ("sample" is the realistic portfolio in content/, a number a synthetic one)
it measures, in pairs run one after the other so that both meet the same load: the PDF as
built from nothing (`build --pdf-only --force`: chunks laid out in parallel and joined) against
the same document laid out by one WeasyPrint call (bench/pdf_single.py); and a build with the
PDF from nothing against a rebuild after one concern's text changed, comparing the time of the
PDF stage that each build reports. Memory is the peak of the summed resident sets of the
whole process tree (workers included), sampled every 50 ms. Run just the PDF figures with
`--sizes ""`.

It prints the tables and writes them, with the machine and the targets, to bench/RESULTS.md
(a part not measured in this run keeps what the file said).
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shlex
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

SAMPLE = HERE.parent / "content"
PDF_MARK = "\n## PDF\n"

#: Polls the process tree of a command, summing its resident sets, and prints the wall time,
#: that peak, the exit code and what the command printed.
TREE_WRAPPER = """
import os, subprocess, sys, time
page = os.sysconf("SC_PAGE_SIZE")
def tree(root):
    children = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                with open(f"/proc/{name}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(name))
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        found.append(pid)
        todo += children.get(pid, [])
    total = 0
    for pid in found:
        try:
            with open(f"/proc/{pid}/statm") as f:
                total += int(f.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            pass
    return total
t = time.perf_counter()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
peak = 0
while proc.poll() is None:
    peak = max(peak, tree(proc.pid))
    time.sleep(0.05)
out = proc.stdout.read().decode(errors="replace")
wall = time.perf_counter() - t
print(wall, peak / 1024 / 1024, proc.returncode)
print(out)
"""


def measure_tree(command: list[str]) -> tuple[float, float, str]:
    """Wall seconds, peak summed resident megabytes of the process tree, and the output."""
    result = subprocess.run(
        [sys.executable, "-c", TREE_WRAPPER, *command], capture_output=True, text=True, check=True
    )
    head, _, printed = result.stdout.partition("\n")
    wall, peak, code = head.split()
    if code not in ("0", "2"):
        raise SystemExit(f"failed ({code}): {' '.join(command)}")
    return float(wall), float(peak), printed


_PDF_STAGE = re.compile(
    r"PDF (\d+) pages \((?:\d+ of its \d+ parts laid out again, )?([0-9.]+) s\)"
)


def pdf_stage(printed: str) -> tuple[int, float]:
    """The page count and seconds of the PDF stage, as `portfolio build` reports them."""
    found = _PDF_STAGE.search(printed)
    if found is None:
        raise SystemExit(f"no PDF stage in: {printed!r}")
    return int(found[1]), float(found[2])


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
            line(unchanged <= 0.05, f"{size}: unchanged rebuild {unchanged:.0%} of a full build")
            line(one <= 0.10, f"{size}: one changed concern {one:.0%} of a full build")
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
        "(bench/floor.py).",
        "",
        "| concerns | what | seconds | x floor | peak MB |",
        "| ---: | --- | ---: | ---: | ---: |",
    ]
    for size, name, wall, ratio, peak in rows:
        lines.append(f"| {size:,} | {name} | {wall:.2f} | {ratio:.2f} | {peak:.0f} |")
    lines += ["", "## Targets", "", *targets(rows), ""]
    return "\n".join(lines)


PdfRow = tuple[str, int, str, list[float], float]  # portfolio, pages, what, seconds, peak MB


def measure_pdf(label: str, source: Path, work: Path, runs: int) -> list[PdfRow]:
    """The PDF figures of one portfolio, each from ``runs`` runs taken in interleaved pairs."""
    portfolio = [sys.executable, "-m", "generator"]
    out = work / f"pdf-{label}"
    cache = work / ".portfolio-cache" / out.name

    def clean() -> None:
        shutil.rmtree(out, ignore_errors=True)
        shutil.rmtree(cache, ignore_errors=True)

    build = [*portfolio, "build", str(source), "-o", str(out), "--audience", "internal"]
    single = [sys.executable, str(HERE / "pdf_single.py"), str(source), str(work / "one.pdf")]
    chunked: list[float] = []
    one: list[float] = []
    peaks = {"PDF": 0.0, "PDF, one call": 0.0, "build with PDF": 0.0, "rebuild": 0.0}
    pages = 0
    for _ in range(runs):
        clean()
        wall, peak, printed = measure_tree([*build, "--pdf-only", "--force"])
        pages = pdf_stage(printed)[0]
        chunked.append(wall)
        peaks["PDF"] = max(peaks["PDF"], peak)
        wall, peak, _ = measure_tree(single)
        one.append(wall)
        peaks["PDF, one call"] = max(peaks["PDF, one call"], peak)
    # A build with the PDF from nothing, then one after one concern's text changed: the PDF
    # stage of each, as the build reports it.
    target = sorted((source / "concerns").glob("*.md"))[-1]
    original = target.read_text(encoding="utf-8")
    full: list[float] = []
    again: list[float] = []
    try:
        for run in range(runs):
            clean()
            target.write_text(original, encoding="utf-8")
            _, peak, printed = measure_tree(build)
            full.append(pdf_stage(printed)[1])
            peaks["build with PDF"] = max(peaks["build with PDF"], peak)
            target.write_text(original + f"\nEdited in run {run}.\n", encoding="utf-8")
            _, peak, printed = measure_tree(build)
            again.append(pdf_stage(printed)[1])
            peaks["rebuild"] = max(peaks["rebuild"], peak)
    finally:
        target.write_text(original, encoding="utf-8")
        clean()
    return [
        (label, pages, "PDF", chunked, peaks["PDF"]),
        (label, pages, "PDF, one call", one, peaks["PDF, one call"]),
        (label, pages, "PDF stage, from nothing", full, peaks["build with PDF"]),
        (label, pages, "PDF stage, one concern changed", again, peaks["rebuild"]),
    ]


def paired(over: list[float], under: list[float]) -> tuple[float, float, float]:
    """The median, least and greatest of ``over[i] / under[i]``: runs taken in turn are
    compared pair by pair, so a machine whose speed drifts moves both sides of each ratio."""
    ratios = [a / b for a, b in zip(over, under, strict=True)]
    return statistics.median(ratios), min(ratios), max(ratios)


def pdf_targets(rows: list[PdfRow]) -> list[str]:
    """Where each PDF target stands: each ratio the median of this run's pairs."""
    runs = {(label, what): s for label, _, what, s, _ in rows}
    peaks = {(label, what): peak for label, _, what, _, peak in rows}
    pages = {label: n for label, n, *_ in rows}
    out = []

    def line(ok: bool, text: str) -> None:
        out.append(f"- {'met' if ok else 'NOT met'}: {text}")

    for label in pages:
        gain, low, high = paired(runs[(label, "PDF, one call")], runs[(label, "PDF")])
        spread = f" (median of {len(runs[(label, 'PDF')])} pairs, {low:.2f}x-{high:.2f}x)"
        if label == "sample":
            text = f"{label} ({pages[label]} pages): PDF {gain:.2f}x one call{spread} (1.6x)"
            line(gain >= 1.6, text)
        elif label == "300":
            line(gain >= 2.6, f"300 concerns: PDF {gain:.2f}x one call{spread} (2.6x)")
        else:
            out.append(f"- {label} concerns: PDF {gain:.2f}x one call{spread}")
        share = paired(
            runs[(label, "PDF stage, one concern changed")],
            runs[(label, "PDF stage, from nothing")],
        )[0]
        line(share <= 0.30, f"{label}: PDF after one concern changed {share:.0%} of a full PDF")
    fig = {key: (statistics.median(s), peaks[key]) for key, s in runs.items()}
    if "100" in pages and "300" in pages:
        mem = fig[("300", "PDF")][1] / fig[("100", "PDF")][1]
        line(mem <= 1.5, f"PDF peak memory {mem:.2f}x from 100 to 300 concerns (flat)")
    return out


def pdf_report(rows: list[PdfRow], command: str) -> str:
    """The PDF part of RESULTS.md."""
    lines = [
        PDF_MARK.strip(),
        "",
        f"Measured {date.today().isoformat()} with `{command}`, on: {machine()};"
        f" load average before: {os.getloadavg()[0]:.1f}.",
        "",
        '"sample" is the portfolio in content/; numbers are synthetic portfolios of that many',
        'concerns. "PDF" is `build --pdf-only --force` (no cache), "one call" bench/pdf_single.py;',
        "the two run in turn, run after run. The PDF stage times are those `build` reports for",
        "the PDF, from nothing and after one concern's text changed (with the build cache).",
        "Each ratio below is the median of the ratios of the run-by-run pairs.",
        "Peak is the largest sum of the resident sets of the command's whole process tree.",
        "",
        "| portfolio | pages | what | runs | min s | median s | peak MB |",
        "| --- | ---: | --- | ---: | ---: | ---: | ---: |",
    ]
    for label, pages, what, seconds, peak in rows:
        lines.append(
            f"| {label} | {pages} | {what} | {len(seconds)} | {min(seconds):.2f} | "
            f"{statistics.median(seconds):.2f} | {peak:.0f} |"
        )
    lines += ["", "### PDF targets", "", *pdf_targets(rows), ""]
    return "\n".join(lines)


def write_results(path: Path, site: str | None, pdf: str | None) -> None:
    """Write RESULTS.md, keeping the part of the old file this run did not measure."""
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    old_site, mark, old_pdf = old.partition(PDF_MARK)
    site_text = site if site is not None else old_site.rstrip() + "\n"
    pdf_text = pdf if pdf is not None else (mark.strip() + "\n" + old_pdf if mark else "")
    path.write_text(site_text.rstrip() + "\n\n" + pdf_text.rstrip() + "\n", encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100,1000,5000")
    parser.add_argument("--pdf-sizes", default="sample,100,300")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--pdf-runs", type=int, default=3)
    parser.add_argument("--results", default=str(HERE / "RESULTS.md"))
    args = parser.parse_args()
    command = "python bench/run.py " + shlex.join(sys.argv[1:])
    portfolio = [sys.executable, "-m", "generator"]
    pdf_sizes = [s.strip() for s in args.pdf_sizes.split(",") if s.strip()]
    sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    rows: list[Row] = []
    pdf_rows: list[PdfRow] = []
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
            for name, (wall, peak) in results.items():
                rows.append((size, name, wall, wall / floor[0], peak))
            print(f"{size} concerns measured", file=sys.stderr)
        for label in pdf_sizes:
            if label == "sample":
                source = work / "sample"
                shutil.copytree(SAMPLE, source)
            else:
                source = work / f"pdf{label}"
                generate(source, int(label))
            pdf_rows += measure_pdf(label, source, work, args.pdf_runs)
            print(f"PDF of {label} measured", file=sys.stderr)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if rows:
        print(f"{'concerns':>8}  {'what':<20} {'seconds':>8} {'x floor':>8} {'peak MB':>8}")
        for size, name, wall, ratio, peak in rows:
            print(f"{size:>8}  {name:<20} {wall:>8.2f} {ratio:>8.2f} {peak:>8.0f}")
        print("\n".join(targets(rows)))
    pdf_text = pdf_report(pdf_rows, command) if pdf_rows else None
    if pdf_text:
        print(pdf_text)
    site_text = report(rows, command) if rows else None
    write_results(Path(args.results), site_text, pdf_text)
    print(f"written to {args.results}")


if __name__ == "__main__":
    main()
