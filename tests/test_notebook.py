"""The tour notebook runs in a real Jupyter kernel, and every report shows itself as HTML."""

from pathlib import Path

import nbclient
import nbformat
import pytest

TOUR = Path(__file__).resolve().parent.parent / "examples" / "tour.ipynb"


@pytest.fixture(scope="module")
def executed():
    notebook = nbformat.read(TOUR, as_version=4)
    # The kernel starts in the examples folder, as it would for a reader opening the file.
    client = nbclient.NotebookClient(
        notebook, timeout=300, kernel_name="python3", resources={"metadata": {"path": TOUR.parent}}
    )
    client.execute()
    return [cell for cell in notebook.cells if cell.cell_type == "code"]


def _html(cell) -> str:
    return "".join(out.get("data", {}).get("text/html", "") for out in cell.outputs)


def test_the_tour_runs_without_an_error(executed):
    errors = [out for cell in executed for out in cell.outputs if out.output_type == "error"]
    assert not errors, errors


def test_each_report_is_shown_as_html(executed):
    sources = {cell.source.splitlines()[-1]: cell for cell in executed}
    apple = _html(sources['api.graph("apple")'])
    assert "<table>" in apple and "220" in apple and "110" in apple  # price, ∂price/∂apple_num
    chain = _html(sources['api.derive("(x+y)**2")'])
    assert "Chain rule" in chain and "<math" in chain
    sigmoid = _html(sources['api.derive("sigmoid")'])
    assert "In terms of the output" in sigmoid
    affine = _html(sources['api.compare("affine", shape="2,3")'])
    assert affine.count("✓ agree") == 3 and "dW</strong>, element by element" in affine
    broken = _html(sources["report"])
    assert "✗ problems found" in broken and "dx is wrong at 2 of 6 elements" in broken


def test_print_shows_what_the_command_line_prints(executed):
    (printed,) = executed[-1].outputs
    assert printed.output_type == "stream" and "dx is wrong" in printed.text
    assert all(len(line) <= 80 for line in printed.text.splitlines())
