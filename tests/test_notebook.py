"""The analyst's notebook runs top to bottom on the real data and finds what the data says."""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
import pytest
from ipykernel.kernelspec import write_kernel_spec
from jupyter_client.kernelspec import KernelSpecManager
from nbclient import NotebookClient

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "cambridge_buses.ipynb"


def read_notebook() -> nbformat.NotebookNode:
    notebook: nbformat.NotebookNode = nbformat.read(NOTEBOOK, as_version=4)  # type: ignore[no-untyped-call]
    return notebook


@pytest.fixture
def venv_kernel(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A ``python3`` kernel spec that runs this interpreter (the venv's), searched first."""
    write_kernel_spec(tmp_path / "kernels" / "python3")
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path))
    assert KernelSpecManager().get_kernel_spec("python3").argv[0] == sys.executable
    return "python3"


def test_notebook_is_committed_without_outputs() -> None:
    code = [cell for cell in read_notebook().cells if cell.cell_type == "code"]

    assert code
    assert all(cell.outputs == [] and cell.execution_count is None for cell in code)


@pytest.mark.shared_data
def test_notebook_runs_on_the_real_data(
    shared_data: Path, venv_kernel: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ZONES_SHARED_DATA", str(shared_data))
    notebook = read_notebook()

    NotebookClient(
        notebook,
        kernel_name=venv_kernel,
        timeout=300,
        resources={"metadata": {"path": str(NOTEBOOK.parent)}},  # the kernel's working directory
    ).execute()

    cells = {cell.id: cell for cell in notebook.cells}
    judged = "".join(output.get("text", "") for output in cells["judge"].outputs)
    assert "fixes inside any zone: 6,618 of 60,390" in judged
    assert "zones hit: 86 of 86" in judged
    drawn = cells["map"].outputs[-1]
    assert drawn.output_type == "execute_result"
    assert "leaflet" in drawn.data["text/html"].lower()
    stderr = [
        output
        for cell in notebook.cells
        for output in cell.get("outputs", [])
        if output.get("name") == "stderr"
    ]
    assert stderr == [], "the notebook warned or logged to stderr"
