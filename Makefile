# Build and test tooling for the mailsec.mimecast Ansible collection.
#
# Needs only python3 (3.11) and GNU make; everything else comes from
# requirements-dev.txt into .venv/.  `make test` runs everything CI checks
# (.ci/run calls it).  `make help` lists the targets.

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
.DELETE_ON_ERROR:
# One venv install at a time, and `make test` stops at the first failure even with -j.
.NOTPARALLEL:
MAKEFLAGS += --no-print-directory

NAMESPACE := mailsec
NAME := mimecast

# Interpreter used to create .venv: python3.11 when there is one, else python3.
PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
# Python version ansible-test sanity runs its tests with.
SANITY_PYTHON ?= 3.11
# Extra arguments, e.g. `make sanity SANITY_ARGS="--test pylint"` or
# `make unit PYTEST_ARGS="-k client -x"`.
SANITY_ARGS ?=
PYTEST_ARGS ?=
# `make bench BENCH_ARGS="--quick"` (see tests/bench/bench.py --help).
BENCH_ARGS ?=
# Integration tests run ansible-playbook processes: two workers use both cores.
INTEGRATION_WORKERS ?= -n 2

VENV := $(CURDIR)/.venv
VBIN := $(VENV)/bin
VENV_STAMP := $(VENV)/.requirements.sha256

COLLECTIONS_DIR := $(CURDIR)/build/collections
COLLECTION_LINK := $(COLLECTIONS_DIR)/ansible_collections/$(NAMESPACE)/$(NAME)
SANITY_DIR := $(CURDIR)/build/sanity/ansible_collections/$(NAMESPACE)/$(NAME)
GET_PIP_STANDIN := $(CURDIR)/tests/tools/get_pip_standin.py

# Own virtualenvs, each from one pinned file: galaxy-importer + ansible-builder (package-check),
# and the oldest ansible-core that meta/runtime.yml's requires_ansible claims (oldest).
PKG_VENV := $(CURDIR)/build/venv-package
PKG_REQUIREMENTS := tests/requirements-package.txt
OLDEST_VENV := $(CURDIR)/build/venv-oldest
OLDEST_REQUIREMENTS := tests/requirements-oldest.txt
# The integration tests `make oldest` runs with the oldest ansible-core: the role with its
# argument specs, module_defaults action groups, the declarative cycle, reports.
OLDEST_INTEGRATION ?= tests/integration/test_phish_sim_allowlist.py tests/integration/test_antispoof_bypass.py \
                      tests/integration/test_audit.py tests/integration/test_smoke.py

# pip prints one warning per package for the machine's file:// extra indexes
# that do not carry it; drop that noise (pipefail keeps pip's exit status).
PIP_NOISE := ^WARNING: Location '.*' is ignored: it is neither a file nor a directory\.$$
define quiet_pip
{ grep --line-buffered -Ev "$(PIP_NOISE)" || true; }
endef

# The tools call each other by name (antsibull-docs runs `ansible`, ansible-lint
# `ansible-playbook`): .venv/bin comes first on PATH for every recipe.
export PATH := $(VBIN):$(PATH)

# Targets that use the collection find it (and only it) through build/collections.
unit integration oldest lint docs-lint demo bench: export ANSIBLE_COLLECTIONS_PATH := $(COLLECTIONS_DIR)

say = printf '\n==> %s\n' "$(1)"

.PHONY: help venv collection system-deps unit integration sanity sanity-copy get-pip-standin \
        lint docs-lint changelog-lint package-check package-venv oldest oldest-venv test demo bench clean

help:
	@echo "Targets:"
	@echo "  venv            create/reuse .venv and install requirements-dev.txt (only when it changed)"
	@echo "  collection      symlink build/collections/ansible_collections/$(NAMESPACE)/$(NAME) -> repo"
	@echo "  system-deps     apt-get install what the firewall tests need (nftables iptables ipset iproute2), root only"
	@echo "  unit            pytest tests/unit"
	@echo "  integration     pytest tests/integration"
	@echo "  sanity          ansible-test sanity on a copy in build/sanity (offline pip bootstrap)"
	@echo "  lint            ansible-lint (profile production): roles/, playbooks/, galaxy.yml, meta/"
	@echo "  docs-lint       antsibull-docs lint-collection-docs --plugin-docs"
	@echo "  changelog-lint  antsibull-changelog lint"
	@echo "  package-check   build the tarball, check its contents, galaxy-importer, ansible-builder introspect"
	@echo "  oldest          unit tests and an integration subset with the oldest supported ansible-core"
	@echo "  test            all of the above (what CI runs)"
	@echo "  demo            run tests/sandbox/demo.py"
	@echo "  bench           performance bench, not part of test (docs/performance.md); BENCH_ARGS=\"--quick\""
	@echo "  clean           remove build/ and tests/output/"

