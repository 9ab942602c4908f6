# strata — build, set-up and experiment entry points.
#
#   make experiment1 experiment2   set up the machine (root, Debian), run the experiments into
#                                  runs/ (git-ignored) and compare each with results/
#   make experiment3 benign        payload mutations, benign controls, ablation; the benign corpus
#   make experiment-wild           the independent wild corpus (distinct subjects, dev/test split)
#   make reproduce                 experiments 1 and 2, then the comparison verdicts
#   make experiment3 STRATA_FLAGS='--types pad-binary --cases 111 --samples 1'   a slice
#   make test                      set up and run every test, integration tests included
#   make figures                   re-derive every table and figure from committed records

SHELL := /bin/bash
GO    ?= go
BIN   := $(CURDIR)/bin
export PATH := $(BIN):$(PATH)

# Debian packages the project needs: BuildKit's OCI worker (runc with
# seccomp), the base-image builder, the baselines' engines, the busybox base
# for fast tests, git (the loopback git server and the corpus repo), and
# docker-registry (the loopback registry that `strata scan` tests push to),
# gcc and a static libc (the C stand-in of corpus/xmrigish).
APT_PKGS := runc nftables iproute2 debootstrap clamav yara busybox-static git ca-certificates docker-registry gcc libc6-dev

# Commands checked by name, each with the Debian packages installed only
# when the command is not on PATH, so a machine with its own Node and npm
# keeps them: npm installs the census's npm packages (`make census`,
# TestCensusSlice), Debian's npm package with its nodejs.
APT_CMD_PKGS := npm:npm,nodejs

GO_SOURCES := $(shell find . -name '*.go' -not -path './bin/*') go.mod go.sum $(shell find corpus -type f -not -name '*.go')

# Flags passed to every `strata experiment` (slices, --jobs, -v, ...).
STRATA_FLAGS ?=

.PHONY: setup apt-packages experiment1 experiment2 experiment3 experiment-wild benign census census-slice reproduce test test-unit figures bench bench-gate bench-peers

setup: apt-packages $(BIN)/buildkitd $(BIN)/buildctl $(BIN)/syft $(BIN)/strata $(BIN)/strata-sbom

apt-packages:
	@missing=""; for p in $(APT_PKGS); do \
	  dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	done; \
	for cp in $(APT_CMD_PKGS); do \
	  command -v $${cp%%:*} >/dev/null 2>&1 || missing="$$missing $$(echo $${cp#*:} | tr , ' ')"; \
	done; \
	if [ -z "$$missing" ]; then echo "setup: Debian packages present:$(foreach p,$(APT_PKGS), $(p)); commands on PATH:$(foreach c,$(APT_CMD_PKGS), $(firstword $(subst :, ,$(c))))"; exit 0; fi; \
	if [ "$$(id -u)" != 0 ]; then \
	  echo "setup: missing Debian packages:$$missing"; \
	  echo "setup: run as root, or: sudo apt-get update && sudo apt-get install -y --no-install-recommends$$missing"; exit 1; \
	fi; \
	echo "setup: installing$$missing"; \
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing

# buildkitd and buildctl come from the BuildKit version pinned in go.mod
# (`go install pkg@version` is refused because BuildKit's go.mod has exclude
# directives; building from inside this module works).
$(BIN)/buildkitd $(BIN)/buildctl: go.mod go.sum
	@mkdir -p $(BIN)
	@echo "setup: building buildkitd and buildctl $$($(GO) list -m -f '{{.Version}}' github.com/moby/buildkit) (a few minutes on 2 cores)"
	$(GO) build -o $(BIN)/ github.com/moby/buildkit/cmd/buildkitd github.com/moby/buildkit/cmd/buildctl
	@touch $(BIN)/buildkitd $(BIN)/buildctl

# The syft CLI from the syft version pinned in go.mod (the inventory
# baseline links the same version as a library; its tests compare the two
# SBOMs of one image).
$(BIN)/syft: go.mod go.sum
	@mkdir -p $(BIN)
	@echo "setup: building syft $$($(GO) list -m -f '{{.Version}}' github.com/anchore/syft) (a few minutes on 2 cores)"
	$(GO) build -o $(BIN)/syft github.com/anchore/syft/cmd/syft
	@touch $(BIN)/syft

