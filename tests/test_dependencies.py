"""Every third-party package the code imports is declared in pyproject.toml (the application's
in `dependencies`, the tests' and tools' in the `dev` extra), every declared one is used, and
the lock file (requirements.lock) pins every declared package at a version its range allows.

The imports are read from the source (every `import`, `from ... import` and
`importlib.import_module("...")`), not from what happens to be installed: a package that only
arrives as a dependency of another (aiohttp through aiogram, starlette through FastAPI) can
leave with the next release of that other, so what the code imports it must declare itself."""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.settings import PROJECT_ROOT

APPLICATION_FOLDERS = ("bot", "handlers", "storage", "dashboard")
TEST_FOLDERS = ("tests", "benchmarks")
FIRST_PARTY = {*APPLICATION_FOLDERS, *TEST_FOLDERS}
LOCK_FILE = PROJECT_ROOT / "requirements.lock"

# Declared application dependencies that no module imports by name, each with why it is needed.
USED_WITHOUT_IMPORT = {
    "aiosqlite": "the SQLite driver SQLAlchemy loads for DATABASE_URL=sqlite+aiosqlite://",
    "asyncpg": "the PostgreSQL driver SQLAlchemy loads for DATABASE_URL=postgresql+asyncpg://",
    "jinja2": "FastAPI's Jinja2Templates renders the dashboard's pages with it",
    "python-multipart": "FastAPI parses the dashboard's posted forms with it",
}


def _pyproject() -> dict[str, object]:
    with (PROJECT_ROOT / "pyproject.toml").open("rb") as handle:
        return tomllib.load(handle)


def _requirements(group: str) -> dict[str, Requirement]:
    project = _pyproject()["project"]
    assert isinstance(project, dict)
    lines = project["dependencies"] if group == "main" else project["optional-dependencies"][group]
    requirements = [Requirement(line) for line in lines]
    return {canonicalize_name(requirement.name): requirement for requirement in requirements}


def imported_modules(folders: tuple[str, ...]) -> dict[str, set[str]]:
    """The top-level names imported by the Python files under `folders`, each with the files
    that import it (relative imports and `__future__` left out)."""
    found: dict[str, set[str]] = {}
    for folder in folders:
        for path in sorted((PROJECT_ROOT / folder).rglob("*.py")):
            if "vendor" in path.parts:
                continue
            where = str(path.relative_to(PROJECT_ROOT))
            for name in _imports_in(ast.parse(path.read_text(encoding="utf-8"))):
                if name != "__future__":
                    found.setdefault(name.partition(".")[0], set()).add(where)
    return found


def _imports_in(tree: ast.AST) -> list[str]:
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.append(node.module)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute | ast.Name)
            and (node.func.attr if isinstance(node.func, ast.Attribute) else node.func.id)
            == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            names.append(node.args[0].value)
    return names


def third_party(modules: dict[str, set[str]]) -> dict[str, set[str]]:
    """The imported modules that are neither the standard library nor this project's, by the
    distribution that provides each (as installed here: `yaml` is PyYAML)."""
    provided_by = packages_distributions()
    distributions: dict[str, set[str]] = {}
    for module, files in modules.items():
        if module in sys.stdlib_module_names or module in FIRST_PARTY:
            continue
        names = provided_by.get(module)
        assert names, f"{module} (imported in {sorted(files)}) is not installed"
        for name in names:
            distributions.setdefault(canonicalize_name(name), set()).update(files)
    return distributions


def test_the_import_walk_sees_every_kind_of_import() -> None:
    tree = ast.parse(
        "import yaml.constructor\n"
        "from sqlalchemy import select\n"
        "from . import sibling\n"
        "uvicorn = importlib.import_module('uvicorn')\n"
        "web = import_module('dashboard.app')\n"
    )
    assert _imports_in(tree) == ["yaml.constructor", "sqlalchemy", "uvicorn", "dashboard.app"]
    assert third_party({"yaml": {"a.py"}, "json": {"b.py"}, "bot": {"c.py"}}) == {
        "pyyaml": {"a.py"}
    }


def test_every_package_the_application_imports_is_a_declared_dependency() -> None:
    used = third_party(imported_modules(APPLICATION_FOLDERS))
    declared = _requirements("main")
    missing = {name: sorted(files) for name, files in used.items() if name not in declared}
    assert not missing, f"imported but not in [project] dependencies: {missing}"


def test_every_package_the_tests_import_is_declared() -> None:
    used = third_party(imported_modules(TEST_FOLDERS))
    declared = _requirements("main") | _requirements("dev")
    missing = {name: sorted(files) for name, files in used.items() if name not in declared}
    assert not missing, f"imported by tests but not in the dev extra: {missing}"


def test_every_declared_dependency_is_used() -> None:
    used = third_party(imported_modules(APPLICATION_FOLDERS))
    declared = set(_requirements("main"))
    assert set(USED_WITHOUT_IMPORT) <= declared, "needed though not imported, so declared"
    unused = declared - set(used) - set(USED_WITHOUT_IMPORT)
    assert not unused, f"declared but never imported (remove, or say why in the test): {unused}"
    imported_after_all = set(USED_WITHOUT_IMPORT) & set(used)
    assert not imported_after_all, (
        f"imported now, remove from USED_WITHOUT_IMPORT: {imported_after_all}"
    )


def _locked() -> dict[str, str]:
    """Name and version of each package pinned in requirements.lock (`name==version`)."""
    pins = re.findall(
        r"^([A-Za-z0-9][A-Za-z0-9._-]*)(?:\[[^\]]*\])?==([^\s;\\]+)",
        LOCK_FILE.read_text(encoding="utf-8"),
        flags=re.MULTILINE,
    )
    return {canonicalize_name(name): version for name, version in pins}


def test_the_lock_file_pins_every_dependency_within_its_declared_range() -> None:
    locked = _locked()
    for name, requirement in _requirements("main").items():
        assert name in locked, f"{name} is declared but not in requirements.lock: run `make lock`"
        assert requirement.specifier.contains(locked[name], prereleases=True), (
            f"requirements.lock has {name}=={locked[name]}, outside {requirement.specifier}: "
            "run `make lock`"
        )


def test_every_pin_in_the_lock_file_carries_its_hashes() -> None:
    """pip install --require-hashes (the Dockerfile) refuses a pin without them."""
    entries: list[list[str]] = []
    for line in LOCK_FILE.read_text(encoding="utf-8").splitlines():
        if re.match(r"[A-Za-z0-9]", line):
            entries.append([line])
        elif entries:
            entries[-1].append(line)
    assert len(entries) == len(_locked())
    for entry in entries:
        assert any("--hash=sha256:" in line for line in entry), entry[0]


def test_the_lock_file_says_how_it_was_made() -> None:
    header = LOCK_FILE.read_text(encoding="utf-8").splitlines()[:3]
    assert any("make lock" in line or "uv pip compile" in line for line in header), header
    assert Path(PROJECT_ROOT / "Makefile").read_text(encoding="utf-8").count("requirements.lock")
