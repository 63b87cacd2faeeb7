"""The engine imports only the standard library and itself."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

import bridge.policy

PACKAGE = Path(bridge.policy.__file__).parent
MODULES = sorted(PACKAGE.rglob("*.py"))


def _imported(path: Path) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("path", MODULES, ids=[str(p.relative_to(PACKAGE)) for p in MODULES])
def test_policy_imports_stay_inside(path: Path) -> None:
    outside = {
        name
        for name in _imported(path)
        if not name.startswith("bridge.policy")
        and name.split(".")[0] not in sys.stdlib_module_names
        and name != "__future__"
    }
    assert outside == set()
