"""The documents: one frozen view per document kind (``views``), built from the model and the
facts (``content``), rendered to Markdown, HTML and PDF (``pipeline``)."""

from .content import (
    BRIEF_DATES,
    BRIEF_RISKS,
    ChangeLike,
    change_lines,
    email_project,
    meeting_when,
    reason_lines,
)
from .pipeline import (
    FORMATS,
    KINDS,
    accent_colour,
    document_context,
    health_colours,
    project_locale,
    render_document,
    render_email,
    render_formats,
    render_index,
    render_portfolio,
    render_portfolio_formats,
)

__all__ = [
    "BRIEF_DATES",
    "BRIEF_RISKS",
    "FORMATS",
    "KINDS",
    "ChangeLike",
    "accent_colour",
    "change_lines",
    "document_context",
    "email_project",
    "health_colours",
    "meeting_when",
    "project_locale",
    "reason_lines",
    "render_document",
    "render_email",
    "render_formats",
    "render_index",
    "render_portfolio",
    "render_portfolio_formats",
]
