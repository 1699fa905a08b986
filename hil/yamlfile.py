"""Loading YAML written by users (bench files, scenarios) so that every error can name file, line and key.

PyYAML's safe composer builds the node tree (which carries line marks); we turn it into plain dicts and lists
that remember the line of every key and item. No tags, no Python objects: a YAML file can only ever be data.
Alias bombs, huge files, duplicate keys and bytes that are not UTF-8 are refused with a ConfigError.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from hil.errors import ConfigError

MAX_FILE_BYTES = 1_000_000      # no lesson or bench file comes close; a bigger one is a mistake
MAX_NODES = 50_000              # bounds alias expansion ("billion laughs") and absurd documents
SCHEMA_DIR = Path(__file__).parent / "schemas"


class YamlMap(dict):
    """A mapping from a YAML file; `line` is where it starts, `key_lines[key]` where each key is."""

    line: int = 0
    key_lines: dict

    def line_of(self, key: Any) -> int:
        return self.key_lines.get(key, self.line)


class YamlList(list):
    """A sequence from a YAML file; `line` is where it starts, `item_lines[i]` where each item is."""

    line: int = 0
    item_lines: list

    def line_of(self, index: int) -> int:
        return self.item_lines[index] if 0 <= index < len(self.item_lines) else self.line


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


class _Converter:
    def __init__(self, path: str):
        self.path = path
        self.nodes_seen = 0

    def convert(self, node: yaml.Node, key_path: str) -> Any:
        self.nodes_seen += 1
        if self.nodes_seen > MAX_NODES:
            raise ConfigError(self.path, _line(node), key_path or None,
                              f"document expands to more than {MAX_NODES} nodes (aliases nested too deep?)")
        if isinstance(node, yaml.MappingNode):
            result = YamlMap()
            result.line = _line(node)
            result.key_lines = {}
            for key_node, value_node in node.value:
                if not isinstance(key_node, yaml.ScalarNode):
                    raise ConfigError(self.path, _line(key_node), key_path or None, "keys must be plain scalars")
                if key_node.tag == "tag:yaml.org,2002:merge":
                    raise ConfigError(self.path, _line(key_node), key_path or None, "merge keys (<<) are not supported")
                # Keys stay text: YAML 1.1 would turn `on:` (a step's board) into True and `1:` into an int.
                self.nodes_seen += 1
                key = key_node.value
                child_path = f"{key_path}.{key}" if key_path else str(key)
                if key in result:
                    raise ConfigError(self.path, _line(key_node), child_path,
                                      f"duplicate key (first at line {result.key_lines[key]})")
                result.key_lines[key] = _line(key_node)
                result[key] = self.convert(value_node, child_path)
            return result
        if isinstance(node, yaml.SequenceNode):
            result = YamlList()
            result.line = _line(node)
            result.item_lines = []
            for index, item in enumerate(node.value):
                result.item_lines.append(_line(item))
                result.append(self.convert(item, f"{key_path}[{index}]"))
            return result
        return _SCALAR_LOADER.construct_object(node, deep=True)


# Only used to resolve scalars (int, float, bool, null, str) with the safe loader's rules.
_SCALAR_LOADER = yaml.SafeLoader("")


def _decode(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise ConfigError(path, line, None, f"not valid UTF-8 (byte 0x{data[error.start]:02x})") from None


def load_yaml_text(text: str, path: str) -> Any:
    """Parse one YAML document from `text`; errors name `path` and the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        raise ConfigError(path, line, None, f"YAML syntax: {error.problem or error}") from None
    except yaml.YAMLError as error:
        raise ConfigError(path, None, None, f"YAML: {error}") from None
    if node is None:
        raise ConfigError(path, 1, None, "file is empty")
    try:
        return _Converter(path).convert(node, "")
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        raise ConfigError(path, mark.line + 1 if mark else None, None, f"YAML: {error.problem}") from None
    except RecursionError:
        raise ConfigError(path, None, None, "document nested too deeply") from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file with size, encoding and structure checks."""
    path = Path(path)
    try:
        size_bytes = path.stat().st_size
        if size_bytes > MAX_FILE_BYTES:
            raise ConfigError(path, None, None, f"file is {size_bytes} bytes; the limit is {MAX_FILE_BYTES}")
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(path, None, None, "file not found") from None
    except IsADirectoryError:
        raise ConfigError(path, None, None, "is a directory, not a file") from None
    except PermissionError:
        raise ConfigError(path, None, None, "permission denied") from None
    return load_yaml_text(_decode(str(path), data), str(path))


def load_schema(name: str) -> dict:
    """A published JSON Schema of the project by file name (e.g. 'bench.schema.json')."""
    return json.loads((SCHEMA_DIR / name).read_text(encoding="utf-8"))


def _locate(document: Any, path_items: Iterable[Any]) -> tuple[int | None, str]:
    """Line and dotted key path of the node at `path_items` inside a loaded document."""
    line = getattr(document, "line", None)
    key_path = ""
    node = document
    for item in path_items:
        if isinstance(node, YamlMap) and item in node:
            line = node.line_of(item)
            key_path = f"{key_path}.{item}" if key_path else str(item)
        elif isinstance(node, YamlList) and isinstance(item, int) and 0 <= item < len(node):
            line = node.line_of(item)
            key_path = f"{key_path}[{item}]"
        else:
            break
        node = node[item]
    return line, key_path


def _error_sort_key(document: Any, error: jsonschema.ValidationError) -> tuple:
    line, _ = _locate(document, error.absolute_path)
    return (line or 0, -len(error.absolute_path))


def validate(document: Any, schema: dict, path: str | Path) -> None:
    """Check `document` against `schema`; raise ConfigError for the first problem by line, naming the key."""
    validator = jsonschema.Draft202012Validator(schema)
    errors = list(validator.iter_errors(document))
    if not errors:
        return
    error = min(errors, key=lambda e: _error_sort_key(document, e))
    # Report the deepest, most specific reason when a oneOf/anyOf hides it.
    while error.context:
        error = min(error.context, key=lambda e: _error_sort_key(document, e))
    line, key_path = _locate(document, error.absolute_path)
    parent = error.instance
    if error.validator == "additionalProperties" and isinstance(parent, YamlMap):
        allowed = set(error.schema.get("properties", {}))
        patterns = error.schema.get("patternProperties", {})
        unknown = [k for k in parent if k not in allowed and not any(re.search(p, str(k)) for p in patterns)]
        if unknown:
            key = unknown[0]
            full = f"{key_path}.{key}" if key_path else str(key)
            hint = f"; allowed: {', '.join(sorted(allowed))}" if allowed else ""
            raise ConfigError(path, parent.line_of(key), full, f"unknown key{hint}")
    if error.validator == "required" and isinstance(parent, YamlMap):
        missing = [k for k in error.validator_value if k not in parent]
        full = f"{key_path}.{missing[0]}" if key_path else str(missing[0])
        raise ConfigError(path, parent.line, full, "missing required key")
    message = error.message
    if error.validator == "type":
        message = f"expected {error.validator_value}, got {type(error.instance).__name__} {_short(error.instance)}"
    elif error.validator == "enum":
        message = f"{_short(error.instance)} is not one of {', '.join(map(str, error.validator_value))}"
    raise ConfigError(path, line, key_path or None, message)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
