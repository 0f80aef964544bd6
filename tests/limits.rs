//! Every resource limit of `strike_vm::isa::Limits`, tested at its edge: the largest input
//! the limit allows is accepted and one more is refused with the limit's own error, in the
//! interpreter and the JIT alike (same error, same gas), leaving state untouched. Also the
//! gas bound on loops and recursion: no opcode is free, so every loop iteration and every
//! call pays, and a loop that never ends runs out of gas at exactly its limit.
//! The figures are in spec/security.md ("Resource limits").

use strike_vm::exec::{
    execute_block, execute_block_parallel, BlockError, Engine, Mode, ParallelConfig, Receipt,
    Status, Transaction,
};
use strike_vm::isa::{
    assemble, Export, Function, Instr, Limits, Module, ModuleError, Opcode, VerifyErrorKind,
};
use strike_vm::runtime::{BlockEnv, VmError};
use strike_vm::state::{MemoryStorage, StateCache};

const MODES: [Mode; 2] = [Mode::Interp, Mode::Jit];

fn engine(text: &str, mode: Mode) -> Engine {
    let mut engine = Engine::new();
    engine.set_mode(mode);
    let module = engine
        .verify(assemble(text).expect("assembles"))
        .expect("verifies");
    engine.deploy(1, module);
    engine
}

fn call(engine: &Engine, function: &str, args: Vec<i128>, gas_limit: u64) -> Receipt {
    let mut state = StateCache::new(MemoryStorage::new());
    let tx = Transaction {
        caller: 9,
        contract: 1,
        function: function.into(),
        args,
        gas_limit,
    };
    let receipt = engine.execute(&tx, &BlockEnv::default(), &mut state);
    state.commit_block().expect("memory commits");
    if receipt.status != Status::Ok {
        assert!(
            state.storage().entries().is_empty(),
            "a failed transaction left writes"
        );
    }
    receipt
}

/// Runs `function(n)` in both engines: both must give the same receipt; returns it.
fn both(text: &str, function: &str, n: i128, gas_limit: u64) -> Receipt {
    let receipts: Vec<Receipt> = MODES
        .iter()
        .map(|&m| call(&engine(text, m), function, vec![n], gas_limit))
        .collect();
    assert_eq!(
        receipts[0], receipts[1],
        "interpreter vs JIT on {function}({n})"
    );
    receipts[0].clone()
}

fn error_code(r: &Receipt) -> Option<u16> {
    r.error.as_ref().map(|e| e.code as u16)
}

const EMITTER: &str = "
.event Tick
.func emit_n(int) -> () regs 3 export
    LOADI r1, 0
loop:
    BLE r0, r1, @done
    EMIT r1, 1, Tick
    ADDI r1, r1, 1
    JMP @loop
done:
    RET r0, 0
";

#[test]
fn events_per_transaction_stop_at_the_limit() {
    let limit = Limits::default().max_events_per_tx;
    let ok = both(EMITTER, "emit_n", limit as i128, 10_000_000);
    assert_eq!(ok.status, Status::Ok);
    assert_eq!(ok.events.len(), limit as usize);
    let over = both(EMITTER, "emit_n", limit as i128 + 1, 10_000_000);
    assert_eq!(over.status, Status::Error);
    assert_eq!(
        error_code(&over),
        Some(VmError::EventLimit { limit }.code())
    );
    assert!(over.events.is_empty());
    // The failing EMIT paid its gas: the same gas as the successful run up to it, plus it.
    assert!(over.gas_used > ok.gas_used);
}

const WRITER: &str = "
.func write_n(int) -> () regs 3 export
    LOADI r1, 0
loop:
    BLE r0, r1, @done
    SSTORE r1, r1, 0
    SADD r1, r0, 1
    ADDI r1, r1, 1
    JMP @loop
done:
    RET r0, 0
";

