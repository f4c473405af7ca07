"""The `ciogen-check` pre-commit hook, run by the real `pre-commit`.

A throwaway "hook repository" is made from this checkout's working tree (tracked files plus
new, non-ignored ones, committed in a temporary git repo), so the test exercises the code as
it is now rather than the last commit. A throwaway "project" repository holds a copy of
specs/ and a package freshly generated from them. pre-commit installs ciogen from the hook
repository into its own virtualenv (pip, as for any user) and runs `ciogen check` there:
- a fresh project passes;
- after a spec edit that is not regenerated, the hook fails, names the stale file, and a real
  `git commit` through the installed hook is refused.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRE_COMMIT = Path(sys.executable).parent / "pre-commit"
PACKAGE = "generated/customerio_client"

pytestmark = pytest.mark.skipif(
    shutil.which("git") is None or not PRE_COMMIT.exists(),
    reason="needs git and pre-commit",
)

GIT_ENV = {
    "GIT_AUTHOR_NAME": "ciogen tests",
    "GIT_AUTHOR_EMAIL": "tests@example.invalid",
    "GIT_COMMITTER_NAME": "ciogen tests",
    "GIT_COMMITTER_EMAIL": "tests@example.invalid",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def _env(home: Path) -> dict[str, str]:
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "PRE_COMMIT"))
    }
    env.update(GIT_ENV)
    env["PRE_COMMIT_HOME"] = str(home)  # pre-commit's store (hook virtualenvs)
    env.pop(
        "PYTHONPATH", None
    )  # the hook must run the installed ciogen, not this checkout
    env.pop("VIRTUAL_ENV", None)
    return env


def _run(cmd: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return subprocess.run(
        cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=900
    )


def _git(cwd: Path, env: dict[str, str], *args: str) -> str:
    r = _run(["git", *args], cwd, env)
    assert r.returncode == 0, f"git {' '.join(args)}: {r.stderr}"
    return str(r.stdout)


def _working_tree_files() -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode()
    return sorted({f for f in out.split("\0") if f and (ROOT / f).is_file()})


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("pre-commit-home")


@pytest.fixture(scope="module")
def hook_repo(tmp_path_factory: pytest.TempPathFactory, store: Path) -> Path:
    """This checkout's working tree (top-level files, generator/, templates/), committed in a
    temporary git repository."""
    repo = tmp_path_factory.mktemp("hook-repo")
    for rel in _working_tree_files():
        if "/" in rel and not rel.startswith(("generator/", "templates/")):
            continue  # only what `pip install` of the hook repository uses
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, repo / rel)
    env = _env(store)
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "ciogen snapshot")
    return repo


@pytest.fixture()
def project(tmp_path: Path, store: Path) -> Path:
    """A user's repository: specs/ and a freshly generated client, all committed."""
    repo = tmp_path / "project"
    shutil.copytree(ROOT / "specs", repo / "specs")
    (repo / ".gitignore").write_text(".ciogen-cache/\n__pycache__/\n")
    env = _env(store)
    env["PYTHONPATH"] = str(ROOT)  # generate with this checkout's generator
    r = _run([sys.executable, "-m", "generator", "generate"], repo, env)
    assert r.returncode == 0, r.stderr
    assert (repo / PACKAGE / "__init__.py").is_file()
    env = _env(store)
    _git(repo, env, "init", "-q", "-b", "main")
    _git(repo, env, "add", "-A")
    _git(repo, env, "commit", "-q", "-m", "client generated from specs")
    return repo


def _edit_a_spec(repo: Path) -> None:
    """Change one operation summary in specs/track.yaml (it becomes a method docstring)."""
    spec = repo / "specs" / "track.yaml"
    lines = spec.read_text().splitlines(keepends=True)
    for i, line in enumerate(lines):
        if line.lstrip().startswith("summary:"):
            lines[i] = line.rstrip("\n") + " (edited without regenerating)\n"
            break
    else:
        raise AssertionError("no summary in specs/track.yaml")
    spec.write_text("".join(lines))


def _try_repo(project: Path, hook_repo: Path, store: Path) -> subprocess.CompletedProcess:  # type: ignore[type-arg]
    return _run(
        [str(PRE_COMMIT), "try-repo", str(hook_repo), "ciogen-check", "--all-files"],
        project,
        _env(store),
    )


def test_hook_manifest_declares_ciogen_check() -> None:
    import yaml

    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())
    hook = {h["id"]: h for h in hooks}["ciogen-check"]
    assert hook["language"] == "python"
    assert hook["pass_filenames"] is False
    assert hook["entry"].split()[-1] == "check"


def test_fresh_project_passes(project: Path, hook_repo: Path, store: Path) -> None:
    r = _try_repo(project, hook_repo, store)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ciogen check" in r.stdout and "Passed" in r.stdout


def test_stale_client_fails(project: Path, hook_repo: Path, store: Path) -> None:
    _edit_a_spec(project)
    _git(project, _env(store), "add", "specs/track.yaml")
    r = _try_repo(project, hook_repo, store)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "Failed" in r.stdout
    assert f"{PACKAGE}/track.py" in r.stdout  # the stale file is named
    assert "generate" in r.stdout  # and how to fix it


def test_installed_hook_refuses_a_stale_commit(
    project: Path, hook_repo: Path, store: Path
) -> None:
    env = _env(store)
    rev = _git(hook_repo, env, "rev-parse", "HEAD").strip()
    (project / ".pre-commit-config.yaml").write_text(
        "repos:\n"
        f"  - repo: {hook_repo}\n"
        f"    rev: {rev}\n"
        "    hooks:\n"
        "      - id: ciogen-check\n"
    )
    _git(project, env, "add", ".pre-commit-config.yaml")
    r = _run([str(PRE_COMMIT), "install"], project, env)
    assert r.returncode == 0, r.stdout + r.stderr
    _git(
        project, env, "commit", "-q", "-m", "use the ciogen-check hook"
    )  # in sync: accepted

    before = _git(project, env, "rev-parse", "HEAD")
    _edit_a_spec(project)
    _git(project, env, "add", "specs/track.yaml")
    r = _run(["git", "commit", "-m", "edit a spec, forget to regenerate"], project, env)
    assert r.returncode != 0, r.stdout + r.stderr
    assert f"{PACKAGE}/track.py" in r.stdout + r.stderr
    assert _git(project, env, "rev-parse", "HEAD") == before  # nothing was committed

    # regenerating (and staging the result) makes the same commit go through
    genv = _env(store)
    genv["PYTHONPATH"] = str(ROOT)
    g = _run([sys.executable, "-m", "generator", "generate"], project, genv)
    assert g.returncode == 0, g.stderr
    _git(project, env, "add", "-A")
    r = _run(["git", "commit", "-m", "edit a spec and regenerate"], project, env)
    assert r.returncode == 0, r.stdout + r.stderr
