//! `spec/OPCODES.md`, rendered from the opcode table. The committed file must equal
//! [`opcodes_markdown`]; a test fails when it drifts (`STRIKE_BLESS=1` rewrites it).

use super::opcode::Opcode;
use super::roles::{Operands, Role};
use std::fmt::Write;

/// The registers an opcode reads and writes, as the spec writes them, from its roles.
fn accesses(o: Operands) -> (String, String) {
    let name = |field: char| match field {
        'd' => "r[d]".to_string(),
        f => format!("r[{f}]"),
    };
    let (mut reads, mut writes) = (Vec::new(), Vec::new());
    for (role, field) in o.fields().into_iter().zip(Operands::LETTERS) {
        match role {
            Role::Read => reads.push(name(field)),
            Role::Key => reads.push(format!("{} (key)", name(field))),
            Role::Write => writes.push(name(field)),
            _ => {}
        }
    }
    if o.a == Role::Window {
        reads.push("r[a..a+b]".to_string());
        if o.c == Role::Results {
            writes.push("r[a..a+c]".to_string());
        }
    }
    let show = |v: Vec<String>| {
        if v.is_empty() {
            "-".to_string()
        } else {
            v.join(", ")
        }
    };
    (show(reads), show(writes))
}

/// The full text of `spec/OPCODES.md`.
pub fn opcodes_markdown() -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Strike opcodes\n");
    let _ = writeln!(
        s,
        "GENERATED from the opcode table in `vm/src/isa/opcode.rs` by `strike spec`; do not edit.\n\
         A test fails when this file and the table differ.\n"
    );
    let _ = writeln!(s, "## Instruction word\n");
    let _ = writeln!(
        s,
        "Every instruction is 8 bytes, little-endian; fields an opcode does not use must be 0.\n"
    );
    let _ = writeln!(s, "```text\n byte  0        1     2     3     4..8\n      +--------+-----+-----+-----+----------------+\n      | opcode |  a  |  b  |  c  | imm (i32, LE)  |\n      +--------+-----+-----+-----+----------------+\n```\n");
    let _ = writeln!(
        s,
        "Registers are 128 bits: i128 for int, bool (0 or 1) and address; I64F64 raw bits for fx. \
         `r[x]` is register x of the current frame, `K[i]` constant i, `E[i]` event name i, `F[i]` function i. \
         A `?` raises the named error, which ends the transaction: its writes and events are discarded, \
         its gas is still charged. Gas in the table is static: the verifier sums it per basic block and the \
         interpreter charges each block's sum on entry. Dynamic charges (storage, events) are in `spec/gas.md`.\n"
    );
    let _ = writeln!(
        s,
        "## Operand roles\n\nEach opcode gives every field a role; the assembler, disassembler, verifier, \
         traces, the CFG and the compiler's register clobbers all derive from these roles. Unused \
         fields must be 0.\n\n| role | assembly | meaning |\n|---|---|---|"
    );
    for role in Role::ALL {
        let _ = writeln!(
            s,
            "| {role:?} | {} | {} |",
            match role {
                Role::Unused => "-".to_string(),
                r if r.is_register() => "`rN`".to_string(),
                r => format!("`{}`", r.syntax('a')),
            },
            role.meaning()
        );
    }
    let _ = writeln!(
        s,
        "\n## Opcode map\n\nRow: high nibble; column: low nibble.\n"
    );
    let _ = write!(s, "| |");
    for lo in 0..16 {
        let _ = write!(s, " _{lo:X} |");
    }
    let _ = writeln!(s, "\n|---|{}", "---|".repeat(16));
    let rows = Opcode::ALL
        .iter()
        .map(|&op| op as u8 >> 4)
        .max()
        .unwrap_or(0);
    for hi in 0..=rows {
        let _ = write!(s, "| {hi:X}_ |");
        for lo in 0..16u8 {
            let cell = Opcode::from_byte(hi << 4 | lo).map_or("", |op| op.info().mnemonic);
            let _ = write!(s, " {cell} |");
        }
        let _ = writeln!(s);
    }
    let _ = writeln!(s, "\nEmpty cells and bytes not shown are invalid (0x00 always is): a module containing one does not decode.\n");
    let _ = writeln!(s, "## Opcodes\n\n| byte | mnemonic | assembly | reads | writes | gas | semantics | errors |\n|---|---|---|---|---|---|---|---|");
    for &op in Opcode::ALL {
        let i = op.info();
        let (reads, writes) = accesses(i.operands);
        let _ = writeln!(
            s,
            "| `{:#04x}` | **{}** | `{} {}` | {reads} | {writes} | {} | `{}` | {} |",
            i.code,
            i.mnemonic,
            i.mnemonic,
            i.operands.syntax(),
            i.gas,
            i.semantics.replace('|', "\\|"),
            i.errors
        );
    }
    let _ = writeln!(s, "\n## Descriptions\n");
    for &op in Opcode::ALL {
        let i = op.info();
        let _ = writeln!(s, "- **{}** ({:#04x}): {}", i.mnemonic, i.code, i.summary);
    }
    natives_markdown(&mut s);
    s
}

/// The natives table (`crate::native`), as a section of OPCODES.md.
fn natives_markdown(s: &mut String) {
    use crate::native::{Native, MAX_MESSAGE_VALUES};
    let _ = writeln!(
        s,
        "\n## Natives\n\n`NATIVE rA, B, C, name` calls a native with B arguments from r[a..]; its C results \
         land in r[a..]. The verifier checks the id, B against the arity below and C against the \
         result count. The static gas of NATIVE is in the opcode table; the native's dynamic gas, a \
         function of the message length n only, is charged before it runs. A *message* is 1 to \
         {MAX_MESSAGE_VALUES} values, each as its 16 bytes, big-endian two's complement, concatenated \
         (see `vm/src/native/mod.rs`). Test-only natives verify only in modules built by `strike test`.\n"
    );
    let _ = writeln!(
        s,
        "| id | builtin | arguments | results | dynamic gas | semantics | errors |\n|---|---|---|---|---|---|---|"
    );
    for n in Native::ALL {
        let i = n.info();
        let args = match (i.fixed, i.message) {
            (0, true) => "message".to_string(),
            (k, true) => format!("{k} ints, message"),
            (k, false) => k.to_string(),
        };
        let test = if i.test_only { " (test only)" } else { "" };
        let _ = writeln!(
            s,
            "| `{:#04x}` | `{}`{test} | {args} | {} | `{}` | {} | {} |",
            i.id, i.name, i.results, i.gas, i.semantics, i.errors
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn committed_opcodes_md_matches_the_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../spec/OPCODES.md");
        let want = opcodes_markdown();
        if std::env::var_os("STRIKE_BLESS").is_some() {
            std::fs::write(&path, &want).expect("write spec/OPCODES.md");
        }
        let have = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            have == want,
            "spec/OPCODES.md is stale: regenerate it with `strike spec > spec/OPCODES.md` \
             or `STRIKE_BLESS=1 cargo test -p strike-vm`"
        );
    }
}
