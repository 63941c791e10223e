"""The version has one source, the changelog names every release, a tag agrees with it (docs/releases.md)."""

from __future__ import annotations

import tomllib

import pytest

from fieldapp import __version__
from tests.cli import fieldapp
from tests.releases import ROOT, changelog_releases, previous_release, resolve, version_tuple

pytestmark = pytest.mark.timeout(60)  # git and the command line run as processes


def test_the_command_line_prints_the_version_of_the_changelog_s_newest_section() -> None:
    newest = changelog_releases()[0]
    shown = fieldapp("--version")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == f"fieldapp {newest.name}\n" == f"fieldapp {__version__}\n"


def test_pyproject_reads_the_version_from_the_package_instead_of_repeating_it() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"] and "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "fieldapp.__version__"}


def test_every_earlier_release_names_its_commit_and_versions_only_go_up() -> None:
    releases = changelog_releases()
    assert [r.version for r in releases] == sorted((r.version for r in releases), reverse=True)
    assert len({r.version for r in releases}) == len(releases)
    for release in releases:  # this tree's own version is the release commit itself, or unreleased
        if release.version < version_tuple(__version__):
            assert release.released, f"{release.name} is older than this tree's {__version__} but unreleased"
            assert release.commit and resolve(release.commit), f"{release.name}: commit not in this clone"
    assert version_tuple(__version__) == releases[0].version


def test_the_previous_release_is_found_and_its_tag_if_present_is_its_commit() -> None:
    release, commit = previous_release()
    assert release.version < version_tuple(__version__)
    assert release.commit is not None and commit.startswith(release.commit)
    tagged = resolve(f"refs/tags/v{release.name}")
    assert tagged in (None, commit)