# ---------------------------------------------------------------- environment

venv:
	@$(call say,venv: $(VENV) from requirements-dev.txt)
	@if [ -x "$(VBIN)/python" ] && ! "$(VBIN)/python" -c 'import sys' >/dev/null 2>&1; then \
	    echo "existing .venv is broken (interpreter gone?): recreating it"; \
	    rm -rf "$(VENV)"; \
	fi
	@if [ ! -x "$(VBIN)/python" ]; then \
	    test -n "$(PYTHON)" || { echo "ERROR: no python3 found on PATH" >&2; exit 1; }; \
	    echo "creating .venv with $(PYTHON) ($$($(PYTHON) --version 2>&1))"; \
	    "$(PYTHON)" -m venv "$(VENV)" || { echo "ERROR: '$(PYTHON) -m venv' failed (on a Debian system Python: apt-get install python3-venv)" >&2; exit 1; }; \
	fi
	@want=$$(sha256sum requirements-dev.txt | cut -d' ' -f1); \
	have=$$(cat "$(VENV_STAMP)" 2>/dev/null || true); \
	if [ "$$want" = "$$have" ]; then \
	    echo "requirements-dev.txt unchanged since last install: nothing to do"; \
	else \
	    echo "installing requirements-dev.txt into .venv (this takes a minute the first time)"; \
	    rm -f "$(VENV_STAMP)"; \
	    "$(VBIN)/python" -m pip install --disable-pip-version-check --quiet -r requirements-dev.txt 2>&1 | $(quiet_pip); \
	    echo "$$want" > "$(VENV_STAMP)"; \
	    echo "installed: $$("$(VBIN)/python" -m pip freeze --disable-pip-version-check | grep -Eic '^[a-z0-9]') packages"; \
	fi

# $(call pinned_venv,DIR,REQUIREMENTS): create DIR with $(PYTHON) (again when it is broken) and
# install the pinned REQUIREMENTS into it, only when that file changed since the last install.
define pinned_venv
if [ -x "$(1)/bin/python" ] && ! "$(1)/bin/python" -m pip --version >/dev/null 2>&1; then \
    echo "existing $(1) is broken (interpreter or pip gone, an interrupted creation?): recreating it"; \
    rm -rf "$(1)"; \
fi; \
if [ ! -x "$(1)/bin/python" ]; then \
    test -n "$(PYTHON)" || { echo "ERROR: no python3 found on PATH" >&2; exit 1; }; \
    "$(PYTHON)" -m venv "$(1)" || { echo "ERROR: '$(PYTHON) -m venv' failed" >&2; exit 1; }; \
fi; \
want=$$(sha256sum "$(2)" | cut -d' ' -f1); \
have=$$(cat "$(1)/.requirements.sha256" 2>/dev/null || true); \
if [ "$$want" = "$$have" ]; then \
    echo "$(2) unchanged since last install: nothing to do"; \
else \
    echo "installing $(2) into $(1)"; \
    rm -f "$(1)/.requirements.sha256"; \
    "$(1)/bin/python" -m pip install --disable-pip-version-check --quiet -r "$(2)" 2>&1 | $(quiet_pip); \
    echo "$$want" > "$(1)/.requirements.sha256"; \
fi
endef

package-venv:
	@$(call say,package-venv: $(PKG_VENV) from $(PKG_REQUIREMENTS))
	@$(call pinned_venv,$(PKG_VENV),$(PKG_REQUIREMENTS))

oldest-venv:
	@$(call say,oldest-venv: $(OLDEST_VENV) from $(OLDEST_REQUIREMENTS))
	@$(call pinned_venv,$(OLDEST_VENV),$(OLDEST_REQUIREMENTS))

collection:
	@$(call say,collection: $(COLLECTION_LINK) -> $(CURDIR))
	@mkdir -p "$(dir $(COLLECTION_LINK))"
	@if [ -L "$(COLLECTION_LINK)" ] && [ "$$(readlink -f "$(COLLECTION_LINK)")" = "$$(readlink -f "$(CURDIR)")" ]; then \
	    echo "symlink already in place"; \
	else \
	    rm -rf "$(COLLECTION_LINK)"; \
	    ln -s "$(CURDIR)" "$(COLLECTION_LINK)"; \
	    echo "symlink created"; \
	fi
	@echo "ANSIBLE_COLLECTIONS_PATH=$(COLLECTIONS_DIR)"

