"""`planforge notify` end to end: real git repositories with dated commits, webhooks served by a
local HTTP server on loopback that records every request and answers as scripted.

The payloads are checked against the structures Slack and Microsoft Teams document:

Slack incoming webhook (Block Kit):
- a JSON object with ``text`` (the notification's fallback, non-empty) and ``blocks``, a list of
  at most 50 blocks, each of a known type (header, section, context, divider, actions);
- header: ``text`` is a ``plain_text`` object of at most 150 characters;
- section: ``text`` (a text object of at most 3000 characters) and/or ``fields`` (at most 10
  text objects of at most 2000 characters each);
- context: ``elements`` of at most 10 text objects;
- a text object is ``{"type": "plain_text" | "mrkdwn", "text": str}``; mrkdwn text has no bare
  ``<`` or ``>`` (Slack reads them as links and mentions) other than a ``<url|text>`` link.

Teams Workflows webhook (Adaptive Card, "When a Teams webhook request is received"):
- ``{"type": "message", "attachments": [one attachment]}``, the attachment with ``contentType``
  ``application/vnd.microsoft.card.adaptive`` and the card as ``content``;
- the card: ``type`` AdaptiveCard, ``$schema`` the adaptive-card.json URL, ``version`` at most
  1.5 (what Teams renders), a ``body`` of known element types (TextBlock with ``text``;
  FactSet with ``facts`` of ``title``/``value`` strings), and ``actions`` of Action.OpenUrl with
  ``title`` and ``url``.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from planforge.ledger import read_ledger

from .conftest import RunCli
from .gitplans import Repo, isolate_git, milestone, plan, update

WEEK = "2020-W10"  # Monday 2 March to Sunday 8 March 2020

SLACK_BLOCKS = {"header", "section", "context", "divider", "actions"}
TEAMS_ELEMENTS = {"TextBlock", "FactSet"}


# --- the structural rules ----------------------------------------------------------------------


def check_text_object(obj: Any, limit: int) -> str:
    assert obj["type"] in ("plain_text", "mrkdwn"), obj
    text = obj["text"]
    assert isinstance(text, str) and 0 < len(text) <= limit, text
    if obj["type"] == "mrkdwn":
        bare = re.sub(r"<https?://[^|>\s]+\|[^<>]+>", "", text)
        assert "<" not in bare and ">" not in bare, text
    return text


def check_slack(payload: Any) -> str:
    """Block Kit as an incoming webhook takes it; the visible text, joined."""
    assert set(payload) == {"text", "blocks"}
    assert isinstance(payload["text"], str) and payload["text"].strip()
    blocks = payload["blocks"]
    assert isinstance(blocks, list) and 0 < len(blocks) <= 50
    shown = []
    for block in blocks:
        kind = block["type"]
        assert kind in SLACK_BLOCKS, kind
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            shown.append(check_text_object(block["text"], 150))
        elif kind == "section":
            assert "text" in block or "fields" in block
            if "text" in block:
                shown.append(check_text_object(block["text"], 3000))
            fields = block.get("fields", [])
            assert len(fields) <= 10
            shown += [check_text_object(f, 2000) for f in fields]
        elif kind == "context":
            assert 0 < len(block["elements"]) <= 10
            shown += [check_text_object(e, 3000) for e in block["elements"]]
    return "\n".join(shown)


def check_teams(payload: Any) -> str:
    """An Adaptive Card in the message envelope a Teams Workflows webhook takes."""
    assert payload["type"] == "message"
    (attachment,) = payload["attachments"]
    assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
    card = attachment["content"]
    assert card["type"] == "AdaptiveCard"
    assert card["$schema"] == "http://adaptivecards.io/schemas/adaptive-card.json"
    assert tuple(int(n) for n in card["version"].split(".")) <= (1, 5)
    shown = []
    for element in card["body"]:
        assert element["type"] in TEAMS_ELEMENTS, element["type"]
        if element["type"] == "TextBlock":
            assert isinstance(element["text"], str) and element["text"]
            shown.append(element["text"])
        else:
            for fact in element["facts"]:
                assert set(fact) == {"title", "value"}
                shown.append(f"{fact['title']}: {fact['value']}")
    for action in card.get("actions", []):
        assert action["type"] == "Action.OpenUrl" and action["title"]
        assert action["url"].startswith("https://")
        shown.append(action["url"])
    return "\n".join(shown)


# --- the webhook server ------------------------------------------------------------------------


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    payload: Any
    at: float


@dataclass
class Webhooks:
    """Records every POST; answers each path from its script, then 200."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    script: dict[str, list[tuple[int, dict[str, str], bytes]]] = field(default_factory=dict)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def posts(self, path: str) -> list[Any]:
        return [r.payload for r in self.requests if r.path == path]


