"""Progress of a long sweep: a live bar with points/s and ETA on a terminal, plain periodic lines
otherwise (logs of batch jobs), and a final summary."""

from __future__ import annotations

import sys
import time


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rem = divmod(seconds, 3600)
    m, s = divmod(rem, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m:02d}:{s:02d}"


class Progress:
    """Reports ``done / total`` points.

    Args:
        total: points to compute in this run.
        stream: where to write (default stderr).
        interval: seconds between plain lines when ``stream`` is not a terminal.
        enabled: ``False`` silences it.
    """

    def __init__(self, total: int, stream=None, interval: float = 10.0, enabled: bool = True, label: str = "sweep"):
        self.total, self.done = total, 0
        self.stream = stream or sys.stderr
        self.tty = hasattr(self.stream, "isatty") and self.stream.isatty()
        self.interval, self.enabled, self.label = interval, enabled, label
        self.start = self._last = time.perf_counter()
        self._reported = -1  # the points the last plain line showed

    def start_line(self) -> None:
        """Show the bar at 0 % at once (the first chunk may take a while)."""
        if not self.enabled or not self.total:
            return
        self.start = self._last = time.perf_counter()
        self.stream.write(("\r" if self.tty else "") + self.line(self.start) + ("" if self.tty else "\n"))
        self.stream.flush()
        self._reported = 0

    def update(self, n: int) -> None:
        self.done += n
        if not self.enabled:
            return
        now = time.perf_counter()
        if self.tty:
            if now - self._last >= 0.1 or self.done >= self.total:
                self._last = now
                self.stream.write("\r" + self.line(now))
                self.stream.flush()
        elif now - self._last >= self.interval:
            self._last, self._reported = now, self.done
            self.stream.write(self.line(now) + "\n")
            self.stream.flush()

    def line(self, now: float | None = None) -> str:
        now = now or time.perf_counter()
        elapsed = max(now - self.start, 1e-9)
        rate = self.done / elapsed
        frac = self.done / self.total if self.total else 1.0
        eta = (self.total - self.done) / rate if rate > 0 else float("inf")
        bar = "#" * int(30 * frac) + "-" * (30 - int(30 * frac))
        eta_s = _duration(eta) if eta != float("inf") else "?"
        return (f"{self.label} [{bar}] {100 * frac:5.1f}% {self.done:,}/{self.total:,} points "
                f"{rate:,.0f} points/s elapsed {_duration(elapsed)} ETA {eta_s}")

    def close(self) -> None:
        """End the bar's line on a terminal; elsewhere (a batch job's log) write the last state
        once more where the last plain line showed less."""
        if not self.enabled:
            return
        if self.tty:
            self.stream.write("\n")
        elif self.total and self._reported != self.done:
            self.stream.write(self.line() + "\n")
        self.stream.flush()
