//! `TFLite_Detection_PostProcess`, the custom operator that ends SSD
//! detectors, as TFLite Micro's `detection_postprocess.cc`: it decodes the
//! box encodings against the anchors, then keeps the best-scoring boxes by
//! non-maximum suppression, fast (one class per box, one suppression over
//! all classes) or regular (a suppression per class). Inputs: box encodings
//! `[1, boxes, >= 4]`, class scores `[1, boxes, classes (+ 1 background)]`
//! and constant anchors `[boxes, 4]`, all float32 (TFLite Micro takes no
//! other type); outputs, float32: boxes `[.., max_detections, 4]`, classes
//! and scores `[.., max_detections]`, and the number of detections `[1]`.
//! The options are a FlexBuffer map in the operator's custom options.
//!
//! As TFLite Micro, fast suppression writes only the detections it makes
//! (the outputs' other elements keep their bytes); regular suppression
//! zeroes the rest.

use crate::error::Error;
use crate::flexbuffer::Map;
use crate::kernels::nms::{self, Nms, Parts};
use crate::kernels::{EvalCtx, Op, Outputs, PrepareCtx, Scratch, f32_at, put_f32};
use crate::model::ElemType;

/// `TFLite_Detection_PostProcess`.
pub struct DetectionPostProcess;

/// What evaluation needs.
#[derive(Clone, Copy, Debug)]
pub struct Params {
    /// Sizes, thresholds and the kind of suppression.
    nms: Nms,
    /// Floats per box encoding (at least 4; the first 4 are used).
    stride: usize,
    /// `y_scale`, `x_scale`, `h_scale`, `w_scale`.
    scales: [f32; 4],
    /// Decoded boxes, scores, candidates and detections.
    scratch: Scratch,
}

/// The options TFLite Micro reads, as it reads them (absent keys are 0,
/// but `detections_per_class` is 100 and `use_regular_nms` false).
struct Options {
    max_detections: i32,
    max_classes_per_detection: i32,
    detections_per_class: i32,
    use_regular_nms: bool,
    score_threshold: f32,
    iou_threshold: f32,
    num_classes: i32,
    scales: [f32; 4],
}

fn options(bytes: &[u8]) -> Result<Options, Error> {
    let m = Map::root(bytes)?;
    let float = |k: &str| m.get(k).map(|v| v.as_f32());
    let per_class = m.get("detections_per_class")?;
    Ok(Options {
        max_detections: m.get("max_detections")?.as_i32(),
        max_classes_per_detection: m.get("max_classes_per_detection")?.as_i32(),
        detections_per_class: if per_class.is_null() {
            100
        } else {
            per_class.as_i32()
        },
        use_regular_nms: m.get("use_regular_nms")?.as_bool(),
        score_threshold: float("nms_score_threshold")?,
        iou_threshold: float("nms_iou_threshold")?,
        num_classes: m.get("num_classes")?.as_i32(),
        scales: [
            float("y_scale")?,
            float("x_scale")?,
            float("h_scale")?,
            float("w_scale")?,
        ],
    })
}

/// A positive count of an option, `what` when not.
fn count(ctx: &PrepareCtx<'_, '_>, v: i32, what: &'static str) -> Result<usize, Error> {
    usize::try_from(v)
        .ok()
        .filter(|&n| n > 0)
        .ok_or(ctx.invalid(what))
}

impl Op for DetectionPostProcess {
    type Params<'a> = Params;

