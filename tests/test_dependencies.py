"""An offline dependency check: the installed versions meet the floors with known fixes.

`make audit` runs pip-audit against the vulnerability database where the network allows;
this test needs no network and runs in every `make test`."""

from __future__ import annotations

import tomllib
from importlib.metadata import version
from pathlib import Path

from packaging.requirements import Requirement
from packaging.version import Version

# package -> first version with the fixes we depend on
FLOORS = {
    "gradio": "6.16",  # 2026 path-traversal and SSRF fixes in the file routes
}


def test_installed_versions_meet_the_floors():
    for package, floor in FLOORS.items():
        assert Version(version(package)) >= Version(floor), f"{package} {version(package)}"


def test_pyproject_pins_the_floors():
    project = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text("utf-8"))
    requirements = {Requirement(r).name: Requirement(r) for r in project["project"]["dependencies"]}
    for package, floor in FLOORS.items():
        spec = requirements[package].specifier
        assert not spec.contains(str(Version(floor).major) + ".0"), f"{package} admits {spec}"
        assert spec.contains(floor)
