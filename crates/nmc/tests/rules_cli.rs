//! `nmc targets --rules`: the update rule every target file states, compared
//! field by field; a file stating a rule its family does not run is refused
//! at the field (exit 3).
#![allow(clippy::unwrap_used)]

use std::process::{Command, Output};

fn nmc(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_nmc")).args(args).output().unwrap()
}

fn out(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// The cells of row `name` (split on runs of 2+ spaces).
fn row(table: &str, name: &str) -> Vec<String> {
    let line = table
        .lines()
        .find(|l| l.starts_with(&format!("{name}  ")))
        .unwrap_or_else(|| panic!("no row {name}:\n{table}"));
    line[name.len()..]
        .split("  ")
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(String::from)
        .collect()
}

#[test]
fn rules_compare_every_builtin_field_by_field() {
    let o = nmc(&["targets", "--rules"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let t = out(&o);
    assert_eq!(
        row(&t, "rule"),
        ["loihi1", "tiny", "speck", "xylo-audio2", "xylo-imu", "loihi2"],
        "{t}"
    );
    assert_eq!(
        row(&t, "threshold"),
        ["v > vth", "v > vth", "-", "v >= vth", "v >= vth", "v > vth"]
    );
    assert_eq!(
        row(&t, "reset"),
        ["v = 0", "v = 0", "-", "v = v - vth", "v = v - vth", "v = 0"]
    );
    assert_eq!(
        row(&t, "overflow applied"),
        [
            "once per step",
            "once per step",
            "-",
            "after every event",
            "after every event",
            "once per step"
        ]
    );
    let w = row(&t, "weight exponent");
    assert!(
        w[0].starts_with("per weight") && w[5].starts_with("on each connection's sum"),
        "{w:?}"
    );
    assert_eq!(row(&t, "synaptic states"), ["1", "1", "-", "2", "1", "1"]);
    // tiny's host hop is one step longer than loihi1's (targets/tiny.ron).
    assert_eq!(row(&t, "steps host->chip")[..2], ["1".to_string(), "2".to_string()]);
    assert_eq!(row(&t, "neurons")[2], "not public (placement only)");

    // A selection, in the order given.
    let o = nmc(&["targets", "--rules", "loihi2", "loihi1"]);
    assert_eq!(row(&out(&o), "rule"), ["loihi2", "loihi1"]);
    assert_eq!(
        row(&out(&o), "bias"),
        ["into v", "into u (u + bias, u's width), then v"]
    );
}

#[test]
fn a_file_stating_another_rule_is_refused_and_an_agreeing_edit_is_shown() {
    let dir = std::env::temp_dir().join(format!("nmc-rules-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let src = out(&nmc(&["targets", "--show", "tiny"]));

    let bad = dir.join("subtract.ron");
    std::fs::write(
        &bad,
        src.replacen(
            "reset: Zero,\n        refractory",
            "reset: Subtract,\n        refractory",
            1,
        ),
    )
    .unwrap();
    for args in [["targets", "--check"], ["targets", "--rules"]] {
        let o = nmc(&[args[0], args[1], bad.to_str().unwrap()]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.code(), Some(3), "{err}");
        assert!(
            err.contains("subtract.ron") && err.contains("rule.reset: the file states Subtract"),
            "{err}"
        );
    }

    // Clipping the current is a rule this family runs: formats and rule agree.
    let clip = src
        .replacen(
            "current: (magnitude_bits: 23, overflow: Wrap)",
            "current: (magnitude_bits: 23, overflow: Clip)",
            1,
        )
        .replacen(
            "accumulator: Wrap, current: Wrap",
            "accumulator: Wrap, current: Clip",
            1,
        );
    let good = dir.join("clip.ron");
    std::fs::write(&good, &clip).unwrap();
    let o = nmc(&["targets", "--rules", "tiny", good.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        row(&out(&o), "current"),
        ["wrap, 23 bits + sign", "clip, 23 bits + sign"]
    );

    // --check reads any family's file and prints its rule.
    let xylo = dir.join("xylo.ron");
    std::fs::write(&xylo, out(&nmc(&["targets", "--show", "xylo-imu"]))).unwrap();
    let o = nmc(&["targets", "--check", xylo.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out(&o).contains("valid Xylo chip `xylo-imu`"), "{}", out(&o));
    assert_eq!(row(&out(&o), "reset"), ["v = v - vth"]);

    // A Loihi 2 chip file is read by its family (--check, --rules, --target).
    let lava = out(&nmc(&["targets", "--show", "loihi2"]));
    let mine = dir.join("l2.ron");
    std::fs::write(&mine, lava.replacen("name: \"loihi2\"", "name: \"my-loihi2\"", 1)).unwrap();
    let o = nmc(&["targets", "--check", mine.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(out(&o).contains("valid Loihi 2 chip `my-loihi2`"), "{}", out(&o));
    assert_eq!(
        row(&out(&o), "weight exponent"),
        ["on each connection's sum (floor), -7..7"]
    );
    let wrong = dir.join("l2-wrong.ron");
    std::fs::write(
        &wrong,
        lava.replacen("weight_exponent: OnSum", "weight_exponent: PerWeight", 1),
    )
    .unwrap();
    let o = nmc(&["targets", "--rules", wrong.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{err}");
    assert!(
        err.contains("l2-wrong.ron: rule.weight_exponent: the file states PerWeight"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).ok();
}
