//! Every chip rule, broken once: the error names the layer and the field,
//! and never panics on nonsense shapes.
#![allow(clippy::unwrap_used)]

use nmc_speck::{Chip, Layer, LayerError, Memory, check, place};
use proptest::prelude::*;

fn chip() -> Chip {
    Chip::builtin("speck").unwrap()
}

/// 4 → 8 channels, 3x3, pad 1 on 16x16.
fn good(name: &str) -> Layer {
    Layer {
        name: name.into(),
        input: [4, 16, 16],
        kernel: [8, 4, 3, 3],
        stride: [1, 1],
        padding: [1, 1],
        pooling: vec![[1, 1]],
        destinations: vec![],
        output: [8, 16, 16],
        bias: true,
        neuron: "iaf".into(),
    }
}

/// A change to a good layer.
type Edit = Box<dyn Fn(&mut Layer)>;

fn broken(edit: impl Fn(&mut Layer)) -> LayerError {
    let mut l = good("conv2");
    edit(&mut l);
    check(&chip(), &[good("conv1"), l]).unwrap_err()
}

#[test]
fn a_good_network_passes() {
    check(&chip(), &[good("a"), good("b")]).unwrap();
    let p = place(&chip(), &[good("a")]).unwrap();
    assert_eq!(
        p.layers[0].memory,
        Memory {
            kernel: 4 * 16 * 8,
            neuron: 8 * 256,
            bias: 8
        }
    );
}

#[test]
fn each_rule_names_layer_and_field() {
    let cases: Vec<(Edit, &str, &str)> = vec![
        (Box::new(|l| l.kernel = [8, 4, 3, 5]), "kernel", "3x5 is not square"),
        (
            Box::new(|l| {
                l.kernel = [8, 4, 17, 17];
                l.padding = [0, 0];
                l.input = [4, 20, 20];
                l.output = [8, 4, 4];
            }),
            "kernel",
            "17x17 is larger than the chip's 16x16",
        ),
        (
            Box::new(|l| l.stride = [3, 3]),
            "stride",
            "[3, 3]: each stride must be one of [1, 2, 4, 8]",
        ),
        (Box::new(|l| l.padding = [8, 8]), "padding", "at most 7"),
        (Box::new(|l| l.pooling = vec![[3, 3]]), "pooling[0]", "3x3"),
        (Box::new(|l| l.pooling = vec![[1, 1], [2, 4]]), "pooling[1]", "2x4"),
        (
            Box::new(|l| l.destinations = vec![0, 0, 0]),
            "destinations",
            "3 destinations",
        ),
        (
            Box::new(|l| l.destinations = vec![5]),
            "destinations",
            "5 is not another layer",
        ),
        (Box::new(|l| l.neuron = "lif".into()), "neuron", "`lif`"),
        (
            Box::new(|l| l.kernel = [8, 3, 3, 3]),
            "kernel",
            "3 input channels, but the input has 4",
        ),
        (
            Box::new(|l| l.kernel = [2000, 4, 3, 3]),
            "kernel",
            "2000 output channels",
        ),
        (Box::new(|l| l.output = [8, 15, 16]), "output", "give [8, 16, 16]"),
        (Box::new(|l| l.input = [4, 0, 16]), "input", "must be > 0"),
        (
            Box::new(|l| {
                l.kernel = [8, 4, 9, 9];
                l.padding = [0, 0];
                l.input = [4, 4, 4];
            }),
            "kernel",
            "does not fit the padded input",
        ),
    ];
    for (edit, field, text) in cases {
        let e = broken(edit);
        assert_eq!((e.index, e.name.as_str(), e.field.as_str()), (1, "conv2", field), "{e}");
        assert!(
            e.to_string().starts_with(&format!("layer 1 (`conv2`): {field}: ")),
            "{e}"
        );
        assert!(e.to_string().contains(text), "{e}");
    }
}

proptest! {
    /// Any shapes at all: a result, never a panic (memory saturates).
    #[test]
    fn no_panic_on_any_shapes(
        input in proptest::array::uniform3(any::<u32>()),
        kernel in proptest::array::uniform4(any::<u32>()),
        stride in proptest::array::uniform2(0u32..10),
        padding in proptest::array::uniform2(any::<u32>()),
        output in proptest::array::uniform3(any::<u32>()),
    ) {
        let l = Layer { input, kernel, stride, padding, output, ..good("x") };
        let _ = place(&chip(), std::slice::from_ref(&l));
        let _ = Memory::of(&l);
        let _ = l.conv_output();
    }
}
