//! Non-maximum suppression of `TFLite_Detection_PostProcess`
//! (`detection_postprocess.rs`), as TFLite Micro's: candidates at or above
//! the score threshold, best first (ties: the lower box first), each kept
//! unless a kept one overlaps it by more than the IoU threshold.
//!
//! Its working memory is the operator's scratch, in 32-bit words (floats
//! as their bits): the decoded boxes, one score per box, the candidates,
//! and two lists of detections, the best so far and the next.

use core::cmp::Ordering;

use crate::error::Error;
use crate::kernels::f32_at;

/// Marks a candidate that a kept box suppressed.
const SUPPRESSED: u32 = u32::MAX;

/// Words per detection: score (bits), box, class.
const ENTRY: usize = 3;

/// Sizes, thresholds and kind of a suppression.
#[derive(Clone, Copy, Debug)]
pub struct Nms {
    /// Boxes (anchors).
    pub boxes: usize,
    /// Classes, background excluded.
    pub classes: usize,
    /// 1 when class scores start with a background class, else 0.
    pub background: usize,
    /// Detections given at most.
    pub max_detections: usize,
    /// Detections per class at most (regular suppression).
    pub per_class: usize,
    /// Regular (per class) suppression, else fast.
    pub regular: bool,
    /// Lowest score of a candidate.
    pub score_threshold: f32,
    /// Overlap above which a candidate is suppressed.
    pub iou_threshold: f32,
}

impl Nms {
    /// Words of working memory needed; `None` when too many.
    pub fn scratch_words(&self) -> Option<usize> {
        let per_box = self.boxes.checked_mul(6)?;
        let found = self.max_detections.checked_mul(2 * ENTRY)?;
        per_box.checked_add(found)
    }
}

/// A detection: a box, its class and its score.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Detection {
    /// The box.
    pub index: usize,
    /// The class, background excluded.
    pub class: usize,
    /// The score.
    pub score: f32,
}

/// The working memory, in parts.
pub struct Parts<'w> {
    /// Decoded boxes (ymin, xmin, ymax, xmax), 4 words per box.
    pub decoded: &'w mut [u32],
    /// One score per box.
    scores: &'w mut [u32],
    /// Candidates, then the boxes kept.
    kept: &'w mut [u32],
    /// The detections so far, and room for the next list.
    found: &'w mut [u32],
    next: &'w mut [u32],
}

impl<'w> Parts<'w> {
    /// Splits `work`, [`Nms::scratch_words`] words.
    pub fn split(n: &Nms, work: &'w mut [u32]) -> Result<Self, Error> {
        let bad = Error::Usage("detection scratch memory");
        let (decoded, rest) = work.split_at_mut_checked(4 * n.boxes).ok_or(bad)?;
        let (scores, rest) = rest.split_at_mut_checked(n.boxes).ok_or(bad)?;
        let (kept, rest) = rest.split_at_mut_checked(n.boxes).ok_or(bad)?;
        let (found, next) = rest
            .split_at_mut_checked(ENTRY * n.max_detections)
            .ok_or(bad)?;
        Ok(Self {
            decoded,
            scores,
            kept,
            found,
            next,
        })
    }

    /// Detection `r` of the `count` found.
    pub fn detection(&self, r: usize, count: usize) -> Option<Detection> {
        let e = self
            .found
            .get(ENTRY * r..ENTRY * (r + 1))
            .filter(|_| r < count)?;
        Some(Detection {
            score: f32::from_bits(e[0]),
            index: e[1] as usize,
            class: e[2] as usize,
        })
    }

    fn score(&self, i: u32) -> f32 {
        f32::from_bits(self.scores[i as usize])
    }

    fn corners(&self, i: u32) -> [f32; 4] {
        let b = &self.decoded[4 * i as usize..4 * i as usize + 4];
        [b[0], b[1], b[2], b[3]].map(f32::from_bits)
    }
}

/// TFLite Micro's `std::max<float>`: `a` unless `a < b` (NaN as it does).
fn max(a: f32, b: f32) -> f32 {
    if a < b { b } else { a }
}

