"""``deskhand run``: Deskhand serving Slack until it is told to stop.

Socket Mode (the default) needs no public URL. HTTP mode serves ``/slack/events`` with Bolt's
Flask adapter under gunicorn (threads, one worker process: the workers and relays run inside
it; run more replicas on PostgreSQL to scale out).
"""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from gunicorn.app.base import BaseApplication
from rich.console import Console
from werkzeug.serving import make_server

from deskhand.config import Config, Secrets
from deskhand.config.schema import SlackMode
from deskhand.wiring import Deskhand, build
from recipes.book import RecipeBook


class MissingSecretsError(Exception):
    def __init__(self, names: list[str]) -> None:
        super().__init__("missing environment variables: " + ", ".join(names))
        self.names = names


def _secret(value: Any) -> str | None:
    return value.get_secret_value() if value is not None else None


def _jira_token(config: Config, secrets: Secrets) -> str | None:
    token = _secret(secrets.jira_token)
    if config.jira is not None and token is None:
        logging.getLogger(__name__).warning(
            "config.yaml has a jira section but DESKHAND_JIRA_TOKEN is not set: no Jira sync"
        )
    return token


def _webhook_secrets(secrets: Secrets) -> list[str]:
    values = (secrets.jira_webhook_secret, secrets.jira_webhook_secret_previous)
    return [v for v in (_secret(value) for value in values) if v]


def serve(
    config: Config, secrets: Secrets, out: Console, *, recipes: RecipeBook | None = None
) -> None:
    """Run until stopped. ``recipes``: the routing recipes; ``deskhand recipes reload`` reloads
    them in either transport, and so does a SIGHUP in Socket Mode (a set that fails to load is
    reported and the last good one stays)."""
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
    if socket_mode:
        _serve_socket_mode(config, secrets, bot_token, out, recipes)
    else:
        _serve_http(config, secrets, bot_token, out, recipes)


def _serve_socket_mode(
    config: Config, secrets: Secrets, bot_token: str, out: Console, recipes: RecipeBook | None
) -> None:
    deskhand = build(
        config,
        bot_token=bot_token,
        signing_secret=None,
        jira_token=_jira_token(config, secrets),
        jira_webhook_secrets=_webhook_secrets(secrets),
        recipes=recipes,
    )
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    if recipes is not None:
        book = recipes

        def reload(*_: Any) -> None:
            logging.getLogger(__name__).warning("recipes: %s", book.reload().message)

        signal.signal(signal.SIGHUP, reload)
    app_token = _secret(secrets.slack_app_token)
    assert app_token is not None
    deskhand.start()
    webhooks = _jira_webhook_server(config, deskhand, out)
    try:
        deskhand.connect_socket_mode(app_token, give_up=stop)
        teams = len(config.teams)
        out.print(f"Deskhand is running in Socket Mode ({teams} teams). Ctrl-C stops it.")
        stop.wait()
    finally:
        if webhooks is not None:
            webhooks.shutdown()
        deskhand.stop()
    out.print("Deskhand stopped.")


def _jira_webhook_server(config: Config, deskhand: Deskhand, out: Console) -> Any:
    """In Socket Mode nothing else listens on HTTP: serve ``/jira/webhook`` (and
    ``/healthz``) on the configured address when webhooks can be verified; without a secret
    the poller alone keeps Jira and Slack in step."""
    if config.jira is None or not deskhand.jira_webhook_secrets:
        return None
    server = make_server(config.http.host, config.http.port, deskhand.web_app(), threaded=True)
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


def _serve_http(
    config: Config, secrets: Secrets, bot_token: str, out: Console, recipes: RecipeBook | None
) -> None:
    signing_secret = _secret(secrets.slack_signing_secret)
    holder: list[Deskhand] = []

    def load() -> Any:
        # The worker reads the recipe files again rather than reuse the master's set (a
        # restarted worker then runs what the files say now; a bad set keeps the last good).
        if recipes is not None:
            result = recipes.reload()
            level = logging.INFO if result.ok else logging.WARNING
            logging.getLogger(__name__).log(level, "recipes: %s", result.message)
        deskhand = build(
            config,
            bot_token=bot_token,
            signing_secret=signing_secret,
            previous_signing_secret=_secret(secrets.slack_signing_secret_previous),
            jira_token=_jira_token(config, secrets),
            jira_webhook_secrets=_webhook_secrets(secrets),
            recipes=recipes,
        )
        deskhand.start()
        holder.append(deskhand)
        return deskhand.web_app()

    def worker_exit(_server: Any, _worker: Any) -> None:
        for deskhand in holder:
            deskhand.stop()

    out.print(f"Deskhand is serving HTTP on {config.http.host}:{config.http.port}/slack/events")
    _Gunicorn(
        {
            "bind": f"{config.http.host}:{config.http.port}",
            "workers": 1,
            "worker_class": "gthread",
            "threads": 8,
            "worker_exit": worker_exit,
            "accesslog": None,
        },
        load,
    ).run()
