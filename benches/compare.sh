#!/usr/bin/env bash
# Side-by-side benches of two commits in one run: builds the bench binaries of REV in a
# worktree with its own target directory, then runs each selected bench of REV and of the
# working tree alternately, ROUNDS times, with the same criterion flags, and prints a
# table of the medians (benches/compare_table.py).
#
#   benches/compare.sh REV [ROUNDS]      e.g. benches/compare.sh f8bc8a6 3
#
# Run it on an otherwise idle machine: the two sides share it.
set -euo pipefail
cd "$(dirname "$0")/.."
REV=${1:?usage: benches/compare.sh REV [ROUNDS]}
ROUNDS=${2:-3}
OLD_TREE=${OLD_TREE:-target/compare/tree-$REV}
OLD_TARGET=$(realpath -m "${OLD_TARGET:-target/compare/target-$REV}")
BENCHES="--bench interp --bench jit --bench block"
FLAGS="--warm-up-time 2 --measurement-time 6 --noplot"
SPECS=("interp:^loop/strike$" "interp:^empty_tx/strike$" "jit:^jit/bs_call/(interp|jit)$"
  "jit:^jit/sum_squares_10000/(interp|jit)$" "block:/sequential$" "block:/sharded_2$")
export CARGO_BUILD_JOBS=${CARGO_BUILD_JOBS:-2}

[ -d "$OLD_TREE" ] || git worktree add -q --detach "$OLD_TREE" "$REV"
(cd "$OLD_TREE" && CARGO_TARGET_DIR="$OLD_TARGET" cargo bench --no-run $BENCHES -q)
cargo bench --no-run $BENCHES -q
newest() { ls -t "$1"/release/deps/"$2"-* | grep -v '\.d$' | head -1; }
mkdir -p target/compare
LOG=target/compare/log-$REV.txt
: > "$LOG"
for round in $(seq "$ROUNDS"); do
  for spec in "${SPECS[@]}"; do
    bin=${spec%%:*}; filter=${spec#*:}
    for side in old new; do
      dir=$([ $side = old ] && echo "$OLD_TARGET" || echo target)
      CRITERION_HOME=target/compare/criterion-$side "$(newest "$dir" "$bin")" --bench $FLAGS "$filter" 2>&1 \
        | grep -E "time:|^[a-z_/0-9]+ *$" | grep -v change | sed "s/^/$side /" | tee -a "$LOG"
    done
  done
done
python3 benches/compare_table.py "$LOG"
