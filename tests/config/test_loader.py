"""config.yaml: the shipped example passes; each kind of error names its file:line:col and path."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from deskhand.config import ConfigError, load_config, parse_config, review_config
from deskhand.config.schema import JiraFlavour, SlackMode
from tests.conftest import ROOT

MINIMAL = """\
teams:
  - name: IT
    key_prefix: IT
    triage_channel: it-triage
"""


def problems(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse_config(textwrap.dedent(text), "c.yaml")
    return [str(problem) for problem in caught.value.problems]


def test_shipped_example_is_valid_and_complete() -> None:
    config = load_config(ROOT / "config.yaml")
    assert config.slack.mode is SlackMode.SOCKET
    assert [team.name for team in config.teams] == ["IT", "HR"]
    assert config.jira is not None
    assert config.jira.flavour is JiraFlavour.CLOUD
    it = config.team("IT")
    assert it.jira is not None
    assert it.jira.project == "IT"
    assert {field.type.value for form in it.forms for field in form.fields} == {
        "text",
        "multiline",
        "select",
        "user",
        "date",
    }


def test_defaults_fill_a_minimal_file() -> None:
    config = parse_config(MINIMAL)
    assert config.slack.api_url == "https://slack.com/api/"
    assert config.slack.ticket_emoji == "ticket"
    assert config.database.url == "sqlite:///deskhand.db"
    assert config.jira is None
    assert config.http.port == 3000


def test_unknown_key_points_at_the_key_and_lists_what_is_allowed() -> None:
    found = problems(MINIMAL + "    triage_chanel: typo\n")
    assert len(found) == 1
    assert found[0].startswith("c.yaml:5:5: teams.0.triage_chanel: unknown key; expected one of:")
    assert "triage_channel" in found[0]


def test_wrong_type_points_at_the_value() -> None:
    found = problems(MINIMAL + "http:\n  port: lots\n")
    assert found == [
        "c.yaml:6:9: http.port: Input should be a valid integer, unable to parse string as an "
        "integer (got 'lots')"
    ]


def test_bad_enum_value_says_what_is_expected() -> None:
    found = problems("slack:\n  mode: sockets\n" + MINIMAL)
    assert found == ["c.yaml:2:9: slack.mode: Input should be 'socket' or 'http' (got 'sockets')"]


def test_broken_yaml_gives_the_position_of_the_problem() -> None:
    found = problems("teams:\n  - name: IT\n   key_prefix: IT\n")
    assert len(found) == 1
    assert found[0].startswith("c.yaml:3:")
    assert "invalid YAML" in found[0]


def test_duplicate_yaml_key_is_an_error() -> None:
    found = problems(MINIMAL + "http:\n  port: 1\n  port: 2\n")
    assert len(found) == 1
    assert "invalid YAML" in found[0]
    assert "port" in found[0]


def test_missing_required_key_points_at_its_mapping() -> None:
    found = problems("teams:\n  - name: IT\n    key_prefix: IT\n")
    assert found == ["c.yaml:2:5: teams.0.triage_channel: required key is missing"]


def test_pattern_mismatch_explains_the_expected_form() -> None:
    found = problems(MINIMAL.replace("triage_channel: it-triage", "triage_channel: '#IT'"))
    assert found == [
        "c.yaml:4:21: teams.0.triage_channel: expected a Slack channel name without '#': "
        "lower-case letters, digits, '-', '_', '.' (got '#IT')"
    ]


def test_every_error_is_reported_not_only_the_first() -> None:
    found = problems("slack:\n  mode: x\n  ticket_emoji: ':ticket:'\n" + MINIMAL)
    assert [line.split(": ")[0:2] for line in found] == [
        ["c.yaml:2:9", "slack.mode"],
        ["c.yaml:3:17", "slack.ticket_emoji"],
    ]


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            "  - name: IT\n    key_prefix: HR\n    triage_channel: hr-triage\n",
            "c.yaml:5:11: teams.1.name: team name 'IT' is already used by teams.0",
        ),
        (
            "  - name: HR\n    key_prefix: IT\n    triage_channel: hr-triage\n",
            "c.yaml:6:17: teams.1.key_prefix: key prefix 'IT' is already used by teams.0",
        ),
        (
            "  - name: HR\n    key_prefix: HR\n    triage_channel: it-triage\n",
            "c.yaml:7:21: teams.1.triage_channel: #it-triage is already the triage channel of "
            "teams.0",
        ),
        (
            "  - name: HR\n    key_prefix: HR\n    triage_channel: hr-triage\n"
            "    jira: {project: HR}\n",
            "c.yaml:8:11: teams.1.jira: this team names a Jira project but there is no "
            "top-level 'jira' section",
        ),
    ],
)
def test_cross_checks_between_teams(extra: str, expected: str) -> None:
    assert problems(MINIMAL + extra) == [expected]


def test_request_channel_may_not_be_a_triage_channel() -> None:
    found = problems("slack:\n  request_channels: [help, it-triage]\n" + MINIMAL)
    assert found == [
        "c.yaml:2:28: slack.request_channels.1: #it-triage is a private triage channel and "
        "cannot take requests"
    ]


FORMS = (
    MINIMAL
    + """\
    services: [Access]
    forms:
      - name: access
        services: [Hardware]
        fields:
          - {id: system, label: System, type: select}
          - {id: system, label: Again, type: text, options: [a]}
