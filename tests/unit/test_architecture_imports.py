"""The import rules of ARCHITECTURE.md and CONVENTIONS.md, enforced on the source tree."""

from __future__ import annotations

import ast
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "bridge"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Absolute names of every module the file imports (relative imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = (
        _module_name(path).rsplit(".", 1)[0] if path.name != "__init__.py" else _module_name(path)
    )
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(_resolve(node, package))
    return found


def _resolve(node: ast.ImportFrom, package: str) -> str:
    if node.level == 0:
        return node.module or ""
    base = package.split(".")
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


SOURCES = {_module_name(p): _imports(p) for p in sorted(PACKAGE.rglob("*.py"))}


def _top(name: str) -> str:
    return name.split(".", maxsplit=1)[0]


def _within(module: str, *prefixes: str) -> bool:
    return any(module == p or module.startswith(p + ".") for p in prefixes)


# library → the only modules allowed to import it
LIBRARY_HOMES = {
    "saml2": ("bridge.verify.saml",),
    "authlib": ("bridge.verify.oidc",),
    "joserfc": ("bridge.verify.oidc",),  # authlib's JOSE package (authlib.jose is deprecated)
    "sqlalchemy": ("bridge.storage",),
    "alembic": ("bridge.storage",),
    "redis": ("bridge.storage",),
    "prometheus_client": ("bridge.observability",),
    "flask": ("bridge.app", "bridge.login", "bridge.query", "bridge.api"),
    "werkzeug": ("bridge.app", "bridge.login", "bridge.query", "bridge.api"),
}

EDGES = ("bridge.login", "bridge.query", "bridge.api", "bridge.app", "bridge.cli", "bridge.serving")
STEPS = (
    "bridge.policy",
    "bridge.storage",
    "bridge.directory",
    "bridge.credentials",
    "bridge.verify",
    "bridge.mapping",
    "bridge.trust",
    "bridge.authz",
    "bridge.federate",
    "bridge.audit",
)


def test_sources_were_found() -> None:
    assert "bridge.app" in SOURCES
    assert "bridge.settings" in SOURCES


@pytest.mark.parametrize("library", sorted(LIBRARY_HOMES))
def test_library_enters_only_at_its_edge(library: str) -> None:
    offenders = [
        module
        for module, imports in SOURCES.items()
        if any(_top(name) == library for name in imports)
        and not _within(module, *LIBRARY_HOMES[library])
    ]
    assert offenders == [], f"{library} imported outside {LIBRARY_HOMES[library]}"


def test_policy_engine_uses_only_the_standard_library() -> None:
    offenders = {
        module: sorted(
            name
            for name in imports
            if _top(name) not in sys.stdlib_module_names and not _within(name, "bridge.policy")
        )
        for module, imports in SOURCES.items()
        if _within(module, "bridge.policy")
    }
    assert {m: names for m, names in offenders.items() if names} == {}


def test_steps_never_import_edges() -> None:
    offenders = [
        (module, name)
        for module, imports in SOURCES.items()
        if _within(module, *STEPS)
        for name in imports
        if _within(name, *EDGES)
    ]
    assert offenders == []


def test_storage_imports_nothing_above_it() -> None:
    allowed = ("bridge.storage", "bridge.errors", "bridge.clock")
    offenders = [
        (module, name)
        for module, imports in SOURCES.items()
        if _within(module, "bridge.storage")
        for name in imports
        if _top(name) == "bridge" and not _within(name, *allowed)
    ]
    assert offenders == []


def test_client_imports_nothing_of_the_server() -> None:
    offenders = [
        (module, name)
        for module, imports in SOURCES.items()
        if _within(module, "bridge.client")
        for name in imports
        if _top(name) == "bridge" and not _within(name, "bridge.client")
    ]
    assert offenders == []


def test_client_uses_only_the_standard_library() -> None:
    """`bridge.client` is installed alone by internal services: no third-party package."""
    client = {m: names for m, names in SOURCES.items() if _within(m, "bridge.client")}
    offenders = {
        module: sorted(
            name
            for name in imports
            if _top(name) not in sys.stdlib_module_names
            and _top(name) != "_typeshed"  # typing-only stubs, under TYPE_CHECKING
            and not _within(name, "bridge.client")
        )
        for module, imports in client.items()
    }
    assert "bridge.client.client" in client
    assert {m: names for m, names in offenders.items() if names} == {}


@pytest.mark.parametrize(
    ("module", "imports", "library", "allowed"),
    [
        ("bridge.directory.users", {"flask"}, "flask", False),
        ("bridge.api.health", {"flask"}, "flask", True),
        ("bridge.storage.sql", {"sqlalchemy.orm"}, "sqlalchemy", True),
        ("bridge.verify.oidc", {"sqlalchemy"}, "sqlalchemy", False),
    ],
    ids=["flask-in-directory", "flask-in-api", "sqlalchemy-in-storage", "sqlalchemy-in-verify"],
)
def test_rule_checker_itself(module: str, imports: set[str], library: str, allowed: bool) -> None:
    """The checker flags what it should (guards against a rule that can never fail)."""
    uses = any(_top(name) == library for name in imports)
    assert uses and (_within(module, *LIBRARY_HOMES[library]) == allowed)


def test_relative_imports_are_resolved(tmp_path: Path) -> None:
    node = ast.parse("from ..errors import NotFound").body[0]
    assert isinstance(node, ast.ImportFrom)
    assert _resolve(node, "bridge.directory") == "bridge.errors"
