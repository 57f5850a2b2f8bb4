"""Shared set-up for benchmarks: Django on a dedicated database (``kbportal_bench``), timing helpers."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"


def setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kbportal.settings")
    os.environ.setdefault("KBPORTAL_DB_NAME", "kbportal_bench")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def reset_knowledge() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "TRUNCATE knowledge_staleflag, knowledge_similarquestion, knowledge_channelanswer, "
            "knowledge_articleversion_features, knowledge_articleversion, knowledge_article, knowledge_category, "
            "catalog_release_changed_features, catalog_release, catalog_feature, catalog_product "
            "RESTART IDENTITY CASCADE"
        )


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def report(name: str, lines: list[str], data: dict[str, Any]) -> None:
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(data, indent=2, ensure_ascii=False))
    print(f"\n== {name} ==")
    for line in lines:
        print(line)
