"""The composition root: the one place that knows every part and plugs them together."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import Flask
from slack_bolt import App
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.app import build_app
from bot.cards import CardSync
from bot.dead_letters import plug_dead_letters
from bot.events_ingest import EventsIngest, events_fast_path
from bot.home import HomeView
from bot.http import EVENTS_PATH, flask_app
from bot.notices import SlackNotices
from bot.recipe_messages import RecipeMessages
from bot.replies import PublicReplies
from bot.slack_port import SlackChatPort
from bot.tracker_comments import TrackerComments
from deskhand.agents import AgentDirectory
from deskhand.card_actions import CardActions
from deskhand.config import Config
from deskhand.conversation import Conversation
from deskhand.emoji_recipes import EmojiRecipes
from deskhand.events import (
    CardAction,
    HomeOpened,
    JiraCommentSeen,
    JiraIssueSeen,
    ReactionAdded,
    ReplyToRequester,
    ThreadReply,
    ThreadReplyChanged,
)
from deskhand.home import HomeRequests
from deskhand.inbox import Inbox, InboxWorker
from deskhand.intake import ReactionIntake
from deskhand.jira_link import JiraIssues
from deskhand.notices import Notices
from deskhand.outbox import OutboxExecutor, OutboxRelay
from deskhand.pruning import InboxPruner, ReplicaPruner
from deskhand.recipe_runner import RecipeRunner
from deskhand.sweep import ThreadSweep
from deskhand.teams import sync_teams
from deskhand.tickets.service import TicketService
from deskhand.tracker_inbound import TrackerInbound
from deskhand.tracker_sync import TrackerSync
from deskhand.wiring_requests import plug_requests
from deskhand.workers import Loop
from jira_sync.jira_port import connect as connect_jira
from jira_sync.markup import jira_to_slack, slack_to_jira
from jira_sync.poller import JiraPoller
from jira_sync.webhook import register_jira_webhook
from recipes.book import RecipeBook
from recipes.reloads import POLL_SECONDS as RECIPE_RELOAD_POLL
from recipes.reloads import ReloadWatcher
from storage.claims import release_all_claims
from storage.engine import is_sqlite, make_engine
from storage.migrate import upgrade
from storage.models import InboxRow, OutboxRow
from storage.types import utcnow

log = logging.getLogger(__name__)

INBOX_BATCH = 50
"""Deliveries the inbox worker claims at once."""
INBOX_GATHER = 0.02
"""Seconds the inbox worker lets deliveries gather after a partial batch: a ticket is late by
at most this, and a burst is handled 10 to 50 at a time instead of one by one."""


SLACK_TIMEOUT = 10
SOCKET_PING_INTERVAL = 10.0
"""Seconds between pings on the Socket Mode connection; slack_sdk's client counts a
connection as dead after four intervals without a pong and reconnects. Events Slack could
not deliver meanwhile come again with its retries (after about 1 and 5 minutes)."""


@dataclass
class Deskhand:
    """A running Deskhand: its database, services, workers and Slack app."""

    config: Config
    app: App
    inbox: Inbox
    tickets: TicketService
    relay: OutboxRelay
    loops: list[Loop]
    socket_mode: SocketModeHandler | None = None
    events_ingest: EventsIngest | None = None
    """Over HTTP, the fast path that stores event deliveries before Bolt would see them."""
    jira_webhook_secrets: list[str] = field(default_factory=list)
    poller: JiraPoller | None = None
    started: bool = field(default=False)

    def web_app(self) -> Flask:
        """The HTTP side: Slack's ``/slack/events`` and, when Deskhand syncs with Jira,
        Jira's ``/jira/webhook``."""
        web = flask_app(self.app, self.events_ingest)
        if self.config.jira is not None:
            register_jira_webhook(web, self.inbox, self.wake, self.jira_webhook_secrets)
        return web

    def start(self) -> None:
        for loop in self.loops:
            loop.start()
        self.started = True

    def connect_socket_mode(
        self,
        app_token: str,
        *,
        give_up: threading.Event | None = None,
        ping_interval: float = SOCKET_PING_INTERVAL,
    ) -> None:
        """Open the Socket Mode connection. apps.connections.open allows about one call a
        minute (Slack's tier 1): when Slack says wait, wait as long as it says (unless
        ``give_up`` is set meanwhile) and try again."""
        self.socket_mode = SocketModeHandler(
            self.app, app_token=app_token, ping_interval=ping_interval
        )
        while True:
            try:
                self.socket_mode.connect()  # type: ignore[no-untyped-call]
                return
            except SlackApiError as exc:
                if exc.response.status_code != 429:
                    raise
                wait = float(exc.response.headers.get("Retry-After", "1"))
                log.warning("Slack asks to wait %.0f s before connecting again", wait)
                if give_up is not None and give_up.wait(wait):
                    return
                if give_up is None:
                    time.sleep(wait)

    def stop(self) -> None:
        if self.socket_mode is not None:
            self.socket_mode.close()  # type: ignore[no-untyped-call]
        for loop in self.loops:
            loop.stop()

    def wake(self) -> None:
        """Something new was stored: let the inbox and outbox loops look now. The sweep and
        the poller keep their own intervals (a webhook must not set off a poll)."""
        for loop in self.loops:
            if loop.name in ("inbox", "outbox"):
                loop.wake.set()

    def wait_idle(self, timeout: float = 10.0) -> bool:
        """True once no stored delivery or side effect is waiting (checked twice in a row, so
        work that one step creates for the other is seen)."""
        deadline = time.monotonic() + timeout
        quiet = 0
        while time.monotonic() < deadline:
            self.wake()
            busy = self.inbox.pending() + self.relay.pending()
            quiet = quiet + 1 if busy == 0 else 0
            if quiet >= 2:
                return True
            time.sleep(0.02)
        return False


