"""A stateful stand-in for a Slack workspace: Web API, event delivery and a driver."""
