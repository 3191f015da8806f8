//! Writing a [`Net`] in the form [`Net::from_lava_json`] reads (Lava's
//! process arguments, `tests/fixtures/lava/NAME.json`), so a compiled
//! network can be emulated (`nmc emulate NET.json --target loihi2`) or
//! rebuilt in Lava.

use serde_json::{Value, json};

use crate::net::{ActMode, Kind, Net, SignMode};

impl Net {
    /// The network as Lava-fixture JSON: every process with all its
    /// arguments spelled out, then the connections by name.
    pub fn to_lava_json(&self) -> String {
        let procs: Vec<Value> = self
            .processes()
            .iter()
            .map(|p| process_json(&p.name, &p.kind))
            .collect();
        let conns: Vec<Value> = self
            .connections()
            .iter()
            .map(|&(s, d)| json!([self.processes()[s].name, self.processes()[d].name]))
            .collect();
        let v = json!({
            "what": "a Loihi 2 network written by nmc (Lava 0.10 process arguments; docs/loihi2.md)",
            "processes": procs,
            "connections": conns,
        });
        let mut s = serde_json::to_string_pretty(&v).unwrap_or_default();
        s.push('\n');
        s
    }

    /// Writes [`Net::to_lava_json`] to `path`.
    pub fn write_lava_json(&self, path: &std::path::Path) -> std::io::Result<()> {
        std::fs::write(path, self.to_lava_json())
    }
}

fn process_json(name: &str, kind: &Kind) -> Value {
    match kind {
        Kind::Source(n) => json!({"name": name, "kind": "source", "shape": [n]}),
        Kind::Dense(c) | Kind::Sparse(c) => {
            let rows: Vec<&[i64]> = c.weights.chunks(c.inputs.max(1)).collect();
            let mode = match c.sign_mode {
                SignMode::Auto => "auto",
                SignMode::Mixed => "MIXED",
                SignMode::Excitatory => "EXCITATORY",
                SignMode::Inhibitory => "INHIBITORY",
            };
            json!({
                "name": name, "kind": kind.name(), "shape": [c.outputs, c.inputs],
                "weights": rows, "weight_exp": c.weight_exp, "num_weight_bits": c.num_weight_bits,
                "sign_mode": mode, "num_message_bits": c.num_message_bits,
            })
        }
        Kind::Lif(l) => json!({
            "name": name, "kind": "lif", "shape": [l.neurons], "du": l.du, "dv": l.dv, "vth": l.vth,
            "bias_mant": l.bias_mant, "bias_exp": l.bias_exp,
        }),
        Kind::Delta(s) | Kind::SigmaDelta(s) => {
            let mut v = json!({
                "name": name, "kind": kind.name(), "shape": [s.neurons], "vth": s.vth,
                "spike_exp": s.spike_exp, "state_exp": s.state_exp, "cum_error": s.cum_error,
                "act_mode": if s.act_mode == ActMode::Relu { "RELU" } else { "UNIT" },
            });
            if let (Kind::SigmaDelta(_), Some(o)) = (kind, v.as_object_mut()) {
                o.insert("bias".into(), json!(s.bias));
            }
            v
        }
    }
}
