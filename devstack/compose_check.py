"""`python -m devstack.compose_check FILE...`: Compose files checked as Compose would, no Docker.

The file is loaded as Compose loads it (devstack/compose_file.py: YAML as Compose's parser reads
it, merge keys, interpolation), validated against the Compose Specification's JSON schema, then
checked for what Compose refuses after the schema: a service, volume, network, config or secret
named but not defined, a depends_on cycle, a service with neither image nor build, and a few more.

Exit 0 with "FILE: valid"; exit 1 with one "FILE: path.in.file: problem" line per problem.
"""

import argparse
import json
import re
import reprlib
import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cache
from pathlib import Path

from jsonschema import Draft202012Validator, ValidationError

from devstack.compose_file import ComposeFileError, load

# compose-spec/compose-go v2.13.0 (commit 0670a1c, 2026-06-29), schema/compose-spec.json,
# unmodified (Apache-2.0): the schema Docker Compose v2 validates with. The file of that name in
# compose-spec/compose-spec is a copy kept there for backward compatibility, and an older one.
SCHEMA = Path(__file__).resolve().parent.parent / "deploy" / "compose-spec.json"

KINDS = {"object": "a mapping", "array": "a list", "string": "a string", "boolean": "a boolean"}
# [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL], with port ranges, as Compose parses a short port.
PORT = re.compile(
    r"(?:(?:\[[0-9a-fA-F:.]+\]|[0-9]{1,3}(?:\.[0-9]{1,3}){3}):)?"
    r"(?:(?:[0-9]+(?:-[0-9]+)?)?:)?[0-9]+(?:-[0-9]+)?(?:/(?:tcp|udp|sctp))?"
)


@cache
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA.read_text(encoding="utf-8")))


def _most_specific(error: ValidationError) -> ValidationError:
    """Of a oneOf's failed branches, the deepest error (Compose picks it too): the likely intent."""
    causes = [_most_specific(cause) for cause in error.context]
    return max(causes, key=_specificity, default=error)


def _specificity(error: ValidationError) -> int:
    return len(error.absolute_path) + (error.validator == "additionalProperties")


def _location(parts: Sequence[str | int]) -> str:
    """`services.api.ports[0]` for ["services", "api", "ports", 0]."""
    path = ""
    for part in parts:
        path = f"{path}[{part}]" if isinstance(part, int) else f"{path}.{part}" if path else part
    return path or "(top level)"


def _describe(error: ValidationError) -> Iterator[str]:
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        schema = error.schema if isinstance(error.schema, Mapping) else {}
        known, patterns = schema.get("properties", {}), schema.get("patternProperties", {})
        for key in error.instance:
            if key not in known and not any(re.search(pattern, key) for pattern in patterns):
                yield f"{_location([*error.absolute_path, key])}: unknown key"
        return
    message = error.message
    if error.validator == "type":
        wanted = error.validator_value
        kinds = [KINDS.get(str(kind), str(kind)) for kind in _list(wanted) or [wanted]]
        message = f"must be {' or '.join(kinds)}, not {reprlib.repr(error.instance)}"
    yield f"{_location(error.absolute_path)}: {message}"


def _mapping(value: object) -> dict[str, object]:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list[object]:
    return value if isinstance(value, list) else []


def _named(where: str, value: object) -> Iterator[tuple[str, str]]:
    """(path, name) of each name in a list-or-mapping field such as depends_on or networks."""
    yield from ((f"{where}.{name}", str(name)) for name in _mapping(value))
    yield from ((f"{where}[{i}]", str(name)) for i, name in enumerate(_list(value)))


def _volume_name(volume: object) -> str | None:
    """The named volume a service's volume entry mounts; None for a bind, tmpfs or anonymous one."""
    if isinstance(volume, dict):
        source = volume.get("source")
        return source if volume.get("type") == "volume" and isinstance(source, str) else None
    source, colon, _ = str(volume).partition(":")
    return source if colon and source and not source.startswith((".", "/", "~")) else None


