"""What ships to a functions host matches the package's own dependencies."""

from __future__ import annotations

import tomllib

from sharpened.settings import PROJECT_ROOT


def test_functions_requirements_match_pyproject() -> None:
    pyproject = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    requirements = [
        line.strip()
        for line in (PROJECT_ROOT / "functions" / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements == pyproject["project"]["dependencies"]