# Debian packages the firewall_lockdown network-namespace tests need.  Installed
# only when missing (one `apt-get update`, then --no-install-recommends).  Not
# root or no apt-get: a warning, and those tests skip with the reason.
SYSTEM_DEPS := nftables iptables ipset iproute2

system-deps:
	@$(call say,system-deps: $(SYSTEM_DEPS))
	@missing=""; \
	for p in $(SYSTEM_DEPS); do \
	    if [ "$$(dpkg-query -W -f='$${Status}' "$$p" 2>/dev/null || true)" != "install ok installed" ]; then \
	        missing="$$missing $$p"; \
	    fi; \
	done; \
	if [ -z "$$missing" ]; then \
	    echo "already installed: $(SYSTEM_DEPS)"; \
	elif [ "$$(id -u)" != 0 ]; then \
	    echo "WARNING: not root, cannot install:$$missing (the firewall netns tests will skip)" >&2; \
	elif ! command -v apt-get >/dev/null 2>&1; then \
	    echo "WARNING: no apt-get, cannot install:$$missing (the firewall netns tests will skip)" >&2; \
	else \
	    echo "installing:$$missing (apt-get update, apt-get install -y --no-install-recommends)"; \
	    log=$$(mktemp); \
	    if { DEBIAN_FRONTEND=noninteractive apt-get update -q \
	         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends $$missing; } >"$$log" 2>&1; then \
	        echo "installed:$$missing"; \
	    else \
	        cat "$$log" >&2; \
	        echo "WARNING: apt-get failed for:$$missing (the firewall netns tests will skip)" >&2; \
	    fi; \
	    rm -f "$$log"; \
	fi

# ---------------------------------------------------------------- tests

# $(call run_pytest,DIR): pytest DIR. An empty/missing DIR, or one with no test
# files at all, is not an error (pytest exit 5); once test files exist, "no
# tests collected" fails like any other pytest failure.
define run_pytest
if ! find "$(1)" -name 'test_*.py' -o -name '*_test.py' 2>/dev/null | grep -q .; then \
    echo "no test files under $(1) yet: nothing to run"; \
else \
    "$(VBIN)/pytest" --ansible-unit-inject-only $(2) $(PYTEST_ARGS) "$(1)"; \
fi
endef

unit: venv collection
	@$(call say,unit: pytest tests/unit)
	@$(call run_pytest,tests/unit)

integration: venv collection system-deps
	@$(call say,integration: pytest tests/integration)
	@rm -f build/safety-counts.json
	@$(call run_pytest,tests/integration,$(INTEGRATION_WORKERS))

# ansible-test must run from .../ansible_collections/<ns>/<name> and should not
# see build/ or .venv/: it runs on a copy of what git would commit (tracked plus
# untracked-but-not-ignored files).  The copy's tests/output/ is kept, so the
# virtual environment ansible-test delegates into is reused on the next run.
sanity-copy:
	@$(call say,sanity-copy: git-visible files -> $(SANITY_DIR))
	@mkdir -p "$(SANITY_DIR)/tests"
	@find "$(SANITY_DIR)" -mindepth 1 -maxdepth 1 ! -name tests ! -name .git -exec rm -rf {} +
	@find "$(SANITY_DIR)/tests" -mindepth 1 -maxdepth 1 ! -name output -exec rm -rf {} +
	@git ls-files -z -co --exclude-standard | while IFS= read -r -d '' f; do \
	    if [ -e "$$f" ] || [ -L "$$f" ]; then \
	        mkdir -p "$(SANITY_DIR)/$$(dirname "$$f")"; \
	        cp -P --preserve=mode "$$f" "$(SANITY_DIR)/$$f"; \
	    fi; \
	done
	@# A git work tree of its own (nothing committed): otherwise ansible-test would
	@# ask the enclosing repo, which ignores build/, and find no files at all.
	@if [ ! -d "$(SANITY_DIR)/.git" ]; then git init -q "$(SANITY_DIR)"; fi
	@echo "copied $$(find "$(SANITY_DIR)" -path "$(SANITY_DIR)/tests/output" -prune -o ! -type d -print | wc -l) files"

