"""A workspace is untrusted input (it may come from a pull request): its templates cannot run
code or read files, and its text cannot break out of the CSS, HTML or email around it."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
import tinycss2

from planforge.build import BuildOptions, BuildReport, build_workspace
from planforge.documents import render_document
from planforge.errors import TemplateError, WorkspaceError
from planforge.files import MAX_FILE_BYTES, FileRefused, read_file
from planforge.outputs import ledger_path, output_lock, portfolio_folder
from planforge.validate import load_project
from planforge.workspace import find_workspace

from .conftest import AS_OF, RunCli

#: Ways out of Jinja's data model into Python, each of which once reached ``os`` or the
#: environment: the sandbox must refuse every one.
ESCAPES = [
    "{{ cycler.__init__.__globals__.os.system('touch PWNED') }}",
    "{{ joiner.__init__.__globals__['os'].environ }}",
    "{{ ''.__class__.__mro__[1].__subclasses__() }}",
    "{{ range.__globals__['os'].popen('touch PWNED').read() }}",
    "{{ namespace.__init__.__globals__ }}",
    "{{ self._TemplateReference__context }}",
    "{% set x = [] %}{{ x.append(1) }}",
    "{{ '{0.__class__}'.format(cycler) }}",
    # planforge's views are read without the sandbox's checks, but only their fields.
    "{{ v.__class__.__init__.__globals__ }}",
    "{{ doc.__dataclass_fields__ }}",
]


def _override(root: Path, name: str, text: str) -> None:
    folder = root / "templates"
    folder.mkdir(exist_ok=True)
    (folder / name).write_text(text, "utf-8")


@pytest.mark.parametrize("payload", ESCAPES)
def test_workspace_templates_cannot_reach_python(
    examples: Path, payload: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(examples)
    monkeypatch.setenv("PLANFORGE_SMTP_PASSWORD", "hunter2-secret")
    _override(examples, "brief.md.j2", payload + "\n")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match=r"brief\.md\.j2:1: not allowed in a template"):
        render_document(ws, project, "brief", AS_OF, "md")
    assert not (examples / "PWNED").exists()


def test_a_symlinked_template_is_not_read(examples: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("the SMTP password", "utf-8")
    (examples / "templates").mkdir()
    (examples / "templates" / "brief.md.j2").symlink_to(secret)
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match="symbolic link") as caught:
        render_document(ws, project, "brief", AS_OF, "md")
    assert "SMTP password" not in str(caught.value)


def test_a_template_folder_linked_elsewhere_is_not_read(examples: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "brief.md.j2").write_text("from outside\n", "utf-8")
    (examples / "templates").mkdir()
    (examples / "templates" / "partials").symlink_to(elsewhere)
    _override(examples, "brief.md.j2", '{% include "partials/brief.md.j2" %}\n')
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match="symbolic link"):
        render_document(ws, project, "brief", AS_OF, "md")


def test_a_symlinked_label_catalog_is_not_read(examples: Path, tmp_path: Path) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("brief:\n  asks: the SMTP password\n", "utf-8")
    (examples / "templates" / "labels").mkdir(parents=True)
    (examples / "templates" / "labels" / "en.yaml").symlink_to(secret)
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match="symbolic link"):
        render_document(ws, project, "brief", AS_OF, "md")


def test_read_file_checks_the_size_before_reading(tmp_path: Path) -> None:
    huge = tmp_path / "huge.yaml"
    with huge.open("wb") as handle:  # sparse: 3 GB that take no disk and must not be read
        handle.truncate(3 * 1024**3)
    with pytest.raises(FileRefused, match=r"too large \(3072\.0 MiB"):
        read_file(huge)
    fifo = tmp_path / "fifo.yaml"
    os.mkfifo(fifo)
    with pytest.raises(FileRefused, match="not a regular file"):
        read_file(fifo)  # neither blocks nor reads
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"x" * MAX_FILE_BYTES)
    assert len(read_file(exact)) == MAX_FILE_BYTES


def test_css_strings_escape_what_ends_them() -> None:
    from planforge.render import css_string

    assert css_string('a"b\\c\rd\ne\ff<g>\x00') == \
        '"a\\22 b\\5c c\\d d\\a e\\c f\\3c g\\3e \ufffd"'


def test_control_characters_never_reach_a_document() -> None:
    from planforge.yamlio import load_text

    doc, findings = load_text('name: "Acme\\r\\fCRM\\u2028x\\e[31m"\nsummary: "a\\tb\\nc"\n', "p")
    assert findings == [] and doc is not None
    assert doc.data == {"name": "Acme  CRM x [31m", "summary": "a\tb\nc"}


def _style(html: str) -> str:
    match = re.search(r"<style>(.*?)</style>", html, re.S)
    assert match, "no <style> element"
    return match[1]


def _tokens(nodes: list[tinycss2.ast.Node]) -> list[tinycss2.ast.Node]:
    found = []
    for node in nodes:
        found.append(node)
        for attr in ("prelude", "content", "arguments"):
            inner = getattr(node, attr, None)
            if isinstance(inner, list):
                found += _tokens(inner)
    return found


@pytest.mark.parametrize("breaker", ["\r", "\f", "\n", "\\", '"', "</style>"])
def test_names_cannot_break_out_of_the_css_string(examples: Path, breaker: str) -> None:
    evil = f'Acme{breaker}}} body {{ background: url(http://127.0.0.1:9/x) }} @page {{ x: "'
    plan = examples / "projects" / "acme-crm" / "project.yaml"
    text = plan.read_text("utf-8")
    quoted = evil.replace("\\", "\\\\").replace('"', '\\"').replace("\r", "\\r") \
        .replace("\f", "\\f").replace("\n", "\\n")
    plan.write_text(text.replace("name: Acme CRM rollout", f'name: "{quoted}"', 1), "utf-8")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    # The loader turns control characters into spaces; what is left must still stay a string.
    evil = re.sub("[\r\f]", " ", evil)
    assert project.name == evil
    html = render_document(ws, project, "brief", AS_OF, "html").decode()
    assert html.count("</style>") == 1
    rules = tinycss2.parse_stylesheet(_style(html), skip_comments=True, skip_whitespace=True)
    tokens = _tokens(rules)
    assert not [t for t in tokens if t.type == "url"]
    assert not [t for t in tokens if t.type == "function" and t.lower_name == "url"]
    assert not [t for t in tokens if t.type == "error"]
    footers = [t.value for t in tokens if t.type == "string" and t.value.startswith("Acme")]
    assert footers and all(evil in value for value in footers)


def test_validate_checks_the_workspace_templates(examples: Path, tmp_path: Path,
                                                 run_cli: RunCli) -> None:
    _override(examples, "brief.md.j2", "ok\n{{ cycler.__init__.__globals__ }}\n")
    _override(examples, "charter.md.j2", "{% if %}\n")
    (examples / "templates" / "retro.md.j2").symlink_to(tmp_path / "anywhere")
    (examples / "templates" / "labels").mkdir()
    (examples / "templates" / "labels" / "en.yaml").write_text("brief:\n  asks: [1]\n", "utf-8")
    (examples / "templates" / "labels" / "fr.yaml").write_text("brief: {}\n", "utf-8")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert result.output.splitlines()[:5] == [
        "templates/brief.md.j2:2: error: '__globals__': names starting with '_' are not "
        "allowed in a template",
        "templates/brief.md.j2:2: error: '__init__': names starting with '_' are not allowed "
        "in a template",
        "templates/charter.md.j2:1: error: template syntax error: Expected an expression, got "
        "'end of statement block'",
        "templates/labels/en.yaml:2:9: error: brief.asks: a label must be text, not list",
        "templates/labels/fr.yaml: warning: no locale 'fr': this file is never read (planforge "
        "speaks en, zh-CN)",
    ]
    assert "templates/retro.md.j2: error: a symbolic link" in result.output
    assert "Traceback" not in result.output


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text("utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), "utf-8")


@pytest.mark.parametrize(("file", "old", "new", "message"), [
    ("projects/acme-crm/project.yaml", "start: 2026-08-03", "start: 1001-01-01",
     "start: '1001-01-01' is outside the years planforge handles (1970–2199)"),
    ("projects/acme-crm/project.yaml", "end: 2027-02-26", "end: 2036-08-04",
     "end: the project lasts more than 10 years (2026-08-03 to 2036-08-04)"),
    ("projects/acme-crm/project.yaml", "duration: 15", "duration: 100000",
     "duration: 100000 is too large: the most allowed is 720"),
    ("projects/acme-crm/project.yaml", "spent: 198500", "spent: .nan",
     "budget.spent: expected a number, got '.nan'"),
    ("projects/acme-crm/project.yaml", "planned: 420000", "planned: " + "9" * 5000,
     "budget.planned: expected a number, got '999"),
    ("planforge.yaml", "locale: en ", "paths:\n  output: ../elsewhere\nlocale: en ",
     "paths.output: '../elsewhere': expected a path inside the workspace"),
    ("planforge.yaml", "locale: en ", "paths:\n  templates: /etc\nlocale: en ",
     "paths.templates: '/etc': expected a path inside the workspace"),
    ("planforge.yaml", 'accent: "#1f4e79"', 'accent: "red\\n::error title=x::pwned"',
     "brand.accent: 'red\\n::error title=x::pwned': expected a CSS colour"),
])
def test_validate_enforces_the_bounds_that_keep_builds_bounded(
    examples: Path, run_cli: RunCli, file: str, old: str, new: str, message: str
) -> None:
    _edit(examples / file, old, new)
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_register_too_long_to_print_is_refused(examples: Path, run_cli: RunCli) -> None:
    plan = examples / "projects" / "acme-crm" / "project.yaml"
    risks = "".join(
        f"  - {{id: r-{i}, title: Risk {i}, likelihood: 2, impact: 2, owner: anna-keller, "
        f"mitigation: Watch it}}\n" for i in range(201))
    text = plan.read_text("utf-8")
    plan.write_text(text[: text.index("\nrisks:\n")] + "\nrisks:\n" + risks
                    + text[text.index("\nmeetings:"):], "utf-8")
    result = run_cli("validate", "projects/acme-crm", "--as-of", "2026-11-20", cwd=examples)
    assert "risks: has more than 200 items, the most planforge takes here" in result.output


@pytest.mark.parametrize("args", [["--as-of", "0001-01-01"], ["--as-of", "9999-12-31"],
                                  ["--week", "9999-W01"]])
def test_extreme_dates_on_the_command_line_are_usage_errors(
    examples: Path, run_cli: RunCli, args: list[str]
) -> None:
    result = run_cli("render", "brief", "acme-crm", *args, cwd=examples)
    assert result.exit_code == 2
    assert "the years planforge handles" in result.output
    assert "Traceback" not in result.output


def test_an_io_error_is_reported_as_such_not_as_a_bug(
    examples: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from planforge import outputs

    def full_disk(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(examples / "output"))

    monkeypatch.setattr(outputs, "_temporary", full_disk)
    result = run_cli("render", "brief", "acme-crm", "--format", "md", "-o", "out/brief.md",
                     cwd=examples)
    assert result.exit_code == 1
    assert result.output.strip() == f"planforge: {examples / 'output'}: No space left on device"
    assert "bug" not in result.output


#: RFC 2047 encoded words that decode to CR LF and a header: Python's email package decoded
#: them while folding and wrote the line break (CVE-2024-6923).
SMUGGLED = [
    "=?utf-8?q?=0D=0ABcc=3A_evil=40example=2Ecom?=",
    "Acme =?utf-8?q?=0D=0AReply-To=3A_attacker=40evil=2Eexample?= CRM",
    "=?UTF-8?B?DQpCY2M6IGV2aWxAZXhhbXBsZS5jb20=?=",
    "星河 =?utf-8?q?=0A=0ABcc=3A_evil=40example=2Ecom?= 推广",
]


@pytest.mark.parametrize("evil", SMUGGLED)
def test_encoded_line_breaks_cannot_add_headers(evil: str) -> None:
    from email import message_from_bytes, policy
    from email.headerregistry import Address

    from planforge.mail import OutgoingMessage, compose

    msg = OutgoingMessage(
        week="2026-W47", address="eve@example.com", name=evil, kind="brief",
        project_ids=("acme",), locale="en", subject=f"{evil} — weekly brief 2026-W47",
        filename="brief.pdf", text="x\n", html="<p>x</p>", pdf=lambda: b"%PDF-1.7\n")
    raw = compose(msg, b"%PDF-1.7\n", sender=Address(evil, addr_spec="pmo@example.com"),
                  reply_to=Address(evil, addr_spec="pmo@example.com")).as_bytes()
    head = raw.split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line[:1] not in b" \t"]
    assert sorted(names) == sorted([b"From", b"To", b"Reply-To", b"Subject", b"Date",
                                    b"Message-ID", b"Auto-Submitted", b"Content-Type",
                                    b"MIME-Version"])
    parsed = message_from_bytes(raw, policy=policy.default)
    assert parsed["Bcc"] is None
    # The recipient sees the text as written, its =? sequences included.
    assert str(parsed["Subject"]) == f"{evil} — weekly brief 2026-W47"
    # Python's parser puts a space between adjacent encoded words of a display name, which RFC
    # 2047 says to drop: compare without spaces.
    assert parsed["To"].addresses[0].display_name.replace(" ", "") == evil.replace(" ", "")
    assert parsed["To"].addresses[0].addr_spec == "eve@example.com"
    assert parsed["From"].addresses[0].addr_spec == "pmo@example.com"


@pytest.mark.parametrize("name", [*SMUGGLED, 'Acme "quoted"\r\nBcc: evil@example.com\\ Société'])
def test_attachment_names_arrive_whole_with_a_safe_ascii_fallback(name: str) -> None:
    from email import message_from_bytes, policy
    from email.headerregistry import Address

    from planforge.mail import OutgoingMessage, compose, one_line

    msg = OutgoingMessage(
        week="2026-W47", address="eve@example.com", name="Eve", kind="brief",
        project_ids=("acme",), locale="en", subject="Brief", filename=f"{name}.pdf",
        text="x\n", html="<p>x</p>", pdf=lambda: b"%PDF-1.7\n")
    raw = compose(msg, b"%PDF-1.7\n", sender=Address("PMO", addr_spec="pmo@example.com"),
                  ).as_bytes()
    head = raw.split(b"Content-Type: application/pdf", 1)[1].split(b"\r\n\r\n", 1)[0]
    assert head.isascii()
    names = [line.split(b":", 1)[0] for line in head.split(b"\r\n") if line[:1] not in b" \t"]
    # ";" ends the Content-Type line whose parameter follows on the next.
    assert names == [b";", b"Content-Transfer-Encoding", b"MIME-Version", b"Content-Disposition"]
    (part,) = message_from_bytes(raw, policy=policy.default).iter_attachments()
    assert part.get_filename() == f"{one_line(name)}.pdf"
    # The plain parameters, for clients that do not read RFC 2231: ASCII, no quote or space.
    (old,) = [p for p in message_from_bytes(raw).walk()
              if p.get_content_type() == "application/pdf"]
    plain = [v for _, v in old.get_params(header="content-disposition") if isinstance(v, str)]
    assert plain[1:] == [old.get_param("name")]
    assert re.fullmatch(r"[A-Za-z0-9._-]+\.pdf", plain[1])


# --- writes stay inside the output folder -----------------------------------------------------


def _build_md(examples: Path) -> BuildReport:
    return build_workspace(find_workspace(examples),
                           BuildOptions(as_of=AS_OF, week="2026-W47", formats=("md",)))


@pytest.mark.slow  # builds the examples
def test_a_link_inside_the_output_folder_is_not_written_through(
    examples: Path, tmp_path: Path
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (examples / "output").mkdir()
    (examples / "output" / "acme-crm").symlink_to(elsewhere)  # as a restored CI cache may hold
    report = _build_md(examples)
    assert list(elsewhere.iterdir()) == []
    (failed,) = report.failed
    assert failed.name == "acme-crm"
    assert "a symbolic link; planforge writes nothing through a link" in failed.error
    assert (examples / "output" / "globex-portal" / "charter.md").is_file()


def test_an_output_folder_that_is_a_link_is_refused(examples: Path, tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (examples / "output").symlink_to(elsewhere)
    with pytest.raises(WorkspaceError, match="a symbolic link"):
        _build_md(examples)
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("special", ["fifo", "/proc/self/fd/1", "link"])
def test_dash_o_replaces_only_regular_files(examples: Path, tmp_path: Path, run_cli: RunCli,
                                            special: str) -> None:
    if special == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    elif special == "link":
        target = tmp_path / "link.md"
        target.symlink_to(tmp_path / "victim.md")
        (tmp_path / "victim.md").write_text("keep me", "utf-8")
    else:
        target = Path(special)
    result = run_cli("render", "brief", "acme-crm", "--as-of", "2026-11-20", "-o", str(target),
                     cwd=examples)
    assert result.exit_code == 1
    assert "planforge replaces only regular files" in result.output
    if special == "link":
        assert (tmp_path / "victim.md").read_text("utf-8") == "keep me"


def test_portfolio_folders_have_safe_names() -> None:
    assert portfolio_folder("Jonas.Weber@Example.com") == "portfolio/jonas.weber@example.com"
    odd = portfolio_folder("jo|n*as?/x@example.com")
    assert re.fullmatch(r"portfolio/jo_n_as__x@example\.com-[0-9a-f]{8}", odd)
    assert odd != portfolio_folder("jo_n_as__x@example.com")


# --- two builds at once, a damaged manifest -----------------------------------------------------


def test_a_second_build_waits_for_the_first(examples: Path) -> None:
    ws = find_workspace(examples)
    with (output_lock(ws), pytest.raises(WorkspaceError, match="another planforge build"),
          output_lock(ws, wait=0.3)):
        pass
    with output_lock(ws, wait=0.3):  # released
        pass


@pytest.mark.slow  # builds the examples
def test_the_manifest_records_each_file_as_written(examples: Path) -> None:
    import hashlib
    import json

    _build_md(examples)
    out = examples / "output"
    manifest = json.loads((out / "manifest.json").read_text("utf-8"))
    for name, entry in manifest["files"].items():
        data = (out / name).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["size"] == len(data)
        assert entry["mtime_ns"] == (out / name).stat().st_mtime_ns


@pytest.mark.slow  # two builds of the examples each
@pytest.mark.parametrize("damage", [
    '{"files": null, "projects": null}',
    '{"files": {"acme-crm/charter.md": null}, "projects": {"acme-crm": null}}',
    '{"files": {"acme-crm/charter.md": {"size": "x"}}, "projects": {"acme-crm": [1]}}',
    "[]", "{", "\x00\xff",
])
def test_a_damaged_manifest_means_a_full_rebuild(examples: Path, damage: str) -> None:
    _build_md(examples)
    (examples / "output" / "manifest.json").write_text(damage, "utf-8")
    report = _build_md(examples)
    assert report.failed == []
    assert report.count("built") == 4 and report.count("skipped") == 0


# --- files planforge would ignore, files it will not read ----------------------------------------


@pytest.mark.slow  # builds the examples
def test_misnamed_files_are_warned_about_not_ignored(examples: Path, run_cli: RunCli) -> None:
    plan = examples / "projects" / "globex-portal" / "project.yaml"
    plan.rename(plan.with_name("project.yml"))
    updates = examples / "projects" / "acme-crm" / "updates"
    (updates / "2026-W47.yaml").rename(updates / "2026-W47.YAML")
    (examples / "projects" / "acme-crm" / "Retrospective.yaml").write_text("{}\n", "utf-8")
    (examples / "projects" / "acme-crm" / "notes.yaml").write_text("{}\n", "utf-8")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert "projects/globex-portal: warning: not a project, so never validated or built: no " \
        "project.yaml here (found project.yml: rename the plan to project.yaml)" in result.output
    assert "projects/acme-crm/updates/2026-W47.YAML: error: update files are named after " \
        "their ISO week" in result.output
    assert "projects/acme-crm/Retrospective.yaml: warning: planforge does not read this " \
        "file: the plan is project.yaml and the retrospective retrospective.yaml (rename it to " \
        "retrospective.yaml)" in result.output
    assert "notes.yaml" not in result.output  # a team's own file is no mistake
    built = run_cli("build", "--formats", "md", "--as-of", "2026-11-20", cwd=examples)
    assert "projects/globex-portal: warning: not a project" in built.output


def test_a_plan_that_is_a_link_is_not_read(examples: Path, tmp_path: Path,
                                           run_cli: RunCli) -> None:
    secret = tmp_path / "secret.yaml"
    secret.write_text("password: hunter2\n", "utf-8")
    updates = examples / "projects" / "acme-crm" / "updates"
    (updates / "2026-W47.yaml").unlink()
    (updates / "2026-W47.yaml").symlink_to(secret)
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert "projects/acme-crm/updates/2026-W47.yaml: error: a symbolic link: planforge reads " \
        "no file through a link" in result.output
    assert "hunter2" not in result.output


@pytest.mark.parametrize("template", ["{project:>3000000000}", "{week:x<99999999}",
                                      "{project.__class__}", "{project!r}"])
def test_the_subject_template_takes_plain_placeholders_only(template: str) -> None:
    from planforge.errors import MailError
    from planforge.mail import subject_for
    from planforge.validate import load_project

    ws = find_workspace(Path(__file__).resolve().parents[1])
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(MailError, match=r"the placeholders are \{project\}, \{customer\}"):
        subject_for(template, project, "2026-W47")
    assert subject_for("{project} {{x}} {week}", project, "2026-W47") == \
        "Acme CRM rollout {x} 2026-W47"


def test_validate_refuses_a_subject_template_send_cannot_fill(examples: Path,
                                                              run_cli: RunCli) -> None:
    _edit(examples / "planforge.yaml", "  from:", '  subject: "{project:>3000000000}"\n  from:')
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert "email.subject: cannot use {project:>3000000000}; the placeholders are" \
        in result.output


@pytest.mark.parametrize(("logo", "message"), [
    ("brand/missing.png", "brand.logo: no file 'brand/missing.png' in the workspace"),
    ("brand/link.png", "brand.logo: 'brand/link.png': a symbolic link"),
])
def test_validate_checks_the_logo(examples: Path, tmp_path: Path, run_cli: RunCli, logo: str,
                                  message: str) -> None:
    (examples / "brand").mkdir()
    (tmp_path / "secret.png").write_bytes(b"\x89PNG secret")
    (examples / "brand" / "link.png").symlink_to(tmp_path / "secret.png")
    _edit(examples / "planforge.yaml", "brand:\n", f"brand:\n  logo: {logo}\n")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert message in result.output


def test_a_templates_folder_that_is_a_link_is_refused(examples: Path, tmp_path: Path) -> None:
    (tmp_path / "etc").mkdir()
    (tmp_path / "etc" / "brief.md.j2").write_text("{% include 'passwd' %}\n", "utf-8")
    (tmp_path / "etc" / "passwd").write_text("root:x:0:0\n", "utf-8")
    (examples / "templates").symlink_to(tmp_path / "etc")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(WorkspaceError, match=r"paths\.templates: .*templates: a symbolic link"):
        render_document(ws, project, "brief", AS_OF, "md")


@pytest.mark.slow  # whole processes with their workers
def test_modules_at_the_workspace_root_never_run_in_the_workers(examples: Path) -> None:
    # The fork server and the resource tracker run as "python -c", which looks modules up in
    # the current folder first: a pull request could add a module there that every worker of
    # its CI build would run. planforge, as installed, runs from the workspace's root.
    import shutil
    import subprocess
    import sys

    planforge = shutil.which("planforge", path=str(Path(sys.executable).parent))
    assert planforge is not None, "planforge is not installed beside this Python"
    planted = "import pathlib\npathlib.Path(__file__).with_suffix('.ran').write_text('ran')\n"
    (examples / "_strptime.py").write_text(planted, "utf-8")  # imported by the workers
    (examples / "multiprocessing").mkdir()  # imported by the fork server to start at all
    (examples / "multiprocessing" / "__init__.py").write_text(planted, "utf-8")
    done = subprocess.run([planforge, "build", "--formats", "md", "--jobs", "2", "--as-of",
                           AS_OF.isoformat(), "--force"], cwd=examples, capture_output=True,
                          text=True, timeout=120,
                          env={k: v for k, v in os.environ.items() if k != "PYTHONSAFEPATH"})
    assert done.returncode == 0, done.stderr
    assert "projects: 4 built" in done.stderr
    assert sorted(p.name for p in examples.rglob("*.ran")) == []


def _marked(mark: str) -> set[int]:
    """Processes whose environment carries ``mark``: a build and everything it started."""
    found = set()
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if mark.encode() in (entry / "environ").read_bytes():
                    found.add(int(entry.name))
            except OSError:
                continue
    return found


@pytest.mark.slow  # a real process pool and a kill -9
def test_workers_end_when_their_build_is_killed(examples: Path) -> None:
    import signal
    import subprocess
    import sys
    import time
    import uuid

    mark = f"PLANFORGE_TEST_{uuid.uuid4().hex}"
    script = (
        "from datetime import date\n"
        "from planforge.build import BuildOptions, build_workspace\n"
        "from planforge.workspace import find_workspace\n"
        "build_workspace(find_workspace(), BuildOptions(as_of=date(2026, 11, 20), "
        "week='2026-W47', formats=('pdf',), jobs=2, force=True))\n"
    )
    build = subprocess.Popen([sys.executable, "-c", script], cwd=examples,
                             env={**os.environ, mark: "1"})
    try:
        deadline = time.monotonic() + 60
        while len(_marked(mark) - {build.pid}) < 3 and build.poll() is None:
            assert time.monotonic() < deadline, "the workers never started"
            time.sleep(0.1)
        assert build.poll() is None, "the build ended before it could be killed"
        build.send_signal(signal.SIGKILL)
        build.wait()
        deadline = time.monotonic() + 15
        while _marked(mark):
            assert time.monotonic() < deadline, f"left running: {sorted(_marked(mark))}"
            time.sleep(0.2)
    finally:
        for pid in _marked(mark):
            os.kill(pid, signal.SIGKILL)


@pytest.mark.slow  # builds the examples
def test_a_full_disk_still_reports_each_project(
    examples: Path, run_cli: RunCli, monkeypatch: pytest.MonkeyPatch
) -> None:
    import errno

    from planforge import outputs

    def full_disk(path: Path) -> None:
        raise OSError(errno.ENOSPC, "No space left on device", str(path.parent))

    monkeypatch.setattr(outputs, "_temporary", full_disk)
    result = run_cli("build", "--formats", "md", "--as-of", "2026-11-20", "--jobs", "1",
                     cwd=examples)
    assert result.exit_code == 1
    for name in ("acme-crm", "globex-portal", "northwind-pipeline-revamp",
                 "xinghe-market-push", "manifest.json"):
        assert f"failed: {name}\n" in result.output
    assert f"{examples / 'output' / 'acme-crm'}: No space left on device" in result.output
    assert "bug" not in result.output and "Traceback" not in result.output


def test_the_send_ledger_stays_inside_the_workspace(examples: Path, tmp_path: Path,
                                                    run_cli: RunCli) -> None:
    _edit(examples / "planforge.yaml", "  from:", "  ledger: ../../sent.jsonl\n  from:")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert "email.ledger: '../../sent.jsonl': expected a path inside the workspace" \
        in result.output
    _edit(examples / "planforge.yaml", "  ledger: ../../sent.jsonl\n", "")
    (examples / ".planforge").symlink_to(tmp_path)
    with pytest.raises(WorkspaceError, match=r"email\.ledger: .*sent\.jsonl: a symbolic link"):
        ledger_path(find_workspace(examples))


@pytest.mark.slow  # builds the examples
def test_a_broken_index_template_fails_the_index_alone(examples: Path,
                                                       run_cli: RunCli) -> None:
    _override(examples, "index.html.j2", "{% if %}\n")
    result = run_cli("build", "--formats", "md", "--as-of", "2026-11-20", "--jobs", "1",
                     cwd=examples)
    assert result.exit_code == 1
    assert re.search(r"failed: index\.html\n.*templates/index\.html\.j2:1: template syntax "
                     r"error", result.output)
    assert "projects: 4 built, 0 unchanged, 0 failed" in result.output
    assert (examples / "output" / "acme-crm" / "charter.md").is_file()
    assert (examples / "output" / "manifest.json").is_file()


@pytest.mark.parametrize(("paths", "message"), [
    ("templates: .", "paths.templates: '.' must be a folder inside the workspace, not the "
     "workspace itself"),
    ("templates: .git", "paths.templates: '.git' must not be or lie in a hidden folder"),
    ("output: projects", "paths.output: 'projects' must not overlap paths.projects"),
    ("output: projects/out", "paths.output: 'projects/out' must not overlap paths.projects"),
    ("output: ./", "paths.output: './' must be a folder inside the workspace"),
])
def test_the_workspace_folders_are_folders_of_their_own(examples: Path, run_cli: RunCli,
                                                        paths: str, message: str) -> None:
    _edit(examples / "planforge.yaml", "locale: en ", f"paths:\n  {paths}\nlocale: en ")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert message in result.output


def test_a_template_cannot_include_a_hidden_file(examples: Path) -> None:
    (examples / "templates" / ".secret").mkdir(parents=True)
    (examples / "templates" / ".secret" / "config").write_text("token\n", "utf-8")
    _override(examples, "brief.md.j2", '{% include ".secret/config" %}\n')
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    with pytest.raises(TemplateError, match="no hidden file or folder"):
        render_document(ws, project, "brief", AS_OF, "md")


# --- links committed to git: read nothing through them, and nothing huge -------------------------


@pytest.mark.slow  # builds the examples
def test_a_linked_project_folder_is_neither_read_nor_built(examples: Path, tmp_path: Path,
                                                           run_cli: RunCli) -> None:
    outside = tmp_path / "outside"
    (examples / "projects" / "globex-portal").rename(outside)
    (examples / "projects" / "globex-portal").symlink_to(outside)
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert "projects/globex-portal: warning: a symbolic link: planforge reads no project " \
        "through a link" in result.output
    built = run_cli("build", "--formats", "md", "--as-of", "2026-11-20", "--jobs", "1",
                    cwd=examples)
    assert not (examples / "output" / "globex-portal").exists()
    assert "projects: 3 built" in built.output
    rendered = run_cli("render", "brief", "globex-portal", "--as-of", "2026-11-20",
                       cwd=examples)
    assert rendered.exit_code == 1 and "no project 'globex-portal'" in rendered.output


def test_a_linked_projects_folder_is_refused(examples: Path, tmp_path: Path,
                                             run_cli: RunCli) -> None:
    (examples / "projects").rename(tmp_path / "projects")
    (examples / "projects").symlink_to(tmp_path / "projects")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert "paths.projects:" in result.output and "a symbolic link" in result.output


@pytest.mark.slow  # builds the examples
@pytest.mark.parametrize("where", ["projects/acme-crm/updates/2026-W48.yaml",
                                   "output/manifest.json"])
def test_links_to_huge_files_are_not_read(examples: Path, tmp_path: Path, where: str) -> None:
    huge = tmp_path / "huge"
    with huge.open("wb") as handle:
        handle.truncate(3 * 1024**3)
    target = examples / where
    target.parent.mkdir(parents=True, exist_ok=True)
    target.unlink(missing_ok=True)
    target.symlink_to(huge if where.endswith(".yaml") else Path("/dev/zero"))
    ws = find_workspace(examples)
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = build_workspace(ws, BuildOptions(as_of=AS_OF, week="2026-W47", formats=("md",)))
    grown_mib = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
    assert grown_mib < 200, f"memory grew by {grown_mib:.0f} MiB"
    failed = {r.name for r in report.failed}
    # A manifest that is a link is read as no manifest, and not written through either.
    assert failed == ({"acme-crm"} if where.endswith(".yaml") else {"manifest.json"})


@pytest.mark.pdf
def test_send_attaches_no_link_put_in_place_of_a_built_pdf(examples: Path, tmp_path: Path) -> None:
    import json

    from planforge.outputs import BuiltOutputs

    ws = find_workspace(examples)
    build_workspace(ws, BuildOptions(as_of=AS_OF, week="2026-W47", formats=("pdf",),
                                     projects=("acme-crm",), read_history=False))
    built = BuiltOutputs(ws, AS_OF, "")
    assert built.brief("acme-crm") is not None
    pdf = examples / "output" / "acme-crm" / "briefs" / "2026-W47.pdf"
    secret = tmp_path / "secret.pdf"
    secret.write_bytes(b"SECRET")
    pdf.unlink()
    pdf.symlink_to(secret)
    manifest_path = examples / "output" / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    entry = manifest["files"]["acme-crm/briefs/2026-W47.pdf"]
    entry["size"], entry["mtime_ns"] = secret.stat().st_size, secret.stat().st_mtime_ns
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    assert BuiltOutputs(ws, AS_OF, "").brief("acme-crm") is None


# --- templates bounded in memory and time --------------------------------------------------------

#: One line each, and each once took gigabytes, minutes or crashed the build.
GREEDY = [
    ('{{ ("a" * 300000000) | length }}', "more than 100,000 items"),
    ('{{ ([1] * 300000000) | length }}', "more than 100,000 items"),
    ('{{ "%0300000000d" | format(1) }}', "No filter named 'format'"),
    ('{{ "{:>300000000}".format(1) }}', "not allowed in a template"),
    ("{{ v.project.start.strftime('%Y' * 50000) }}", "not allowed in a template"),
    ("{{ 'x'.ljust(300000000) }}", "not allowed in a template"),
    ("{{ 'x' | center(300000000) }}", "No filter named 'center'"),
    ("{{ 1 | number(300000000) }}", "300000000 decimals: a number takes 0 to 6"),
    ("{{ (7 ** 99999999) > 1 }}", "an exponent above 64"),
    ("{{ 10 ** 5000 }}", "an exponent above 64"),
    ("{{ range(10 ** 9) | list | length }}", "more than 100,000 numbers"),
    ("{{ lipsum(n=100000) }}", "'lipsum' is undefined"),
    ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "call themselves without end"),
    ('{% include "brief.md.j2" %}', "call themselves without end"),
    ("{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
     "took longer than"),
]


@pytest.mark.parametrize(("payload", "message"), GREEDY)
def test_a_greedy_template_fails_fast(examples: Path, monkeypatch: pytest.MonkeyPatch,
                                      payload: str, message: str) -> None:
    import resource
    import time

    from planforge import render

    # Only the endless loop needs the short limit; the others must fail on their own bound, and
    # a deep include chain can pass 0.3 s on a busy machine before it reaches the recursion limit.
    monkeypatch.setattr(render, "TEMPLATE_SECONDS", 0.3 if message == "took longer than" else 5)
    _override(examples, "brief.md.j2", payload + "\n")
    ws = find_workspace(examples)
    project, _ = load_project(ws, "acme-crm", AS_OF)
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    with pytest.raises(TemplateError, match=re.escape(message)):
        render_document(ws, project, "brief", AS_OF, "md")
    assert time.monotonic() - started < 10
    assert (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024 < 200  # MiB


@pytest.mark.parametrize(("payload", "message"), [
    ('{{ "{:>9}".format(1) }}', "'format' is not allowed in a template"),
    ("{{ x.strftime('%Y') }}", "'strftime' is not allowed in a template"),
    ("{{ 'x' | center(9) }}", "the filter 'center' is not available"),
    ("{{ lipsum() }}", "'lipsum' is not available"),
    ("{% for i in range(200000) %}{% endfor %}", "a range of more than 100,000 numbers"),
    ("{{ 2 ** 100 }}", "an exponent above 64"),
])
def test_validate_finds_what_the_sandbox_would_refuse(examples: Path, run_cli: RunCli,
                                                      payload: str, message: str) -> None:
    _override(examples, "brief.md.j2", payload + "\n")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert f"templates/brief.md.j2:1: error: {message}" in result.output


def test_an_svg_logo_that_grows_while_drawn_is_refused(examples: Path, run_cli: RunCli) -> None:
    layers = ['<g id="a0"><rect width="1" height="1"/></g>'] + [
        f'<g id="a{n}"><use href="#a{n - 1}"/><use href="#a{n - 1}"/></g>' for n in range(1, 25)]
    (examples / "brand").mkdir()
    (examples / "brand" / "logo.svg").write_text(
        '<svg xmlns="http://www.w3.org/2000/svg"><defs>' + "".join(layers) +
        '</defs><use href="#a24"/></svg>', "utf-8")
    _edit(examples / "planforge.yaml", "brand:\n", "brand:\n  logo: brand/logo.svg\n")
    result = run_cli("validate", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 1
    assert "brand.logo: 'brand/logo.svg': an SVG logo may not hold <use> elements" \
        in result.output


@pytest.mark.pdf  # imports the PDF stack
def test_a_pdf_past_its_time_limit_stops_with_a_message(monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from planforge import pdf
    from planforge.limits import TooLong

    monkeypatch.setattr(pdf, "PDF_SECONDS", 0.2)
    monkeypatch.setattr(pdf, "_write", lambda *args: time.sleep(5) or b"")
    meta = pdf.PdfMetadata(title="Slow", author="a", subject="s", keywords=(), lang="en",
                           created=AS_OF)
    started = time.monotonic()
    with pytest.raises(TooLong, match="the PDF of 'Slow' took longer than 0 s"):
        pdf.html_to_pdf("<p>x</p>", meta, base_dir=Path("."), roots=[])
    assert time.monotonic() - started < 2


def test_the_ledger_is_never_a_fifo_or_a_link(tmp_path: Path) -> None:
    from planforge.errors import MailError
    from planforge.mail import Ledger

    fifo = tmp_path / "fifo.jsonl"
    os.mkfifo(fifo)
    with pytest.raises(MailError, match="not a regular file"), Ledger(fifo):
        pass
    link = tmp_path / "link.jsonl"
    link.symlink_to(tmp_path / "elsewhere.jsonl")
    with pytest.raises(MailError, match="cannot open the send ledger"), Ledger(link):
        pass
    assert not (tmp_path / "elsewhere.jsonl").exists()


def test_an_empty_settings_file_is_all_defaults(examples: Path, run_cli: RunCli) -> None:
    (examples / "planforge.yaml").write_text("", "utf-8")
    result = run_cli("validate", "projects/acme-crm", "--as-of", "2026-11-20", cwd=examples)
    assert result.exit_code == 0, result.output
