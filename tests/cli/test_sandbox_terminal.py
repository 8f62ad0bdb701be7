"""``deskhand sandbox &`` must not read its terminal: a background job that does is stopped
by the kernel (SIGTTIN), and the fake Slack and Jira with it."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT
from tests.waiting import DEADLINE

# A fresh process (forking inside pytest's threaded worker is unsafe): a child gets a new
# terminal as its controlling terminal and is its foreground; the grandchild moves to its own
# process group, as a shell does with a background job. Each reports by exit status.
SCRIPT = """
import os, pty, sys
from deskhand.sandbox_cli import _owns_the_terminal

pid, master = pty.fork()
if pid == 0:
    terminal = os.fdopen(0, closefd=False)
    foreground = _owns_the_terminal(terminal)
    job = os.fork()
    if job == 0:
        os.setpgid(0, 0)
        os._exit(3 if _owns_the_terminal(terminal) else 0)
    _, status = os.waitpid(job, 0)
    os._exit(os.waitstatus_to_exitcode(status) or (0 if foreground else 2))
_, status = os.waitpid(pid, 0)
sys.exit(os.waitstatus_to_exitcode(status))
"""


def test_the_console_reads_a_terminal_only_in_the_foreground() -> None:
    result = subprocess.run(
        [sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, timeout=DEADLINE
    )
    # 2: the foreground process was refused its terminal; 3: the background job was not.
    assert result.returncode == 0, result.stderr


def test_input_that_is_not_a_terminal_is_read() -> None:
    from deskhand.sandbox_cli import _owns_the_terminal

    with open(__file__, encoding="utf-8") as not_a_terminal:
        assert _owns_the_terminal(not_a_terminal) is True
