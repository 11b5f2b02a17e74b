//! `include_dir!` cannot tell cargo which files it read on stable Rust; without this, editing a
//! scenario would not rebuild the binary that embeds it.
fn main() {
    println!("cargo:rerun-if-changed=../../library");
}
