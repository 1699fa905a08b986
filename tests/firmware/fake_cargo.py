"""A stand-in for `cargo build` in the build tests: writes an ELF shaped like the firmware, logs each call.

Its ELF content depends on the sources and on LESSON_EDIT_STAMP, like the real build. `FAIL` in the project
folder makes it fail like a compile error.
"""
from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, os.environ["FAKE_CARGO_REPO"])

from tests.firmware.elf_writer import firmware_like_elf  # noqa: E402


def main(argv: list[str]) -> int:
    cwd = Path.cwd()
    # The log lives outside firmware_rust/: every file in there is a build input.
    with open(cwd.parent / "cargo-calls.jsonl", "a", encoding="utf-8") as log:
        log.write(json.dumps({"argv": argv, "edit_stamp": os.environ.get("LESSON_EDIT_STAMP"),
                              "rustc": os.environ.get("RUSTC")}) + "\n")
    print("   Compiling lesson v0.1.0 (fake)", file=sys.stderr, flush=True)
    if (cwd / "FAIL").exists():
        print("error[E0425]: cannot find value `x` in this scope", file=sys.stderr)
        return 101
    target_dir = Path(argv[argv.index("--target-dir") + 1])
    name = argv[argv.index("--bin") + 1]
    sources = b"".join(p.read_bytes() for p in sorted(cwd.rglob("*.rs")))
    code = hashlib.sha256(sources + (os.environ.get("LESSON_EDIT_STAMP") or "").encode()).digest() * 4
    elf = target_dir / argv[argv.index("--target") + 1] / "release" / name
    elf.parent.mkdir(parents=True, exist_ok=True)
    firmware_like_elf(elf, code=code)
    print("    Finished `release` profile [optimized] target(s) in 0.01s", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
