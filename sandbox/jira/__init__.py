"""A stateful stand-in for Jira Cloud and Server REST, for tests, demos and benchmarks."""

from sandbox.jira.driver import JiraDriver
from sandbox.jira.errors import JiraError
from sandbox.jira.fake import JiraFake
from sandbox.jira.model import Transition, Workflow
from sandbox.jira.state import ChangeListener

__all__ = ["ChangeListener", "JiraDriver", "JiraError", "JiraFake", "Transition", "Workflow"]
