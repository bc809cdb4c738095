# The two commands a new user needs: `make demo` and `make test`. Both build .venv first.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export ORT_DISABLE_TELEMETRY := 1
export RAY_AUTH_MODE := disabled

.PHONY: venv venv-ray demo screenshot test test-all lint

$(VENV)/.installed: pyproject.toml constraints.txt
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build
	$(BIN)/pip install -q -c constraints.txt torch==2.13.0
	$(BIN)/pip install -q -c constraints.txt -e '.[train,onnx,openvino,dev]'
	touch $@

venv: $(VENV)/.installed

# Optional: the Ray engine (`score --engine ray`) and its test, which skips without it.
$(VENV)/.ray: $(VENV)/.installed
	$(BIN)/pip install -q -c constraints.txt -e '.[ray]'
	touch $@

venv-ray: $(VENV)/.ray

demo: venv
	$(BIN)/comment-audit audit examples/instagram_export.jsonl --campaign examples/campaign.toml -o out/demo

# The README's picture of the example report (headless Chromium, Debian's `chromium` package).
screenshot: demo
	chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,2200 \
		--screenshot=docs/report-screenshot.png "file://$(CURDIR)/out/demo/report.html"

test: venv
	$(BIN)/python -m pytest -m "not slow" -q

test-all: venv
	$(BIN)/python -m pytest -q

lint: venv
	$(BIN)/ruff format --check . && $(BIN)/ruff check .
