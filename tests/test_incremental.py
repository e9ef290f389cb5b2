"""Incremental builds: after each kind of change, a build that uses the build cache writes the
same files as a build from nothing; it renders only what the change affects; and a cache that
cannot be trusted is not used, with a note saying why."""

from __future__ import annotations

import importlib.util
import os
import pickle
import random
import re
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from conftest import REPO, SAMPLE, MakePortfolio
from generator.cache.store import INDEX_MAGIC, index_bytes
from generator.cli import cli
from generator.pipeline import load
from generator.render.theme import STAMP_TOKEN

Change = Callable[[Path], None]


def build(root: Path, out: Path, *options: str) -> Result:
    result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), "--no-pdf", *options])
    assert result.exit_code == 0, result.output + result.stderr
    assert "Traceback" not in result.stderr
    return result


def files_of(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()
    }


def assert_same_as_clean(root: Path, out: Path, *options: str) -> None:
    """``out`` holds exactly what a build from nothing (no cache at all) writes."""
    clean = out.parent / "clean"
    shutil.rmtree(clean, ignore_errors=True)
    build(root, clean, "--no-cache", *options)
    built, expected = files_of(out), files_of(clean)
    assert sorted(built) == sorted(expected)
    assert [name for name in expected if built[name] != expected[name]] == []


