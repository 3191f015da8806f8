//! Float linear maps between a source and a destination population: dense
//! matrices, 2-d convolutions and compressed sparse rows, and the exact
//! composition of chains of linear ops into one sparse map.

use nmc_ir::PoolKind;

/// Geometry of a 2-d convolution `[C_in, H, W] → [C_out, H', W']`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConvGeom {
    pub in_shape: [usize; 3],
    pub out_shape: [usize; 3],
    pub kernel: [usize; 2],
    pub stride: [usize; 2],
    pub padding: [usize; 2],
    pub dilation: [usize; 2],
    pub groups: usize,
}

impl ConvGeom {
    /// Weights per output channel: `C_in/groups · kh · kw`.
    pub fn per_channel(&self) -> usize {
        self.in_shape[0] / self.groups.max(1) * self.kernel[0] * self.kernel[1]
    }
    /// Destination neurons per output channel.
    pub fn plane(&self) -> usize {
        self.out_shape[1] * self.out_shape[2]
    }
}

/// Compressed sparse rows over destinations.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Csr {
    pub out: usize,
    pub inp: usize,
    pub row_ptr: Vec<usize>,
    pub col: Vec<u32>,
    pub val: Vec<f64>,
}

/// Column index as stored (sizes are checked against `u32` by the caller).
fn c32(i: usize) -> u32 {
    u32::try_from(i).unwrap_or(u32::MAX)
}

impl Csr {
    fn with_rows(out: usize, inp: usize) -> Csr {
        let mut row_ptr = Vec::with_capacity(out + 1);
        row_ptr.push(0);
        Csr {
            out,
            inp,
            row_ptr,
            col: Vec::new(),
            val: Vec::new(),
        }
    }

    fn end_row(&mut self) {
        self.row_ptr.push(self.col.len());
    }

    /// `diag(v)`.
    pub fn diag(v: &[f64]) -> Csr {
        let mut m = Csr::with_rows(v.len(), v.len());
        for (i, &x) in v.iter().enumerate() {
            if x != 0.0 {
                m.col.push(c32(i));
                m.val.push(x);
            }
            m.end_row();
        }
        m
    }

    /// A dense `[out, inp]` row-major matrix (zeros dropped).
    pub fn from_dense(out: usize, inp: usize, w: &[f64]) -> Csr {
        let mut m = Csr::with_rows(out, inp);
        for d in 0..out {
            for (j, &x) in w[d * inp..(d + 1) * inp].iter().enumerate() {
                if x != 0.0 {
                    m.col.push(c32(j));
                    m.val.push(x);
                }
            }
            m.end_row();
        }
        m
    }

    /// A 2-d convolution as a matrix (zero padding, zeros dropped).
    pub fn from_conv(g: &ConvGeom, w: &[f64]) -> Csr {
        let [ci, h, wd] = g.in_shape;
        let [co, oh, ow] = g.out_shape;
        let groups = g.groups.max(1);
        let (cig, cog) = (ci / groups, co / groups);
        let [kh, kw] = g.kernel;
        let mut m = Csr::with_rows(co * oh * ow, ci * h * wd);
        for o in 0..co {
            let grp = o / cog.max(1);
            for oy in 0..oh {
                for ox in 0..ow {
                    for c in 0..cig {
                        let ic = grp * cig + c;
                        for ky in 0..kh {
                            let iy = (oy * g.stride[0] + ky * g.dilation[0]) as isize - g.padding[0] as isize;
                            if iy < 0 || iy >= h as isize {
                                continue;
                            }
                            for kx in 0..kw {
                                let ix = (ox * g.stride[1] + kx * g.dilation[1]) as isize - g.padding[1] as isize;
                                if ix < 0 || ix >= wd as isize {
                                    continue;
                                }
                                let x = w[((o * cig + c) * kh + ky) * kw + kx];
                                if x != 0.0 {
                                    m.col.push(c32((ic * h + iy as usize) * wd + ix as usize));
                                    m.val.push(x);
                                }
                            }
                        }
                    }
                    m.end_row();
                }
            }
        }
        m
    }

