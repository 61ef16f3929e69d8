"""The editor's history page on a large registry: reading each version's one event from its
own lines against reading every version whole (#25). Prints the ratio (no absolute times:
the machine is shared).

    python bench/history.py [events] [versions]
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import registry_text

from icalpub.editor import event_history
from icalpub.editor.history import Version


def main(count: int = 1000, versions: int = 20) -> None:
    text = registry_text(count, seed=1)
    ids = re.findall(r"^  - id: (\S+)$", text, re.M)
    target = ids[len(ids) // 2]
    files = []
    for number in range(versions):  # each version changes another event's title, some ours
        changed = ids[number * 7 % len(ids)] if number % 3 else target
        files.append(
            text.replace(f"  - id: {changed}\n", f"  - id: {changed}\n    location: v{number}\n")
        )
    history = [
        (Version(f"c{n}", "a <a@x.lv>", "2026-12-03T08:00:00+00:00", ""), data.encode())
        for n, data in enumerate(reversed(files))
    ]
    started = time.perf_counter()
    fast = event_history.rows(history, target, ("lv",), None)
    block = time.perf_counter() - started
    original = event_history._Reader._block
    event_history._Reader._block = lambda self, data: None  # type: ignore[method-assign]
    started = time.perf_counter()
    slow = event_history.rows(history, target, ("lv",), None)
    whole = time.perf_counter() - started
    event_history._Reader._block = original  # type: ignore[method-assign]
    assert [r.commit for r in fast] == [r.commit for r in slow]
    print(
        f"{count} events, {versions} versions, {len(fast)} rows: whole / own lines = "
        f"{whole / block:.0f}x"
    )


if __name__ == "__main__":
    main(*(int(a) for a in sys.argv[1:3]))
