# The two commands of the README:  `make example`  and  `make test`.
VENV ?= .venv
STAMP := $(VENV)/.seq2exp-installed

.PHONY: example test setup bench clean

$(STAMP): pyproject.toml scripts/setup.sh
	bash scripts/setup.sh
	touch $(STAMP)

setup: $(STAMP)

example: $(STAMP)
	PATH="$(CURDIR)/$(VENV)/bin:$$PATH" bash examples/run.sh

# the workflow test must run here (CI), not skip for want of Snakemake
test: $(STAMP)
	SEQ2EXP_REQUIRE_WORKFLOW=1 $(VENV)/bin/python -m pytest

clean:
	rm -rf $(VENV) .pytest_cache
