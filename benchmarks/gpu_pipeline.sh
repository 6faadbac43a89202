#!/usr/bin/env bash
# Train every model of the pipeline on a CUDA machine that has PyTorch but no network (the `device` tool's machines),
# all side by side, and pack what a CPU checkout needs to finish the pipeline from them without retraining.
#
# Prepare here (ignored by git; the README's Performance section lists the wheels):
#   .gpu-wheels/                     dvc, dvclive and what they need, as wheels for the device's Python
#   .gpu-data/retina-blood-vessel/   a copy of the data set
# On the device, carrying both (a call lasts at most 10 minutes; its reply brings back at most 8 files, 64 MiB):
#   JOBS=12 bash benchmarks/gpu_pipeline.sh start && bash benchmarks/gpu_pipeline.sh collect 520 1 4
#   bash benchmarks/gpu_pipeline.sh collect 560 5 8      (a second call while the machine is warm, carrying nothing)
# STAGES (shell patterns of stage names, `train_variant@camera_robust-*`) trains only those stale stages; GRID (the
# arguments of `python -m benchmarks.budget_grid run` after --out) runs a budget sweep beside the training, packed
# apart in grid.tgz (grid/rows.json, its logs) so that the training's results come back even if it is still running:
#   STAGES='train_variant@camera_robust-*' GRID='--settings w16-e480 --models baseline --jobs 6' JOBS=3 bash ... start
# Four parts (8 of the 12 checkpoints) are what one reply can carry, but the machine stays warm only 30 s after a call,
# and a reply's transfer counts: after a 46 MB reply the next call found it given back, after 24 MB it was still warm
# (README, Performance). To bring back all 12 checkpoints, start with PART=24M (parts of 3 checkpoints of 7.8 MB)
# and call `collect SECONDS K K` for K = 1..4 back to back, one small reply a call.
# `start` copies the tree to /tmp/gpu-pipeline/work and trains there in a process session of its own, so the
# training outlives a call that returns and a later call's copy of the tree cannot touch it. `collect SECONDS FIRST
# LAST` waits up to SECONDS for it to end and prints its times; once it has ended, it puts results.tgz (dvc.lock,
# reports/train, logs, times, GPU use, md5s of the preprocessed arrays) and model parts FIRST..LAST (PART bytes each,
# default 15M) in $OUT. Then here, from the folders the replies landed in:
#   cat A/models.part-* B/models.part-* | tar xf -  &&  tar xzf A/results.tgz -C /tmp/gpu-results
#   (cd data/processed && md5sum -c /tmp/gpu-results/processed.md5)   # the device trained on these very arrays?
#   cp -r /tmp/gpu-results/reports/train reports/  &&  dvc commit -f train@0 ... train_variant@camera_robust-2
#   RETINA_CROSS_CAMERA=... dvc repro      # evaluate, cross_camera and the report, on this machine
set -euo pipefail
STATE=/tmp/gpu-pipeline
WORK=$STATE/work

pack_grid() {  # the budget sweep's rows and logs, without its checkpoints, into $1
  tar czf "$1" --exclude='*.pt' -C "$STATE" grid grid.log times.txt gpu-use.txt
}