    /// 2-d sum or average pooling over `[C, H, W]` (zero padding).
    pub fn from_pool(
        in_shape: [usize; 3],
        kind: PoolKind,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
    ) -> Csr {
        let [c, h, w] = in_shape;
        let out_len = |len: usize, i: usize| (len + 2 * padding[i]).saturating_sub(kernel[i]) / stride[i].max(1) + 1;
        let (oh, ow) = (out_len(h, 0), out_len(w, 1));
        let v = match kind {
            PoolKind::Sum => 1.0,
            PoolKind::Avg => 1.0 / (kernel[0] * kernel[1]) as f64,
        };
        let mut m = Csr::with_rows(c * oh * ow, c * h * w);
        for ch in 0..c {
            for oy in 0..oh {
                for ox in 0..ow {
                    for ky in 0..kernel[0] {
                        let iy = (oy * stride[0] + ky) as isize - padding[0] as isize;
                        if iy < 0 || iy >= h as isize {
                            continue;
                        }
                        for kx in 0..kernel[1] {
                            let ix = (ox * stride[1] + kx) as isize - padding[1] as isize;
                            if ix < 0 || ix >= w as isize {
                                continue;
                            }
                            m.col.push(c32((ch * h + iy as usize) * w + ix as usize));
                            m.val.push(v);
                        }
                    }
                    m.end_row();
                }
            }
        }
        m
    }

    /// `self · first`: apply `first`, then `self`. Exact zeros (cancellations)
    /// are dropped; columns of each row are sorted.
    pub fn after(&self, first: &Csr) -> Csr {
        let n = first.inp;
        let mut m = Csr::with_rows(self.out, n);
        let mut acc = vec![0.0f64; n];
        let mut seen = vec![false; n];
        let mut touched: Vec<u32> = Vec::new();
        for d in 0..self.out {
            for e in self.row_ptr[d]..self.row_ptr[d + 1] {
                let (j, a) = (self.col[e] as usize, self.val[e]);
                for f in first.row_ptr[j]..first.row_ptr[j + 1] {
                    let l = first.col[f] as usize;
                    if !seen[l] {
                        seen[l] = true;
                        touched.push(first.col[f]);
                    }
                    acc[l] += a * first.val[f];
                }
            }
            touched.sort_unstable();
            for &l in &touched {
                let l = l as usize;
                if acc[l] != 0.0 {
                    m.col.push(c32(l));
                    m.val.push(acc[l]);
                }
                acc[l] = 0.0;
                seen[l] = false;
            }
            touched.clear();
            m.end_row();
        }
        m
    }

    /// Multiplies row `d` by `gain[d]`.
    pub fn scale_rows(&mut self, gain: &[f64]) {
        let Csr { row_ptr, val, .. } = self;
        for (w, g) in row_ptr.windows(2).zip(gain) {
            val[w[0]..w[1]].iter_mut().for_each(|v| *v *= g);
        }
    }

    /// `y = M·x`.
    pub fn apply(&self, x: &[f64]) -> Vec<f64> {
        (0..self.out)
            .map(|d| {
                (self.row_ptr[d]..self.row_ptr[d + 1])
                    .map(|e| self.val[e] * x[self.col[e] as usize])
                    .sum()
            })
            .collect()
    }
}

/// A float linear map from a source's elements to a population's neurons.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum LinMap {
    /// `[out, inp]` row-major.
    Dense { out: usize, inp: usize, w: Vec<f64> },
    /// Convolution with `[C_out, C_in/groups, kh, kw]` weights.
    Conv { geom: ConvGeom, w: Vec<f64> },
    /// Anything else.
    Sparse(Csr),
}

impl LinMap {
    /// The stored values.
    pub fn values(&self) -> &[f64] {
        match self {
            LinMap::Dense { w, .. } | LinMap::Conv { w, .. } => w,
            LinMap::Sparse(c) => &c.val,
        }
    }

    /// The stored values, mutable.
    pub fn values_mut(&mut self) -> &mut [f64] {
        match self {
            LinMap::Dense { w, .. } | LinMap::Conv { w, .. } => w,
            LinMap::Sparse(c) => &mut c.val,
        }
    }

