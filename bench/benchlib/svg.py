"""A small hand-written SVG line chart: two panels (req/s and p99 latency)
against connection count, both x axes logarithmic."""
import math
from html import escape

W, H = 420, 300            # one panel
LEFT, RIGHT, TOP, BOTTOM = 70, 20, 40, 50
COLORS = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"]


def _log_ticks(lo, hi):
    return [10 ** e for e in range(math.floor(math.log10(lo)),
                                   math.ceil(math.log10(hi)) + 1)]


def _linear_ticks(hi, n=5):
    step = 10 ** math.floor(math.log10(hi / n)) if hi > 0 else 1
    for m in (1, 2, 2.5, 5, 10):
        if hi / (step * m) <= n:
            step *= m
            break
    return [i * step for i in range(int(hi / step) + 2)]


def _fmt(v):
    if v >= 1000:
        return f"{v / 1000:g}k"
    return f"{v:g}"


class Axis:
    def __init__(self, ticks, log, lo_px, hi_px):
        self.ticks, self.log = ticks, log
        f = math.log10 if log else float
        self.f, self.a, self.b = f, f(ticks[0]), f(ticks[-1])
        self.lo_px, self.hi_px = lo_px, hi_px

    def __call__(self, v):
        t = (self.f(v) - self.a) / ((self.b - self.a) or 1)
        return self.lo_px + t * (self.hi_px - self.lo_px)


def _panel(ox, title, ylabel, xs, series, log_y):
    ys = [y for pts in series.values() for y in pts if y]
    if log_y and ys:
        yt = _log_ticks(min(ys), max(ys))
    else:
        yt = _linear_ticks(max(ys, default=1) * 1.05)
    x = Axis(_log_ticks(min(xs), max(xs)), True, ox + LEFT, ox + W - RIGHT)
    y = Axis(yt, log_y, H - BOTTOM, TOP)
    out = [f'<text x="{ox + W / 2}" y="22" text-anchor="middle" '
           f'font-weight="bold">{escape(title)}</text>',
           f'<text transform="translate({ox + 16},{H / 2}) rotate(-90)" '
           f'text-anchor="middle">{escape(ylabel)}</text>',
           f'<text x="{ox + W / 2}" y="{H - 10}" text-anchor="middle">'
           'connections</text>']
    for t in x.ticks:
        out.append(f'<line x1="{x(t):.1f}" y1="{TOP}" x2="{x(t):.1f}" '
                   f'y2="{H - BOTTOM}" stroke="#ddd"/><text x="{x(t):.1f}" '
                   f'y="{H - BOTTOM + 16}" text-anchor="middle">{_fmt(t)}</text>')
    for t in y.ticks:
        out.append(f'<line x1="{ox + LEFT}" y1="{y(t):.1f}" x2="{ox + W - RIGHT}" '
                   f'y2="{y(t):.1f}" stroke="#ddd"/><text x="{ox + LEFT - 6}" '
                   f'y="{y(t) + 4:.1f}" text-anchor="end">{_fmt(t)}</text>')
    for color, (name, pts) in zip(COLORS, series.items()):
        xy = [(x(a), y(b)) for a, b in zip(xs, pts) if b]
        if not xy:
            continue
        path = " ".join(f"{px:.1f},{py:.1f}" for px, py in xy)
        out.append(f'<polyline points="{path}" fill="none" stroke="{color}" '
                   'stroke-width="2"/>')
        out += [f'<circle cx="{px:.1f}" cy="{py:.1f}" r="3" fill="{color}"/>'
                for px, py in xy]
    return out


def _legend(names, notes):
    out = []
    for i, (color, name) in enumerate(zip(COLORS, names)):
        label = name + (f" ({notes[name]})" if name in notes else "")
        out.append(f'<rect x="{LEFT + i * 220}" y="{H + 2}" width="12" '
                   f'height="12" fill="{color}"/><text x="{LEFT + i * 220 + 18}" '
                   f'y="{H + 13}">{escape(label)}</text>')
    return out


def chart(xs, rps, p99, notes):
    """xs: connection counts; rps, p99: {server: [value or None per x]};
    notes: {server: why it has no data}."""
    body = _panel(0, "Requests per second", "req/s", xs, rps, False)
    body += _panel(W, "p99 latency", "ms (log)", xs, p99, True)
    body += _legend(list(rps), notes)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{2 * W}" '
            f'height="{H + 24}" font-family="sans-serif" font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n'
            + "\n".join(body) + "\n</svg>\n")
