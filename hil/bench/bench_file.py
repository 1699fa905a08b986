"""Reading a bench file: YAML validated against hil/schemas/bench.schema.json plus the checks a schema can't say.

The bench kind (`kind:`, else the kind marked `file_default`) adds its own top-level keys to the schema and checks
each board entry. Every problem is a ConfigError naming file, line and key.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from pathlib import Path

from hil.bench.bench_kind import bench_kind, bench_kinds
from hil.bench.board_spec import DEFAULT_FLASH_METHOD, BoardSpec, Runtime
from hil.bench.usb_ids import RP2040_BOOTSEL_USB_SERIAL, is_shared_bootsel_serial
from hil.errors import ConfigError
from hil.yamlfile import YamlMap, load_schema, load_yaml_file, validate

FLASH_METHODS_BY_RUNTIME = {Runtime.RUST: ("probe-rs", "picotool", "uf2"), Runtime.MICROPYTHON: ("mpremote",)}


@dataclass
class BenchConfig:
    path: str
    name: str
    kind: str                 # a registered bench kind's name
    specs: list[BoardSpec]
    options: dict = field(default_factory=dict)   # the kind's own top-level keys, as written


def _file_default_kind(path: str) -> str:
    defaults = sorted(name for name, kind in bench_kinds().items() if kind.file_default)
    if len(defaults) != 1:
        raise ConfigError(path, None, "kind", f"no kind given and {len(defaults)} bench kinds installed take a "
                                              f"file without one ({', '.join(defaults) or 'none'}): set kind")
    return defaults[0]


def _plain(value):
    """A YAML mapping as plain dicts (the loader's nodes carry line numbers)."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def load_bench_file(path: str | Path) -> BenchConfig:
    path = str(path)
    document = load_yaml_file(path)
    schema = load_schema("bench.schema.json")
    if not isinstance(document, YamlMap):
        validate(document, schema, path)   # reports the shape error with its line
    kind_name = document.get("kind") if isinstance(document.get("kind"), str) else None
    kind = bench_kind(kind_name or _file_default_kind(path), path, document.line_of("kind"))
    schema = copy.deepcopy(schema)
    schema["properties"].update(kind.file_keys)
    schema["properties"]["boards"]["items"]["properties"].update(kind.board_keys)
    validate(document, schema, path)
    boards = document["boards"]
    specs: list[BoardSpec] = []
    first_line_of_id: dict[str, int] = {}
    for index, entry in enumerate(boards):
        key = f"boards[{index}]"
        board_id = entry["id"]
        if board_id in first_line_of_id:
            raise ConfigError(path, entry.line_of("id"), f"{key}.id",
                              f"duplicate board id {board_id!r} (first at line {first_line_of_id[board_id]})")
        first_line_of_id[board_id] = entry.line_of("id")
        runtime = Runtime(entry["runtime"])
        flash = entry.get("flash", DEFAULT_FLASH_METHOD[runtime])
        if flash not in FLASH_METHODS_BY_RUNTIME[runtime]:
            raise ConfigError(path, entry.line_of("flash"), f"{key}.flash",
                              f"{flash!r} cannot provision a {runtime} board "
                              f"(use one of: {', '.join(FLASH_METHODS_BY_RUNTIME[runtime])})")
        if runtime == Runtime.RUST and "deploy_verify" in entry:
            raise ConfigError(path, entry.line_of("deploy_verify"), f"{key}.deploy_verify",
                              "only a micropython board is deployed to")
        if is_shared_bootsel_serial(entry.get("serial_number")):
            raise ConfigError(path, entry.line_of("serial_number"), f"{key}.serial_number",
                              f"{RP2040_BOOTSEL_USB_SERIAL} is the serial number every RP2040 reports in BOOTSEL, "
                              "not this board's: use the serial number it reports when running (its flash id, "
                              "`picotool info -d`), and `usb_port:` to find it in BOOTSEL")
        if kind.check_board is not None:
            kind.check_board(entry, path, key)
        specs.append(BoardSpec(
            board_id=board_id, runtime=runtime, serial_number=entry.get("serial_number"),
            vid_pid=(entry.get("vid_pid") or "").lower() or None, port=entry.get("port"),
            usb_port=entry.get("usb_port"),
            uart_port=entry.get("uart_port"), probe=entry.get("probe"), flash_method=flash,
            source=f"{path}:{entry.line}",
            extra={"labels": list(entry.get("labels", [])), "deploy_verify": bool(entry.get("deploy_verify", False)),
                   "power": _plain(entry.get("power")), "reset": _plain(entry.get("reset")),
                   **{k: entry[k] for k in kind.board_keys if k in entry}},
        ))
    name = document.get("bench") or Path(path).stem
    options = {key: document[key] for key in kind.file_keys if key in document}
    return BenchConfig(path=path, name=name, kind=kind.name, specs=specs, options=options)
