"""docs/configuration.md is what the settings classes say, and every setting says what
it does."""

from __future__ import annotations

from deploy import settings_reference
from deploy.launcher import SETTINGS, variables


def test_every_setting_has_a_description() -> None:
    assert settings_reference.missing_descriptions() == []


def test_the_configuration_reference_is_current() -> None:
    written = settings_reference.DOC.read_text()
    assert written == settings_reference.render(), "docs/configuration.md is stale: make docs"


def test_the_reference_names_every_variable_of_every_service() -> None:
    text = settings_reference.render()
    for service in SETTINGS:
        for name in variables(service).values():
            assert f"`{name}`" in text


def test_secrets_are_marked_and_their_values_never_shown() -> None:
    rows = {
        line.split("`")[1]: line
        for line in settings_reference.render().splitlines()
        if line.startswith("| `SWITCHBOARD_")
    }
    assert rows["SWITCHBOARD_INGRESS_CLIENT_TOKEN"].split("|")[4].strip() == "yes"
    assert rows["SWITCHBOARD_ROUTING_PUSH_SECRET"].split("|")[4].strip() == "yes"
    assert rows["SWITCHBOARD_ROUTING_RELAY_BATCH"].split("|")[4].strip() == ""
