#![allow(clippy::print_stderr)] // progress and reports for whoever runs the test
#![allow(clippy::unwrap_used)]
//! The HTML core map: one grid per chip, a cell per used core with its
//! layer colour and details, a legend naming every layer.
mod common;

use common::*;
use nmc_partition::{PartitionOptions, partition};

#[test]
fn html_core_map_names_layers_and_cores() {
    for (name, m, tn) in cases()
        .into_iter()
        .filter(|c| c.0 == "convnet_tiny" || c.0 == "seeds_mnist_encoder_loihi1")
    {
        let t = target(tn);
        let (pl, rep) = partition(&m, &t, &PartitionOptions::default()).unwrap();
        let html = rep.to_html();
        let out = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}.html"));
        std::fs::write(&out, &html).unwrap();
        eprintln!("wrote {}", out.display());
        assert!(html.starts_with("<!DOCTYPE html>") && html.trim_end().ends_with("</html>"));
        // One cell per used core (with its details), a free cell for every unused slot.
        assert_eq!(html.matches("<div class=\"core\" data-layer").count(), pl.cores.len());
        let chips = rep.totals.chips as usize;
        let slots = chips * t.system().cores_per_chip() as usize;
        assert_eq!(html.matches("class=\"core free\"").count(), slots - pl.cores.len());
        assert_eq!(html.matches("<div class=\"chip\">").count(), chips);
        assert!(html.contains(&format!("{} cores used", pl.cores.len())));
        assert!(html.contains("id=\"legend\""));
        for l in &m.populations {
            assert!(html.contains(&l.name), "layer {} missing", l.name);
        }
        assert!(html.contains("synapse-memory bits:"));
        assert!(html.contains("binding:"));
        // Self-contained: no external resources.
        assert!(!html.contains("src=\"http") && !html.contains("href=\"http"));
    }
}
