"""How the test modules depend on each other, read with `ast` from every file under tests/.

Shared helpers live in tests/harness/ (and data builders in tests/factories.py); fixtures live in
conftest.py files, which pytest finds by itself. So nothing imports a conftest or a test module,
and a helper module elsewhere serves one test module only.
"""

import ast
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
SHARED = ("tests.harness", "tests.factories")  # what any module may import from tests/


@dataclass(frozen=True)
class Import:
    """One import statement's target in a module under tests/."""

    importer: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.importer} (line {self.line}) imports {self.target}"


def module_name(path: Path) -> str:
    parts = path.relative_to(TESTS.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def targets(module: str, is_package: bool, source: str) -> Iterator[tuple[int, str]]:
    """Every module (or module attribute) `source` imports, absolute, with its line."""
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            yield from ((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            package = module.split(".") if is_package else module.split(".")[:-1]
            base = package[: len(package) - node.level + 1] if node.level else []
            origin = ".".join([*base, *([node.module] if node.module else [])])
            yield node.lineno, origin
            yield from ((node.lineno, f"{origin}.{alias.name}") for alias in node.names)


def imports() -> list[Import]:
    """The imports of one module under tests/ of another: `from tests.x import y` counts y."""
    paths = {module_name(path): path for path in TESTS.rglob("*.py")}
    found = set()
    for module, path in paths.items():
        source = path.read_text()
        for line, target in targets(module, path.name == "__init__.py", source):
            if target in paths and target != module:
                found.add(Import(module, line, target))
    return sorted(found, key=lambda i: (i.importer, i.line, i.target))


def leaf(module: str) -> str:
    return module.rpartition(".")[2]


def is_test(module: str) -> bool:
    return leaf(module).startswith("test_")


def is_shared(module: str) -> bool:
    return any(module == home or module.startswith(f"{home}.") for home in SHARED)


def is_helper(module: str) -> bool:
    """A module of helpers outside the harness (the package `tests` itself is none)."""
    return module != "tests" and not (is_test(module) or leaf(module) == "conftest")


def test_no_module_imports_a_conftest() -> None:
    assert [str(i) for i in imports() if leaf(i.target) == "conftest"] == []


def test_no_module_imports_a_test_module() -> None:
    assert [str(i) for i in imports() if is_test(i.target)] == []


def test_the_harness_imports_nothing_from_tests_but_itself_and_the_factories() -> None:
    outside = [i for i in imports() if is_shared(i.importer) and not is_shared(i.target)]
    assert [str(i) for i in outside] == []


def users(
    helper: str, importers: dict[str, set[str]], seen: frozenset[str] = frozenset()
) -> set[str]:
    """The modules using `helper` that no one imports (tests, conftests, scripts), directly or
    through other helpers."""
    found: set[str] = set()
    for importer in importers.get(helper, set()) - seen:
        if importer in importers:
            found |= users(importer, importers, seen | {helper})
        else:
            found.add(importer)
    return found


def test_a_helper_outside_the_harness_serves_a_single_test_module() -> None:
    importers: dict[str, set[str]] = {}
    for i in imports():
        if is_helper(i.target) and not is_shared(i.target):
            importers.setdefault(i.target, set()).add(i.importer)

    used_by = {helper: sorted(users(helper, importers)) for helper in importers}
    shared = {helper: modules for helper, modules in used_by.items() if len(modules) > 1}
    assert shared == {}, "helpers used by several modules belong in tests/harness/"


def test_the_walk_resolves_relative_and_from_imports() -> None:
    source = "from .conftest import a\nfrom . import test_b\nimport tests.harness.orders\n"

    found = list(targets("tests.workflows.helper", False, source))

    assert (1, "tests.workflows.conftest") in found
    assert (2, "tests.workflows.test_b") in found
    assert (3, "tests.harness.orders") in found
    package = list(targets("tests.harness", True, "from .orders import wait_for_status\n"))
    assert (1, "tests.harness.orders") in package
