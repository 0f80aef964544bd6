//! Embedding Strike: load untrusted bytecode, deploy it, run transactions against a state
//! cache, commit the block.
//!
//!     cargo run --release -p strike-vm --example embed

use strike_vm::exec::{Engine, Status, Transaction};
use strike_vm::isa::assemble;
use strike_vm::math::Fx;
use strike_vm::runtime::BlockEnv;
use strike_vm::state::{MemoryStorage, Slot, StateCache};

/// A tiny vault: deposit adds to the caller's balance (SADD), balance reads it.
const VAULT: &str = "
.event Deposited
.func deposit(fx) -> () regs 3 export
    LOADI r1, 0
    BLE r0, r1, @bad          ; amounts must be positive
    CALLER r2
    SADD r2, r0, 0
    EMIT r0, 1, Deposited
    RET r0, 0
bad:
    REVERT 1
.func balance(address) -> (fx) regs 2 export
    SLOAD r1, r0, 0
    RET r1, 1
";

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // In production the bytes come from the chain: decode + verify them.
    let bytes = assemble(VAULT)?.encode();
    let mut engine = Engine::new();
    let module = engine.load(&bytes)?;
    engine.deploy(0x100, module);

    let mut state = StateCache::new(MemoryStorage::new());
    let block = BlockEnv {
        number: 1,
        timestamp: 1_700_000_000,
    };
    let fx = |s: &str| s.parse::<Fx>().map(Fx::to_bits);
    let deposit = |caller, amount| Transaction {
        caller,
        contract: 0x100,
        function: "deposit".into(),
        args: vec![amount],
        gas_limit: 10_000,
    };
    for tx in [
        deposit(0xa, fx("1.5")?),
        deposit(0xa, fx("2.25")?),
        deposit(0xb, fx("-1")?),
    ] {
        let r = engine.execute(&tx, &block, &mut state);
        println!(
            "deposit from {:#x}: {:?}, gas {}, events {}",
            tx.caller,
            r.status,
            r.gas_used,
            r.events.len()
        );
    }
    let query = Transaction {
        caller: 0xa,
        contract: 0x100,
        function: "balance".into(),
        args: vec![0xa],
        gas_limit: 10_000,
    };
    let r = engine.execute(&query, &block, &mut state);
    assert_eq!(r.status, Status::Ok);
    println!("balance of 0xa: {}", Fx::from_bits(r.returns[0]));
    state.commit_block()?;
    println!("committed slots: {:?}", state.storage().entries());
    assert_eq!(
        state.storage().entries(),
        vec![(
            Slot {
                contract: 0x100,
                space: 0,
                key: 0xa
            },
            fx("3.75")?
        )]
    );
    Ok(())
}
