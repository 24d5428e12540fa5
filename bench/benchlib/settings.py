"""Run-wide settings, read once from the environment."""
import os
from dataclasses import dataclass
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent.parent
REPO = Path(os.environ.get("C10K_REPO", BENCH_DIR.parent)).resolve()
RESULTS = BENCH_DIR / "results"
VENV = REPO / "target" / "bench-venv"
EXAMPLES = REPO / "target" / "examples-c"
HOST = "127.0.0.1"


def _int(name, default):
    return int(os.environ.get(name, default))


@dataclass(frozen=True)
class Settings:
    quick: bool
    seconds: int           # length of one wrk run
    rounds: int            # interleaved rounds per scenario
    sustained_seconds: int
    idle_count: int        # 0 = decide from the machine's limits
    c10k_conns: int
    burst_count: int
    sweep: tuple           # connection counts for the chart


def load():
    quick = os.environ.get("BENCH_QUICK", "") not in ("", "0")
    return Settings(
        quick=quick,
        seconds=_int("BENCH_SECONDS", 1 if quick else 5),
        rounds=max(3, _int("BENCH_ROUNDS", 3)),
        sustained_seconds=_int("BENCH_SUSTAINED_SECONDS", 6 if quick else 60),
        idle_count=_int("BENCH_IDLE_COUNT", 5000 if quick else 0),
        c10k_conns=_int("BENCH_C10K_CONNS", 10000),
        burst_count=_int("BENCH_BURST_COUNT", 2000 if quick else 10000),
        sweep=tuple(int(x) for x in os.environ.get(
            "BENCH_SWEEP", "10,100,1000,10000").split(",")),
    )
