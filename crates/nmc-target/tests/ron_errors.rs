//! Errors of reading RON text: syntax (file, line, column), unknown and
//! missing fields (field and section), wrong schema version, wrong types.

use nmc_target::{Target, TargetError, builtin_source};

fn loihi1_src() -> String {
    builtin_source("loihi1").expect("built in").to_string()
}

/// 1-based line number of the first line containing `needle`.
fn line_of(src: &str, needle: &str) -> usize {
    src.lines().position(|l| l.contains(needle)).expect("needle present") + 1
}

fn parse(src: &str) -> TargetError {
    Target::from_ron_str(src, "targets/x.ron").expect_err("must be rejected")
}

#[test]
fn syntax_error_names_file_line_and_column() {
    // Drop the comma after `max_input_axons: 4096`.
    let src = loihi1_src().replace("max_input_axons: 4096,", "max_input_axons: 4096");
    let bad_line = line_of(&src, "max_input_axons: 4096");
    let e = parse(&src);
    let TargetError::Syntax { origin, line, col, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(origin, "targets/x.ron");
    // The parser notices at the next field, on one of the following lines.
    assert!(*line > bad_line && *line <= bad_line + 4, "{e}");
    assert!(*col >= 1);
    assert!(
        e.to_string().starts_with(&format!("targets/x.ron:{line}:{col}: ")),
        "{e}"
    );
}

#[test]
fn unclosed_paren_is_a_syntax_error() {
    let src = "(\n    schema_version: 1,\n    name: \"x\",\n";
    let e = parse(src);
    assert!(matches!(e, TargetError::Syntax { .. }), "{e:?}");
    assert!(e.to_string().starts_with("targets/x.ron:"), "{e}");
}

#[test]
fn wrong_type_is_a_syntax_error_at_its_line() {
    let src = loihi1_src().replace("max_compartments: 1024,", "max_compartments: \"many\",");
    let l = line_of(&src, "max_compartments: \"many\"");
    let e = parse(&src);
    let TargetError::Syntax { line, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*line, l, "{e}");

    let src = loihi1_src().replace("max_compartments: 1024,", "max_compartments: -5,");
    let e = parse(&src);
    assert!(matches!(e, TargetError::Syntax { .. }), "{e:?}");
}

#[test]
fn unknown_field_names_field_section_and_line() {
    let src = loihi1_src().replace(
        "max_compartments: 1024,",
        "max_compartments: 1024,\n        max_neurons: 7,",
    );
    let l = line_of(&src, "max_neurons: 7");
    let e = parse(&src);
    let TargetError::UnknownField {
        line,
        field,
        section,
        expected,
        ..
    } = &e
    else {
        panic!("{e:?}")
    };
    assert_eq!((field.as_str(), section.as_str()), ("max_neurons", "core"));
    assert_eq!(*line, l);
    assert!(expected.contains("max_compartments"), "{expected}");
    let msg = e.to_string();
    assert!(msg.starts_with(&format!("targets/x.ron:{l}:")), "{msg}");
    assert!(msg.contains("unknown field `max_neurons` in core"), "{msg}");
    assert_eq!(e.field_paths(), ["core.max_neurons"]);
}

#[test]
fn unknown_field_in_nested_and_shared_sections() {
    let src = loihi1_src().replace("scale_shift: 6,", "scale_shift: 6,\n            rounding: 1,");
    let e = parse(&src);
    assert_eq!(e.field_paths(), ["formats.weight.rounding"], "{e}");

    let src = loihi1_src().replace("threshold: 8,", "threshold: 8,\n            noise: 1,");
    assert_eq!(parse(&src).field_paths(), ["core.profiles.noise"]);

    // Shared structs are resolved to the section they appear in.
    let src = loihi1_src().replace("population16: (slots: 1,", "population16: (width: 16, slots: 1,");
    assert_eq!(parse(&src).field_paths(), ["axons.population16.width"]);
    let src = loihi1_src().replace(
        "current: (magnitude_bits: 23, overflow: Wrap)",
        "current: (magnitude_bits: 23, overflow: Wrap, saturating: true)",
    );
    assert_eq!(parse(&src).field_paths(), ["formats.current.saturating"]);

    // Top-level field.
    let src = loihi1_src().replace("name: \"loihi1\",", "name: \"loihi1\",\n    vendor: \"Intel\",");
    let e = parse(&src);
    assert_eq!(e.field_paths(), ["vendor"]);
    assert!(e.to_string().contains("unknown field `vendor` in the top level"), "{e}");
}

#[test]
fn missing_field_names_field_and_section() {
    let src = loihi1_src().replace("max_input_axons: 4096,", "");
    let e = parse(&src);
    let TargetError::MissingField { field, section, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!((field.as_str(), section.as_str()), ("max_input_axons", "core"));
    assert!(e.to_string().contains("missing field `max_input_axons` in core"), "{e}");

    let src = loihi1_src().replace(
        "accumulator: (magnitude_bits: 21, overflow: Wrap)",
        "accumulator: (magnitude_bits: 21)",
    );
    assert_eq!(parse(&src).field_paths(), ["formats.accumulator.overflow"]);
}

#[test]
fn wrong_schema_version_is_reported_as_such() {
    // Even with fields this version does not know: the version is checked first.
    let src = loihi1_src().replace("schema_version: 1,", "schema_version: 2,\n    future_field: 1,");
    let e = parse(&src);
    assert!(
        matches!(
            e,
            TargetError::SchemaVersion {
                found: 2,
                supported: 1,
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(
        e.to_string(),
        "targets/x.ron: schema_version: 2 is not supported (this nmc reads schema_version 1)"
    );
    assert_eq!(e.field_paths(), ["schema_version"]);

    let src = loihi1_src().replace("schema_version: 1,", "schema_version: 0,");
    assert!(matches!(parse(&src), TargetError::SchemaVersion { found: 0, .. }));

    let src = loihi1_src().replace("schema_version: 1,", "");
    assert_eq!(parse(&src).field_paths(), ["schema_version"]);
}

#[test]
fn unknown_enum_variant_is_rejected() {
    let src = loihi1_src().replace("overflow: Clip,", "overflow: Saturate,");
    let e = parse(&src);
    let TargetError::Syntax { line, message, .. } = &e else {
        panic!("{e:?}")
    };
    assert_eq!(*line, line_of(&src, "overflow: Saturate"));
    assert!(message.contains("Saturate"), "{message}");
}

#[test]
fn validation_errors_come_after_parsing() {
    let src = loihi1_src().replace("max_compartments: 1024,", "max_compartments: 0,");
    let e = parse(&src);
    assert!(
        e.to_string()
            .contains("targets/x.ron: core.max_compartments: must be > 0"),
        "{e}"
    );
}
