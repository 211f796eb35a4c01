"""The template contract: one frozen view per document kind, made of small records.

A template receives ``v`` (the view of its document kind), ``doc`` (``DocMeta``) and the labels
and filters; nothing else. Every name is already looked up and every sentence put together, so
a template only lays out; dates and numbers stay dates and numbers for the locale's filters.
Workspace templates depend on these names: ``templates/README.md`` documents each field (a test
keeps the two in step), so fields are added freely and removed only with a changelog note.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ..charts import HealthWeek

__all__ = [
    "ActionRow",
    "AskRow",
    "AskSpanRow",
    "BaselineRow",
    "Baselines",
    "BriefView",
    "BudgetSummary",
    "ChangeLine",
    "CharterChange",
    "CharterVersion",
    "CharterView",
    "Charts",
    "CommunicationPlan",
    "DocMeta",
    "EmailProject",
    "EmailView",
    "FeedbackRow",
    "GanttSection",
    "GanttTask",
    "GoalRow",
    "HealthColours",
    "HealthSummary",
    "HealthWeek",
    "HeatCell",
    "HeatRow",
    "IndexDate",
    "IndexDocument",
    "IndexPortfolio",
    "IndexProject",
    "IndexView",
    "IndexWeek",
    "Link",
    "MeetingRow",
    "MilestoneRow",
    "NextMeeting",
    "OccurredRisk",
    "Outcome",
    "PersonRow",
    "PhaseRow",
    "PortfolioRow",
    "PortfolioView",
    "ProjectHead",
    "RaciRow",
    "ReasonLine",
    "RebaselineRow",
    "RetroView",
    "RiskRow",
    "Swatch",
    "UpdateSummary",
]


@dataclass(frozen=True)
class DocMeta:
    """What every document knows about itself, beside its view."""

    kind: str
    title: str
    organization: str | None
    as_of: date
    week: str
    lang: str
    footer: str
    # HTML only (None in Markdown): planforge's own stylesheet, the brand colour and the logo
    # as a data: URI.
    stylesheet: str | None = None
    accent: str | None = None
    logo: str | None = None


# --- records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProjectHead:
    """What a document's heading says about its project."""

    id: str
    name: str
    customer: str
    status: str
    start: date
    end: date
    summary: str | None
    coordinator: str | None
    sales: tuple[str, ...]


@dataclass(frozen=True)
class PersonRow:
    """A person of the project."""

    name: str
    role: str
    team: str
    email: str | None
    brief: bool
    joined: date | None = None  # first day on the project; None: from its start
    left: date | None = None  # last day on the project; None: still on it


@dataclass(frozen=True)
class RaciRow:
    """One row of the RACI matrix, with names; several names are joined with the list
    separator."""

    area: str
    responsible: str
    accountable: str
    consulted: str
    informed: str


@dataclass(frozen=True)
class GoalRow:
    """A goal with its measurement as of the document's date."""

    title: str
    metric: str
    why: str | None
    baseline: float | None
    target: float
    unit: str | None
    due: date
    owner: str
    actual: float | None
    actual_week: str | None
    progress: float | None
    expected: float
    state: str
    measure_from: date | None = None  # when measuring starts; None: the project's start
    stale: bool = False  # the latest actual is too old to judge the goal by
    note: str | None = None  # "Measured from …" or "Last measured in …", in words


@dataclass(frozen=True)
class MilestoneRow:
    """A milestone as of the document's date."""

    name: str
    owner: str
    customer_facing: bool
    due: date
    expected: date
    done: date | None
    actual: date
    state: str
    days: int
    variance_days: int
    reason: str | None
    first_promised: date | None = None  # the kickoff baseline's due where it differs from
    # expected (known from git history only)
    promised_days: int = 0  # expected − first_promised
    # The names of the milestones and tasks whose dates push this one (its critical path, root
    # cause first); empty when its own forecast or due sets the date.
    driven_by: tuple[str, ...] = ()
    # The name documents give as the cause: the first milestone on driven_by, else its first
    # task; None when not pushed.
    driver: str | None = None
    # Brief only: the milestones this one pushes that the brief lists with it rather than on
    # rows of their own (see BriefView.milestones).
    pushes: tuple[MilestoneRow, ...] = ()


@dataclass(frozen=True)
class PhaseRow:
    """A phase of the schedule with its milestones."""

    name: str
    owner: str
    start: date
    end: date
    milestones: tuple[MilestoneRow, ...]


@dataclass(frozen=True)
class GanttTask:
    """One line of a Mermaid gantt block."""

    name: str
    tags: str
    start: str
    end: str


@dataclass(frozen=True)
class GanttAxis:
    """The time axis of a Mermaid gantt block: a d3 time format and a tick interval."""

    pattern: str  # not ``format``: the template sandbox refuses that name, a method of str
    ticks: str


