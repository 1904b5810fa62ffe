"""The drop folder scan: complete, regular, new files only, and fast over many files."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from oneconnect_pipelines.crm import dropfolder
from oneconnect_pipelines.crm.dropfolder import FolderState, content_hash, scan


def names(ready: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(file.path.name for file in ready)


def test_a_file_is_ready_once_its_size_is_stable_or_it_has_a_done_marker(tmp_path: Path) -> None:
    growing = tmp_path / "export.csv"
    growing.write_text("Mobile Phone\n0555123456\n")
    ready, state = scan(tmp_path, FolderState())
    assert ready == []  # first sight: it may still be being written
    with growing.open("a") as handle:
        handle.write("0555123457\n")
    ready, state = scan(tmp_path, state)
    assert ready == []  # it grew since the last scan
    ready, state = scan(tmp_path, state)
    assert names(ready) == ["export.csv"]
    assert ready[0].sha256 == content_hash(growing)
    marked = tmp_path / "other.jsonl"
    marked.write_text('{"phone": "0555000000"}\n')
    (tmp_path / "other.jsonl.done").write_text("")
    ready, _ = scan(tmp_path, state)
    assert names(ready) == ["other.jsonl"]  # export.csv was handed out already


def test_symlinks_other_suffixes_and_folders_are_ignored(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-outside.csv"
    outside.write_text("secret\n")
    drop = tmp_path / "drop"
    drop.mkdir()
    (drop / "link.csv").symlink_to(outside)
    (drop / "notes.txt").write_text("hello")
    (drop / "folder.csv").mkdir()
    (drop / "real.csv").write_text("Phone\n0555123456\n")
    for name in ("real.csv", "link.csv", "notes.txt"):
        (drop / f"{name}.done").write_text("")
    ready, _ = scan(drop, FolderState())
    assert names(ready) == ["real.csv"]


def test_a_changed_file_gets_a_new_hash(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (tmp_path / "export.csv.done").write_text("")
    first, state = scan(tmp_path, FolderState())
    path.write_text("Phone\n0555123456\n0555999999\n")
    os.utime(path, ns=(time.time_ns(), time.time_ns() + 10**9))
    second, _ = scan(tmp_path, FolderState.from_json(state.to_json()))
    assert first[0].sha256 != second[0].sha256


def test_a_missing_folder_has_no_files(tmp_path: Path) -> None:
    assert scan(tmp_path / "nope", FolderState()) == ([], FolderState())


def test_rescanning_thousands_of_processed_files_reads_none_of_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for index in range(3000):
        (tmp_path / f"export-{index:05}.csv").write_text(f"Phone\n0555{index:06}\n")
    _, state = scan(tmp_path, FolderState())
    ready, state = scan(tmp_path, state)  # now stable: hashed once
    assert len(ready) == 3000
    hashes = {file.path.name: file.sha256 for file in ready}
    opened: list[Path] = []

    def counting(path: Path) -> str:
        opened.append(path)
        return content_hash(path)

    monkeypatch.setattr(dropfolder, "content_hash", counting)
    (tmp_path / "new.csv").write_text("Phone\n0555999999\n")
    (tmp_path / "new.csv.done").write_text("")
    again, later = scan(tmp_path, FolderState.from_json(state.to_json()))
    assert [file.path.name for file in again] == ["new.csv"]
    assert [path.name for path in opened] == ["new.csv"]
    assert {name: later.files[name][2] for name in hashes} == hashes  # remembered, not re-read
