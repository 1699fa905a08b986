"""Reading a bench file: YAML validated against hil/schemas/bench.schema.json plus the checks a schema can't say.

Every problem is a ConfigError naming file, line and key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hil.bench.board_spec import DEFAULT_FLASH_METHOD, BoardSpec
from hil.errors import ConfigError
from hil.yamlfile import load_schema, load_yaml_file, validate

FLASH_METHODS_BY_RUNTIME = {"rust": ("probe-rs", "picotool", "uf2"), "micropython": ("mpremote",)}


@dataclass
class BenchConfig:
    path: str
    name: str
    kind: str                 # "physical" | "sim"
    link: str | None          # sim only
    specs: list[BoardSpec]
    firmware: dict[str, tuple[str, int]] = field(default_factory=dict)   # sim only: image kind -> (path, line)


def load_bench_file(path: str | Path) -> BenchConfig:
    path = str(path)
    document = load_yaml_file(path)
    validate(document, load_schema("bench.schema.json"), path)
    kind = document.get("kind", "physical")
    if document.get("link") is not None and kind != "sim":
        raise ConfigError(path, document.line_of("link"), "link", "only a sim bench has a link model")
    if document.get("firmware") is not None and kind != "sim":
        raise ConfigError(path, document.line_of("firmware"), "firmware",
                          "only a sim bench names firmware images (a physical Pico runs what is flashed on it)")
    firmware_keys = document.get("firmware") or {}
    firmware = {key: (value, firmware_keys.line_of(key)) for key, value in firmware_keys.items()}
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
        runtime = entry["runtime"]
        flash = entry.get("flash", DEFAULT_FLASH_METHOD[runtime])
        if flash not in FLASH_METHODS_BY_RUNTIME[runtime]:
            raise ConfigError(path, entry.line_of("flash"), f"{key}.flash",
                              f"{flash!r} cannot provision a {runtime} board "
                              f"(use one of: {', '.join(FLASH_METHODS_BY_RUNTIME[runtime])})")
        if kind == "physical":
            if not entry.get("serial_number") and not entry.get("port"):
                raise ConfigError(path, entry.line, f"{key}.serial_number",
                                  "a physical board needs serial_number (preferred) or port to be found")
            if flash == "probe-rs" and not entry.get("probe"):
                raise ConfigError(path, entry.line, f"{key}.probe",
                                  "flash: probe-rs needs the probe's VID:PID:SERIAL (see `hil boards`)")
        specs.append(BoardSpec(
            board_id=board_id, runtime=runtime, serial_number=entry.get("serial_number"),
            vid_pid=(entry.get("vid_pid") or "").lower() or None, port=entry.get("port"),
            uart_port=entry.get("uart_port"), probe=entry.get("probe"), flash_method=flash,
            source=f"{path}:{entry.line}", extra={"labels": list(entry.get("labels", []))},
        ))
    name = document.get("bench") or Path(path).stem
    return BenchConfig(path=path, name=name, kind=kind, link=document.get("link"), specs=specs, firmware=firmware)
