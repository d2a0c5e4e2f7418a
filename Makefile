# The README's commands. Every target installs what it needs (npm packages, the Go-built testbed
# binaries into ~/.cache/fedctl) by itself.
SHELL := /bin/bash
CLUSTERS ?= 3

.PHONY: deps binaries lint typecheck unit e2e test demo e2e-kind down bench bench-kubefed bench-scale kubefed image test-install

node_modules/.installed: package.json package-lock.json
	npm ci --no-fund --no-audit
	@touch $@

deps: node_modules/.installed

binaries:
	bash testbed/build-binaries.sh >/dev/null

lint: deps
	npx biome check .

typecheck: deps
	npx tsc --noEmit

unit: deps
	npx vitest run --project unit

# After the suites, tear down any testbed whose test process died before its own teardown.
e2e: deps binaries
	npx vitest run --project e2e; status=$$?; npm run --silent testbed -- down --orphans; exit $$status

## test: what CI runs: lint, typecheck, unit tests, e2e suites on the local testbed.
test: lint typecheck unit e2e test-install

## demo: a fresh local testbed, the controller running, clusters joined, the walkthrough propagated.
demo: deps binaries
	npm run --silent demo

## e2e-kind: the same e2e suites on kind clusters (needs Docker and kind).
e2e-kind: deps
	FEDCTL_PROVIDER=kind npx vitest run --project e2e

down: deps
	npm run --silent demo -- down

## bench: each peer on a fresh 3-cluster testbed, every figure against a same-run baseline; one table +
## BENCH_JSON. BENCH_OBJECTS=1000 BENCH_REPEAT=1 (repeats of the propagation workloads).
bench: deps binaries
	npm run --silent bench

## kubefed: build KubeFed v0.10.0 (controller-manager, kubefedctl) into ~/.cache/fedctl, the benchmark's peer.
kubefed:
	bash bench/kubefed/build.sh >/dev/null

## bench-kubefed: the same workloads against KubeFed v0.10 and fedctl, each on a fresh testbed; not in `make test`.
bench-kubefed: deps binaries kubefed
	BENCH_PEERS=fedctl,kubefed npm run --silent bench

## bench-scale: the scale curve on light testbeds (SCALE_CLUSTERS=3,6,10 SCALE_OBJECTS=1000,5000); not in `make test`.
bench-scale: deps binaries
	npx --no-install node bench/scale.ts

# --- Installing fedctl: npm package, image, Helm chart (docs/INSTALL.md) ----------------------------
INSTALL_APT := buildah mmdebstrap
IMAGE ?= fedctl-image.tar

## image: the controller image as an OCI archive ($(IMAGE)), built without a daemon (mmdebstrap + buildah).
image: deps binaries
	bash deploy/apt-need.sh $(INSTALL_APT)
	bash deploy/image.sh $(IMAGE)

## test-install: pack + install the npm package, lint/template/install the chart, build and chroot-run the image.
test-install: deps binaries
	bash deploy/apt-need.sh $(INSTALL_APT)
	bash deploy/build-helm.sh >/dev/null
	npx vitest run --project install; status=$$?; npm run --silent testbed -- down --orphans; exit $$status
