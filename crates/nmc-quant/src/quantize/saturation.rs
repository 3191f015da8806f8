//! The saturation phase of one population: worst-case accumulator,
//! current and voltage against the target's registers, the inputs that
//! stay safe, and the overflow warning.

use super::scaled::Scaled;
use super::{Ctx, warn};
use crate::choose::g4;
use crate::lower::{PopLowered, SrcRef};
use crate::report::{Saturation, Warning};
use nmc_ir::qmodel::InputEncoding;

/// The worst case of population `p` at its chosen integers; warns when it
/// can overflow.
pub(super) fn saturation(ctx: &Ctx<'_>, p: &PopLowered, sc: &Scaled, warnings: &mut Vec<Warning>) -> Saturation {
    let f = ctx.target.formats();
    let spiking = p.neuron.model.spikes();
    let s = sc.s;
    let vmax = sc.volt.vmax;
    let acc = f.accumulator();
    let cur = f.current();
    let q_worst = s * sc.bnd.q_worst;
    let bias_int_max = sc
        .bias
        .mant
        .iter()
        .zip(&sc.bias.exp)
        .map(|(&m, &e)| (i64::from(m) << e).abs())
        .max()
        .unwrap_or(0) as f64;
    let u_worst = q_worst * sc.u_gain_max + bias_int_max;
    let v_worst = if spiking {
        f64::from(sc.th.vth.iter().copied().max().unwrap_or(0)) * sc.th.ts + u_worst
    } else {
        sc.v_gain_max.map(|gm| u_worst * gm).unwrap_or(f64::INFINITY)
    };
    let overflow = q_worst > acc.max() as f64 || u_worst > cur.max() as f64 || v_worst > vmax as f64;
    let mut row: Vec<f64> = sc
        .conns
        .iter()
        .flat_map(|c| c.map.row_values(sc.bnd.worst_row).into_iter().map(|x| x * c.event_max))
        .collect();
    let pos_heavy = row.iter().filter(|&&x| x > 0.0).sum::<f64>() >= -row.iter().filter(|&&x| x < 0.0).sum::<f64>();
    row.retain(|&x| if pos_heavy { x > 0.0 } else { x < 0.0 });
    row.sort_by(|a, b| b.abs().total_cmp(&a.abs()));
    let fan_in_same_sign = row.len();
    let events_to_overflow = (q_worst > acc.max() as f64).then(|| {
        let mut sum = 0.0;
        let mut k = 0;
        for x in &row {
            sum += s * x.abs();
            k += 1;
            if sum > acc.max() as f64 {
                break;
            }
        }
        k
    });
    let reads_real = sc
        .meta
        .iter()
        .any(|m| matches!(m.src, SrcRef::Input(i) if matches!(ctx.encodings[i], InputEncoding::Real { .. })));
    let reads_events = sc
        .meta
        .iter()
        .any(|m| matches!(m.src, SrcRef::Input(i) if ctx.encodings[i] == InputEncoding::Events));
    // In input units: |x| for a real input, the count for events.
    let safe_input = ((reads_real || reads_events) && q_worst > 0.0).then(|| {
        let per = if reads_real {
            1.0
        } else {
            f64::from(ctx.opts.max_input_events)
        };
        per * acc.max() as f64 / q_worst
    });
    let sat = Saturation {
        accumulator_worst: q_worst,
        accumulator_max: acc.max(),
        current_worst: u_worst,
        current_max: cur.max(),
        voltage_worst: v_worst,
        voltage_max: vmax,
        overflow_possible: overflow,
        events_to_overflow,
        fan_in_same_sign,
        safe_input,
        input_real: reads_real,
    };
    if overflow {
        overflow_warning(ctx, p, &sat, sc.bnd.worst_row, warnings);
    }
    sat
}

/// The warning for a worst case that can overflow: which register, and
/// the inputs that stay safe.
fn overflow_warning(ctx: &Ctx<'_>, p: &PopLowered, sat: &Saturation, worst_row: usize, warnings: &mut Vec<Warning>) {
    let f = ctx.target.formats();
    let acc = f.accumulator();
    let cur = f.current();
    let q_worst = sat.accumulator_worst;
    let u_worst = sat.current_worst;
    let v_worst = sat.voltage_worst;
    let vmax = sat.voltage_max;
    let what = if q_worst > acc.max() as f64 {
        match sat.events_to_overflow {
            Some(e) => format!(
                "worst-case |q| = {} exceeds the accumulator (±2^{}, {:?}); it needs ≥ {e} of the {} \
                 same-sign inputs of neuron {} active in one step",
                g4(q_worst.round()),
                acc.magnitude_bits(),
                acc.overflow(),
                sat.fan_in_same_sign,
                worst_row
            ),
            None => format!("worst-case |q| = {} exceeds the accumulator", g4(q_worst.round())),
        }
    } else if u_worst > cur.max() as f64 {
        format!(
            "worst-case |u + bias| = {} exceeds the current register (±2^{}, {:?})",
            g4(u_worst.round()),
            cur.magnitude_bits(),
            cur.overflow()
        )
    } else {
        format!(
            "worst-case voltage {} exceeds vmax = {vmax} (clipped)",
            g4(v_worst.round())
        )
    };
    let extra = match sat.safe_input {
        Some(x) if sat.input_real => format!("; the real input is safe for |x| ≤ {}", g4(x)),
        Some(x) => format!("; event counts up to {} per input are safe", g4(x)),
        None => String::new(),
    };
    warn(
        warnings,
        &p.name,
        "saturation",
        format!("{what}{extra} (a smaller scale would cost weight or threshold precision)"),
    );
}
