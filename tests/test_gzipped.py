"""gzip in pieces: any gzip reader reads it, and a new version reuses the unchanged pieces."""

from __future__ import annotations

import gzip
import random
import subprocess
import zlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from icalpub import gzipped


def calendar(count: int, seed: int = 1, edit: int | None = None) -> bytes:
    """Return a calendar-like text of `count` VEVENTs; `edit` changes one event's summary."""
    rng = random.Random(seed)
    vocabulary = [
        "".join(rng.choices("abcdefghijklmnoprstuvzāčēģīķļņšūž", k=7)) for _ in range(2000)
    ]
    events = []
    for i in range(count):
        words = " ".join(rng.choice(vocabulary) for _ in range(250))
        summary = f"Labots {i}" if i == edit else f"Notikums {i}"
        events.append(
            f"BEGIN:VEVENT\r\nUID:e{i}@calendar.example.lv\r\nSUMMARY:{summary}\r\n"
            f"DESCRIPTION:{words}\r\nEND:VEVENT\r\n"
        )
    return ("BEGIN:VCALENDAR\r\n" + "".join(events) + "END:VCALENDAR\r\n").encode()


def test_any_gzip_reader_reads_it() -> None:
    data = calendar(800)
    packed, pieces = gzipped.compress(data)
    assert len(pieces) > 20  # really in pieces
    assert gzip.decompress(packed) == data
    assert zlib.decompress(packed, wbits=31) == data
    command = subprocess.run(["gzip", "-dc"], input=packed, capture_output=True, check=True)
    assert command.stdout == data
    assert packed[:10] == b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"  # no name, no time


def test_pieces_cost_under_one_per_cent_against_one_whole_deflate() -> None:
    data = calendar(800)
    whole = len(zlib.compress(data, gzipped.LEVEL))
    assert len(gzipped.compress(data)[0]) < whole * 1.01


def test_a_new_version_deflates_only_the_pieces_around_its_change(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, pieces = gzipped.compress(calendar(800))
    edited = calendar(800, edit=400)
    deflated = []
    real = zlib.compressobj

    def counting(*args: object, **kwargs: object) -> object:
        deflated.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gzipped.zlib, "compressobj", counting)
    reused, _ = gzipped.compress(edited, pieces)
    assert 1 <= len(deflated) <= 2  # the changed piece, and the one after if it saw the change
    monkeypatch.undo()
    assert reused == gzipped.compress(edited)[0]
    assert gzip.decompress(reused) == edited


@given(
    st.lists(
        st.sampled_from([b"BEGIN:VEVENT\r\n", b"UID:x\r\n", b"END:VEVENT\r\n", b"\xc4\x81", b"a"]),
        max_size=400,
    ).map(b"".join),
    st.lists(st.sampled_from([b"BEGIN:VEVENT\r\nUID:y", b"z"]), max_size=50).map(b"".join),
)
@settings(max_examples=200, deadline=None)
def test_any_bytes_round_trip_with_or_without_earlier_pieces(data: bytes, earlier: bytes) -> None:
    _, known = gzipped.compress(earlier + data)
    packed, _ = gzipped.compress(data, known)
    assert packed == gzipped.compress(data)[0] == gzipped.compress(data, keep=False)[0]
    assert gzip.decompress(packed) == data


def folded(data: bytes) -> bytes:
    """Return `data` with its lines folded at 75 octets, as a calendar's are."""
    lines = data.split(b"\r\n")
    return b"\r\n".join(
        b"\r\n ".join(line[i : i + 74] for i in range(0, len(line), 74)) for line in lines
    )


BASE = folded(calendar(300, seed=3))
_FRAGMENTS = [b"BEGIN:VEVENT\r\n", b"\r\nUID:e", b"x", b"\r\n", b"END:VEVENT\r\n", b"\xc4\x81" * 40]


@given(
    st.lists(
        st.tuples(
            st.floats(0, 1),
            st.integers(0, 3000),
            st.lists(st.sampled_from(_FRAGMENTS), max_size=30).map(b"".join),
        ),
        min_size=1,
        max_size=3,
    )
)
@settings(max_examples=150, deadline=None)
def test_a_version_read_from_its_earlier_one_has_the_cuts_and_keys_of_a_whole_read(
    edits: list[tuple[float, int, bytes]],
) -> None:
    """Cuts and keys taken from the earlier version where its bytes are the same are
    exactly those found by scanning and hashing the whole new version."""
    _, known = gzipped.compress(BASE)
    data = BASE
    for where, removed, inserted in edits:
        at = int(where * len(data))
        data = data[:at] + inserted + data[at + removed :]
        packed, pieces = gzipped.compress(data, known)
        whole, fresh = gzipped.compress(data)
        assert packed == whole
        assert (pieces.cuts, pieces.keys) == (fresh.cuts, fresh.keys)
        known = pieces
    assert gzip.decompress(packed) == data


def test_an_edit_in_the_middle_scans_and_hashes_only_around_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, known = gzipped.compress(calendar(800))
    edited = calendar(800, edit=400)
    hashed = []
    real = gzipped.hashlib.blake2b

    def counting(*args: object, **kwargs: object) -> object:
        hashed.append(1)
        return real(*args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(gzipped.hashlib, "blake2b", counting)
    packed, pieces = gzipped.compress(edited, known)
    assert 1 <= len(hashed) <= 3  # of some 25 pieces: the one changed, its neighbours
    assert len(pieces.keys) > 20
    monkeypatch.undo()
    assert packed == gzipped.compress(edited)[0]
