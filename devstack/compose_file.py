"""A Compose file read the way Compose reads it, before its schema is checked.

Compose's Go parser is not PyYAML: it reads YAML 1.2 scalars (`restart: no` is the string "no",
`80:80` no base-60 number), refuses a key twice in one mapping and keys that are not strings, and
resolves merge keys (`<<: *anchor`). Then it interpolates every string value: `$$` is a `$`, `$VAR`
and `${VAR}` the variable (blank when unset), `${VAR:-default}`/`${VAR-default}` with a default,
`${VAR:+alt}`/`${VAR+alt}` an alternative, `${VAR:?error}`/`${VAR?error}` required, nested in the
word as Compose allows. Values stay strings: the schema accepts a string wherever a variable may
stand (e.g. `retries: ${RETRIES:-3}`).
"""

import os
import re
from collections.abc import Mapping
from pathlib import Path

import yaml
from dotenv import dotenv_values


class ComposeFileError(Exception):
    """The file cannot be loaded as Compose would load it: its YAML, a key or an interpolation."""


class _Loader(yaml.SafeLoader):
    """YAML as Compose's Go parser reads it: `no`, `on`, `80:80` and `2026-01-01` stay strings."""


_YAML_1_1_ONLY = {"bool", "int", "float", "timestamp", "value"}
_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag.split(":")[-1] not in _YAML_1_1_ONLY]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
for _tag, _pattern, _firsts in [
    ("bool", r"true|True|TRUE|false|False|FALSE", "tTfF"),
    ("int", r"[-+]?(?:[0-9][0-9_]*|0x[0-9a-fA-F_]+|0o[0-7_]+|0b[01_]+)", "-+0123456789"),
    (
        "float",
        r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)"
        r"|\.(?:nan|NaN|NAN)",
        "-+.0123456789",
    ),
]:
    _Loader.add_implicit_resolver(
        f"tag:yaml.org,2002:{_tag}", re.compile(f"^(?:{_pattern})$"), list(_firsts)
    )


def _check_keys(node: yaml.Node, seen: set[int]) -> None:
    """Refuse what Compose refuses and PyYAML allows: a key twice in a mapping, a non-string key."""
    if id(node) in seen:  # an alias: its anchor was checked where it was defined
        return
    seen.add(id(node))
    if isinstance(node, yaml.SequenceNode):
        for item in node.value:
            _check_keys(item, seen)
    elif isinstance(node, yaml.MappingNode):
        keys: set[str] = set()
        for key, value in node.value:
            line = key.start_mark.line + 1
            if key.tag == "tag:yaml.org,2002:merge":
                pass
            elif key.tag != "tag:yaml.org,2002:str" or not isinstance(key.value, str):
                raise ComposeFileError(f"line {line}: a key must be a string, not {key.value!r}")
            elif key.value in keys:
                raise ComposeFileError(f"line {line}: duplicate key {key.value!r}")
            keys.add(key.value)
            _check_keys(value, seen)


def _parse(path: Path) -> object:
    try:
        with path.open(encoding="utf-8") as stream:
            loader = _Loader(stream)
            try:
                node = loader.get_single_node()
                if node is None:
                    return None
                _check_keys(node, set())
                return loader.construct_document(node)
            finally:
                loader.dispose()
    except OSError as error:
        raise ComposeFileError(f"cannot read it: {error.strerror}") from error
    except yaml.YAMLError as error:
        raise ComposeFileError(" ".join(str(error).split())) from error


def _environment(directory: Path) -> dict[str, str]:
    """The variables Compose interpolates: the process's, over those of a `.env` beside the file."""
    found = dotenv_values(directory / ".env")  # {} when there is none
    return {key: value for key, value in found.items() if value is not None} | dict(os.environ)


def _join(path: str, key: object) -> str:
    return f"{path}.{key}" if path else str(key)


def _interpolate(value: object, env: Mapping[str, str], path: str) -> object:
    """Every string value (keys are never interpolated), as Compose does before validating."""
    if isinstance(value, str):
        return _substitute(value, env, path)
    if isinstance(value, dict):
        return {key: _interpolate(item, env, _join(path, key)) for key, item in value.items()}
    if isinstance(value, list):
        return [_interpolate(item, env, f"{path}[{i}]") for i, item in enumerate(value)]
    return value


NAME = re.compile(r"[_a-zA-Z][_a-zA-Z0-9]*")
BRACED = re.compile(r"(?P<name>[_a-zA-Z][_a-zA-Z0-9]*)(?:(?P<op>:?[-+?])(?P<word>.*))?", re.DOTALL)


def _substitute(text: str, env: Mapping[str, str], path: str) -> str:
    """`$$` is a `$`; `$VAR` and `${...}` are replaced; any other `$` stays as it is."""
    parts, start = [], 0
    while (dollar := text.find("$", start)) >= 0:
        parts.append(text[start:dollar])
        start = dollar + 1
        if text.startswith("$", start):
            parts.append("$")
            start += 1
        elif text.startswith("{", start):
            end = _closing_brace(text, start, path)
            parts.append(_expand(text[start + 1 : end], env, path))
            start = end + 1
        elif named := NAME.match(text, start):
            parts.append(env.get(named[0], ""))  # unset: blank, as Compose (which warns)
            start = named.end()
        else:
            parts.append("$")
    return "".join([*parts, text[start:]])


def _closing_brace(text: str, opening: int, path: str) -> int:
    depth = 0
    for index in range(opening, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ComposeFileError(
        f"{path}: invalid interpolation format: {text!r} opens a ${{ it never closes"
    )


def _expand(expression: str, env: Mapping[str, str], path: str) -> str:
    """One `${...}`: `VAR` alone, or `VAR` and one of `:-` `-` `:+` `+` `:?` `?` and a word."""
    match = BRACED.fullmatch(expression)
    if match is None:
        raise ComposeFileError(f"{path}: invalid interpolation format: ${{{expression}}}")
    name, op, word = match["name"], match["op"], match["word"]
    if op is None:
        return env.get(name, "")
    value = env.get(name)
    if value is not None and (value != "" or not op.startswith(":")):  # set (with `:`, not blank)
        return _substitute(word, env, path) if op.endswith("+") else value
    if op.endswith("?"):
        raise ComposeFileError(f"{path}: required variable {name} is missing a value: {word}")
    return "" if op.endswith("+") else _substitute(word, env, path)


def load(path: Path, environ: Mapping[str, str] | None = None) -> object:
    """The file as Compose validates it: parsed, merge keys resolved, interpolated from `environ`
    (default: the process's environment over the `.env` beside the file)."""
    document = _parse(path)
    return _interpolate(document, _environment(path.parent) if environ is None else environ, "")