#[test]
fn storage_writes_per_transaction_stop_at_the_limit() {
    // Each iteration writes twice (SSTORE and SADD), so limit / 2 iterations fit exactly.
    let limit = Limits::default().max_storage_writes_per_tx;
    assert_eq!(limit % 2, 0);
    let ok = both(WRITER, "write_n", limit as i128 / 2, 100_000_000);
    assert_eq!(ok.status, Status::Ok, "{:?}", ok.error);
    let over = both(WRITER, "write_n", limit as i128 / 2 + 1, 100_000_000);
    assert_eq!(over.status, Status::Error);
    assert_eq!(
        error_code(&over),
        Some(VmError::WriteLimit { limit }.code())
    );
}

const RECURSIVE: &str = "
.func down(int) -> (int) regs 2 export
    JZ r0, @bottom
    ADDI r0, r0, -1
    CALL r0, 1, 1, down
bottom:
    RET r0, 1
";

#[test]
fn call_depth_stops_at_the_limit() {
    let limit = Limits::default().max_call_depth;
    // down(n) holds n + 1 frames at the bottom.
    let ok = both(RECURSIVE, "down", limit as i128 - 1, 10_000_000);
    assert_eq!(ok.status, Status::Ok, "{:?}", ok.error);
    let over = both(RECURSIVE, "down", limit as i128, 10_000_000);
    assert_eq!(error_code(&over), Some(VmError::CallDepth.code()));
}

#[test]
fn unbounded_recursion_and_loops_end_by_gas_or_depth() {
    let forever = "
.func spin() -> () regs 1 export
top:
    JMP @top
.func recurse() -> () regs 1 export
    CALL r0, 0, 0, recurse
    RET r0, 0
";
    for mode in MODES {
        let e = engine(forever, mode);
        for gas in [0, 1, 2, 100, 12_345, 1_000_000] {
            let r = call(&e, "spin", vec![], gas);
            assert_eq!(error_code(&r), Some(VmError::OutOfGas.code()));
            assert_eq!(r.gas_used, gas, "an endless loop uses exactly its limit");
        }
        let r = call(&e, "recurse", vec![], 10_000_000);
        assert_eq!(error_code(&r), Some(VmError::CallDepth.code()));
        let r = call(&e, "recurse", vec![], 300);
        assert_eq!(error_code(&r), Some(VmError::OutOfGas.code()));
        assert_eq!(r.gas_used, 300);
    }
}

/// The premise of the loop bound: no opcode is free, so every basic block (and therefore
/// every loop iteration, which enters at least one block) costs at least one gas.
#[test]
fn every_opcode_costs_gas() {
    for op in Opcode::ALL {
        assert!(op.info().gas >= 1, "{} is free", op.info().mnemonic);
    }
}

fn function(code_len: usize, registers: u16) -> Function {
    let mut code = vec![Instr::new(Opcode::LoadInt, 0, 0, 0, 1); code_len - 1];
    code.push(Instr::new(Opcode::Return, 0, 0, 0, 0));
    Function {
        params: 0,
        returns: 0,
        registers,
        arrays: vec![],
        code,
    }
}

fn verify_kind(module: Module) -> Result<(), VerifyErrorKind> {
    Engine::new()
        .verify(module)
        .map(|_| ())
        .map_err(|e| match e {
            strike_vm::exec::LoadError::Verify(v) => v.kind,
            other => panic!("{other}"),
        })
}

fn decode_error(module: &Module, limits: &Limits) -> Option<ModuleError> {
    Module::decode_with(&module.encode(), limits).err()
}

