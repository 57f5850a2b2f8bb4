"""Generation counters tell every process when its cached data went stale."""

from django.core.cache import cache

from apps.core.generations import bump_generation, generation

KEY = "tests:generation"


def test_bumping_moves_the_generation_on():
    before = generation(KEY)
    bump_generation(KEY)
    assert generation(KEY) == before + 1


def test_a_flushed_cache_never_brings_back_a_generation_a_process_may_still_hold():
    bump_generation(KEY)
    held = generation(KEY)
    cache.clear()  # Redis restarted or was flushed
    assert generation(KEY) != held
    assert generation(KEY) == generation(KEY)  # and the new series is shared, not random per call
