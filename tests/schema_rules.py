"""The rules planforge checks in code, written into the JSON Schemas so that an editor refuses
what planforge refuses. ``pytest --update-golden`` rewrites schemas/ from them."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from planforge.dates import DATE_PATTERN, timezone_names, week_pattern
from planforge.schema import ADDRESS_PATTERN

SCHEMAS = Path(__file__).resolve().parent.parent / "schemas"

DATE_DESCRIPTION = (
    "A calendar date written YYYY-MM-DD, e.g. 2026-03-31, between 1970-01-01 and 2199-12-31. "
    "It must be a real date: 2026-02-30 and 2027-02-29 are rejected, 2028-02-29 is not."
)
WEEK_DESCRIPTION = (
    "An ISO week written YYYY-Www, e.g. 2026-W07 (weeks start on Monday; week 1 holds the "
    "year's first Thursday), in 1970–2199. W53 exists only in long years (2026 has one, 2025 "
    "has not). What the schema cannot check: that the week matches the file name."
)
TIMEZONE_NOTE = (
    "The names are those of the IANA time zone database as this schema was written: a zone "
    "added to the database later is accepted by planforge on a machine that knows it, though "
    "an editor using this schema flags it."
)
#: Each time-zone setting's own sentence, before the note.
TIMEZONE_SETTINGS = {
    "workspace": 'IANA time-zone name used for "today", ISO weeks and meeting times. '
                 "Default: `UTC`.",
    "project": "IANA time zone of `time`. Default: the workspace time zone.",
}


_ONLY_PLANFORGE = "Checked by `planforge validate`, not by this schema: "
#: What JSON Schema cannot say of each file, written into its description.
NOT_IN_SCHEMA = {
    "project": "references (people, goals, milestones and tasks named by their keys), "
               "the order of dates (a task's end after its start, phases inside the project, "
               "nothing done in the future), unique ids, dependencies (no cycle, nothing due "
               "before what it depends on), a weekly meeting's day.",
    "update": "the week matches the file name, references (goals and people of the project), "
              "unique ids of asks, asks closed only after being asked.",
    "retrospective": "references (people of the project).",
    "workspace": "folders that do not overlap, a logo that can be read, a subject template "
                 "that can be filled.",
}


def _add_email_pattern(node: Any) -> None:
    if isinstance(node, dict):
        if node.get("format") == "email":
            node["pattern"] = ADDRESS_PATTERN
        for value in node.values():
            _add_email_pattern(value)
    elif isinstance(node, list):
        for value in node:
            _add_email_pattern(value)


def expected(name: str) -> dict[str, Any]:
    """The schema as shipped, with the date, week and time-zone rules of planforge.dates."""
    schema: dict[str, Any] = json.loads((SCHEMAS / f"{name}.schema.json").read_text("utf-8"))
    defs: dict[str, Any] = schema.setdefault("$defs", {})
    about = str(schema["description"]).split(f" {_ONLY_PLANFORGE}")[0]
    schema["description"] = f"{about} {_ONLY_PLANFORGE}{NOT_IN_SCHEMA[name]}"
    _add_email_pattern(schema)
    if "date" in defs:
        defs["date"].update(description=DATE_DESCRIPTION, pattern=DATE_PATTERN)
    if "week" in defs:
        defs["week"].update(description=WEEK_DESCRIPTION, pattern=week_pattern())
    holders = [schema.get("properties", {}),
               defs.get("meeting", {}).get("properties", {})]
    if any("timezone" in props for props in holders):
        defs["timezone"] = {
            "description": f"An IANA time-zone name such as Europe/Berlin. {TIMEZONE_NOTE}",
            "type": "string",
            "enum": list(timezone_names()),
        }
        for props in holders:
            if "timezone" in props:
                keep = {k: v for k, v in props["timezone"].items() if k in ("default", "examples")}
                props["timezone"] = {"$ref": "#/$defs/timezone",
                                     "description": f"{TIMEZONE_SETTINGS[name]} {TIMEZONE_NOTE}",
                                     **keep}
    return schema


def text(schema: dict[str, Any]) -> str:
    """The schema written as the files in schemas/ are."""
    return json.dumps(schema, indent=2, ensure_ascii=False) + "\n"
