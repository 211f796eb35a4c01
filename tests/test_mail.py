"""planforge send: recipients, the message, delivery over a real SMTP server on loopback, the
ledger that makes delivery exactly-once, and the dry run."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import re
import socket
from collections.abc import Callable, Sequence
from datetime import date
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Any

import pytest
import yaml
from pypdf import PdfReader, PdfWriter

from planforge import mail
from planforge.errors import MailError, UsageError
from planforge.facts import compute_facts
from planforge.ledger import Ledger, LedgerEntry, read_ledger
from planforge.mail import OutgoingMessage, SendAborted, plan_messages, send_messages
from planforge.model import EmailSettings, Project, Settings, SmtpSettings
from planforge.validate import load_project
from planforge.workspace import Workspace, find_workspace

from .conftest import AS_OF, REPO, WEEK, RunCli
from .mail_server import DROP, Handler, Server, authenticator, make_tls, smtp_server

pytestmark = pytest.mark.slow  # real SMTP servers on loopback, TLS certificates, retries

SENDER = "Northwind PMO <pmo@example.com>"


def tiny_pdf(title: str = "Weekly brief") -> bytes:
    """A real one-page PDF, standing in for the renderer."""
    writer = PdfWriter()
    writer.add_blank_page(width=200, height=200)
    writer.add_metadata({"/Title": title})
    out = BytesIO()
    writer.write(out)
    return out.getvalue()


PDF = tiny_pdf()


def pdf_title(data: bytes) -> str | None:
    metadata = PdfReader(BytesIO(data)).metadata
    assert metadata is not None
    return metadata.title


def fake_render(address: str, projects: Sequence[Project]) -> bytes:
    return tiny_pdf(" + ".join(p.id for p in projects))


def workspace(root: Path, server: Server | None = None, *, security: str = "none",
              username: str | None = None, **email_settings: Any) -> Workspace:
    """A workspace whose email settings point at the test server."""
    smtp = (SmtpSettings("127.0.0.1", server.port, security, username, 5.0)
            if server is not None else None)
    settings = Settings(email=EmailSettings(
        smtp=smtp, sender=SENDER, reply_to="pmo-replies@example.com", **email_settings))
    return Workspace(root, settings)


def outgoing(address: str, name: str | None = None, subject: str = "Acme CRM — weekly brief",
             week: str = WEEK) -> OutgoingMessage:
    """A message as plan_messages makes it, without loading any project."""
    return OutgoingMessage(
        week=week, address=address, name=name, kind="brief", project_ids=("acme-crm",),
        locale="en", subject=subject, filename=f"Acme-acme-crm-{week}.pdf",
        text="Health: reported green\n", html="<p>Health: reported green</p>", pdf=lambda: PDF,
    )


def no_sleep() -> tuple[list[float], Callable[[float], None]]:
    waits: list[float] = []
    return waits, waits.append


def write_project(root: Path, pid: str, *, name: str, customer: str, people: dict[str, Any],
                  locale: str | None = None, status: str = "active",
                  asks: list[dict[str, Any]] | None = None, update_week: str = WEEK) -> None:
    """A small valid project with a customer-facing milestone and this week's update."""
    folder = root / "projects" / pid
    (folder / "updates").mkdir(parents=True)
    plan: dict[str, Any] = {
        "name": name, "customer": customer, "status": status,
        "start": "2026-09-01", "end": "2027-03-31",
        "people": {"pm": {"name": "Pat Lee", "role": "Project manager", "team": "delivery",
                          "email": "pat.lee@example.com"}, **people},
        "goals": [{"id": "g1", "title": "Sites live", "metric": "sites", "baseline": 0,
                   "target": 3, "due": "2027-03-31", "owner": "pm"}],
        "phases": [{"id": "p1", "name": "Build", "start": "2026-09-01", "end": "2027-03-31",
                    "milestones": [{"id": "m1", "name": "Pilot demo", "due": "2026-12-04",
                                    "customer_facing": True}]}],
    }
    if locale:
        plan["locale"] = locale
    (folder / "project.yaml").write_text(yaml.safe_dump(plan, allow_unicode=True), "utf-8")
    update = {"week": update_week, "health": "green", "summary": "Pilot on track.",
              "sales_asks": asks or []}
    (folder / "updates" / f"{update_week}.yaml").write_text(
        yaml.safe_dump(update, allow_unicode=True), "utf-8")


