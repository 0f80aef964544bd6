//! Resource limits on modules and execution. Decoding and verification reject modules
//! beyond them, so the interpreter can rely on every index and size being bounded.

/// Limits applied to untrusted modules and to execution.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Largest accepted `.sbc` file.
    pub max_module_bytes: usize,
    /// Most functions in a module.
    pub max_functions: u32,
    /// Most instructions in one function.
    pub max_code_len: u32,
    /// Most entries in the constant pool.
    pub max_constants: u32,
    /// Most exports.
    pub max_exports: u32,
    /// Most event names.
    pub max_events: u32,
    /// Most debug entries.
    pub max_debug_entries: u32,
    /// Longest export or event name, in bytes.
    pub max_name_len: u32,
    /// Deepest call stack (frames, the entry function included).
    pub max_call_depth: u32,
    /// Most contracts on a transaction's call stack (the entry included): an XCALL beyond
    /// fails with `VmError::ContractDepth`. 8, as Solana raised CPI to after 4 proved too
    /// few for composed protocols; every level shares the one gas meter and the one frame
    /// limit, so depth is not what bounds the work.
    pub max_contract_depth: u32,
    /// Most values in one event.
    pub max_event_values: u32,
    /// Most arrays in one function.
    pub max_arrays: u32,
    /// Most array elements in one function, all its arrays together.
    pub max_array_words: u32,
    /// Most array elements live at once in one execution, over the whole call stack.
    pub max_memory_words: u32,
    /// Most events one transaction may emit; the next EMIT fails with
    /// `VmError::EventLimit` (gas alone would allow about 55,000 per million gas, at 18 for an EMIT of no values).
    pub max_events_per_tx: u32,
    /// Most storage writes (SSTORE, SADD, SADDCAP) one transaction may execute; the next
    /// fails with `VmError::WriteLimit`. Bounds the revert journal and the write set the
    /// parallel executor validates, whatever the gas limit.
    pub max_storage_writes_per_tx: u32,
    /// Most transactions in one block; `execute_block` and `execute_block_parallel` reject
    /// a longer one whole, before running any of it.
    pub max_block_transactions: u32,
    /// Whether modules may call the test-only natives (set_caller, set_time, test_sign,
    /// test_key). Only `strike test` sets it; everything that runs real transactions leaves
    /// it false, so such modules do not verify there.
    pub allow_test_natives: bool,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_module_bytes: 4 << 20,
            max_functions: 4096,
            max_code_len: 65_536,
            max_constants: 65_536,
            max_exports: 4096,
            max_events: 4096,
            max_debug_entries: 1 << 20,
            max_name_len: 255,
            max_call_depth: 256,
            max_contract_depth: 8,
            max_event_values: 16,
            max_arrays: 16,
            max_array_words: 1 << 16,
            max_memory_words: 1 << 20,
            max_events_per_tx: 1024,
            max_storage_writes_per_tx: 16_384,
            max_block_transactions: 100_000,
            allow_test_natives: false,
        }
    }
}
