//! Accuracy as the official runner scores it, without its crashes: top-1
//! over results normalised by their sum (a zero sum is left as it is, not
//! divided by), and the area under the ROC curve, one class against the
//! rest and averaged, skipped with a reason when the samples lack a class.

/// Top-1 accuracy in percent: the share of `scores` whose largest entry is
/// at the true class.
pub fn top1(scores: &[Vec<f32>], classes: &[usize]) -> f64 {
    if scores.is_empty() {
        return 0.0;
    }
    let hits = scores
        .iter()
        .zip(classes)
        .filter(|(s, c)| argmax(s) == Some(**c))
        .count();
    100.0 * hits as f64 / scores.len() as f64
}

/// `scores` divided by their sum, when the sum is not zero.
pub fn normalised(scores: &[f32]) -> Vec<f32> {
    let sum: f32 = scores.iter().sum();
    if sum == 0.0 || !sum.is_finite() {
        return scores.to_vec();
    }
    scores.iter().map(|s| s / sum).collect()
}

/// The macro-averaged one-against-rest AUC of `scores` (one column per
/// class; one column is a binary score for class 1), or why there is none.
pub fn auc(scores: &[Vec<f32>], classes: &[usize], count: usize) -> Result<f64, String> {
    let columns = scores.first().map_or(0, Vec::len);
    if columns == 1 {
        let column: Vec<f32> = scores.iter().map(|s| s[0]).collect();
        let truth: Vec<bool> = classes.iter().map(|&c| c == 1).collect();
        return binary_auc(&column, &truth)
            .ok_or_else(|| "the samples hold only one of the two classes".to_owned());
    }
    if columns != count {
        return Err(format!("{columns} results per sample for {count} classes"));
    }
    let mut total = 0.0;
    for class in 0..count {
        let column: Vec<f32> = scores.iter().map(|s| s[class]).collect();
        let truth: Vec<bool> = classes.iter().map(|&c| c == class).collect();
        total += binary_auc(&column, &truth).ok_or_else(|| {
            format!("the samples hold no example of class {class}, or only that class")
        })?;
    }
    Ok(total / count as f64)
}

/// AUC of `score` against `truth` (the Mann-Whitney statistic, ties counted
/// half); `None` when one side is empty.
fn binary_auc(score: &[f32], truth: &[bool]) -> Option<f64> {
    let positives: Vec<f32> = score
        .iter()
        .zip(truth)
        .filter(|(_, t)| **t)
        .map(|(s, _)| *s)
        .collect();
    let negatives: Vec<f32> = score
        .iter()
        .zip(truth)
        .filter(|(_, t)| !**t)
        .map(|(s, _)| *s)
        .collect();
    if positives.is_empty() || negatives.is_empty() {
        return None;
    }
    let mut wins = 0.0;
    for p in &positives {
        for n in &negatives {
            wins += match p.partial_cmp(n) {
                Some(std::cmp::Ordering::Greater) => 1.0,
                Some(std::cmp::Ordering::Equal) => 0.5,
                _ => 0.0,
            };
        }
    }
    Some(wins / (positives.len() * negatives.len()) as f64)
}

fn argmax(scores: &[f32]) -> Option<usize> {
    scores
        .iter()
        .enumerate()
        .max_by(|a, b| a.1.total_cmp(b.1))
        .map(|(i, _)| i)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top1_and_auc_score_as_the_runner_does() {
        let scores = vec![
            vec![0.8, 0.2],
            vec![0.3, 0.7],
            vec![0.6, 0.4],
            vec![0.1, 0.9],
        ];
        let classes = [0, 1, 1, 1];
        assert_eq!(top1(&scores, &classes), 75.0);
        // Class 1 against 0: positives 0.7, 0.4, 0.9 against negative 0.2.
        // Class 0: positive 0.8 against 0.3, 0.6, 0.1: 1.0. Mean 1.0.
        assert_eq!(auc(&scores, &classes, 2), Ok(1.0));
        let binary = vec![vec![0.9], vec![0.1], vec![0.5], vec![0.5]];
        assert_eq!(auc(&binary, &[1, 0, 1, 0], 2), Ok(0.875));
    }

    #[test]
    fn missing_classes_and_zero_sums_do_not_crash() {
        let scores = vec![vec![0.0, 0.0, 0.0], vec![0.2, 0.5, 0.3]];
        assert_eq!(normalised(&scores[0]), [0.0, 0.0, 0.0]);
        let err = auc(&scores, &[1, 1], 3).unwrap_err();
        assert!(err.contains("class 0"), "{err}");
        assert_eq!(top1(&[], &[]), 0.0);
    }
}
