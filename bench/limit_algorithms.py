"""The limit-algorithm spike: GCRA against the bucketed moving window, simulated.

    .venv/bin/python bench/limit_algorithms.py

Limit 1000 per 60 s. Prints, for each algorithm, under one hour of steady 2.7x load
(45 requests/s): the most admitted in any 60-second span, the fewest in a minute
window and the long-run mean per minute; and the most admitted in a 60-second span after an
idle caller bursts.
"""

import bisect
import math
from collections import deque

LIMIT, WINDOW, BUCKETS = 1000, 60.0, 240


class Gcra:
    """Generic cell rate: one theoretical arrival time, a burst of up to the limit."""

    def __init__(self) -> None:
        self.interval = WINDOW / LIMIT
        self.arrival = 0.0

    def admit(self, now: float) -> bool:
        arrival = max(self.arrival, now)
        if arrival - now > WINDOW - self.interval:
            return False
        self.arrival = arrival + self.interval
        return True


class Buckets:
    """Counts per 1/240 of the window; the bucket the far edge is in counts whole."""

    def __init__(self) -> None:
        self.width = WINDOW / BUCKETS
        self.counts: deque[list[int]] = deque()
        self.total = 0

    def admit(self, now: float) -> bool:
        current = math.floor(now / self.width)
        while self.counts and self.counts[0][0] < current - BUCKETS:
            self.total -= self.counts.popleft()[1]
        if self.total >= LIMIT:
            return False
        if not self.counts or self.counts[-1][0] != current:
            self.counts.append([current, 0])
        self.counts[-1][1] += 1
        self.total += 1
        return True


def most_in_any_span(admitted: list[float]) -> int:
    return max(bisect.bisect_left(admitted, at + WINDOW) - i for i, at in enumerate(admitted))


def run(limiter, times: list[float]) -> list[float]:
    return [at for at in times if limiter.admit(at)]


def main() -> None:
    steady = [index / 45 for index in range(45 * 3600)]
    burst = [index / 1000 for index in range(LIMIT)] + [1 + i / 45 for i in range(45 * 120)]
    print(
        f"{'algorithm':10} {'max in 60 s':>11} {'min per minute':>14} {'mean per minute':>15} "
        f"{'max in 60 s after a burst':>25}"
    )
    for name, algorithm in (("GCRA", Gcra), ("buckets", Buckets)):
        admitted = run(algorithm(), steady)
        minutes = [
            bisect.bisect_left(admitted, start + WINDOW) - bisect.bisect_left(admitted, start)
            for start in range(60, 3540, 60)
        ]
        # The i-th and (i + limit)-th admissions are one reuse of a slot apart.
        reuse = (admitted[-1] - admitted[LIMIT - 1]) / (len(admitted) / LIMIT - 1)
        mean = LIMIT * WINDOW / reuse
        after_burst = run(algorithm(), burst)
        print(
            f"{name:10} {most_in_any_span(admitted):11} {min(minutes):14} {mean:15.1f} "
            f"{most_in_any_span(after_burst):25}"
        )


if __name__ == "__main__":
    main()
