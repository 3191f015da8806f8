//! A record written as `.npz` reads back under the documented names.
#![allow(clippy::unwrap_used)]

use ndarray::Array2;
use nmc_xylo::npz::read_npz;
use nmc_xylo::{Chip, Config, emu};

#[test]
fn record_npz_names_and_values() {
    for (chip, isyn2) in [("xylo-audio2", true), ("xylo-imu", false)] {
        let chip = Chip::builtin(chip).unwrap();
        let mut c = Config::zeros(16, 3, 2, 1);
        c.weights_in[[0, 0, 0]] = 100;
        c.weights_rec[[0, 2, 0]] = 50;
        c.threshold.fill(40);
        c.dash_syn.fill(4); // dash 0 would clear the state before it integrates
        c.dash_mem.fill(4);
        c.threshold_out.fill(1);
        let mut input = Array2::<u32>::zeros((6, 16));
        input[[0, 0]] = 3;
        let rec = emu::run(&chip, &c, input.view(), emu::Recording::States).unwrap();
        assert!(rec.spikes_hidden.iter().any(|&x| x > 1), "multi-spike steps expected");
        let path = std::env::temp_dir().join(format!("nmc-xylo-rec-{}-{}.npz", std::process::id(), chip.name));
        rec.write_npz(&path).unwrap();
        let back = read_npz(&path).unwrap();
        let mut names: Vec<&str> = back.keys().map(String::as_str).collect();
        names.sort();
        let mut want = vec![
            "spikes.hidden",
            "spikes.output",
            "state.hidden.isyn",
            "state.hidden.vmem",
            "state.output.isyn",
            "state.output.vmem",
        ];
        if isyn2 {
            want.push("state.hidden.isyn2");
        }
        want.sort();
        assert_eq!(names, want);
        let s = rec.states.as_ref().unwrap();
        assert_eq!(back["spikes.hidden"], rec.spikes_hidden.mapv(i64::from).into_dyn());
        assert_eq!(back["state.hidden.vmem"], s.hidden_vmem.mapv(i64::from).into_dyn());
        std::fs::remove_file(&path).unwrap();
    }
}
