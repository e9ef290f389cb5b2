"""The command line: ``portfolio`` (also ``python -m generator``).

Each command calls one library function. User errors are :class:`PortfolioError` and become a
list of ``path:line: message`` lines and exit status 1; tracebacks appear only with --verbose.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from datetime import date
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import click

from generator import __version__
from generator.errors import PortfolioError
from generator.output.write import atomic_write
from generator.parallel import default_workers
from generator.pdf.engine import INSTALL_HELP, PdfEngineMissing, require_engine

if TYPE_CHECKING:
    from generator.tools.authoring import Kind
    from generator.tools.sync import SyncReport

F = TypeVar("F", bound=Callable[..., Any])

AUDIENCES = ["internal", "inspection", "commissioner", "public"]
EXIT_ERRORS = 1
EXIT_FINDINGS = 2  # with --strict
EXIT_NO_PDF = 3  # the PDF could not be made here (WeasyPrint or Pango missing)
EXIT_INTERNAL = 70  # EX_SOFTWARE: a fault of the tool, not of the portfolio


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date: use YYYY-MM-DD") from None


PATH_ARGUMENT = click.argument("path", default="content", type=click.Path(path_type=Path))
AS_OF_OPTION = click.option(
    "--as-of",
    "as_of",
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="Judge statuses and findings at this date instead of portfolio.yaml's as_of.",
)


def _user_errors(func: F) -> F:
    """Report PortfolioError as plain lines and exit 1, never with a traceback."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except PortfolioError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            count = len(exc.problems)
            click.echo(f"{count} error{'s' if count != 1 else ''}; nothing was written.", err=True)
            sys.exit(EXIT_ERRORS)
        except click.ClickException:
            raise  # usage errors: click reports them with exit status 2
        except PdfEngineMissing as exc:
            click.echo(f"The PDF could not be made: {exc.reason}; nothing was written.", err=True)
            click.echo(INSTALL_HELP, err=True)
            sys.exit(EXIT_NO_PDF)
        except OSError as exc:
            # The machine said no (permissions, a full disk, a port in use): not a fault of
            # the tool, and nothing the portfolio's files can fix.
            where = f"{exc.filename}: " if exc.filename else ""
            click.echo(f"{where}{exc.strerror or exc}; nothing was written.", err=True)
            sys.exit(EXIT_ERRORS)
        except Exception as exc:
            if click.get_current_context().find_root().params.get("verbose"):
                raise
            click.echo(
                f"internal error: {type(exc).__name__}: {exc}\n"
                "This is a fault in portfolio, not in your files. Run again with --verbose "
                "for the details, and report them.",
                err=True,
            )
            sys.exit(EXIT_INTERNAL)

    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="portfolio")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
def cli(verbose: bool) -> None:
    """Build evidence portfolios for CQC-regulated adult social care.

    A portfolio is a folder of Markdown + YAML records (see docs/format.md). Each command
    takes the folder as PATH, by default ./content.
    """