# ansible-test --venv bootstraps pip with a script it downloads from a host that
# is not a package registry; put the offline stand-in where it looks first.
get-pip-standin: venv
	@ver=$$("$(VBIN)/python" -c 'import re, ansible_test._internal.python_requirements as m; print(re.search(r"pip=.([0-9.]+).", open(m.__file__).read()).group(1))'); \
	dest="$$HOME/.ansible/test/cache/get_pip_$${ver//./_}.py"; \
	if [ -f "$$dest" ]; then \
	    echo "pip $$ver bootstrap script present: $$dest"; \
	else \
	    mkdir -p "$$(dirname "$$dest")"; \
	    cp "$(GET_PIP_STANDIN)" "$$dest"; \
	    echo "installed offline pip $$ver bootstrap stand-in: $$dest"; \
	fi

sanity: venv sanity-copy get-pip-standin
	@$(call say,sanity: ansible-test sanity --venv --python $(SANITY_PYTHON) in $(SANITY_DIR))
	@for f in tests/sanity/ignore-*.txt; do \
	    if [ -s "$$f" ]; then echo "ERROR: $$f must stay empty" >&2; exit 1; fi; \
	done
	@cd "$(SANITY_DIR)" && env -u ANSIBLE_COLLECTIONS_PATH \
	    "$(VBIN)/ansible-test" sanity --venv --python "$(SANITY_PYTHON)" --color no $(SANITY_ARGS) 2>&1 | $(quiet_pip)

# ansible-lint on the whole collection as it detects it (roles/, playbooks/,
# galaxy.yml, meta/runtime.yml, module EXAMPLES), minus .ansible-lint's
# exclude_paths; it passes when there are no roles or playbooks yet.
lint: venv collection
	@$(call say,lint: ansible-lint --profile production (roles/ playbooks/ galaxy.yml meta/))
	@"$(VBIN)/ansible-lint" --profile production $$([ -t 1 ] || echo --nocolor)

docs-lint: venv collection
	@$(call say,docs-lint: antsibull-docs lint-collection-docs --plugin-docs)
	@cd "$(COLLECTION_LINK)" && "$(VBIN)/antsibull-docs" lint-collection-docs --plugin-docs "$(COLLECTION_LINK)"

changelog-lint: venv
	@$(call say,changelog-lint: antsibull-changelog lint)
	@"$(VBIN)/antsibull-changelog" lint
	@"$(VBIN)/antsibull-changelog" lint-changelog-yaml changelogs/changelog.yaml
	@echo "changelog fragments and changelogs/changelog.yaml are valid"

# The collection as users get it: the tarball holds no development file, galaxy-importer (what
# Galaxy and Automation Hub run on an upload) accepts it, and ansible-builder's introspection of
# the installed copy lists exactly httpx, dnspython and cryptography (tests/tools/package_check.py).
package-check: package-venv
	@$(call say,package-check: build the tarball; contents; galaxy-importer; ansible-builder introspect)
	@PATH="$(PKG_VENV)/bin:$$PATH" "$(PKG_VENV)/bin/python" tests/tools/package_check.py

# meta/runtime.yml claims requires_ansible >= 2.16: the unit tests and OLDEST_INTEGRATION run
# with ansible-core 2.16 (tests/requirements-oldest.txt), the rest of `make test` with 2.19.
oldest: oldest-venv collection
	@$(call say,oldest: ansible-core $$("$(OLDEST_VENV)/bin/python" -c 'import ansible.release as r; print(r.__version__)'): unit + integration subset)
	@"$(OLDEST_VENV)/bin/python" -m pytest --ansible-unit-inject-only -n 2 $(PYTEST_ARGS) tests/unit $(OLDEST_INTEGRATION)

test: venv collection system-deps unit integration sanity lint docs-lint changelog-lint package-check oldest
	@$(call say,test: all checks passed)
	@"$(VBIN)/python" tests/tools/safety_counts.py

demo: venv collection
	@$(call say,demo: python tests/sandbox/demo.py)
	@"$(VBIN)/python" tests/sandbox/demo.py

# Not part of `make test`: minutes of ansible-playbook runs (docs/performance.md). Results in build/bench/.
bench: venv collection
	@$(call say,bench: python tests/bench/bench.py $(BENCH_ARGS))
	@"$(VBIN)/python" tests/bench/bench.py $(BENCH_ARGS)

clean:
	@$(call say,clean: removing build/ and tests/output/)
	rm -rf build tests/output
