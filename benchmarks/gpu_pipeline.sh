#!/usr/bin/env bash
# Run the whole pipeline once on a CUDA machine that has PyTorch but no network (the `device` tool's machines):
# dvc and dvclive are installed from wheels carried in .gpu-wheels/, the data from .gpu-data/. Prepare them here:
#   pip download --no-deps --only-binary=:all: --python-version 3.12 ... -d .gpu-wheels   (see README, Performance)
#   cp -r ../shared/data/retina-blood-vessel .gpu-data/
# Writes per-stage times (reports/timing, each run.json), the test metrics and the log under $OUT.
set -euo pipefail
OUT=${OUT:-/tmp/gpu-pipeline}
mkdir -p "$OUT"
python3 -m pip install -q --no-index --find-links .gpu-wheels dvc==3.67.1 dvclive==3.49.1 >"$OUT/pip.log" 2>&1
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv >"$OUT/gpu.txt"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())" >>"$OUT/gpu.txt"
[ -d .git ] || { git init -q && git add -A && git -c user.name=gpu -c user.email=gpu@local commit -qm gpu; }
export RETINA_DATA="$PWD/.gpu-data/retina-blood-vessel"
start=$(date +%s)
save() {  # copy what exists so far, so a run cut short still reports its finished stages
  mkdir -p "$OUT/reports"
  cp -r reports/timing "$OUT/reports/" 2>/dev/null || true
  for f in reports/train/*/seed*/run.json reports/eval/summary.json reports/eval/per_seed.csv; do
    [ -f "$f" ] && mkdir -p "$OUT/$(dirname "$f")" && cp "$f" "$OUT/$f"
  done
  echo "elapsed $(( $(date +%s) - start )) s" >"$OUT/elapsed.txt"
}
trap save EXIT
dvc repro -f 2>&1 | tee "$OUT/repro.log" | grep -E "Running stage|done:|error" || true
