"""Proposals through their life: an author proposes, a publisher approves or declines.

Shared by the form and the API. A proposal is checked when it is made (the
event must still be the version the author opened, and the change must make
a valid registry), but the registry does not change; approving it is the
normal save (the version check, the ledger, one commit authored by the
proposer with the publisher as `Approved-by:`), so a proposal whose event
changed since is refused as a Conflict, which the caller shows with both.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from .accounts import Editor
from .history import Author
from .proposals import Proposal, Proposals, proposals_path
from .refusals import Conflict, NotFound, Refused
from .store import Change, Saved, Store
from .yamltext import Fields, normalize


class Decided(Refused):
    """The proposal was approved or declined already."""


def proposals_of(registry: Path) -> Proposals:
    """Return the proposals of a registry."""
    return Proposals(proposals_path(registry))


def author_of(editor: Editor) -> Author:
    """Return an editor as the author of a save or a proposal."""
    return Author(editor.name, editor.email)


def propose(
    store: Store,
    proposals: Proposals,
    author: Author,
    event_id: str,
    version: str,
    fields: Fields,
    now: dt.datetime,
) -> Proposal:
    """Keep `author`'s change of a published event as a proposal (the registry is unchanged).

    Raise Conflict when the event changed since `version`, Invalid when the
    change would not make a valid registry, NotFound when there is no such event.
    """
    document = store.state().document
    item = document.item(event_id)
    if item is None:
        raise NotFound(f"there is no event '{event_id}'")
    if version != item.version:
        raise Conflict(event_id, document.values(item), item.version)
    change = Change("edit", event_id, fields, version)
    store.preview(change)  # Invalid, with each problem on its field, before anything is kept
    after = normalize(dict(fields, id=event_id))
    return proposals.add(event_id, author, item.version, document.values(item), after, now)


def approve(
    store: Store, proposals: Proposals, proposal: Proposal, publisher: Author, now: dt.datetime
) -> Saved:
    """Save the proposal as its author's change, approved by `publisher`; mark it approved."""
    if proposal.status != "open":
        raise Decided(f"this proposal was {proposal.status} already")
    change = Change(
        "edit",
        proposal.event_id,
        proposal.after,
        proposal.version,
        approved_by=str(publisher),
    )
    saved = store.save(change, proposal.proposer, now)
    proposals.decide(proposal, "approved", publisher, now)
    return saved


def decline(
    proposals: Proposals, proposal: Proposal, publisher: Author, note: str, now: dt.datetime
) -> Proposal:
    """Mark the proposal declined, with a note its author sees."""
    if proposal.status != "open":
        raise Decided(f"this proposal was {proposal.status} already")
    return proposals.decide(proposal, "declined", publisher, now, note)


def visible(proposals: list[Proposal], editor: Editor) -> list[Proposal]:
    """Return the proposals `editor` may see: all for a publisher, their own for an author."""
    if editor.publishes:
        return proposals
    return [p for p in proposals if p.author == editor.name]


__all__ = ["Conflict", "Decided", "approve", "decline", "proposals_of", "propose", "visible"]