@cli.command()
@PATH_ARGUMENT
@click.option(
    "-o",
    "--out",
    default="site",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Folder to write the site into (replaced atomically).",
)
@AS_OF_OPTION
@click.option("--no-pdf", is_flag=True, help="Build the site without the PDF portfolio.")
@click.option(
    "--pdf-only",
    is_flag=True,
    help="Write only OUT/portfolio.pdf, leaving the rest of OUT as it is.",
)
@click.option(
    "--embed-attachments",
    is_flag=True,
    help="Embed the evidence's PDF attachments in the PDF portfolio.",
)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    help="Who the output is for (default: portfolio.yaml's audience, else inspection). "
    "Records they may not see are left out of every file.",
)
@click.option("--force", is_flag=True, help="Build even when nothing has changed.")
@click.option(
    "--cache-dir",
    type=click.Path(path_type=Path),
    help="Where to keep the build cache [default: .portfolio-cache/NAME beside OUT, where NAME "
    "is OUT's name].",
)
@click.option(
    "--no-cache",
    is_flag=True,
    help="Parse and render everything, without reading or writing the build cache.",
)
@_user_errors
def build(
    path: Path,
    out: Path,
    as_of: date | None,
    no_pdf: bool,
    pdf_only: bool,
    embed_attachments: bool,
    audience: str | None,
    force: bool,
    cache_dir: Path | None,
    no_cache: bool,
) -> None:
    """Build the offline HTML site and the PDF portfolio of the portfolio in PATH.

    Writes OUT/index.html, the pages it links to, and OUT/portfolio.pdf.

    Exit status: 0 built; 1 the portfolio has errors (nothing written); 3 built, but the PDF
    could not be made because WeasyPrint or the Pango library it needs is missing (the message
    says how to install it; --no-pdf builds the site alone with status 0).

    Builds are incremental: a build cache beside OUT keeps the parsed records and rendered
    pages, so a build parses only the files that changed and renders only the pages a change
    affects; the output is the same as a build from nothing. A damaged cache, or one made by
    another version of the tool or its libraries, is not used (the build says so and does
    everything). Delete OUT, or use --no-cache, to build from nothing.
    """
    from generator.cache.inputs import default_cache_dir
    from generator.output.write import PDF_NAME
    from generator.pipeline import BuildOptions
    from generator.pipeline import build as run_build

    if no_pdf and pdf_only:
        raise click.UsageError("--no-pdf and --pdf-only cannot be used together")
    chosen_cache = cache_dir or default_cache_dir(out)
    if chosen_cache.resolve().is_relative_to(out.resolve()):
        raise click.UsageError("--cache-dir cannot be inside the output folder: it is not shared")
    built = run_build(
        BuildOptions(
            path=path,
            out=out,
            as_of=as_of,
            audience=audience,
            pdf=not no_pdf,
            pdf_only=pdf_only,
            embed_attachments=embed_attachments,
            force=force,
            cache_dir=chosen_cache,
            use_cache=not no_cache,
            workers=default_workers(),
        )
    )
    for note in built.notes:
        click.echo(f"note: {note}", err=True)
    loaded = built.build
    if loaded is None:
        click.echo(
            f"{out.as_posix()} is up to date: nothing in {path.as_posix()} has "
            f"changed since it was built ({built.seconds:.2f} s)"
        )
        return
    pdf_note = ""
    if built.pdf is not None:
        for url in built.pdf.refused:
            click.echo(
                f"warning: the PDF did not read {url}: it is outside the portfolio", err=True
            )
        pdf_note = f", PDF {built.pdf.pages} pages ({built.pdf_seconds:.1f} s)"
        if built.pdf.reused:
            parts = built.pdf.laid_out + built.pdf.reused
            pdf_note = (
                f", PDF {built.pdf.pages} pages ({built.pdf.laid_out} of its {parts} parts laid "
                f"out again, {built.pdf_seconds:.1f} s)"
            )
    p = loaded.portfolio
    what = f"{out.as_posix()}/{PDF_NAME}" if pdf_only else f"{out.as_posix()}/index.html"
    what += f" ({p.audience} edition)"
    pages = "" if pdf_only else f"{built.site_pages} pages, "
    if built.reused:
        pages = (
            f"{built.site_pages} pages ({built.rendered} rendered, {built.reused} from the cache), "
        )
    if built.pdf_missing is not None:
        pdf_note = ", no PDF"
    click.echo(
        f"Built {what}: {pages}{len(p.concerns)} concerns, {len(p.actions)} actions, "
        f"{len(p.evidence)} evidence entries, {len(loaded.findings)} findings, as of "
        f"{p.as_of.isoformat()}, build {loaded.stamp}{pdf_note} ({built.seconds:.2f} s)"
    )
    if built.pdf_missing is not None:
        click.echo(
            f"warning: the PDF was not made: {built.pdf_missing}. Everything else was built: "
            f"open {out.as_posix()}/index.html.",
            err=True,
        )
        click.echo(INSTALL_HELP, err=True)
        sys.exit(EXIT_NO_PDF)


@cli.command()
@PATH_ARGUMENT
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Lines of path:line: CODE message, or a JSON document.",
)
@click.option("--strict", is_flag=True, help="Exit with status 2 when there are findings.")
@AS_OF_OPTION
@_user_errors
def check(path: Path, output: str, strict: bool, as_of: date | None) -> None:
    """Check the portfolio in PATH: report errors and assurance findings.

    Exit status: 0 no errors (findings are allowed), 1 errors, 2 findings with --strict.
    """
    from generator.check.report import as_json, as_text
    from generator.pipeline import check as run_check

    result = run_check(path, as_of, default_workers())
    if output == "json":
        click.echo(as_json(result), nl=False)
    else:
        lines = as_text(result)
        stream_err = bool(result.errors)
        for line in lines:
            click.echo(line, err=stream_err)
    if result.errors:
        sys.exit(EXIT_ERRORS)
    if strict and result.findings:
        sys.exit(EXIT_FINDINGS)