@dataclass(frozen=True)
class GanttSection:
    """A section of a Mermaid gantt block."""

    name: str
    tasks: tuple[GanttTask, ...]


@dataclass(frozen=True)
class RiskRow:
    """A risk of the register, numbered R1, R2 … by score."""

    number: str
    title: str
    category: str
    trigger: str | None
    likelihood: int
    impact: int
    score: int
    level: str
    owner: str
    mitigation: str
    contingency: str | None
    status: str
    customer_message: str | None
    internal: bool = False  # visibility: internal (shown in the charter and retrospective only)


@dataclass(frozen=True)
class HeatCell:
    """One cell of the Markdown heat map."""

    level: str
    risks: tuple[str, ...]


@dataclass(frozen=True)
class HeatRow:
    """One likelihood row of the Markdown heat map."""

    likelihood: int
    cells: tuple[HeatCell, ...]


@dataclass(frozen=True)
class CommunicationPlan:
    """How the team communicates."""

    channels: tuple[str, ...]
    norms: tuple[str, ...]


@dataclass(frozen=True)
class MeetingRow:
    """A meeting of the cadence, with when it recurs in words and who attends."""

    name: str
    purpose: str | None
    agenda: tuple[str, ...]
    channel: str | None
    when: str
    attendees: str


@dataclass(frozen=True)
class NextMeeting:
    """The next occurrence of a meeting, in words."""

    name: str
    when: str
    channel: str | None


@dataclass(frozen=True)
class BudgetSummary:
    """The budget with what remains."""

    currency: str
    planned: float
    spent: float | None
    remaining: float | None
    spent_share: float | None
    elapsed: float
    ahead_points: float | None
    over: bool


@dataclass(frozen=True)
class ReasonLine:
    """Why computed health is not green, as a sentence."""

    level: str
    text: str


@dataclass(frozen=True)
class HealthSummary:
    """Computed health, the reported one beside it, and the reasons."""

    level: str
    reported: str | None
    watermelon: bool
    reasons: tuple[ReasonLine, ...]


@dataclass(frozen=True)
class AskRow:
    """Something the team asks of sales, open as of the document's week."""

    ask: str
    owner: str
    due: date | None
    raised: str  # the week it was first asked
    open_weeks: int  # whole weeks it has been open; 0: asked this week
    open_since: str | None  # "open for 2 weeks, since 2026-W45"; None when asked this week


@dataclass(frozen=True)
class FeedbackRow:
    """Customer feedback and the team's response."""

    feedback: str
    source: str
    response: str | None


@dataclass(frozen=True)
class UpdateSummary:
    """The weekly update the brief reports."""

    week: str
    stale: bool
    summary: str
    blockers: tuple[str, ...]
    decisions: tuple[str, ...]
    talking_points: tuple[str, ...]
    asks: tuple[AskRow, ...]
    feedback: tuple[FeedbackRow, ...]


@dataclass(frozen=True)
class ChangeLine:
    """A change since last week, as a sentence."""

    kind: str
    text: str
    customer_facing: bool
    note: str | None


@dataclass(frozen=True)
class Outcome:
    """The retrospective's counts at a glance."""

    goals: int
    goals_achieved: int
    milestones: int
    milestones_on_time: int
    open_milestones: int
    risks: int
    risks_occurred: int


@dataclass(frozen=True)
class ActionRow:
    """An action agreed in the retrospective."""

    action: str
    owner: str
    due: date | None


@dataclass(frozen=True)
class BaselineRow:
    """A milestone against the kickoff baseline and against its last re-baseline."""

    name: str
    customer_facing: bool
    kickoff: date | None  # due at kickoff; None: added to the plan after kickoff
    due: date  # due after the last re-baseline: today's plan
    done: date | None
    actual: date  # done, else the forecast
    variance_kickoff: int | None  # actual − kickoff, signed
    variance_due: int  # actual − due, signed
    state: str  # as milestone_state, done-late when done after the kickoff date
    reason: str | None


@dataclass(frozen=True)
class RebaselineRow:
    """One change of a baseline after kickoff."""

    day: date
    kind: str  # milestone, end (the project's) or budget (planned)
    subject: str  # the milestone's name; the project's name for its end and budget
    old: str
    new: str
    days: int | None  # how far a date moved; None for the budget
    reason: str


@dataclass(frozen=True)
class OccurredRisk:
    """A risk that occurred at some point, even if closed later."""

    title: str
    first: date | None  # the first day a committed plan had it occurred; None: today's plan only
    status: str | None  # its status today; None: no longer in the register
    response: str  # the contingency, else the mitigation


