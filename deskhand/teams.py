"""Keep the ``teams`` table in step with the configuration (new teams, changed settings);
each team's ticket counter survives."""

from __future__ import annotations

from sqlalchemy import Engine

from deskhand.config import Config
from storage.engine import writing
from storage.models import Team


def sync_teams(engine: Engine, config: Config) -> None:
    with writing(engine) as session:
        for team in config.teams:
            row = session.get(Team, team.name)
            if row is None:
                row = Team(name=team.name, next_number=1)
                session.add(row)
            row.key_prefix = team.key_prefix
            row.triage_channel = team.triage_channel
            row.jira_project = team.jira.project if team.jira else None