work() {
  cd "$WORK"
  local start
  start=$(date +%s)
  elapsed() { echo "$1: $(( $(date +%s) - start )) s" | tee -a "$STATE/times.txt"; }
  python3 -c 'import dvc, dvclive' 2>/dev/null ||
    python3 -m pip install -q --no-index --find-links .gpu-wheels dvc==3.67.1 dvclive==3.49.1
  { nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv || true
    python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"; } >"$STATE/gpu.txt"
  [ -d .git ] || { git init -q && git add -A && git -c user.name=gpu -c user.email=gpu@local commit -qm gpu; }
  export RETINA_DATA="$PWD/.gpu-data/retina-blood-vessel" OMP_NUM_THREADS=1
  dvc repro preprocess
  (cd data/processed && find . -type f | sort | xargs md5sum) >"$STATE/processed.md5"
  elapsed "install, download, preprocess"
  (while sleep 30; do nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv,noheader || true; done) \
    >"$STATE/gpu-use.txt" 2>&1 &
  local sampler=$!
  local only=() grid=() grid_pid=
  read -ra only <<<"${STAGES:-}"
  read -ra grid <<<"${GRID:-}"
  if [ ${#grid[@]} -gt 0 ]; then
    python3 -m benchmarks.budget_grid run --out "$STATE/grid" "${grid[@]}" >"$STATE/grid.log" 2>&1 &
    grid_pid=$!
  fi
  local args=(--jobs "$JOBS")
  [ ${#only[@]} -eq 0 ] || args+=(--only "${only[@]}")
  python3 -m stages.train_side_by_side "${args[@]}"
  elapsed "train, $JOBS side by side${STAGES:+ ($STAGES)}"
  # the training's results first, so that a grid still running at the deadline cannot hold them back
  tar czf "$STATE/results.tgz" dvc.lock reports/train .dvc/tmp/side_by_side \
    -C "$STATE" times.txt gpu.txt gpu-use.txt processed.md5
  mkdir -p "$STATE/parts.tmp"
  tar cf - --exclude=models/.resume models | split -b "${PART:-15M}" - "$STATE/parts.tmp/models.part-"
  mv "$STATE/parts.tmp" "$STATE/parts"
  elapsed "packed"
  if [ -n "$grid_pid" ]; then
    wait "$grid_pid" && elapsed "budget grid (${GRID})" || elapsed "budget grid FAILED, see grid.log"
    pack_grid "$STATE/grid.tmp.tgz"
    mv "$STATE/grid.tmp.tgz" "$STATE/grid.tgz"
  fi
  kill "$sampler"
}

collect() {
  local deadline=$(( SECONDS + $1 )) first=$2 last=$3 status=0
  while [ ! -f "$STATE/rc" ] && [ "$SECONDS" -lt "$deadline" ]; do sleep 5; done
  cat "$STATE/times.txt" 2>/dev/null || true
  if [ ! -f "$STATE/rc" ]; then
    echo "still running; the log ends:"; tail -n 5 "$STATE/log.txt"
  elif [ "$(cat "$STATE/rc")" != 0 ]; then
    echo "failed (exit $(cat "$STATE/rc")); the log ends:"; tail -n 30 "$STATE/log.txt"
    tar czf "$OUT/logs.tgz" -C "$STATE" log.txt -C "$WORK" .dvc/tmp/side_by_side 2>/dev/null || true
    status=1
  fi
  if [ -f "$STATE/grid.tgz" ]; then cp "$STATE/grid.tgz" "$OUT/"
  elif [ -d "$STATE/grid" ]; then  # still running: the rows of the jobs that ended, the logs of all
    pack_grid "$OUT/grid-partial.tgz"
  fi
  if [ -d "$STATE/parts" ]; then
    cp "$STATE/results.tgz" "$OUT/"
    ls "$STATE/parts" | tee "$OUT/parts.txt" | sed -n "${first},${last}p" | while read -r part; do
      cp "$STATE/parts/$part" "$OUT/"
    done
    echo "parts $first-$last of $(wc -l <"$OUT/parts.txt") copied"
  fi
  return "$status"
}

case "${1:-}" in
  start)
    [ -d "$STATE" ] && { echo "already started: $STATE exists"; exit 0; }
    mkdir -p "$WORK" && cp -a . "$WORK"
    export JOBS=${JOBS:-12}
    setsid bash -c "bash '$WORK/benchmarks/gpu_pipeline.sh' work >'$STATE/log.txt' 2>&1; echo \$? >'$STATE/rc'" \
      </dev/null &
    echo "started: $JOBS jobs side by side, log in $STATE/log.txt" ;;
  work) JOBS=${JOBS:?} work ;;
  collect) [ $# -eq 4 ] || { echo "usage: $0 collect SECONDS FIRST LAST" >&2; exit 2; }; collect "$2" "$3" "$4" ;;
  *) echo "usage: JOBS=N $0 start | $0 collect SECONDS FIRST LAST" >&2; exit 2 ;;
esac
