"""Loading recipe files: every problem reported with its file, line, column and path."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest
from ruamel.yaml import YAML

from deskhand.config import Config, ConfigError, load_config
from recipes.loader import (
    RecipeError,
    configured_paths,
    load_configured_recipes,
    load_recipes,
    parse_recipes,
)
from recipes.schema import json_schema
from tests.conftest import ROOT


def problems_of(text: str, config: Config, filename: str = "r.yaml") -> list[str]:
    with pytest.raises(RecipeError) as caught:
        parse_recipes(text, config, filename)
    return [str(problem) for problem in caught.value.problems]


BAD_FILES = {
    "broken yaml": (
        "recipes:\n  - name: [a\n",
        ["r.yaml:3:1: <root>: invalid YAML: while parsing a flow sequence"],
    ),
    "duplicate key": (
        "recipes:\n  - name: a\n    name: b\n    trigger: ticket.created\n    stop: true\n",
        [
            "r.yaml:3:5: <root>: invalid YAML: while constructing a mapping found duplicate "
            'key "name"'
        ],
    ),
    "top-level list": (
        "- name: a\n",
        ["r.yaml:1:1: <root>: expected a mapping with 'recipes:' at the top"],
    ),
    "unknown top-level key": (
        "recipe: []\n",
        ["r.yaml:1:1: recipe: unknown key; expected one of: recipes"],
    ),
    "unknown key in a recipe": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n    stop: true\n    when: {}\n",
        [
            "r.yaml:5:5: recipes.0.when: unknown key; expected one of: name, description, "
            "trigger, conditions, actions, stop"
        ],
    ),
    "unknown condition deep down": (
        "recipes:\n"
        "  - name: a\n"
        "    trigger: ticket.created\n"
        "    conditions:\n"
        "      any:\n"
        "        - text: {keyword: vpn}\n"
        "    stop: true\n",
        [
            "r.yaml:6:18: recipes.0.conditions.any.0.text.keyword: unknown key; expected one "
            "of: keywords, regex, glob, case_sensitive"
        ],
    ),
    "unknown trigger": (
        "recipes:\n  - name: a\n    trigger: ticket.create\n    stop: true\n",
        ["r.yaml:3:14: recipes.0.trigger.0: Input should be 'ticket.created', 'message.posted'"],
    ),
    "wrong type": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n    actions: [{set_level: high}]\n",
        [
            "r.yaml:4:27: recipes.0.actions.0.set_level: Input should be a valid integer, "
            "unable to parse string as an integer (got 'high')"
        ],
    ),
    "two keys in one action": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    actions:\n      - {route: HR, set_level: 2}\n",
        [
            "r.yaml:5:9: recipes.0.actions.0: an action has exactly one key (found route, "
            "set_level); expected one of: route,"
        ],
    ),
    "bad name": (
        "recipes:\n  - name: Payroll Rule\n    trigger: ticket.created\n    stop: true\n",
        ["r.yaml:2:11: recipes.0.name: expected a recipe name: lower-case letters"],
    ),
    "missing trigger": (
        "recipes:\n  - name: a\n    stop: true\n",
        ["r.yaml:2:5: recipes.0.trigger: required key is missing"],
    ),
    "nothing to do": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n",
        ["r.yaml:2:5: recipes.0: a recipe needs actions (or stop: true to end the evaluation)"],
    ),
    "unknown team, with a suggestion": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n    actions: [{route: Hr}]\n",
        [
            "r.yaml:4:23: recipes.0.actions.0.route: no team called 'Hr'; did you mean 'HR'? "
            "(known: Facilities, HR, IT, Legal)"
        ],
    ),
    "unknown channel": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {channel: help-vpn}\n    stop: true\n",
        ["r.yaml:4:27: recipes.0.conditions.channel: no request or triage channel called"],
    ),
    "unknown service of the team routed to": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    actions:\n      - route: HR\n      - set_service: Network\n",
        [
            "r.yaml:6:22: recipes.0.actions.1.set_service: no service of HR called 'Network' "
            "(known: Leave, Payroll)"
        ],
    ),
    "unknown service": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {service: Printers}\n    stop: true\n",
        ["r.yaml:4:27: recipes.0.conditions.service: no service called 'Printers'"],
    ),
    "unknown form field": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {fields: {sytem: VPN}}\n    stop: true\n",
        [
            "r.yaml:4:34: recipes.0.conditions.fields.sytem: no form field called 'sytem'; "
            "did you mean 'system'?"
        ],
    ),
    "bad regex": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {text: {regex: '(unclosed'}}\n    stop: true\n",
        ["r.yaml:4:32: recipes.0.conditions.text.regex: regex '(unclosed' is refused: missing )"],
    ),
    "emoji on a trigger without one": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {emoji: hr}\n    stop: true\n",
        [
            "r.yaml:4:25: recipes.0.conditions.emoji: emoji is only known for reaction.added "
            "(this recipe: ticket.created)"
        ],
    ),
    "unknown template variable": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    actions: [{reply: 'Hi {{ nme }}'}]\n",
        ["r.yaml:4:23: recipes.0.actions.0.reply: unknown template variable 'nme'; known:"],
    ),
    "template syntax error on its second line": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    actions:\n      - note: |\n          Hello\n          {% if %}\n",
        ["r.yaml:5:15: recipes.0.actions.0.note: line 2 of the template: template error:"],
    ),
    "assignee by name": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    actions: [{assign: {user: bob}}]\n",
        [
            "r.yaml:4:31: recipes.0.actions.0.assign.user: expected a Slack user id such as "
            "U0123ABC, not a name: use the user's id"
        ],
    ),
    "requester by name": (
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        "    conditions: {requester: {user: [U0ALICE, '@bob']}}\n    stop: true\n",
        [
            "r.yaml:4:46: recipes.0.conditions.requester.user.1: expected a Slack user id such "
            "as U0123ABC, not a name"
        ],
    ),
    "Jira project without Jira": (
        None,  # checked with a configuration that has no jira section, below
        [],
    ),
}


@pytest.mark.parametrize("kind", [kind for kind, (text, _) in BAD_FILES.items() if text])
def test_each_kind_of_problem_is_reported_where_it_is(kind: str, config: Config) -> None:
    text, expected = BAD_FILES[kind]
    assert text is not None
    lines = problems_of(text, config)
    assert len(lines) == len(expected), lines
    for line, start in zip(lines, expected, strict=True):
        assert line.startswith(start), line


def test_jira_project_needs_a_jira_section(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text(
        "teams: [{name: IT, key_prefix: IT, triage_channel: it-triage}]\n"
    )
    config = load_config(tmp_path / "config.yaml")
    text = "recipes:\n  - name: a\n    trigger: ticket.created\n    actions: [{jira_project: IT}]\n"
    assert problems_of(text, config) == [
        "r.yaml:4:30: recipes.0.actions.0.jira_project: config.yaml has no jira section: "
        "there is no Jira to use"
    ]


def test_jira_project_must_be_a_configured_teams_project(config: Config) -> None:
    text = (
        "recipes:\n"
        "  - name: a\n"
        "    trigger: ticket.created\n"
        "    actions: [{jira_project: IT}, {jira_project: ITX}]\n"
    )
    assert problems_of(text, config) == [
        "r.yaml:4:50: recipes.0.actions.1.jira_project: no team's Jira project called 'ITX'; "
        "did you mean 'IT'? (known: IT)"
    ]


def test_every_problem_of_a_file_is_reported_at_once(config: Config) -> None:
    text = (
        "recipes:\n"
        "  - name: a\n"
        "    trigger: ticket.created\n"
        "    conditions: {colour: red}\n"
        "    stop: true\n"
        "  - name: b\n"
        "    trigger: ticket.created\n"
        "    conditions: {team: Ops, text: {regex: '(a)\\1'}}\n"
        "    actions: [{route: Nowhere}]\n"
    )
    lines = problems_of(text, config)
    assert [line.split(": ")[0] for line in lines] == [
        "r.yaml:4:18",
        "r.yaml:8:24",
        "r.yaml:8:43",
        "r.yaml:9:23",
    ]


def test_a_duplicate_name_points_at_the_second_and_names_the_first(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "a.yaml").write_text(
        "recipes:\n  - name: payroll\n    trigger: ticket.created\n    stop: true\n"
    )
    (tmp_path / "b.yaml").write_text(
        "# another file\nrecipes:\n  - name: other\n    trigger: ticket.created\n"
        "    stop: true\n  - name: payroll\n    trigger: ticket.created\n    stop: true\n"
    )
    with pytest.raises(RecipeError) as caught:
        load_recipes([tmp_path], config)
    assert [str(problem) for problem in caught.value.problems] == [
        f"{tmp_path}/b.yaml:6:11: recipes.1.name: recipe name 'payroll' is already used at "
        f"{tmp_path}/a.yaml:2"
    ]


def test_problems_of_several_files_come_in_file_order(config: Config, tmp_path: Path) -> None:
    (tmp_path / "b.yaml").write_text("recipes:\n  - name: x\n    trigger: nope\n    stop: true\n")
    (tmp_path / "a.yaml").write_text("recipes: [\n")
    with pytest.raises(RecipeError) as caught:
        load_recipes([tmp_path, tmp_path / "missing.yaml"], config)
    assert [(Path(p.file).name, p.line) for p in caught.value.problems] == [
        ("a.yaml", 2),
        ("b.yaml", 3),
        ("missing.yaml", 1),
    ]
    assert caught.value.problems[-1].message == "no such file or folder"


def test_a_recipe_error_is_a_config_error(config: Config) -> None:
    with pytest.raises(ConfigError):
        parse_recipes("recipes: 3\n", config)


def test_folders_load_by_name_with_subfolders_and_keep_order(
    config: Config, tmp_path: Path
) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "20-b.yaml").write_text(
        "recipes:\n  - {name: b1, trigger: ticket.created, stop: true}\n"
        "  - {name: b2, trigger: ticket.created, stop: true}\n"
    )
    (tmp_path / "10-a.yml").write_text(
        "recipes:\n  - {name: a, trigger: ticket.created, stop: true}\n"
    )
    (tmp_path / "sub" / "30-c.yaml").write_text(
        "recipes:\n  - {name: c, trigger: ticket.created, stop: true}\n"
    )
    (tmp_path / "notes.txt").write_text("not a recipe file")
    (tmp_path / "empty.yaml").write_text("# nothing yet\n")
    recipes = load_recipes([tmp_path], config)
    assert [recipe.name for recipe in recipes] == ["a", "b1", "b2", "c"]
    assert [Path(name).name for name in recipes.files] == [
        "10-a.yml",
        "20-b.yaml",
        "empty.yaml",
        "30-c.yaml",
    ]


@pytest.mark.parametrize("user", ["U0123ABC", "W0123ABC", "U1"])
def test_slack_user_ids_are_taken_as_assignees_and_requesters(config: Config, user: str) -> None:
    recipes = parse_recipes(
        "recipes:\n  - name: a\n    trigger: ticket.created\n"
        f"    conditions: {{requester: {{user: {user}}}}}\n"
        f"    actions: [{{assign: {{user: {user}}}}}]\n",
        config,
    )
    assert [recipe.name for recipe in recipes] == ["a"]


def test_a_file_named_twice_or_also_in_a_folder_named_is_read_once(
    config: Config, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = tmp_path / "recipes"
    folder.mkdir()
    one = folder / "10-a.yaml"
    one.write_text("recipes:\n  - {name: a, trigger: ticket.created, stop: true}\n")
    (folder / "20-b.yaml").write_text(
        "recipes:\n  - {name: b, trigger: ticket.created, stop: true}\n"
    )
    monkeypatch.chdir(tmp_path)
    recipes = load_recipes([one, Path("recipes/10-a.yaml"), folder, one], config)
    assert [recipe.name for recipe in recipes] == ["a", "b"]
    assert recipes.files == (str(one), str(folder / "20-b.yaml"))


def test_the_builtin_examples_pass_against_the_shipped_config() -> None:
    config_path = ROOT / "config.yaml"
    config = load_config(config_path)
    assert configured_paths(config, config_path) == [ROOT / "recipes" / "builtin"]
    recipes = load_configured_recipes(config, config_path)
    assert {recipe.name for recipe in recipes} == {
        "hr-keywords",
        "network-channel",
        "emoji-to-hr",
        "after-hours-runbook",
    }


def test_the_json_schema_accepts_the_builtins_and_refuses_typos() -> None:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    json.dumps(schema)
    builtin = sorted((ROOT / "recipes" / "builtin").glob("*.yaml"))
    assert builtin
    for path in builtin:
        jsonschema.validate(YAML(typ="safe").load(path), schema)
    typo = {"recipes": [{"name": "a", "trigger": "ticket.created", "actions": [{"rout": "HR"}]}]}
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, schema)
    two_keys = {
        "recipes": [
            {"name": "a", "trigger": "ticket.created", "actions": [{"route": "HR", "set_level": 2}]}
        ]
    }
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(two_keys, schema)
    one_or_many = {"recipes": [{"name": "a", "trigger": ["ticket.created"], "stop": True}]}
    jsonschema.validate(one_or_many, schema)
