"""The client as users get it: installed with pip into a clean venv, and fully typed."""

import subprocess
import sys
import venv
from pathlib import Path

import openwearables
import pytest

CLIENT = Path(__file__).resolve().parents[2] / "clients" / "python"


@pytest.mark.slow
def test_pip_install_into_a_clean_venv_then_import(tmp_path):
    venv.create(tmp_path / "venv", with_pip=True)
    python = tmp_path / "venv" / "bin" / "python"

    subprocess.run(
        [python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", str(CLIENT)],
        check=True,
        timeout=240,
    )
    shown = subprocess.run(
        [
            python,
            "-c",
            "import importlib.resources, openwearables; "
            "print(openwearables.__version__, openwearables.OpenWearables.__name__, "
            "importlib.resources.files('openwearables').joinpath('py.typed').is_file())",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=True,
    )

    assert shown.stdout.split() == [openwearables.__version__, "OpenWearables", "True"]


@pytest.mark.slow
def test_the_client_passes_mypy_strict():
    checked = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", CLIENT / "pyproject.toml", CLIENT / "src"],
        capture_output=True,
        text=True,
        timeout=240,
    )

    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_main_readme_links_the_client_readme():
    readme = (CLIENT.parents[1] / "README.md").read_text()

    assert "(clients/python/README.md)" in readme
    assert (CLIENT / "README.md").read_text().startswith("# openwearables\n")