def parsed(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(msg, EmailMessage)
    return msg


def bodies(msg: EmailMessage) -> tuple[str, str]:
    text = msg.get_body(("plain",))
    html = msg.get_body(("html",))
    assert isinstance(text, EmailMessage) and isinstance(html, EmailMessage)
    return text.get_content(), html.get_content()


def attachment(msg: EmailMessage) -> EmailMessage:
    (part,) = list(msg.iter_attachments())
    assert isinstance(part, EmailMessage)
    return part


@pytest.fixture
def example_ws(examples: Path) -> Workspace:
    return find_workspace(examples)


# ---------------------------------------------------------------------------------------------
# Recipients
# ---------------------------------------------------------------------------------------------


def active_ids(ws: Workspace) -> tuple[str, ...]:
    return tuple(p.id for p in (load_project(ws, pid, AS_OF)[0] for pid in ws.project_ids())
                 if p.status == "active")


def test_a_person_on_two_projects_gets_one_portfolio(example_ws: Workspace) -> None:
    plan = plan_messages(example_ws, WEEK, AS_OF, render=fake_render)
    by_address = {m.address: m for m in plan.messages}
    # Jonas reads the briefs of acme-crm and globex-portal, under two ids but one address.
    jonas = by_address["jonas.weber@example.com"]
    assert (jonas.kind, jonas.project_ids, jonas.name) == (
        "portfolio", ("acme-crm", "globex-portal"), "Jonas Weber")
    assert jonas.subject == "Your projects — weekly brief 2026-W47"
    assert jonas.filename == "weekly-briefs-2026-W47.pdf"
    assert pdf_title(jonas.pdf()) == "acme-crm + globex-portal"
    # Priya has brief: false; the people of the finished project get nothing.
    assert "priya.nair@example.com" not in by_address
    assert "elena.moreau@example.com" not in by_address
    # A Chinese project's brief has a Chinese subject by default.
    zhao = by_address["zhao.min@example.cn"]
    assert zhao.subject == "星河科技华东区下半年市场推广项目 — 每周简报 2026-W47"
    assert zhao.locale == "zh-CN"


def test_to_replaces_the_recipients(example_ws: Workspace) -> None:
    def to(*tokens: str) -> list[tuple[str, tuple[str, ...]]]:
        plan = plan_messages(example_ws, WEEK, AS_OF, to=tokens, render=fake_render)
        return [(m.address, m.project_ids) for m in plan.messages]

    # A person named explicitly gets the brief even with brief: false.
    assert to("priya-nair") == [("priya.nair@example.com", ("acme-crm",))]
    assert to("acme-crm:priya-nair") == to("PRIYA.NAIR@example.com")
    # An address in no project (a list of sales leads) gets every active project.
    everything = active_ids(example_ws)
    assert len(everything) > 2
    assert to("sales-leads") == [
        ("sales.director@example.com", everything),
        ("sales.operations@example.com", everything),
    ]
    # The same address twice is one message.
    assert to("jonas-weber", "jweber", "jonas.weber@example.com") == [
        ("jonas.weber@example.com", ("acme-crm", "globex-portal")),
    ]


def test_to_explains_what_it_cannot_resolve(example_ws: Workspace) -> None:
    with pytest.raises(UsageError, match=r"--to nobody: not an address, a list .*sales-leads"):
        plan_messages(example_ws, WEEK, AS_OF, to=["nobody"], render=fake_render)
    with pytest.raises(UsageError, match="'northwind-pipeline-revamp' is not an active project"):
        plan_messages(example_ws, WEEK, AS_OF, to=["northwind-pipeline-revamp:elena-moreau"],
                      render=fake_render)


def test_ambiguous_person_id_asks_for_project_prefix(tmp_path: Path) -> None:
    for pid, address in (("alpha", "sam.one@example.com"), ("beta", "sam.two@example.com")):
        write_project(tmp_path, pid, name=pid.title(), customer="Acme", people={
            "sam": {"name": "Sam", "role": "AE", "team": "sales", "email": address}})
    ws = workspace(tmp_path)
    with pytest.raises(UsageError, match="write one of alpha:sam, beta:sam"):
        plan_messages(ws, WEEK, AS_OF, to=["sam"], render=fake_render)
    plan = plan_messages(ws, WEEK, AS_OF, to=["beta:sam"], render=fake_render)
    assert [m.address for m in plan.messages] == ["sam.two@example.com"]


def test_brief_reader_without_address_is_noted(tmp_path: Path) -> None:
    write_project(tmp_path, "alpha", name="Alpha", customer="Acme", people={
        "sam": {"name": "Sam", "role": "AE", "team": "sales"}})
    plan = plan_messages(workspace(tmp_path), WEEK, AS_OF, render=fake_render)
    assert plan.messages == ()
    # Before it, the note that a past week outside git is read from the working tree.
    assert plan.notes[-1:] == ("alpha:sam (Sam) receives the brief but has no email address",)


# ---------------------------------------------------------------------------------------------
# The message
# ---------------------------------------------------------------------------------------------


def test_plain_smtp_delivers_the_brief(example_ws: Workspace) -> None:
    with smtp_server() as server:
        ws = dataclasses.replace(example_ws, settings=workspace(example_ws.root, server).settings)
        plan = plan_messages(ws, WEEK, AS_OF, to=["jonas-weber", "priya-nair"],
                             render=fake_render)
        report = send_messages(ws, plan.messages, sleep=no_sleep()[1])
    assert [o.address for o in report.sent] == ["jonas.weber@example.com",
                                                "priya.nair@example.com"]
    assert not report.failed and not report.skipped
    by_rcpt = {r.rcpt_tos[0]: r for r in server.handler.received}
    assert sorted(by_rcpt) == ["jonas.weber@example.com", "priya.nair@example.com"]
    received = by_rcpt["priya.nair@example.com"]
    assert received.rcpt_tos == ["priya.nair@example.com"]
    assert received.mail_from == "pmo@example.com"
    msg = received.message
    assert msg["Subject"] == "Acme CRM rollout — weekly brief 2026-W47"
    assert msg["From"] == SENDER
    assert msg["To"] == "Priya Nair <priya.nair@example.com>"
    assert msg["Reply-To"] == "pmo-replies@example.com"
    assert msg["Message-ID"].endswith("@example.com>")
    assert msg["Message-ID"] == report.sent[1].detail
    assert msg["Date"].datetime is not None
    text, html = bodies(msg)
    for body in (text, html):
        assert "Acme Manufacturing GmbH" in body
        assert "Sprint 3 (service cases)" in body  # the summary of the W47 update
        assert "Remind the two regional sales managers" in body  # a sales ask
        assert "Jonas Weber" in body  # who the ask is for
    assert "Health: reported amber, computed" in text
    assert "Next customer-facing date:" in text
    assert "<li>Confirm attendance of Dr. Brandt" in html
    part = attachment(msg)
    assert part.get_content_type() == "application/pdf"
    assert part.get_filename() == "Acme-Manufacturing-GmbH-acme-crm-2026-W47.pdf"
    assert pdf_title(part.get_content()) == "acme-crm"
    # The portfolio went to Jonas, in one email.
    assert attachment(by_rcpt["jonas.weber@example.com"].message).get_filename() == \
        "weekly-briefs-2026-W47.pdf"
    assert [(e.address, e.kind, e.projects) for e in read_ledger(mail.ledger_path(ws))] == [
        ("jonas.weber@example.com", "portfolio", ("acme-crm", "globex-portal")),
        ("priya.nair@example.com", "brief", ("acme-crm",)),
    ]


def test_line_breaks_in_names_cannot_inject_headers(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme\r\nBcc: evil@example.com",
                  customer="Acme\nX-Injected: yes", people={
                      "eve": {"name": "Eve\r\nBcc: evil@example.com", "role": "AE",
                              "team": "sales", "email": "eve@example.com"}})
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        plan = plan_messages(ws, WEEK, AS_OF, render=fake_render)
        report = send_messages(ws, plan.messages)
    assert len(report.sent) == 1
    (received,) = server.handler.received
    assert received.rcpt_tos == ["eve@example.com"]
    msg = received.message
    assert msg["Bcc"] is None and msg["X-Injected"] is None
    assert msg["Subject"] == "Acme Bcc: evil@example.com — weekly brief 2026-W47"
    assert msg["To"].addresses[0].addr_spec == "eve@example.com"
    assert msg["To"].addresses[0].display_name == "Eve Bcc: evil@example.com"
    assert sorted(msg.keys()) == sorted([
        "From", "To", "Reply-To", "Subject", "Date", "Message-ID", "Auto-Submitted",
        "Content-Type", "MIME-Version"])
    assert attachment(msg).get_filename() == "Acme-X-Injected-yes-acme-2026-W47.pdf"


def test_an_address_with_a_line_break_is_refused_not_split(tmp_path: Path) -> None:
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        report = send_messages(ws, [outgoing("eve@example.com\r\nBcc: evil@example.com"),
                                    outgoing("ok@example.com")])
    assert [o.address for o in report.sent] == ["ok@example.com"]
    assert len(report.failed) == 1 and "not a valid email address" in report.failed[0].detail
    assert [r.rcpt_tos for r in server.handler.received] == [["ok@example.com"]]


def test_chinese_subject_body_and_attachment_name_arrive_intact(tmp_path: Path) -> None:
    write_project(tmp_path, "xinghe", name="星河市场推广", customer="星河科技有限公司",
                  locale="zh-CN", people={"li": {"name": "李娜", "role": "客户经理",
                                                 "team": "sales", "email": "li.na@example.com"}},
                  asks=[{"ask": "确认试点会议室", "owner": "li", "due": "2026-11-27"}])
    with smtp_server() as server:
        ws = workspace(tmp_path, server, subject="[{customer}] {project} 每周简报 {week}")
        report = send_messages(ws, plan_messages(ws, WEEK, AS_OF, render=fake_render).messages)
    assert len(report.sent) == 1
    (received,) = server.handler.received
    raw_head = received.data.split(b"\r\n\r\n", 1)[0]
    assert raw_head.isascii()  # encoded words, not raw UTF-8 a server might mangle
    msg = received.message
    assert msg["Subject"] == "[星河科技有限公司] 星河市场推广 每周简报 2026-W47"
    assert msg["To"].addresses[0].display_name == "李娜"
    text, html = bodies(msg)
    assert "健康状况：团队报告绿色" in text
    assert "- 确认试点会议室（李娜，截止 2026年11月27日）" in text
    assert "下一个客户相关日期：2026年12月4日，Pilot demo" in html
    part = attachment(msg)
    assert part.get_filename() == "星河科技有限公司-xinghe-2026-W47.pdf"
    assert b"filename*0*=utf-8''%E6%98%9F" in received.data  # RFC 2231, with continuations
    # Mail clients that predate RFC 2231 read the plain parameters: an ASCII name, same extension.
    (old_part,) = [p for p in email.message_from_bytes(received.data).walk()
                   if p.get_content_type() == "application/pdf"]
    assert old_part.get_param("name") == "xinghe-2026-W47.pdf"
    assert ("filename", "xinghe-2026-W47.pdf") in old_part.get_params(header="content-disposition")
    assert len(PdfReader(BytesIO(part.get_content())).pages) == 1


def test_last_weeks_update_is_dated_and_no_asks_is_said(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme", customer="Acme", update_week="2026-W46",
                  people={"sam": {"name": "Sam", "role": "AE", "team": "sales",
                                  "email": "sam@example.com"}})
    # Sent without this week's update only where the workspace says so.
    ws = workspace(tmp_path, without_update="send")
    (msg,) = plan_messages(ws, WEEK, AS_OF, render=fake_render).messages
    # Said first, before the health it explains.
    missing = "No update for 2026-W47: the health and summary below are from 2026-W46."
    assert msg.text.index(missing) < msg.text.index("Health: reported green")
    assert f"⚠ {missing}</p>" in msg.html
    assert "Summary (update of 2026-W46):\nPilot on track." in msg.text
    assert "Nothing is asked of sales this week." in msg.text
    assert "<strong>Summary (update of 2026-W46):</strong> Pilot on track." in msg.html


def test_asks_carried_over_say_how_long_they_are_open(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme", customer="Acme", update_week="2026-W45",
                  people={"sam": {"name": "Sam", "role": "AE", "team": "sales",
                                  "email": "sam@example.com"}},
                  asks=[{"id": "room", "ask": "Book the demo room", "owner": "sam"}])
    this_week = tmp_path / "projects" / "acme" / "updates" / f"{WEEK}.yaml"
    this_week.write_text(f"week: {WEEK}\nhealth: green\nsummary: Pilot on track.\n", "utf-8")
    (msg,) = plan_messages(workspace(tmp_path), WEEK, AS_OF, render=fake_render).messages
    assert "- Book the demo room (Sam, open for 2 weeks, since 2026-W45)\n" in msg.text
    assert "Book the demo room (Sam)<br><strong" in msg.html
    assert "No update for" not in msg.text


def test_workspace_labels_reword_the_email(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme", customer="Acme", people={
        "sam": {"name": "Sam", "role": "AE", "team": "sales", "email": "sam@example.com"}})
    labels = tmp_path / "templates" / "labels"
    labels.mkdir(parents=True)
    (labels / "en.yaml").write_text(
        "email:\n"
        "  no_asks: Sales has a quiet week.\n"
        "  health: \"<b>Health</b> as reported: {reported}\"\n", "utf-8")
    (msg,) = plan_messages(workspace(tmp_path), WEEK, AS_OF, render=fake_render).messages
    assert "Sales has a quiet week." in msg.text and "Sales has a quiet week." in msg.html
    assert "Nothing is asked of sales" not in msg.text
    assert "<b>Health</b> as reported: green\n" in msg.text
    # In HTML the label's text is escaped; the health mark planforge puts in it is not.
    assert "&lt;b&gt;Health&lt;/b&gt; as reported: <strong style=" in msg.html
    assert msg.subject == "Acme — weekly brief 2026-W47"  # the labels it leaves alone