    /// (destinations, sources).
    pub fn dims(&self) -> (usize, usize) {
        match self {
            LinMap::Dense { out, inp, .. } => (*out, *inp),
            LinMap::Conv { geom, .. } => (geom.out_shape.iter().product(), geom.in_shape.iter().product()),
            LinMap::Sparse(c) => (c.out, c.inp),
        }
    }

    /// Short name of the layout.
    pub fn kind(&self) -> &'static str {
        match self {
            LinMap::Dense { .. } => "dense",
            LinMap::Conv { .. } => "conv2d",
            LinMap::Sparse(_) => "sparse",
        }
    }

    /// Multiplies the row of every destination `d` by `gain[d]`. A
    /// convolution stays a convolution when the gain is uniform within each
    /// output channel, and becomes sparse otherwise.
    pub fn scale_rows(&mut self, gain: &[f64]) {
        match self {
            LinMap::Dense { inp, w, .. } => {
                for (i, x) in w.iter_mut().enumerate() {
                    *x *= gain[i / (*inp).max(1)];
                }
            }
            LinMap::Sparse(c) => c.scale_rows(gain),
            LinMap::Conv { geom, w } => {
                let plane = geom.plane();
                let per = geom.per_channel();
                let uniform = (0..geom.out_shape[0]).all(|o| {
                    let g0 = gain[o * plane];
                    gain[o * plane..(o + 1) * plane].iter().all(|&g| g == g0)
                });
                if uniform {
                    for (i, x) in w.iter_mut().enumerate() {
                        *x *= gain[(i / per.max(1)) * plane];
                    }
                } else {
                    let mut c = Csr::from_conv(geom, w);
                    c.scale_rows(gain);
                    *self = LinMap::Sparse(c);
                }
            }
        }
    }

    /// The values of destination `d`'s row (a convolution: its channel's kernel).
    pub fn row_values(&self, d: usize) -> Vec<f64> {
        match self {
            LinMap::Dense { inp, w, .. } => w[d * inp..(d + 1) * inp].to_vec(),
            LinMap::Sparse(c) => c.val[c.row_ptr[d]..c.row_ptr[d + 1]].to_vec(),
            LinMap::Conv { geom, w } => {
                let per = geom.per_channel();
                let o = d / geom.plane().max(1);
                w[o * per..(o + 1) * per].to_vec()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conv_matrix_matches_direct_sum() {
        // 1 input channel 3×3, 2 output channels, 2×2 kernel, padding 1, stride 2.
        let g = ConvGeom {
            in_shape: [1, 3, 3],
            out_shape: [2, 2, 2],
            kernel: [2, 2],
            stride: [2, 2],
            padding: [1, 1],
            dilation: [1, 1],
            groups: 1,
        };
        let w: Vec<f64> = (1..=8).map(f64::from).collect();
        let m = Csr::from_conv(&g, &w);
        let x: Vec<f64> = (0..9).map(|i| f64::from(i) + 1.0).collect();
        let y = m.apply(&x);
        // out[0,0,0] sees only x[0,0] (=1) through w[0,0,1,1] (=4).
        assert_eq!(y[0], 4.0);
        // out[1,1,1] sees x[1,1]=5, x[1,2]=6, x[2,1]=8, x[2,2]=9 through w[1] = 5,6,7,8.
        assert_eq!(y[7], 5.0 * 5.0 + 6.0 * 6.0 + 7.0 * 8.0 + 8.0 * 9.0);
    }

    #[test]
    fn composition_is_exact() {
        let pool = Csr::from_pool([1, 2, 2], PoolKind::Sum, [2, 2], [2, 2], [0, 0]);
        let dense = Csr::from_dense(2, 1, &[2.0, -3.0]);
        let m = dense.after(&pool);
        assert_eq!(m.apply(&[1.0, 2.0, 3.0, 4.0]), vec![20.0, -30.0]);
        assert_eq!(m.col.len(), 8);
    }
}