/// TFLite Micro's `std::min<float>`: `a` unless `b < a`.
fn min(a: f32, b: f32) -> f32 {
    if b < a { b } else { a }
}

/// Intersection over union of two boxes (0 when either has no area).
fn iou(a: [f32; 4], b: [f32; 4]) -> f32 {
    let area = |c: [f32; 4]| (c[2] - c[0]) * (c[3] - c[1]);
    let (area_a, area_b) = (area(a), area(b));
    if area_a <= 0.0 || area_b <= 0.0 {
        return 0.0;
    }
    let h = max(min(a[2], b[2]) - max(a[0], b[0]), 0.0);
    let w = max(min(a[3], b[3]) - max(a[1], b[1]), 0.0);
    let inter = h * w;
    inter / (area_a + area_b - inter)
}

/// Suppression over `parts.scores`: the kept boxes, best first, at most
/// `limit`, at the front of `parts.kept`; returns how many.
fn single_class(n: &Nms, parts: &mut Parts<'_>, limit: usize) -> usize {
    let mut count = 0;
    for i in 0..n.boxes {
        // NaN is never a candidate.
        if f32::from_bits(parts.scores[i]) >= n.score_threshold {
            parts.kept[count] = i as u32;
            count += 1;
        }
    }
    // Candidates' scores are numbers, so this order is total: TFLite
    // Micro's stable descending merge sort gives the same.
    let scores = &*parts.scores;
    let score = |i: u32| f32::from_bits(scores[i as usize]);
    parts.kept[..count].sort_unstable_by(|&a, &b| {
        score(b)
            .partial_cmp(&score(a))
            .unwrap_or(Ordering::Equal)
            .then(a.cmp(&b))
    });
    let limit = limit.min(count);
    let mut selected = 0;
    for i in 0..count {
        if selected >= limit {
            break;
        }
        let b = parts.kept[i];
        if b == SUPPRESSED {
            continue;
        }
        // Slots up to i are done with: the kept boxes move to the front.
        parts.kept[selected] = b;
        selected += 1;
        let corners = parts.corners(b);
        for j in i + 1..count {
            let c = parts.kept[j];
            if c != SUPPRESSED && iou(corners, parts.corners(c)) > n.iou_threshold {
                parts.kept[j] = SUPPRESSED;
            }
        }
    }
    selected
}

/// Score of `class` (background excluded) for box `i`.
fn class_score(n: &Nms, scores: &[u8], i: usize, class: usize) -> f32 {
    f32_at(
        scores,
        i * (n.classes + n.background) + n.background + class,
    )
}

/// The best class of box `i`: as TFLite Micro's partial sort of one
/// element, the first that no later one exceeds.
fn best_class(n: &Nms, scores: &[u8], i: usize) -> (usize, f32) {
    (1..n.classes).fold((0, class_score(n, scores, i, 0)), |(c, v), k| {
        let s = class_score(n, scores, i, k);
        if v < s { (k, s) } else { (c, v) }
    })
}

/// Checks the decoded boxes (TFLite Micro refuses an empty one), then
/// runs the suppression on `scores` (the class scores input); returns the
/// number of detections, [`Parts::detection`].
pub fn run(n: &Nms, scores: &[u8], parts: &mut Parts<'_>) -> Result<usize, Error> {
    for b in parts.decoded.chunks_exact(4) {
        let [ymin, xmin, ymax, xmax] = [b[0], b[1], b[2], b[3]].map(f32::from_bits);
        if ymin >= ymax || xmin >= xmax {
            return Err(Error::Usage("a decoded detection box is empty"));
        }
    }
    if !n.regular {
        for i in 0..n.boxes {
            parts.scores[i] = best_class(n, scores, i).1.to_bits();
        }
        let kept = single_class(n, parts, n.max_detections);
        for r in 0..kept {
            let i = parts.kept[r] as usize;
            let (class, score) = best_class(n, scores, i);
            parts.found[ENTRY * r..ENTRY * (r + 1)].copy_from_slice(&[
                score.to_bits(),
                i as u32,
                class as u32,
            ]);
        }
        return Ok(kept);
    }
    let mut count = 0;
    for class in 0..n.classes {
        for i in 0..n.boxes {
            parts.scores[i] = class_score(n, scores, i, class).to_bits();
        }
        let kept = single_class(n, parts, n.per_class);
        count = merge(n, parts, count, kept, class);
    }
    Ok(count)
}