def _references(
    where: str, service: dict[str, object], defined: dict[str, set[str]]
) -> Iterator[str]:
    """What a service names that must be defined elsewhere in the file."""
    for path, name in _named(f"{where}.depends_on", service.get("depends_on")):
        if name not in defined["services"]:
            yield f"{path}: depends on undefined service {name!r}"
    for path, name in _named(f"{where}.networks", service.get("networks")):
        if name not in defined["networks"] | {"default"}:
            yield f"{path}: undefined network {name!r} (not declared)"
    mode = str(service.get("network_mode", ""))
    if mode.startswith("service:") and mode.removeprefix("service:") not in defined["services"]:
        yield f"{where}.network_mode: undefined service {mode.removeprefix('service:')!r}"
    for i, volume in enumerate(_list(service.get("volumes"))):
        if (volume_name := _volume_name(volume)) and volume_name not in defined["volumes"]:
            yield f"{where}.volumes[{i}]: undefined volume {volume_name!r} (not declared)"
    for kind in ("configs", "secrets"):
        for i, item in enumerate(_list(service.get(kind))):
            source = _mapping(item).get("source") if isinstance(item, dict) else item
            if source not in defined[kind]:
                yield f"{where}.{kind}[{i}]: undefined {kind[:-1]} {source!r}"


def _shape(where: str, service: dict[str, object]) -> Iterator[str]:
    """What Compose refuses in a service's own fields although the schema allows it."""
    if not {"image", "build", "provider"} & service.keys():
        yield f"{where}: has neither an image nor a build context"
    if "network_mode" in service and "networks" in service:
        yield f"{where}: network_mode and networks exclude each other"
    test = _list(_mapping(service.get("healthcheck")).get("test"))
    if test and test[0] not in ("CMD", "CMD-SHELL", "NONE"):
        yield f"{where}.healthcheck.test[0]: must be CMD, CMD-SHELL or NONE, not {test[0]!r}"
    for i, port in enumerate(_list(service.get("ports"))):
        if isinstance(port, str) and PORT.fullmatch(port) is None:
            yield f"{where}.ports[{i}]: {port!r} is no [[IP:][HOST_PORT]:]CONTAINER_PORT[/PROTOCOL]"


def _dependency_cycle(services: dict[str, object]) -> list[str] | None:
    """A depends_on cycle (no service of it could start first), or None."""
    graph = {
        name: [d for _, d in _named("", _mapping(service).get("depends_on")) if d in services]
        for name, service in services.items()
    }
    finished: set[str] = set()

    def walk(name: str, trail: list[str]) -> list[str] | None:
        if name in trail:
            return [*trail[trail.index(name) :], name]
        if name not in finished:
            for dependency in graph[name]:
                if cycle := walk(dependency, [*trail, name]):
                    return cycle
            finished.add(name)
        return None

    for name in graph:
        if cycle := walk(name, []):
            return cycle
    return None


def _consistency(compose: dict[str, object]) -> Iterator[str]:
    """What Compose checks once the schema passes (compose-go's checkConsistency, in part)."""
    services = _mapping(compose.get("services"))
    kinds = ("services", "volumes", "networks", "configs", "secrets")
    defined = {kind: set(_mapping(compose.get(kind))) for kind in kinds}
    for name, service in services.items():
        yield from _shape(f"services.{name}", _mapping(service))
        yield from _references(f"services.{name}", _mapping(service), defined)
    if cycle := _dependency_cycle(services):
        yield f"services.{cycle[0]}.depends_on: a dependency cycle: {' -> '.join(cycle)}"


def problems(compose: object) -> list[str]:
    """Every way `compose` (as load() returns it) is no valid Compose file: [] when it is one."""
    if not isinstance(compose, dict):
        return [f"(top level): must be a mapping, not {reprlib.repr(compose)}"]
    errors = _validator().iter_errors(compose)
    schema = sorted({text for error in errors for text in _describe(_most_specific(error))})
    return schema + list(_consistency(compose))


def check(path: Path) -> list[str]:
    """problems(load(path)); a file that cannot even be loaded has that as its one problem."""
    try:
        return problems(load(path))
    except ComposeFileError as error:
        return [str(error)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m devstack.compose_check",
        description="Check Compose files as Compose checks them, without Docker.",
    )
    parser.add_argument("files", nargs="+", type=Path, metavar="FILE")
    invalid = False
    for path in parser.parse_args(argv).files:
        found = check(path)
        for problem in found:
            print(f"{path}: {problem}", file=sys.stderr)
        if not found:
            print(f"{path}: valid")
        invalid = invalid or bool(found)
    return 1 if invalid else 0


if __name__ == "__main__":
    sys.exit(main())