@dataclass(frozen=True)
class Baselines:
    """What the plan's git history tells the retrospective."""

    kickoff: date  # the day of the kickoff baseline's commit
    commit: str  # that commit, abbreviated
    milestones: tuple[BaselineRow, ...]
    rebaselines: tuple[RebaselineRow, ...]
    occurred: tuple[OccurredRisk, ...]
    budget_kickoff: float | None  # planned at kickoff; None when the plan had no budget then


@dataclass(frozen=True)
class CharterChange:
    """One change to the plan agreed at kickoff, as the charter lists it."""

    day: date  # the day of the commit that made it
    kind: str  # milestone, end, budget (re-baselines); milestone-added, milestone-removed;
    # scope-in-added, scope-in-removed, scope-out-added, scope-out-removed; goal-target, goal-due
    text: str  # the change as a sentence in the document's language
    reason: str  # the milestone's reason for a re-baseline, else the commit message's first line


@dataclass(frozen=True)
class CharterVersion:
    """Which version of the plan the charter shows."""

    state: str  # kickoff: the version agreed at kickoff; draft: no version agreed yet, the
    # current plan; unknown: no git history, today's plan
    kickoff: date | None  # the day of the kickoff commit (state kickoff only)
    commit: str | None  # that commit, abbreviated (state kickoff only)
    changes: tuple[CharterChange, ...]  # since kickoff up to the as-of date, oldest first


@dataclass(frozen=True)
class AskSpanRow:
    """An ask of sales across the weekly updates and how long it stayed open."""

    ask: str
    owner: str
    raised: str  # the week of the first update listing it
    closed: str | None  # the week of the first later update without it; None: still open
    weeks: int


@dataclass(frozen=True)
class Charts:
    """The SVG charts, drawn for the HTML documents that show them; None otherwise."""

    goals: str | None = None
    gantt: str | None = None
    heatmap: str | None = None
    variance: str | None = None
    health: str | None = None
    # Each chart's text alternative (also the SVG's <title>): what it shows, in sentences.
    goals_alt: str | None = None
    gantt_alt: str | None = None  # each phase, then each milestone with its dates and state
    heatmap_alt: str | None = None
    variance_alt: str | None = None
    health_alt: str | None = None


@dataclass(frozen=True)
class Swatch:
    """One colour of the stylesheet's palette: the text colour and the background behind it."""

    ink: str
    fill: str


@dataclass(frozen=True)
class HealthColours:
    """The health colours of the documents' stylesheet, for HTML that can carry no stylesheet
    (email clients keep inline styles only); ``grey`` is for a health nobody reported."""

    green: Swatch
    amber: Swatch
    red: Swatch
    grey: Swatch


@dataclass(frozen=True)
class EmailProject:
    """What an email says about one project; the attached PDF carries the rest."""

    id: str
    name: str
    customer: str
    reported: str | None
    computed: str
    watermelon: bool
    summary: str | None
    update_week: str | None
    stale: bool
    asks: tuple[AskRow, ...]
    next_date: date | None
    next_milestone: str | None
    next_promised: date | None = None  # first promised for that milestone, where it differs
    next_promised_days: int = 0  # next_date − next_promised
    next_driver: str | None = None  # the milestone (or task) that pushes next_date, if any


@dataclass(frozen=True)
class Link:
    """A link of the index, relative to the output folder."""

    text: str
    href: str


@dataclass(frozen=True)
class IndexDocument:
    """One document of a project in the index, with a link per format on disk."""

    kind: str
    links: tuple[Link, ...]


@dataclass(frozen=True)
class IndexProject:
    """One project's row in the index."""

    id: str
    name: str
    customer: str
    computed: str | None
    reported: str | None
    documents: tuple[IndexDocument, ...]
    other_weeks: tuple[Link, ...]
    # The dashboard: empty or None until the project is built by a version that records them.
    status: str = ""
    watermelon: bool = False  # reported better than computed
    sales: tuple[str, ...] = ()
    coordinator: str = ""
    trend: str = ""  # the health of the last weeks as a small SVG line (safe markup)
    trend_text: str = ""  # the same, as text: "W40 Green, W41 Amber"
    next_name: str | None = None  # the next customer-facing milestone
    next_date: date | None = None
    next_slip: int = 0  # its expected date − its baseline, days
    next_state: str = ""  # on-track, slipping or overdue
    asks: tuple[str, ...] = ()
    top_risk: str = ""
    top_risk_level: str = ""
    weeks: tuple[IndexWeek, ...] = ()  # every week built, newest first


@dataclass(frozen=True)
class IndexWeek:
    """The documents of one project or person built for one week, one link per format."""

    week: str  # "YYYY-Www"; "" for the documents that are not by week (charter, calendar)
    documents: tuple[IndexDocument, ...]


