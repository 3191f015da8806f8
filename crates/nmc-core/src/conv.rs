//! The geometry of a 2-d convolution (cross-correlation), defined once.
//!
//! Every stage that reasons about a convolution — the IR's shape inference,
//! the quantizer's linear maps, the QModel check, both integer executions,
//! the partitioner's cost model and the emitter — uses this one type, so the
//! formula `o·stride − pad + k·dil = i` and its inverse exist in one place.
//! A 1-d convolution is the 2-d one with height 1.
//!
//! Shapes are `[C, H, W]`; weights are `[C_out, C_in/groups, kh, kw]`,
//! row-major.

/// Geometry of `[C_in, H, W] → [C_out, H', W']`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ConvGeom {
    /// Source shape `[C_in, H, W]`.
    pub in_shape: [usize; 3],
    /// Destination shape `[C_out, H', W']`.
    pub out_shape: [usize; 3],
    /// Kernel `[kh, kw]`.
    pub kernel: [usize; 2],
    /// Stride `[sh, sw]`.
    pub stride: [usize; 2],
    /// Zero padding on both sides `[ph, pw]`.
    pub padding: [usize; 2],
    /// Dilation `[dh, dw]`.
    pub dilation: [usize; 2],
    /// Groups (`C_in` and `C_out` are multiples of it).
    pub groups: usize,
}

/// Why a geometry is not a convolution.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GeomError {
    /// `groups` is 0 or does not divide both channel counts.
    Groups,
    /// A stride or a kernel extent is 0.
    ZeroSize,
    /// The (padded) input is smaller than the dilated kernel in a dimension.
    KernelLarger,
    /// The destination shape is not what the input, kernel, stride, padding
    /// and dilation give.
    OutShape,
    /// A size overflows `usize`.
    Overflow,
}

impl std::fmt::Display for GeomError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            GeomError::Groups => "groups is 0 or does not divide the input and output channel counts",
            GeomError::ZeroSize => "a stride or kernel size is 0",
            GeomError::KernelLarger => "the padded input is smaller than the dilated kernel",
            GeomError::OutShape => "the output shape does not follow from input, kernel, stride, padding and dilation",
            GeomError::Overflow => "a size overflows",
        })
    }
}

impl std::error::Error for GeomError {}

/// One spatial dimension of a convolution: input length, kernel size,
/// stride, padding and dilation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dim {
    /// Input length.
    pub din: usize,
    /// Kernel size.
    pub k: usize,
    /// Stride.
    pub s: usize,
    /// Padding (both sides).
    pub p: usize,
    /// Dilation.
    pub d: usize,
}

impl Dim {
    /// Output length `(din + 2p − (d·(k−1)+1)) / s + 1`, or `None` when
    /// the stride or kernel is 0, the dilated kernel exceeds the padded
    /// input, or a size overflows.
    pub fn out_len(&self) -> Option<usize> {
        if self.s == 0 || self.k == 0 {
            return None;
        }
        let eff = self.d.checked_mul(self.k - 1)?.checked_add(1)?;
        let padded = self.din.checked_add(self.p.checked_mul(2)?)?;
        if padded < eff {
            return None;
        }
        Some((padded - eff) / self.s + 1)
    }

    /// The input coordinate output `o` reads through tap `k`:
    /// `o·s − p + k·d`, or `None` when it falls in the padding.
    #[inline]
    pub fn input_of(&self, o: usize, k: usize) -> Option<usize> {
        let i = (o.checked_mul(self.s)?)
            .checked_add(k.checked_mul(self.d)?)?
            .checked_sub(self.p)?;
        (i < self.din).then_some(i)
    }

    /// The output coordinate `o < out` with `o·s − p + k·d = i`, if any: the
    /// output that input `i` reaches through tap `k`.
    #[inline]
    pub fn output_of(&self, i: usize, k: usize, out: usize) -> Option<usize> {
        let num = (i + self.p).checked_sub(k * self.d)?;
        if self.s == 0 || !num.is_multiple_of(self.s) {
            return None;
        }
        let o = num / self.s;
        (o < out).then_some(o)
    }
}

