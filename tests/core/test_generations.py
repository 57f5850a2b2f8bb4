"""Generation counters tell every process when its cached data went stale."""

from django.core.cache import cache

from apps.core import generations
from apps.core.generations import GenerationCachedValue, bump_generation, generation

KEY = "tests:generation"
OTHER_KEY = "tests:other-generation"


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


class _Builds:
    """A loader that counts how often it was called."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self) -> int:
        self.count += 1
        return self.count


def test_a_generation_cached_value_is_built_once_per_generation():
    builds = _Builds()
    value = GenerationCachedValue(builds, keys=(KEY,))
    assert value.current() == value.current() == 1
    bump_generation(KEY)
    assert value.current() == value.current() == 2  # rebuilt once, then reused
    assert value.at("a digest") == 3 and value.at("a digest") == 3  # any value that changes with the data


def test_a_value_cached_per_several_generations_is_rebuilt_when_any_moves_on():
    builds = _Builds()
    value = GenerationCachedValue(builds, keys=(KEY, OTHER_KEY))
    assert value.current() == 1
    assert value.at((generation(KEY), generation(OTHER_KEY))) == 1  # what a hot path passes, read in one trip
    bump_generation(OTHER_KEY)
    assert value.current() == 2


def test_while_redis_is_away_a_cached_value_is_rebuilt_every_outage_period(monkeypatch, settings):
    settings.REDIS_OUTAGE_GENERATION_SECONDS = 30
    builds = _Builds()
    value = GenerationCachedValue(builds, keys=(KEY,))
    assert value.current() == 1
    monkeypatch.setattr(generations, "cache", _AwayCache())
    now = [3000.0]
    monkeypatch.setattr(generations.time, "time", lambda: now[0])
    assert value.current() == value.current() == 2  # the outage's generation: never a real one
    now[0] += 30
    assert value.current() == 3
    monkeypatch.undo()
    assert value.current() == 4  # Redis is back: built again at the shared generation


class _AwayCache:
    """The cache as :class:`apps.core.cache.DegradingRedisCache` behaves while Redis is away."""

    def get(self, key: str, default: object = None) -> object:
        return default

    def add(self, *args: object, **kwargs: object) -> bool:
        return False
