#!/usr/bin/env python3
"""Draws grafana/pg-ip-listen.png: the dashboard's panels, laid out as in pg-ip-listen.json, each from its own
queries evaluated by a real Prometheus over a real run (see render-picture). It is not Grafana's own rendering (no
Grafana runs where this was made); the panels, their queries, legends and layout are the dashboard's.

Usage: render_picture.py PROMETHEUS_URL START END OUT.png
"""
import json
import sys
import urllib.parse
import urllib.request
from datetime import datetime, timezone
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

DASHBOARD = Path(__file__).with_name("pg-ip-listen.json")
STEP = 2
RATE_INTERVAL = "6s"  # Grafana's $__rate_interval for a 1 s scrape and this step: max(4 x scrape, step + scrape)


def query(prometheus, expr, start, end):
    expr = (expr.replace('job=~"$job"', 'job=~".+"').replace('instance=~"$instance"', 'instance=~".+"')
            .replace("$__rate_interval", RATE_INTERVAL))
    url = prometheus + "/api/v1/query_range?" + urllib.parse.urlencode(
        {"query": expr, "start": start, "end": end, "step": STEP})
    with urllib.request.urlopen(url) as response:
        body = json.load(response)
    if body["status"] != "success":
        raise RuntimeError(f"{expr}: {body}")
    return body["data"]["result"]


def legend(template, metric):
    text = template
    for key, value in metric.items():
        text = text.replace("{{" + key + "}}", value)
    return text


def series(result):
    times = [datetime.fromtimestamp(float(t), tz=timezone.utc) for t, _ in result["values"]]
    values = [float(v) for _, v in result["values"]]
    return times, values


def draw_timeline(ax, panel, prometheus, start, end):
    rows = []
    for target in panel["targets"]:
        for result in query(prometheus, target["expr"], start, end):
            rows.append((legend(target.get("legendFormat", ""), result["metric"]), *series(result)))
    rows.sort(key=lambda row: row[0])
    for index, (name, times, values) in enumerate(rows):
        for i in range(len(times) - 1):
            on = values[i] >= 1
            ax.axvspan(times[i], times[i + 1], ymin=(index + 0.15) / len(rows), ymax=(index + 0.85) / len(rows),
                       color="#73bf69" if on else "#3d4452", linewidth=0)
    ax.set_yticks([(index + 0.5) / len(rows) for index in range(len(rows))])
    ax.set_yticklabels([row[0] for row in rows])
    ax.set_ylim(0, 1)


def draw_timeseries(ax, panel, prometheus, start, end):
    for target in panel["targets"]:
        for result in query(prometheus, target["expr"], start, end):
            times, values = series(result)
            ax.plot(times, values, linewidth=1.2, label=legend(target.get("legendFormat", ""), result["metric"]))
    unit = panel.get("fieldConfig", {}).get("defaults", {}).get("unit")
    if unit:
        ax.set_ylabel(unit, fontsize=7)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=6, loc="upper left", ncol=2, frameon=False)


def main():
    prometheus, start, end, out = sys.argv[1], float(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
    dashboard = json.loads(DASHBOARD.read_text())
    plt.style.use("dark_background")
    rows = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in dashboard["panels"])
    fig = plt.figure(figsize=(16, rows * 0.42))
    fig.patch.set_facecolor("#111217")
    fig.suptitle(dashboard["title"] + "  (job orders-service: three instances, a switchover, a leader stopped, "
                 "a new instance joins)", fontsize=11, x=0.01, ha="left")
    grid = fig.add_gridspec(rows, 24, hspace=1.2, wspace=1.5, left=0.04, right=0.99, top=0.96, bottom=0.02)
    for panel in dashboard["panels"]:
        pos = panel["gridPos"]
        ax = fig.add_subplot(grid[pos["y"]:pos["y"] + pos["h"] - 1, pos["x"]:pos["x"] + pos["w"]])
        ax.set_facecolor("#181b1f")
        ax.set_title(panel["title"], fontsize=9, loc="left")
        ax.tick_params(labelsize=6)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
        if panel["type"] == "state-timeline":
            draw_timeline(ax, panel, prometheus, start, end)
        else:
            draw_timeseries(ax, panel, prometheus, start, end)
        ax.set_xlim(datetime.fromtimestamp(start, tz=timezone.utc), datetime.fromtimestamp(end, tz=timezone.utc))
    fig.savefig(out, dpi=90, facecolor=fig.get_facecolor())


if __name__ == "__main__":
    main()
