"""A built firmware, as everything after the build sees it: the files a flasher loads and the build id."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hil.errors import ProvisionError


@dataclass(frozen=True)
class FirmwareImage:
    """The ELF (for probe-rs), the UF2 (for picotool / the BOOTSEL drive), and the build id embedded in both."""

    elf_path: Path | None     # None: a UF2-only image (picotool / BOOTSEL drive)
    uf2_path: Path | None
    build_id: str
    name: str = "lesson"

    def path_for(self, suffixes: tuple[str, ...]) -> Path:
        """The image file in the first format a flasher accepts (its `image_suffixes`, preferred first)."""
        candidates = {".elf": self.elf_path, ".uf2": self.uf2_path}
        for suffix in suffixes:
            path = candidates.get(suffix)
            if path is not None:
                return path
        raise ProvisionError("-", f"no image in a format the flasher accepts ({', '.join(suffixes)})")
