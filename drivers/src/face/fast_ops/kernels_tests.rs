//! Unit tests of the convolution kernels against the textbook loops (no models needed).

use super::*;

/// The textbook loops: every output pixel sums its nine taps over the planes it reads.
fn direct(job: &ConvImage<'_>) -> Vec<f32> {
    let (h, w, s) = (job.h as isize, job.w as isize, job.stride as isize);
    let (ch, cw) = ((h + s - 1) / s, (w + s - 1) / s);
    let per = job.per_output();
    let mut all = Vec::new();
    for co in 0..job.cout() {
        let mut conv = vec![0.0; (ch * cw) as usize];
        for y in 0..ch {
            for x in 0..cw {
                let mut acc = job.bias[co];
                for p in 0..per {
                    let j = if job.depthwise { co } else { p };
                    let plane = &job.input[j * (h * w) as usize..];
                    let k = &job.kernels[co * per + p];
                    for ky in -1..=1isize {
                        for kx in -1..=1isize {
                            let (iy, ix) = (y * s + ky, x * s + kx);
                            if iy >= 0 && iy < h && ix >= 0 && ix < w {
                                acc += k[((ky + 1) * 3 + kx + 1) as usize]
                                    * plane[(iy * w + ix) as usize];
                            }
                        }
                    }
                }
                conv[(y * cw + x) as usize] = match job.act {
                    Activation::Relu => acc.max(0.0),
                    Activation::Prelu(a) if acc < 0.0 => acc * a[co],
                    _ => acc,
                };
            }
        }
        if !job.pool {
            all.extend(conv);
            continue;
        }
        for y in 0..ch / 2 {
            for x in 0..cw / 2 {
                let at = |dy: isize, dx: isize| conv[((2 * y + dy) * cw + 2 * x + dx) as usize];
                all.push(at(0, 0).max(at(0, 1)).max(at(1, 0)).max(at(1, 1)));
            }
        }
    }
    all
}

fn check(h: usize, w: usize, depthwise: bool, stride: usize, pool: bool, act: &str) {
    // Six dense outputs: one block of four and two single channels.
    let (cin, cout) = if depthwise { (2, 2) } else { (3, 6) };
    let per = if depthwise { 1 } else { cin };
    let input: Vec<f32> = (0..cin * h * w)
        .map(|i| ((i * 7) as f32 * 0.37).sin())
        .collect();
    let kernels: Vec<[f32; 9]> = (0..cout * per)
        .map(|j| std::array::from_fn(|i| (i as f32 - 4.0) * 0.25 + j as f32 * 0.1))
        .collect();
    let slopes: Vec<f32> = (0..cout).map(|c| 0.25 - 0.375 * c as f32).collect();
    let bias: Vec<f32> = (0..cout).map(|c| 0.5 - 0.625 * c as f32).collect();
    let job = ConvImage {
        input: &input,
        cin,
        h,
        w,
        stride,
        pool,
        depthwise,
        kernels: &kernels,
        bias: &bias,
        act: match act {
            "relu" => Activation::Relu,
            "prelu" => Activation::Prelu(&slopes),
            _ => Activation::Linear,
        },
    };
    let want = direct(&job);
    let mut got = vec![f32::NAN; want.len()];
    assert!(conv3x3_image(&job, &mut got));
    for (i, (g, d)) in got.iter().zip(&want).enumerate() {
        assert!(
            (g - d).abs() < 1e-4,
            "{h}x{w} dw {depthwise} stride {stride} pool {pool} {act}: [{i}] {g} vs {d}"
        );
    }
}

#[test]
fn every_shape_matches_the_textbook_convolution() {
    let sizes = [
        (1, 1),
        (1, 2),
        (2, 1),
        (3, 3),
        (4, 5),
        (5, 4),
        (7, 9),
        (8, 17),
        (6, 32),
    ];
    for (h, w) in sizes {
        for depthwise in [true, false] {
            check(h, w, depthwise, 1, false, "linear");
            check(h, w, depthwise, 2, false, "prelu");
            check(h, w, depthwise, 1, true, "relu");
            check(h, w, depthwise, 1, false, "prelu");
        }
    }
}

#[test]
fn sizes_that_do_not_fit_are_refused() {
    let input = [0.0f32; 4];
    let job = ConvImage {
        input: &input,
        cin: 1,
        h: 2,
        w: 2,
        stride: 1,
        pool: false,
        depthwise: true,
        kernels: &[[0.0; 9]],
        bias: &[0.0],
        act: Activation::Linear,
    };
    assert!(!conv3x3_image(&job, &mut [0.0; 3]), "output too short");
    assert!(conv3x3_image(&job, &mut [0.0; 4]));
    let pooled_s2 = ConvImage {
        stride: 2,
        pool: true,
        ..job
    };
    assert!(!conv3x3_image(&pooled_s2, &mut [0.0; 0]));
}

#[test]
fn prelu_scales_only_negatives_per_plane() {
    let mut v = vec![-2.0, 3.0, -1.0, 4.0];
    prelu_planes(&mut v, 2, &[0.5, 2.0]);
    assert_eq!(v, vec![-1.0, 3.0, -2.0, 4.0]);
}
