"""Frozen dataclasses built from validated data: the one place that knows the YAML key names.

Builders assume their input passed the schema; they convert ISO date strings to ``date`` and
fill the defaults the specification gives, so nothing downstream re-derives a default.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

#: The values the schema allows, as types: a misspelt state is a type error, not a silent miss.
Health = Literal["green", "amber", "red"]
RiskStatus = Literal["open", "mitigated", "occurred", "closed"]
AskStatus = Literal["open", "done", "dropped"]
ProjectStatus = Literal["planned", "active", "on-hold", "done", "cancelled"]
RiskVisibility = Literal["sales", "internal"]

Data = dict[str, Any]

#: The day names a meeting's ``day`` may hold, in ISO order (Monday is 0).


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value is not None else None


def _strings(value: list[str] | None) -> tuple[str, ...]:
    return tuple(value or ())


@dataclass(frozen=True)
class Person:
    id: str
    name: str
    role: str
    team: str
    email: str | None
    brief: bool  # receives the weekly sales brief by email
    joined: date | None = None  # first day on the project; None: from its start
    left: date | None = None  # last day on the project; None: still on it

    def active_on(self, day: date) -> bool:
        """Whether they are on the project that day (``joined`` and ``left`` count as on it)."""
        return (self.joined is None or self.joined <= day) and (self.left is None
                                                                 or day <= self.left)

    def left_by(self, day: date) -> bool:
        """Whether they had left the project before that day."""
        return self.left is not None and self.left < day


@dataclass(frozen=True)
class Handover:
    """A previous owner of an item, and the day the next owner took over from them."""

    person: str  # the YAML key is ``from``
    on: date


@dataclass(frozen=True)
class Raci:
    area: str
    responsible: str
    accountable: str
    consulted: tuple[str, ...]
    informed: tuple[str, ...]


@dataclass(frozen=True)
class Communication:
    coordinator: str | None
    channels: tuple[str, ...]
    norms: tuple[str, ...]


@dataclass(frozen=True)
class Goal:
    id: str
    title: str
    metric: str
    baseline: float | None
    target: float
    unit: str | None
    due: date
    owner: str
    why: str | None
    # When measuring starts (``measure_from``): a date, or a milestone's id. Before then the goal
    # expects no progress: benefits that only move after go-live are not "behind" before it.
    measure_from: date | None = None
    measure_from_milestone: str | None = None
    handed_over: tuple[Handover, ...] = ()  # previous owners, oldest first


@dataclass(frozen=True)
class Milestone:
    id: str
    name: str
    due: date  # the baseline agreed at kickoff
    forecast: date | None  # as written; None means "as due"
    done: date | None
    customer_facing: bool
    owner: str | None
    depends_on: tuple[str, ...]
    reason: str | None
    handed_over: tuple[Handover, ...] = ()  # previous owners, oldest first

    @property
    def expected(self) -> date:
        """Today's expected date: the forecast, or the baseline when there is none."""
        return self.forecast or self.due


@dataclass(frozen=True)
class Task:
    id: str
    name: str
    owner: str
    start: date | None
    end: date
    progress: int | None
    done: date | None
    depends_on: tuple[str, ...]
    handed_over: tuple[Handover, ...] = ()  # previous owners, oldest first


@dataclass(frozen=True)
class Phase:
    id: str
    name: str
    start: date
    end: date
    owner: str | None
    milestones: tuple[Milestone, ...]
    tasks: tuple[Task, ...]
    handed_over: tuple[Handover, ...] = ()  # previous owners, oldest first


@dataclass(frozen=True)
class Risk:
    id: str
    title: str
    category: str
    likelihood: int
    impact: int
    owner: str
    mitigation: str
    contingency: str | None
    trigger: str | None
    status: RiskStatus
    raised: date | None
    customer_message: str | None
    visibility: RiskVisibility = "sales"
    handed_over: tuple[Handover, ...] = ()  # previous owners, oldest first

    @property
    def score(self) -> int:
        return self.likelihood * self.impact

    @property
    def internal(self) -> bool:
        """Kept from everything a sales person or the customer sees."""
        return self.visibility == "internal"


@dataclass(frozen=True)
class Meeting:
    id: str
    name: str
    cadence: str  # daily | weekly | biweekly | monthly
    day: str | int | None  # weekday name, day of month, or "first monday" … "last friday"
    time: str  # "HH:MM"
    duration: int  # minutes
    timezone: str | None  # None: the workspace's
    attendees: tuple[str, ...]
    channel: str | None
    purpose: str | None
    agenda: tuple[str, ...]
    skip: tuple[date, ...] = ()  # days it does not take place (holidays), sorted


@dataclass(frozen=True)
class Budget:
    currency: str
    planned: float
    spent: float | None


