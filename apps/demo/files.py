"""Where the demo's content lives: JSON and JSON Lines files in the top-level ``demo/`` folder."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo"


def read_json(name: str, directory: Path = DEMO_DIR) -> Any:
    """The content of one demo JSON file, e.g. ``read_json("qa_rules.json")``."""
    return json.loads((directory / name).read_text(encoding="utf-8"))