@cli.command()
@PATH_ARGUMENT
@click.option(
    "-o",
    "--out",
    default="schemas",
    type=click.Path(path_type=Path),
    show_default=True,
    help="Folder to write the KIND.schema.json files into.",
)
@_user_errors
def schema(path: Path, out: Path) -> None:
    """Write the JSON Schema of each record kind, for editors to validate front matter.

    When PATH is a portfolio, its quality statements and roles are listed in the schemas, so
    an editor can offer them as you type.
    """
    from generator.model.schema import write_schemas
    from generator.pipeline import load

    slugs: list[str] | None = None
    roles: list[str] | None = None
    if (path / "portfolio.yaml").is_file():
        portfolio = load(path).portfolio
        slugs = sorted(portfolio.framework.statements())
        roles = sorted(portfolio.settings.roles)
    for written in write_schemas(out, slugs, roles):
        click.echo(f"Wrote {written.as_posix()}")


@cli.command()
@click.argument("kind", type=click.Choice(["concern", "evidence", "review"]))
@PATH_ARGUMENT
@click.option("--id", "record_id", help="The new record's id (default: the next free one).")
@click.option("--title", help="The new record's title.")
@_user_errors
def new(kind: str, path: Path, record_id: str | None, title: str | None) -> None:
    """Write a new concern, evidence entry or governance review into the portfolio in PATH.

    The record has today's date, the next free id in the portfolio's own style, and every field
    that changes how it is judged, with a note on what it does (optional ones commented out,
    with an example). It passes check as written. An existing file is never overwritten. It
    works on a portfolio with errors too, and says how many there were.
    """
    from generator.tools.authoring import new_record, survey

    known = survey(path)
    written = new_record(known, cast("Kind", kind), record_id, title, date.today())
    click.echo(f"Wrote {written.as_posix()}")
    if known.problems:
        before = len(set(known.problems))
        after = len(set(survey(path).problems))
        now = "none" if after == 0 else str(after)
        click.echo(
            f"note: the portfolio had {before} error{'s' if before != 1 else ''} before this "
            f"record, and has {now} now"
            + (f"; run: portfolio check {path.as_posix()}" if after else "."),
            err=True,
        )


@cli.command()
@click.argument("folder", type=click.Path(path_type=Path))
@click.option("--provider", default="Your Care Provider Ltd", show_default=True)
@click.option("--service", default="Your Service", show_default=True)
@click.option(
    "--with-ci",
    is_flag=True,
    help="Add a CI workflow that checks and builds the portfolio on every push.",
)
@_user_errors
def init(folder: Path, provider: str, service: str, with_ci: bool) -> None:
    """Create a new portfolio in FOLDER, with one example of each record kind."""
    from generator.tools.authoring import init_portfolio

    for written in init_portfolio(folder, provider, service, date.today(), with_ci):
        click.echo(f"Wrote {written.as_posix()}")
    shown = folder.as_posix()
    click.echo(
        f"Next: put your service and who holds each role in {shown}/portfolio.yaml, then run "
        f"'portfolio serve {shown}' to preview it, or 'portfolio build {shown}' to make the "
        "site and the PDF. docs/getting-started.md goes through it step by step."
    )


