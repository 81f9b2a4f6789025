//! The inner loops of our operators: plain safe Rust written so the compiler vectorises it,
//! built twice on x86-64 (the baseline SSE2 build, and an AVX2 + FMA build chosen at run
//! time when the CPU has them) because the crate is compiled for the x86-64 baseline, where
//! the loops would use 4-lane vectors and no fused multiply-add.
//!
//! A 3x3 convolution copies each input plane once into a zero-bordered buffer ([`Padded`])
//! laid out so that a whole output plane is one loop of vectors with nine shifted reads, no
//! edge cases and no per-row loop (SFace's deep planes are 14 or 7 pixels wide). For stride
//! 2 the copy also splits even and odd rows and columns, which turns the strided reads into
//! contiguous ones. The bias, the activation and the 2x2 max pool are applied on the way out.

use zeroize::Zeroizing;

/// Vector width the row buffers are rounded to (8 f32 = one AVX register).
const LANES: usize = 8;

/// What follows a convolution, applied to each output row while it is in cache.
#[derive(Debug, Clone, Copy)]
pub enum Activation<'a> {
    Linear,
    Relu,
    /// PReLU, one slope per output channel.
    Prelu(&'a [f32]),
}

/// One image through a 3x3 convolution with padding 1 (see [`conv3x3_image`]).
#[derive(Debug, Clone, Copy)]
pub struct ConvImage<'a> {
    /// `cin` planes of `h x w`.
    pub input: &'a [f32],
    pub cin: usize,
    pub h: usize,
    pub w: usize,
    /// 1 or 2.
    pub stride: usize,
    /// A 2x2 max pool with stride 2 after the activation (stride 1 only).
    pub pool: bool,
    /// Output channel `c` reads input channel `c` alone; otherwise all input channels.
    pub depthwise: bool,
    /// One kernel per (output channel, input plane it reads), output channel major.
    pub kernels: &'a [[f32; 9]],
    /// One per output channel.
    pub bias: &'a [f32],
    pub act: Activation<'a>,
}

impl ConvImage<'_> {
    pub fn cout(&self) -> usize {
        self.bias.len()
    }

    /// Input planes each output channel reads.
    fn per_output(&self) -> usize {
        if self.depthwise {
            1
        } else {
            self.cin
        }
    }

    /// Size of the convolution's output before the pool.
    fn conv_hw(&self) -> (usize, usize) {
        if self.stride == 2 {
            (self.h.div_ceil(2), self.w.div_ceil(2))
        } else {
            (self.h, self.w)
        }
    }

    /// Size of each output plane.
    pub fn output_hw(&self) -> (usize, usize) {
        let (ch, cw) = self.conv_hw();
        if self.pool {
            (ch / 2, cw / 2)
        } else {
            (ch, cw)
        }
    }

    /// Whether the slices hold what the sizes say; checked before any loop runs.
    fn fits(&self, out: &[f32]) -> bool {
        let (oh, ow) = self.output_hw();
        let slopes_ok = match self.act {
            Activation::Prelu(s) => s.len() == self.cout(),
            _ => true,
        };
        let stride_ok = if self.pool {
            self.stride == 1
        } else {
            matches!(self.stride, 1 | 2)
        };
        stride_ok
            && (!self.depthwise || self.cin == self.cout())
            && self.input.len() == self.cin * self.h * self.w
            && self.kernels.len() == self.cout() * self.per_output()
            && out.len() == self.cout() * oh * ow
            && slopes_ok
    }
}

/// Runs the convolution of one image into `out` (`cout` planes of [`ConvImage::output_hw`])
/// with the best build this CPU supports. Returns `false`, leaving `out` untouched, when
/// the sizes do not fit together.
pub fn conv3x3_image(job: &ConvImage<'_>, out: &mut [f32]) -> bool {
    if !job.fits(out) {
        return false;
    }
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: the CPU supports AVX2 and FMA, checked just above; that is the only
        // requirement of a `target_feature` function.
        unsafe { conv3x3_image_avx2(job, out) };
        return true;
    }
    conv3x3_image_generic::<{ cfg!(target_arch = "aarch64") }>(job, out);
    true
}

/// PReLU in place on consecutive channel planes of `plane` values each.
pub fn prelu_planes(data: &mut [f32], plane: usize, slopes: &[f32]) {
    #[cfg(target_arch = "x86_64")]
    if has_avx2_fma() {
        // SAFETY: as in `conv3x3_image`.
        unsafe { prelu_planes_avx2(data, plane, slopes) };
        return;
    }
    prelu_planes_generic(data, plane, slopes);
}

