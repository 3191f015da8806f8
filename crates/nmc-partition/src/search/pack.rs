//! Blocks to cores: every tile on its own core, or small blocks packed
//! into recent cores ([`assemble`]), and the output-slot check of the
//! result ([`slots_within`]).

use crate::cost::{BlockParts, slot_needs, tile_slots};
use crate::placement::{Block, LayerPlacement, Placement};
use crate::prep::Prepared;
use crate::search::score::PopCtx;
use crate::tiling::{Fail, Tiling};
use nmc_target::Target;

/// Recent cores a small block may join.
const PACK_WINDOW: usize = 16;

/// Blocks to cores: every tile on its own core, or (`pack`) small blocks
/// (at most half of every limit) joining one of the recent cores when the
/// union fits. Returns the core count, the layers and whether any block
/// joined another's core.
pub(super) fn assemble(
    prep: &Prepared<'_>,
    target: &Target,
    tilings: &[Option<Tiling>],
    needs: &[Vec<u32>],
    pack: bool,
) -> Result<(usize, Vec<LayerPlacement>, bool), (usize, Fail)> {
    let mut cores: Vec<CoreSlot> = Vec::new();
    let mut packed = false;
    let mut layers: Vec<LayerPlacement> = Vec::with_capacity(tilings.len());
    for (k, tl) in tilings.iter().enumerate() {
        let Some(tl) = tl else {
            layers.push(LayerPlacement::Host);
            continue;
        };
        let mut ctx = PopCtx::new(prep, target, k, &needs[k]);
        let mut blocks = Vec::with_capacity(tl.blocks.len());
        for (b, u) in tl.blocks.iter().zip(&tl.usage) {
            let small = pack && u.max_utilisation(target) <= 0.5;
            let mut placed = None;
            if small {
                let lo = cores.len().saturating_sub(PACK_WINDOW);
                for ci in (lo..cores.len()).rev() {
                    let core = &cores[ci];
                    let base: Vec<&BlockParts> = core.parts.iter().collect();
                    let offset = core.compartments as u32;
                    if let Ok(c) = ctx.eval(&b.tile, offset, &base, core.slots) {
                        placed = Some((ci, offset, c));
                        break;
                    }
                }
            }
            let (ci, offset, inner, modes, parts) = match placed {
                Some((ci, offset, c)) => {
                    packed = true;
                    (ci, offset, c.inner, c.modes, c.parts)
                }
                None => {
                    cores.push(CoreSlot::default());
                    let c = ctx.eval(&b.tile, 0, &[], 0).map_err(|f| (k, f))?;
                    (cores.len() - 1, 0, c.inner, c.modes, c.parts)
                }
            };
            let core = &mut cores[ci];
            core.compartments += b.tile.len();
            core.slots += tile_slots(&needs[k], prep.views[k], &b.tile);
            core.parts.push(parts);
            blocks.push(Block {
                tile: b.tile,
                core: ci as u32,
                offset,
                inner,
                modes,
            });
        }
        let v = prep.views[k];
        layers.push(LayerPlacement::Chip {
            view: [v[0] as u32, v[1] as u32, v[2] as u32],
            blocks,
        });
    }
    Ok((cores.len(), layers, packed))
}

/// Whether every core's compartments take at most the slot limit, with
/// slot needs re-derived from the placement's blocks.
pub(super) fn slots_within(prep: &Prepared<'_>, t: &Target, pl: &Placement) -> bool {
    let needs = slot_needs(prep, t, pl);
    let mut per_core = vec![0u64; pl.cores.len()];
    for (k, l) in pl.layers.iter().enumerate() {
        if let LayerPlacement::Chip { blocks, .. } = l {
            for b in blocks {
                per_core[b.core as usize] += tile_slots(&needs[k], prep.views[k], &b.tile);
            }
        }
    }
    let lim = u64::from(t.core().max_output_axon_slots());
    per_core.iter().all(|&s| s <= lim)
}

#[derive(Default)]
struct CoreSlot {
    compartments: u64,
    slots: u64,
    parts: Vec<BlockParts>,
}
