#!/usr/bin/env bash
# Benchmarks on a dedicated database of the embedded (or configured) PostgreSQL.
set -euo pipefail
cd "$(dirname "$0")/.."
export DEBUG=${DEBUG:-1}  # development default; settings are safe (off) when DEBUG is unset
export KBPORTAL_DB_NAME=${KBPORTAL_DB_NAME:-kbportal_bench}
cd benchmarks
../.venv/bin/python bench_import.py "${IMPORT_N:-10000}"
../.venv/bin/python bench_stale.py "${STALE_N:-100000}"
../.venv/bin/python bench_answers.py "${ANSWERS_N:-10000}" "${ANSWERS_REQUESTS:-240}"
../.venv/bin/python bench_conversations.py ${CONVERSATIONS_N:-10000 100000}
../.venv/bin/python bench_qa.py "${QA_SCORE_N:-5000}" "${QA_SAMPLE_N:-1000000}"
../.venv/bin/python bench_hostile.py
../.venv/bin/python bench_polling.py
../.venv/bin/python bench_insights.py "${INSIGHTS_N:-1000000}"
# The scale path (README "Beyond one machine"): 10M messages, 3M conversations, bots next to QA scoring;
# 30-60 minutes on 2 cores, its own database (kbportal_scale). Only when asked: BENCH_SCALE=1 make bench.
if [[ "${BENCH_SCALE:-0}" == "1" ]]; then
  KBPORTAL_DB_NAME=kbportal_scale ../.venv/bin/python bench_scale.py
fi
