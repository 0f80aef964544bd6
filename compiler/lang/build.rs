//! Generates the parser from src/lang/grammar.lalrpop.
fn main() {
    lalrpop::process_src().expect("the grammar compiles");
}