impl ConvGeom {
    /// The geometry with the output shape inferred from the input; checked.
    pub fn infer(
        in_shape: [usize; 3],
        c_out: usize,
        kernel: [usize; 2],
        stride: [usize; 2],
        padding: [usize; 2],
        dilation: [usize; 2],
        groups: usize,
    ) -> Result<ConvGeom, GeomError> {
        let mut g = ConvGeom {
            in_shape,
            out_shape: [c_out, 0, 0],
            kernel,
            stride,
            padding,
            dilation,
            groups,
        };
        for (i, d) in g.dims().iter().enumerate() {
            if d.s == 0 || d.k == 0 {
                return Err(GeomError::ZeroSize);
            }
            g.out_shape[i + 1] = d.out_len().ok_or(GeomError::KernelLarger)?;
        }
        g.check()?;
        Ok(g)
    }

    /// Checks that the numbers describe a convolution: groups divide the
    /// channels, strides and kernels are non-zero, and the output shape is
    /// the one the input implies.
    pub fn check(&self) -> Result<(), GeomError> {
        let g = self.groups;
        if g == 0 || !self.in_shape[0].is_multiple_of(g) || !self.out_shape[0].is_multiple_of(g) {
            return Err(GeomError::Groups);
        }
        for (i, d) in self.dims().iter().enumerate() {
            if d.s == 0 || d.k == 0 {
                return Err(GeomError::ZeroSize);
            }
            match d.out_len() {
                None => return Err(GeomError::KernelLarger),
                Some(o) if o != self.out_shape[i + 1] => return Err(GeomError::OutShape),
                Some(_) => {}
            }
        }
        self.weight_len().ok_or(GeomError::Overflow)?;
        Ok(())
    }

    /// Number of weights `C_out · C_in/groups · kh · kw` (`None` on overflow).
    pub fn weight_len(&self) -> Option<usize> {
        self.out_shape[0]
            .checked_mul(self.cig())?
            .checked_mul(self.kernel[0])?
            .checked_mul(self.kernel[1])
    }

    /// The row and column dimensions.
    pub fn dims(&self) -> [Dim; 2] {
        [0, 1].map(|i| Dim {
            din: self.in_shape[i + 1],
            k: self.kernel[i],
            s: self.stride[i],
            p: self.padding[i],
            d: self.dilation[i],
        })
    }

