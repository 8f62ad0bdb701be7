"""Properties: evaluation never raises, whatever the text and facts; routing stays bounded."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone

from hypothesis import given, settings
from hypothesis import strategies as st

from deskhand.config import load_config, parse_config
from deskhand.domain import Priority, TicketStatus
from recipes.engine import evaluate, route
from recipes.events import RecipeEvent
from recipes.loader import load_configured_recipes, parse_recipes
from recipes.recipe_set import RecipeSet
from recipes.schema import Trigger
from tests.conftest import ROOT
from tests.recipes.conftest import CONFIG_YAML

EVERY_KIND = """\
recipes:
  - name: kitchen-sink
    trigger: [ticket.created, message.posted, ticket.comment_added, ticket.status_changed]
    conditions:
      any:
        - text: {keywords: [payroll, "pay slip", vpn], regex: '(a+)+$'}
        - text: {glob: "*reset*"}
        - fields: {system: [VPN, email], apps: x}
        - requester: {email_domain: example.com, group: staff}
        - requester: {user: U1}
        - all: [{priority: [high, urgent]}, {level: [1, 2]}, {label: vip}]
        - business_hours: {open: false}
        - business_hours: {team: HR}
      not: {status: closed}
    actions:
      - reply: "{{ requester_mention }} {{ text }} {{ fields.system | default('-') }} {{ team }}"
      - note: "{{ fields.apps }} {{ requester.email }} {{ labels | join(',') }}"
      - assign: {round_robin: true}
      - route: HR
  - name: bounce-back
    trigger: ticket.created
    conditions: {any: [{team: HR}], text: {regex: '(?i)laptop|\\bvpn\\b'}}
    actions: [{route: IT}, {set_priority: high}]
  - name: emoji
    trigger: reaction.added
    conditions: {emoji: [hr, it]}
    actions: [{route: Legal}, {post: {channel: legal-triage, text: "{{ emoji }} {{ text }}"}}]
"""

CONFIG = parse_config(CONFIG_YAML, "config.yaml")
SETS = [
    parse_recipes(EVERY_KIND, CONFIG),
    load_configured_recipes(load_config(ROOT / "config.yaml"), ROOT / "config.yaml"),
]

NAMES = st.text(max_size=12)
TERMS = st.sampled_from(
    ["payroll", "PAY", "slip", "pay-slip", "vpn", "VPN", "laptop", "reset", "aaaa", "İstanbul"]
)
TEXTS = st.one_of(st.text(), st.lists(st.one_of(TERMS, NAMES), max_size=8).map(" ".join))
ZONES = st.sampled_from([UTC, timezone(timedelta(hours=-11)), timezone(timedelta(hours=14))])
EVENTS = st.builds(
    RecipeEvent,
    trigger=st.sampled_from(list(Trigger)),
    at=st.datetimes(
        min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1), timezones=ZONES
    ),
    text=TEXTS,
    channel=st.one_of(st.none(), st.sampled_from(["help", "help-it", "legal-triage"]), NAMES),
    team=st.one_of(st.none(), st.sampled_from(["IT", "HR", "Facilities", "Legal"]), NAMES),
    service=st.one_of(st.none(), NAMES),
    priority=st.one_of(st.none(), st.sampled_from(list(Priority))),
    level=st.one_of(st.none(), st.integers(-5, 9)),
    status=st.one_of(st.none(), st.sampled_from(list(TicketStatus))),
    previous_status=st.one_of(st.none(), st.sampled_from(list(TicketStatus))),
    fields=st.dictionaries(
        st.sampled_from(["system", "apps", "other"]),
        st.one_of(
            st.sampled_from(["VPN", "email", "x", "X"]),
            st.text(max_size=10),
            st.lists(st.sampled_from(["x", "vpn", "Email"]), max_size=3).map(tuple),
        ),
    ),
    requester_id=st.one_of(st.none(), NAMES),
    requester_email=st.one_of(st.none(), st.emails(), NAMES),
    requester_groups=st.frozensets(NAMES, max_size=3),
    labels=st.frozensets(st.one_of(st.just("vip"), NAMES), max_size=3),
    emoji=st.one_of(st.none(), st.sampled_from(["hr", "it", "ticket"]), NAMES),
    ticket_key=st.one_of(st.none(), NAMES),
)


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_evaluation_never_raises(event: RecipeEvent) -> None:
    for recipes in SETS:
        result = evaluate(recipes, event)
        assert len(result.fired) <= len(recipes)
        fired = {firing.recipe for firing in result.fired}
        assert all(decision.recipe in fired for decision in result.actions)


UNINDEXED = [
    RecipeSet([replace(recipe, needs=None) for recipe in recipes], recipes.patterns, recipes.files)
    for recipes in SETS
]
"""The same sets with every recipe consulted for every event of its trigger."""


@settings(max_examples=150, deadline=None)
@given(EVENTS)
def test_the_index_never_leaves_out_a_recipe_that_would_fire(event: RecipeEvent) -> None:
    for indexed, everything in zip(SETS, UNINDEXED, strict=True):
        assert evaluate(indexed, event) == evaluate(everything, event)


@settings(max_examples=100, deadline=None)
@given(EVENTS, st.integers(1, 4))
def test_routing_never_raises_and_never_exceeds_its_hops(event: RecipeEvent, hops: int) -> None:
    for recipes in SETS:
        routing = route(recipes, event, max_hops=hops)
        assert routing.hops <= hops
        assert len(set(routing.teams)) == len(routing.teams)  # no team twice: no cycles
        assert (routing.outcome == "settled") == (routing.notice is None)
