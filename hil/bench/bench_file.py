"""Reading a bench file: YAML validated against hil/schemas/bench.schema.json plus the checks a schema can't say.

Every problem is a ConfigError naming file, line and key.
"""
from __future__ import annotations

from dataclasses import dataclass
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


# Keys that find or flash a real board; on a sim bench they would be silently ignored, so they are refused.
HARDWARE_KEYS = ("serial_number", "vid_pid", "port", "uart_port", "probe")


def load_bench_file(path: str | Path) -> BenchConfig:
    path = str(path)
    document = load_yaml_file(path)
    validate(document, load_schema("bench.schema.json"), path)
    kind = document.get("kind", "physical")
    if document.get("link") is not None and kind != "sim":
        raise ConfigError(path, document.line_of("link"), "link", "only a sim bench has a link model")
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
        if runtime == "rust" and "deploy_verify" in entry:
            raise ConfigError(path, entry.line_of("deploy_verify"), f"{key}.deploy_verify",
                              "only a micropython board is deployed to")
        if kind == "sim":
            for hardware_key in HARDWARE_KEYS:
                if hardware_key in entry:
                    raise ConfigError(path, entry.line_of(hardware_key), f"{key}.{hardware_key}",
                                      "a sim bench makes its own boards: it has no serial numbers, ports or probes "
                                      "(remove the key, or use kind: physical)")
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
            source=f"{path}:{entry.line}", extra={"labels": list(entry.get("labels", [])),
                                                     "deploy_verify": bool(entry.get("deploy_verify", False))},
        ))
    name = document.get("bench") or Path(path).stem
    return BenchConfig(path=path, name=name, kind=kind, link=document.get("link"), specs=specs)
