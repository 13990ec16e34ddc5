"""The house's seams, checked from the source: who may import whom, and every activity named once.

The API is the top of the house: nothing below it imports it. Workflow code imports only
deterministic code (the SDK, the standard library and its own package). The three type families
(HTTP models, rows, payloads) never import each other: api/mapping.py and db/mapping.py map them.
"""

import ast
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import async_sessionmaker
from temporalio import activity

from settings import Settings
from worker import build_activities
from workflows.contracts import ActivityName

REPO = Path(__file__).resolve().parents[2]
# The API's own clients may use its pieces (a cursor, an app): the tests and the benchmark's driver.
ABOVE_THE_API = ("api/", "tests/", "bench/")
BENCH_WORKER = ("bench/noop.py", "bench/noop_worker.py")  # a worker, like worker.py
WORKFLOW_MAY_IMPORT = ("temporalio", "workflows")


def modules() -> list[Path]:
    skip = (".venv", "db/migrations", ".oms")
    return [
        path
        for path in REPO.rglob("*.py")
        if not any(part in path.relative_to(REPO).as_posix() for part in skip)
    ]


def imported(path: Path) -> set[str]:
    """The full name of every module `path` imports (absolute imports: ours are all absolute)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


def below_the_api(path: Path) -> bool:
    name = relative(path)
    return not name.startswith(ABOVE_THE_API) or name in BENCH_WORKER


def test_nothing_below_the_api_imports_it() -> None:
    offenders = {
        relative(path): sorted(n for n in imported(path) if n == "api" or n.startswith("api."))
        for path in modules()
        if below_the_api(path)
    }

    assert {name: found for name, found in offenders.items() if found} == {}


def test_workflow_code_imports_only_the_sdk_the_standard_library_and_workflows() -> None:
    stdlib = {"asyncio", "collections", "contextlib", "dataclasses", "datetime", "enum", "json"}
    stdlib |= {"typing"}
    allowed = (*WORKFLOW_MAY_IMPORT, *stdlib)
    offenders = {
        relative(path): sorted(name for name in imported(path) if name.split(".")[0] not in allowed)
        for path in (REPO / "workflows").glob("*.py")
    }

    assert {name: found for name, found in offenders.items() if found} == {}


@pytest.mark.parametrize(
    "family", ["api/schemas.py", "db/models.py", "workflows/contracts.py"], ids=str
)
def test_a_type_family_imports_neither_of_the_other_two(family: str) -> None:
    others = {"api.schemas", "db.models", "workflows.contracts"} - {
        family.removesuffix(".py").replace("/", ".")
    }

    assert imported(REPO / family) & others == set()


def test_every_activity_name_is_registered_by_the_worker_once_and_nothing_else() -> None:
    sessions = async_sessionmaker()  # never connected: building the activities reads nothing
    registered = [
        definition.name or ""
        for fn in build_activities(sessions, Settings())
        if (definition := activity._Definition.from_callable(fn)) is not None
    ]

    assert sorted(registered) == sorted(name.value for name in ActivityName)
