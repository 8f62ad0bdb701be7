"""``deskhand run``: Deskhand serving Slack until it is told to stop.

Socket Mode (the default) needs no public URL. HTTP mode serves ``/slack/events`` with Bolt's
Flask adapter under gunicorn (threads, one worker process: the workers and relays run inside
it; run more replicas on PostgreSQL to scale out).

Before anything serves, the bot token is shown to Slack once (``auth.test``) and the database
is migrated: a wrong token or an unreachable database stops the start with one line (a
:class:`~deskhand.startup.StartupError`), not a traceback or a process that says it is
running. In Socket Mode the app token meets Slack in ``apps.connections.open``, the call that
opens the connection anyway (it allows about one call a minute, so it is not made twice).
"""

from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.error import URLError

from gunicorn.app.base import BaseApplication
from rich.console import Console
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server
from werkzeug.urls import uri_to_iri

from deskhand.config import Config, Secrets
from deskhand.config.schema import SlackMode
from deskhand.startup import (
    EXIT_CONFIG,
    EXIT_UNAVAILABLE,
    StartupError,
    database_errors,
    migrate_database,
    one_line,
)
from deskhand.wiring import Deskhand, build
from recipes.book import RecipeBook

log = logging.getLogger(__name__)

TOKEN_CHECK_TIMEOUT = 10
"""Seconds ``auth.test`` may take at start."""
REFUSED = frozenset(
    {
        "account_inactive",
        "invalid_auth",
        "missing_scope",
        "not_allowed_token_type",
        "not_authed",
        "token_expired",
        "token_revoked",
    }
)
"""Slack's errors that mean "not this token": the variable has to change."""


class MissingSecretsError(StartupError):
    def __init__(self, names: list[str]) -> None:
        super().__init__("missing environment variables: " + ", ".join(names), EXIT_CONFIG)
        self.names = names


@dataclass(frozen=True)
class _Start:
    """What a run is started with."""

    config: Config
    config_path: Path
    secrets: Secrets
    bot_token: str
    out: Console
    recipes: RecipeBook | None

    def jira_token(self) -> str | None:
        token = _secret(self.secrets.jira_token)
        if self.config.jira is not None and token is None:
            log.warning(
                "%s has a jira section but DESKHAND_JIRA_TOKEN is not set: no Jira sync",
                self.config_path,
            )
        return token

    @property
    def database_source(self) -> str:
        return f"database.url in {self.config_path}"

    def webhook_secrets(self) -> list[str]:
        values = (self.secrets.jira_webhook_secret, self.secrets.jira_webhook_secret_previous)
        return [v for v in (_secret(value) for value in values) if v]


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def serve(
    config: Config,
    secrets: Secrets,
    out: Console,
    *,
    config_path: Path,
    recipes: RecipeBook | None = None,
) -> None:
    """Run until stopped; raise :class:`StartupError` if Deskhand cannot start.

    ``config_path``: where ``config`` was read, for messages. ``recipes``: the routing
    recipes; ``deskhand recipes reload`` reloads them in either transport, and so does a
    SIGHUP in Socket Mode (a set that fails to load is reported and the last good one stays).
    """
    # INFO and above: slack_sdk logs request details (tokens among them) only at DEBUG.
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    socket_mode = config.slack.mode is SlackMode.SOCKET
    missing = secrets.missing_for(socket_mode=socket_mode, jira=False)
    if socket_mode:
        missing = [name for name in missing if name != "DESKHAND_SLACK_SIGNING_SECRET"]
    if missing:
        raise MissingSecretsError(missing)
    bot_token = _secret(secrets.slack_bot_token)
    assert bot_token is not None
    check_bot_token(config, bot_token, config_path)
    start = _Start(config, config_path, secrets, bot_token, out, recipes)
    if socket_mode:
        _serve_socket_mode(start)
    else:
        _serve_http(start)


def check_bot_token(config: Config, bot_token: str, config_path: Path) -> None:
    """Show the bot token to Slack once (``auth.test``, as Bolt does when it checks tokens).
    Slack busy or failing (429, 5xx) is not the token's fault: the start goes on and Bolt
    asks again on the first request."""
    client = WebClient(token=bot_token, base_url=config.slack.api_url, timeout=TOKEN_CHECK_TIMEOUT)
    try:
        client.auth_test()
    except SlackApiError as exc:
        if exc.response.status_code != 200:
            log.warning(
                "could not check DESKHAND_SLACK_BOT_TOKEN now (Slack answered HTTP %s); "
                "starting anyway",
                exc.response.status_code,
            )
            return
        raise StartupError(
            f"Slack refused DESKHAND_SLACK_BOT_TOKEN ({exc.response.get('error')}): set it to "
            "the app's Bot User OAuth Token (xoxb-…, on its OAuth & Permissions page)",
            EXIT_CONFIG,
        ) from None
    except (URLError, OSError) as exc:
        raise _unreachable(config, config_path, exc) from None


def _unreachable(config: Config, config_path: Path, exc: BaseException) -> StartupError:
    reason = exc.reason if isinstance(exc, URLError) else exc
    return StartupError(
        f"cannot reach Slack at {config.slack.api_url}: {one_line(reason)} "
        f"(check the network, and slack.api_url in {config_path})",
        EXIT_UNAVAILABLE,
    )


