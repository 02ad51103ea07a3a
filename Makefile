# DSR Intake. `make demo` and `make test` create the virtualenv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed-dev
SAM_VENV := .venv-sam
CHECKOV_VENV := .venv-checkov

LAMBDA_VENV := .venv-lambda
# sam build needs a python3.12 for the python3.12 functions: a real one on the PATH, or pyenv's.
PYTHON312_DIR := $(shell python3.12 -c 'import sys, os; print(os.path.dirname(sys.executable))' 2>/dev/null \
	|| ls -d $(HOME)/.pyenv/versions/3.12*/bin 2>/dev/null | tail -n 1)

.PHONY: demo test chromium bench corpus-report lint typecheck validate checkov package forms samples clean build-SharedLayer

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@

demo: $(INSTALLED)
	$(BIN)/dsr-intake demo

test: $(INSTALLED) lint typecheck chromium
	$(BIN)/python -m pytest

# The console's browser tests (tests/browser) drive the OS's Chromium: installed where there is
# none (Playwright's own download is not used). DSR_CHROMIUM names another browser.
chromium:
	@if [ -z "$${DSR_CHROMIUM:-}" ] && ! command -v chromium >/dev/null 2>&1 \
		&& ! command -v chromium-browser >/dev/null 2>&1 && ! command -v google-chrome >/dev/null 2>&1 \
		&& ! command -v google-chrome-stable >/dev/null 2>&1; then \
		as_root=""; [ "$$(id -u)" -eq 0 ] || as_root="sudo -n"; \
		$$as_root apt-get update -q && $$as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; \
	fi

# Benchmarks: each prints its ratio, measured in the same run, and PASS or FAIL.
bench: $(INSTALLED)
	@for benchmark in bench/bench_*.py; do echo "== $$benchmark"; $(BIN)/python $$benchmark || exit 1; done

# How many of the corpus's emails (tests/corpus) are read correctly.
corpus-report: $(INSTALLED)
	$(BIN)/python -m tests.corpus.report

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/cfn-lint template.yaml

typecheck: $(INSTALLED)
	$(BIN)/mypy shared functions infrastructure templates tests bench

# sam validate (plain and --lint). aws-sam-cli pins boto3 and cfn-lint, so it lives in its own venv.
validate:
	test -x $(SAM_VENV)/bin/sam || ($(PYTHON) -m venv $(SAM_VENV) && $(SAM_VENV)/bin/pip install --quiet aws-sam-cli)
	SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=eu-west-2 AWS_ACCESS_KEY_ID=offline AWS_SECRET_ACCESS_KEY=offline \
		$(SAM_VENV)/bin/sam validate
	SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam validate --lint

# checkov on the template (not part of `make test`); every finding is fixed or justified
# beside its resource (`# checkov:skip=CKV_...: reason`). Its own venv: it pins much.
checkov:
	test -x $(CHECKOV_VENV)/bin/checkov || ($(PYTHON) -m venv $(CHECKOV_VENV) && $(CHECKOV_VENV)/bin/pip install --quiet checkov)
	$(CHECKOV_VENV)/bin/checkov --quiet --compact --framework cloudformation --file template.yaml

# sam build, then import each built function on Python 3.12 with only boto3 (which the
# Lambda runtime provides) beside the layer: what Lambda does on a cold start.
package: validate
	@test -n "$(PYTHON312_DIR)" || (echo "make package needs Python 3.12 (the Lambda runtime's): install it, e.g. pyenv install 3.12" && exit 1)
	PATH="$(PYTHON312_DIR):$$PATH" SAM_CLI_TELEMETRY=0 $(SAM_VENV)/bin/sam build
	test -x $(LAMBDA_VENV)/bin/python || ($(PYTHON312_DIR)/python3.12 -m venv $(LAMBDA_VENV) && $(LAMBDA_VENV)/bin/pip install --quiet boto3)
	# Every function sam built from the template (its CodeUri holds an app.py).
	for built in .aws-sam/build/*Function; do \
		test -f $$built/app.py || continue; function=$$(basename $$built); \
		(cd $$built && AWS_DEFAULT_REGION=eu-west-2 PYTHONPATH=../SharedLayer/python \
			../../../$(LAMBDA_VENV)/bin/python -c "import app; print('$$function imports on', __import__('sys').version.split()[0])") || exit 1; \
	done
	# The IntakeFunction loads the intake with its first email: import that too.
	cd .aws-sam/build/IntakeFunction && AWS_DEFAULT_REGION=eu-west-2 PYTHONPATH=../SharedLayer/python \
		../../../$(LAMBDA_VENV)/bin/python -c "import app, shared.intake_service, shared.adapters.register_table, shared.adapters.identity, shared.forms.pdf, shared.forms.word; print('the intake imports')"

# Regenerate the fillable PDF forms (reportlab is a generation-only dependency).
# Print your area's inbox on them before deploying: make forms INBOX=... BLANK_FORMS="..."
forms: $(INSTALLED)
	$(BIN)/python -m pip install --quiet -e '.[forms]'
	$(BIN)/python -m templates.forms.generate $(if $(INBOX),--inbox "$(INBOX)") $(if $(BLANK_FORMS),--blank-forms "$(BLANK_FORMS)")

samples: $(INSTALLED)
	$(BIN)/dsr-intake samples samples

clean:
	rm -rf $(VENV) $(SAM_VENV) $(CHECKOV_VENV) $(LAMBDA_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# Called by `sam build` for the SharedLayer (BuildMethod: makefile, build in source):
# the shared package, the email texts and the run-time dependencies for python3.12 on Lambda,
# exactly as pinned (with their hashes) in requirements-lambda.txt.
build-SharedLayer:
	mkdir -p "$(ARTIFACTS_DIR)/python/templates/forms"
	cp -r shared "$(ARTIFACTS_DIR)/python/"
	cp templates/__init__.py "$(ARTIFACTS_DIR)/python/templates/"
	cp -r templates/email "$(ARTIFACTS_DIR)/python/templates/"
	cp templates/forms/__init__.py templates/forms/layout.py templates/forms/*.pdf "$(ARTIFACTS_DIR)/python/templates/forms/"
	find "$(ARTIFACTS_DIR)/python" -name __pycache__ -prune -exec rm -rf {} +
	$(PYTHON) -m pip install --quiet --target "$(ARTIFACTS_DIR)/python" \
		--platform manylinux2014_x86_64 --implementation cp --python-version 3.12 \
		--only-binary=:all: --require-hashes -r requirements-lambda.txt
