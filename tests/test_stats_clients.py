"""Client families from real User-Agent strings, and the counts hosted readers report."""

from __future__ import annotations

from pathlib import Path

import pytest

from icalpub.stats.clients import classify, families

CORPUS = Path(__file__).resolve().parent / "data" / "user-agents.tsv"
ROWS = [
    line.split("\t", 2)
    for line in CORPUS.read_text("utf-8").splitlines()
    if line and not line.startswith("#")
]


@pytest.mark.parametrize(("family", "reported", "agent"), ROWS)
def test_every_real_user_agent_gets_its_family(family: str, reported: str, agent: str) -> None:
    client = classify(agent)
    assert (client.family, client.reported) == (family, int(reported) if reported else None)


def test_the_corpus_covers_every_family() -> None:
    known, other = families()
    assert {f.family for f in known} | {other.family} == {row[0] for row in ROWS}
    assert [f.family for f in known if f.server_side] == ["google"]
