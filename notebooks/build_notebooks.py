"""Writes the tutorial notebooks of this folder from the cell sources below.

The notebooks are committed without outputs. Edit the cells here, then run

    python notebooks/build_notebooks.py                   # every notebook
    python notebooks/build_notebooks.py 02_training.ipynb  # only the ones named

and commit the regenerated ``.ipynb`` files together with this script
(``tests/test_notebooks.py`` checks that the two agree and that no output is committed).
Editing a notebook in JupyterLab is fine too, as long as this script is updated to match.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _cells_01 import CELLS as CELLS_01  # noqa: E402
from _cells_02 import CELLS as CELLS_02  # noqa: E402
from _cells_03 import CELLS as CELLS_03  # noqa: E402
from _cells_04 import CELLS as CELLS_04  # noqa: E402

NOTEBOOKS = {
    "01_degradation.ipynb": CELLS_01,
    "02_training.ipynb": CELLS_02,
    "03_analysis.ipynb": CELLS_03,
    "04_real_pair.ipynb": CELLS_04,
}


def build(cells: list[tuple[str, str]]) -> nbformat.NotebookNode:
    """A notebook from ``(kind, source)`` pairs; kind ``md``, ``code`` or ``hidden`` (code whose
    source JupyterLab shows collapsed: the answers of the exercises)."""
    notebook = new_notebook()
    notebook.metadata = {
        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"},
        "language_info": {"name": "python"},
    }
    for index, (kind, source) in enumerate(cells):
        source = source.strip("\n")
        if kind == "md":
            cell = new_markdown_cell(source)
        else:
            cell = new_code_cell(source)
            if kind == "hidden":
                cell.metadata["jupyter"] = {"source_hidden": True}
        cell["id"] = f"cell-{index:02d}"
        notebook.cells.append(cell)
    return notebook


def render(name: str) -> str:
    """The JSON text of one notebook, as committed."""
    return nbformat.writes(build(NOTEBOOKS[name])) + "\n"


def main(names: list[str]) -> None:
    unknown = [name for name in names if name not in NOTEBOOKS]
    if unknown:
        sys.exit(f"build_notebooks.py: no notebook {', '.join(unknown)}; choose among {', '.join(NOTEBOOKS)}")
    for name in names or NOTEBOOKS:
        (HERE / name).write_text(render(name))
        print(f"wrote notebooks/{name}")


if __name__ == "__main__":
    main(sys.argv[1:])
