"""Where the lesson scripts are."""
from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
LESSON_DIR = REPO_ROOT / "scripts_micropython" / "lesson"