def rendered(result: Result) -> int:
    """How many pages the build rendered (the rest came from the cache)."""
    found = re.search(r"pages \((\d+) rendered, (\d+) from the cache\)", result.output)
    assert found, result.output
    return int(found[1])


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, (path, old)
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.fixture(scope="module")
def prepared(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The sample portfolio, built once with the cache (a site and its cache beside it)."""
    base = tmp_path_factory.mktemp("prepared")
    shutil.copytree(SAMPLE, base / "content")
    build(base / "content", base / "site")
    assert (base / ".portfolio-cache" / "site").is_dir()
    return base


@pytest.fixture
def work(prepared: Path, tmp_path: Path) -> Path:
    """A copy of the prepared folder: portfolio, site and cache."""
    target = tmp_path / "work"
    shutil.copytree(prepared, target, symlinks=True)
    return target


MED = "concerns/MED-01-medicines-records.md"
GOV = "governance/2026-06-governance.md"


def delete_evidence(root: Path) -> None:
    """Delete an evidence entry (and its attached file), and the one reading citing it."""
    edit(root / MED, "evidence: EV-PHARM-2026-08}", "note: pharmacist visit}")
    source = load(root).portfolio.sources["EV-PHARM-2026-08"].path
    source.unlink()
    (root / "attachments/medicines/2026-08-pharmacist-visit-summary.pdf").unlink()


def add_to(path: Path, data: bytes) -> None:
    path.write_bytes(path.read_bytes() + data)


def add_framework(root: Path) -> None:
    packaged = REPO / "generator" / "data" / "frameworks" / "cqc-saf-2024.yaml"
    shutil.copyfile(packaged, root / "framework.yaml")


CHANGES: dict[str, Change] = {
    "concern body text": lambda root: edit(
        root / MED, "section 1.14.", "section 1.14, read again in October."
    ),
    "concern title": lambda root: edit(
        root / MED, "title: Gaps in medicines administration records", "title: Gaps in MAR charts"
    ),
    "action due date and status": lambda root: edit(
        root / MED,
        "    owner: training-lead\n    due: 2026-06-30\n    status: closed",
        "    owner: training-lead\n    due: 2026-07-15\n    status: completed",
    ),
    "measure reading": lambda root: edit(
        root / MED,
        "      - {date: 2026-10-09, value: 98, evidence: EV-MAR-2026-10}\n",
        "      - {date: 2026-10-09, value: 98, evidence: EV-MAR-2026-10}\n"
        "      - {date: 2026-10-30, value: 91}\n",
    ),
    "evidence added": lambda root: (root / "evidence" / "new-audit.md").write_text(
        "---\nid: EV-NEW-2026-10\ntitle: October night audit\ntype: audit\ndate: 2026-10-28\n"
        "owner: quality-lead\nquality_statements: [medicines-optimisation, safeguarding]\n"
        "file: attachments/audits/2026-06-mar-audit.csv\n---\nNight audit notes.\n",
        encoding="utf-8",
    ),
    "evidence deleted": delete_evidence,
    "attachment bytes": lambda root: add_to(
        root / "attachments/audits/2026-06-mar-audit.csv", b"extra,row\n"
    ),
    "governance decision": lambda root: edit(root / GOV, "decision: close", "decision: keep-open"),
    "roles and settings": lambda root: edit(
        edit_and_return(
            root / "portfolio.yaml",
            "night-team-lead:        {title: Night Team Leader}",
            "night-team-lead:        {name: Kath Munro, title: Night Team Leader}",
        ),
        "due_soon_days: 14",
        "due_soon_days: 21",
    ),
    "framework.yaml added": add_framework,
    "record file renamed": lambda root: (root / MED).rename(root / "concerns" / "medicines.md"),
    "a finding introduced (an action overdue)": lambda root: edit(
        root / MED,
        "    due: 2026-12-31\n    status: in-progress",
        "    due: 2026-10-01\n    status: in-progress",
    ),
    "an NHS number written in a concern": lambda root: edit(
        root / MED, "section 1.14.", "section 1.14 (resident 943 476 5919)."
    ),
    "an NHS number added to an attached file": lambda root: add_to(
        root / "attachments/audits/2026-06-mar-audit.csv", b"943 476 5919,missed\n"
    ),
    "concern's quality statements": lambda root: edit(
        root / MED,
        "quality_statements: [medicines-optimisation]",
        "quality_statements: [medicines-optimisation, safeguarding]",
    ),
    "evidence withheld from inspectors (cited by an action)": lambda root: edit(
        root / "evidence/staff/2026-06-medicines-competency.md",
        "id: EV-COMP-MED-2026-06\n",
        "id: EV-COMP-MED-2026-06\nvisibility: internal\n",
    ),
    "visibility (a record withheld from inspectors)": lambda root: edit(
        root / MED, "visibility: commissioner", "visibility: internal"
    ),
    "the stamp's placeholder in a record's text": lambda root: edit(
        root / MED, "section 1.14.", f"section 1.14. {STAMP_TOKEN}"
    ),
}


def edit_and_return(path: Path, old: str, new: str) -> Path:
    edit(path, old, new)
    return path


# What every page shows: a change to these renders every page again.
EVERY_PAGE = {"roles and settings"}


@pytest.mark.parametrize("kind", list(CHANGES))
def test_a_rebuild_after_a_change_writes_what_a_clean_build_writes(work: Path, kind: str) -> None:
    root, out = work / "content", work / "site"
    CHANGES[kind](root)
    result = build(root, out)
    assert result.stderr == ""
    if kind not in EVERY_PAGE:
        assert "from the cache" in result.output  # the cache was used, not bypassed
    assert_same_as_clean(root, out)


def test_changes_one_after_another(work: Path) -> None:
    """A framework of the portfolio's own, edited; then a finding fixed by a file appearing."""
    root, out = work / "content", work / "site"
    add_framework(root)
    build(root, out)
    edit(root / "framework.yaml", "title: Medicines optimisation", "title: Medicines, optimised")
    build(root, out)
    assert_same_as_clean(root, out)
    # A link to a file that is not there yet: a finding, and inert text on the page. (The
    # internal edition copies files that bodies link to; shared ones only attachments.)
    internal = ("--audience", "internal")
    edit(root / MED, "section 1.14.", "section 1.14. See [the photo](../attachments/mar.png).")
    build(root, out, *internal)
    assert_same_as_clean(root, out, *internal)
    assert "files/attachments/mar.png" not in files_of(out)
    # The file appears: the finding is fixed, the link is live and the file is copied.
    (root / "attachments" / "mar.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    build(root, out, *internal)
    assert_same_as_clean(root, out, *internal)
    assert files_of(out)["files/attachments/mar.png"] == b"\x89PNG\r\n\x1a\n"
    # Its bytes change: the copy in the site changes, the page does not need to.
    (root / "attachments" / "mar.png").write_bytes(b"\x89PNG\r\n\x1a\nmore")
    assert rendered(build(root, out, *internal)) == 0
    assert_same_as_clean(root, out, *internal)


def test_identifiers_found_before_are_found_again_without_reading_again(work: Path) -> None:
    """What scanning for personal identifiers found is kept by file hash: an unchanged file
    keeps its finding, a file whose identifier was removed loses it."""
    root, out = work / "content", work / "site"

    def found() -> list[str]:
        text = (out / "findings.html").read_text(encoding="utf-8")
        return re.findall(r"this looks like (?:an NHS number|a date of birth)", text)

    before = found()
    add_to(root / "attachments/audits/2026-06-mar-audit.csv", b"943 476 5919,missed\n")
    edit(root / MED, "section 1.14.", "section 1.14 (born on 01/02/1940).")
    build(root, out)
    assert len(found()) == len(before) + 2
    edit(root / MED, "section 1.14 (born on 01/02/1940).", "section 1.14.")
    build(root, out)
    assert len(found()) == len(before) + 1
    assert (
        found().count("this looks like an NHS number")
        == before.count("this looks like an NHS number") + 1
    )
    assert_same_as_clean(root, out)


def test_records_parsed_by_a_worker_are_cached_as_those_parsed_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import generator.pipeline

    monkeypatch.setenv("PORTFOLIO_WORKERS", "2")
    monkeypatch.setattr(generator.pipeline, "PARALLEL_READ_FROM", 0)
    root, out = tmp_path / "content", tmp_path / "site"
    shutil.copytree(SAMPLE, root)
    build(root, out)
    CHANGES["concern body text"](root)
    assert 0 < rendered(build(root, out)) < 10
    assert_same_as_clean(root, out)


def test_a_file_scanned_before_is_not_read_again(tmp_path: Path) -> None:
    from generator.check.privacy import ScanMemo

    text = tmp_path / "notes.txt"
    text.write_text("seen with 943 476 5919\n", encoding="utf-8")
    memo = ScanMemo()
    assert memo.found_in(text, b"digest") == ((1, "an NHS number"),)
    gone = tmp_path / "gone.txt"  # never read: what was found is known by the hash
    assert ScanMemo(memo.now).found_in(gone, b"digest") == ((1, "an NHS number"),)
    assert ScanMemo(memo.now).found_in(gone, b"other") == ()


def test_a_link_in_a_body_follows_what_its_file_has_become(work: Path) -> None:
    """Only the file a body links to changes: it becomes an evidence entry's attachment."""
    root, out = work / "content", work / "site"
    (root / "attachments" / "letter.pdf").write_bytes(b"%PDF-1.4 letter")
    edit(root / MED, "section 1.14.", "section 1.14. See [the letter](../attachments/letter.pdf).")
    build(root, out)
    assert_same_as_clean(root, out)
    assert "files/attachments/letter.pdf" not in files_of(out)  # shared: attachments only
    (root / "evidence" / "letter.md").write_text(
        "---\nid: EV-LETTER\ntitle: Pharmacist's letter\ntype: audit\ndate: 2026-10-20\n"
        "file: attachments/letter.pdf\n---\n",
        encoding="utf-8",
    )
    build(root, out)
    assert_same_as_clean(root, out)
    page = files_of(out)["concerns/MED-01.html"].decode()
    assert '<a href="../files/attachments/letter.pdf">the letter</a>' in page


def test_files_are_hashed_again_only_when_their_state_changed(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The hash of each input is kept with its size, times and inode: a file whose state is
    unchanged is not read again, and any edit, even one that keeps the size and puts the
    modification time back, is seen."""
    import pickle

    import generator.cache.inputs

    monkeypatch.setattr(generator.cache.inputs, "RACY_NS", 0)  # the files here are brand new
    root, out = work / "content", work / "site"
    states = work / ".portfolio-cache" / "site" / "files.pickle"
    build(root, out, "--force")
    assert states.exists()
    assert "up to date" in build(root, out).output
    kept = pickle.loads(states.read_bytes())["files"]
    assert str((root / MED).absolute()) in kept

    # An edit of the same size, with the modification time put back as it was.
    med = root / MED
    before = med.stat()
    edit(
        med,
        "title: Gaps in medicines administration records",
        "title: Gaps in medicines administration RECORDS",
    )
    os.utime(med, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert med.stat().st_size == before.st_size
    assert "up to date" not in build(root, out).output
    assert "RECORDS" in (out / "concerns/MED-01.html").read_text(encoding="utf-8")
    assert_same_as_clean(root, out)

    # What is kept is what is used: a hash kept wrongly for an unchanged file changes the key.
    data = pickle.loads(states.read_bytes())
    state, _ = data["files"][str(med.absolute())]
    data["files"][str(med.absolute())] = (state, bytes(32))
    states.write_bytes(pickle.dumps(data))
    assert "up to date" not in build(root, out).output


def test_an_up_to_date_build_loads_no_stage(work: Path) -> None:
    """Finding the output up to date needs the inputs' hashes only: the command does not
    import the loader, the checks or the renderers, so it answers in a fraction of the time.
    (A fresh interpreter, as the command runs; the first build gives the state files.)"""
    root, out = work / "content", work / "site"
    build(root, out, "--no-pdf", "--force")
    script = (
        "import sys\n"
        "from generator.cli import main\n"
        f"sys.argv = ['portfolio', 'build', {str(root)!r}, '-o', {str(out)!r}, '--no-pdf']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "stages = ('generator.load.portfolio', 'generator.check.assess', 'generator.render.site',"
        " 'generator.pdf.document', 'generator.model', 'jinja2', 'weasyprint')\n"
        "print('loaded:', sorted(m for m in stages if m in sys.modules))\n"
    )
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert "is up to date" in ran.stdout
    assert "loaded: []" in ran.stdout

    # Once something changed, the same command loads them and builds.
    edit(root / MED, "title: Gaps in medicines", "title: Gaps found in medicines")
    ran = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=REPO
    )
    assert "is up to date" not in ran.stdout
    assert "'generator.render.site'" in ran.stdout


@pytest.mark.parametrize(
    "damage",
    [
        b"not a pickle",
        pickle.dumps({"format": 1, "files": {"a": (1, 2, 3)}}),
        pickle.dumps({"format": 1, "files": {"a": ((1, 2, 3, 4), b"short")}}),
        pickle.dumps({"format": 1, "files": ["a"]}),
        pickle.dumps({"format": 99, "files": {}}),
    ],
)
def test_a_damaged_record_of_file_states_means_hashing_everything(
    work: Path, damage: bytes
) -> None:
    root, out = work / "content", work / "site"
    (work / ".portfolio-cache" / "site" / "files.pickle").write_bytes(damage)
    CHANGES["concern title"](root)
    result = build(root, out)
    assert "note:" not in result.output + result.stderr
    assert_same_as_clean(root, out)


def test_without_an_early_writer_the_cached_pages_are_written_at_the_end(
    work: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Where a process cannot be forked, the pages the cache holds are written with the rest.
    def no_fork() -> int:
        raise OSError("no process to spare")

    CHANGES["concern body text"](work / "content")
    monkeypatch.setattr(os, "fork", no_fork)
    assert 0 < rendered(build(work / "content", work / "site")) < 10
    monkeypatch.undo()
    assert_same_as_clean(work / "content", work / "site")


def test_a_build_stopped_after_loading_leaves_the_site_and_no_trace(work: Path) -> None:
    """Cached pages are written early, while the checks run; a build that stops later (here
    the privacy guard of a commissioner edition) removes them and leaves the site as it was."""
    root, out = work / "content", work / "site"
    before = files_of(out)
    edit(root / MED, "section 1.14.", "section 1.14. NHS number 943 476 5919.")
    result = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(out), "--no-pdf", "--audience", "commissioner"]
    )
    assert result.exit_code == 1
    assert "NHS number" in result.stderr and "Traceback" not in result.stderr
    assert files_of(out) == before
    assert [p.name for p in work.iterdir() if p.name.startswith(".site")] == []


def test_options_change_what_every_page_shows(work: Path) -> None:
    root, out = work / "content", work / "site"
    for options in (("--audience", "internal"), ("--as-of", "2026-11-30"), ()):
        build(root, out, *options)
        assert_same_as_clean(root, out, *options)


def load_synth() -> Callable[[Path, int], None]:
    spec = importlib.util.spec_from_file_location("synth", REPO / "bench" / "synth.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    generate: Callable[[Path, int], None] = module.generate
    return generate


def test_one_changed_concern_renders_a_bounded_set_of_pages(tmp_path: Path) -> None:
    root, out = tmp_path / "p", tmp_path / "site"
    load_synth()(root, 40)
    first = build(root, out, "--audience", "internal")
    total = int(re.search(r": (\d+) pages", first.output)[1])  # type: ignore[index]
    assert total > 250
    concern = sorted((root / "concerns").glob("*.md"))[5]
    text = concern.read_text(encoding="utf-8")
    # Its body: its own page only.
    concern.write_text(text + "\nOne more paragraph.\n", encoding="utf-8")
    assert rendered(build(root, out, "--audience", "internal")) == 1
    # Its title: its page, the pages that list or link to it, and the indexes.
    title = re.search(r"^title: (.*)$", text, re.MULTILINE)
    assert title
    concern.write_text(text.replace(title[0], "title: A new title", 1), encoding="utf-8")
    count = rendered(build(root, out, "--audience", "internal"))
    assert 5 <= count <= 30, count
    assert_same_as_clean(root, out, "--audience", "internal")
    # Nothing changed but --force: nothing to render.
    assert rendered(build(root, out, "--audience", "internal", "--force")) == 0


OTHER_VERSION = "another version of portfolio, its theme or its libraries"


def damage_index_truncated(cache: Path) -> None:
    index = cache / "index.pickle"
    index.write_bytes(index.read_bytes()[: index.stat().st_size // 2])


def damage_index_garbage(cache: Path) -> None:
    # Seeded: any bytes at all must give the same note, and this test must fail the same way.
    (cache / "index.pickle").write_bytes(random.Random(4096).randbytes(4096))


def damage_index_bit_flipped(cache: Path) -> None:
    index = cache / "index.pickle"
    data = bytearray(index.read_bytes())
    data[len(data) // 2] ^= 0x10
    index.write_bytes(bytes(data))


def damage_pack_truncated(cache: Path) -> None:
    pack = next(cache.glob("pack-*.bin"))
    pack.write_bytes(pack.read_bytes()[:-100])


def damage_pack_altered(cache: Path) -> None:
    pack = next(cache.glob("pack-*.bin"))
    data = bytearray(pack.read_bytes())
    data[len(data) // 2] ^= 0xFF
    pack.write_bytes(bytes(data))


def damage_other_version(cache: Path) -> None:
    index = cache / "index.pickle"
    data = pickle.loads(index.read_bytes()[len(INDEX_MAGIC) + 4 :])
    data["code"] = "0" * 64  # what another version of the tool would have written
    index.write_bytes(index_bytes(data))


def damage_unreadable(cache: Path) -> None:
    pack = next(cache.glob("pack-*.bin"))
    pack.unlink()
    pack.mkdir()  # reading it fails as reading an unreadable file does


@pytest.mark.parametrize(
    ("damage", "why"),
    [
        (damage_index_truncated, "is damaged (its index cannot be read)"),
        (damage_index_garbage, "is damaged (its index cannot be read)"),
        (damage_index_bit_flipped, "is damaged (its index cannot be read)"),
        (damage_pack_truncated, "is damaged (its pack file is truncated)"),
        (damage_pack_altered, "is damaged (its pack file does not match its checksums)"),
        (damage_other_version, f"was made by {OTHER_VERSION}"),
        (damage_unreadable, "cannot be read (Is a directory)"),
    ],
)
def test_a_cache_that_cannot_be_trusted_means_a_full_build_with_a_note(
    work: Path, damage: Callable[[Path], None], why: str
) -> None:
    root, out, cache = work / "content", work / "site", work / ".portfolio-cache" / "site"
    damage(cache)
    CHANGES["concern body text"](root)
    result = build(root, out)
    assert result.stderr == f"note: the build cache {cache.as_posix()} {why}; building all\n"
    assert "from the cache" not in result.output  # everything was rendered
    assert_same_as_clean(root, out)
    # The build wrote a sound cache again: the next change renders one page.
    edit(root / MED, "read again in October.", "read again in November.")
    assert rendered(build(root, out)) == 1


def test_other_libraries_mean_a_full_build(
    work: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A library upgrade can change what is rendered: the cache is not used across one."""
    root, out = work / "content", work / "site"
    libraries = tmp_path / "libraries"
    (libraries / "markdown_it_py-99.0.dist-info").mkdir(parents=True)
    monkeypatch.syspath_prepend(str(libraries))
    CHANGES["concern body text"](root)
    result = build(root, out)
    assert f"was made by {OTHER_VERSION}; building all" in result.stderr
    assert "from the cache" not in result.output
    assert_same_as_clean(root, out)


def test_a_folder_that_is_not_a_cache_is_left_alone(work: Path) -> None:
    root, out = work / "content", work / "site"
    notes = work / "notes"
    notes.mkdir()
    (notes / "letter.txt").write_text("precious")
    CHANGES["concern body text"](root)
    result = build(root, out, "--cache-dir", str(notes))
    assert result.stderr == (
        f"note: {notes.as_posix()} holds files that are not the build cache's (letter.txt); "
        "building without the cache\n"
    )
    assert [p.name for p in notes.iterdir()] == ["letter.txt"]
    assert (notes / "letter.txt").read_text() == "precious"
    file = work / "a-file"
    file.write_text("not a folder")
    result = build(root, out, "--cache-dir", str(file), "--force")
    assert result.stderr == (
        f"note: {file.as_posix()} is a file, not a build cache; building without the cache\n"
    )
    assert file.read_text() == "not a folder"
    assert_same_as_clean(root, out)


@pytest.mark.skipif(os.name == "nt", reason="POSIX file locks")
def test_a_cache_in_use_by_another_build_is_not_used(work: Path) -> None:
    import fcntl

    root, out, cache = work / "content", work / "site", work / ".portfolio-cache" / "site"
    handle = os.open(cache / "lock", os.O_RDWR)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)
        CHANGES["concern body text"](root)
        result = build(root, out)
    finally:
        os.close(handle)
    assert result.stderr == (
        f"note: the build cache {cache.as_posix()} is in use by another build; building "
        "without it\n"
    )
    assert_same_as_clean(root, out)


def test_where_the_cache_is_kept(work: Path, tmp_path: Path) -> None:
    root, out = work / "content", work / "site"
    # Beside the output, never inside it: nothing of it is shared with the site.
    assert not [p for p in out.rglob("*") if p.name in ("index.pickle", "lock")]
    assert not list(out.rglob("pack-*"))
    # --no-cache neither reads nor writes one.
    other = tmp_path / "elsewhere"
    build(root, other / "site", "--no-cache")
    assert not (other / ".portfolio-cache").exists()
    # --cache-dir puts it where it is asked to.
    chosen = tmp_path / "chosen-cache"
    build(root, other / "site", "--cache-dir", str(chosen), "--force")
    assert (chosen / "index.pickle").is_file()
    CHANGES["concern body text"](root)
    assert rendered(build(root, other / "site", "--cache-dir", str(chosen))) == 1
    # A cache belongs to its output: with the output gone, everything is built.
    shutil.rmtree(other / "site")
    result = build(root, other / "site", "--cache-dir", str(chosen))
    assert "from the cache" not in result.output


def test_the_cache_cannot_be_inside_the_output(work: Path) -> None:
    out = work / "site"
    result = CliRunner().invoke(
        cli, ["build", str(work / "content"), "-o", str(out), "--cache-dir", str(out / "cache")]
    )
    assert result.exit_code == 2
    assert "--cache-dir cannot be inside the output folder" in result.stderr
    assert not (out / "cache").exists()


def test_a_site_inside_the_portfolio_folder(work: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """What init's CI workflow does: `portfolio build . -o site` in the portfolio folder."""
    root = work / "content"
    monkeypatch.chdir(root)
    build(Path("."), Path("site"))
    again = CliRunner().invoke(cli, ["build", ".", "-o", "site", "--no-pdf"])
    assert again.output.startswith("site is up to date")  # neither site nor cache is an input
    CHANGES["concern body text"](root)
    assert rendered(build(Path("."), Path("site"))) == 1


def test_init_ignores_the_cache_in_git(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["init", str(tmp_path / "new")])
    assert result.exit_code == 0, result.stderr
    ignored = (tmp_path / "new" / ".gitignore").read_text().splitlines()
    assert "/site/" in ignored and "/.portfolio-cache/" in ignored


def test_a_pdf_only_build_is_never_put_beside_a_site_for_another_audience(
    make_portfolio: MakePortfolio, tmp_path: Path
) -> None:
    """The site links the PDF beside it: a PDF for another audience written alone into its
    folder would hand the site's readers what is not for them. It is refused, and the output
    stays as it was; a PDF for the site's own audience is written, and the next build of the
    site makes it again with the site."""
    root, out = make_portfolio(), tmp_path / "out"

    def run(*args: str, code: int = 0) -> str:
        result = CliRunner().invoke(cli, ["build", str(root), "-o", str(out), *args])
        assert result.exit_code == code, result.output + result.stderr
        return result.output + result.stderr

    run("--audience", "commissioner")
    commissioner_pdf = (out / "portfolio.pdf").read_bytes()
    refused = run("--audience", "internal", "--pdf-only", code=1)
    assert refused.splitlines()[0] == (
        f"{out.as_posix()}: holds the commissioner site, which links the PDF beside it: a PDF "
        "for internal cannot be put there alone. Build it into another folder (-o), or build "
        "the site for internal with it (leave out --pdf-only)"
    )
    assert (out / "portfolio.pdf").read_bytes() == commissioner_pdf
    assert "up to date" in run("--audience", "commissioner")
    run("--audience", "commissioner", "--pdf-only", "--force")
    again = run("--audience", "commissioner")
    assert "up to date" not in again  # the PDF was written alone: the next build does all
    assert (out / "portfolio.pdf").read_bytes() == commissioner_pdf
    alone = tmp_path / "alone"  # a folder with no site takes a PDF for any audience
    result = CliRunner().invoke(
        cli, ["build", str(root), "-o", str(alone), "--audience", "internal", "--pdf-only"]
    )
    assert result.exit_code == 0, result.output
    assert (alone / "portfolio.pdf").is_file()
