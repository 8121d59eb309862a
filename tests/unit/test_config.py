"""Settings from the environment: defaults, parsing, and errors that name the fix."""

from __future__ import annotations

import pytest

from acr_operator.config import Settings, SettingsError, is_loopback


def test_defaults_are_azure():
    settings = Settings.from_env({})
    assert settings.arm_endpoint == "https://management.azure.com"
    assert settings.arm_audience == "https://management.azure.com/.default"
    assert settings.credential == "default"
    assert settings.resync_seconds == 600
    assert settings.watches_cluster


def test_emulator_settings_parse():
    settings = Settings.from_env({
        "ACR_OPERATOR_ARM_ENDPOINT": "http://127.0.0.1:8080/",
        "ACR_OPERATOR_CREDENTIAL": "static-token",
        "ACR_OPERATOR_STATIC_TOKEN": "x",
        "ACR_OPERATOR_NAMESPACES": "team-a, team-b",
        "ACR_OPERATOR_RESYNC_SECONDS": "5",
        "ACR_OPERATOR_SUBSCRIPTION_ID": "00000000-0000-0000-0000-000000000000",
    })
    assert settings.arm_endpoint == "http://127.0.0.1:8080"
    assert settings.namespaces == ("team-a", "team-b")
    assert not settings.watches_cluster
    assert settings.resync_seconds == 5.0
    assert settings.uses_http


def test_static_token_never_shows_in_repr():
    settings = Settings.from_env({
        "ACR_OPERATOR_CREDENTIAL": "static-token", "ACR_OPERATOR_STATIC_TOKEN": "hunter2",
    })
    assert "hunter2" not in repr(settings)
    assert settings.static_token.get_secret_value() == "hunter2"


@pytest.mark.parametrize(("env", "names"), [
    ({"ACR_OPERATOR_RESYNC_SECONDS": "soon"}, ["ACR_OPERATOR_RESYNC_SECONDS", "'soon'"]),
    ({"ACR_OPERATOR_RESYNC_SECONDS": "0"}, ["ACR_OPERATOR_RESYNC_SECONDS", "positive"]),
    ({"ACR_OPERATOR_CREDENTIAL": "magic"}, ["ACR_OPERATOR_CREDENTIAL", "'magic'", "static-token"]),
    ({"ACR_OPERATOR_CREDENTIAL": "static-token"}, ["ACR_OPERATOR_STATIC_TOKEN"]),
    ({"ACR_OPERATOR_SUBSCRIPTION_ID": "mine"}, ["ACR_OPERATOR_SUBSCRIPTION_ID", "GUID"]),
    ({"ACR_OPERATOR_NAMESPACES": "Team_A"}, ["ACR_OPERATOR_NAMESPACES", "'Team_A'"]),
    ({"ACR_OPERATOR_ALLOW_HTTP": "maybe"}, ["ACR_OPERATOR_ALLOW_HTTP", "true or false"]),
    ({"ACR_OPERATOR_ARM_ENDPOINT": "management.azure.com"}, ["ACR_OPERATOR_ARM_ENDPOINT"]),
    ({"ACR_OPERATOR_ARM_ENDPOINT": "https://x.example/api"}, ["without a path"]),
])
def test_errors_name_the_variable_and_the_value(env, names):
    with pytest.raises(SettingsError) as raised:
        Settings.from_env(env)
    for name in names:
        assert name in str(raised.value)


def test_plain_http_to_another_host_needs_allow_http_and_a_static_token():
    remote = {"ACR_OPERATOR_ARM_ENDPOINT": "http://emulator.test:8080"}
    with pytest.raises(SettingsError, match="ACR_OPERATOR_ALLOW_HTTP"):
        Settings.from_env(remote)
    with pytest.raises(SettingsError):
        Settings.from_env({**remote, "ACR_OPERATOR_ALLOW_HTTP": "true"})
    allowed = Settings.from_env({
        **remote, "ACR_OPERATOR_ALLOW_HTTP": "true",
        "ACR_OPERATOR_CREDENTIAL": "static-token", "ACR_OPERATOR_STATIC_TOKEN": "x",
    })
    assert allowed.uses_http


@pytest.mark.parametrize(("host", "expected"), [
    ("127.0.0.1", True), ("localhost", True), ("::1", True), ("[::1]", True),
    ("10.0.0.1", False), ("management.azure.com", False),
])
def test_loopback_hosts(host, expected):
    assert is_loopback(host) is expected
