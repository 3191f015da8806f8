//! The importer never panics on damaged bytes: every mutation of a real file
//! either loads or returns an error naming the file.

mod common;

use common::paper;
use nmc_frontend::{LoadOptions, load_nir_bytes};

fn must_not_panic(name: &str, bytes: &[u8]) {
    match load_nir_bytes(name, bytes, &LoadOptions::default()) {
        Ok(g) => assert!(nmc_ir::verify(&g).is_ok(), "{name}: a loaded graph must verify"),
        Err(e) => assert!(e.to_string().starts_with(name), "{name}: {e}"),
    }
}

#[test]
fn corrupted_bytes_give_errors_not_panics() {
    let bytes = std::fs::read(paper("01_lif/lif_norse.nir")).unwrap();
    for (k, pos) in (0..bytes.len()).step_by(37).enumerate() {
        for v in [0xFF, bytes[pos] ^ 0x55, 0x00] {
            let mut b = bytes.clone();
            b[pos] = v;
            must_not_panic(&format!("mut-{k}-{pos}-{v}.nir"), &b);
        }
    }
}

#[test]
fn every_truncation_gives_an_error() {
    let bytes = std::fs::read(paper("01_lif/two_lif_neurons.nir")).unwrap();
    for len in (0..bytes.len()).step_by(97) {
        let name = format!("cut-{len}.nir");
        let e =
            load_nir_bytes(&name, &bytes[..len], &LoadOptions::default()).expect_err("a truncated file must not load");
        assert!(e.to_string().starts_with(&name), "{e}");
    }
}
