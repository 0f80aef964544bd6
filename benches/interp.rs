//! `cargo bench --bench interp`: interpreter speed side by side with native Rust.
//!
//! - `loop/*`: a counting loop (ADDI + BLT per iteration, 2 instructions) of 100,000
//!   iterations, against the same loop in Rust; instructions per second = 200,000 / time.
//! - `empty_tx/*`: a whole transaction calling a function that only returns, through
//!   `Engine::execute` on a warm `StateCache`, against a native function call.

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::hint::black_box;
use strike_vm::exec::{Engine, Transaction};
use strike_vm::isa::assemble;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

const ITERATIONS: i128 = 100_000;

const PROGRAM: &str = "
.func spin(int) -> (int) regs 2 export
    LOADI r1, 0
loop:
    ADDI r1, r1, 1
    BLT r1, r0, @loop
    RET r1, 1
.func nothing() -> () regs 1 export
    RET r0, 0
";

fn engine() -> Engine {
    let mut engine = Engine::new();
    let module = assemble(PROGRAM).expect("assembles");
    let verified = engine.verify(module).expect("verifies");
    engine.deploy(1, verified);
    engine
}

fn tx(function: &str, args: Vec<i128>) -> Transaction {
    Transaction {
        caller: 2,
        contract: 1,
        function: function.into(),
        args,
        gas_limit: u64::MAX / 2,
    }
}

fn interp(c: &mut Criterion) {
    let engine = engine();
    let block = BlockEnv::default();
    let mut state = StateCache::new(MemoryStorage::new());

    let mut group = c.benchmark_group("loop");
    group.throughput(Throughput::Elements(2 * ITERATIONS as u64));
    let spin = tx("spin", vec![ITERATIONS]);
    group.bench_function("strike", |b| {
        b.iter(|| engine.execute(black_box(&spin), &block, &mut state))
    });
    group.bench_function("native", |b| {
        b.iter(|| {
            let n = black_box(ITERATIONS);
            let mut i: i128 = 0;
            while i < n {
                i = black_box(i.checked_add(1).expect("no overflow"));
            }
            i
        })
    });
    group.finish();

    let mut group = c.benchmark_group("empty_tx");
    let nothing = tx("nothing", vec![]);
    group.bench_function("strike", |b| {
        b.iter(|| engine.execute(black_box(&nothing), &block, &mut state))
    });
    group.bench_function("native", |b| {
        #[inline(never)]
        fn nothing(x: u64) -> u64 {
            x
        }
        b.iter(|| nothing(black_box(1)))
    });
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(std::time::Duration::from_secs(1))
        .measurement_time(std::time::Duration::from_secs(3));
    targets = interp
}
criterion_main!(benches);