"""
)


def test_form_rules() -> None:
    assert problems(FORMS) == [
        "c.yaml:8:20: teams.0.forms.0.services.0: service 'Hardware' is not one of this team's "
        "services (Access)",
        "c.yaml:10:13: teams.0.forms.0.fields.0.options: a select field needs options",
        "c.yaml:11:18: teams.0.forms.0.fields.1.id: field id 'system' is used twice",
        "c.yaml:11:61: teams.0.forms.0.fields.1.options: only select fields take options",
    ]


def test_unknown_time_zone_is_said_in_our_words_not_pydantic_s() -> None:
    found = problems(MINIMAL + "    business_hours: {timezone: Mars/Olympus}\n")
    assert found == [
        "c.yaml:5:32: teams.0.business_hours.timezone: unknown time zone 'Mars/Olympus'; "
        "use an IANA name"
    ]


def test_a_validator_s_message_shows_the_value_when_it_does_not_name_it() -> None:
    found = problems(
        MINIMAL
        + "    forms:\n"
        + "      - name: f\n"
        + "        fields: [{id: a, label: A, type: select, options: [x, x]}]\n"
    )
    assert found == [
        "c.yaml:7:59: teams.0.forms.0.fields.0.options: options must be unique (got ['x', 'x'])"
    ]


def test_a_wrong_key_of_a_map_points_at_the_key() -> None:
    found = problems(
        MINIMAL
        + "jira:\n  url: https://x.atlassian.net\n  account: bot@x.com\n"
        + "  status_map:\n    in_progres: Doing\n"
    )
    assert found == [
        "c.yaml:9:5: jira.status_map.in_progres: key should be 'open', 'in_progress', "
        "'waiting_on_requester', 'resolved' or 'closed' (got 'in_progres')"
    ]


def test_http_mode_without_a_public_url_is_a_warning(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("slack:\n  mode: http\n" + MINIMAL)
    config, warnings = review_config(path)
    assert config.slack.mode is SlackMode.HTTP
    assert [str(warning) for warning in warnings] == [
        f"{path}:2:9: slack.mode: warning: HTTP mode without http.public_url: deskhand "
        "manifest cannot say where Slack should send events; set http.public_url to this "
        "service's public address"
    ]
    path.write_text(
        "slack:\n  mode: http\nhttp: {public_url: 'https://desk.example.com'}\n" + MINIMAL
    )
    assert review_config(path)[1] == []
    path.write_text(MINIMAL)  # Socket Mode needs no public URL
    assert review_config(path)[1] == []


def test_recipe_paths_must_exist_next_to_the_file(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(MINIMAL + "recipes:\n  paths: [here, missing]\n")
    (tmp_path / "here").mkdir()
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{path}:6:17: recipes.paths.1: no such file or folder: {tmp_path / 'missing'}"
    ]


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "absent.yaml")


def test_top_level_must_be_a_mapping() -> None:
    assert problems("- just\n- a list\n") == [
        "c.yaml:1:1: <root>: expected a mapping of sections at the top level"
    ]
