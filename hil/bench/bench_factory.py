"""Turning the bench setting into a Bench: a bench kind that opens without a file (by name), or a bench file.

The kinds come from the registry (hil.bench.bench_kind); this module names none of them.
"""
from __future__ import annotations

from pathlib import Path

from hil.bench.bench import Bench
from hil.bench.bench_file import BenchConfig, load_bench_file
from hil.bench.bench_kind import BenchKind, bench_kind, bench_kinds, default_bench_selector
from hil.errors import ConfigError
from hil.user_file import UserFileMissing


def resolve_bench(selector: str | None) -> tuple[BenchKind, BenchConfig | None]:
    """The kind and validated bench file named by `selector` (None: the default kind). Raises ConfigError."""
    selector = selector or default_bench_selector()
    kinds = bench_kinds()
    if selector in kinds and kinds[selector].opens_without_file:
        return kinds[selector], None
    try:
        config = load_bench_file(Path(selector))
    except UserFileMissing:
        by_name = ", ".join(sorted(name for name, kind in kinds.items() if kind.opens_without_file))
        raise ConfigError(selector, None, None,
                          f"bench file not found (use a bench YAML file, or one of: {by_name or 'none installed'})"
                          ) from None
    return bench_kind(config.kind, config.path), config


def load_bench_config(selector: str | None) -> BenchConfig | None:
    """The validated bench file named by `selector`, or None for a kind opened by name."""
    return resolve_bench(selector)[1]


def open_bench(selector: str | None) -> Bench:
    """A bench, not yet started. A bench file is never replaced by another kind: what it names must be there."""
    kind, config = resolve_bench(selector)
    return kind.open_bench(config)