#[cfg(target_arch = "x86_64")]
fn has_avx2_fma() -> bool {
    // The standard library caches the CPUID answer; this is an atomic load.
    std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma")
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn conv3x3_image_avx2(job: &ConvImage<'_>, out: &mut [f32]) {
    conv3x3_image_generic::<true>(job, out)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2,fma")]
fn prelu_planes_avx2(data: &mut [f32], plane: usize, slopes: &[f32]) {
    prelu_planes_generic(data, plane, slopes)
}

/// One multiply-add; fused (one rounding, one instruction) in the FMA build only, because
/// without the FMA feature `mul_add` is a slow library call.
#[inline(always)]
fn madd<const FMA: bool>(k: f32, x: f32, acc: f32) -> f32 {
    if FMA {
        k.mul_add(x, acc)
    } else {
        acc + k * x
    }
}

#[inline(always)]
fn prelu_planes_generic(data: &mut [f32], plane: usize, slopes: &[f32]) {
    if plane == 0 || slopes.is_empty() {
        return;
    }
    for (p, chunk) in data.chunks_exact_mut(plane).enumerate() {
        prelu_row(chunk, slopes[p % slopes.len()]);
    }
}

#[inline(always)]
fn prelu_row(row: &mut [f32], a: f32) {
    // max(v, 0) + a min(v, 0): the same value as "a v when v < 0", but every lane is
    // written. A select lets the compiler store only the negative lanes with a masked
    // store, which AMD CPUs run in microcode, ten times slower than the arithmetic.
    for v in row {
        *v = v.max(0.0) + a * v.min(0.0);
    }
}

impl Activation<'_> {
    /// The slope below zero for output channel `co`: every activation here is
    /// `max(v, 0) + slope * min(v, 0)`, with slope 1 for linear (exactly `v`) and 0 for ReLU,
    /// so the inner loop has no branch.
    #[inline(always)]
    fn negative_slope(&self, co: usize) -> f32 {
        match self {
            Activation::Linear => 1.0,
            Activation::Relu => 0.0,
            Activation::Prelu(s) => s[co],
        }
    }
}

/// The zero-bordered copies of the input planes a convolution reads, laid out so that the
/// whole output plane is one flat loop: output `(y, x)` sits at flat index `y * row + x`,
/// and each of the nine taps reads one source array at that index plus a fixed offset. The
/// last columns of each flat row are padding whose results are dropped; the few wasted lanes
/// cost far less than a loop per row on 14-pixel rows.
///
/// Stride 1: one array per plane with `row = w + 2`; input `(r, c)` is at `(r + 1, c + 1)`.
/// Stride 2: four arrays per plane with `row = ceil(w / 2) + 1`, splitting padded rows and
/// columns by parity, so the two-pixel steps become contiguous reads: padded `(pr, pc)` goes
/// to array `2 (pr % 2) + (pc % 2)` at `(pr / 2, pc / 2)`.
struct Padded {
    /// Copies of face pictures or their activations: wiped when dropped.
    data: Zeroizing<Vec<f32>>,
    row: usize,
    /// Floats per array.
    array: usize,
    arrays_per_plane: usize,
    /// Flat length of one output plane (rounded up to whole vectors).
    flat: usize,
}

impl Padded {
    fn new(job: &ConvImage<'_>, planes: usize) -> Padded {
        let (ch, cw) = job.conv_hw();
        let (row, rows, arrays_per_plane) = if job.stride == 2 {
            (cw + 1, ch + 1, 4)
        } else {
            (job.w + 2, job.h + 2, 1)
        };
        let flat = (ch * row).div_ceil(LANES) * LANES;
        // The farthest tap reads flat + row + 2 floats past the array start (stride 1: two
        // rows and two columns on); the slack keeps the last vector inside.
        let array = (rows * row).max(flat + 2 * row + 2) + LANES;
        Padded {
            data: Zeroizing::new(vec![0.0; planes * arrays_per_plane * array]),
            row,
            array,
            arrays_per_plane,
            flat,
        }
    }

    /// Copies input plane `src` (`w` wide) into slot `slot`. Only interior positions are
    /// written, so the borders stay zero however often a slot is reused.
    #[inline(always)]
    fn fill(&mut self, slot: usize, src: &[f32], w: usize) {
        let base = slot * self.arrays_per_plane * self.array;
        let (row, array) = (self.row, self.array);
        let data = &mut self.data[base..base + self.arrays_per_plane * array];
        if self.arrays_per_plane == 1 {
            for (r, line) in src.chunks_exact(w).enumerate() {
                let at = (r + 1) * row + 1;
                data[at..at + w].copy_from_slice(line);
            }
            return;
        }
        for (r, line) in src.chunks_exact(w).enumerate() {
            let pr = r + 1;
            let at = (pr / 2) * row;
            let pair = 2 * (pr % 2) * array;
            let (even, odd) = data[pair..pair + 2 * array].split_at_mut(array);
            let (e, o) = (&mut even[at..at + row], &mut odd[at..at + row]);
            // Input column c is padded column c + 1: even input columns go to the odd
            // array, odd ones to the even array one place on.
            let pairs = line.chunks_exact(2);
            if let [last] = pairs.remainder() {
                o[w / 2] = *last;
            }
            for ((o, e), two) in o.iter_mut().zip(&mut e[1..]).zip(pairs) {
                *o = two[0];
                *e = two[1];
            }
        }
    }

    /// The nine source slices (each `flat` long) of input slot `slot`: tap `3 ky + kx`
    /// reads `src[3 ky + kx][i]` for flat output index `i`.
    #[inline(always)]
    fn taps(&self, slot: usize) -> [&[f32]; 9] {
        let base = slot * self.arrays_per_plane * self.array;
        let (row, array, flat) = (self.row, self.array, self.flat);
        let at = |a: usize, offset: usize| -> &[f32] {
            let start = base + a * array + offset;
            &self.data[start..start + flat]
        };
        if self.arrays_per_plane == 1 {
            return std::array::from_fn(|t| at(0, (t / 3) * row + t % 3));
        }
        // Output (y, x) reads padded rows 2y + ky and columns 2x + kx: row parity ky % 2 at
        // row y + ky / 2, column parity kx % 2 at column x + kx / 2.
        std::array::from_fn(|t| {
            let (ky, kx) = (t / 3, t % 3);
            at(2 * (ky % 2) + kx % 2, (ky / 2) * row + kx / 2)
        })
    }
}

/// Output channels a dense convolution computes together ([`conv_four`]).
const BLOCK: usize = 4;

#[inline(always)]
fn conv3x3_image_generic<const FMA: bool>(job: &ConvImage<'_>, out: &mut [f32]) {
    let (h, w) = (job.h, job.w);
    let (oh, ow) = job.output_hw();
    if h == 0 || w == 0 || oh == 0 || ow == 0 {
        return;
    }
    let per = job.per_output();
    let plane = h * w;
    let mut pad = Padded::new(job, per);
    let flat = pad.flat;
    let mut acc = Zeroizing::new(vec![0.0f32; BLOCK * flat]);
    let out_plane = oh * ow;
    if job.depthwise {
        for (co, dst) in out.chunks_exact_mut(out_plane).enumerate() {
            pad.fill(0, &job.input[co * plane..(co + 1) * plane], w);
            let (bias, slope) = (job.bias[co], job.act.negative_slope(co));
            let kernels = &job.kernels[co..co + 1];
            conv_one::<FMA>(&mut acc[..flat], &[pad.taps(0)], kernels, bias, slope);
            emit(job, &pad, &acc[..flat], dst);
        }
        return;
    }
    for (j, src) in job.input.chunks_exact(plane).enumerate() {
        pad.fill(j, src, w);
    }
    let taps: Vec<[&[f32]; 9]> = (0..per).map(|j| pad.taps(j)).collect();
    let kernels_of = |co: usize| &job.kernels[co * per..(co + 1) * per];
    let mut co = 0;
    for dst in out.chunks_mut(BLOCK * out_plane) {
        let n = dst.len() / out_plane;
        if n == BLOCK {
            let kernels = std::array::from_fn(|b| kernels_of(co + b));
            let bias = std::array::from_fn(|b| job.bias[co + b]);
            let slopes = std::array::from_fn(|b| job.act.negative_slope(co + b));
            conv_four::<FMA>(&mut acc, &taps, kernels, bias, slopes);
        } else {
            for b in 0..n {
                let a = &mut acc[b * flat..(b + 1) * flat];
                let slope = job.act.negative_slope(co + b);
                conv_one::<FMA>(a, &taps, kernels_of(co + b), job.bias[co + b], slope);
            }
        }
        for (b, d) in dst.chunks_exact_mut(out_plane).enumerate() {
            emit(job, &pad, &acc[b * flat..(b + 1) * flat], d);
        }
        co += n;
    }
}

/// Copies one flat convolution plane to its output plane, dropping the padding columns and
/// taking the 2x2 maxima when the convolution is pooled.
#[inline(always)]
fn emit(job: &ConvImage<'_>, pad: &Padded, acc: &[f32], dst: &mut [f32]) {
    let (_, ow) = job.output_hw();
    let (_, cw) = job.conv_hw();
    let row = pad.row;
    if job.pool {
        for (y, orow) in dst.chunks_exact_mut(ow).enumerate() {
            let top = &acc[2 * y * row..2 * y * row + cw];
            let bottom = &acc[(2 * y + 1) * row..(2 * y + 1) * row + cw];
            for ((o, t), b) in orow
                .iter_mut()
                .zip(top.chunks_exact(2))
                .zip(bottom.chunks_exact(2))
            {
                *o = t[0].max(t[1]).max(b[0].max(b[1]));
            }
        }
    } else {
        for (y, orow) in dst.chunks_exact_mut(ow).enumerate() {
            orow.copy_from_slice(&acc[y * row..y * row + ow]);
        }
    }
}

/// One output channel over the flat plane: it starts at its bias, takes the nine taps of
/// every input plane (`taps[j]`, weights `kernels[j]`), then its activation, and is stored
/// in `acc`, a vector at a time: one pass, no reloading of partial sums.
#[inline(always)]
fn conv_one<const FMA: bool>(
    acc: &mut [f32],
    taps: &[[&[f32]; 9]],
    kernels: &[[f32; 9]],
    bias: f32,
    slope: f32,
) {
    let flat = acc.len();
    for x in (0..flat).step_by(LANES) {
        let mut v = [bias; LANES];
        for (src, k) in taps.iter().zip(kernels) {
            for t in 0..9 {
                let s = &src[t][x..x + LANES];
                for l in 0..LANES {
                    v[l] = madd::<FMA>(k[t], s[l], v[l]);
                }
            }
        }
        store_act(&mut acc[x..x + LANES], &v, slope);
    }
}

/// Four output channels of a dense convolution at once (`acc` holds four flat planes), so
/// that each input vector loaded feeds four multiply-adds. Written out per channel: the
/// compiler keeps four named vectors in registers where it would spill an array of them.
#[inline(always)]
fn conv_four<const FMA: bool>(
    acc: &mut [f32],
    taps: &[[&[f32]; 9]],
    kernels: [&[[f32; 9]]; 4],
    bias: [f32; 4],
    slopes: [f32; 4],
) {
    let flat = acc.len() / 4;
    let (a0, rest) = acc.split_at_mut(flat);
    let (a1, rest) = rest.split_at_mut(flat);
    let (a2, a3) = rest.split_at_mut(flat);
    let [k0, k1, k2, k3] = kernels;
    for x in (0..flat).step_by(LANES) {
        let mut v0 = [bias[0]; LANES];
        let mut v1 = [bias[1]; LANES];
        let mut v2 = [bias[2]; LANES];
        let mut v3 = [bias[3]; LANES];
        for (j, src) in taps.iter().enumerate() {
            let (k0, k1, k2, k3) = (&k0[j], &k1[j], &k2[j], &k3[j]);
            for t in 0..9 {
                let s = &src[t][x..x + LANES];
                for l in 0..LANES {
                    v0[l] = madd::<FMA>(k0[t], s[l], v0[l]);
                    v1[l] = madd::<FMA>(k1[t], s[l], v1[l]);
                    v2[l] = madd::<FMA>(k2[t], s[l], v2[l]);
                    v3[l] = madd::<FMA>(k3[t], s[l], v3[l]);
                }
            }
        }
        store_act(&mut a0[x..x + LANES], &v0, slopes[0]);
        store_act(&mut a1[x..x + LANES], &v1, slopes[1]);
        store_act(&mut a2[x..x + LANES], &v2, slopes[2]);
        store_act(&mut a3[x..x + LANES], &v3, slopes[3]);
    }
}

/// The activation `max(v, 0) + slope * min(v, 0)` on one vector, stored.
#[inline(always)]
fn store_act(dst: &mut [f32], v: &[f32; LANES], slope: f32) {
    for l in 0..LANES {
        dst[l] = v[l].max(0.0) + slope * v[l].min(0.0);
    }
}

#[cfg(test)]
#[path = "kernels_tests.rs"]
mod tests;