def test_a_workspace_template_replaces_the_email_body(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme", customer="Acme", people={
        "sam": {"name": "Sam", "role": "AE", "team": "sales", "email": "sam@example.com"}})
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "email.txt.j2").write_text(
        "{% for p in v.projects %}{{ p.name }}: {{ p.computed | label('email.health_level') }}"
        "{% endfor %}, as of {{ doc.as_of | date }}\n", "utf-8")
    (msg,) = plan_messages(workspace(tmp_path), WEEK, AS_OF, render=fake_render).messages
    assert msg.text == "Acme: green, as of 20 Nov 2026\n"
    assert "<h2" in msg.html  # the built-in HTML body


def _health_colours(css: str, level: str) -> str:
    ink = re.search(rf"--{level}:\s*([^;]+);", css)
    fill = re.search(rf"--{level}-bg:\s*([^;]+);", css)
    assert ink and fill
    return f"background:{fill[1]};color:{ink[1]}"


def test_email_health_has_the_colours_of_the_stylesheet(tmp_path: Path) -> None:
    builtin = (REPO / "templates" / "style.css").read_text("utf-8")
    plain, recoloured = tmp_path / "plain", tmp_path / "recoloured"
    for root in (plain, recoloured):
        write_project(root, "acme", name="Acme", customer="Acme", people={
            "sam": {"name": "Sam", "role": "AE", "team": "sales", "email": "sam@example.com"}})
    (msg,) = plan_messages(workspace(plain), WEEK, AS_OF, render=fake_render).messages
    assert msg.html.count(f'<strong style="{_health_colours(builtin, "green")};') == 2
    # A workspace stylesheet that recolours green recolours its emails too.
    (recoloured / "templates").mkdir()
    (recoloured / "templates" / "style.css").write_text(
        re.sub(r"--green:[^;]+;", "--green: teal;", builtin), "utf-8")
    (msg,) = plan_messages(workspace(recoloured), WEEK, AS_OF, render=fake_render).messages
    assert msg.html.count(";color:teal;") == 2


