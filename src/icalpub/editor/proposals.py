"""Authors' proposals: a change to a published event waiting for a publisher.

A proposal is one JSON file in a folder beside the registry
(`.events.proposals/` for `events.yaml`) that holds a `.gitignore` of `*`, so
git never offers it and the registry changes only when a publisher approves
(through the normal save). Each file keeps the event as it was when the
author opened it (its version and fields), the fields the author sent, and
what became of it: approved or declined (with the publisher's note).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Literal

from ..files import write_file
from .history import Author
from .yamltext import Fields

Status = Literal["open", "approved", "declined"]
_ID = re.compile(r"[a-z0-9]{12}")


@dataclass(frozen=True)
class Proposal:
    """An author's change to one event, and what a publisher made of it."""

    id: str
    event_id: str
    author: str  # the proposer's name
    email: str
    created: str  # ISO 8601, UTC
    version: str  # the event's version the author opened
    before: Fields  # the event as written then
    after: Fields  # the event as the author wants it
    status: Status = "open"
    note: str = ""  # the publisher's note on a decline
    decided_by: str = ""  # "name <email>" of the publisher
    decided: str = ""

    @property
    def proposer(self) -> Author:
        """Return the author of the proposal (the commit's author when it is approved)."""
        return Author(self.author, self.email)


@dataclass
class Proposals:
    """The proposals of one registry, each a file in `folder`."""

    folder: Path

    def add(
        self,
        event_id: str,
        author: Author,
        version: str,
        before: Fields,
        after: Fields,
        now: dt.datetime,
    ) -> Proposal:
        """Keep a new proposal; return it (BuildError when the disk refuses)."""
        proposal = Proposal(
            id=secrets.token_hex(6),
            event_id=event_id,
            author=author.name,
            email=author.email,
            created=_stamp(now),
            version=version,
            before=dict(before),
            after=dict(after),
        )
        self._write(proposal)
        return proposal

    def get(self, proposal_id: str) -> Proposal | None:
        """Return the proposal `proposal_id`, if there is one."""
        if not _ID.fullmatch(proposal_id):
            return None
        try:
            data = json.loads((self.folder / f"{proposal_id}.json").read_text("utf-8"))
        except (FileNotFoundError, ValueError):
            return None
        return Proposal(**data)

    def all(self) -> list[Proposal]:
        """Return every proposal, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [self.get(path.stem) for path in self.folder.glob("*.json")]
        return sorted((p for p in found if p is not None), key=lambda p: (p.created, p.id))

    def decide(
        self, proposal: Proposal, status: Status, by: Author, now: dt.datetime, note: str = ""
    ) -> Proposal:
        """Record that `by` approved or declined `proposal`; return it as it is now."""
        decided = replace(
            proposal, status=status, note=note.strip(), decided_by=str(by), decided=_stamp(now)
        )
        self._write(decided)
        return decided

    def _write(self, proposal: Proposal) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        ignore = self.folder / ".gitignore"
        if not ignore.exists():
            write_file(ignore, b"# icalpub's proposals: never offered to git\n*\n")
        data = json.dumps(asdict(proposal), ensure_ascii=False, sort_keys=True, indent=1)
        write_file(self.folder / f"{proposal.id}.json", data.encode() + b"\n", new_mode=0o600)


def proposals_path(registry: Path) -> Path:
    """Return the folder of a registry's proposals: `.events.proposals` for `events.yaml`."""
    return registry.with_name(f".{registry.stem}.proposals")


def _stamp(now: dt.datetime) -> str:
    return now.astimezone(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def proposal_json(proposal: Proposal) -> dict[str, object]:
    """Return a proposal as the API shows it, with its address."""
    return {**asdict(proposal), "url": f"/edit/api/proposals/{proposal.id}"}