@dataclass(frozen=True)
class SalesAsk:
    ask: str
    owner: str | None
    due: date | None
    id: str | None = None
    status: AskStatus = "open"

    @property
    def key(self) -> str:
        """What makes two mentions the same ask: its id, else its text (``text_key``)."""
        # Prefixed, so that an id can never equal the text of another ask.
        return f"id:{self.id}" if self.id is not None else self.text_key

    @property
    def text_key(self) -> str:
        """The ask known by its text alone, with spacing evened out."""
        return "text:" + " ".join(self.ask.split())


@dataclass(frozen=True)
class Feedback:
    feedback: str
    source: str | None  # the YAML key is ``from``
    response: str | None


@dataclass(frozen=True)
class Update:
    week: str  # "YYYY-Www"
    health: Health
    summary: str
    done: tuple[str, ...]
    next: tuple[str, ...]
    blockers: tuple[str, ...]
    actuals: dict[str, float]
    sales_asks: tuple[SalesAsk, ...]
    customer_feedback: tuple[Feedback, ...]
    talking_points: tuple[str, ...]
    decisions: tuple[str, ...]


@dataclass(frozen=True)
class Action:
    action: str
    owner: str
    due: date | None


@dataclass(frozen=True)
class Retrospective:
    held: date | None
    facilitator: str | None
    went_well: tuple[str, ...]
    to_improve: tuple[str, ...]
    lessons: tuple[str, ...]
    actions: tuple[Action, ...]


@dataclass(frozen=True)
class Project:
    id: str  # the folder name
    name: str
    customer: str
    summary: str | None
    locale: str | None  # None: the workspace's
    status: ProjectStatus
    start: date
    end: date
    scope_in: tuple[str, ...]
    scope_out: tuple[str, ...]
    acceptance: tuple[str, ...]
    budget: Budget | None
    people: dict[str, Person]
    responsibilities: tuple[Raci, ...]
    communication: Communication | None
    goals: tuple[Goal, ...]
    phases: tuple[Phase, ...]
    risks: tuple[Risk, ...]
    meetings: tuple[Meeting, ...]
    updates: tuple[Update, ...] = ()  # sorted by week
    retrospective: Retrospective | None = None

    @property
    def milestones(self) -> tuple[Milestone, ...]:
        return tuple(m for p in self.phases for m in p.milestones)

    @property
    def tasks(self) -> tuple[Task, ...]:
        return tuple(t for p in self.phases for t in p.tasks)

    def update_for(self, week: str) -> Update | None:
        """The update of that ISO week, if there is one."""
        return next((u for u in self.updates if u.week == week), None)

    def latest_update(self, week: str) -> Update | None:
        """The newest update of that week or earlier."""
        earlier = [u for u in self.updates if u.week <= week]
        return earlier[-1] if earlier else None


@dataclass(frozen=True)
class HealthSettings:
    red_slip_days: int = 14
    budget_ahead_points: float = 15
    goal_behind_points: float = 10
    # A goal measured monthly is at most four ISO weeks old when the next measurement arrives;
    # one older has missed a month and no longer tells where the goal stands.
    stale_actual_weeks: int = 4


#: The port of each kind of SMTP security when planforge.yaml gives none.
SMTP_DEFAULT_PORTS = {"starttls": 587, "ssl": 465, "none": 25}


@dataclass(frozen=True)
class SmtpSettings:
    host: str
    port: int | None
    security: str  # starttls | ssl | none
    username: str | None
    timeout: float

    @property
    def address(self) -> tuple[str, int]:
        """The host and the port to connect to, the default of its security if none is set."""
        return self.host, self.port or SMTP_DEFAULT_PORTS.get(self.security, 587)


@dataclass(frozen=True)
class EmailSettings:
    smtp: SmtpSettings | None = None
    sender: str | None = None  # the YAML key is ``from``
    reply_to: str | None = None
    subject: str = "{project} — weekly brief {week}"
    lists: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ledger: str = ".planforge/sent.jsonl"
    without_update: str = "hold"  # hold | send: a brief before its week's update exists
    resend: str = "changed"  # never | changed: a brief that changed after it was sent
    attach_calendar: bool = False  # the recipient's .ics with the weekly email


@dataclass(frozen=True)
class ChatChannel:
    """A chat channel the weekly summaries are posted to (``chat.channels``)."""

    name: str  # its key in planforge.yaml; the ledger's channel is "SERVICE:NAME"
    service: str  # slack | teams
    webhook_env: str  # the environment variable that holds the webhook URL
    projects: tuple[str, ...] = ()  # project ids posted here
    teams: tuple[str, ...] = ()  # and the projects whose sales people are in these teams

    @property
    def ledger_channel(self) -> str:
        return f"{self.service}:{self.name}"


