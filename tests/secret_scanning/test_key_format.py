"""The key-format regex the README gives secret scanners (and GitHub's partner
registration, docs/operations.md) finds the keys we generate, and nothing else of ours."""

import re
from pathlib import Path

import pytest

from app.core.secrets import generate_secret

REPO = Path(__file__).resolve().parents[2]
DOCUMENTED = re.compile(r"`(\\bow_\(\?:live\|test\)_[^`]+)`")


def documented_patterns() -> list[str]:
    return [
        match
        for document in (REPO / "README.md", REPO / "docs" / "operations.md")
        for match in DOCUMENTED.findall(document.read_text())
    ]


@pytest.fixture(scope="module")
def pattern() -> re.Pattern[str]:
    found = set(documented_patterns())
    assert len(found) == 1, found
    return re.compile(found.pop())


def test_readme_and_operations_give_the_same_pattern():
    assert len(documented_patterns()) == 2


@pytest.mark.parametrize("prefix", ["ow_live_", "ow_test_"])
def test_the_pattern_finds_generated_keys_in_text(pattern, prefix):
    keys = [generate_secret(prefix) for _ in range(200)]

    for key in keys:
        assert pattern.fullmatch(key), key
        text = f'API_KEY="{key}"\nrequests.get(url, headers={{"Authorization": "Bearer {key}"}})'
        assert pattern.findall(text) == [key, key]


@pytest.mark.parametrize(
    "text",
    [
        # Ids name each case: generated secrets differ from one collection to the next,
        # and every pytest-xdist worker must collect the same tests.
        pytest.param(generate_secret("secret_"), id="another-prefix"),
        pytest.param(generate_secret("rt_"), id="refresh-token-prefix"),
        pytest.param(generate_secret("ow_prod_"), id="unknown-environment"),
        pytest.param(generate_secret("ow_live_")[:-1], id="truncated"),
        pytest.param(generate_secret("ow_live_") + "x", id="extended"),
        pytest.param("x" + generate_secret("ow_live_"), id="inside-a-word"),
        pytest.param("ow_live_" + "-" * 38, id="not-base62"),
        pytest.param("ow_live_", id="prefix-alone"),
    ],
)
def test_the_pattern_finds_nothing_else(pattern, text):
    assert pattern.search(text) is None