/// Merges the `kept` boxes of `class` (best first) into the `count`
/// detections so far (best first), keeping the best `max_detections`; on
/// equal scores the earlier detection first, as TFLite Micro's partial
/// sort by (score, position).
fn merge(n: &Nms, parts: &mut Parts<'_>, count: usize, kept: usize, class: usize) -> usize {
    let total = (count + kept).min(n.max_detections);
    let (mut a, mut b) = (0, 0);
    for r in 0..total {
        let old = (a < count).then(|| f32::from_bits(parts.found[ENTRY * a]));
        let new = (b < kept).then(|| parts.score(parts.kept[b]));
        let take_new = match (old, new) {
            (_, None) => false,
            (None, Some(_)) => true,
            (Some(o), Some(s)) => s > o,
        };
        let slot = ENTRY * r..ENTRY * (r + 1);
        if let (true, Some(s)) = (take_new, new) {
            parts.next[slot].copy_from_slice(&[s.to_bits(), parts.kept[b], class as u32]);
            b += 1;
        } else {
            parts.next[slot].copy_from_slice(&parts.found[ENTRY * a..ENTRY * (a + 1)]);
            a += 1;
        }
    }
    core::mem::swap(&mut parts.found, &mut parts.next);
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The little-endian bytes of `values` in `out`.
    fn le<'o>(values: &[f32], out: &'o mut [u8]) -> &'o [u8] {
        for (o, v) in out.chunks_exact_mut(4).zip(values) {
            o.copy_from_slice(&v.to_le_bytes());
        }
        &out[..4 * values.len()]
    }

    #[test]
    fn iou_of_boxes() {
        let a = [0.0, 0.0, 1.0, 1.0];
        assert_eq!(iou(a, a), 1.0);
        assert_eq!(iou(a, [0.0, 0.5, 1.0, 1.5]), 0.5 / 1.5);
        assert_eq!(iou(a, [2.0, 2.0, 3.0, 3.0]), 0.0);
        assert_eq!(iou(a, [0.0, 0.0, 0.0, 1.0]), 0.0);
    }

    #[test]
    fn best_class_takes_the_first_maximum() {
        let n = Nms {
            boxes: 1,
            classes: 3,
            background: 1,
            max_detections: 1,
            per_class: 1,
            regular: false,
            score_threshold: 0.0,
            iou_threshold: 0.5,
        };
        let mut bytes = [0u8; 16];
        let bytes = le(&[9.0, 0.2, 0.7, 0.7], &mut bytes);
        assert_eq!(best_class(&n, bytes, 0), (1, 0.7));
    }

    #[test]
    fn suppression_keeps_the_best_of_overlapping_boxes() {
        let n = Nms {
            boxes: 3,
            classes: 1,
            background: 0,
            max_detections: 3,
            per_class: 3,
            regular: true,
            score_threshold: 0.1,
            iou_threshold: 0.5,
        };
        let mut work = [0u32; 36];
        assert_eq!(n.scratch_words(), Some(work.len()));
        let mut parts = Parts::split(&n, &mut work).unwrap();
        let boxes = [
            [0.0, 0.0, 1.0, 1.0],
            [0.0, 0.1, 1.0, 1.1],
            [2.0, 2.0, 3.0, 3.0],
        ];
        for (d, b) in parts.decoded.chunks_exact_mut(4).zip(boxes) {
            d.copy_from_slice(&b.map(f32::to_bits));
        }
        let mut scores = [0u8; 12];
        let count = run(&n, le(&[0.5, 0.9, 0.05], &mut scores), &mut parts).unwrap();
        assert_eq!(count, 1);
        let d = parts.detection(0, count).unwrap();
        assert_eq!((d.index, d.class, d.score), (1, 0, 0.9));
        assert_eq!(parts.detection(1, count), None);
    }
}
