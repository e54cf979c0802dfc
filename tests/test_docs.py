"""The docs stay true to the code: settings table, the two commands, links, features."""

import re
from pathlib import Path

import app as application
from app.config import SETTINGS

REPO = Path(__file__).resolve().parent.parent
README = (REPO / "README.md").read_text()
OPERATIONS = (REPO / "docs" / "operations.md").read_text()
ARCHITECTURE = (REPO / "docs" / "architecture.md").read_text()


def test_every_setting_is_documented_in_the_operations_table():
    missing = [s.name for s in SETTINGS if f"| `{s.name}` |" not in OPERATIONS]

    assert missing == []


def test_readme_shows_the_two_commands():
    assert "make run" in README
    assert "make test" in README


def test_every_relative_link_of_the_docs_reaches_a_file():
    documents = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = [
        f"{document.name}: {target}"
        for document in documents
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", document.read_text())
        if not (document.parent / target).exists()
    ]

    assert len(documents) == 4
    assert broken == []


def test_every_feature_package_is_registered_and_in_the_architecture_layout():
    packages = {
        path.parent.name
        for path in (REPO / "app").glob("*/__init__.py")
        if path.parent.name != "core"
    }
    registered = {feature.__name__.removeprefix("app.") for feature in application.FEATURES}

    assert registered == packages
    assert [name for name in sorted(packages) if f"\n  {name}/" not in ARCHITECTURE] == []


def test_adding_a_feature_takes_at_most_ten_steps():
    section = ARCHITECTURE.split("## Adding a feature", 1)[1]
    steps = re.findall(r"^(\d+)\. ", section, flags=re.MULTILINE)

    assert 1 <= len(steps) <= 10
    assert steps == [str(number) for number in range(1, len(steps) + 1)]
