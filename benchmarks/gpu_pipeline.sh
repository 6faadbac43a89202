#!/usr/bin/env bash
# Train every model of the pipeline on a CUDA machine that has PyTorch but no network (the `device` tool's machines),
# all side by side, and pack what a CPU checkout needs to finish the pipeline from them without retraining.
#
# Prepare here (ignored by git; the README's Performance section lists the wheels):
#   .gpu-wheels/                     dvc, dvclive and what they need, as wheels for the device's Python
#   .gpu-data/retina-blood-vessel/   a copy of the data set
# On the device, carrying both (its replies bring back at most 64 MiB, 8 files, two folders deep):
#   JOBS=12 bash benchmarks/gpu_pipeline.sh
#       -> $OUT: results.tgz, times.txt, repro.log, gpu.txt, parts.txt and the first 3 model parts
#   cp /tmp/gpu-pipeline-parts/models.part-a[d-z] $OUT    (a second call, while the machine is warm: the other parts)
# Then here, from the folders the two replies landed in:
#   cat A/models.part-* B/models.part-* | tar xf - && tar xzf A/results.tgz
#   dvc status preprocess    (clean: the device's preprocessed arrays are the ones here, so its dvc.lock holds)
#   dvc commit -f train@0 ...  (caches the trained models)  &&  RETINA_CROSS_CAMERA=... dvc repro
# which runs evaluate, cross_camera and the report on this machine.
set -euo pipefail
OUT=${OUT:-/tmp/gpu-pipeline}
JOBS=${JOBS:-12}
PARTS=/tmp/gpu-pipeline-parts
mkdir -p "$OUT" "$PARTS"
start=$(date +%s)
elapsed() { echo "$1: $(( $(date +%s) - start )) s" | tee -a "$OUT/times.txt"; }
python3 -m pip install -q --no-index --find-links .gpu-wheels dvc==3.67.1 dvclive==3.49.1 >"$OUT/repro.log" 2>&1
{ nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } >"$OUT/gpu.txt"
[ -d .git ] || { git init -q && git add -A && git -c user.name=gpu -c user.email=gpu@local commit -qm gpu; }
export RETINA_DATA="$PWD/.gpu-data/retina-blood-vessel" OMP_NUM_THREADS=1
dvc repro preprocess >>"$OUT/repro.log" 2>&1
elapsed "download, preprocess"
python3 -m stages.train_side_by_side --jobs "$JOBS" >>"$OUT/repro.log" 2>&1
elapsed "train, $JOBS side by side"
tar czf "$OUT/results.tgz" dvc.lock reports/train .dvc/tmp/side_by_side
tar cf - --exclude=models/.resume models | split -b 15M - "$PARTS/models.part-"
ls "$PARTS" | tee "$OUT/parts.txt" | head -n 3 | while read -r part; do cp "$PARTS/$part" "$OUT/"; done
elapsed "packed"
