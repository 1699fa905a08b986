"""The `labgrid` bench kind: boards shared across hosts, each one a labgrid place (see labgrid_bench.py)."""
from __future__ import annotations

from hil.bench.bench_kind import BenchKind
from hil.bench.board_spec import Runtime
from hil.errors import ConfigError

FILE_KEYS = {
    "coordinator": {"type": "string", "minLength": 1,
                    "description": "HOST[:PORT] of labgrid-coordinator (port 20408 by default)."},
    "wait_s": {"type": "number", "exclusiveMinimum": 0,
               "description": "How long a run waits for its places (default 600)."},
    "clock_domains": {"type": "object", "additionalProperties": False,
                      "properties": {"rust": {"type": "string"}, "micropython": {"type": "string"}},
                      "description": "Which clock times each runtime's figures (default: device)."},
    "tool_path": {"type": "array", "items": {"type": "string"},
                  "description": "Folders put first on PATH for the flash tools."},
    "tool_env": {"type": "object", "additionalProperties": {"type": "string"},
                 "description": "Variables set for the flash tools."},
}
BOARD_KEYS = {
    "place": {"type": "string", "minLength": 1, "description": "The labgrid place this board is."},
    "tags": {"type": "object", "minProperties": 1, "additionalProperties": {"type": "string"},
             "description": "A reservation filter: any place carrying these tags."},
}


def _check_board(entry, path: str, key: str) -> None:
    if ("place" in entry) == ("tags" in entry):
        raise ConfigError(path, entry.line, key, "give exactly one of `place:` (a place name) or `tags:` "
                                                 "(a reservation filter such as {runtime: rust})")


def _open(config):
    from hil.labgrid.labgrid_bench import LabgridBench, labgrid_config
    return LabgridBench(labgrid_config(config))


LABGRID_KIND = BenchKind(name="labgrid", open_bench=_open,
                         clock_domains={runtime: "device" for runtime in Runtime},
                         file_keys=FILE_KEYS, board_keys=BOARD_KEYS, check_board=_check_board)
