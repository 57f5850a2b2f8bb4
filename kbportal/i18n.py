"""Compile locale/*/LC_MESSAGES/*.po to .mo in pure Python (no gettext tools, no database).

``python -m kbportal.i18n`` is what ``make`` runs; ``manage.py compile_translations`` does the same.
"""

from __future__ import annotations

import sys
from pathlib import Path

import polib

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"


def compile_catalogs(locale_dir: Path = LOCALE_DIR) -> int:
    count = 0
    for po_path in sorted(locale_dir.glob("*/LC_MESSAGES/*.po")):
        polib.pofile(str(po_path)).save_as_mofile(str(po_path.with_suffix(".mo")))
        count += 1
    return count


if __name__ == "__main__":
    print(f"Compiled {compile_catalogs()} catalog(s).")
    sys.exit(0)
