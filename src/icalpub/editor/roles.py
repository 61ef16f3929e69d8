"""Who may do what: a publisher publishes; an author drafts and proposes. Pure.

An author creates drafts and changes them while they stay drafts; an author's
change to an event that is not a draft (published, or scheduled by a
publisher) becomes a proposal a publisher reviews. Publishing a draft,
cancelling, deleting, restoring and the settings are a publisher's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Literal

from .yamltext import Value

Decision = Literal["save", "propose", "forbidden"]
# Why an author may not: said on the page (translated) and in the API's 403.
ONLY_PUBLISHERS = "Only a publisher can do this."
DRAFTS_ONLY = "An author's new event is a draft: a publisher publishes it."
PUBLISH = "Only a publisher can publish a draft: save it as a draft, a publisher publishes it."


def is_draft(fields: Mapping[str, Value] | None) -> bool:
    """Return whether an event, as written, is a draft (`draft: true`)."""
    value = fields.get("draft") if fields is not None else None
    return isinstance(value, str) and value.strip().lower() == "true"


def decide(
    publishes: bool,
    action: str,
    before: Mapping[str, Value] | None = None,
    after: Mapping[str, Value] | None = None,
) -> tuple[Decision, str]:
    """Return what happens to `action` ("add", "edit", anything else) by this editor, and why not.

    `before` is the event as written now, `after` as the editor sent it.
    """
    if publishes:
        return "save", ""
    if action == "add":
        return ("save", "") if is_draft(after) else ("forbidden", DRAFTS_ONLY)
    if action == "edit":
        if not is_draft(before):
            return "propose", ""
        return ("save", "") if is_draft(after) else ("forbidden", PUBLISH)
    return "forbidden", ONLY_PUBLISHERS