    fn prepare<'a>(ctx: &mut PrepareCtx<'_, 'a>) -> Result<Params, Error> {
        if ctx.input_count() != 3 || ctx.output_count() != 4 {
            return Err(ctx.invalid("takes 3 inputs and gives 4 outputs"));
        }
        let bytes = ctx
            .op
            .custom_options()?
            .ok_or(ctx.invalid("custom options missing"))?;
        // A FlexBuffer that is not a map of numbers is this operator's fault.
        let o = options(bytes).map_err(|e| match e {
            Error::Malformed(what) => ctx.invalid(what),
            e => e,
        })?;
        let (boxes, scores, anchors) = (ctx.input(0)?, ctx.input(1)?, ctx.input(2)?);
        ctx.constant(2)?;
        if [boxes.dtype, scores.dtype, anchors.dtype] != [ElemType::F32; 3] {
            return Err(
                ctx.unsupported("inputs other than float32 (TFLite Micro decodes float32 only)")
            );
        }
        let (b, s) = (boxes.shape.dims(), scores.shape.dims());
        if b.len() != 3 || b[0] != 1 || b[2] < 4 {
            return Err(ctx.invalid("box encodings must be [1, boxes, 4 or more]"));
        }
        let boxes_n = b[1];
        if s.len() != 3 || s[0] != 1 || s[1] != boxes_n {
            return Err(ctx.invalid("class scores must be [1, boxes, classes]"));
        }
        if anchors.shape.dims() != [boxes_n, 4] {
            return Err(ctx.invalid("anchors must be [boxes, 4]"));
        }
        let classes = count(ctx, o.num_classes, "num_classes must be positive")?;
        let with_background = s[2];
        if with_background != classes && with_background != classes + 1 {
            return Err(ctx.invalid("class scores must have num_classes (+ 1 background) values"));
        }
        let max_detections = count(ctx, o.max_detections, "max_detections must be positive")?;
        if o.use_regular_nms {
            count(
                ctx,
                o.detections_per_class,
                "detections_per_class must be positive",
            )?;
        } else {
            let per_box = count(
                ctx,
                o.max_classes_per_detection,
                "max_classes_per_detection must be positive",
            )?;
            if per_box.min(classes) > 1 {
                // TFLite Micro writes such detections out of their place.
                return Err(ctx.unsupported("fast suppression of several classes per box"));
            }
        }
        if !(o.iou_threshold > 0.0 && o.iou_threshold <= 1.0) {
            return Err(ctx.invalid("nms_iou_threshold must be in (0, 1]"));
        }
        let four = max_detections
            .checked_mul(4)
            .ok_or(ctx.invalid("max_detections too large"))?;
        for (i, want) in [four, max_detections, max_detections, 1]
            .into_iter()
            .enumerate()
        {
            let out = ctx.output_at(i)?;
            if out.dtype != ElemType::F32 || out.shape.elements() != want {
                return Err(ctx.invalid(
                    "outputs must be float32 boxes [max_detections, 4], classes, scores and a count",
                ));
            }
        }
        let nms = Nms {
            boxes: boxes_n,
            classes,
            background: with_background - classes,
            max_detections,
            per_class: usize::try_from(o.detections_per_class).unwrap_or(0),
            regular: o.use_regular_nms,
            score_threshold: o.score_threshold,
            iou_threshold: o.iou_threshold,
        };
        let words = nms
            .scratch_words()
            .ok_or(Error::TooLarge("detection scratch memory"))?;
        Ok(Params {
            nms,
            stride: b[2],
            scales: o.scales,
            scratch: ctx.scratch(words)?,
        })
    }

    fn eval(p: &Params, ctx: &mut EvalCtx<'_>) -> Result<(), Error> {
        let n = &p.nms;
        let (boxes, scores) = (ctx.inputs.get(0)?, ctx.inputs.get(1)?);
        let anchors = ctx.inputs.get(2)?;
        let short = Error::Usage("detection input shorter than its shape");
        if boxes.data.len() < 4 * n.boxes * p.stride
            || scores.data.len() < 4 * n.boxes * (n.classes + n.background)
            || anchors.data.len() < 16 * n.boxes
        {
            return Err(short);
        }
        let work = ctx.work.get(p.scratch)?;
        let mut parts = Parts::split(n, work)?;
        for (i, out) in parts.decoded.chunks_exact_mut(4).enumerate() {
            let enc = |k: usize| f32_at(boxes.data, i * p.stride + k);
            let anchor = |k: usize| f32_at(anchors.data, 4 * i + k);
            let a = [anchor(0), anchor(1), anchor(2), anchor(3)];
            let decoded = decode([enc(0), enc(1), enc(2), enc(3)], p.scales, a);
            for (w, v) in out.iter_mut().zip(decoded) {
                *w = v.to_bits();
            }
        }
        let count = nms::run(n, scores.data, &mut parts)?;
        write(&mut ctx.outputs, p, &parts, count)
    }
}

/// Decodes a centre-size box encoding (y, x, h, w) against its anchor
/// (y, x, h, w) to corners (ymin, xmin, ymax, xmax), in double precision as
/// TFLite Micro.
fn decode(enc: [f32; 4], scales: [f32; 4], anchor: [f32; 4]) -> [f32; 4] {
    let d = |v: f32| f64::from(v);
    let centre =
        |k: usize, size: usize| (d(enc[k]) / d(scales[k]) * d(anchor[size]) + d(anchor[k])) as f32;
    let half = |k: usize| (0.5 * libm::exp(d(enc[k]) / d(scales[k])) * d(anchor[k])) as f32;
    let (y, x, h, w) = (centre(0, 2), centre(1, 3), half(2), half(3));
    [y - h, x - w, y + h, x + w]
}

/// Writes the detections to the four outputs; regular suppression zeroes
/// the elements past them.
fn write(
    outputs: &mut Outputs<'_>,
    p: &Params,
    parts: &Parts<'_>,
    count: usize,
) -> Result<(), Error> {
    let md = p.nms.max_detections;
    let rows = if p.nms.regular { md } else { count };
    for (i, width) in [(0, 4), (1, 1), (2, 1)] {
        let out = outputs.get(i)?;
        if out.data.len() < 4 * width * md || count > md {
            return Err(Error::Usage("detection output shorter than its shape"));
        }
        for r in 0..rows {
            let d = parts.detection(r, count);
            for k in 0..width {
                let v = match (i, d) {
                    (_, None) => 0.0,
                    (0, Some(d)) => f32::from_bits(parts.decoded[4 * d.index + k]),
                    (1, Some(d)) => d.class as f32,
                    (_, Some(d)) => d.score,
                };
                put_f32(out.data, r * width + k, v);
            }
        }
    }
    let out = outputs.get(3)?;
    if out.data.len() < 4 {
        return Err(Error::Usage("detection output shorter than its shape"));
    }
    put_f32(out.data, 0, count as f32);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_centre_size_to_corners() {
        let b = decode([0.0; 4], [10.0, 10.0, 5.0, 5.0], [0.5, 0.5, 0.2, 0.4]);
        for (v, want) in b.into_iter().zip([0.4, 0.3, 0.6, 0.7]) {
            assert!((v - want).abs() < 1e-6, "{b:?}");
        }
        let b = decode(
            [1.0, -1.0, 0.0, 0.0],
            [10.0, 10.0, 5.0, 5.0],
            [0.5, 0.5, 1.0, 1.0],
        );
        assert!((b[0] - 0.1).abs() < 1e-6 && (b[1] + 0.1).abs() < 1e-6);
    }
}