@contextmanager
def webhooks() -> Iterator[Webhooks]:
    hooks = Webhooks()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            hooks.requests.append(Request(self.path, dict(self.headers), json.loads(body),
                                          time.monotonic()))
            queue = hooks.script.get(self.path) or []
            status, headers, answer = queue.pop(0) if queue else (200, {}, b"ok")
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    hooks.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield hooks
    finally:
        server.shutdown()
        server.server_close()


# --- the scenarios -----------------------------------------------------------------------------

WORKSPACE = """\
timezone: Europe/Berlin
publish:
  url: https://plans.example.com/output/
chat:
  channels:
    sales:
      service: slack
      webhook_env: TEST_SLACK_SALES
      teams: [sales]
    demo-room:
      service: teams
      webhook_env: TEST_TEAMS_DEMO
      projects: [demo]
"""


@pytest.fixture
def repo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Repo]:
    home = isolate_git(monkeypatch, tmp_path)
    with webhooks() as hooks:
        monkeypatch.setenv("TEST_SLACK_SALES", hooks.url("/slack"))
        monkeypatch.setenv("TEST_TEAMS_DEMO", hooks.url("/teams"))
        repo = Repo.create(tmp_path / "plans", home)
        repo.hooks = hooks  # type: ignore[attr-defined]
        yield repo


def hooks_of(repo: Repo) -> Webhooks:
    hooks: Webhooks = repo.hooks  # type: ignore[attr-defined]
    return hooks


def kickoff(repo: Repo, locale: str | None = None) -> dict[str, Any]:
    repo.write("planforge.yaml", WORKSPACE)
    data = plan()
    if locale:
        data["locale"] = locale
    repo.write_project("demo", data)
    repo.commit("Kickoff", "2020-02-24T09:00:00+01:00")
    return data


def with_update(repo: Repo, summary: str = "On track.") -> None:
    data = update(WEEK, "amber", summary)
    data["sales_asks"] = [{"ask": "Confirm the <pilot> users & dates", "owner": "ae"}]
    repo.write_update("demo", data)
    repo.commit("The week's update", "2020-03-06T11:00:00+01:00")


def notify(run_cli: RunCli, repo: Repo, *extra: str, code: int = 0) -> str:
    result = run_cli("notify", "--week", WEEK, *extra, cwd=repo.ws)
    assert result.exit_code == code, result.output
    return result.output


pytestmark = pytest.mark.slow  # real git repositories and commits


def test_held_until_the_update_then_posted_once_with_a_429_honoured(
    repo: Repo, run_cli: RunCli
) -> None:
    hooks = hooks_of(repo)
    kickoff(repo)
    repo.commit("Monday merge: no update yet", "2020-03-02T10:00:00+01:00")
    out = notify(run_cli, repo)
    assert f"held demo: no update for {WEEK} yet" in out
    assert hooks.requests == []

    with_update(repo)
    hooks.script["/slack"] = [(429, {"Retry-After": "1"}, b"rate_limited")]
    out = notify(run_cli, repo)
    assert "posted slack:sales demo" in out and "posted teams:demo-room demo" in out
    assert "posted 2, skipped 0 (already posted), failed 0" in out
    slack = [r for r in hooks.requests if r.path == "/slack"]
    assert len(slack) == 2  # the 429, then the same post again
    assert slack[1].at - slack[0].at >= 1.0  # after the Retry-After
    assert slack[0].payload == slack[1].payload
    assert slack[0].headers["Content-Type"] == "application/json; charset=utf-8"

    text = check_slack(slack[1].payload)
    assert "Demo rollout" in text and "Amber" in text
    assert "Confirm the &lt;pilot&gt; users &amp; dates" in text  # escaped for mrkdwn
    assert "<https://plans.example.com/output/demo/briefs/2020-W10.pdf|Open the brief (PDF)>" \
        in text
    card = check_teams(hooks.posts("/teams")[0])
    assert "Reported health: 🟠 Amber" in card
    assert "Confirm the <pilot> users & dates" in card
    assert "https://plans.example.com/output/demo/briefs/2020-W10.pdf" in card

    # A rerun posts nothing: the ledger has both, beside the email's entries.
    again = notify(run_cli, repo)
    assert "posted 0, skipped 2 (already posted)" in again
    assert len(hooks.requests) == 3
    entries = read_ledger(repo.ws / ".planforge/sent.jsonl")
    assert sorted((e.channel, e.week, e.address) for e in entries) == [
        ("slack:sales", WEEK, "demo"), ("teams:demo-room", WEEK, "demo")]