@dataclass(frozen=True)
class IndexDate:
    """A customer-facing date of one project in the next weeks."""

    day: date
    project_id: str
    project: str
    customer: str
    milestone: str
    slip: int
    state: str  # on-track, slipping or overdue


@dataclass(frozen=True)
class IndexPortfolio:
    """One sales person's portfolio brief in the index."""

    address: str
    links: tuple[Link, ...]
    weeks: tuple[IndexWeek, ...] = ()  # the calendar, then every week built, newest first


@dataclass(frozen=True)
class PortfolioRow:
    """One project's row in the portfolio's one-page overview."""

    anchor: str
    name: str
    customer: str
    reported: str | None
    computed: str
    watermelon: bool
    next_date: MilestoneRow | None
    slipped: int
    asks: int
    # The one-page overview: what a sales person needs of each project without turning a page.
    reported_week: str | None  # the update ``reported`` comes from, when not this week's
    top_asks: tuple[AskRow, ...]  # the first open asks, oldest first
    more_asks: int  # open asks beyond ``top_asks``
    top_risk: RiskRow | None  # the open risk with the highest score


# --- the views --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CharterView:
    """The kickoff charter."""

    version: CharterVersion
    project: ProjectHead
    scope_in: tuple[str, ...]
    scope_out: tuple[str, ...]
    acceptance: tuple[str, ...]
    goals: tuple[GoalRow, ...]
    people: tuple[PersonRow, ...]
    raci: tuple[RaciRow, ...]
    phases: tuple[PhaseRow, ...]
    gantt: tuple[GanttSection, ...]
    gantt_axis: GanttAxis
    risks: tuple[RiskRow, ...]
    heat_rows: tuple[HeatRow, ...]
    communication: CommunicationPlan | None
    meetings: tuple[MeetingRow, ...]
    budget: BudgetSummary | None
    signoff: tuple[PersonRow, ...]
    charts: Charts
    former: tuple[PersonRow, ...] = ()  # who left the project before the document's date


@dataclass(frozen=True)
class BriefView:
    """The weekly sales brief of one project."""

    project: ProjectHead
    anchor: str
    health: HealthSummary
    progress: float
    elapsed: float
    next_dates: tuple[MilestoneRow, ...]
    update: UpdateSummary | None
    risk_messages: tuple[str, ...]
    issues: tuple[RiskRow, ...]
    milestones: tuple[MilestoneRow, ...]
    goals: tuple[GoalRow, ...]
    top_risks: tuple[RiskRow, ...]
    changes: tuple[ChangeLine, ...] | None
    next_meetings: tuple[NextMeeting, ...]
    charts: Charts


@dataclass(frozen=True)
class RetroView:
    """The retrospective."""

    project: ProjectHead
    held: date | None
    facilitator: str | None
    outcome: Outcome
    goals: tuple[GoalRow, ...]
    milestones: tuple[MilestoneRow, ...]
    gantt: tuple[GanttSection, ...]
    gantt_axis: GanttAxis
    risks: tuple[RiskRow, ...]
    budget: BudgetSummary | None
    budget_verdict: str
    health_weeks: tuple[HealthWeek, ...]
    asks: tuple[AskSpanRow, ...]
    baselines: Baselines | None  # None: no git history to read the kickoff baseline from
    went_well: tuple[str, ...]
    to_improve: tuple[str, ...]
    lessons: tuple[str, ...]
    actions: tuple[ActionRow, ...]
    charts: Charts
    former: tuple[PersonRow, ...] = ()  # who left the project before the document's date


@dataclass(frozen=True)
class PortfolioView:
    """One sales person's portfolio: the summary table and each project's rendered brief."""

    person: str
    email: str
    rows: tuple[PortfolioRow, ...]
    bodies: tuple[str, ...]


@dataclass(frozen=True)
class EmailView:
    """The body of one email: one project's brief, or a portfolio of several."""

    projects: tuple[EmailProject, ...]
    portfolio: bool
    filename: str
    colours: HealthColours
    updated: str | None = None  # a re-sent brief's first line: "Updated: " and what changed


@dataclass(frozen=True)
class IndexView:
    """``index.html``: every project of the workspace and the portfolio briefs, linked."""

    projects: tuple[IndexProject, ...]
    portfolios: tuple[IndexPortfolio, ...]
    # The dashboard's filters and its calendar of the next weeks.
    sales: tuple[str, ...] = ()  # every sales person named by a project, sorted
    customers: tuple[str, ...] = ()
    coordinators: tuple[str, ...] = ()
    upcoming: tuple[IndexDate, ...] = ()  # customer-facing dates of the next weeks, by date
    upcoming_until: date | None = None  # the last day ``upcoming`` covers
