//! `strike new` (a project: manifest, contract, tests) and `strike completions`.

use super::{fail, out, Cli, Exit};
use clap::{Args, CommandFactory};
use std::path::{Path, PathBuf};

/// The manifest's file name, at a project's root.
pub const MANIFEST: &str = "strike.toml";

/// A project's manifest: `[project]` name and version, and where sources and tests live.
#[derive(Debug, PartialEq, Eq)]
pub struct Manifest {
    /// The project's name.
    pub name: String,
    /// Its version.
    pub version: String,
    /// The contracts' folder, relative to the manifest.
    pub src: String,
    /// The tests' folder, relative to the manifest.
    pub tests: String,
}

impl Manifest {
    /// Reads and checks `path`.
    pub fn read(path: &Path) -> Result<Manifest, String> {
        let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        Manifest::parse(&text).map_err(|e| format!("{}: {e}", path.display()))
    }

    /// Parses manifest text.
    pub fn parse(text: &str) -> Result<Manifest, String> {
        let table: toml::Table = text
            .parse()
            .map_err(|e: toml::de::Error| format!("not a valid manifest: {}", e.message()))?;
        let project = table
            .get("project")
            .and_then(|p| p.as_table())
            .ok_or("no [project] table")?;
        let field = |key: &str, default: Option<&str>| -> Result<String, String> {
            match project.get(key) {
                Some(v) => v
                    .as_str()
                    .map(str::to_string)
                    .ok_or(format!("project.{key} is not a string")),
                None => default
                    .map(str::to_string)
                    .ok_or(format!("project.{key} is missing")),
            }
        };
        Ok(Manifest {
            name: field("name", None)?,
            version: field("version", Some("0.1.0"))?,
            src: field("src", Some("src"))?,
            tests: field("tests", Some("tests"))?,
        })
    }
}

/// `strike new`.
#[derive(Args, Debug)]
pub struct NewArgs {
    /// The project's name: its folder, and its contract's file name (letters, digits and
    /// `_`, not starting with a digit).
    name: String,
}

fn contract(name: &str) -> String {
    format!(
        r#"/// {name}: a starting point. Deposits per account, and a Black-Scholes call quote.
/// Error codes: 1 already initialised; 2 a deposit that is not positive; 3 bad inputs.

storage owner: address;
storage balances: map<address, fx>;
storage total: fx;

event Deposited(who: address, amount: fx);

/// Makes the caller the owner. Once.
pub fn init() {{
    require(owner == to_address(0), 1, "already initialised");
    owner = caller();
}}

/// Adds `amount` to the caller's balance.
pub fn deposit(amount: fx) {{
    require(amount > 0.0, 2, "a deposit must be positive");
    balances[caller()] += amount;
    total += amount;
    emit Deposited(caller(), amount);
}}

/// The balance of `who`.
pub fn balance(who: address) -> fx {{
    return balances[who];
}}

/// Black-Scholes price of a European call: spot, strike, volatility, rate, years.
pub fn call_price(s: fx, k: fx, vol: fx, r: fx, t: fx) -> fx {{
    require(s > 0.0 && k > 0.0 && vol > 0.0 && t > 0.0, 3, "inputs must be positive");
    let vol_sqrt_t = vol * sqrt(t);
    let d1 = (ln(s / k) + (r + vol * vol / 2.0) * t) / vol_sqrt_t;
    let d2 = d1 - vol_sqrt_t;
    return s * ncdf(d1) - k * exp(-r * t) * ncdf(d2);
}}
"#
    )
}

fn tests(name: &str) -> String {
    format!(
        r#"/// Tests of {name}.stk: `strike test` runs every #[test] function on fresh state.
import "../src/{name}.stk";

#[test]
fn deposits_add_up_per_account() {{
    set_caller(to_address(7));
    deposit(2.5);
    deposit(1.25);
    require(balance(to_address(7)) == 3.75, 100, "the balance is the sum of the deposits");
    require(balance(to_address(8)) == 0.0, 101, "another account is untouched");
}}

#[test(expect_revert = 2)]
fn a_zero_deposit_reverts() {{
    deposit(0.0);
}}

#[test(expect_revert = 1)]
fn init_runs_once() {{
    init();
    init();
}}

#[test]
fn a_call_is_worth_more_than_its_intrinsic_value() {{
    let price = call_price(105.0, 100.0, 0.2, 0.05, 0.5);
    require(price > 5.0 && price < 15.0, 102, "the price is plausible");
}}
"#
    )
}

fn manifest(name: &str) -> String {
    format!(
        "# A Strike project: `strike test` runs the #[test] functions under src/ and tests/.\n\
         [project]\nname = \"{name}\"\nversion = \"0.1.0\"\nsrc = \"src\"\ntests = \"tests\"\n"
    )
}

fn readme(name: &str) -> String {
    format!(
        "# {name}\n\nA Strike project.\n\n```sh\nstrike test                                   # run the tests\nstrike test --gas-report                      # and gas per function\nstrike run src/{name}.stk call_price 105 100 0.2 0.05 0.5\nstrike deploy src/{name}.stk --state .chain   # a persistent local chain\n```\n"
    )
}

/// `strike new NAME`: creates the project folder; refuses to touch an existing path.
pub fn new(args: NewArgs) -> Exit {
    let name = args.name;
    if !strike_vm::isa::is_identifier(&name) || name.len() > 64 {
        return fail(
            &format!("{name:?} is not a project name: use letters, digits and _, not starting with a digit (at most 64)"),
            Exit::Usage,
        );
    }
    let root = PathBuf::from(&name);
    if root.exists() {
        return fail(
            &format!("{} already exists; nothing was written", root.display()),
            Exit::Failure,
        );
    }
    let files = [
        (root.join(MANIFEST), manifest(&name)),
        (root.join("README.md"), readme(&name)),
        (
            root.join("src").join(format!("{name}.stk")),
            contract(&name),
        ),
        (
            root.join("tests").join(format!("{name}_test.stk")),
            tests(&name),
        ),
        (root.join(".gitignore"), ".chain/\n*.sbc\n".to_string()),
    ];
    for (path, text) in &files {
        let written = path
            .parent()
            .map_or(Ok(()), std::fs::create_dir_all)
            .and_then(|()| std::fs::write(path, text));
        if let Err(e) = written {
            return fail(&format!("{}: {e}", path.display()), Exit::Failure);
        }
    }
    eprintln!("created project {name}:");
    for (path, _) in &files {
        out(&path.display().to_string());
    }
    eprintln!("next: cd {name} && strike test");
    Exit::Success
}

/// `strike completions SHELL`: the completion script on stdout.
pub fn completions(shell: clap_complete::Shell) -> Exit {
    let mut command = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut command, "strike", &mut script);
    out(String::from_utf8_lossy(&script).trim_end());
    Exit::Success
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_manifest_written_is_the_manifest_read() {
        let m = Manifest::parse(&manifest("demo")).expect("parses");
        assert_eq!(
            m,
            Manifest {
                name: "demo".into(),
                version: "0.1.0".into(),
                src: "src".into(),
                tests: "tests".into()
            }
        );
        assert!(Manifest::parse("[project]\nversion = 3").is_err());
        assert!(Manifest::parse("name = \"x\"").is_err());
        assert!(Manifest::parse("[project\n").is_err());
    }
}
