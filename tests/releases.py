"""The releases named in CHANGELOG.md, and a released version built from git into its own venv.

A release is a `## [X.Y.Z] - DATE` section of CHANGELOG.md that names its commit
("Commit: `80c593f`") and, where the clone has tags, the tag `vX.Y.Z` (docs/releases.md).
CI clones with history but not always with tags, so a release is found by its tag OR by
the commit its section names, whichever the clone has; when both exist they must agree.

`built_release` archives the release's tree (`git archive`), makes a venv with the
interpreter running the tests and installs the release there with its own pinned
dependencies. The venv is kept under `.release-venvs/` (gitignored), keyed by commit and
Python version, so a second run reuses it; a failed build fails the test with pip's output.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from fieldapp import __version__

ROOT = Path(__file__).resolve().parent.parent
CHANGELOG = ROOT / "CHANGELOG.md"
CACHE = ROOT / ".release-venvs"
SECTION = re.compile(r"^## \[(\d+)\.(\d+)\.(\d+)\](.*)$", re.MULTILINE)
COMMIT = re.compile(r"^Commit: `([0-9a-f]{7,40})`", re.MULTILINE)


@dataclass(frozen=True)
class Release:
    version: tuple[int, int, int]
    commit: str | None  # as CHANGELOG.md names it; None for the unreleased section
    released: bool

    @property
    def name(self) -> str:
        return ".".join(map(str, self.version))


def version_tuple(text: str) -> tuple[int, int, int]:
    major, minor, patch = (int(part) for part in text.split("."))
    return major, minor, patch


def changelog_releases() -> list[Release]:
    """The sections of CHANGELOG.md, newest first."""
    text = CHANGELOG.read_text(encoding="utf-8")
    found = list(SECTION.finditer(text))
    releases = []
    for i, match in enumerate(found):
        body = text[match.end() : found[i + 1].start() if i + 1 < len(found) else len(text)]
        commit = COMMIT.search(body)
        version = (int(match[1]), int(match[2]), int(match[3]))
        released = "unreleased" not in match[4].lower()
        releases.append(Release(version, commit[1] if commit else None, released))
    return releases


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(ROOT), *args], capture_output=True, text=True, timeout=60)


def resolve(rev: str) -> str | None:
    result = _git("rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    return result.stdout.strip() if result.returncode == 0 else None


def previous_release() -> tuple[Release, str]:
    """The newest release older than this code's version, and its full commit id."""
    current = version_tuple(__version__)
    older = [r for r in changelog_releases() if r.released and r.version < current]
    if not older:
        pytest.fail(f"CHANGELOG.md names no release older than {__version__} (a section with its commit).")
    release = max(older, key=lambda r: r.version)
    by_tag = resolve(f"refs/tags/v{release.name}")
    by_changelog = resolve(release.commit) if release.commit else None
    if by_tag and by_changelog and by_tag != by_changelog:
        pytest.fail(
            f"Tag v{release.name} is {by_tag[:12]} but CHANGELOG.md names {release.commit}; "
            "correct one of them (docs/releases.md)."
        )
    commit = by_tag or by_changelog
    if commit is None:
        pytest.fail(
            f"Release {release.name} is neither a tag v{release.name} nor the commit CHANGELOG.md names "
            f"({release.commit}) in this clone; clone with history (not --depth) or fetch the tags."
        )
    return release, commit


def built_release(commit: str) -> Path:
    """The python of a venv holding the release at `commit` with its pinned dependencies."""
    key = f"{commit[:12]}-py{sys.version_info.major}{sys.version_info.minor}"
    home = CACHE / key
    python = home / "venv" / "bin" / "python"
    if (home / "built").is_file() and python.exists():
        return python
    CACHE.mkdir(exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f"{key}.building-", dir=CACHE))
    try:
        src = work / "src"
        src.mkdir()
        archive = work / "src.tar"
        made = _git("archive", "--format=tar", f"--output={archive}", commit)
        if made.returncode != 0:
            pytest.fail(f"git archive {commit} failed:\n{made.stderr}")
        with tarfile.open(archive) as tar:
            tar.extractall(src, filter="data")
        pip = [str(work / "venv" / "bin" / "python"), "-m", "pip", "--disable-pip-version-check"]
        steps = [[sys.executable, "-m", "venv", str(work / "venv")], [*pip, "install", str(src)]]
        for argv in steps:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=900, cwd=work)
            if done.returncode != 0:
                pytest.fail(
                    f"Building release {commit[:12]} failed: {argv[1:]}\n{done.stdout}\n{done.stderr}"
                )
        (work / "built").write_text(commit + "\n")
        shutil.rmtree(home, ignore_errors=True)
        os.replace(work, home)  # a venv's python finds its packages from where it is, so it moves whole
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return python