def test_subject_template_accepts_only_its_placeholders(tmp_path: Path) -> None:
    write_project(tmp_path, "acme", name="Acme", customer="Acme", people={
        "sam": {"name": "Sam", "role": "AE", "team": "sales", "email": "sam@example.com"}})
    for template in ("{project.__class__}", "{owner}", "{project"):
        ws = workspace(tmp_path, subject=template)
        with pytest.raises(MailError, match=r"email.subject .*\{project\}, \{customer\}"):
            plan_messages(ws, WEEK, AS_OF, render=fake_render)
    plan = plan_messages(workspace(tmp_path, subject="{{{customer}}} {week}"), WEEK, AS_OF,
                         render=fake_render)
    assert plan.messages[0].subject == "{Acme} 2026-W47"


# ---------------------------------------------------------------------------------------------
# Transport security and login
# ---------------------------------------------------------------------------------------------


def test_starttls_with_login(tmp_path: Path) -> None:
    tls = make_tls()
    with smtp_server(tls_context=tls.server, require_starttls=True,
                     authenticator=authenticator("briefs", "s3cret")) as server:
        ws = workspace(tmp_path, server, security="starttls", username="briefs")
        report = send_messages(ws, [outgoing("a@example.com")], ssl_context=tls.client,
                               password="s3cret")
    assert [o.address for o in report.sent] == ["a@example.com"]
    assert [(r.rcpt_tos, r.user) for r in server.handler.received] == [(["a@example.com"],
                                                                         "briefs")]