@cli.command("import")
@click.argument("tracker", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@PATH_ARGUMENT
@click.option(
    "--map",
    "map_file",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="A YAML file naming columns, defaults, sheet, header_row, date_order, id_prefix.",
)
@click.option(
    "--dry-run",
    is_flag=True,
    help="Report what would be imported or changed, record by record; write nothing.",
)
@_user_errors
def import_command(tracker: Path, path: Path, map_file: Path | None, dry_run: bool) -> None:
    """Import an action tracker (TRACKER.csv, .xlsx or a Word .docx action plan) into PATH.

    No map file is needed: the quality statements of each finding are guessed from its words
    (and any regulation it names) and listed for you to confirm, in the summary and in an
    import report beside the records. Section rows (SAFE, WELL-LED...) are read as key
    questions, deadlines in words ("end of Nov", "Q1 2027") by a rule the summary states, and
    owners ("RM", "Deputy Manager - Sue") as roles. Rows that share a finding become one concern
    with several actions. Every row that cannot be imported is listed with its row number and
    why; the exit code is 1 when nothing could be imported. CSV may be UTF-8, UTF-16 (Excel's
    "Unicode text", also as .txt) or Windows-1252, with commas, tabs or semicolons.

    An action plan written by `portfolio report action-plan` and edited since, or a tracker
    imported before, keeps the portfolio in step: existing actions are updated in place
    (status, dated progress updates, evidence of completion, deadlines), new rows become new
    actions of their concern, and nothing else in the record files changes.
    """
    from generator.tools.importer import read_map
    from generator.tools.sync import import_in_step, is_action_plan, sync_action_plan

    today = date.today()
    if is_action_plan(tracker):
        if map_file is not None:
            click.echo("warning: --map is not used for an action plan this tool wrote", err=True)
        _echo_sync(sync_action_plan(path, tracker, today, dry_run), dry_run)
        return
    mapping = read_map(map_file) if map_file is not None else None
    report, kept = import_in_step(path, tracker, mapping, today, dry_run)
    verb = "Would import" if dry_run else "Imported"
    if report.actions or not report.existing:
        click.echo(
            f"{verb} {report.actions} actions into {len(report.concerns)} concerns "
            f"({', '.join(report.concerns) or 'none'}), {len(report.evidence)} evidence "
            f"entries, {len(report.roles)} new roles"
            f"{': ' + ', '.join(report.roles) if report.roles else ''}."
        )
    if report.read_as:
        click.echo(report.read_as)
    for written in report.files:
        click.echo(f"  {'would write' if dry_run else 'wrote'} {written.as_posix()}")
    for title, lines in report.to_confirm():
        click.echo(f"{title}:")
        for line in lines:
            click.echo(f"  {line}")
    if report.report_file is not None:
        where = report.report_file.as_posix()
        click.echo(f"To confirm: {where}" if not dry_run else f"The import report would be {where}")
    if report.existing:
        _echo_sync(kept, dry_run)
    if report.remembered:
        first = "day" if report.remembered == "dmy" else "month"
        click.echo(
            f"Dates such as 04/05/2026 were read {first} first; portfolio.yaml "
            f"{'would say' if dry_run else 'now says'} so (tracker_date_order: "
            f"{report.remembered}), so that later imports read them alike."
        )
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if report.skipped:
        click.echo(f"{len(report.skipped)} rows could not be imported:", err=True)
        for line in report.skipped:
            click.echo(f"  {line}", err=True)
    if not report.concerns and not report.existing:
        click.echo("Nothing could be imported.", err=True)
        sys.exit(EXIT_ERRORS)


def _echo_sync(report: SyncReport, dry_run: bool) -> None:
    """What keeping the portfolio in step with a tracker changed (or would change)."""
    for line in report.lines():
        click.echo(line)
    for warning in report.warnings:
        click.echo(f"warning: {warning}", err=True)
    if dry_run and report.records:
        click.echo("Nothing was written (--dry-run).")


@cli.command()
@PATH_ARGUMENT
@click.option(
    "--port",
    default=8000,
    type=click.IntRange(0, 65535),
    show_default=True,
    help="Port on 127.0.0.1 to listen on (0 picks a free one).",
)
@_user_errors
def serve(path: Path, port: int) -> None:
    """Preview the portfolio in PATH at http://127.0.0.1:PORT/, rebuilding on every change.

    Listens on this computer only. The open page reloads after each rebuild; if a change
    breaks a record, the page lists the errors until the file is fixed.
    """
    from generator.tools.serve import serve as run_server

    if not path.is_dir():
        from generator.errors import Problem

        raise PortfolioError([Problem(path.as_posix(), 0, "no such folder: name a portfolio")])
    run_server(path, port, lambda line: click.echo(line, err=False))


@cli.group()
def report() -> None:
    """Reports for commissioners and others outside the service."""


@report.command("commissioner")
@PATH_ARGUMENT
@click.option(
    "--since",
    callback=_parse_date,
    metavar="YYYY-MM-DD",
    help="Show what changed since this date (the last update).",
)
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (default: commissioner-update-AS_OF.html or .pdf).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["html", "pdf"]),
    default="html",
    show_default=True,
    help="One self-contained HTML file, or a PDF.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing file of that name even if portfolio did not write it.",
)
@AS_OF_OPTION
@_user_errors
def report_commissioner(
    path: Path, since: date | None, out: Path | None, output: str, force: bool, as_of: date | None
) -> None:
    """The recovery update for commissioners: what changed for people, and how we know.

    Holds only concerns and evidence shared with commissioners, and no personal data.
    """
    from generator.output.write import check_target
    from generator.pipeline import commissioner_report

    if output == "pdf":
        require_engine()
    if out is not None:
        check_target(out, path, force)
    shown, data, warnings = commissioner_report(path, since, as_of, output, default_workers())
    target = out or Path(f"commissioner-update-{shown.as_of.isoformat()}.{output}")
    check_target(target, path, force)
    atomic_write(target, data)
    click.echo(
        f"Wrote {target.as_posix()}: {len(shown.portfolio.concerns)} concerns shared "
        f"with commissioners, as of {shown.as_of.isoformat()}"
        + (f", changes since {since.isoformat()}" if since else "")
    )
    for warning in warnings:
        click.echo(f"warning: {warning}", err=True)


