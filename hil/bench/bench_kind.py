"""Bench kinds: the registry that turns the bench setting into a bench, without the core naming any kind.

A bench kind is a `BenchKind` published under the entry-point group `hil.bench_kinds` (the entry point's name is
the kind's name, the value a `BenchKind` or a callable returning one), or registered in-process with
`register_bench_kind` (tests, embedding). Each kind brings:

- `name`: the value of `kind:` in a bench file (and of `--hil-bench` for a kind that opens without a file);
- `open_bench(config)`: the factory; `config` is the validated `BenchConfig`, or None for `--hil-bench <name>`;
- `clock_domains`: runtime -> the clock that times figures measured on that runtime's boards on this kind;
- `file_keys`: JSON-schema properties of the top-level bench-file keys only this kind accepts;
- `board_keys`: JSON-schema properties of `boards[]` keys only this kind accepts (kept in `BoardSpec.extra`);
- `check_board(entry, path, key)`: checks of one `boards[]` entry a schema cannot say (raise ConfigError);

The bench the factory returns brings the rest: its tool needs (`Bench.tool_requirements()`, what `hil doctor`
checks), its ports, its halt reports (see hil/bench/bench.py).
- `opens_without_file`: `--hil-bench <name>` opens it with no bench file; `default`: used when no bench is set;
  `file_default`: the kind of a bench file that has no `kind:` key;
- `cli_commands`: modules that add `hil` subcommands of the kind's own (each has `add_parser(subparsers)`).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Callable, Mapping

from hil.errors import ConfigError

if TYPE_CHECKING:  # annotations only: bench_file imports this module
    from hil.bench.bench import Bench
    from hil.bench.bench_file import BenchConfig

ENTRY_POINT_GROUP = "hil.bench_kinds"
# Clock domains every bench has: the host's monotonic clock, and "none" for figures that are not times.
COMMON_CLOCK_DOMAINS = ("host", "none")


@dataclass(frozen=True)
class BenchKind:
    name: str
    open_bench: Callable[["BenchConfig | None"], "Bench"]
    clock_domains: Mapping[str, str]
    file_keys: Mapping[str, dict] = field(default_factory=dict)
    board_keys: Mapping[str, dict] = field(default_factory=dict)
    check_board: Callable[[object, str, str], None] | None = None
    opens_without_file: bool = False
    default: bool = False
    file_default: bool = False
    cli_commands: tuple[str, ...] = ()


_registered: dict[str, BenchKind] = {}
_loaded: dict[str, BenchKind] | None = None


def register_bench_kind(kind: BenchKind) -> None:
    """Add (or replace) a kind in this process, alongside those published as entry points."""
    _registered[kind.name] = kind


def unregister_bench_kind(name: str) -> None:
    _registered.pop(name, None)


def _from_entry_points() -> dict[str, BenchKind]:
    global _loaded
    if _loaded is None:
        kinds = {}
        for point in entry_points(group=ENTRY_POINT_GROUP):
            value = point.load()
            kind = value if isinstance(value, BenchKind) else value()
            if not isinstance(kind, BenchKind) or kind.name != point.name:
                raise ConfigError(f"entry point {point.value}", None, ENTRY_POINT_GROUP,
                                  f"bench kind {point.name!r} must be a BenchKind named {point.name!r}")
            kinds[point.name] = kind
        _loaded = kinds
    return _loaded


NONE_INSTALLED = ("no bench kinds are installed: reinstall pico-hil (`./run tests -k no_such_test`, or "
                  "`pip install -e .`) so its hil.bench_kinds entry points are registered")


def bench_kinds() -> dict[str, BenchKind]:
    """Every known kind by name: entry points first, in-process registrations over them."""
    kinds = {**_from_entry_points(), **_registered}
    if not kinds:
        raise ConfigError("bench setting", None, "kind", NONE_INSTALLED)
    return kinds


def bench_kind(name: str, where: str = "bench", line: int | None = None) -> BenchKind:
    kinds = bench_kinds()
    if name not in kinds:
        raise ConfigError(where, line, "kind",
                          f"unknown bench kind {name!r} (installed: {', '.join(sorted(kinds)) or 'none'})")
    return kinds[name]


def default_bench_selector() -> str:
    """The bench used when none is set: the one installed kind marked default."""
    defaults = sorted(name for name, kind in bench_kinds().items() if kind.default)
    if len(defaults) != 1:
        raise ConfigError("bench setting", None, "kind",
                          f"no bench given and {len(defaults)} default bench kinds installed "
                          f"({', '.join(defaults) or 'none'}): set --hil-bench")
    return defaults[0]


def known_clock_domains() -> tuple[str, ...]:
    domains = set(COMMON_CLOCK_DOMAINS)
    for kind in bench_kinds().values():
        domains.update(kind.clock_domains.values())
    return tuple(sorted(domains))
