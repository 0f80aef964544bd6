//! Modules end to end: every verified module survives encode/decode and
//! disassemble/assemble unchanged, and no bytes at all (random, or mutations of valid
//! modules) can make decoding, verification or execution panic or run unbounded.

use proptest::prelude::*;
use strike_tests::modules::valid_module;
use strike_vm::exec::{Engine, Transaction};
use strike_vm::isa::{assemble, disassemble, Module};
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, StateCache};

/// Decodes, verifies and (if that succeeds) calls every export with a small gas limit.
/// Returns whether the bytes were a valid module.
fn exercise(bytes: &[u8], args: &[i128]) -> bool {
    let mut engine = Engine::new();
    let Ok(module) = engine.load(bytes) else {
        return false;
    };
    let exports: Vec<(String, usize)> = module
        .module()
        .exports
        .iter()
        .map(|e| (e.name.clone(), e.params.len()))
        .collect();
    engine.deploy(1, module);
    let mut state = StateCache::new(MemoryStorage::new());
    for (name, arity) in exports {
        let tx = Transaction {
            caller: 2,
            contract: 1,
            function: name,
            args: args.iter().copied().cycle().take(arity).collect(),
            gas_limit: 20_000,
        };
        let receipt = engine.execute(
            &tx,
            &BlockEnv {
                number: 1,
                timestamp: 2,
            },
            &mut state,
        );
        assert!(
            receipt.gas_used <= tx.gas_limit,
            "gas used beyond the limit"
        );
    }
    true
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(100_000))]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200), args in any::<[i128; 3]>()) {
        // Mostly rejected at decode; the magic-prefixed half reaches deeper.
        let mut prefixed = b"\0sbc\x01\x00\x00\x00".to_vec();
        prefixed.extend_from_slice(&bytes);
        exercise(&bytes, &args);
        exercise(&prefixed, &args);
    }

    #[test]
    fn mutated_modules_never_panic(m in valid_module(), flips in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..4), args in any::<[i128; 3]>()) {
        let mut bytes = m.encode();
        for (at, v) in flips {
            let n = bytes.len();
            bytes[at % n] = v;
        }
        exercise(&bytes, &args);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(5_000))]

    #[test]
    fn valid_modules_verify_round_trip_and_run(m in valid_module(), args in any::<[i128; 3]>()) {
        let bytes = m.encode();
        prop_assert_eq!(Module::decode(&bytes), Ok(m.clone()));
        let text = disassemble(&m);
        prop_assert_eq!(assemble(&text), Ok(m.clone()), "disassembly:\n{}", text);
        prop_assert!(exercise(&bytes, &args), "generated module failed verification");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(20_000))]

    #[test]
    fn assembler_never_panics_on_text(m in valid_module(), cut in any::<usize>(), junk in "[ -~\n]{0,40}", noise in "\\PC{0,80}") {
        // Random text, and disassembly with a random splice: errors, never panics.
        let _ = assemble(&noise);
        let mut text = disassemble(&m);
        let mut at = cut % (text.len() + 1);
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.insert_str(at, &junk);
        if let Ok(m) = assemble(&text) {
            let _ = exercise(&m.encode(), &[1, 2, 3]);
        }
    }
}