@report.command("action-plan")
@PATH_ARGUMENT
@click.option(
    "-o",
    "--out",
    type=click.Path(path_type=Path),
    help="File to write (default: action-plan-AS_OF.FORMAT).",
)
@click.option(
    "--format",
    "output",
    type=click.Choice(["xlsx", "csv", "pdf"]),
    default="xlsx",
    show_default=True,
)
@click.option(
    "--audience",
    type=click.Choice(AUDIENCES),
    help="Who it is for (default: portfolio.yaml's audience, else inspection).",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing file of that name even if portfolio did not write it.",
)
@AS_OF_OPTION
@_user_errors
def report_action_plan(
    path: Path,
    out: Path | None,
    output: str,
    audience: str | None,
    force: bool,
    as_of: date | None,
) -> None:
    """The action plan in the columns CQC and commissioners ask for, as XLSX, CSV or PDF."""
    from generator.output.write import check_target
    from generator.pipeline import action_plan

    if output == "pdf":
        require_engine()
    if out is not None:
        check_target(out, path, force)
    shown, data = action_plan(path, audience, as_of, output, default_workers())
    target = out or Path(f"action-plan-{shown.as_of.isoformat()}.{output}")
    check_target(target, path, force)
    atomic_write(target, data)
    click.echo(
        f"Wrote {target.as_posix()}: {len(shown.portfolio.actions)} actions "
        f"({shown.portfolio.audience} edition)"
    )


@cli.group()
def export() -> None:
    """Folders of evidence to hand over."""


@export.command("inspection")
@PATH_ARGUMENT
@click.option(
    "-o",
    "--out",
    default="inspection-evidence",
    type=click.Path(path_type=Path),
    show_default=True,
    help="A folder, or a FILE.zip.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing file of that name even if portfolio did not write it.",
)
@AS_OF_OPTION
@_user_errors
def export_inspection(path: Path, out: Path, force: bool, as_of: date | None) -> None:
    """An inspection evidence folder: the PDF, the site, attachments by quality statement,
    an index.html to start from and a MANIFEST.sha256 of every file."""
    from generator.output.inspection import to_zip
    from generator.output.write import check_output, check_target, write_site
    from generator.pipeline import inspection_folder

    require_engine()  # the folder holds the PDF portfolio
    zipped = out.suffix.lower() == ".zip"
    if zipped:
        check_target(out, path, force)
    else:
        check_output(out, inside=path)
    shown, files = inspection_folder(path, as_of, default_workers())
    if zipped:
        atomic_write(out, to_zip(files, shown.as_of))
    else:
        write_site(files, out, shown.stamp, audience=shown.portfolio.audience)
    count = len(files.pages) + len(files.copies)
    click.echo(f"Wrote {out.as_posix()}: {count} files with their checksums in MANIFEST.sha256")


@cli.command("verify")
@click.argument("folder", type=click.Path(path_type=Path))
@_user_errors
def verify_command(folder: Path) -> None:
    """Check an evidence FOLDER (or zip) against its MANIFEST.sha256.

    Names every file changed, missing or added. Exit status 0 when all match, 1 otherwise.
    """
    from generator.output.inspection import verify

    result = verify(folder)
    for name in result.changed:
        click.echo(f"changed: {name}", err=True)
    for name in result.missing:
        click.echo(f"missing: {name}", err=True)
    for name in result.added:
        click.echo(f"added: {name}", err=True)
    if not result.ok:
        click.echo(f"{folder.as_posix()} does not match its manifest.", err=True)
        sys.exit(EXIT_ERRORS)
    click.echo(f"{folder.as_posix()}: all {result.checked} files match the manifest.")


