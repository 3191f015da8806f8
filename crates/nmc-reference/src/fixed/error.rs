//! Errors of the fixed-point reference.

use crate::error::SimError;
use nmc_ir::qmodel::QModelError;
use nmc_trace::OverflowEvent;

/// Everything that can stop [`crate::fixed::simulate_fixed`].
#[derive(Debug, thiserror::Error)]
pub enum FixedError {
    /// The model fails [`nmc_ir::qmodel::QModel::check`].
    #[error("quantized model is malformed: {0}")]
    Model(#[from] QModelError),
    /// The model was quantized for another target.
    #[error("quantized model `{model}` is for target `{model_target}`, but the target given is `{target}`")]
    TargetMismatch {
        /// Model name.
        model: String,
        /// The target named in the model.
        model_target: String,
        /// The target given.
        target: String,
    },
    /// A parameter is outside the target's formats, or a connection breaks a
    /// timing or encoding rule.
    #[error("population `{population}`: {field}: {message}")]
    Parameter {
        /// Population name (`<model>` for model-level fields).
        population: String,
        /// Field path, e.g. `compartment.decay_u[3]` or `inputs[0].weights.mant[17]`.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// The stimulus does not fit the model (shape, batch, finiteness).
    #[error(transparent)]
    Stimulus(#[from] SimError),
    /// The model has more than one input (the fixed reference takes one stimulus).
    #[error("quantized model `{model}` has {inputs} inputs; the fixed-point reference drives at most one")]
    InputCount {
        /// Model name.
        model: String,
        /// Number of inputs.
        inputs: usize,
    },
    /// An `Events` input value that is not a non-negative integer at most
    /// [`nmc_core::input::MAX_EVENTS`].
    #[error(
        "input `{input}` is event-encoded, but its value at batch {batch}, step {step}, feature {feature} is {value}; \
         event counts must be non-negative integers at most {max}. Real values (pixels) need a host encoder: \
         a leading 1×1 conv + neuron layer, a layer with node metadata placement = \"host\" (nengo-loihi's \
         on_chip=False), or `--encoder onoff`",
        max = nmc_core::input::MAX_EVENTS
    )]
    NotAnEventCount {
        /// Input name.
        input: String,
        /// Sample.
        batch: usize,
        /// Time index of the stimulus.
        step: usize,
        /// Feature index.
        feature: usize,
        /// The value.
        value: f64,
    },
    /// The probe names a population, neuron or batch item that does not exist.
    #[error("probe: {0}")]
    Probe(String),
    /// A run of zero steps.
    #[error("{0}")]
    Empty(String),
    /// Strict mode: a register wrapped or clipped. This is the earliest such
    /// event (smallest step, then batch item, population, neuron, register
    /// in step order): the trace's [`nmc_trace::Trace::first_overflow`] of
    /// the same run without `strict`.
    #[error("{0}")]
    Overflow(OverflowEvent),
}

/// A [`FixedError::Parameter`] naming `population` and `field`.
pub(crate) fn param_err(population: &str, field: impl Into<String>, message: impl Into<String>) -> FixedError {
    FixedError::Parameter {
        population: population.to_string(),
        field: field.into(),
        message: message.into(),
    }
}
