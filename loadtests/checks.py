"""The pass/fail checks of the load test, on the recorded requests.

A request's admission happened somewhere between its send and receive times, so each
count comes as bounds: `certain` counts requests wholly inside a window, `possible`
those that touch it. A correct limiter can never make `certain` exceed the limit, and
a refusal is only "early" when even `possible` admissions in the 60.25 s before it fall
short of the limit.

Why 60.25 s (`BUCKET_TOLERANCE`): the limiter keeps bounded state per caller, counts in
buckets of 1/240 of the window (0.25 s of a minute), and counts the bucket the window's
far edge falls in whole, so it never over-admits but may refuse up to one bucket early.
Measured (README, "Algorithm"; `bench/limit_algorithms.py`): under steady overload the
rate is limit x 60 / 60.25 per minute (995.7 at 1000, 99.6 %), and no 60-second span
admits more than the limit.

Minute windows are laid from the middle of the first pause in a subject's admissions
(a moving window under steady overload admits in bursts), so their edges fall where
nothing is admitted and both bounds agree.
"""

import bisect
import itertools
from dataclasses import dataclass, field

WINDOW = 60.0
BUCKET_TOLERANCE = WINDOW / 240
PAUSE = 5.0


@dataclass
class Subject:
    kind: str
    subject: str
    limit: int
    floor: int
    admitted: list[tuple[float, float]] = field(default_factory=list)
    refused: list[tuple[float, float]] = field(default_factory=list)
    server_errors: int = 0
    bad_headers: int = 0
    other: int = 0

    first_sent: float = float("inf")
    last_sent: float = 0.0

    @property
    def requests(self) -> int:
        return len(self.admitted) + len(self.refused) + self.server_errors + self.other

    @property
    def per_minute(self) -> float:
        """Offered load, from the first request to the last."""
        span = self.last_sent - self.first_sent
        return self.requests / span * 60 if span > 0 else 0.0


@dataclass
class Verdict:
    subject: Subject
    windows: list[tuple[int, int]]
    max_certain_any_window: int
    early_refusals: int
    failures: list[str]


def collect(records, limits: dict[str, int], floors: dict[str, int]) -> list[Subject]:
    subjects: dict[tuple[str, str], Subject] = {}
    for record in records:
        key = (record["kind"], record["subject"])
        if key not in subjects:
            kind = record["kind"]
            subjects[key] = Subject(kind, record["subject"], limits[kind], floors[kind])
        subject = subjects[key]
        span = (record["sent"], record["received"])
        subject.first_sent = min(subject.first_sent, record["sent"])
        subject.last_sent = max(subject.last_sent, record["sent"])
        if record["status"] == 200:
            subject.admitted.append(span)
        elif record["status"] == 429:
            subject.refused.append(span)
        elif record["status"] >= 500 or record["status"] == 0:
            subject.server_errors += 1
        else:
            subject.other += 1
        subject.bad_headers += bool(record["problems"]) and record["status"] in (200, 429)
    for subject in subjects.values():
        subject.admitted.sort()
        subject.refused.sort()
    return sorted(subjects.values(), key=lambda s: (s.kind, s.subject))


def _certain(admitted, starts, start: float, end: float) -> int:
    first = bisect.bisect_left(starts, start)
    last = bisect.bisect_left(starts, end)
    return sum(1 for sent, received in admitted[first:last] if received < end)


def _possible(admitted, starts, start: float, end: float) -> int:
    # Requests are short: anything sent more than a minute before `start` ended before it.
    first = bisect.bisect_left(starts, start - WINDOW)
    last = bisect.bisect_left(starts, end)
    return sum(1 for sent, received in admitted[first:last] if received >= start)


def minute_windows(subject: Subject, traffic_end: float) -> list[tuple[float, float]]:
    admitted = subject.admitted
    for (_, previous_end), (next_start, _) in itertools.pairwise(admitted):
        if next_start - previous_end > PAUSE:
            start = (previous_end + next_start) / 2
            break
    else:
        return []
    windows = []
    while start + WINDOW <= traffic_end:
        windows.append((start, start + WINDOW))
        start += WINDOW
    return windows


def judge(subject: Subject, traffic_end: float, minimum_windows: int) -> Verdict:
    admitted = subject.admitted
    starts = [sent for sent, _ in admitted]
    windows = [
        (_certain(admitted, starts, a, b), _possible(admitted, starts, a, b))
        for a, b in minute_windows(subject, traffic_end)
    ]
    max_certain = max(
        (_certain(admitted, starts, sent, sent + WINDOW) for sent in starts), default=0
    )
    early = sum(
        1
        for sent, received in subject.refused
        if _possible(admitted, starts, sent - WINDOW - BUCKET_TOLERANCE, received) < subject.limit
    )
    failures = []
    if subject.per_minute < 2 * subject.limit:
        failures.append(f"offered {subject.per_minute:.0f}/min < 2 x {subject.limit}")
    if len(windows) < minimum_windows:
        failures.append(f"{len(windows)} full minute windows (need {minimum_windows})")
    for index, (certain, possible) in enumerate(windows, 1):
        if certain > subject.limit:
            failures.append(f"minute {index}: {certain} admitted > {subject.limit}")
        if possible < subject.floor:
            failures.append(f"minute {index}: {possible} admitted < {subject.floor}")
    if max_certain > subject.limit:
        failures.append(f"{max_certain} admitted within one 60 s span > {subject.limit}")
    if early:
        failures.append(f"{early} requests refused before the limit was reached")
    if subject.server_errors:
        failures.append(f"{subject.server_errors} 5xx or failed connections")
    if subject.other:
        failures.append(f"{subject.other} responses neither 200 nor 429")
    if subject.bad_headers:
        failures.append(f"{subject.bad_headers} responses with wrong rate-limit headers")
    return Verdict(subject, windows, max_certain, early, failures)


def table(verdicts: list[Verdict], labels: dict[str, str]) -> str:
    lines = [
        f"{'kind':8} {'subject':40} {'limit':>5} {'sent/min':>8} {'200':>6} {'429':>6} "
        f"{'5xx':>4} {'bad hdr':>7} {'early':>5} {'max 60s':>7}  admitted per minute window",
    ]
    for verdict in verdicts:
        subject = verdict.subject
        windows = ", ".join(
            str(certain) if certain == possible else f"{certain}..{possible}"
            for certain, possible in verdict.windows
        )
        label = labels.get(subject.subject, subject.subject)
        lines.append(
            f"{subject.kind:8} {label:40} {subject.limit:5} {subject.per_minute:8.0f} "
            f"{len(subject.admitted):6} {len(subject.refused):6} {subject.server_errors:4} "
            f"{subject.bad_headers:7} {verdict.early_refusals:5} "
            f"{verdict.max_certain_any_window:7}  {windows or '-'}"
        )
    return "\n".join(lines)