#[test]
fn code_size_functions_constants_and_registers_at_their_edges() {
    let limits = Limits::default();
    // Instructions per function.
    let at = Module {
        functions: vec![function(limits.max_code_len as usize, 1)],
        ..Module::default()
    };
    assert!(decode_error(&at, &limits).is_none());
    assert_eq!(verify_kind(at), Ok(()));
    let over = Module {
        functions: vec![function(limits.max_code_len as usize + 1, 1)],
        ..Module::default()
    };
    assert!(decode_error(&over, &limits).is_some());
    assert!(matches!(
        verify_kind(over),
        Err(VerifyErrorKind::OverLimit {
            what: "instructions",
            ..
        })
    ));
    // Functions per module.
    let many = |n: usize| Module {
        functions: vec![function(1, 1); n],
        ..Module::default()
    };
    assert_eq!(verify_kind(many(limits.max_functions as usize)), Ok(()));
    assert!(decode_error(&many(limits.max_functions as usize), &limits).is_none());
    assert!(decode_error(&many(limits.max_functions as usize + 1), &limits).is_some());
    assert!(matches!(
        verify_kind(many(limits.max_functions as usize + 1)),
        Err(VerifyErrorKind::OverLimit {
            what: "functions",
            ..
        })
    ));
    // Constants.
    let pool = |n: usize| Module {
        constants: vec![7; n],
        functions: vec![function(1, 1)],
        ..Module::default()
    };
    assert_eq!(verify_kind(pool(limits.max_constants as usize)), Ok(()));
    assert!(decode_error(&pool(limits.max_constants as usize + 1), &limits).is_some());
    assert!(matches!(
        verify_kind(pool(limits.max_constants as usize + 1)),
        Err(VerifyErrorKind::OverLimit {
            what: "constants",
            ..
        })
    ));
    // Registers: 256 (the most an 8-bit operand names), not 257, not 0.
    let regs = |n: u16| Module {
        functions: vec![function(1, n)],
        ..Module::default()
    };
    assert_eq!(verify_kind(regs(256)), Ok(()));
    assert_eq!(
        verify_kind(regs(257)),
        Err(VerifyErrorKind::BadRegisterCount(257))
    );
    assert_eq!(
        verify_kind(regs(0)),
        Err(VerifyErrorKind::BadRegisterCount(0))
    );
    // Names.
    let named = |n: usize| Module {
        functions: vec![function(1, 1)],
        events: vec!["e".repeat(n)],
        ..Module::default()
    };
    assert_eq!(verify_kind(named(limits.max_name_len as usize)), Ok(()));
    assert!(matches!(
        verify_kind(named(limits.max_name_len as usize + 1)),
        Err(VerifyErrorKind::OverLimit {
            what: "name bytes",
            ..
        })
    ));
}

#[test]
fn module_bytes_at_the_edge() {
    let module = Module {
        functions: vec![function(100, 1)],
        ..Module::default()
    };
    let bytes = module.encode();
    let exact = Limits {
        max_module_bytes: bytes.len(),
        ..Limits::default()
    };
    assert_eq!(Module::decode_with(&bytes, &exact), Ok(module));
    let short = Limits {
        max_module_bytes: bytes.len() - 1,
        ..Limits::default()
    };
    assert!(Module::decode_with(&bytes, &short).is_err());
    // The default: 4 MiB, refused before anything is parsed.
    let huge = vec![0u8; Limits::default().max_module_bytes + 1];
    assert!(Module::decode(&huge).is_err());
}

#[test]
fn argument_and_message_sizes_at_their_edges() {
    // Transaction arguments: exactly the export's parameters, no more, no fewer.
    let text = ".func f(int, int) -> (int) regs 2 export\n    ADD r0, r0, r1\n    RET r0, 1\n";
    for mode in MODES {
        let e = engine(text, mode);
        assert_eq!(call(&e, "f", vec![1, 2], 1000).returns, vec![3]);
        for args in [vec![1], vec![1, 2, 3], vec![0; 100_000]] {
            let r = call(&e, "f", args.clone(), 1000);
            let code = VmError::ArgumentCount {
                expected: 2,
                given: args.len(),
            }
            .code();
            assert_eq!(error_code(&r), Some(code));
        }
    }
    // Event values: at most `max_event_values` (16) per EMIT.
    let emit = |n: usize| {
        format!(".event E\n.func f() -> () regs 20 export\n    EMIT r0, {n}, E\n    RET r0, 0\n")
    };
    let limits = Limits::default();
    assert!(Engine::new()
        .verify(assemble(&emit(limits.max_event_values as usize)).expect("assembles"))
        .is_ok());
    assert!(Engine::new()
        .verify(assemble(&emit(limits.max_event_values as usize + 1)).expect("assembles"))
        .is_err());
    // Native messages: sha256 of 1 to 16 values.
    let sha = |n: usize| {
        format!(".func f() -> () regs 20 export\n    NATIVE r0, {n}, 2, sha256\n    RET r0, 0\n")
    };
    for (n, ok) in [(0, false), (1, true), (16, true), (17, false)] {
        let r = Engine::new().verify(assemble(&sha(n)).expect("assembles"));
        assert_eq!(r.is_ok(), ok, "sha256 of {n} values");
    }
}

