"""The package's layout: dependencies point one way, and no module imports itself back.

The layers themselves are a contract in pyproject.toml that ``make lint`` checks with
import-linter; this test adds what a layers contract cannot see: cycles between modules of one
layer. Imports inside functions count; imports under ``TYPE_CHECKING`` do not (they never run).
"""

from __future__ import annotations

import grimp


def _graph() -> grimp.ImportGraph:
    return grimp.build_graph("generator", exclude_type_checking_imports=True)


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """The strongly connected groups of more than one module (Tarjan's algorithm)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    for start in sorted(graph.modules):
        if start in index:
            continue
        # Iterative depth-first search: (module, the modules it imports still to visit).
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            module, imported = work[-1]
            for other in imported:
                if other not in index:
                    index[other] = low[other] = len(index)
                    stack.append(other)
                    on_stack.add(other)
                    work.append(
                        (other, iter(sorted(graph.find_modules_directly_imported_by(other))))
                    )
                    break
                if other in on_stack:
                    low[module] = min(low[module], index[other])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[module])
                if low[module] == index[module]:
                    group = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        group.append(member)
                        if member == module:
                            break
                    if len(group) > 1:
                        found.append(sorted(group))
    return found


def test_imports_inside_functions_are_counted() -> None:
    graph = _graph()
    # The command line imports the orchestrator only inside its commands.
    assert "generator.pipeline" in graph.find_modules_directly_imported_by("generator.cli")


def test_the_package_has_no_import_cycle() -> None:
    assert _cycles(_graph()) == []


def test_a_cycle_would_be_found() -> None:
    graph = _graph()
    graph.add_import(
        importer="generator.model",
        imported="generator.render.site",
        line_number=1,
        line_contents="",
    )
    assert any("generator.model" in group for group in _cycles(graph))
