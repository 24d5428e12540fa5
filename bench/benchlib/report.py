"""Results model and the Markdown report."""
import statistics
from dataclasses import dataclass, field
from typing import Optional


@dataclass
class Metric:
    key: str
    label: str
    digits: int = 0
    hide_zero: bool = False  # a breakdown row only worth showing when non-zero


@dataclass
class Table:
    """Samples per server and metric, one value per round."""
    title: str
    metrics: list
    samples: dict = field(default_factory=dict)  # server -> key -> [values]
    notes: dict = field(default_factory=dict)    # server -> why no numbers
    c10k: Optional[str] = None                   # name of the c10k row
    rows: list = field(default_factory=list)     # servers in first-seen order

    def _row(self, server):
        if server not in self.rows:
            self.rows.append(server)

    def add(self, server, values):
        self._row(server)
        row = self.samples.setdefault(server, {})
        for m in self.metrics:
            if m.key in values:
                row.setdefault(m.key, []).append(values[m.key])

    def note(self, server, text):
        self._row(server)
        self.notes[server] = text

    def median(self, server, key):
        values = self.samples.get(server, {}).get(key)
        return statistics.median(values) if values else None

    def values(self, server, key):
        return self.samples.get(server, {}).get(key, [])

    def servers(self):
        return self.rows


@dataclass
class Target:
    text: str
    met: Optional[bool]  # None: could not be measured
    measured: str = "—"


@dataclass
class Result:
    name: str
    title: str
    what: str
    tables: list = field(default_factory=list)
    targets: list = field(default_factory=list)
    commands: list = field(default_factory=list)
    details: list = field(default_factory=list)  # (summary, text) blocks
    error: Optional[str] = None
    configs: dict = field(default_factory=dict)  # generated peer configs
    loadavg: str = ""  # machine load around the scenario, to judge noise


def _fmt(value, digits):
    return "—" if value is None else f"{value:,.{digits}f}"


def ratio(a, b):
    return a / b if a is not None and b else None


def _table_md(t):
    lines = [f"**{t.title}**", "",
             "| server | metric | median | min | max | rounds | c10k / server |",
             "|---|---|---:|---:|---:|---:|---:|"]
    for server in t.servers():
        if server in t.notes:
            note = t.notes[server].replace("|", "\\|")
            lines.append(f"| {server} | — | {note} | | | | |")
        for m in t.metrics:
            vals = t.values(server, m.key)
            if not vals or (m.hide_zero and not any(vals)):
                continue
            r = None if server == t.c10k or not t.c10k else \
                ratio(t.median(t.c10k, m.key), statistics.median(vals))
            lines.append(
                f"| {server} | {m.label} | {_fmt(statistics.median(vals), m.digits)}"
                f" | {_fmt(min(vals), m.digits)} | {_fmt(max(vals), m.digits)}"
                f" | {len(vals)} | {'—' if r is None else f'{r:.2f}×'} |")
    return "\n".join(lines)


def _verdict(target):
    return {True: "met", False: "**not met**", None: "not measured"}[target.met]


def _details_md(summary, text):
    return f"<details><summary>{summary}</summary>\n\n```\n{text.rstrip()}\n```\n</details>"


def scenario_md(res):
    out = [f"## {res.name}: {res.title}", "", res.what, ""]
    if res.loadavg:
        out += [f"1-minute load average before → after: {res.loadavg}", ""]
    if res.error:
        out += [f"Scenario failed: `{res.error}`", ""]
    for t in res.tables:
        out += [_table_md(t), ""]
    for tg in res.targets:
        out.append(f"- Target: {tg.text}; measured: {tg.measured}; {_verdict(tg)}")
    if res.targets:
        out.append("")
    if res.commands:
        out += ["Commands:", "", "```",
                *dict.fromkeys(res.commands), "```", ""]
    for summary, text in res.details:
        out += [_details_md(summary, text), ""]
    return "\n".join(out)


def summary_md(results):
    lines = ["| scenario | target | measured | verdict |", "|---|---|---|---|"]
    for res in results:
        for tg in res.targets:
            lines.append(f"| {res.name} | {tg.text} | {tg.measured} | {_verdict(tg)} |")
    return "\n".join(lines)


def document(header, results, appendix):
    parts = [header, "## Targets", "", summary_md(results), ""]
    parts += [scenario_md(r) for r in results]
    parts += ["## Generated peer configurations", ""]
    parts += [_details_md(name, text) + "\n" for name, text in appendix]
    return "\n".join(parts)
