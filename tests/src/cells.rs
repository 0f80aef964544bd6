//! The block-test contract (tests/block/cells.stk), its addresses, its starting state and
//! the digests that compare two executions of a block: shared by tests/block_parallel.rs
//! and the `block` fuzz target.

use std::sync::OnceLock;
use strike_lang::Options;
use strike_vm::exec::{execute_block, receipts_digest, state_digest, Engine, Receipt, Transaction};
use strike_vm::isa::VerifiedModule;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// Where the main copy of cells.stk lives.
pub const CELLS: u128 = 0xce11;
/// A second copy (its own storage).
pub const OTHER: u128 = 0xce12;

/// cells.stk, compiled once.
pub fn module() -> &'static VerifiedModule {
    static CELLS_MODULE: OnceLock<VerifiedModule> = OnceLock::new();
    CELLS_MODULE.get_or_init(|| {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/block/cells.stk");
        let text = std::fs::read_to_string(path).expect("tests/block/cells.stk");
        strike_lang::compile(&text, Options::default()).expect("cells.stk compiles")
    })
}

/// A starting state: cells 0..min(keys, 50) of CELLS set, cell 1 near the int maximum.
pub fn genesis(engine: &Engine, keys: i128) -> StateCache<MemoryStorage> {
    let mut state = StateCache::new(MemoryStorage::new());
    let seed: Vec<Transaction> = (0..keys.min(50))
        .map(|k| Transaction {
            caller: 99,
            contract: CELLS,
            function: "set".into(),
            args: vec![k, if k == 1 { i128::MAX - 10 } else { k * 3 }],
            gas_limit: 1_000_000,
        })
        .collect();
    execute_block(engine, &seed, &BlockEnv::default(), &mut state).expect("a small block");
    state.commit_block().expect("memory storage commits");
    state
}

/// The block's outcome by 32 bytes each: the receipts' digest and the committed state's.
pub fn outcome(receipts: &[Receipt], mut state: StateCache<MemoryStorage>) -> ([u8; 32], [u8; 32]) {
    state.commit_block().expect("memory storage commits");
    (
        receipts_digest(receipts),
        state_digest(&state.storage().entries()),
    )
}