def _connect_socket_mode(
    start: _Start, deskhand: Deskhand, app_token: str, give_up: threading.Event
) -> None:
    """Open the Socket Mode connection; a refused app token stops the start with one line
    (slack_sdk's own error line about it would only say the same again)."""
    quiet = _DropRecords("Failed to retrieve WSS URL")
    deskhand.app.logger.addFilter(quiet)
    try:
        deskhand.connect_socket_mode(app_token, give_up=give_up)
    except SlackApiError as exc:
        error = exc.response.get("error")
        if error in REFUSED:
            raise StartupError(
                f"Slack refused DESKHAND_SLACK_APP_TOKEN ({error}): set it to an app-level "
                "token (xapp-…) with the connections:write scope, from the app's Basic "
                "Information page",
                EXIT_CONFIG,
            ) from None
        detail = exc.response.get("detail")
        raise StartupError(
            f"Slack would not open a Socket Mode connection ({error}"
            + (f": {detail}" if detail else "")
            + ")",
            EXIT_UNAVAILABLE,
        ) from None
    except (URLError, OSError) as exc:
        raise _unreachable(start.config, start.config_path, exc) from None
    finally:
        deskhand.app.logger.removeFilter(quiet)


class _DropRecords(logging.Filter):
    """Drops log records whose message starts with ``prefix``."""

    def __init__(self, prefix: str) -> None:
        super().__init__()
        self.prefix = prefix

    def filter(self, record: logging.LogRecord) -> bool:
        return not record.getMessage().startswith(self.prefix)


def _serve_socket_mode(start: _Start) -> None:
    config, recipes = start.config, start.recipes
    with database_errors(config.database.url, source=start.database_source):
        deskhand = build(  # which migrates the database first
            config,
            bot_token=start.bot_token,
            signing_secret=None,
            jira_token=start.jira_token(),
            jira_webhook_secrets=start.webhook_secrets(),
            recipes=recipes,
        )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if recipes is not None:
        book = recipes

        def reload(*_: Any) -> None:
            result = book.reload()
            log.log(logging.INFO if result.ok else logging.WARNING, "recipes: %s", result.message)

        signal.signal(signal.SIGHUP, reload)
    app_token = _secret(start.secrets.slack_app_token)
    assert app_token is not None
    deskhand.start()
    webhooks: BaseWSGIServer | None = None
    try:
        webhooks = _jira_webhook_server(config, deskhand, start.out)
        _connect_socket_mode(start, deskhand, app_token, stop)
        teams = len(config.teams)
        start.out.print(f"Deskhand is running in Socket Mode ({teams} teams). Ctrl-C stops it.")
        stop.wait()
    finally:
        if webhooks is not None:
            webhooks.shutdown()
        deskhand.stop()
    start.out.print("Deskhand stopped.")


class PlainLogRequestHandler(WSGIRequestHandler):
    """werkzeug's request handler, with access lines free of terminal colour codes: they
    go to the log, which is usually a file or a journal, not a terminal."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        try:
            line = f"{self.command} {uri_to_iri(self.path)} {self.request_version}"
        except AttributeError:  # the request line was bad: there is no path
            line = self.requestline
        # Escape control characters that may be in the decoded path, as werkzeug does.
        self.log("info", '"%s" %s %s', line.translate(self._control_char_table), code, size)


def _jira_webhook_server(config: Config, deskhand: Deskhand, out: Console) -> BaseWSGIServer | None:
    """In Socket Mode nothing else listens on HTTP: serve ``/jira/webhook`` (and
    ``/healthz``) on the configured address when webhooks can be verified; without a secret
    the poller alone keeps Jira and Slack in step."""
    if config.jira is None or not deskhand.jira_webhook_secrets:
        return None
    # A port in use: werkzeug says so in a line and exits with status 1.
    server = make_server(
        config.http.host,
        config.http.port,
        deskhand.web_app(),
        threaded=True,
        request_handler=PlainLogRequestHandler,
    )
    threading.Thread(target=server.serve_forever, name="jira-webhooks", daemon=True).start()
    out.print(f"Jira webhooks: http://{config.http.host}:{config.http.port}/jira/webhook")
    return server


class _Gunicorn(BaseApplication):  # type: ignore[misc]
    """gunicorn configured from code; the app (and its workers) is built in the worker."""

    def __init__(self, options: dict[str, Any], load: Any) -> None:
        self.options = options
        self._load = load
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self._load()


def _serve_http(start: _Start) -> None:
    config, recipes = start.config, start.recipes
    # Migrated here, before gunicorn starts its worker, so that an unreachable database stops
    # the start with one line (the worker's own build then finds it up to date).
    migrate_database(config.database.url, source=start.database_source)
    signing_secret = _secret(start.secrets.slack_signing_secret)
    holder: list[Deskhand] = []

    def load() -> Any:
        # The worker reads the recipe files again rather than reuse the master's set (a
        # restarted worker then runs what the files say now; a bad set keeps the last good).
        if recipes is not None:
            result = recipes.reload()
            log.log(logging.INFO if result.ok else logging.WARNING, "recipes: %s", result.message)
        deskhand = build(
            config,
            bot_token=start.bot_token,
            signing_secret=signing_secret,
            previous_signing_secret=_secret(start.secrets.slack_signing_secret_previous),
            jira_token=start.jira_token(),
            jira_webhook_secrets=start.webhook_secrets(),
            recipes=recipes,
        )
        deskhand.start()
        holder.append(deskhand)
        return deskhand.web_app()

    def worker_exit(_server: Any, _worker: Any) -> None:
        for deskhand in holder:
            deskhand.stop()

    host, port = config.http.host, config.http.port
    start.out.print(f"Deskhand is serving HTTP on {host}:{port}/slack/events")
    _Gunicorn(
        {
            "bind": f"{host}:{port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": 8,
            "worker_exit": worker_exit,
            "accesslog": None,
        },
        load,
    ).run()