# Rebuilt whenever a Go source (or corpus file) changed, so a new
# mutation type or experiment shows up without `make setup`.
$(BIN)/strata: $(GO_SOURCES)
	@mkdir -p $(BIN)
	@echo "build: bin/strata"
	@$(GO) build -o $(BIN)/strata ./cmd/strata

# The inventory baseline's SBOM helper: syft as a library, in a process of
# its own so that strata (and every `strata scan`) does not carry syft.
$(BIN)/strata-sbom: $(GO_SOURCES)
	@mkdir -p $(BIN)
	@echo "build: bin/strata-sbom"
	@$(GO) build -o $(BIN)/strata-sbom ./cmd/strata-sbom

# Each run writes a directory of its own under runs/ (git-ignored) and ends
# with the comparison against the committed reference in results/; the
# exit code says whether it reproduced. `strata promote exp1` makes the
# newest run the reference.
experiment1: setup
	@$(BIN)/strata experiment exp1 $(STRATA_FLAGS)
	@$(BIN)/strata compare exp1

experiment2: setup
	@$(BIN)/strata experiment exp2 $(STRATA_FLAGS)
	@$(BIN)/strata compare exp2

experiment3: setup
	@$(BIN)/strata experiment exp3 $(STRATA_FLAGS)
	@$(BIN)/strata compare exp3

# The independent wild corpus (corpus/wild): distinct malicious and benign
# subjects, pre-registered dev/test split; `STRATA_FLAGS='--split dev'` for dev only.
experiment-wild: setup
	@$(BIN)/strata experiment wild $(STRATA_FLAGS)
	@$(BIN)/strata compare wild

benign: setup
	@$(BIN)/strata experiment benign $(STRATA_FLAGS)
	@$(BIN)/strata compare benign

# The benign census (corpus/census): one image per Debian package, python3-*
# distribution and top npm package, plus the 24 ordinary images; both
# splits, every detector; and the three canaries (positive controls, kept
# apart). Downloads only through apt-get (40 .debs a call) and npm; cached
# and resumable. A smaller slice: bin/strata experiment census --limit 300.
census: setup
	@$(BIN)/strata experiment census $(STRATA_FLAGS)
	@$(BIN)/strata compare census

# The census's CI-sized slice alone: 200 dev images, hierarchical detector,
# fails on any flag or incomplete and on any canary not flagged (`make test`
# runs it too).
census-slice:
	$(GO) test -count=1 -timeout 20m -run '^TestCensusSlice$$' ./experiments

reproduce: experiment1 experiment2

# Every table and figure, re-derived from the committed records; builds nothing.
figures: $(BIN)/strata
	@for e in exp1 exp2 exp3 benign census wild; do \
	  if [ -f results/$$e/records.jsonl ]; then $(BIN)/strata report --quiet $$e || exit 1; fi; \
	done
	@$(BIN)/strata report headline --quiet

# The whole suite, integration tests included (real buildkitd, runc,
# debootstrap-free busybox base). Never -short in CI.
test: setup
	$(GO) vet ./...
	@# staticcheck, pinned in go.mod's tool block (go get -tool).
	$(GO) tool staticcheck ./...
	@# The fuzz targets, briefly (their seed corpora also run in the suite).
	@# Budgets are execution counts, not durations: Go 1.26's coordinator can
	@# fail a duration-bounded run with "context deadline exceeded" at the
	@# deadline without any crasher (golang/go#75804, fixed in Go 1.27).
	$(GO) test ./internal/layers -run '^$$' -fuzz '^FuzzWalkLayer$$' -fuzztime 100000x
	$(GO) test ./internal/layers -run '^$$' -fuzz '^FuzzConfig$$' -fuzztime 300000x
	$(GO) test -count=1 -timeout 40m ./...

# Unit tests only: skips everything that needs buildkitd or external engines.
test-unit:
	$(GO) test -short ./...