    /// Input channels `C_in`.
    #[inline]
    pub fn cin(&self) -> usize {
        self.in_shape[0]
    }
    /// Output channels `C_out`.
    #[inline]
    pub fn cout(&self) -> usize {
        self.out_shape[0]
    }
    /// Input channels per group.
    #[inline]
    pub fn cig(&self) -> usize {
        self.in_shape[0] / self.groups.max(1)
    }
    /// Output channels per group.
    #[inline]
    pub fn cog(&self) -> usize {
        self.out_shape[0] / self.groups.max(1)
    }
    /// Weights per output channel: `C_in/groups · kh · kw`.
    #[inline]
    pub fn per_channel(&self) -> usize {
        self.cig() * self.kernel[0] * self.kernel[1]
    }
    /// Destination neurons per output channel `H'·W'`.
    #[inline]
    pub fn plane(&self) -> usize {
        self.out_shape[1] * self.out_shape[2]
    }
    /// Source neurons per input channel `H·W`.
    #[inline]
    pub fn in_plane(&self) -> usize {
        self.in_shape[1] * self.in_shape[2]
    }
    /// Flat index of weight `[co, icg, ky, kx]`.
    #[inline]
    pub fn widx(&self, co: usize, icg: usize, ky: usize, kx: usize) -> usize {
        ((co * self.cig() + icg) * self.kernel[0] + ky) * self.kernel[1] + kx
    }
    /// Flat source index of input `(ci, y, x)`.
    #[inline]
    pub fn src(&self, ci: usize, y: usize, x: usize) -> usize {
        (ci * self.in_shape[1] + y) * self.in_shape[2] + x
    }
    /// Flat destination index of output `(co, oy, ox)`.
    #[inline]
    pub fn dst(&self, co: usize, oy: usize, ox: usize) -> usize {
        (co * self.out_shape[1] + oy) * self.out_shape[2] + ox
    }
    /// Input channels read by output channels `[c0, c1)`: whole groups.
    pub fn in_range(&self, c0: usize, c1: usize) -> (usize, usize) {
        let (cig, cog) = (self.cig(), self.cog().max(1));
        let g0 = c0 / cog;
        let g1 = (c1 - 1) / cog + 1;
        (g0 * cig, g1 * cig)
    }
    /// Output channels of `[c0, c1)` that input channel `ci` feeds.
    pub fn out_of_in(&self, ci: usize, c0: usize, c1: usize) -> (usize, usize) {
        let (cig, cog) = (self.cig().max(1), self.cog());
        let g = ci / cig;
        (c0.max(g * cog), c1.min((g + 1) * cog))
    }
    /// Output channels `[lo, hi)` fed by input channel `ci` (its group).
    pub fn outs_of_channel(&self, ci: usize) -> (usize, usize) {
        let g = ci / self.cig().max(1);
        (g * self.cog(), (g + 1) * self.cog())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(hw: usize, k: usize, s: usize, p: usize, d: usize) -> ConvGeom {
        ConvGeom::infer([4, hw, hw], 6, [k, k], [s, s], [p, p], [d, d], 2).unwrap()
    }

    #[test]
    fn output_length_follows_the_formula() {
        assert_eq!(g(8, 3, 1, 0, 1).out_shape, [6, 6, 6]);
        assert_eq!(g(8, 3, 2, 1, 1).out_shape, [6, 4, 4]);
        assert_eq!(g(8, 3, 1, 0, 2).out_shape, [6, 4, 4]);
        assert_eq!(
            ConvGeom::infer([1, 2, 2], 1, [3, 3], [1, 1], [0, 0], [1, 1], 1),
            Err(GeomError::KernelLarger)
        );
        assert_eq!(
            ConvGeom::infer([3, 8, 8], 4, [3, 3], [1, 1], [0, 0], [1, 1], 2),
            Err(GeomError::Groups)
        );
        assert_eq!(
            ConvGeom::infer([2, 8, 8], 4, [3, 3], [0, 1], [0, 0], [1, 1], 1),
            Err(GeomError::ZeroSize)
        );
    }

    #[test]
    fn input_of_and_output_of_are_inverse() {
        for geom in [g(8, 3, 1, 0, 1), g(9, 3, 2, 1, 1), g(11, 3, 2, 2, 2), g(7, 1, 3, 0, 1)] {
            let [dy, _] = geom.dims();
            let out = geom.out_shape[1];
            for o in 0..out {
                for k in 0..dy.k {
                    if let Some(i) = dy.input_of(o, k) {
                        assert_eq!(dy.output_of(i, k, out), Some(o));
                    }
                }
            }
            for i in 0..dy.din {
                for k in 0..dy.k {
                    if let Some(o) = dy.output_of(i, k, out) {
                        assert_eq!(dy.input_of(o, k), Some(i));
                    }
                }
            }
        }
    }

    #[test]
    fn a_wrong_output_shape_is_refused() {
        let mut geom = g(8, 3, 1, 0, 1);
        geom.out_shape[2] = 5;
        assert_eq!(geom.check(), Err(GeomError::OutShape));
    }

    #[test]
    fn channel_groups() {
        let geom = g(8, 3, 1, 0, 1); // 4 in, 6 out, 2 groups
        assert_eq!((geom.cig(), geom.cog()), (2, 3));
        assert_eq!(geom.in_range(0, 3), (0, 2));
        assert_eq!(geom.in_range(2, 4), (0, 4));
        assert_eq!(geom.out_of_in(3, 0, 6), (3, 6));
        assert_eq!(geom.outs_of_channel(1), (0, 3));
        assert_eq!(geom.widx(1, 1, 2, 0), ((2 + 1) * 3 + 2) * 3);
    }
}
