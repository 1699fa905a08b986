"""Loading YAML written by users (bench files, scenarios) so that every error can name file, line and key.

PyYAML's safe composer builds the node tree (which carries line marks); we turn it into plain dicts and lists
that remember the line of every key and item. No tags, no Python objects: a YAML file can only ever be data.
Alias bombs, huge files, duplicate keys and bytes that are not UTF-8 are refused with a ConfigError.
"""
from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml

from hil.errors import ConfigError
from hil.user_file import read_user_file

MAX_FILE_BYTES = 1_000_000      # no lesson or bench file comes close; a bigger one is a mistake
MAX_NODES = 50_000              # bounds alias expansion ("billion laughs") and absurd documents
MAX_NESTING_DEPTH = 100         # reported when a document is nested too deep for the composer's recursion
SCHEMA_DIR = Path(__file__).parent / "schemas"
YAML_TAG_PREFIX = "tag:yaml.org,2002:"
# Data only: the tags plain YAML resolves by itself. Anything else (!!python/..., !custom) is refused.
ALLOWED_TAGS = {YAML_TAG_PREFIX + name for name in
                ("map", "seq", "str", "int", "float", "bool", "null", "timestamp", "merge")}


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
        if node.tag not in ALLOWED_TAGS:
            raise ConfigError(self.path, _line(node), key_path or None,
                              f"YAML tag {node.tag.replace(YAML_TAG_PREFIX, '!!')!r} is not allowed: a file here is "
                              f"plain data")
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
        value = _SCALAR_LOADER.construct_object(node, deep=True)
        # .nan fails every schema bound (NaN compares false) and .inf (or 1.0e999) passes `minimum`: neither is a
        # figure a user means, and either one reaching a deadline makes a wait that never ends.
        if isinstance(value, float) and not math.isfinite(value):
            raise ConfigError(self.path, _line(node), key_path or None,
                              f"{node.value!r} is not a finite number")
        return value


# Only used to walk events when an error needs its key path; libyaml's parser when present, for speed.
_EVENT_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# Only used to resolve scalars (int, float, bool, null, str) with the safe loader's rules.
_SCALAR_LOADER = yaml.SafeLoader("")


def _decode(path: str, data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        key = _key_path_reached(data[: error.start].decode("utf-8", "replace"))
        raise ConfigError(path, line, key, f"not valid UTF-8 (byte 0x{data[error.start]:02x})") from None


def _key_path_reached(text: str) -> str | None:
    """The key path the parser was inside when `text` stopped parsing (an error, or the end of a truncated text).

    Lets a syntax error, a byte that is not UTF-8 or a file over the size limit still name the key it is in.
    """
    return _scan(text)[0]


def _scan(text: str, max_depth: int | None = None) -> tuple[str | None, int | None]:
    """Walk the parser's events (iteratively: no recursion, whatever the nesting) and return the key path and line
    where parsing stopped: an error, the end of the text, or the first collection nested deeper than max_depth."""
    stack: list[list] = []   # ["map", key or None, awaiting_value] | ["seq", index]
    last_path: str | None = None

    def path() -> str | None:
        parts = ""
        for depth, frame in enumerate(stack):
            innermost = depth == len(stack) - 1
            if frame[0] == "seq":
                parts += f"[{frame[1]}]"
            elif frame[1] is not None and (frame[2] or innermost):  # innermost: the key just read, likely culprit
                parts += f".{frame[1]}" if parts else str(frame[1])
        return parts or None

    def node_done() -> None:
        if stack:
            frame = stack[-1]
            if frame[0] == "map":
                frame[2] = False
            else:
                frame[1] += 1

    try:
        for event in yaml.parse(text, Loader=_EVENT_LOADER):
            is_key = bool(stack) and stack[-1][0] == "map" and not stack[-1][2]
            if isinstance(event, (yaml.ScalarEvent, yaml.AliasEvent)):
                if is_key:
                    stack[-1][1:] = [getattr(event, "value", None), True]
                else:
                    last_path = path()
                    node_done()
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if is_key:  # a complex key: refused later anyway
                    stack[-1][1:] = [None, True]
                last_path = path()
                if max_depth is not None and len(stack) >= max_depth:
                    return last_path, event.start_mark.line + 1
                stack.append(["map", None, False] if isinstance(event, yaml.MappingStartEvent) else ["seq", 0])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                stack.pop()
                node_done()
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        return path(), (mark.line + 1 if mark else None)
    except yaml.YAMLError:
        return path(), None
    return last_path, None


def load_yaml_text(text: str, path: str) -> Any:
    """Parse one YAML document from `text`; errors name `path`, the line and (when it can tell) the key."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = mark.line + 1 if mark else None
        context = ""
        if error.context and error.context_mark and error.problem_mark:
            context = f" ({error.context} that starts at line {error.context_mark.line + 1})"
        raise ConfigError(path, line, _key_path_reached(text),
                          f"YAML syntax: {error.problem or error}{context}") from None
    except yaml.reader.ReaderError as error:
        # The reader's own errors (a control character) carry a position in the text but no mark object.
        line = text[:error.position].count("\n") + 1
        raise ConfigError(path, line, _key_path_reached(text[:error.position]),
                          f"YAML: character #x{error.character:04x} is not allowed ({error.reason})") from None
    except yaml.YAMLError as error:
        raise ConfigError(path, None, None, f"YAML: {' '.join(str(error).split())}") from None
    except RecursionError:
        key, line = _scan(text, MAX_NESTING_DEPTH)
        raise ConfigError(path, line, key, f"nested more than {MAX_NESTING_DEPTH} levels deep") from None
    if node is None:
        raise ConfigError(path, 1, None, "file is empty")
    if isinstance(node, yaml.ScalarNode):
        raise ConfigError(path, _line(node), None, f"expected keys and values, found a single value {node.value!r:.60}")
    try:
        return _Converter(path).convert(node, "")
    except yaml.constructor.ConstructorError as error:
        mark = error.problem_mark
        raise ConfigError(path, mark.line + 1 if mark else None, None, f"YAML: {error.problem}") from None
    except RecursionError:
        key, line = _scan(text, MAX_NESTING_DEPTH)
        raise ConfigError(path, line, key, f"nested more than {MAX_NESTING_DEPTH} levels deep") from None


def load_yaml_file(path: str | Path) -> Any:
    """Read and parse a YAML file with size, encoding and structure checks."""
    path = Path(path)
    try:
        data = read_user_file(path, MAX_FILE_BYTES)
    except ConfigError as error:
        head = getattr(error, "head", None)
        if head is None:
            raise
        # Name where the file crosses the limit, so the runaway part can be found.
        raise ConfigError(path, head.count(b"\n") + 1, _key_path_reached(head.decode("utf-8", "replace")),
                          f"file is too large: the limit is {MAX_FILE_BYTES} bytes (reached at this line)") from None
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


def _node_at(document: Any, path_items: Iterable[Any]) -> Any:
    node = document
    for item in path_items:
        try:
            node = node[item]
        except (KeyError, IndexError, TypeError):
            return None
    return node


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
    if "propertyNames" in error.absolute_schema_path:
        # The offending thing is a key itself: name it and its line, not the mapping that holds it.
        holder = _node_at(document, error.absolute_path)
        if isinstance(holder, YamlMap) and error.instance in holder:
            line = holder.line_of(error.instance)
            key_path = f"{key_path}.{error.instance}" if key_path else str(error.instance)
            raise ConfigError(path, line, key_path, f"{error.instance!r} is not an allowed name "
                                                    f"(must match {error.schema.get('pattern', '?')!r})")
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