#[test]
fn block_size_at_the_edge() {
    let limits = Limits {
        max_block_transactions: 50,
        ..Limits::default()
    };
    let mut engine = Engine::with_limits(limits);
    let module = engine
        .verify(
            assemble(".func set(int) -> () regs 2 export\n    SSTORE r0, r0, 0\n    RET r0, 0\n")
                .expect("assembles"),
        )
        .expect("verifies");
    engine.deploy(1, module);
    let txs = |n: usize| -> Vec<Transaction> {
        (0..n)
            .map(|i| Transaction {
                caller: i as u128,
                contract: 1,
                function: "set".into(),
                args: vec![i as i128],
                gas_limit: 10_000,
            })
            .collect()
    };
    let config = ParallelConfig {
        threads: 4,
        min_tasks: 2,
        task_txs: 1,
        ..ParallelConfig::default()
    };
    let env = BlockEnv::default();
    let mut state = StateCache::new(MemoryStorage::new());
    assert_eq!(
        execute_block(&engine, &txs(50), &env, &mut state).map(|r| r.len()),
        Ok(50)
    );
    let (receipts, _) = execute_block_parallel(&engine, &txs(50), &env, &mut state, &config)
        .expect("50 transactions are allowed");
    assert_eq!(receipts.len(), 50);
    state.commit_block().expect("memory commits");
    let before = state.storage().entries();
    let refused = BlockError::TooManyTransactions {
        given: 51,
        limit: 50,
    };
    assert_eq!(
        execute_block(&engine, &txs(51), &env, &mut state),
        Err(refused.clone())
    );
    assert_eq!(
        execute_block_parallel(&engine, &txs(51), &env, &mut state, &config).map(|r| r.0),
        Err(refused)
    );
    state.commit_block().expect("memory commits");
    assert_eq!(
        state.storage().entries(),
        before,
        "a refused block changes nothing"
    );
    assert_eq!(Limits::default().max_block_transactions, 100_000);
}

#[test]
fn limits_apply_to_modules_built_in_rust_too() {
    // A module that never went through decoding gets the same bounds from the verifier.
    let limits = Limits {
        max_exports: 1,
        ..Limits::default()
    };
    let export = |name: &str| Export {
        name: name.into(),
        function: 0,
        params: vec![],
        returns: vec![],
    };
    let module = Module {
        functions: vec![function(1, 1)],
        exports: vec![export("a"), export("b")],
        ..Module::default()
    };
    let err = Engine::with_limits(limits)
        .verify(module)
        .expect_err("two exports over a limit of one");
    assert!(
        err.to_string().contains("2 exports exceeds the limit of 1"),
        "{err}"
    );
    // The module-bytes bound: code and constants a decoded module could not have.
    let small = Limits {
        max_module_bytes: 1_000,
        ..Limits::default()
    };
    let module = Module {
        functions: vec![function(200, 1)],
        ..Module::default()
    };
    let err = Engine::with_limits(small)
        .verify(module)
        .expect_err("1,600 bytes of code over a 1,000-byte module limit");
    assert!(
        err.to_string()
            .contains("1600 bytes of code and constants exceeds"),
        "{err}"
    );
}

