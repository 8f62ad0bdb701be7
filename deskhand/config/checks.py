"""Checks that span several fields of the configuration.

Pydantic validates each value in place; these rules relate values to each other (unique names,
references between sections). Each finding carries the dotted path of the value at fault so the
loader can point at its line and column.
"""

from __future__ import annotations

from collections.abc import Iterator

from deskhand.config.schema import Config, FieldType, SlackMode

Loc = tuple[str | int, ...]
Finding = tuple[Loc, str]


def cross_checks(config: Config) -> list[Finding]:
    return [*_teams(config), *_channels(config), *_forms(config)]


def doubtful_settings(config: Config) -> list[Finding]:
    """Settings that are valid but probably not what was meant: warnings, not errors."""
    findings: list[Finding] = []
    if config.slack.mode is SlackMode.HTTP and config.http.public_url is None:
        findings.append(
            (
                ("slack", "mode"),
                "HTTP mode without http.public_url: deskhand manifest cannot say where Slack "
                "should send events; set http.public_url to this service's public address",
            )
        )
    return findings


def _teams(config: Config) -> Iterator[Finding]:
    seen_names: dict[str, int] = {}
    seen_prefixes: dict[str, int] = {}
    for index, team in enumerate(config.teams):
        if team.name in seen_names:
            yield (
                ("teams", index, "name"),
                f"team name {team.name!r} is already used by teams.{seen_names[team.name]}",
            )
        seen_names.setdefault(team.name, index)
        if team.key_prefix in seen_prefixes:
            yield (
                ("teams", index, "key_prefix"),
                f"key prefix {team.key_prefix!r} is already used by "
                f"teams.{seen_prefixes[team.key_prefix]}",
            )
        seen_prefixes.setdefault(team.key_prefix, index)
        if team.jira is not None and config.jira is None:
            yield (
                ("teams", index, "jira"),
                "this team names a Jira project but there is no top-level 'jira' section",
            )
        hours = team.business_hours
        if hours.start >= hours.end:
            yield (
                ("teams", index, "business_hours", "end"),
                "closing time must be after opening time",
            )


def _channels(config: Config) -> Iterator[Finding]:
    triage: dict[str, int] = {}
    for index, team in enumerate(config.teams):
        if team.triage_channel in triage:
            yield (
                ("teams", index, "triage_channel"),
                f"#{team.triage_channel} is already the triage channel of "
                f"teams.{triage[team.triage_channel]}",
            )
        triage.setdefault(team.triage_channel, index)
    for section in ("request_channels", "auto_ticket_channels"):
        channels: list[str] = getattr(config.slack, section)
        for index, channel in enumerate(channels):
            if channel in triage:
                yield (
                    ("slack", section, index),
                    f"#{channel} is a private triage channel and cannot take requests",
                )
            if channels.index(channel) != index:
                yield (("slack", section, index), f"#{channel} is listed twice")


def _forms(config: Config) -> Iterator[Finding]:
    for t, team in enumerate(config.teams):
        names: set[str] = set()
        for f, form in enumerate(team.forms):
            where: Loc = ("teams", t, "forms", f)
            if form.name in names:
                yield ((*where, "name"), f"form name {form.name!r} is used twice in this team")
            names.add(form.name)
            for s, service in enumerate(form.services):
                if service not in team.services:
                    yield (
                        (*where, "services", s),
                        f"service {service!r} is not one of this team's services "
                        f"({', '.join(team.services) or 'none listed'})",
                    )
            ids: set[str] = set()
            for i, field in enumerate(form.fields):
                if field.id in ids:
                    yield ((*where, "fields", i, "id"), f"field id {field.id!r} is used twice")
                ids.add(field.id)
                if field.type is FieldType.SELECT and not field.options:
                    yield ((*where, "fields", i, "options"), "a select field needs options")
                if field.type is not FieldType.SELECT and field.options:
                    yield ((*where, "fields", i, "options"), "only select fields take options")
