"""Where the time of a site build goes: each stage, each template, on one core.

    python bench/stages.py [--concerns 1000] [--top 25]

Generates a synthetic portfolio (bench/synth.py), then runs two builds of it in this process
under cProfile, with one worker process (PORTFOLIO_WORKERS=1) so that every call is seen: a
full build, and a build after one concern's text changed (which uses the build cache of the
first). For each it prints the time spent in every stage of the pipeline (inclusive: a stage
holds the stages it calls) and in every template, then the functions that take the most time
of their own. Profiling slows every call, small ones most: read the figures as shares of the
whole, and the benchmark (bench/run.py) for the times themselves.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import shutil
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import generate  # noqa: E402

from generator.cache.inputs import RACY_NS  # noqa: E402

#: The stages, as (name, file of the function, function name).
STAGES = [
    ("whole build", "generator/pipeline.py", "build"),
    ("hash the inputs", "generator/cache/inputs.py", "scan_inputs"),
    ("load (parse, link, check)", "generator/pipeline.py", "load"),
    ("  parse and validate", "generator/load/records.py", "read_record"),
    ("  records from the cache", "generator/cache/records.py", "cached"),
    ("  link", "generator/load/link.py", "link"),
    ("  checks", "generator/check/rules.py", "run_checks"),
    ("    privacy scan", "generator/check/privacy.py", "scan"),
    ("audience view", "generator/check/audience.py", "shared_view"),
    ("render the site", "generator/pipeline.py", "render_site"),
    ("  values of what cached pages read", "generator/cache/pages.py", "value_of"),
    ("  page cache keys", "generator/cache/pages.py", "key"),
    ("  pages", "generator/render/site.py", "render"),
    ("  downloads (CSV, XLSX)", "generator/render/exports.py", "downloads"),
    ("  search index", "generator/render/search.py", "index_script"),
    ("write and swap", "generator/output/write.py", "finish"),
    ("save the cache", "generator/cache/store.py", "save"),
]


def profile_build(args: list[str]) -> pstats.Stats:
    """One ``portfolio build`` in this process, profiled."""
    from generator.cli import cli

    profiler = cProfile.Profile()
    profiler.enable()
    try:
        cli.main(args, standalone_mode=False)
    finally:
        profiler.disable()
    return pstats.Stats(profiler)


def report(title: str, stats: pstats.Stats, top: int) -> str:
    """The stages, the templates and the top functions of one profiled build."""
    table: dict[tuple[str, int, str], tuple[int, int, float, float, object]]
    table = stats.stats  # type: ignore[attr-defined]
    whole = next(
        (
            ct
            for (f, _, fn), (_, _, _, ct, _) in table.items()
            if f.endswith("pipeline.py") and fn == "build"
        ),
        0.0,
    )
    lines = [f"## {title}", "", "| stage | seconds | share |", "| --- | ---: | ---: |"]
    for name, file, function in STAGES:
        spent = sum(
            ct
            for (f, _, fn), (_, _, _, ct, _) in table.items()
            if f.endswith(file) and fn == function
        )
        if spent:
            lines.append(f"| {name} | {spent:.2f} | {spent / whole:.0%} |")
    templates: dict[str, float] = {}
    for (f, _, fn), (_, _, _, ct, _) in table.items():
        if f.endswith(".html") and fn == "root":
            name = f.split("templates/", 1)[-1]
            templates[name] = max(templates.get(name, 0.0), ct)
    if templates:
        lines += [
            "",
            "Templates (inclusive: base.html holds every page it lays out):",
            "",
            "| template | seconds |",
            "| --- | ---: |",
        ]
        for name, spent in sorted(templates.items(), key=lambda item: -item[1]):
            if spent >= 0.01:
                lines.append(f"| {name} | {spent:.2f} |")
    out = io.StringIO()
    stats.stream = out  # type: ignore[attr-defined]
    stats.sort_stats("tottime").print_stats(top)
    lines += ["", "Functions by their own time:", "", "```"]
    lines += [line for line in out.getvalue().splitlines() if line.strip()][-top - 1 :]
    lines += ["```", ""]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concerns", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    args = parser.parse_args()
    os.environ["PORTFOLIO_WORKERS"] = "1"
    work = Path(tempfile.mkdtemp(prefix="portfolio-profile-"))
    try:
        source, out = work / "portfolio", work / "site"
        generate(source, args.concerns)
        # Files changed in the last moments before a build are hashed again by the next one
        # (cache.inputs.RACY_NS): let the new files settle, as a user's files have.
        time.sleep(RACY_NS / 1e9)
        build = ["build", str(source), "-o", str(out), "--no-pdf", "--audience", "internal"]
        full = profile_build(build)
        concern = sorted((source / "concerns").glob("*.md"))[0]
        concern.write_text(concern.read_text() + "\nEdited.\n")
        changed = profile_build(build)
        print(f"# Where the time goes: {args.concerns:,} concerns, one core, profiled\n")
        print(report("Full build", full, args.top))
        print(report("One concern's text changed", changed, args.top))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