@cli.group("framework")
def framework_group() -> None:
    """The assessment frameworks: list them, show one, move a portfolio to another.

    A portfolio names its framework in portfolio.yaml (framework: ID). Records tagged with
    another framework's slugs are filed through the new one's crosswalk, unedited.
    """


@framework_group.command("list")
def framework_list() -> None:
    """List the frameworks packaged with portfolio."""
    from generator.tools.framework import list_lines

    for line in list_lines():
        click.echo(line)


@framework_group.command("show")
@click.argument("framework_id", metavar="[ID]", required=False)
@click.option(
    "--portfolio",
    "path",
    default="content",
    show_default=True,
    type=click.Path(path_type=Path),
    help="Without ID, show the framework this portfolio uses.",
)
@click.option("-d", "--descriptions", is_flag=True, help="Print each one's description too.")
@_user_errors
def framework_show(framework_id: str | None, path: Path, descriptions: bool) -> None:
    """Show one framework's key questions and statements with their slugs.

    ID is a packaged framework (see `portfolio framework list`); without it, the framework of
    the portfolio in --portfolio (its own framework.yaml, or the one portfolio.yaml names),
    else the default.
    """
    from generator.load.framework import packaged_frameworks
    from generator.tools.framework import (
        packaged_or_error,
        portfolio_framework,
        show_lines,
        unknown_framework,
    )

    if framework_id is not None:
        if framework_id not in packaged_frameworks():
            raise click.BadParameter(unknown_framework(framework_id), param_hint="'ID'")
        chosen = packaged_or_error(framework_id)
    else:
        chosen = portfolio_framework(path)
    for line in show_lines(chosen, descriptions):
        click.echo(line)


@framework_group.command("migrate")
@PATH_ARGUMENT
@click.option("--to", "target", required=True, metavar="ID", help="The framework to move to.")
@click.option(
    "--write",
    is_flag=True,
    help="Rewrite quality_statements in the records and framework in portfolio.yaml.",
)
@click.option(
    "--report",
    type=click.Path(path_type=Path),
    metavar="FILE.md|FILE.html",
    help="Also write a migration report: where each statement went, the records under each "
    "new one, and those left with no evidence.",
)
@click.option(
    "--force",
    is_flag=True,
    help="Replace an existing report file even if portfolio did not write it.",
)
@_user_errors
def framework_migrate(
    path: Path, target: str, write: bool, report: Path | None, force: bool
) -> None:
    """Move the portfolio in PATH to framework ID: print what would change, record by record.

    Nothing is written without --write. With it, each record's quality_statements is
    rewritten in place with the slugs of ID (comments, key order and the Markdown text are
    kept, byte for byte) and portfolio.yaml names ID. The one-line switch (framework: ID in
    portfolio.yaml) files the records the same way without editing them.
    """
    from generator.load.framework import packaged_frameworks
    from generator.output.write import check_target
    from generator.pipeline import load
    from generator.tools.framework import (
        plan_migration,
        report_html,
        report_markdown,
        unknown_framework,
        write_migration,
    )

    if target not in packaged_frameworks():
        raise click.BadParameter(unknown_framework(target), param_hint="'--to'")
    if report is not None:
        if report.suffix.lower() not in (".md", ".html"):
            raise click.BadParameter(
                "name a .md or .html file for the report", param_hint="'--report'"
            )
        check_target(report, path, force)
    migration = plan_migration(load(path).portfolio, target)
    if write:
        write_migration(migration)
    for line in migration.lines(written=write):
        click.echo(line)
    if report is not None:
        text = (
            report_html(migration)
            if report.suffix.lower() == ".html"
            else report_markdown(migration)
        )
        atomic_write(report, text.encode("utf-8"))
        click.echo(f"Wrote {report.as_posix()}")


@cli.command("rules")
@click.option(
    "--format",
    "output",
    type=click.Choice(["text", "markdown"]),
    default="text",
    show_default=True,
    help="A list for the terminal, or the Markdown reference.",
)
def rules_command(output: str) -> None:
    """List the assurance checks with their codes, severities and what they find."""
    from generator.check.rules import rules_markdown, rules_text

    click.echo(rules_markdown() if output == "markdown" else rules_text(), nl=False)


def main() -> None:
    """Entry point of the ``portfolio`` command."""
    cli(prog_name="portfolio")