# Performance: walker floor, hierarchical cold (every core and one core) and
# warm cache, clamscan and yara on the same stored images and on the first
# one flattened to a single layer, each image pulled from a loopback
# registry (fetch-only vs the streaming registry scan), the sandbox's cost
# (empty and warm layer store; root), and experiment 2's builds cold and
# warm in a private cache; writes results/perf/{bench.md,bench.json,machine.md}.
BENCH_REFS  ?= $(HOME)/.cache/strata/store:exp1/case-111 $(HOME)/.cache/strata/store:exp2/case-111/add-dummy-layer/seed-101
BENCH_COUNT ?= 3
bench: $(BIN)/strata
	$(BIN)/strata bench --builds --flatten --registry --dynamic --count $(BENCH_COUNT) --out results/perf $(BENCH_REFS)

# The peers side by side (`strata bench --peers`, never part of setup):
# strata scan cold and warm as child processes next to clamscan, yara with
# each public rule set in PEER_YARA_RULES (NAME=DIR ...), malcontent and
# trivy over the same extracted files, wall time and peak RSS; writes
# results/perf/{peers.md,peers.json,machine.md}. Builds trivy at the pinned
# version into bin/peers after checking its module hash; malcontent is not
# served by the Go module proxy, so a hand-built one goes to bin/peers/mal
# (README, Performance). A peer that is missing is listed as skipped.
PEERS_DIR       ?= $(BIN)/peers
TRIVY_VERSION   := v0.74.0
TRIVY_SUM       := h1:B2/h1Aehsq/zykg0jxpWUlOX7e3UXpbxjZZs/0vNlC4=
PEER_STORE      ?= $(HOME)/.cache/strata/store
PEER_REFS       ?= $(PEER_STORE):exp1/case-111 $(PEER_STORE):exp2/case-111/add-dummy-layer/seed-101 $(PEER_STORE):benign/census-nginx $(PEER_STORE):benign/dev-busy
PEER_YARA_RULES ?=
PEER_COUNT      ?= 3
bench-peers: $(BIN)/strata $(PEERS_DIR)/.trivy-$(TRIVY_VERSION)
	$(BIN)/strata bench --peers --count $(PEER_COUNT) --peers-dir $(PEERS_DIR) $(foreach r,$(PEER_YARA_RULES),--yara-rules $(r)) --out results/perf $(PEER_REFS)

# The stamp names the pinned version, so a new pin rebuilds trivy.
$(PEERS_DIR)/.trivy-$(TRIVY_VERSION):
	@mkdir -p $(PEERS_DIR)
	@sum=$$(cd $(PEERS_DIR) && $(GO) mod download -json github.com/aquasecurity/trivy@$(TRIVY_VERSION) | sed -n 's/.*"Sum": "\(.*\)".*/\1/p'); \
	if [ "$$sum" != "$(TRIVY_SUM)" ]; then echo "bench-peers: trivy $(TRIVY_VERSION) has module hash '$$sum', pinned $(TRIVY_SUM): not building it (check the Go module proxy and GOFLAGS)" >&2; exit 1; fi
	@echo "bench-peers: building trivy $(TRIVY_VERSION) into $(PEERS_DIR) (several minutes on 2 cores; it needs GOEXPERIMENT=jsonv2)"
	cd $(PEERS_DIR) && GOEXPERIMENT=jsonv2 GOBIN=$(PEERS_DIR) $(GO) install -ldflags "-X github.com/aquasecurity/trivy/pkg/version/app.ver=$(TRIVY_VERSION)" github.com/aquasecurity/trivy/cmd/trivy@$(TRIVY_VERSION)
	@touch $@

# The registry gate's load figures: GATE_N distinct image manifests from
# experiment 2's images in the store (then exp3/ and benign/ if needed)
# pushed to a private docker-registry, drained by 1 and 2 `strata worker`
# processes GATE_REPEAT times each on a fresh gate, and a run that kills a
# worker mid-scan; writes results/perf/{gate.md,gate.json}. Run it on a
# quiet machine: the report records the load average of every run.
GATE_STORE  ?= $(HOME)/.cache/strata/store
GATE_N      ?= 200
GATE_REPEAT ?= 3
bench-gate: $(BIN)/strata
	@[ -f $(GATE_STORE)/index.json ] || { echo "bench-gate needs experiment 2's images in $(GATE_STORE): run make experiment2 first" >&2; exit 1; }
	$(BIN)/strata bench gate --store $(GATE_STORE) --n $(GATE_N) --repeat $(GATE_REPEAT) --kill --out results/perf
