"""Where the time of a site build goes: each stage, each template.

    python bench/stages.py [--concerns 1000] [--top 25] [--wall]

Generates a synthetic portfolio (bench/synth.py), then runs two builds of it: a full build,
and a build after one concern's text changed (which uses the build cache of the first).

By default both builds run in this process under cProfile, with one worker process
(PORTFOLIO_WORKERS=1) so that every call is seen. For each it prints the time spent in every
stage of the pipeline (inclusive: a stage holds the stages it calls) and in every template,
then the functions that take the most time of their own. Profiling slows every call, small
ones most: read the figures as shares of the whole, and the benchmark (bench/run.py) for the
times themselves.

With ``--wall``, each build is a command of its own, as a user runs it (a fresh process, every
core), and each stage is timed by the clock, not profiled: the seconds the build's own process
spends in it. Work shared with worker processes counts as the time the stage that shares it
takes; what the command spends outside the build (starting, importing, leaving) has a row of
its own.
"""

from __future__ import annotations

import argparse
import cProfile
import importlib
import io
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from synth import generate  # noqa: E402

from generator.cache.inputs import RACY_NS  # noqa: E402

#: The stages, as (name, file of the function, function name, modes it is shown in). A stage
#: that runs in worker processes too is shown where the profile sees all of it; one that shares
#: work between processes, where the clock sees all of it.
BOTH, PROFILE, WALL = ("profile", "wall"), ("profile",), ("wall",)
STAGES = [
    ("whole build", "generator/pipeline.py", "build", BOTH),
    ("hash the inputs", "generator/cache/inputs.py", "scan_inputs", BOTH),
    ("open the build cache", "generator/cache/store.py", "open", BOTH),
    ("load (parse, link, check)", "generator/pipeline.py", "load", BOTH),
    ("  parse and validate", "generator/load/records.py", "read_record", PROFILE),
    ("  records from the cache", "generator/cache/records.py", "cached", BOTH),
    ("  link", "generator/load/link.py", "link", BOTH),
    ("  checks", "generator/check/rules.py", "run_checks", BOTH),
    ("    privacy scan", "generator/check/privacy.py", "scan", BOTH),
    ("audience view", "generator/check/audience.py", "shared_view", BOTH),
    ("render the site", "generator/pipeline.py", "render_site", BOTH),
    ("  which pages the cache holds", "generator/cache/pages.py", "todo", BOTH),
    ("    values of what they read", "generator/render/reads.py", "of", PROFILE),
    ("  pages", "generator/render/site.py", "render", PROFILE),
    ("  downloads (CSV, XLSX)", "generator/render/exports.py", "downloads", PROFILE),
    ("  search index", "generator/render/search.py", "index_script", PROFILE),
    ("write and swap", "generator/output/write.py", "finish", BOTH),
    ("note the files copied", "generator/cache/store.py", "remember_copies", BOTH),
    ("save the cache", "generator/cache/store.py", "save", BOTH),
    ("remove the old output", "generator/output/write.py", "settle", WALL),
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
    for name, file, function, modes in STAGES:
        if "profile" not in modes:
            continue
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


def timed(file: str, function: str, name: str, spent: dict[str, float]) -> None:
    """Time every call of a stage's function (a module's, or a method of a class of it), as
    every module that imported it by name calls it; calls inside a call are not counted twice."""
    module = importlib.import_module(file.removesuffix(".py").replace("/", "."))
    owner: Any = module
    if not callable(getattr(module, function, None)):
        owner = next(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and value.__module__ == module.__name__
            and function in vars(value)
        )
    original = vars(owner)[function]
    method = isinstance(original, classmethod)
    call = original.__func__ if method else original
    depth = [0]

    def stage(*args: Any, **kwargs: Any) -> Any:
        if depth[0]:
            return call(*args, **kwargs)
        depth[0] += 1
        started = time.perf_counter()
        try:
            return call(*args, **kwargs)
        finally:
            depth[0] -= 1
            spent[name] = spent.get(name, 0.0) + time.perf_counter() - started

    setattr(owner, function, classmethod(stage) if method else stage)
    for loaded in list(sys.modules.values()):
        if getattr(loaded, "__name__", "").startswith("generator."):
            for attribute, value in list(vars(loaded).items()):
                if value is original:
                    setattr(loaded, attribute, stage)


def wall_child(args: list[str]) -> None:
    """Run one build here with its stages timed; print the seconds of each as JSON."""
    from generator.cli import cli

    spent: dict[str, float] = {}
    for name, file, function, modes in STAGES:
        if "wall" in modes:
            timed(file, function, name, spent)
    try:
        cli.main(args, standalone_mode=False)
    finally:
        print(json.dumps(spent))


def wall_build(args: list[str]) -> tuple[float, dict[str, float]]:
    """One build as a command of its own: its wall time and the seconds of each stage."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--wall-child", *args],
        capture_output=True,
        text=True,
        check=True,
    )
    whole = time.perf_counter() - started
    return whole, json.loads(done.stdout.strip().splitlines()[-1])


def wall_report(title: str, whole: float, spent: dict[str, float]) -> str:
    """The stages of one build, by the clock, as shares of the whole command."""
    lines = [f"## {title}", "", "| stage | seconds | share |", "| --- | ---: | ---: |"]
    lines.append(f"| the command | {whole:.2f} | 100% |")
    outside = whole - spent.get("whole build", 0.0)
    lines.append(f"| starting, importing, leaving | {outside:.2f} | {outside / whole:.0%} |")
    for name, _, _, modes in STAGES:
        if "wall" in modes and name in spent:
            lines.append(f"| {name} | {spent[name]:.2f} | {spent[name] / whole:.0%} |")
    return "\n".join(lines) + "\n"


def main() -> None:
    if sys.argv[1:2] == ["--wall-child"]:
        wall_child(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--concerns", type=int, default=1000)
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--wall", action="store_true", help="time by the clock, every core")
    args = parser.parse_args()
    if not args.wall:
        os.environ["PORTFOLIO_WORKERS"] = "1"
    work = Path(tempfile.mkdtemp(prefix="portfolio-profile-"))
    try:
        source, out = work / "portfolio", work / "site"
        generate(source, args.concerns)
        # Files changed in the last moments before a build are hashed again by the next one
        # (cache.inputs.RACY_NS): let the new files settle, as a user's files have.
        time.sleep(RACY_NS / 1e9)
        build = ["build", str(source), "-o", str(out), "--no-pdf", "--audience", "internal"]
        run: Callable[[list[str]], Any] = wall_build if args.wall else profile_build
        full = run(build)
        if args.wall:  # the full build's writes reach the disk first, not during the next
            os.sync()
        concern = sorted((source / "concerns").glob("*.md"))[0]
        concern.write_text(concern.read_text() + "\nEdited.\n")
        changed = run(build)
        if args.wall:
            print(f"# Where the time goes: {args.concerns:,} concerns, every core, by the clock\n")
            print(wall_report("Full build", *full))
            print(wall_report("One concern's text changed", *changed))
        else:
            print(f"# Where the time goes: {args.concerns:,} concerns, one core, profiled\n")
            print(report("Full build", full, args.top))
            print(report("One concern's text changed", changed, args.top))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
