# Front door. `make demo` and `make test` set everything up on a fresh Debian bookworm machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build test demo asan fuzz conformance conformance-update clean bench bench-llm

all: build

deps:
	@scripts/install-deps.sh

$(BUILD)/Makefile: | deps
	cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

build: deps $(BUILD)/Makefile
	cmake --build $(BUILD) -j $(JOBS)

test: build tests/tokenizer/node_modules/.package-lock.json
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The reference tokenizer (npm gpt-3-encoder) the tokenizer parity test compares with.
tests/tokenizer/node_modules/.package-lock.json: tests/tokenizer/package.json tests/tokenizer/package-lock.json | deps
	cd tests/tokenizer && npm ci --ignore-scripts --no-audit --no-fund

demo: build
	@scripts/demo.sh $(BUILD)

# Every test under AddressSanitizer + UndefinedBehaviorSanitizer.
asan: deps
	cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_SANITIZE=ON
	cmake --build $(ASAN_BUILD) -j $(JOBS)
	cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

# libFuzzer on the ONNX, IR and safetensors parsers (clang, ASan + UBSan), FUZZ_SECONDS each,
# seeded with models from the ONNX test data and the IR samples.
FUZZ_BUILD ?= build-fuzz
FUZZ_SECONDS ?= 60
fuzz: deps
	CC=clang CXX=clang++ cmake -S . -B $(FUZZ_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKILN_FUZZ=ON \
	  -DKILN_BUILD_TESTS=OFF -DKILN_BUILD_BENCH=OFF
	cmake --build $(FUZZ_BUILD) -j $(JOBS) --target fuzz_onnx fuzz_ir fuzz_safetensors
	mkdir -p $(FUZZ_BUILD)/corpus/onnx $(FUZZ_BUILD)/corpus/ir $(FUZZ_BUILD)/corpus/safetensors
	for t in abs add conv_with_strides_padding gather_0 if loop11; do \
	  cp /usr/share/libonnx-testdata/data/node/test_$$t/model.onnx $(FUZZ_BUILD)/corpus/onnx/$$t.onnx; done
	-cp ../shared/ir-samples/openvinotoolkit-model_server/src/test/*/1/*.xml $(FUZZ_BUILD)/corpus/ir/
	$(FUZZ_BUILD)/tests/fuzz/fuzz_onnx -max_total_time=$(FUZZ_SECONDS) -max_len=4096 $(FUZZ_BUILD)/corpus/onnx
	$(FUZZ_BUILD)/tests/fuzz/fuzz_ir -max_total_time=$(FUZZ_SECONDS) -max_len=8192 $(FUZZ_BUILD)/corpus/ir
	$(FUZZ_BUILD)/tests/fuzz/fuzz_safetensors -max_total_time=$(FUZZ_SECONDS) -max_len=1024 $(FUZZ_BUILD)/corpus/safetensors

# Pass counts per suite and the reason for every test that does not pass.
conformance: build
	$(BUILD)/tests/kiln_conformance

# Rewrites the expected-pass list from the current results.
conformance-update: build
	$(BUILD)/tests/kiln_conformance --quiet --write-expected tests/conformance/expected_pass.txt

# Kiln vs ONNX Runtime on the benchmark zoo (docs/BENCHMARK.md); not part of `make test`.
# A subset or a shorter run: make bench BENCH_ARGS="--models resnet50,gpt2 --seconds 3"
BENCH_ARGS ?=
bench: build bench/node_modules/.package-lock.json
	@scripts/install-bench-deps.sh
	/usr/bin/python3 bench/run_bench.py --kiln $(BUILD)/kiln --zoo $(BUILD)/bench/zoo \
	  --out $(BUILD)/bench $(BENCH_ARGS)

# LLM decode and prefill speed (GPT-2-124M shapes, INT4 / INT8 / f32) against the machine's
# memory-bandwidth floor, measured in the same run (docs/GENAI.md, "Speed").
# With --ort in BENCH_LLM_ARGS, ONNX Runtime (onnxruntime-node) runs beside Kiln.
bench-llm: build tests/tokenizer/node_modules/.package-lock.json \
           $(if $(findstring --ort,$(BENCH_LLM_ARGS)),bench/node_modules/.package-lock.json)
	/usr/bin/python3 bench/llm/run_llm_bench.py --build $(BUILD) $(BENCH_LLM_ARGS)

# onnxruntime-node's install script only fetches GPU providers; the CPU binaries are in the package.
bench/node_modules/.package-lock.json: bench/package.json bench/package-lock.json
	@scripts/install-bench-deps.sh
	cd bench && npm ci --ignore-scripts --no-audit --no-fund

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) $(FUZZ_BUILD)
