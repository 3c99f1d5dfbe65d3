"""pyproject.toml and environment.yml list the same dependencies; torch stays on the CPU wheel."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def normalise(requirement: str) -> str:
    name, spec = re.match(r"\s*([A-Za-z0-9_.\-\[\]]+)\s*(.*)", requirement).groups()
    return re.sub(r"[-_.]+", "-", name.lower()) + spec.replace(" ", "")


def pyproject_requirements() -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    requirements = list(project["dependencies"])
    for extra in project["optional-dependencies"].values():
        requirements += extra
    return {normalise(r) for r in requirements}


def environment_requirements() -> set[str]:
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip() == "- pip:")
    indent = len(lines[start + 1]) - len(lines[start + 1].lstrip())
    found = set()
    for line in lines[start + 1 :]:
        if line.strip().startswith("#") or not line.strip():
            continue
        if len(line) - len(line.lstrip()) < indent:
            break
        found.add(normalise(line.strip().removeprefix("- ")))
    return found


def test_environment_yml_and_pyproject_list_the_same_dependencies():
    assert environment_requirements() == pyproject_requirements()


def test_torch_is_pinned_to_the_cpu_wheel_and_torchvision_is_absent():
    requirements = pyproject_requirements()
    assert "torch==2.13.0" in requirements
    assert not any(r.startswith("torchvision") for r in requirements)
    assert not any("torchmetrics[" in r for r in requirements)
