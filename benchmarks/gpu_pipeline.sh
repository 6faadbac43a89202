#!/usr/bin/env bash
# The whole pipeline on a CUDA machine, its training stages side by side (one GPU holds many of these small
# networks at once; DVC alone would run them one after another), with the time of each step and the GPU's use.
# Run it from the root of a checkout with the requirements installed and the data reachable ($RETINA_DATA or
# params.yaml's data.source):
#   JOBS=12 bash benchmarks/gpu_pipeline.sh
# STAGES (shell patterns of stage names, e.g. 'train_variant@camera_robust-*') trains only those stale stages.
# Times go to gpu-pipeline/times.txt, GPU use (sampled every 30 s) to gpu-pipeline/gpu-use.txt. The trained
# weights, logs and dvc.lock are then committed as on any machine (docs/sharing.md).
set -euo pipefail
OUT=${OUT_DIR:-gpu-pipeline}
mkdir -p "$OUT"
start=$(date +%s)
elapsed() { echo "$1: $(( $(date +%s) - start )) s" | tee -a "$OUT/times.txt"; }
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } >"$OUT/gpu.txt"
dvc repro preprocess
elapsed "download, preprocess"
(while sleep 30; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader || true; done) \
  >"$OUT/gpu-use.txt" 2>&1 &
sampler=$!
trap 'kill $sampler 2>/dev/null || true' EXIT
only=()
read -ra only <<<"${STAGES:-}"
args=(--jobs "${JOBS:-12}")
[ ${#only[@]} -eq 0 ] || args+=(--only "${only[@]}")
python3 -m tools.train_side_by_side "${args[@]}"
elapsed "train, ${JOBS:-12} side by side${STAGES:+ ($STAGES)}"
dvc repro
elapsed "evaluate, cross-camera, report"