def test_password_comes_from_the_environment(tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    tls = make_tls()
    monkeypatch.setenv("PLANFORGE_SMTP_PASSWORD", "from-env")
    with smtp_server(tls_context=tls.server, require_starttls=True,
                     authenticator=authenticator("briefs", "from-env")) as server:
        ws = workspace(tmp_path, server, security="starttls", username="briefs")
        report = send_messages(ws, [outgoing("a@example.com")], ssl_context=tls.client)
    assert len(report.sent) == 1 and server.handler.received[0].user == "briefs"


def test_starttls_missing_on_the_server_is_not_a_silent_downgrade(tmp_path: Path) -> None:
    with smtp_server() as server:  # no TLS at all
        ws = workspace(tmp_path, server, security="starttls")
        with pytest.raises(SendAborted, match=r"does not support .*STARTTLS"):
            send_messages(ws, [outgoing("a@example.com")], ssl_context=make_tls().client)
    assert server.handler.transactions == 0


def test_implicit_tls(tmp_path: Path) -> None:
    tls = make_tls()
    with smtp_server(ssl_context=tls.server) as server:
        ws = workspace(tmp_path, server, security="ssl")
        report = send_messages(ws, [outgoing("a@example.com")], ssl_context=tls.client)
    assert len(report.sent) == 1
    assert server.handler.received[0].rcpt_tos == ["a@example.com"]


def test_an_untrusted_certificate_stops_everything(tmp_path: Path) -> None:
    tls = make_tls()
    with smtp_server(tls_context=tls.server, require_starttls=True) as server:
        ws = workspace(tmp_path, server, security="starttls")
        # No ssl_context: the system's trust store, which has never heard of the test CA.
        with pytest.raises(SendAborted, match=r"certificate .* cannot be trusted") as caught:
            send_messages(ws, [outgoing("a@example.com")])
    assert "Nothing was sent" in str(caught.value)
    assert server.handler.received == []
    assert read_ledger(mail.ledger_path(ws)) == []


def test_refused_login_stops_and_records_nothing(tmp_path: Path) -> None:
    tls = make_tls()
    with smtp_server(tls_context=tls.server, require_starttls=True,
                     authenticator=authenticator("briefs", "right")) as server:
        ws = workspace(tmp_path, server, security="starttls", username="briefs")
        waits, sleep = no_sleep()
        with pytest.raises(SendAborted, match=r"refused the login of 'briefs' \(535") as caught:
            send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")],
                          ssl_context=tls.client, password="wrong", sleep=sleep)
    assert "PLANFORGE_SMTP_PASSWORD" in str(caught.value)
    assert caught.value.report.sent == []
    assert waits == []  # a wrong password does not get better by waiting
    assert server.handler.received == []
    assert read_ledger(mail.ledger_path(ws)) == []


def test_username_without_password_fails_before_connecting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PLANFORGE_SMTP_PASSWORD", raising=False)
    with smtp_server() as server:
        ws = workspace(tmp_path, server, username="briefs")
        with pytest.raises(MailError, match="PLANFORGE_SMTP_PASSWORD is not"):
            send_messages(ws, [outgoing("a@example.com")])
    assert server.handler.transactions == 0
    assert not mail.ledger_path(ws).exists()


def test_no_smtp_settings_points_to_dry_run(tmp_path: Path) -> None:
    with pytest.raises(MailError, match=r"email.smtp is not set .* --dry-run"):
        send_messages(workspace(tmp_path), [outgoing("a@example.com")])


# ---------------------------------------------------------------------------------------------
# Failures and retries
# ---------------------------------------------------------------------------------------------


def test_a_refused_recipient_does_not_stop_the_others(tmp_path: Path) -> None:
    handler = Handler(refuse={"b@example.com"})
    with smtp_server(handler) as server:
        ws = workspace(tmp_path, server)
        waits, sleep = no_sleep()
        report = send_messages(ws, [outgoing(a) for a in ("a@example.com", "b@example.com",
                                                           "c@example.com")], sleep=sleep)
    assert [o.address for o in report.sent] == ["a@example.com", "c@example.com"]
    assert [(o.address, o.detail) for o in report.failed] == [
        ("b@example.com", "the server refused the recipient (550 5.1.1 mailbox unavailable)")]
    assert waits == []  # permanent: not retried
    assert [r.rcpt_tos for r in handler.received] == [["a@example.com"], ["c@example.com"]]
    assert [e.address for e in read_ledger(mail.ledger_path(ws))] == ["a@example.com",
                                                                      "c@example.com"]


def test_421_is_retried_and_delivered_once(tmp_path: Path) -> None:
    handler = Handler(data_replies=["421 4.3.2 try again later"])
    with smtp_server(handler) as server:
        ws = workspace(tmp_path, server)
        waits, sleep = no_sleep()
        report = send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")],
                               sleep=sleep)
    assert [o.address for o in report.sent] == ["a@example.com", "b@example.com"]
    assert waits == [2.0]
    assert handler.transactions == 3
    assert [r.rcpt_tos for r in handler.received] == [["a@example.com"], ["b@example.com"]]


