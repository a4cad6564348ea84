"""Settings come only from the environment; a missing or malformed one stops start-up with a
message that names the variable and says what it is for."""

import pytest

from shuangsui.kernel.settings import ConfigurationError, DatabaseSettings, load_settings

ALL_VARIABLES = (
    "PROVINCE",
    "AUTH_ISSUER",
    "AUTH_AUDIENCE",
    "AUTH_JWKS_URL",
    "AUTH_JWKS_PATH",
    "LOG_LEVEL",
    "LOG_FORMAT",
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "NATS_URL",
    "DATABASE_URL",
    "DATABASE_POOL_SIZE",
)

COMPLETE = {
    "PROVINCE": "33",
    "AUTH_ISSUER": "https://issuer.example",
    "NATS_URL": "nats://127.0.0.1:4222",
    "DATABASE_URL": "postgresql://registry:secret@127.0.0.1:5432/registry",
}


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """A complete environment for a database service; tests unset or spoil one variable."""
    for variable in ALL_VARIABLES:
        monkeypatch.delenv(variable, raising=False)
    for variable, value in COMPLETE.items():
        monkeypatch.setenv(variable, value)
    return monkeypatch


def start_up_failure(service: str = "registry") -> ConfigurationError:
    with pytest.raises(ConfigurationError) as failure:
        load_settings(DatabaseSettings, service)
    return failure.value


def test_complete_environment_is_read(environment):
    settings = load_settings(DatabaseSettings, "registry")

    assert (settings.province, settings.nats_url, settings.database_url) == (
        "33",
        "nats://127.0.0.1:4222",
        "postgresql://registry:secret@127.0.0.1:5432/registry",
    )


def test_missing_setting_stops_start_up(environment):
    environment.delenv("DATABASE_URL")

    with pytest.raises(SystemExit):
        load_settings(DatabaseSettings, "registry")


@pytest.mark.parametrize(
    ("variable", "what_it_is"),
    [
        ("DATABASE_URL", "PostgreSQL database"),
        ("NATS_URL", "JetStream server"),
        ("PROVINCE", "province code"),
        ("AUTH_ISSUER", "`iss` of access tokens"),
    ],
)
def test_missing_variable_is_named_and_explained(environment, variable, what_it_is):
    environment.delenv(variable)

    failure = start_up_failure()

    assert len(failure.problems) == 1
    assert f"{variable} is not set" in failure.problems[0]
    assert what_it_is in failure.problems[0]


def test_every_missing_variable_is_reported_at_once(environment):
    for variable in COMPLETE:
        environment.delenv(variable)

    failure = start_up_failure()

    reported = {problem.split(" ", 1)[0] for problem in failure.problems}
    assert reported == set(COMPLETE)


def test_message_names_the_service_that_cannot_start(environment):
    environment.delenv("NATS_URL")

    failure = start_up_failure("planning")

    assert str(failure).startswith("planning: cannot start")
    assert "NATS_URL is not set" in str(failure)


@pytest.mark.parametrize("province", ["330000", "zj", "3", ""])
def test_malformed_province_is_reported_by_name(environment, province):
    environment.setenv("PROVINCE", province)

    failure = start_up_failure()

    assert failure.problems[0].startswith("PROVINCE:")
    assert "2-digit province code" in failure.problems[0]


def test_national_platform_is_a_valid_province(environment):
    environment.setenv("PROVINCE", "national")

    assert load_settings(DatabaseSettings, "registry").province_token == "national"


def test_provincial_event_token_is_p_and_the_code(environment):
    assert load_settings(DatabaseSettings, "registry").province_token == "p33"


@pytest.mark.parametrize(
    "url", ["mysql://registry:secret@127.0.0.1/registry", "127.0.0.1:5432/registry"]
)
def test_malformed_database_url_is_reported_by_name(environment, url):
    environment.setenv("DATABASE_URL", url)

    failure = start_up_failure()

    assert failure.problems[0].startswith("DATABASE_URL:")
    assert "postgresql://" in failure.problems[0]


def test_non_numeric_pool_size_is_reported_by_name(environment):
    environment.setenv("DATABASE_POOL_SIZE", "ten")

    assert start_up_failure().problems[0].startswith("DATABASE_POOL_SIZE:")


@pytest.mark.parametrize(
    "url",
    [
        "postgres://registry:secret@127.0.0.1:5432/registry",
        "postgresql://registry:secret@127.0.0.1:5432/registry",
    ],
)
def test_database_url_is_used_through_asyncpg(environment, url):
    environment.setenv("DATABASE_URL", url)

    settings = load_settings(DatabaseSettings, "registry")

    assert (
        settings.async_database_url
        == "postgresql+asyncpg://registry:secret@127.0.0.1:5432/registry"
    )
