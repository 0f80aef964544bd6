#!/usr/bin/env bash
# Fills tests/fuzz/corpus/TARGET/ with seeds from the project's own contracts, so the
# fuzzers start from inputs that reach deep code: sources for `compile`, compiled modules
# for `module` and `execute`, block files and values for `inputs`. The structure-aware
# targets (`jit_diff`, `block`) need no seeds. Run from anywhere; uses a release `strike`.
set -euo pipefail
cd "$(dirname "$0")/../.."
cargo build -q --release -p strike
strike=target/release/strike
corpus=tests/fuzz/corpus
mkdir -p "$corpus"/{compile,module,execute,inputs,jit_diff,block}
for f in stdlib/*.stk stdlib/tests/*.stk spec/examples/*.stk tests/lang/*.stk tests/ui/*.stk tests/block/*.stk; do
  name=$(echo "$f" | tr / _)
  cp "$f" "$corpus/compile/$name"
  if "$strike" build "$f" -o "$corpus/module/${name%.stk}.sbc" 2>/dev/null; then
    cp "$corpus/module/${name%.stk}.sbc" "$corpus/execute/"
  fi
done
cp spec/examples/*.sasm "$corpus/compile/"
for w in independent hot-counter chain oracle-update; do
  "$strike" block --gen "$w" --txs 6 --accounts 3 > "$corpus/inputs/$w.jsonl"
done
printf '0.05\n-1e-4\n0x7fffffffffffffffffffffffffffffff\ntrue\n' > "$corpus/inputs/values"
printf '[project]\nname = "demo"\nversion = "0.1.0"\nsrc = "src"\ntests = "tests"\n' > "$corpus/inputs/strike.toml"
echo "seeded: $(ls "$corpus"/compile | wc -l) compile, $(ls "$corpus"/module | wc -l) module, $(ls "$corpus"/inputs | wc -l) inputs"
