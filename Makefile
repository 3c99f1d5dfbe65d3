# Two commands do all the set-up from a fresh clone:
#   make app    create .venv if missing, install, start the main program
#   make test   same set-up, then the whole test suite and the notebooks (quick mode, nbmake)
#   make lab    same set-up, then JupyterLab on the notebooks
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
INSTALLED := $(VENV)/.installed

.PHONY: app test lab install clean

$(PY):
	$(PYTHON) -m venv $(VENV)

$(INSTALLED): $(PY) pyproject.toml
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e ".[notebooks,test]"
	touch $(INSTALLED)

install: $(INSTALLED)

# The Gradio app on http://127.0.0.1:7860 (GRADIO_SERVER_PORT or S3RNET_APP_PORT to change the port).
app: install
	GRADIO_ANALYTICS_ENABLED=False $(PY) app/main.py

# JupyterLab on the tutorials, in the project's environment (nothing to activate); as root it
# needs --allow-root.
lab: install
	$(VENV)/bin/jupyter lab notebooks/ $(if $(filter 0,$(shell id -u)),--allow-root)

test: install
	$(PY) -m pytest
	S3RNET_QUICK=1 OMP_NUM_THREADS=$${OMP_NUM_THREADS:-1} $(PY) -m pytest --nbmake --nbmake-timeout=600 notebooks

clean:
	rm -rf $(VENV) .pytest_cache