def test_connection_dropped_mid_data_is_retried_without_duplicate(tmp_path: Path) -> None:
    handler = Handler(data_replies=[DROP])
    with smtp_server(handler) as server:
        ws = workspace(tmp_path, server)
        waits, sleep = no_sleep()
        report = send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")],
                               sleep=sleep)
    assert [o.address for o in report.sent] == ["a@example.com", "b@example.com"]
    assert waits == [2.0]
    assert [r.rcpt_tos for r in handler.received] == [["a@example.com"], ["b@example.com"]]
    # Both attempts carried the same Message-ID, so had the server kept the first copy after
    # all, the recipient's mail client would show one message.
    dropped, retried = (parsed(data)["Message-ID"] for data in handler.attempts[:2])
    assert dropped == retried == handler.received[0].message["Message-ID"]


def test_a_server_that_stalls_is_retried(tmp_path: Path) -> None:
    handler = Handler(delays=[1.0], data_replies=["451 4.3.0 too late"])
    with smtp_server(handler) as server:
        ws = workspace(tmp_path, server)
        ws = dataclasses.replace(ws, settings=dataclasses.replace(ws.settings, email=(
            dataclasses.replace(ws.settings.email, smtp=SmtpSettings(
                "127.0.0.1", server.port, "none", None, 0.2)))))
        waits, sleep = no_sleep()
        report = send_messages(ws, [outgoing("a@example.com")], sleep=sleep)
    assert [o.address for o in report.sent] == ["a@example.com"]
    assert waits == [2.0]
    assert [r.rcpt_tos for r in handler.received] == [["a@example.com"]]


def test_persistent_deferral_gives_up_on_that_message_only(tmp_path: Path) -> None:
    handler = Handler(data_replies=["451 4.3.0 local error"] * 3)
    with smtp_server(handler) as server:
        ws = workspace(tmp_path, server)
        waits, sleep = no_sleep()
        report = send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")],
                               sleep=sleep)
    assert waits == [2.0, 4.0]  # exponential backoff, bounded
    assert [(o.address, o.detail) for o in report.failed] == [(
        "a@example.com",
        "the server deferred the message (451 4.3.0 local error) (gave up after 3 attempts)")]
    assert [o.address for o in report.sent] == ["b@example.com"]


def test_unreachable_server_stops_after_retries(tmp_path: Path) -> None:
    with socket.socket() as closed:  # a port nobody listens on
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    ws = workspace(tmp_path, Server(port, Handler()))
    waits, sleep = no_sleep()
    with pytest.raises(SendAborted, match=r"cannot reach the SMTP server 127\.0\.0\.1:\d+ .*"
                                          r"gave up after 3 attempts"):
        send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")], sleep=sleep)
    assert waits == [2.0, 4.0]  # the first message's retries only: the run stops there
    assert read_ledger(mail.ledger_path(ws)) == []


# ---------------------------------------------------------------------------------------------
# Exactly once: the ledger
# ---------------------------------------------------------------------------------------------


def test_crash_then_rerun_sends_each_address_exactly_once(tmp_path: Path) -> None:
    addresses = [f"user{i}@example.com" for i in range(5)]

    class Crash(Exception):
        pass

    def crash_after_two(kind: str, outcome: mail.Outcome) -> None:
        if kind == "sent" and outcome.address == addresses[1]:
            raise Crash  # the process dies right after the 2nd message is recorded

    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        with pytest.raises(Crash):
            send_messages(ws, [outgoing(a) for a in addresses], on_outcome=crash_after_two)
        ledger = mail.ledger_path(ws)
        assert len(ledger.read_bytes().splitlines()) == 2
        report = send_messages(ws, [outgoing(a) for a in addresses])
    assert [o.address for o in report.skipped] == addresses[:2]
    assert [o.address for o in report.sent] == addresses[2:]
    assert sorted(r.rcpt_tos[0] for r in server.handler.received) == addresses
    assert sorted(e.address for e in read_ledger(ledger)) == addresses


def test_rerun_connects_to_nobody_when_all_went_out(tmp_path: Path) -> None:
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        send_messages(ws, [outgoing("a@example.com")])
    # The server is gone: a second run must not need it.
    report = send_messages(ws, [outgoing("A@Example.com")])
    assert [(o.address, o.detail) for o in report.skipped] == [
        ("A@Example.com", "already sent for 2026-W47")]
    assert report.sent == [] and report.failed == []


def test_force_resends_with_a_new_message_id(tmp_path: Path) -> None:
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        send_messages(ws, [outgoing("a@example.com")])
        report = send_messages(ws, [outgoing("a@example.com")], force=True)
    assert len(report.sent) == 1
    first, second = (r.message["Message-ID"] for r in server.handler.received)
    assert first != second and ".r1@" in second
    assert len(read_ledger(mail.ledger_path(ws))) == 2


def test_a_new_week_is_a_new_message(tmp_path: Path) -> None:
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        send_messages(ws, [outgoing("a@example.com", week="2026-W46")])
        report = send_messages(ws, [outgoing("a@example.com", week="2026-W47")])
    assert len(report.sent) == 1 and len(server.handler.received) == 2


