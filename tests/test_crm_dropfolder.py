"""The drop folder scan: complete, regular, new files only, and fast over many files; the
same rules for a local folder and for a prefix in a real S3-compatible server (``drop``)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from oneconnect_pipelines.crm import dropfolder
from oneconnect_pipelines.crm.dropfolder import FolderState, content_hash, read_dropped, scan
from oneconnect_pipelines.crm.read import CrmFileError
from oneconnect_pipelines.storage import Location

from .objectstore import drop_folder


@pytest.fixture(params=["local", "s3"])
def drop(request: pytest.FixtureRequest, tmp_path: Path) -> Location:
    """An empty drop folder: local, or a prefix in a bucket of its own."""
    folder = drop_folder(request, tmp_path)
    folder.mkdir(parents=True, exist_ok=True)  # in S3, a prefix exists once it holds an object
    return folder


def names(ready: list) -> list[str]:  # type: ignore[type-arg]
    return sorted(file.path.name for file in ready)


def test_a_file_is_ready_once_its_size_is_stable_or_it_has_a_done_marker(drop: Location) -> None:
    growing = drop / "export.csv"
    growing.write_text("Mobile Phone\n0555123456\n")
    ready, state = scan(drop, FolderState())
    assert ready == []  # first sight: it may still be being written
    growing.write_text("Mobile Phone\n0555123456\n0555123457\n")
    ready, state = scan(drop, state)
    assert ready == []  # it grew since the last scan
    ready, state = scan(drop, state)
    assert names(ready) == ["export.csv"]
    assert ready[0].sha256 == content_hash(growing)
    marked = drop / "other.jsonl"
    marked.write_text('{"phone": "0555000000"}\n')
    (drop / "other.jsonl.done").write_text("")
    ready, _ = scan(drop, state)
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


def test_other_suffixes_and_objects_under_a_deeper_prefix_are_ignored(drop: Location) -> None:
    (drop / "notes.txt").write_text("hello")
    (drop / "archive").mkdir(exist_ok=True)  # in S3, a prefix exists once an object is in it
    (drop / "archive" / "old.csv").write_text("Phone\n0555123456\n")
    (drop / "real.csv").write_text("Phone\n0555123456\n")
    for name in ("real.csv", "notes.txt", "archive/old.csv"):
        (drop / f"{name}.done").write_text("")
    ready, _ = scan(drop, FolderState())
    assert names(ready) == ["real.csv"]


def test_a_changed_file_gets_a_new_hash(drop: Location) -> None:
    path = drop / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (drop / "export.csv.done").write_text("")
    first, state = scan(drop, FolderState())
    path.write_text("Phone\n0555123456\n0555999999\n")
    (drop / "export.csv.done").write_text("")  # the CRM marks the new version done
    second, _ = scan(drop, FolderState.from_json(state.to_json()))
    assert first[0].sha256 != second[0].sha256


def test_a_marker_older_than_its_file_waits_for_the_file_to_be_still(tmp_path: Path) -> None:
    """Yesterday's marker stays while today's export is written under the same name: the
    half-written file was handed out (its last row cut, and with mirror its missing rows'
    contacts taken off the list). It now waits until it is still, or marked anew."""
    path = tmp_path / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (tmp_path / "export.csv.done").write_text("")
    first, state = ready_once(tmp_path, FolderState())
    assert first == ["export.csv"]
    time.sleep(0.01)
    with path.open("w") as writing:
        writing.write("Phone\n0555123456\n05551")  # day 2, half written
        writing.flush()
        halfway, state = ready_once(tmp_path, state)
        writing.write("23457\n")
    assert halfway == []
    finished, state = ready_once(tmp_path, state)
    assert finished == []  # it changed since the last scan
    done, state = ready_once(tmp_path, state)
    assert done == ["export.csv"] and content_hash(path) == state.files["export.csv"][4]
    path.write_text("Phone\n0555999999\n")
    (tmp_path / "export.csv.done").write_text("")  # marked anew: ready at once
    assert ready_once(tmp_path, state)[0] == ["export.csv"]


def test_a_name_that_is_not_utf8_is_named_and_the_others_still_go_ahead(tmp_path: Path) -> None:
    """A Latin-1 name (from a share or a zip) cannot go into a run: Dagster failed every
    tick on it, and no file listed after it was ever synced."""
    folder = bytes(tmp_path)
    for name in (b"a-caf\xe9.csv", b"b-good.csv", b"c-good.csv"):
        for suffix in (b"", b".done"):
            with open(os.path.join(folder, name + suffix), "wb") as handle:
                handle.write(b"Phone\n0555123456\n" + name)
    ready, state = scan(tmp_path, FolderState())
    assert names(ready) == ["b-good.csv", "c-good.csv"]
    assert state.unreadable == {"a-caf\\xe9.csv": "its name is not UTF-8; rename the file"}
    json.dumps(state.to_json()).encode("utf-8")  # the cursor can be stored


def test_the_same_bytes_written_again_are_not_handed_out_again(drop: Location) -> None:
    path = drop / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (drop / "export.csv.done").write_text("")
    first, state = ready_once(drop, FolderState())
    assert first == ["export.csv"]
    before = state.files["export.csv"][:4]
    time.sleep(1.1)  # a later modification time (S3 keeps whole seconds)
    path.write_text("Phone\n0555123456\n")
    again, state = ready_once(drop, state)
    assert state.files["export.csv"][:4] != before  # it was seen to be written again...
    assert again == []  # (its marker is older: it may be being written)
    still, state = ready_once(drop, state)
    assert still == []  # ...and, still, hashed: the same content is not a new export
    touched = drop / "touched.csv"  # unmarked, then touched once handed out
    touched.write_text("Phone\n0555123457\n")
    first_sight, state = ready_once(drop, state)
    assert first_sight == []
    first, state = ready_once(drop, state)
    assert first == ["touched.csv"]
    time.sleep(1.1)
    touched.write_text("Phone\n0555123457\n")
    for _ in range(3):  # changed, still, trusted: never handed out again
        again, state = ready_once(drop, state)
        assert again == []


def test_a_missing_folder_has_no_files(drop: Location) -> None:
    assert scan(drop / "nope", FolderState()) == ([], FolderState())


def test_rescanning_thousands_of_processed_files_reads_none_of_them(
    drop: Location, monkeypatch: pytest.MonkeyPatch
) -> None:
    count = 3000 if isinstance(drop, Path) else 150  # one upload each to the S3 server
    for index in range(count):
        (drop / f"export-{index:05}.csv").write_text(f"Phone\n0555{index:06}\n")
    time.sleep(dropfolder.RACY_NS / 1e9 + 0.1)  # written a while ago, as processed files are
    _, state = scan(drop, FolderState())
    ready, state = scan(drop, state)  # now stable: hashed once
    assert len(ready) == count
    hashes = {file.path.name: file.sha256 for file in ready}
    opened: list[Location] = []

    def counting(path: Location) -> str:
        opened.append(path)
        return content_hash(path)

    monkeypatch.setattr(dropfolder, "content_hash", counting)
    (drop / "new.csv").write_text("Phone\n0555999999\n")
    (drop / "new.csv.done").write_text("")
    again, later = scan(drop, FolderState.from_json(state.to_json()))
    assert [file.path.name for file in again] == ["new.csv"]
    assert [path.name for path in opened] == ["new.csv"]
    assert {name: later.files[name][4] for name in hashes} == hashes  # remembered, not re-read


def ready_once(folder: Location, state: FolderState) -> tuple[list[str], FolderState]:
    ready, state = scan(folder, FolderState.from_json(state.to_json()))
    return names(ready), state


def test_a_rewrite_that_keeps_size_and_mtime_is_still_seen(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (tmp_path / "export.csv.done").write_text("")
    time.sleep(dropfolder.RACY_NS / 1e9 + 0.1)
    first, state = ready_once(tmp_path, FolderState())
    assert first == ["export.csv"]
    assert ready_once(tmp_path, state)[0] == []
    before = path.stat()
    path.write_text("Phone\n0555654321\n")  # same size
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))  # mtime put back
    assert path.stat().st_size == before.st_size
    assert path.stat().st_mtime_ns == before.st_mtime_ns
    changed, state = ready_once(tmp_path, state)
    assert changed == ["export.csv"]  # the kernel's change time gave it away


def test_a_rewrite_within_the_same_tick_as_the_scan_is_seen_at_the_next(tmp_path: Path) -> None:
    """Written, scanned and rewritten within one timestamp tick, no time differs: the
    file had changed within a second of its hashing, so the next scan hashes it again."""
    path = tmp_path / "export.csv"
    path.write_text("Phone\n0555123456\n")
    (tmp_path / "export.csv.done").write_text("")
    first, state = ready_once(tmp_path, FolderState())
    assert first == ["export.csv"]
    stamps = path.stat()
    path.write_text("Phone\n0555654321\n")
    os.utime(path, ns=(stamps.st_atime_ns, stamps.st_mtime_ns))
    seen = state.files["export.csv"]
    state.files["export.csv"] = [*path_identity(path)[:4], seen[4], seen[5]]  # as if one tick
    again, state = ready_once(tmp_path, state)
    assert again == ["export.csv"]
    assert state.files["export.csv"][4] == content_hash(path)


def path_identity(path: Path) -> list[int]:
    info = path.stat()
    return [info.st_size, info.st_mtime_ns, info.st_ctime_ns, info.st_ino]


def test_a_rewrite_that_starts_while_the_scan_reads_the_file_is_not_handed_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CRM starts its nightly rewrite in place between the listing and the read: the
    scan read a tenth of the file, handed it out, and the run synced 100 of 1,000 rows
    (with mirror, the rest left the list). It waits for the file to be still again."""
    export = tmp_path / "contacts.csv"
    full = "Phone,First Name\n" + "".join(f"0555{n:06d},N{n}\n" for n in range(1000))
    export.write_text(full)
    _, state = scan(tmp_path, FolderState())
    time.sleep(0.05)

    def rewritten_as_read(path: Location) -> str:
        assert isinstance(path, Path)
        with path.open("w") as handle:  # the rewrite begins, then pauses
            handle.write(full[: len(full) // 10])
        return content_hash(path)

    monkeypatch.setattr(dropfolder, "content_hash", rewritten_as_read)
    ready, state = scan(tmp_path, state)
    assert ready == []
    monkeypatch.undo()
    export.write_text(full)  # the rewrite ends
    ready, state = scan(tmp_path, state)
    assert ready == []  # changed since the last scan: not still yet
    (handed,) = scan(tmp_path, state)[0]
    assert read_dropped(handed.path, handed.sha256) == full.encode()


def test_json_files_are_taken_as_json_lines(drop: Location) -> None:
    (drop / "export.json").write_text('{"Mobile Phone": "0555123456"}\n')
    (drop / "export.json.done").write_text("")
    assert ready_once(drop, FolderState())[0] == ["export.json"]


def test_the_run_reads_exactly_the_file_it_was_handed(drop: Location) -> None:
    path = drop / "export.csv"
    path.write_text("Phone\n0555123456\n")
    sha = content_hash(path)
    assert read_dropped(path, sha) == path.read_bytes()


def test_a_file_swapped_for_a_symlink_after_the_scan_is_refused(tmp_path: Path) -> None:
    drop = tmp_path / "drop"
    drop.mkdir()
    path = drop / "export.csv"
    path.write_text("Phone\n0555123456\n")
    sha = content_hash(path)
    outside = tmp_path / "outside.csv"
    outside.write_bytes(path.read_bytes())  # even the same bytes, outside the folder
    path.unlink()
    path.symlink_to(outside)
    with pytest.raises(CrmFileError, match="symbolic link"):
        read_dropped(path, sha)


def test_a_file_whose_content_changed_since_the_scan_is_refused(drop: Location) -> None:
    path = drop / "export.csv"
    path.write_text("Phone\n0555123456\n")
    sha = content_hash(path)
    path.write_text("Phone\n0555000000\n")
    with pytest.raises(CrmFileError, match="content changed since the sensor handed it out"):
        read_dropped(path, sha)
    path.unlink()
    with pytest.raises(CrmFileError, match="no longer in"):
        read_dropped(path, sha)


def test_a_folder_swapped_in_for_the_file_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "export.csv"
    path.mkdir()
    with pytest.raises(CrmFileError):
        read_dropped(path, "0" * 64)


def test_a_store_whose_package_is_missing_is_refused_when_the_settings_load() -> None:
    """Not at the first sensor tick: the code location does not load, saying what to install."""
    code = "import sys; sys.modules['s3fs'] = None; import assets.settings"
    env = {**os.environ, "ONECONNECT_CRM_DROP_DIR": "s3://bucket/crm"}
    done = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120
    )
    assert done.returncode != 0
    assert done.stderr.strip().splitlines()[-1] == (
        "ImportError: s3://bucket/crm: Install s3fs to access S3 "
        "(pip install 'oneconnect-pipelines[s3]' for s3://, [gcs] for gs://)"
    )


def test_files_a_desktop_leaves_beside_an_export_are_not_handed_out(drop: Location) -> None:
    """macOS writes ._NAME beside each file copied to a share, and Excel ~$NAME while the
    export is open: handed out, each became a run that could only fail."""
    (drop / "contacts.csv").write_text("Mobile Phone\n0555123456\n")
    (drop / "._contacts.csv").write_bytes(b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    (drop / "~$contacts.csv").write_bytes(b"\x05alice" + b"\x00" * 50)
    (drop / ".contacts.csv").write_text("Mobile Phone\n0555000000\n")
    for name in ("contacts.csv", "._contacts.csv", "~$contacts.csv", ".contacts.csv"):
        (drop / f"{name}.done").write_text("")
    ready, state = scan(drop, FolderState())
    assert names(ready) == ["contacts.csv"]
    ready, state = scan(drop, state)  # nor later, once they are still
    assert ready == [] and state.unreadable == {}
