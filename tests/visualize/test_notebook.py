"""The teaching notebook runs from top to bottom without an error (nbclient, a real kernel)."""

import json
import pathlib
import sys

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK = pathlib.Path(__file__).resolve().parents[2] / "examples" / "teaching.ipynb"
KERNEL = "chainrule-test-python"


def test_teaching_notebook_runs(tmp_path, monkeypatch):
    # A kernelspec pointing at this interpreter, so the kernel sees the same installed
    # chainrule as the tests, whatever `python` means on PATH.
    spec = tmp_path / "jupyter" / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "chainrule tests", "language": "python"}))
    monkeypatch.setenv("JUPYTER_PATH", str(tmp_path / "jupyter"))
    work = tmp_path / "work"
    work.mkdir()

    nb = nbformat.read(NOTEBOOK, as_version=4)
    client = nbclient.NotebookClient(nb, kernel_name=KERNEL, timeout=120,
                                     resources={"metadata": {"path": str(work)}})
    client.execute()  # raises CellExecutionError naming the cell if any cell fails

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    assert "da/dw = 0.1175" in text                       # the neuron's gradient
    assert "da/dw = da/du * ∂u/∂w = 0.235 * 0.5 = 0.1175" in text  # a step line
    assert any("image/svg+xml" in o.get("data", {}) for o in outputs)  # graph drawn inline
    assert (work / "neuron_steps.html").is_file()         # written in the notebook's folder
    pages = [o["data"]["text/html"] for o in outputs if "text/html" in o.get("data", {})
             and o["data"]["text/html"].startswith("<iframe srcdoc=")]
    assert len(pages) == 3  # the step-through page inline: steps, quiz, backward() twice
    assert "&quot;quiz&quot;:true" in pages[1] and "&quot;passes&quot;:2" in pages[2]
    assert "caught: gradcheck" in text and "input 0" in text  # the forgotten x is named
    assert "sum of the paths = " in text and "'w': 'a * (1 - a) * x'" in text
    assert "after training:" in text