def test_torn_last_line_is_ignored_and_cut_off(tmp_path: Path) -> None:
    ledger = tmp_path / ".planforge" / "sent.jsonl"
    ledger.parent.mkdir()
    done = LedgerEntry(WEEK, "a@example.com", "brief", ("acme-crm",), "0" * 64, "<x@y>",
                       "2026-11-20T16:00:00+00:00")
    ledger.write_bytes(done.to_json().encode() + b'\n{"week": "2026-W47", "addre')
    with smtp_server() as server:
        ws = workspace(tmp_path, server)
        report = send_messages(ws, [outgoing("a@example.com"), outgoing("b@example.com")])
    assert [o.address for o in report.skipped] == ["a@example.com"]
    assert [o.address for o in report.sent] == ["b@example.com"]
    assert any("unfinished last line" in n for n in report.notes)
    assert b'"addre\n' not in ledger.read_bytes() and ledger.read_bytes().endswith(b"}\n")
    assert [e.address for e in read_ledger(ledger)] == ["a@example.com", "b@example.com"]


def test_a_complete_last_line_without_newline_is_kept(tmp_path: Path) -> None:
    ledger = tmp_path / "sent.jsonl"
    done = LedgerEntry(WEEK, "a@example.com", "brief", (), "", "", "")
    ledger.write_bytes(done.to_json().encode())  # hand-edited, no final newline
    with Ledger(ledger) as opened:
        assert opened.count(WEEK, "a@example.com") == 1
        opened.record(dataclasses.replace(done, address="b@example.com"))
    assert [e.address for e in read_ledger(ledger)] == ["a@example.com", "b@example.com"]


def test_a_damaged_line_inside_the_ledger_is_an_error(tmp_path: Path) -> None:
    ledger = tmp_path / "sent.jsonl"
    ledger.write_text('<<<<<<< HEAD\n{"week": "2026-W47", "address": "a@example.com"}\n')
    with pytest.raises(MailError, match=r"sent.jsonl:1: not a record of the send ledger"):
        read_ledger(ledger)


def test_two_senders_cannot_share_the_ledger(tmp_path: Path) -> None:
    ledger = tmp_path / "sent.jsonl"
    with Ledger(ledger), pytest.raises(MailError, match="another planforge send"):
        Ledger(ledger).__enter__()


# ---------------------------------------------------------------------------------------------
# Dry run
# ---------------------------------------------------------------------------------------------


def test_dry_run_writes_eml_files_and_touches_nothing_else(example_ws: Workspace) -> None:
    # No SMTP settings at all: a dry run needs neither server nor password.
    ws = dataclasses.replace(example_ws, settings=workspace(example_ws.root).settings)
    plan = plan_messages(ws, WEEK, AS_OF, to=["jonas-weber", "priya-nair"], render=fake_render)
    report = send_messages(ws, plan.messages, dry_run=True)
    outbox = ws.root / "output" / "outbox" / WEEK
    assert sorted(p.name for p in outbox.iterdir()) == ["jonas.weber@example.com.eml",
                                                        "priya.nair@example.com.eml"]
    assert [o.detail for o in report.written] == [str(outbox / "jonas.weber@example.com.eml"),
                                                  str(outbox / "priya.nair@example.com.eml")]
    msg = parsed((outbox / "priya.nair@example.com.eml").read_bytes())
    assert msg["Subject"] == "Acme CRM rollout — weekly brief 2026-W47"
    assert pdf_title(attachment(msg).get_content()) == "acme-crm"
    assert not mail.ledger_path(ws).exists()


# ---------------------------------------------------------------------------------------------
# The command
# ---------------------------------------------------------------------------------------------


def _config(root: Path, server: Server) -> None:
    (root / "planforge.yaml").write_text(f"""\
email:
  smtp: {{host: 127.0.0.1, port: {server.port}, security: none, timeout: 5}}
  from: "{SENDER}"
  lists:
    sales-leads: [sales.director@example.com, sales.operations@example.com]
""")


@pytest.fixture
def fake_renderer(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(mail, "_default_render", lambda *args: fake_render)


@pytest.mark.usefixtures("fake_renderer")
def test_cli_reports_a_refused_recipient_and_exits_1(examples: Path, run_cli: RunCli) -> None:
    with smtp_server(Handler(refuse={"sales.director@example.com"})) as server:
        _config(examples, server)
        result = run_cli("send", "--week", WEEK, "--to", "jonas-weber", "--to", "sales-leads",
                         cwd=examples)
    assert result.exit_code == 1
    assert "sent 2, skipped 0 (already sent), failed 1" in result.output
    assert "failed: sales.director@example.com (acme-crm, globex-portal, " in result.output
    assert "the server refused the recipient (550 5.1.1 mailbox unavailable)" in result.output
    assert sorted(r.rcpt_tos[0] for r in server.handler.received) == [
        "jonas.weber@example.com", "sales.operations@example.com"]


@pytest.mark.usefixtures("fake_renderer")
def test_cli_rerun_skips_what_went_out(examples: Path, run_cli: RunCli) -> None:
    with smtp_server() as server:
        _config(examples, server)
        first = run_cli("send", "--week", WEEK, cwd=examples)
        second = run_cli("send", "--week", WEEK, cwd=examples)
    assert first.exit_code == 0, first.output
    assert "sent jonas.weber@example.com (acme-crm, globex-portal)\n" in first.output
    assert "sent zhao.min@example.cn (xinghe-market-push)\n" in first.output
    assert "sent 2, skipped 0 (already sent), failed 0" in first.output
    assert second.exit_code == 0, second.output
    assert "skipped jonas.weber@example.com (acme-crm, globex-portal): already sent" in \
        second.output
    assert "sent 0, skipped 2 (already sent), failed 0" in second.output
    assert sorted(r.rcpt_tos[0] for r in server.handler.received) == [
        "jonas.weber@example.com", "zhao.min@example.cn"]


@pytest.mark.usefixtures("fake_renderer")
def test_cli_dry_run(examples: Path, run_cli: RunCli, tmp_path: Path) -> None:
    outbox = tmp_path / "box"
    result = run_cli("send", "--week", WEEK, "--dry-run", "--outbox", str(outbox), cwd=examples)
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (outbox / WEEK).iterdir()) == [
        "jonas.weber@example.com.eml", "zhao.min@example.cn.eml"]
    assert "wrote 2 messages, failed 0 (dry run: nothing sent, ledger untouched)" in result.output
    assert not (examples / ".planforge").exists()


