"""The reports folder on a real file system: builds are complete before anything names them,
links swap in one rename, a run published before builds existed is taken over, and the
clean-up removes only the superseded builds of the runs it is told about."""

from __future__ import annotations

import os
from pathlib import Path

from flows import report_folder
from flows.report_folder import BUILDS, LATEST


def build(reports: Path, run_id: str, text: str) -> str:
    return report_folder.write_build(reports, run_id, {"report.html": text.encode()})


def test_a_run_link_swaps_to_its_new_build(tmp_path: Path) -> None:
    first = build(tmp_path, "fc-1", "first")
    assert report_folder.link_run(tmp_path, "fc-1", first)
    assert not report_folder.link_run(tmp_path, "fc-1", first)  # already there: nothing done
    second = build(tmp_path, "fc-1", "second")
    assert report_folder.link_run(tmp_path, "fc-1", second)
    assert (tmp_path / "fc-1" / "report.html").read_text() == "second"
    assert report_folder.point_latest(tmp_path, "fc-1")
    assert (tmp_path / LATEST / "report.html").read_text() == "second"
    report_folder.remove_unused(tmp_path, {"fc-1": second})
    assert sorted(p.name for p in (tmp_path / BUILDS).iterdir()) == [second]
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".staging")] == []


def test_a_folder_from_before_builds_is_replaced_by_a_link(tmp_path: Path) -> None:
    legacy = tmp_path / "fc-old"
    legacy.mkdir()
    (legacy / "report.html").write_text("legacy")
    new = build(tmp_path, "fc-old", "rebuilt")
    assert report_folder.link_run(tmp_path, "fc-old", new)
    assert legacy.is_symlink() and (legacy / "report.html").read_text() == "rebuilt"
    report_folder.remove_unused(tmp_path, {"fc-old": new})  # the moved-aside folder goes too
    assert sorted(p.name for p in (tmp_path / BUILDS).iterdir()) == [new]


def test_the_clean_up_leaves_runs_it_does_not_know(tmp_path: Path) -> None:
    """Another warehouse may publish into the same folder: its builds are not ours to delete."""
    ours, theirs = build(tmp_path, "fc-ours", "a"), build(tmp_path, "fc-theirs", "b")
    killed = build(tmp_path, "fc-ours", "never committed")
    report_folder.remove_unused(tmp_path, {"fc-ours": ours})
    assert sorted(p.name for p in (tmp_path / BUILDS).iterdir()) == sorted([ours, theirs])
    assert killed not in os.listdir(tmp_path / BUILDS)


def test_the_index_is_replaced_whole(tmp_path: Path) -> None:
    report_folder.write_index(tmp_path, "<html>one</html>")
    report_folder.write_index(tmp_path, "<html>two</html>")
    assert (tmp_path / "index.html").read_text() == "<html>two</html>"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["index.html"]
