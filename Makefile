# Vigie — the two set-up commands are `make run` and `make test`.
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
GO ?= go

TOOLS       := $(abspath .tools)
DYNOXIDE    := $(TOOLS)/node_modules/@dynoxide/linux-x64/dynoxide
STATICCHECK := $(TOOLS)/bin/staticcheck
DYNOXIDE_VERSION    := 1.2.1
STATICCHECK_VERSION := v0.8.2

FUNCTIONS := $(notdir $(wildcard functions/*))
BUILD     := build
# What Lambda runs: linux/arm64, no cgo, no RPC mode, no local paths.
LAMBDA_ENV   := GOOS=linux GOARCH=arm64 CGO_ENABLED=0
LAMBDA_FLAGS := -tags lambda.norpc -trimpath -ldflags='-s -w -buildid='

.PHONY: run test check lint unit tools build bench send deploy clean models eval

DATA      ?= ../shared/data
EVAL_DATA ?= $(DATA)

## run: the whole system on this machine (API on 127.0.0.1:8080, bolt store, local bus)
run:
	$(GO) run ./infra/local

## test: everything CI checks
test: tools lint unit

## tools: install the test servers and linters into .tools/ (git-ignored)
tools: $(DYNOXIDE) $(STATICCHECK)

$(DYNOXIDE):
	@mkdir -p $(TOOLS)
	npm install --no-save --no-audit --no-fund --prefix $(TOOLS) @dynoxide/linux-x64@$(DYNOXIDE_VERSION)
	@test -x $@ || { echo "dynoxide was not installed at $@" >&2; exit 1; }

$(STATICCHECK):
	GOBIN=$(TOOLS)/bin $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

lint: $(STATICCHECK)
	@echo "== gofmt"; out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go' -not -path './.tools/*')); \
	  if [ -n "$$out" ]; then echo "gofmt would change: $$out" >&2; exit 1; fi
	@echo "== go vet"; $(GO) vet ./...
	@echo "== staticcheck"; $(STATICCHECK) ./...
	@echo "== cfn-lint"; command -v cfn-lint >/dev/null || { echo "cfn-lint is required but not installed (pip install cfn-lint)" >&2; exit 1; }; \
	  cfn-lint template.yaml

unit: $(DYNOXIDE)
	VIGIE_REQUIRE_SERVERS=1 VIGIE_DYNOXIDE=$(DYNOXIDE) $(GO) test -race -count=1 -timeout 15m ./...

## build: every function as a linux/arm64 Lambda bootstrap under build/<fn>/
build:
	@for fn in $(FUNCTIONS); do \
	  echo "== $$fn"; $(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(BUILD)/$$fn/bootstrap ./functions/$$fn; \
	done

# sam build (BuildMethod: makefile) calls build-<LogicalId> with ARTIFACTS_DIR set.
build-IngestFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/ingest
build-ApiFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/api
build-WatchFunction:
	$(LAMBDA_ENV) $(GO) build $(LAMBDA_FLAGS) -o $(ARTIFACTS_DIR)/bootstrap ./functions/watch

## bench: benchmarks, printed as a table with ratios against references measured in the same run
bench: $(DYNOXIDE)
	VIGIE_REQUIRE_SERVERS=1 VIGIE_DYNOXIDE=$(DYNOXIDE) $(GO) run ./infra/bench

## models: train every embedded analysis model from $(DATA) into internal/analysis/weights.bin
models:
	$(GO) run ./infra/models -data $(DATA)

## eval: analysis metrics on the validation data of $(EVAL_DATA); EVAL_JSON=1 adds JSON lines
eval:
	EVAL_JSON=$(EVAL_JSON) $(GO) run ./infra/eval -data $(EVAL_DATA)

## send: sign and post a sample to the local runner, e.g. make send FILE=events/ingest/generic-single.json WORKSPACE=demo
WORKSPACE ?= demo
FILE ?= events/ingest/generic-batch.json
send:
	$(GO) run ./infra/send -workspace "$(WORKSPACE)" "$(FILE)"

## deploy: build and deploy to AWS with SAM
deploy:
	sam build && sam deploy --guided

clean:
	rm -rf $(BUILD) .aws-sam