@dataclass(frozen=True)
class Settings:
    """``planforge.yaml``, with every default filled in."""

    organization: str | None = None
    locale: str = "en"
    currency: str | None = None  # of new projects' budgets; None: by locale (see scaffold)
    timezone: str = "UTC"
    projects_dir: str = "projects"
    output_dir: str = "output"
    templates_dir: str = "templates"
    logo: str | None = None
    accent: str = "#1f4e79"
    health: HealthSettings = field(default_factory=HealthSettings)
    email: EmailSettings = field(default_factory=EmailSettings)
    # Document kind (charter, brief, retro, portfolio) -> the PDF/A variant its PDF claims.
    pdf_archive: dict[str, str] = field(default_factory=dict)
    publish_url: str | None = None  # where the output folder is published (publish.url)
    chat: tuple[ChatChannel, ...] = ()


def build_person(pid: str, d: Data) -> Person:
    team = d["team"]
    return Person(pid, d["name"], d["role"], team, d.get("email"), d.get("brief", team == "sales"),
                  _date(d.get("joined")), _date(d.get("left")))


def build_handovers(d: Data) -> tuple[Handover, ...]:
    """An item's ``handed_over``, oldest first."""
    return tuple(sorted((Handover(h["from"], date.fromisoformat(h["on"]))
                         for h in d.get("handed_over") or ()), key=lambda h: h.on))


def build_milestone(d: Data) -> Milestone:
    return Milestone(
        id=d["id"],
        name=d["name"],
        due=date.fromisoformat(d["due"]),
        forecast=_date(d.get("forecast")),
        done=_date(d.get("done")),
        customer_facing=d.get("customer_facing", False),
        owner=d.get("owner"),
        depends_on=_strings(d.get("depends_on")),
        reason=d.get("reason"),
        handed_over=build_handovers(d),
    )


def build_task(d: Data) -> Task:
    return Task(
        id=d["id"],
        name=d["name"],
        owner=d["owner"],
        start=_date(d.get("start")),
        end=date.fromisoformat(d["end"]),
        progress=int(d["progress"]) if "progress" in d else None,
        done=_date(d.get("done")),
        depends_on=_strings(d.get("depends_on")),
        handed_over=build_handovers(d),
    )


def build_phase(d: Data) -> Phase:
    return Phase(
        id=d["id"],
        name=d["name"],
        start=date.fromisoformat(d["start"]),
        end=date.fromisoformat(d["end"]),
        owner=d.get("owner"),
        milestones=tuple(build_milestone(m) for m in d.get("milestones") or ()),
        tasks=tuple(build_task(t) for t in d.get("tasks") or ()),
        handed_over=build_handovers(d),
    )


def build_goal(d: Data) -> Goal:
    start = d.get("measure_from")
    return Goal(
        id=d["id"],
        title=d["title"],
        metric=d["metric"],
        baseline=d.get("baseline"),
        target=d["target"],
        unit=d.get("unit"),
        due=date.fromisoformat(d["due"]),
        owner=d["owner"],
        why=d.get("why"),
        measure_from=_date(start) if isinstance(start, str) else None,
        measure_from_milestone=start["milestone"] if isinstance(start, dict) else None,
        handed_over=build_handovers(d),
    )


def build_risk(d: Data) -> Risk:
    return Risk(
        id=d["id"],
        title=d["title"],
        category=d["category"],
        likelihood=int(d["likelihood"]),  # the schema admits 3.0 as an integer
        impact=int(d["impact"]),
        owner=d["owner"],
        mitigation=d["mitigation"],
        contingency=d.get("contingency"),
        trigger=d.get("trigger"),
        status=d.get("status", "open"),
        raised=_date(d.get("raised")),
        customer_message=d.get("customer_message"),
        visibility=d.get("visibility", "sales"),
        handed_over=build_handovers(d),
    )


def build_meeting(d: Data) -> Meeting:
    return Meeting(
        id=d["id"],
        name=d["name"],
        cadence=d["cadence"],
        day=d.get("day"),
        time=d["time"],
        duration=int(d.get("duration", 30)),
        timezone=d.get("timezone"),
        attendees=_strings(d.get("attendees")),
        channel=d.get("channel"),
        purpose=d.get("purpose"),
        agenda=_strings(d.get("agenda")),
        skip=tuple(sorted({date.fromisoformat(s) for s in d.get("skip") or ()})),
    )