def test_a_400_fails_that_channel_only(repo: Repo, run_cli: RunCli) -> None:
    hooks = hooks_of(repo)
    kickoff(repo)
    with_update(repo)
    hooks.script["/slack"] = [(400, {}, b"invalid_blocks")]
    out = notify(run_cli, repo, code=1)
    assert "posted teams:demo-room demo" in out
    assert "failed: slack:sales demo: 127.0.0.1 refused the post: 400 invalid_blocks" in out
    assert "failed 1 (slack:sales)" in out
    assert len(hooks.posts("/slack")) == 1  # a 400 is not retried
    channels = [e.channel for e in read_ledger(repo.ws / ".planforge/sent.jsonl")]
    assert channels == ["teams:demo-room"]
    # Fixed: the next run posts only what is missing.
    out = notify(run_cli, repo)
    assert "posted slack:sales demo" in out and "posted 1, skipped 1" in out


def test_an_edited_brief_is_posted_again_as_updated(repo: Repo, run_cli: RunCli) -> None:
    hooks = hooks_of(repo)
    data = kickoff(repo)
    with_update(repo)
    notify(run_cli, repo, "--channel", "sales")
    milestone(data, "m-golive").update(forecast="2020-12-08", reason="Data rerun.")
    repo.write_project("demo", data)
    repo.commit("Go-live a week later", "2020-03-06T12:00:00+01:00")
    out = notify(run_cli, repo, "--channel", "sales")
    assert "posted slack:sales demo (updated)" in out
    first, second = hooks.posts("/slack")
    assert "Updated since the last post: dates." in check_slack(second)
    assert "Updated" not in check_slack(first)


def test_a_chinese_project_posts_in_chinese_and_dry_run_writes_payloads(
    repo: Repo, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    hooks = hooks_of(repo)
    kickoff(repo, locale="zh-CN")
    with_update(repo)
    monkeypatch.delenv("TEST_SLACK_SALES")  # a dry run needs no webhook
    out = notify(run_cli, repo, "--dry-run", "--outbox", str(repo.path / "box"))
    assert "wrote 2 payloads" in out and hooks.requests == []
    box = repo.path / "box" / WEEK
    slack = json.loads((box / "slack-sales" / "demo.json").read_text("utf-8"))
    teams = json.loads((box / "teams-demo-room" / "demo.json").read_text("utf-8"))
    assert "团队报告的健康状况" in check_slack(slack)
    assert "需要销售协助" in check_teams(teams)
    assert not (repo.ws / ".planforge/sent.jsonl").exists()

    # Without the webhook, the channel fails and says which variable to set.
    out = notify(run_cli, repo, code=1)
    assert "the environment variable TEST_SLACK_SALES is not set" in out
    assert "posted teams:demo-room demo" in out


def test_a_webhook_url_in_planforge_yaml_is_refused(repo: Repo, run_cli: RunCli) -> None:
    kickoff(repo)
    repo.write("planforge.yaml", WORKSPACE.replace(
        "TEST_SLACK_SALES", "https://hooks.slack.com/services/T0/B0/XXXX"))
    result = run_cli("validate", cwd=repo.ws)
    assert result.exit_code == 1
    assert "chat.channels.sales.webhook_env" in result.output
    assert "the URL is a secret and is never written in planforge.yaml" in result.output
