#!/usr/bin/env bash
# Regenerates the GUI screenshots in docs/images/ (used by docs/gui.md and the README), so the
# pictures in the documentation always show what the current code draws. Builds tilesim-gui when
# it is missing or out of date, then renders each state headless under xvfb-run.
#
#   ./scripts/screenshots.sh            # build dir: build/
#   BUILD=build-rel ./scripts/screenshots.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
OUT=docs/images
command -v xvfb-run >/dev/null || { echo "error: xvfb-run not found (apt-get install xvfb xauth)" >&2; exit 1; }
if [ ! -f "$BUILD/CMakeCache.txt" ]; then
  cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
fi
cmake --build "$BUILD" -j"$(nproc)" --target tilesim-gui >/dev/null
mkdir -p "$OUT"

# name | arguments (one state each; 1600x900, the size a projector shows well)
shots=(
  "gui-race|classroom --algorithm standard --rival flash --progress 0.5"
  "gui-flash|classroom --algorithm flash --rival standard --progress 0.3"
  "gui-softmax|classroom --algorithm flash --panel softmax --progress 0.6 --watch-block 2"
  "gui-backward|classroom --set pass=forward+backward --algorithm flash --rival standard --progress 0.75"
  "gui-backward-fa2|classroom --set pass=forward+backward --algorithm flash2 --rival standard --progress 0.8"
  "gui-plots|gpt2-medium --panel plots"
  "gui-plots-block|block-size --panel plots --side block"
  "gui-big|gpt2-medium --set seq_len=8192 --progress 0.3"
  "gui-invalid|classroom --set block_cols=64 --algorithm flash"
  "gui-timeline|gpt2-medium --set hardware=H100-SXM --set schedule=pingpong --algorithm flash2 --panel timeline"
  "gui-roofline|gpt2-medium --set hardware=H100-SXM --panel roofline"
  "gui-threads|classroom --algorithm flash2 --panel threads --progress 0.3"
  "gui-threads-gpt2|gpt2-medium --algorithm flash2 --panel threads --progress 0.3"
)
for s in "${shots[@]}"; do
  name=${s%%|*}
  args=${s#*|}
  # shellcheck disable=SC2086  # the arguments are meant to split
  xvfb-run -a -s "-screen 0 1920x1080x24" "$BUILD/tilesim-gui" $args --size 1600x900 --palette \
    --screenshot "$OUT/$name.png"
  printf '%-18s %7s bytes  tilesim-gui %s\n' "$name.png" "$(stat -c %s "$OUT/$name.png")" "$args"
done

# Projector mode: 1920x1080 at --scale 1.5, one picture per main view (docs/gui.md, "In class");
# the same views at --scale 1 on 1920x1080 are the gui-view-* pictures below.
projector=(
  "gui-projector-memory|classroom --algorithm flash --rival standard --progress 0.4"
  "gui-projector-plots|classroom --panel plots"
  "gui-projector-softmax|classroom --algorithm flash2 --panel softmax --progress 0.6 --watch-block 1"
  "gui-projector-threads|classroom --algorithm flash2 --panel threads --progress 0.3"
  "gui-projector-timeline|gpt2-medium --set hardware=H100-SXM --set schedule=pingpong --algorithm flash2 --panel timeline"
  "gui-projector-roofline|gpt2-medium --set hardware=H100-SXM --panel roofline"
)
for s in "${projector[@]}"; do
  name=${s%%|*}
  args=${s#*|}
  # shellcheck disable=SC2086
  xvfb-run -a -s "-screen 0 1920x1080x24" "$BUILD/tilesim-gui" $args --size 1920x1080 --scale 1.5 --palette \
    --screenshot "$OUT/$name.png"
  printf '%-18s %7s bytes  tilesim-gui %s --size 1920x1080 --scale 1.5\n' "$name.png" \
    "$(stat -c %s "$OUT/$name.png")" "$args"
done

# Every main view at --scale 1 on 1920x1080, to set beside the projector pictures above.
for s in "${projector[@]}"; do
  name=${s%%|*}
  name=gui-view-${name#gui-projector-}
  args=${s#*|}
  # shellcheck disable=SC2086
  xvfb-run -a -s "-screen 0 1920x1080x24" "$BUILD/tilesim-gui" $args --size 1920x1080 --scale 1 --palette \
    --screenshot "$OUT/$name.png"
  printf '%-18s %7s bytes  tilesim-gui %s --size 1920x1080 --scale 1\n' "$name.png" \
    "$(stat -c %s "$OUT/$name.png")" "$args"
done

# ---- Lessons (docs/lessons/): the docs/images/lesson-NN-*.png the lessons name ----------------------
# A shot on a panel this tilesim-gui does not offer is skipped with a line saying so.
lesson_shots=(
  "lesson-01-memory|classroom --algorithm flash --panel memory --progress 0.4"
  "lesson-02-roofline|gpt2-medium --panel roofline"
  "lesson-03-standard-vs-flash|classroom --algorithm standard --rival flash --panel memory --progress 0.6"
  "lesson-04-tiles|classroom --algorithm flash --panel memory --progress 0.25"
  "lesson-05-softmax|classroom --algorithm flash --panel softmax --watch-block 0 --progress 0.5"
  "lesson-06-plots|gpt2-medium --panel plots"
  "lesson-07-backward|classroom --set pass=forward+backward --algorithm flash --rival standard --panel memory --progress 0.8"
  "lesson-08-causal|classroom --set mask=causal --algorithm flash --panel memory --progress 0.5"
  "lesson-09-fa2-memory|classroom --algorithm flash2 --rival flash --panel memory --progress 0.4"
  "lesson-09-timeline|gpt2-medium --algorithm flash2 --rival flash --panel timeline"
  "lesson-10-sync|docs/lessons/fa3-ablation.toml --set schedule=sync --algorithm flash2 --rival none --panel timeline"
  "lesson-10-pingpong|docs/lessons/fa3-ablation.toml --set schedule=pingpong --algorithm flash2 --rival none --panel timeline"
  "lesson-10-pipelined|docs/lessons/fa3-ablation.toml --set schedule=pipelined --algorithm flash2 --rival none --panel timeline"
  "lesson-11-threads|gpt2-medium --algorithm flash2 --panel threads"
  "lesson-11-waves|gpt2-medium --algorithm flash2 --panel timeline"
  "lesson-12-paged|decode-paged --algorithm flash-decoding --rival decode --panel memory --progress 0.3"
  "lesson-13-h100|gpt2-medium --set hardware=H100-SXM --set seq_len=4096 --set batch=4 --panel memory"
)
panel_help=$("$BUILD/tilesim-gui" --help | grep -e '--panel')
for s in "${lesson_shots[@]}"; do
  name=${s%%|*}
  args=${s#*|}
  panel=$(sed -n 's/.*--panel \([a-z]*\).*/\1/p' <<<"$args")
  if ! grep -qw "$panel" <<<"$panel_help"; then
    printf '%-30s skipped: this tilesim-gui has no --panel %s yet\n' "$name.png" "$panel"
    continue
  fi
  # shellcheck disable=SC2086  # the arguments are meant to split
  xvfb-run -a -s "-screen 0 1920x1080x24" "$BUILD/tilesim-gui" $args --size 1600x900 --palette \
    --screenshot "$OUT/$name.png"
  printf '%-30s %7s bytes  tilesim-gui %s\n' "$name.png" "$(stat -c %s "$OUT/$name.png")" "$args"
done
