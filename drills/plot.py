"""A picture of the soak: readings not yet durable and each process's memory, over the run."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # no display: the drills run headless
import matplotlib.pyplot as plt

from drills.soak import Samples


def draw(samples: Samples, *, rate: float, limit_s: float, memory_limit: float, warmup_s: float, path: Path) -> None:
    """Lag in seconds of readings against its limit, with PostgreSQL's checkpoints marked; memory
    as growth since the warm-up against its limit."""
    figure, (lag_axes, memory_axes) = plt.subplots(2, 1, sharex=True, figsize=(10, 7), constrained_layout=True)
    minutes = [at / 60 for at, _ in samples.behind]
    lag_axes.plot(minutes, [behind / rate for _, behind in samples.behind], color="tab:blue", label="not yet durable")
    lag_axes.axhline(limit_s, color="tab:red", linestyle="--", label=f"bound, {limit_s:g} s")
    for i, at in enumerate(samples.checkpoints):
        mark = "PostgreSQL checkpoint" if i == 0 else None
        lag_axes.axvline(at / 60, color="grey", alpha=0.4, linewidth=1, label=mark)
    lag_axes.set_ylabel("seconds of readings")
    lag_axes.set_title(f"Readings published and not yet durable in TimescaleDB, at {rate:,.0f} readings/s")
    lag_axes.legend(loc="upper left")
    for name, series in sorted(samples.memory.items()):
        settled = [(at, mib) for at, mib in series if at >= warmup_s]
        if settled:
            first = settled[0][1]
            growth = [100 * (mib / first - 1) for _, mib in settled]
            memory_axes.plot([at / 60 for at, _ in settled], growth, label=name)
    memory_axes.axhline(100 * memory_limit, color="tab:red", linestyle="--", label=f"bound, {memory_limit:+.0%}")
    memory_axes.set_ylabel("growth since the warm-up, %")
    memory_axes.set_xlabel("minutes into the soak")
    memory_axes.set_title("Resident memory (PSS, shared segments apart) of each process")
    memory_axes.legend(loc="upper left", ncol=3, fontsize="small")
    figure.savefig(path, dpi=100)
    plt.close(figure)
