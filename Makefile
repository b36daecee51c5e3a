# agent-identity-operator. `make help` lists the targets.
SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := help
MAKEFLAGS += --no-print-directory

# Every target runs on the pinned Node (hack/node.sh installs it into a cache when the machine's is too old).
NODE_BIN := $(shell bash hack/node.sh)
ifeq ($(NODE_BIN),)
$(error hack/node.sh could not provide Node.js 22 (it needs npm and the npm registry))
endif
export PATH := $(NODE_BIN):$(PATH)

BIN := node_modules/.bin
# Extra arguments for every vitest run, e.g. VITEST_ARGS='-t "rotation"'.
VITEST_ARGS ?=
# When set, each vitest run also writes a JSON report <dir>/<project>.json (used by .ci/run).
VITEST_REPORT_DIR ?=
vitest_report = $(if $(VITEST_REPORT_DIR),--reporter=default --reporter=json --outputFile.json=$(VITEST_REPORT_DIR)/$(1).json)
# kube-apiserver/etcd/kubectl folder: KUBEBUILDER_ASSETS when set, else built once into a cache.
ASSETS = $${KUBEBUILDER_ASSETS:-$$(bash hack/envtest/provision.sh)}
DEV := node src/dev/cli.ts
# helm: $HELM when set, else built once from the Go module proxy into a cache (hack/tools/helm.sh).
HELM_BIN = $$(bash hack/tools/helm.sh)
CHART := charts/agent-identity-operator
# Image for docker-build; CONTAINER_TOOL=podman works too.
IMG ?= agent-identity-operator:$(shell node -p 'require("./package.json").version')
CONTAINER_TOOL ?= docker

##@ General
.PHONY: help
help: ## Show this help
	@awk 'BEGIN {FS = ":.*## "} /^##@/ {printf "\n%s\n", substr($$0, 5)} /^[a-zA-Z_-]+:.*## / {printf "  %-18s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

##@ Setup
node_modules/.deps-stamp: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

.PHONY: deps
deps: node_modules/.deps-stamp ## Install npm dependencies (npm ci; again only when package*.json change)

.PHONY: envtest
envtest: ## Provision kube-apiserver, etcd and kubectl (KUBEBUILDER_ASSETS, or a cached Go build) and print their folder
	@echo "$(ASSETS)"

##@ Build and checks
.PHONY: generate
generate: deps ## Regenerate TypeScript types (and other generated files) from crds/
	@if test -f hack/generate.ts; then node hack/generate.ts; else echo "generate: hack/generate.ts not present yet; nothing to generate"; fi

.PHONY: verify-generated
verify-generated: deps ## Fail when generated files are stale
	@if test -f hack/generate.ts; then node hack/generate.ts --check; else echo "verify-generated: hack/generate.ts not present yet; skipped"; fi

.PHONY: typecheck
typecheck: deps ## Type-check everything (src, test, hack)
	$(BIN)/tsc -p tsconfig.json --noEmit

.PHONY: lint
lint: deps ## Lint with eslint (type-aware rules)
	$(BIN)/eslint .

.PHONY: build
build: deps ## Compile src/ to dist/
	$(BIN)/tsc -p tsconfig.build.json

.PHONY: helm-lint
helm-lint: ## Lint the Helm chart (strict), with default values and with 2 replicas + ServiceMonitor
	@helm="$(HELM_BIN)"; \
	"$$helm" lint --strict $(CHART); \
	"$$helm" lint --strict $(CHART) --set replicaCount=2 --set metrics.serviceMonitor.enabled=true

.PHONY: chart-verify
chart-verify: helm-lint ## Render the chart and config/default (the integration tests dry-run them on a real API server)
	@helm="$(HELM_BIN)"; \
	"$$helm" template aio $(CHART) --namespace agent-identity-system --include-crds >/dev/null; \
	"$$helm" template aio $(CHART) --namespace agent-identity-system --set replicaCount=2 >/dev/null; \
	kubectl="$(ASSETS)/kubectl"; "$$kubectl" kustomize config/default >/dev/null; \
	echo "chart-verify: chart and config/default render"

.PHONY: docker-build
docker-build: ## Build the operator image IMG (default agent-identity-operator:<version>) with CONTAINER_TOOL
	$(CONTAINER_TOOL) build -t $(IMG) .

##@ Tests
.PHONY: test-unit
test-unit: deps ## Unit tests (src/**/*.test.ts)
	$(BIN)/vitest run --project unit --passWithNoTests $(call vitest_report,unit) $(VITEST_ARGS)

.PHONY: test-integration
test-integration: deps ## Integration tests against a real kube-apiserver + etcd, a real IdP and a real browser
	KUBEBUILDER_ASSETS="$(ASSETS)" HELM="$(HELM_BIN)" $(BIN)/vitest run --project integration $(call vitest_report,integration) $(VITEST_ARGS)

.PHONY: test
test: verify-generated typecheck lint chart-verify test-unit test-integration ## Everything CI runs: generated files, types, lint, chart, unit and integration tests

# Options for make bench, e.g. BENCH_ARGS='--agents 200 --scale 0' (node test/bench/bench.ts --help).
BENCH_ARGS ?=
.PHONY: bench
bench: deps ## Benchmark (not part of test): 1,000 AgentClients vs a bare-script floor, revocation latency, idle, restart, RSS; table + bench-results.json
	KUBEBUILDER_ASSETS="$(ASSETS)" node test/bench/bench.ts --json bench-results.json $(BENCH_ARGS)

##@ Development stack (control plane + CRDs + embedded IdP + operator + samples)
.PHONY: dev
dev: deps ## Run the dev stack (operator and samples Ready) in the foreground with a short tour; Ctrl-C stops it all
	$(DEV) run --tour

.PHONY: dev-up
dev-up: deps ## Start the dev stack in the background; returns when the samples are Ready and prints the tour (.dev/kubeconfig, .dev/env)
	$(DEV) up

.PHONY: dev-down
dev-down: ## Stop the background dev stack (harmless when nothing runs)
	@if test -d node_modules; then $(DEV) down; fi

.PHONY: clean
clean: dev-down ## Remove build output and dev state (not the envtest binary cache)
	rm -rf dist .dev coverage test-results .ci-out
