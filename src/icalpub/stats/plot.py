"""The counts as pictures: subscribers per day per resource, and the client families' shares.

Drawn with Matplotlib (the Agg backend, no display), as SVG or PNG; the same
rows give the same bytes (no date in the file, fixed ids), so the editor's
page can be cached and compared.
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from collections.abc import Sequence
from typing import Any

from .clients import label
from .report import Row


def draw(rows: Sequence[Row], fmt: str = "svg") -> bytes:
    """Return a figure of `rows`: subscribers per day per resource, and families' shares."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib import pyplot as plt

    per_day: dict[str, dict[dt.date, int]] = defaultdict(lambda: defaultdict(int))
    per_family: dict[str, int] = defaultdict(int)
    for day, resource, client, subscribers, _, _ in rows:
        per_day[resource][dt.date.fromisoformat(day)] += subscribers
        per_family[client] += subscribers
    with plt.rc_context({"svg.hashsalt": "icalpub", "font.size": 9}):
        figure, (left, right) = plt.subplots(
            1, 2, figsize=(10, 3.6), gridspec_kw={"width_ratios": [2.2, 1]}
        )
        for resource in sorted(per_day):
            days = sorted(per_day[resource])
            left.plot(days, [per_day[resource][d] for d in days], marker=".", label=resource)
        left.set_title("Subscribers per day")
        left.set_ylim(bottom=0)
        if per_day:
            left.legend(loc="upper left", fontsize=7)
        figure.autofmt_xdate()
        families = sorted(per_family, key=lambda f: (-per_family[f], f))
        values = [per_family[f] for f in families]
        if sum(values):
            right.barh([label(f)[:28] for f in families], values, color="#0b4f8a")
            right.invert_yaxis()
        right.set_title("By client (subscriber-days)")
        figure.tight_layout()
        out = io.BytesIO()
        metadata: dict[str, Any] = {"Date": None} if fmt == "svg" else {"Software": None}
        figure.savefig(out, format=fmt, metadata=metadata)
        plt.close(figure)
    return out.getvalue()
