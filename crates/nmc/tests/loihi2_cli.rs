//! `nmc emulate NET.json --target loihi2` (issue 17): networks in Lava's
//! process form (`tests/fixtures/lava`, recorded in Lava 0.10 fixed_pt)
//! emulated from the command line reproduce every recorded variable.
#![allow(clippy::unwrap_used)]

mod common;

use common::root;
use std::path::{Path, PathBuf};

fn fixture(name: &str) -> PathBuf {
    root().join("tests/fixtures/lava").join(name)
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn lava_networks_emulate_from_the_command_line() {
    let d = std::env::temp_dir().join(format!("nmc-loihi2-cli-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    for net in [
        "recurrent",
        "sdn_cum_error",
        "graded_dense_nmb8",
        "dense_wexp_m3",
        "wrap_clip_excitatory",
    ] {
        let rec = fixture(&format!("{net}.npz"));
        // Lava's RingBuffer data is (channels, steps); nmc's input files are time-first
        let input = nmc_reference::read_array_named(&rec, "input").unwrap();
        let x = d.join(format!("{net}.x.npy"));
        ndarray_npy::write_npy(&x, &input.t().to_owned()).unwrap();
        let out = d.join(format!("{net}.out.npz"));
        let o = common::nmc_ok(&[
            "emulate",
            s(&fixture(&format!("{net}.json"))),
            "--target",
            "loihi2",
            "--input",
            s(&x),
            "--out",
            s(&out),
        ]);
        assert!(String::from_utf8_lossy(&o.stdout).contains("Lava 0.10 fixed_pt"));
        let names: Vec<String> = ndarray_npy::NpzReader::new(std::fs::File::open(&rec).unwrap())
            .unwrap()
            .names()
            .unwrap();
        let mut compared = 0;
        for name in names {
            let key = name.trim_end_matches(".npy");
            if key == "input" {
                continue;
            }
            let (proc_, var) = key.split_once('.').unwrap();
            let ours = if var == "s_out" {
                format!("spikes.{proc_}")
            } else {
                format!("state.{proc_}.{var}")
            };
            let want = nmc_reference::read_array_named(&rec, key).unwrap();
            let got = nmc_reference::read_array_named(&out, &ours).unwrap_or_else(|e| panic!("{net}: {ours}: {e}"));
            assert_eq!(got, want, "{net}: {key}");
            compared += 1;
        }
        assert!(compared >= 3, "{net}: compared {compared} variables");
    }
    // a network file that is not a Lava network: an error naming the file (exit 3)
    let bad = d.join("bad.json");
    std::fs::write(
        &bad,
        r#"{"processes": [{"name": "l", "kind": "lif", "shape": [1], "du": 5000}], "connections": []}"#,
    )
    .unwrap();
    let o = std::process::Command::new(env!("CARGO_BIN_EXE_nmc"))
        .args([
            "emulate",
            s(&bad),
            "--target",
            "loihi2",
            "--input",
            s(&d.join("recurrent.x.npy")),
        ])
        .output()
        .unwrap();
    let e = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{e}");
    assert!(e.contains("bad.json") && e.contains("du"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
