"""The result file: the command that ran, null for what could not be measured."""

from __future__ import annotations

import json
import math

import pytest

from bench import report


@pytest.fixture(autouse=True)
def results_here(monkeypatch: pytest.MonkeyPatch, tmp_path) -> None:
    monkeypatch.setattr(report, "RESULTS", tmp_path / "results")


def test_the_command_names_the_module_and_its_arguments(monkeypatch) -> None:
    doc = json.loads(report.write_result("gpu", ["--images", "64"], {}, []).read_text())
    assert doc["bench"] == "gpu" and doc["command"] == "python -m bench.gpu --images 64"
    monkeypatch.setattr(report.sys, "argv", ["bench/gpu.py", "--no-ray"])
    doc = json.loads(report.write_result("gpu", None, {}, []).read_text())
    assert doc["command"] == "python -m bench.gpu --no-ray"  # run as python -m: sys.argv


def test_non_finite_numbers_are_written_as_null(capsys) -> None:
    metrics = {"late": math.nan, "rates": {"a": math.inf, "b": [1.5, -math.inf]}, "n": 3}
    targets = [report.Target("share", math.nan, ">=", 0.75)]
    text = report.write_result("gpu", [], metrics, targets).read_text()
    doc = json.loads(text, parse_constant=lambda name: pytest.fail(f"wrote {name}"))
    assert doc["metrics"] == {"late": None, "rates": {"a": None, "b": [1.5, None]}, "n": 3}
    assert doc["targets"][0]["value"] is None and doc["targets"][0]["met"] is False
    assert "target share: nan >= 0.75 -> MISSED" in capsys.readouterr().out