def test_cli_rejects_a_bad_week_or_recipient(examples: Path, run_cli: RunCli) -> None:
    result = run_cli("send", "--week", "2025-W53", "--dry-run", cwd=examples)
    assert result.exit_code == 2
    assert "--week 2025-W53: not an ISO week that exists" in result.output
    result = run_cli("send", "--to", "nobody", "--dry-run", cwd=examples)
    assert result.exit_code == 2
    assert "--to nobody: not an address" in result.output


def test_cli_help_has_examples(run_cli: RunCli) -> None:
    result = run_cli("send", "--help")
    assert result.exit_code == 0
    assert "planforge send --dry-run" in result.output
    assert "--force" in result.output


# ---------------------------------------------------------------------------------------------
# End to end with the real renderer
# ---------------------------------------------------------------------------------------------


@pytest.mark.pdf
def test_end_to_end_with_the_real_pdf(example_ws: Workspace) -> None:
    with smtp_server() as server:
        ws = dataclasses.replace(example_ws, settings=workspace(example_ws.root, server).settings)
        plan = plan_messages(ws, WEEK, AS_OF, to=["priya-nair", "jonas-weber"])
        report = send_messages(ws, plan.messages)
    assert report.ok and len(report.sent) == 2
    texts = {}
    for received in server.handler.received:
        pdf = PdfReader(BytesIO(attachment(received.message).get_content()))
        texts[received.rcpt_tos[0]] = "".join(page.extract_text() for page in pdf.pages)
    assert "Acme CRM rollout" in texts["priya.nair@example.com"]
    assert "Globex" not in texts["priya.nair@example.com"]
    portfolio = texts["jonas.weber@example.com"]
    assert "Acme CRM rollout" in portfolio and "Globex trade portal refresh" in portfolio


@pytest.mark.pdf
def test_send_attaches_what_build_made_and_renders_only_what_changed(
    examples: Path, run_cli: RunCli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import planforge.documents as documents

    assert run_cli("build", "--week", WEEK, "--formats", "pdf", cwd=examples).exit_code == 0
    rendered: list[str] = []
    real_document, real_portfolio = documents.render_document, documents.render_portfolio

    def count_document(ws: Workspace, project: Any, *args: Any) -> bytes:
        rendered.append(project.id)
        return real_document(ws, project, *args)

    def count_portfolio(ws: Workspace, address: str, *args: Any) -> bytes:
        rendered.append(address)
        return real_portfolio(ws, address, *args)

    monkeypatch.setattr(documents, "render_document", count_document)
    monkeypatch.setattr(documents, "render_portfolio", count_portfolio)

    def send() -> dict[str, bytes]:
        outbox = tmp_path / f"box{len(rendered)}"
        result = run_cli("send", "--week", WEEK, "--dry-run", "--outbox", str(outbox),
                         cwd=examples)
        assert result.exit_code == 0, result.output
        return {eml.stem: attachment(email.message_from_bytes(
            eml.read_bytes(), policy=email.policy.default)).get_content()
            for eml in (outbox / WEEK).iterdir()}

    sent = send()
    assert rendered == []
    out = examples / "output"
    assert sent["jonas.weber@example.com"] == (
        out / "portfolio" / "jonas.weber@example.com" / f"{WEEK}.pdf").read_bytes()
    assert sent["zhao.min@example.cn"] == (
        out / "xinghe-market-push" / "briefs" / f"{WEEK}.pdf").read_bytes()

    update = examples / "projects" / "globex-portal" / "updates" / f"{WEEK}.yaml"
    update.write_text(update.read_text("utf-8") + "\n# reviewed\n", "utf-8")
    send()
    assert rendered == ["jonas.weber@example.com"]  # stale: rendered again; Zhao's is current


def test_the_email_names_the_same_next_customer_date_as_the_brief(example_ws: Workspace) -> None:
    from planforge.documents import email_project, render_document
    from planforge.i18n import translator

    # Globex release 2 (due 27 Nov) is overdue by then and its build task still open, so it is
    # expected no earlier than that day.
    late = date(2026, 12, 11)
    project, _ = load_project(example_ws, "globex-portal", late)
    body = email_project(compute_facts(project, late, example_ws.settings), translator("en"),
                         "2026-W50")
    brief = render_document(example_ws, project, "brief", late, "md").decode()
    assert body.next_milestone == "Release 2 live: order history and reorder"
    assert body.next_date == late
    assert "**11 Dec 2026** Release 2 live" in brief
