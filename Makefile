# nabla: the commands a new user types on a fresh Debian 12 machine.
#   make demo        install what is missing, Release build, run the examples (runs/ for TensorBoard)
#   make test        same, then the whole test suite
#   make test-asan   AddressSanitizer + UBSan build (build-asan/), unit tests only
#   make bench       benchmarks against libtorch and PyTorch, ratio tables (installs libtorch-dev,
#                    python3-torch; build-bench/; bench/run_all.sh)
#   make fuzz        libFuzzer targets for the file readers (clang-14, build-fuzz/), FUZZ_SECONDS each
#   make fixtures    regenerate tests/fixtures/ops/ from PyTorch (installs python3-torch)
#   make install PREFIX=/opt/nabla
# Every Debian package the build or the tests need is installed here (never by hand).

SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c

BUILD ?= build
BUILD_ASAN ?= build-asan
BUILD_BENCH ?= build-bench
BUILD_FUZZ ?= build-fuzz
FUZZ_SECONDS ?= 60
PREFIX ?= /usr/local
GENERATOR ?= Ninja
CTEST_JOBS ?= 2

# sudo only when we are not root (a fresh CI machine runs as root and may not have sudo).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

# What the library, examples and tests need.
DEPS := make build-essential g++ cmake ninja-build pkg-config libopenblas-openmp-dev libopenblas0-openmp \
        libsleef-dev libfmt-dev zlib1g-dev libpng-dev nlohmann-json3-dev libgtest-dev libgmock-dev libbenchmark-dev python3 \
        dataset-fashion-mnist protobuf-compiler libprotobuf-dev libcairo2-dev python3-venv
# libtorch and PyTorch only for bench/ (large; libtorch is slow to compile against). libopenblas0-openmp is named so
# that libtorch's BLAS dependency is met by OpenBLAS, not by the reference libblas3.
BENCH_DEPS := libtorch-dev libopenblas0-openmp libbenchmark-dev python3-torch python3-numpy dataset-fashion-mnist
FIXTURE_DEPS := python3 python3-torch python3-numpy
# libFuzzer needs clang and its runtime; clang's -fopenmp needs libomp.
FUZZ_DEPS := clang-14 libclang-rt-14-dev libomp-14-dev
# TensorBoard is not packaged by Debian: the readback test (CTest tensorboard.readback) reads nabla's
# event files with the real one, installed from PyPI into this venv (pip outside a venv is refused
# by PEP 668 on Debian 12). If pip cannot install it (no network), that one test is skipped.
TB_VENV ?= $(BUILD)/.tb-venv

# $(call apt_install,packages): apt-get install only when one of them is missing, so repeated runs
# cost one dpkg-query.
define apt_install
	missing=""; \
	for p in $(1); do \
	  dpkg-query -W -f='$${Status}\n' "$$p" 2>/dev/null | grep -q '^install ok installed$$' || missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) apt-get update; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $(1); \
	fi
endef

.PHONY: all deps build demo test test-asan bench bench-build fuzz fixtures install clean tensorboard-venv

all: build

deps:
	$(call apt_install,$(DEPS))

build: deps
	cmake -S . -B $(BUILD) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Release
	cmake --build $(BUILD)

# Short runs (a tenth of the training set) so the demo takes seconds; drop --train-limit for the
# full recipe.
demo: build tensorboard-venv
	./$(BUILD)/autograd_demo
	./$(BUILD)/pytorch_style --epochs 2 --train-limit 6000
	./$(BUILD)/cnn --epochs 1 --train-limit 6000
	./$(BUILD)/keras_style --epochs 2 --train-limit 6000
	./$(BUILD)/keras_cnn --epochs 1 --train-limit 6000
	./$(BUILD)/tensorboard_demo --epochs 3 --train-limit 6000 --logdir runs
	@if $(TB_VENV)/bin/python -c 'import tensorboard' 2>/dev/null; then \
	  $(TB_VENV)/bin/python tests/tensorboard/check_runs.py runs 3 && \
	  echo "open it with: $(TB_VENV)/bin/tensorboard --logdir runs"; \
	else echo "runs/ written; TensorBoard (pip install tensorboard) opens it with: tensorboard --logdir runs"; fi

test: build tensorboard-venv
	cd $(BUILD) && ctest --output-on-failure -j$(CTEST_JOBS)

tensorboard-venv: deps
	if ! $(TB_VENV)/bin/python -c 'import tensorboard' 2>/dev/null; then \
	  { python3 -m venv $(TB_VENV) && \
	    $(TB_VENV)/bin/pip install --quiet --disable-pip-version-check tensorboard; } || \
	  echo "warning: pip could not install tensorboard into $(TB_VENV); tensorboard.readback will be skipped"; \
	fi

# Debug + -O1 keeps the sanitizer build quick to run; slow accuracy tests are left to `make test`.
test-asan: deps
	cmake -S . -B $(BUILD_ASAN) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS=-O1 \
	  -DNABLA_SANITIZE=ON -DNABLA_NATIVE=ON
	cmake --build $(BUILD_ASAN)
	cd $(BUILD_ASAN) && NABLA_TB_PYTHON=$(abspath $(TB_VENV))/bin/python ASAN_OPTIONS=detect_leaks=1:strict_string_checks=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  ctest --output-on-failure -j$(CTEST_JOBS) -LE slow

bench-build: deps
	$(call apt_install,$(BENCH_DEPS))
	cmake -S . -B $(BUILD_BENCH) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Release -DNABLA_BUILD_BENCH=ON \
	  -DNABLA_BUILD_TESTS=OFF
	cmake --build $(BUILD_BENCH)

bench: bench-build
	bench/run_all.sh $(BUILD_BENCH)

# src/io and the targets are instrumented (ASan + UBSan + coverage, -O1); the rest of the library
# is built at -O0 without debug info, only to link (it is what makes the build fast enough for CI).
fuzz: deps
	$(call apt_install,$(FUZZ_DEPS))
	cmake -S . -B $(BUILD_FUZZ) -G $(GENERATOR) -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0 \
	  -DCMAKE_CXX_COMPILER=clang++-14 -DNABLA_BUILD_FUZZ=ON -DNABLA_BUILD_TESTS=OFF
	cmake --build $(BUILD_FUZZ) --target fuzz_safetensors fuzz_checkpoint fuzz_npy fuzz_bundle fuzz_make_corpus
	fuzz/run.sh $(BUILD_FUZZ) $(FUZZ_SECONDS)

fixtures:
	$(call apt_install,$(FIXTURE_DEPS))
	/usr/bin/python3 tests/fixtures/gen.py

install: build
	cmake --install $(BUILD) --prefix $(PREFIX)

clean:
	rm -rf $(BUILD) $(BUILD_ASAN) $(BUILD_BENCH) $(BUILD_FUZZ)
