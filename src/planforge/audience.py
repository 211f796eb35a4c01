"""Who receives what: the brief recipients of a project, who gets a portfolio brief over which
projects, and in which language and under which name.

One rule for ``build``, ``render portfolio`` and ``send`` (the README's "Who receives what"):
a person receives the weekly brief of an *active* project when they have ``brief: true`` and an
email address there, and are on the project on the brief's date (joined, and not left). Across
projects a person is their address, compared without case. Whoever receives the briefs of two or
more active projects gets one portfolio brief over exactly those projects; whoever receives one
gets that project's brief.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol, TypeVar

from .errors import UsageError
from .facts import ProjectFacts, Reason, RiskFacts, heat_map
from .model import Person, Project
from .schema import is_address

ACTIVE = "active"


def address_key(address: str) -> str:
    """How an address is compared, and the name of its portfolio folder."""
    return address.strip().lower()


#: The domain of the addresses ``planforge new`` writes. ``.invalid`` is reserved (RFC 2606)
#: and can never deliver, so a skeleton's address is known without guessing, while the real-looking
#: example.com addresses of a demonstration workspace are not mistaken for placeholders.
PLACEHOLDER_DOMAIN = "example.invalid"


def is_placeholder(address: str) -> bool:
    """Whether an address is a placeholder still to be replaced (any ``.invalid`` domain)."""
    return address_key(address).endswith(".invalid")


def _address(person: Person) -> str | None:
    """The address to send to; None for none, and for a placeholder, which nobody receives."""
    address = person.email.strip() if person.email else ""
    return address if address and not is_placeholder(address) else None


def _receives(person: Person, on: date) -> bool:
    """Whether they are someone who receives the brief of ``on``: ``brief: true`` and on the
    project that day (someone who has left is never addressed)."""
    return person.brief and person.active_on(on)


def brief_recipients(project: Project, on: date, closing: bool = False) -> tuple[str, ...]:
    """The address keys that receive this project's brief of the date ``on``: none unless it is
    active, or ``closing`` (its closing brief, the week it closes)."""
    if project.status != ACTIVE and not closing:
        return ()
    return tuple(sorted({address_key(address) for person in project.people.values()
                         if _receives(person, on) and (address := _address(person))}))


def without_address(project: Project, on: date) -> list[tuple[str, Person]]:
    """(person id, person) of those who should receive an active project's brief of ``on`` but
    have no email address to receive it at."""
    if project.status != ACTIVE:
        return []
    return [(pid, person) for pid, person in project.people.items()
            if _receives(person, on) and _address(person) is None]


def by_address(recipients: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """Each address key with the ids of the projects whose brief it receives, both sorted;
    ``recipients`` maps a project id to its brief recipients (as ``brief_recipients``).

    The address rule: a key that is not a plain address receives nothing, since it would also
    name a folder of the output."""
    out: dict[str, list[str]] = {}
    for pid in sorted(recipients):
        for key in recipients[pid]:
            if is_address(key) and pid not in out.setdefault(key, []):
                out[key].append(pid)
    return {key: tuple(out[key]) for key in sorted(out)}


def portfolios(recipients: Mapping[str, Iterable[str]]) -> dict[str, tuple[str, ...]]:
    """The address keys that receive a portfolio brief, each with its projects' ids."""
    return {key: ids for key, ids in by_address(recipients).items() if len(ids) >= 2}


def person_name(address: str, projects: Iterable[Project]) -> str | None:
    """The name a person goes by: as the first project (by id) naming the address writes it."""
    key = address_key(address)
    for project in sorted(projects, key=lambda p: p.id):
        for person in project.people.values():
            if person.email and address_key(person.email) == key:
                return person.name
    return None


def brief_locale(projects: Iterable[Project], default: str) -> str:
    """The language of a brief over these projects: the one they all share, else ``default``
    (the workspace's)."""
    locales = {p.locale or default for p in projects}
    return locales.pop() if len(locales) == 1 else default


