# Two commands do all the set-up from a fresh clone:
#   make app    create .venv if missing, install, start the main program
#   make test   same set-up, then the whole test suite
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: app test install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,test]"
	touch $(INSTALLED)

install: $(INSTALLED)

# Until the Gradio app exists, the main program is the evaluation on the embedded scene.
app: install
	$(PY) -m s3rnet evaluate --scene indian_pines --split test --msi oli4

test: install
	$(PY) -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