def build(
    config: Config,
    *,
    bot_token: str,
    signing_secret: str | None,
    previous_signing_secret: str | None = None,
    database_url: str | None = None,
    slack_timeout: int = SLACK_TIMEOUT,
    sweep_interval: float = 60.0,
    jira_token: str | None = None,
    jira_webhook_secrets: Sequence[str] = (),
    jira_poll_interval: float | None = None,
    recipes: RecipeBook | None = None,
    recipe_clock: Callable[[], datetime] = utcnow,
) -> Deskhand:
    """Everything wired for ``config``.

    - ``slack_timeout``: how long a Web API call may take before it counts as an unknown
      outcome.
    - ``jira_token``: without it there is no Jira sync, even with a ``jira`` section.
    - ``jira_webhook_secrets``: the secrets ``/jira/webhook`` accepts (two while rotating);
      none refuses every delivery.
    - ``recipes``: the routing recipes in force (a reload of the book takes effect at the
      next ticket); None routes nothing.
    - ``recipe_clock``: the time recipes see (business hours); the demo passes its own.
    - ``jira_poll_interval``: seconds between polls of Jira; by default the configuration's
      ``poll_interval_seconds``; 0 turns the poller off (webhooks alone).
    """
    url = database_url or config.database.url
    upgrade(url)
    engine = make_engine(url)
    sync_teams(engine, config)
    if is_sqlite(engine):
        # One process owns a SQLite database: claims left in it died with the last run.
        for model in (InboxRow, OutboxRow):
            release_all_claims(engine, model)
    owner = f"{socket.gethostname()}:{os.getpid()}"

    client = WebClient(
        token=bot_token,
        base_url=config.slack.api_url,
        timeout=slack_timeout,
        retry_handlers=[],
    )
    chat = SlackChatPort(client)
    agents = AgentDirectory(chat, config)
    runner = (
        RecipeRunner(lambda: recipes.current, agents_of=agents.agents, now=recipe_clock)
        if recipes is not None
        else None
    )
    tickets = TicketService(engine, recipes=runner)
    inbox = Inbox(engine)

    emoji_recipes = EmojiRecipes(engine, tickets, runner) if runner is not None else None
    intake = ReactionIntake(config, chat, agents, tickets, emoji_recipes=emoji_recipes)
    card_actions = CardActions(config, agents, tickets, Notices(engine))
    conversation = Conversation(engine, config, agents, Notices(engine), tickets=tickets)
    worker = InboxWorker(
        engine,
        {
            ReactionAdded.KIND: intake.handle,
            CardAction.KIND: card_actions.handle,
            ThreadReply.KIND: conversation.handle,
            ThreadReplyChanged.KIND: conversation.changed,
            ReplyToRequester.KIND: conversation.reply_to_requester,
            HomeOpened.KIND: HomeRequests(engine).handle,
        },
        owner=owner,
    )
    cards = CardSync(chat, tickets, config, agents)
    tracker_comments = TrackerComments(chat, engine, config, from_tracker_text=jira_to_slack)

    def to_jira(text: str) -> str:
        """Slack mrkdwn as Jira wiki markup, with people and channels by name."""

        def user_name(user: str) -> str | None:
            person = chat.person(user)
            return person.name if person is not None else None

        def channel_name(channel: str) -> str | None:
            info = chat.channel(channel)
            return info.name if info is not None else None

        return slack_to_jira(text, user_name=user_name, channel_name=channel_name)

    notices = SlackNotices(chat, tickets, config)
    poller: JiraPoller | None = None
    poll_interval = 0.0
    executors: dict[str, OutboxExecutor] = {
        "post_tracker_comment": tracker_comments.post,
        "update_tracker_comment": tracker_comments.update,
    }
    if config.jira is not None and jira_token is not None:
        tracker = connect_jira(
            config.jira.url,
            config.jira.flavour.value,
            config.jira.account,
            jira_token,
            config.jira.timeout_seconds,
        )
        issues = JiraIssues(engine, config, tracker, chat, tickets, to_tracker_text=to_jira)
        outbound = TrackerSync(engine, config, tracker, chat, to_tracker_text=to_jira)
        executors.update(
            {
                "create_jira_issue": issues.create_issue,
                "jira_remote_link": issues.remote_link,
                "jira_add_comment": outbound.add_comment,
                "jira_update_comment": outbound.update_comment,
                "jira_push_field": outbound.push_field,
            }
        )
        interval = (
            config.jira.poll_interval_seconds if jira_poll_interval is None else jira_poll_interval
        )
        if interval > 0:
            projects = sorted({t.jira.project for t in config.teams if t.jira is not None})
            if projects:
                poller = JiraPoller(
                    tracker.client,
                    inbox,
                    engine,
                    projects,
                    flavour=config.jira.flavour.value,
                    first_lookback=timedelta(seconds=interval) * 2,
                )
                poll_interval = interval
        inbound = TrackerInbound(engine, config, tickets, tracker, chat)
        worker.handlers[JiraIssueSeen.KIND] = inbound.issue_seen
        worker.handlers[JiraCommentSeen.KIND] = inbound.comment_seen
    relay = OutboxRelay(
        engine,
        {
            "sync_ticket_card": cards.ticket_card,
            "sync_triage_card": cards.triage_card,
            "retire_triage_card": notices.retire_triage_card,
            "notify_requester": notices.notify_requester,
            "ephemeral": notices.ephemeral,
            "publish_home": HomeView(chat, engine, config, agents).publish,
            "post_public_reply": PublicReplies(chat, tickets, engine).post,
            "recipe_message": RecipeMessages(chat, tickets, agents).post,
            **executors,
        },
        owner=owner,
    )
    outbox_loop = Loop("outbox", relay.run_once)

    def inbox_step() -> int:
        handled = worker.run_once(limit=INBOX_BATCH)
        if handled:
            outbox_loop.wake.set()  # what the handlers changed has side effects to carry out
        return handled

    # Under a burst of events the worker would otherwise claim each delivery alone, and its
    # claim and completion (two writes) cost more than the handling: gather for a moment.
    inbox_loop = Loop("inbox", inbox_step, gather=INBOX_GATHER, batch=INBOX_BATCH)

    sweep = ThreadSweep(
        engine, chat, inbox, reopen_days=config.slack.reopen_days, interval=sweep_interval
    )

    def sweep_step() -> int:
        if sweep.run_when_due():
            inbox_loop.wake.set()  # the replies it found wait in the inbox
        return 0  # a Loop repeats a step that did work at once: the sweep waits its interval

    sweep_loop = Loop("sweep", sweep_step, interval=sweep.interval)
    pruner = InboxPruner(engine)
    replica_pruner = ReplicaPruner(engine)

    def prune_step() -> int:
        pruner.run_once()
        replica_pruner.run_once()
        return 0  # whatever it deleted, the next run is an interval away

    prune_loop = Loop("prune", prune_step, interval=pruner.interval)
    loops = [inbox_loop, outbox_loop, sweep_loop, prune_loop]
    if poller is not None:
        jira_poller = poller

        def poll_step() -> int:
            if jira_poller.run_once():
                inbox_loop.wake.set()
            return 0  # like the sweep: wait the interval, whatever was found

        loops.append(Loop("jira-poll", poll_step, interval=poll_interval))
    if recipes is not None:  # `deskhand recipes reload` reaches every replica this way
        watcher = ReloadWatcher(engine, recipes, owner)
        loops.append(Loop("recipe-reload", watcher.step, interval=RECIPE_RELOAD_POLL))

    def wake() -> None:
        """A delivery was stored: the inbox worker looks now (and wakes the relay itself
        once what it handled left side effects; waking the relay for every event would have
        it look for work at every ack)."""
        inbox_loop.wake.set()

    app = build_app(
        client=client,
        inbox=inbox,
        wake=wake,
        signing_secret=signing_secret,
        previous_signing_secret=previous_signing_secret,
    )
    plug_requests(
        config,
        app=app,
        inbox=inbox,
        wake=wake,
        worker=worker,
        relay=relay,
        chat=chat,
        tickets=tickets,
    )
    plug_dead_letters(
        config,
        app=app,
        inbox=inbox,
        wake=wake,
        worker=worker,
        relay=relay,
        chat=chat,
        tickets=tickets,
        agents=agents,
    )
    return Deskhand(
        config=config,
        app=app,
        inbox=inbox,
        tickets=tickets,
        relay=relay,
        loops=loops,
        jira_webhook_secrets=[s for s in jira_webhook_secrets if s],
        poller=poller,
        events_ingest=events_fast_path(
            client=client,
            inbox=inbox,
            wake=wake,
            signing_secret=signing_secret,
            previous_signing_secret=previous_signing_secret,
            path=EVENTS_PATH,
        ),
    )