/// spec/security.md's limits table gives every `max_*` field of `Limits` with its default.
#[test]
fn the_security_spec_lists_every_limit_with_its_default() {
    let debug = format!("{:?}", Limits::default());
    let defaults: Vec<(String, u64)> = debug
        .trim_start_matches("Limits {")
        .trim_end_matches('}')
        .split(',')
        .filter_map(|field| {
            let (name, value) = field.split_once(':')?;
            Some((name.trim().to_string(), value.trim().parse().ok()?))
        })
        .collect();
    assert!(defaults.len() >= 15, "parsed {debug}");
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../spec/security.md");
    let text = std::fs::read_to_string(path).expect("spec/security.md");
    let mut documented: Vec<(String, u64)> = Vec::new();
    for row in text.lines().filter(|l| l.starts_with("| `max_")) {
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        let names: Vec<&str> = cells[1]
            .split('`')
            .filter(|w| w.starts_with("max_"))
            .collect();
        let numbers: Vec<u64> = cells[2]
            .replace(',', "")
            .split(|c: char| !c.is_ascii_digit())
            .filter_map(|w| w.parse().ok())
            .collect();
        for (i, name) in names.iter().enumerate() {
            let value = numbers.get(i).or(numbers.first()).copied();
            documented.push((name.to_string(), value.expect("a default")));
        }
    }
    for (name, value) in &defaults {
        assert!(
            documented.contains(&(name.clone(), *value)),
            "spec/security.md: the limits table lacks `{name}` = {value}"
        );
    }
}

/// JIT compile time grows faster than instruction count for big, register-heavy functions,
/// so the engine bounds what it compiles: a function over `max_function_instructions`
/// keeps its module interpreted (even in Mode::Jit), and under Mode::Auto each function's
/// instructions weigh `ceil(registers / 32)` toward the gas threshold.
#[test]
fn jit_compile_work_is_bounded_by_size_and_paid_for_by_gas() {
    let max = strike_vm::exec::Tiering::default().max_function_instructions;
    let sized = |len: usize| {
        let mut text = String::from(".func f() -> () regs 2 export\n");
        for _ in 0..len - 1 {
            text.push_str("    MOV r0, r1\n");
        }
        text.push_str("    RET r0, 0\n");
        text
    };
    for (len, compiled) in [(max, 1), (max + 1, 0)] {
        let e = engine(&sized(len), Mode::Jit);
        assert_eq!(call(&e, "f", vec![], 1_000_000).status, Status::Ok);
        assert_eq!(
            e.jit_stats().modules,
            compiled,
            "a {len}-instruction function"
        );
    }
    // Auto: the same loop in a 32- and a 64-register frame. One call uses more gas than
    // the first's threshold and less than the second's (twice as much).
    let looped = |registers: u32| {
        format!(
            ".func f(int) -> () regs {registers} export\nloop:\n    ADDI r0, r0, -1\n    JNZ r0, @loop\n    RET r0, 0\n"
        )
    };
    let tiering = strike_vm::exec::Tiering {
        gas_per_instruction: 10,
        ..strike_vm::exec::Tiering::default()
    };
    let mut used = Vec::new();
    for registers in [32, 64] {
        let mut e = engine(&looped(registers), Mode::Auto);
        e.set_tiering(tiering);
        let r = call(&e, "f", vec![20], 1_000_000);
        used.push((r.gas_used, e.jit_stats().modules));
    }
    // 3 instructions x 10 gas = 30 (x1) or 60 (x2); the call's instructions use 40.
    assert_eq!(used[0].1, 1, "32 registers: compiled after {:?}", used[0]);
    assert_eq!(used[1].1, 0, "64 registers: not yet, {:?}", used[1]);
}

