"""Recording a forecast in the ledger through the real ``publish`` flow and CLI, on the
session's tiny fit of the real bundle: once per run, refused whole on a bad questions file,
and skipped (with the reason) when the panel moved on since the fit."""

from __future__ import annotations

import shutil
from pathlib import Path

import polars as pl
import pytest
import yaml
from typer.testing import CliRunner

from flows.cli import app
from flows.forecast import forecast
from flows.ledger import record_forecast
from flows.warehouse import connect, replace_tables
from tests.conftest import DATA_DIR

pytestmark = pytest.mark.usefixtures("prefect_server")
LEDGER = ("ledger_entries", "ledger_quantities", "ledger_questions")


@pytest.fixture(scope="module")
def forecasted(fitted_db: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    folder = tmp_path_factory.mktemp("ledger-flow")
    db = folder / "w.duckdb"
    shutil.copy(fitted_db["db"], db)
    run = forecast(db_path=db, scenarios=["baseline"], n_paths=20, max_draws=20)
    return {"folder": folder, "db": db, "run_id": run.run_id}


def counts(db: Path, tables: tuple[str, ...] = (*LEDGER, "reports")) -> dict[str, int]:
    with connect(db, read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0] for t in tables}


def data_dir_with_questions(folder: Path, questions: object) -> Path:
    data = folder / "data"
    data.mkdir()
    for entry in DATA_DIR.iterdir():
        if entry.name != "questions.yaml":
            (data / entry.name).symlink_to(entry)
    (data / "questions.yaml").write_text(yaml.safe_dump(questions))
    return data


def test_a_bad_questions_file_stops_the_publish_with_one_line(
    forecasted: dict, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(forecasted["db"], db)
    good = yaml.safe_load((DATA_DIR / "questions.yaml").read_text())
    good["questions"][2]["op"] = "about"
    monkeypatch.setenv("WINSET_DATA_DIR", str(data_dir_with_questions(tmp_path, good)))
    monkeypatch.setenv("WINSET_VAR_DIR", str(tmp_path / "var"))
    result = CliRunner().invoke(app, ["publish", "--db", str(db)])
    assert result.exit_code == 2, result.output
    [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
    assert "questions.yaml" in line and "questions.2.op" in line
    assert counts(db) == dict.fromkeys((*LEDGER, "reports"), 0)  # nothing was written


def test_a_run_is_recorded_once(forecasted: dict, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(forecasted["db"], db)
    first = record_forecast(db, forecasted["run_id"])
    assert first is not None and first.recorded and first.questions > 0
    with connect(db, read_only=True) as con:
        before = {t: con.sql(f"SELECT * FROM {t} ORDER BY ALL").pl() for t in LEDGER}
    again = record_forecast(db)  # the newest run: the same one
    assert again is not None and not again.recorded and "already recorded" in again.describe()
    with connect(db, read_only=True) as con:
        for table in LEDGER:
            assert con.sql(f"SELECT * FROM {table} ORDER BY ALL").pl().equals(before[table])


def test_a_panel_changed_since_the_fit_is_not_recorded(forecasted: dict, tmp_path: Path) -> None:
    db = tmp_path / "w.duckdb"
    shutil.copy(forecasted["db"], db)
    with connect(db) as con:
        panel = con.sql("SELECT * FROM panel_monthly").pl()
        changed = panel.with_columns(pl.col("unrate") + 0.1)  # a W_US input: the fit's data moved
        replace_tables(con, {"panel_monthly": changed})
    skipped = record_forecast(db, forecasted["run_id"])
    assert skipped is not None and not skipped.recorded
    assert "the stored panel has changed since fit" in skipped.describe()
    assert counts(db, LEDGER) == dict.fromkeys(LEDGER, 0)
