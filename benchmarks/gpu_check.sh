#!/usr/bin/env bash
# The GPU checks of the scale work as one script, for a machine with one CUDA GPU: the GPU tests
# (and the device-path tests, which run anywhere), the float32/float64 solver comparison, and one
# monitor checkpoint at n = 1000, 4000 and 10,000 (times, MI errors, syncs, eigendecomposition
# share). Each step has its own time limit, so a slow step still leaves the others' output.
#
# Run from the repository root:
#     PYTHONPATH=src bash benchmarks/gpu_check.sh [OUTPUT_FOLDER]    (default: $OUT, else gpu-check)
# The limits add up to 9.3 minutes; the last full run of these benchmarks (n up to 16,000) took
# about 7.5 minutes on one H200.
set -uo pipefail
out="${1:-${OUT:-gpu-check}}"
mkdir -p "$out"
python3 -c "import torch; print('torch', torch.__version__, torch.cuda.get_device_name(0))" \
    2>&1 | tee "$out/device.txt"
timeout 180 python3 -m pytest -q tests/test_gpu.py tests/measures/test_device_path.py \
    tests/measures/test_eigenproblems.py tests/kernels/test_device_widths.py \
    tests/monitor/test_device_reads.py 2>&1 | tee "$out/tests.txt"
timeout 90 python3 benchmarks/bench_solvers.py --device cuda --sizes 1000 2000 4000 6000 8000 \
    --repeats 2 2>&1 | tee "$out/solvers.txt"
timeout 290 python3 benchmarks/bench_scale.py --device cuda --sizes 1000 4000 10000 --repeats 2 \
    2>&1 | tee "$out/scale.txt"