/// The remaining module-size limits at their edges: exports, events, debug entries, and a
/// name one byte too long for the decoder.
#[test]
fn exports_events_debug_entries_and_names_at_their_edges() {
    let limits = Limits::default();
    let base = || Module {
        functions: vec![function(1, 1)],
        ..Module::default()
    };
    let exports = |n: usize| Module {
        exports: (0..n)
            .map(|i| Export {
                name: format!("f{i}"),
                function: 0,
                params: vec![],
                returns: vec![],
            })
            .collect(),
        ..base()
    };
    let events = |n: usize| Module {
        events: (0..n).map(|i| format!("e{i}")).collect(),
        ..base()
    };
    let debug = |n: usize| Module {
        debug: (0..n)
            .map(|_| strike_vm::isa::DebugEntry {
                function: 0,
                pc: 0,
                line: 1,
                col: 1,
            })
            .collect(),
        ..base()
    };
    type Make<'a> = &'a dyn Fn(usize) -> Module;
    let cases: [(&str, Make<'_>, u32); 3] = [
        ("exports", &exports, limits.max_exports),
        ("events", &events, limits.max_events),
        ("debug entries", &debug, limits.max_debug_entries),
    ];
    // A million debug entries take 16 MiB, more than the default module size allows, so
    // the decoder is checked with room for them.
    let roomy = Limits {
        max_module_bytes: 64 << 20,
        ..Limits::default()
    };
    for (what, make, limit) in cases {
        let at = make(limit as usize);
        assert!(
            decode_error(&at, &roomy).is_none(),
            "{what} at the limit decode"
        );
        assert_eq!(verify_kind(at), Ok(()), "{what} at the limit verify");
        let over = make(limit as usize + 1);
        assert!(
            decode_error(&over, &roomy).is_some(),
            "{what} over the limit decode"
        );
        assert!(
            matches!(verify_kind(over), Err(VerifyErrorKind::OverLimit { what: w, .. }) if w == what),
            "{what} over the limit verify"
        );
    }
    let named = |n: usize| Module {
        events: vec!["e".repeat(n)],
        ..base()
    };
    assert!(decode_error(&named(limits.max_name_len as usize), &limits).is_none());
    assert!(decode_error(&named(limits.max_name_len as usize + 1), &limits).is_some());
}

/// Arrays per function and elements per function (verifier), and elements live at once
/// over the call stack (at run time, in both engines).
#[test]
fn arrays_and_array_memory_at_their_edges() {
    let limits = Limits::default();
    let with_arrays = |arrays: Vec<u32>| Module {
        functions: vec![Function {
            arrays,
            ..function(1, 1)
        }],
        ..Module::default()
    };
    let most = limits.max_arrays as usize;
    assert_eq!(verify_kind(with_arrays(vec![1; most])), Ok(()));
    assert_eq!(
        verify_kind(with_arrays(vec![1; most + 1])),
        Err(VerifyErrorKind::BadArrays)
    );
    let words = limits.max_array_words;
    assert_eq!(verify_kind(with_arrays(vec![words])), Ok(()));
    assert_eq!(
        verify_kind(with_arrays(vec![words, 1])),
        Err(VerifyErrorKind::BadArrays)
    );
    // down(n) recurses n times, each frame holding a full 65,536-element array: the call
    // stack holds (n + 1) frames' arrays, so max_memory_words / 65,536 frames fit.
    let frames = (limits.max_memory_words / words) as i128;
    let text = format!(
        ".func down(int) -> (int) regs 2 arrays {words} export\n    JZ r0, @bottom\n    ADDI r0, r0, -1\n    CALL r0, 1, 1, down\nbottom:\n    RET r0, 1\n"
    );
    let ok = both(&text, "down", frames - 1, 100_000_000);
    assert_eq!(ok.status, Status::Ok, "{:?}", ok.error);
    let over = both(&text, "down", frames, 100_000_000);
    assert_eq!(
        error_code(&over),
        Some(VmError::MemoryLimit { words: 0, limit: 0 }.code())
    );
}

/// The interpreter's public entry point takes a function index from the embedder: one that
/// names no function is an error, not an index panic.
#[test]
fn a_call_naming_no_function_is_an_error() {
    let engine = Engine::new();
    let module = engine
        .verify(assemble(".func f() -> () regs 1 export\n    RET r0, 0\n").expect("assembles"))
        .expect("verifies");
    let mut state = StateCache::new(MemoryStorage::new());
    let call = strike_vm::runtime::Call {
        caller: 1,
        contract: 2,
        function: 99,
        args: &[],
        gas_limit: 1_000,
    };
    let run = strike_vm::interp::run(
        &module,
        call,
        &BlockEnv::default(),
        &mut state,
        &Limits::default(),
    );
    assert!(
        matches!(
            run.halt,
            strike_vm::runtime::Halt::Error(VmError::UnknownFunction(_))
        ),
        "{:?}",
        run.halt
    );
}
