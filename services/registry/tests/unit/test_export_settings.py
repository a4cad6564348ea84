"""Each export holds EXPORT_PARALLELISM connections of the pool while it streams, and a process
streams EXPORT_CONCURRENCY of them: start-up refuses settings under which exports alone could
take every pooled connection, and says which settings to change."""

import pytest

from shuangsui.kernel.settings import ConfigurationError, load_settings
from shuangsui.registry.settings import Settings

REQUIRED = {
    "PROVINCE": "33",
    "AUTH_ISSUER": "https://issuer.example",
    "NATS_URL": "nats://127.0.0.1:4222",
    "DATABASE_URL": "postgresql://registry:secret@127.0.0.1:5432/registry",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for variable in ("EXPORT_CONCURRENCY", "EXPORT_PARALLELISM", "DATABASE_POOL_SIZE"):
        monkeypatch.delenv(variable, raising=False)
    for variable, value in REQUIRED.items():
        monkeypatch.setenv(variable, value)
    return monkeypatch


def test_by_default_exports_read_with_two_connections_within_the_pool(environment):
    settings = load_settings(Settings, "registry")
    assert settings.export_parallelism == 2
    assert settings.export_concurrency * settings.export_parallelism <= (
        settings.database_pool_size
    )


@pytest.mark.parametrize(
    ("concurrency", "parallelism", "pool"), [("2", "2", "4"), ("1", "1", "1"), ("3", "4", "12")]
)
def test_exports_that_fit_the_pool_are_accepted(environment, concurrency, parallelism, pool):
    environment.setenv("EXPORT_CONCURRENCY", concurrency)
    environment.setenv("EXPORT_PARALLELISM", parallelism)
    environment.setenv("DATABASE_POOL_SIZE", pool)
    settings = load_settings(Settings, "registry")
    assert (settings.export_concurrency, settings.export_parallelism) == (
        int(concurrency),
        int(parallelism),
    )


@pytest.mark.parametrize(
    ("concurrency", "parallelism", "pool"), [("2", "3", "5"), ("4", "2", "7"), ("1", "11", "10")]
)
def test_exports_that_could_hold_the_whole_pool_stop_start_up(
    environment, concurrency, parallelism, pool
):
    environment.setenv("EXPORT_CONCURRENCY", concurrency)
    environment.setenv("EXPORT_PARALLELISM", parallelism)
    environment.setenv("DATABASE_POOL_SIZE", pool)
    with pytest.raises(ConfigurationError) as failure:
        load_settings(Settings, "registry")
    [problem] = failure.value.problems
    held = int(concurrency) * int(parallelism)
    assert problem.startswith(
        f"EXPORT_CONCURRENCY × EXPORT_PARALLELISM ({concurrency} × {parallelism} = {held}) "
        f"exceeds DATABASE_POOL_SIZE ({pool})"
    ), problem


def test_a_parallelism_below_one_is_refused(environment):
    environment.setenv("EXPORT_PARALLELISM", "0")
    with pytest.raises(ConfigurationError) as failure:
        load_settings(Settings, "registry")
    assert failure.value.problems[0].startswith("EXPORT_PARALLELISM:")
