//! The `rule:` section: every built-in states the rule the emulator runs; a
//! file stating another rule is refused at the field; a file without the
//! section (written before it existed) gets the family's one rule.

use nmc_rule::{Register, Reset, WeightExponent};
use nmc_target::{Overflow, Target, TargetError, builtin_names, builtin_source, family_rule};

#[test]
fn every_builtin_states_the_rule_the_family_runs() {
    for name in builtin_names() {
        let t = Target::builtin(name).unwrap();
        let stated = t.raw().rule.clone().unwrap_or_else(|| panic!("{name} states no rule"));
        assert_eq!(stated, family_rule(t.raw()), "{name}");
        assert_eq!(t.rule(), stated);
        assert!(builtin_source(name).unwrap().contains("\n    rule: ("), "{name}");
    }
}

fn problems(e: TargetError) -> Vec<String> {
    match e {
        TargetError::Invalid { problems, .. } => problems.iter().map(|p| p.to_string()).collect(),
        other => panic!("not a validation error: {other}"),
    }
}

#[test]
fn a_rule_the_family_does_not_run_is_refused_at_its_field() {
    let src = builtin_source("loihi1").unwrap();
    let subtract = src.replacen(
        "reset: Zero,\n        refractory",
        "reset: Subtract,\n        refractory",
        1,
    );
    assert_ne!(subtract, src);
    let p = problems(Target::from_ron_str(&subtract, "mine.ron").unwrap_err());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(
        p[0].starts_with("rule.reset: the file states Subtract, but the loihi compartment family"),
        "{p:?}"
    );
    assert!(p[0].contains("runs Zero"), "{p:?}");

    let mut raw = Target::builtin("tiny").unwrap().to_raw();
    let mut r = raw.rule.clone().unwrap();
    r.weight_exponent = WeightExponent::OnSum;
    r.overflow.voltage = Register::Saturate;
    raw.rule = Some(r);
    let p = problems(Target::from_raw(raw, "edited").unwrap_err());
    assert_eq!(p.len(), 2, "{p:?}");
    assert!(
        p[0].starts_with("rule.overflow.voltage: the file states Saturate"),
        "{p:?}"
    );
    assert!(p[0].contains("by formats.voltage.overflow, runs Clip"), "{p:?}");
    assert!(p[1].starts_with("rule.weight_exponent: the file states OnSum"), "{p:?}");
}

#[test]
fn the_overflow_entries_follow_formats_and_must_agree_with_them() {
    // formats.current.overflow: Clip is a rule this family runs; the file
    // must then say so in its rule section too.
    let mut raw = Target::builtin("tiny").unwrap().to_raw();
    raw.formats.current.overflow = Overflow::Clip;
    let p = problems(Target::from_raw(raw.clone(), "edited").unwrap_err());
    assert_eq!(p.len(), 1, "{p:?}");
    assert!(p[0].starts_with("rule.overflow.current: the file states Wrap"), "{p:?}");
    assert!(p[0].contains("by formats.current.overflow, runs Clip"), "{p:?}");
    raw.rule.as_mut().unwrap().overflow.current = Register::Clip;
    let t = Target::from_raw(raw, "edited").unwrap();
    assert_eq!(t.rule().overflow.current, Register::Clip);
    let cells = t.rule_summary().cells();
    assert!(cells.iter().any(|c| c == "clip, 23 bits + sign"), "{cells:?}");
}

#[test]
fn a_file_without_a_rule_section_gets_the_one_rule_and_round_trips() {
    let mut raw = Target::builtin("loihi1").unwrap().to_raw();
    raw.rule = None;
    let t = Target::from_raw(raw.clone(), "old.ron").unwrap();
    assert_eq!(t.rule(), family_rule(&raw));
    assert_eq!(t.rule().reset, Reset::Zero);
    let ron = t.to_ron().unwrap();
    assert!(!ron.contains("rule:"), "{ron}");
    assert_eq!(Target::from_ron_str(&ron, "old.ron").unwrap().raw(), &raw);
    // And a stated rule is written as the plain section, read back equal.
    let stated = Target::builtin("loihi1").unwrap();
    let ron = stated.to_ron().unwrap();
    assert!(ron.contains("rule: (") && !ron.contains("rule: Some("), "{ron}");
    assert_eq!(Target::from_ron_str(&ron, "x.ron").unwrap().raw(), stated.raw());
}
