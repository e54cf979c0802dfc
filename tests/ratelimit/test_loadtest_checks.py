"""The load test's judge (loadtests/checks.py) passes an exact limiter and catches a
limiter that admits one too many or refuses one too early; a refusal within one
0.25 s bucket of the limit freeing is what the bucketed limiter does, and passes."""

from loadtests import checks

LIMIT, INTERVAL, SECONDS = 10, 60 / 27, 200


def _exact_limiter_records() -> list[dict]:
    """What a perfect moving-window limiter does to 2.7x its limit, 10 ms per request."""
    records, admitted = [], []
    for index in range(int(SECONDS / INTERVAL)):
        sent = 1_000_000.0 + index * INTERVAL
        in_window = [at for at in admitted if at > sent - 60]
        status = 200 if len(in_window) < LIMIT else 429
        if status == 200:
            admitted.append(sent)
        records.append(
            {
                "kind": "api_key",
                "subject": "key_a",
                "sent": sent,
                "received": sent + 0.01,
                "status": status,
                "problems": [],
            }
        )
    return records


def _judge(records):
    (subject,) = checks.collect(records, {"api_key": LIMIT}, {"api_key": LIMIT - 1})
    return checks.judge(subject, records[-1]["received"], minimum_windows=2)


def test_an_exact_limiter_passes():
    verdict = _judge(_exact_limiter_records())

    assert verdict.failures == []
    assert verdict.windows == [(LIMIT, LIMIT)] * 2
    assert verdict.max_certain_any_window == LIMIT


def test_one_admission_too_many_fails():
    records = _exact_limiter_records()
    first_refused = next(r for r in records if r["status"] == 429)
    first_refused["status"] = 200

    verdict = _judge(records)

    assert verdict.max_certain_any_window == LIMIT + 1
    assert any("> 10" in failure for failure in verdict.failures)


def test_a_refusal_before_the_limit_fails():
    records = _exact_limiter_records()
    records[3]["status"] = 429

    verdict = _judge(records)

    assert verdict.early_refusals >= 1
    assert any("refused before the limit" in failure for failure in verdict.failures)


def test_server_errors_wrong_headers_and_too_little_load_fail():
    records = _exact_limiter_records()[::3]
    records[5]["status"] = 502
    records[6]["problems"] = ["Retry-After on a 200"]

    failures = " | ".join(_judge(records).failures)

    assert "1 5xx" in failures
    assert "1 responses with wrong rate-limit headers" in failures
    assert "< 2 x 10" in failures


def _refused_after_a_full_minute(seconds_after_oldest: float) -> int:
    """Ten admissions a second apart, then one refusal this long after the first."""
    records = [
        {
            "kind": "api_key",
            "subject": "key_a",
            "sent": 1_000_000.0 + index,
            "received": 1_000_000.01 + index,
            "status": 200,
            "problems": [],
        }
        for index in range(LIMIT)
    ]
    sent = 1_000_000.01 + seconds_after_oldest
    records.append({**records[0], "sent": sent, "received": sent + 0.01, "status": 429})
    return _judge(records).early_refusals


def test_a_refusal_within_one_bucket_is_tolerated_and_a_later_one_is_early():
    assert _refused_after_a_full_minute(60.2) == 0
    assert _refused_after_a_full_minute(60.3) == 1
