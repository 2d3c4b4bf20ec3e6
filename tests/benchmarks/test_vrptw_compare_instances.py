"""Specification of how the VRPTW comparison finds its instances: a wrong folder fails first."""

from __future__ import annotations

from pathlib import Path

import pytest

from benchmarks.vrptw_compare import instance_names, main


def folder_with(tmp_path: Path, *names: str) -> Path:
    folder = tmp_path / "instances"
    folder.mkdir()
    for name in names:
        (folder / f"{name}.txt").write_text("not read by these tests\n")
    return folder


def test_every_instance_of_the_folder_in_name_order_when_none_is_requested(tmp_path):
    folder = folder_with(tmp_path, "R101", "C101")
    (folder / "README.md").write_text("not an instance\n")
    assert instance_names(folder, None) == ["C101", "R101"]


def test_the_requested_instances_in_the_order_given(tmp_path):
    folder = folder_with(tmp_path, "C101", "R101", "RC101")
    assert instance_names(folder, ["RC101", "C101"]) == ["RC101", "C101"]


def test_a_missing_folder_names_the_folder_and_the_option(tmp_path):
    with pytest.raises(ValueError, match=r"does not exist; pass --data-dir"):
        instance_names(tmp_path / "elsewhere" / "solomon", None)


def test_an_empty_folder_is_an_error_not_an_empty_report(tmp_path):
    with pytest.raises(ValueError, match=r"holds no <NAME>\.txt instance"):
        instance_names(folder_with(tmp_path), None)


def test_every_missing_requested_instance_is_named(tmp_path):
    folder = folder_with(tmp_path, "C101")
    with pytest.raises(ValueError, match=r"not in .*: R101, RC208$"):
        instance_names(folder, ["C101", "R101", "RC208"])


def test_the_command_stops_with_status_2_before_writing_results(tmp_path, capsys):
    results = tmp_path / "results.json"
    status = main(
        [
            "run",
            "--data-dir",
            str(tmp_path / "missing"),
            "--bks",
            "none",
            "--solvers",
            "ours",
            "--results",
            str(results),
        ]
    )
    assert status == 2
    assert "vrptw_compare: error: instance folder" in capsys.readouterr().err
    assert not results.exists()
