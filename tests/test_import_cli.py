"""`xuegong import` and `xuegong import-template` from the shell: output and exit codes."""

from __future__ import annotations

import pytest

from server import cli
from tests.test_import_fixtures import college, counts, with_rows, xlsx

# the import database and its fixtures (empty, import_client …)
pytest_plugins = ["tests.test_import_fixtures"]


@pytest.fixture
def shell(monkeypatch, import_url, tmp_path, empty):
    monkeypatch.setenv("XUEGONG_DATABASE_URL", import_url)
    monkeypatch.setenv("XUEGONG_VAR_DIR", str(tmp_path / "var"))
    monkeypatch.setenv("XUEGONG_SECRET_KEYS", "cli-test-secret-key-0123456789")
    return tmp_path


def test_import_applies_a_good_workbook_and_exits_0(shell, empty, capsys):
    (shell / "学院.xlsx").write_bytes(xlsx(college()))
    assert cli.main(["import", str(shell / "学院.xlsx")]) == 0
    out = capsys.readouterr().out
    assert "学生：新增 4，修改 0，不变 0" in out and "已导入。" in out
    assert counts(empty)["students"] == 4


def test_a_dry_run_prints_the_preview_and_writes_nothing(shell, empty, capsys):
    (shell / "学院.xlsx").write_bytes(xlsx(college()))
    assert cli.main(["import", str(shell / "学院.xlsx"), "--dry-run"]) == 0
    assert "--dry-run：没有写入" in capsys.readouterr().out
    assert counts(empty)["students"] == 0


def test_row_errors_exit_1_and_apply_nothing(shell, empty, capsys):
    bad = with_rows("学生", ["2024010199", "新生", "男", "没有的班", "", "", ""])
    (shell / "学院.xlsx").write_bytes(xlsx(bad))
    assert cli.main(["import", str(shell / "学院.xlsx")]) == 1
    out = capsys.readouterr().out
    assert "错误 学生 第 6 行 班级名称：没有名为“没有的班”的班级" in out
    assert "没有写入任何数据" in out
    assert counts(empty)["departments"] == 0


def test_an_unreadable_file_exits_2(shell, capsys):
    (shell / "学院.xls").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600)
    assert cli.main(["import", str(shell / "学院.xls")]) == 2
    assert ".xls" in capsys.readouterr().err
    assert cli.main(["import", str(shell / "nowhere.xlsx")]) == 2


def test_a_csv_takes_its_sheet_from_the_option(shell, empty, capsys):
    (shell / "export.csv").write_text("系部名称\n信息工程系\n", encoding="gbk")
    assert cli.main(["import", str(shell / "export.csv")]) == 2
    assert cli.main(["import", str(shell / "export.csv"), "--sheet", "系部"]) == 0
    assert counts(empty)["departments"] == 1


def test_import_template_writes_the_workbook(shell):
    assert cli.main(["import-template", str(shell / "模板.xlsx")]) == 0
    assert (shell / "模板.xlsx").read_bytes().startswith(b"PK")