def build_update(d: Data) -> Update:
    return Update(
        week=d["week"],
        health=d["health"],
        summary=d["summary"],
        done=_strings(d.get("done")),
        next=_strings(d.get("next")),
        blockers=_strings(d.get("blockers")),
        actuals={k: float(v) for k, v in (d.get("actuals") or {}).items()},
        sales_asks=tuple(
            SalesAsk(a["ask"], a.get("owner"), _date(a.get("due")), a.get("id"),
                     a.get("status", "open"))
            for a in d.get("sales_asks") or ()
        ),
        customer_feedback=tuple(
            Feedback(f["feedback"], f.get("from"), f.get("response"))
            for f in d.get("customer_feedback") or ()
        ),
        talking_points=_strings(d.get("talking_points")),
        decisions=_strings(d.get("decisions")),
    )


def build_retrospective(d: Data) -> Retrospective:
    return Retrospective(
        held=_date(d.get("held")),
        facilitator=d.get("facilitator"),
        went_well=_strings(d.get("went_well")),
        to_improve=_strings(d.get("to_improve")),
        lessons=_strings(d.get("lessons")),
        actions=tuple(
            Action(a["action"], a["owner"], _date(a.get("due"))) for a in d.get("actions") or ()
        ),
    )


def build_project(
    project_id: str,
    d: Data,
    updates: list[Data] | None = None,
    retrospective: Data | None = None,
) -> Project:
    """The whole project from its validated ``project.yaml``, updates and retrospective."""
    scope = d.get("scope") or {}
    budget = d.get("budget")
    comm = d.get("communication")
    built_updates = sorted((build_update(u) for u in updates or ()), key=lambda u: u.week)
    return Project(
        id=project_id,
        name=d["name"],
        customer=d["customer"],
        summary=d.get("summary"),
        locale=d.get("locale"),
        status=d.get("status", "active"),
        start=date.fromisoformat(d["start"]),
        end=date.fromisoformat(d["end"]),
        scope_in=_strings(scope.get("in")),
        scope_out=_strings(scope.get("out")),
        acceptance=_strings(d.get("acceptance")),
        budget=(
            Budget(budget["currency"], budget["planned"], budget.get("spent")) if budget else None
        ),
        people={pid: build_person(pid, p) for pid, p in d["people"].items()},
        responsibilities=tuple(
            Raci(
                r["area"],
                r["responsible"],
                r["accountable"],
                _strings(r.get("consulted")),
                _strings(r.get("informed")),
            )
            for r in d.get("responsibilities") or ()
        ),
        communication=(
            Communication(
                comm.get("coordinator"), _strings(comm.get("channels")), _strings(comm.get("norms"))
            )
            if comm
            else None
        ),
        goals=tuple(build_goal(g) for g in d["goals"]),
        phases=tuple(build_phase(p) for p in d["phases"]),
        risks=tuple(build_risk(r) for r in d.get("risks") or ()),
        meetings=tuple(build_meeting(m) for m in d.get("meetings") or ()),
        updates=tuple(built_updates),
        retrospective=build_retrospective(retrospective) if retrospective else None,
    )


def build_settings(d: Data | None) -> Settings:
    """``planforge.yaml`` (validated) with defaults; an absent file gives all defaults."""
    d = d or {}
    paths = d.get("paths") or {}
    brand = d.get("brand") or {}
    health = d.get("health") or {}
    email = d.get("email") or {}
    smtp = email.get("smtp")
    defaults = Settings()
    return Settings(
        organization=d.get("organization"),
        locale=d.get("locale", defaults.locale),
        currency=d.get("currency"),
        timezone=d.get("timezone", defaults.timezone),
        projects_dir=paths.get("projects", defaults.projects_dir),
        output_dir=paths.get("output", defaults.output_dir),
        templates_dir=paths.get("templates", defaults.templates_dir),
        logo=brand.get("logo"),
        accent=brand.get("accent", defaults.accent),
        health=HealthSettings(**health),
        email=EmailSettings(
            smtp=(
                SmtpSettings(
                    host=smtp["host"],
                    port=smtp.get("port"),
                    security=smtp.get("security", "starttls"),
                    username=smtp.get("username"),
                    timeout=float(smtp.get("timeout", 30)),
                )
                if smtp
                else None
            ),
            sender=email.get("from"),
            reply_to=email.get("reply_to"),
            subject=email.get("subject", EmailSettings.subject),
            lists={k: tuple(v) for k, v in (email.get("lists") or {}).items()},
            ledger=email.get("ledger", EmailSettings.ledger),
            without_update=email.get("without_update", EmailSettings.without_update),
            resend=email.get("resend", EmailSettings.resend),
            attach_calendar=email.get("attach_calendar", EmailSettings.attach_calendar),
        ),
        pdf_archive=dict((d.get("pdf") or {}).get("archive") or {}),
        publish_url=(d.get("publish") or {}).get("url"),
        chat=tuple(
            ChatChannel(name, c["service"], c["webhook_env"], _strings(c.get("projects")),
                        _strings(c.get("teams")))
            for name, c in ((d.get("chat") or {}).get("channels") or {}).items()
        ),
    )