@dataclass(frozen=True)
class Recipient:
    """One address and the projects whose brief it receives."""

    address: str  # as the first of its projects (by id) writes it
    name: str | None
    projects: tuple[Project, ...]  # sorted by id

    @property
    def key(self) -> str:
        return address_key(self.address)

    @property
    def portfolio(self) -> bool:
        """Whether they receive one portfolio brief rather than one project's brief."""
        return len(self.projects) >= 2


def recipients(projects: Sequence[Project], on: date,
               closing: Collection[str] = ()) -> list[Recipient]:
    """Everyone who receives a brief of these projects of the date ``on``, by address key;
    ``closing`` names the closed projects whose closing brief still goes out."""
    known = {p.id: p for p in projects}
    members = by_address({p.id: brief_recipients(p, on, p.id in closing) for p in projects})
    out = []
    for key, ids in members.items():
        mine = tuple(known[pid] for pid in ids)
        written = next(address for person in mine[0].people.values()
                       if _receives(person, on) and (address := _address(person))
                       and address_key(address) == key)
        out.append(Recipient(written, person_name(key, mine), mine))
    return out


def portfolio_of(address: str, projects: Sequence[Project], on: date) -> Recipient:
    """The recipient of the portfolio brief of ``on`` at this address; a usage error that says
    what the address receives instead when that is no portfolio brief."""
    if not is_address(address_key(address)):
        raise UsageError(f"'{address}' is not an email address: a portfolio brief is found by "
                         "the sales person's address (ids are per project)")
    key = address_key(address)
    found = [r for r in recipients(projects, on) if r.key == key]
    if found and found[0].portfolio:
        return found[0]
    if found:
        only = found[0].projects[0].id
        raise UsageError(f"{address} receives the brief of one active project, {only}, and no "
                         f"portfolio brief: planforge render brief {only}")
    named = sorted(p.id for p in projects if p.status == ACTIVE
                   and any(person.email and address_key(person.email) == key
                           for person in p.people.values()))
    if named:
        raise UsageError(f"{address} receives no brief: they are not `brief: true` in "
                         f"{', '.join(named)} (see 'Who receives what' in the README)")
    raise UsageError(f"no active project names {address}")


# --- what a sales reader may see ----------------------------------------------------------------
#
# A risk marked ``visibility: internal`` stays with the team: the charter and the retrospective
# show it, and nothing a sales person or the customer reads does (the brief, the portfolio brief,
# the email, chat messages, "since last week"). Every such view takes its facts through
# ``sales_facts`` and its changes through ``sales_changes``, so the rule lives here only.


def sales_risks(risks: Iterable[RiskFacts]) -> tuple[RiskFacts, ...]:
    """The risks a sales reader may see, in the order given: internal ones left out."""
    return tuple(r for r in risks if not r.risk.internal)


def _sales_reason(reason: Reason, internal: Collection[str]) -> Reason:
    # The health level stays as computed (the team does not report a rosier plan to sales than
    # it has); only the reason stops naming the internal risk.
    if reason.subject_id in internal and reason.code.startswith("critical-risk-"):
        return replace(reason, code=reason.code.replace("critical-risk-", "internal-risk-"),
                       subject_id=None)
    return reason


def sales_facts(facts: ProjectFacts) -> ProjectFacts:
    """The facts as a sales person or the customer may see them: internal risks left out of the
    plan, the risks, the top risks, the occurred ones and the heat map; a health reason about
    one keeps its level but no longer names it."""
    internal = {r.risk.id for r in facts.risks if r.risk.internal}
    if not internal:
        return facts
    risks = sales_risks(facts.risks)
    health = replace(facts.health, reasons=tuple(_sales_reason(r, internal)
                                                 for r in facts.health.reasons))
    project = replace(facts.project, risks=tuple(r for r in facts.project.risks
                                                 if not r.internal))
    return replace(facts, project=project, risks=risks, top_risks=sales_risks(facts.top_risks),
                   occurred_risks=sales_risks(facts.occurred_risks),
                   heatmap=heat_map(risks), health=health)


class _MaybeInternal(Protocol):
    @property
    def internal(self) -> bool: ...


_C = TypeVar("_C", bound=_MaybeInternal)


def sales_changes(changes: Iterable[_C]) -> list[_C]:
    """The changes a sales reader may see: none about an internal risk."""
    return [c for c in changes if not c.internal]
