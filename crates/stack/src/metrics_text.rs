//! Reading the services' Prometheus endpoints, for reports and waits.

use std::collections::BTreeMap;

/// Samples by metric name, summed over label sets unless a label filter is given.
#[derive(Debug, Default, Clone)]
pub struct Metrics {
    samples: Vec<(String, BTreeMap<String, String>, f64)>,
}

impl Metrics {
    pub fn parse(text: &str) -> Self {
        let mut samples = Vec::new();
        for line in text.lines() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let (name, labels) = match series.split_once('{') {
                Some((name, rest)) => (name, parse_labels(rest.trim_end_matches('}'))),
                None => (series, BTreeMap::new()),
            };
            samples.push((name.to_owned(), labels, value));
        }
        Self { samples }
    }

    pub async fn fetch(url: &str) -> anyhow::Result<Self> {
        let text = reqwest::get(url).await?.error_for_status()?.text().await?;
        Ok(Self::parse(&text))
    }

    /// Sum of all series of `name` whose labels include every `(key, value)` of `filter`.
    pub fn sum(&self, name: &str, filter: &[(&str, &str)]) -> f64 {
        self.samples
            .iter()
            .filter(|(n, labels, _)| {
                n == name
                    && filter
                        .iter()
                        .all(|(k, v)| labels.get(*k).is_some_and(|l| l == v))
            })
            .map(|(_, _, value)| value)
            // Folded from +0.0: `f64`'s `Sum` starts at -0.0, so nothing to add would print as "-0".
            .fold(0.0, |total, value| total + value)
    }

    /// [`sum`](Self::sum) as a count: rounded, and never below zero.
    pub fn count(&self, name: &str, filter: &[(&str, &str)]) -> u64 {
        // `as` saturates: a negative or NaN sum counts as 0.
        self.sum(name, filter).round() as u64
    }
}

fn parse_labels(text: &str) -> BTreeMap<String, String> {
    text.split(',')
        .filter_map(|pair| pair.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().trim_matches('"').to_owned()))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sums_filter_by_labels() {
        let m = Metrics::parse(
            "# TYPE x counter\nx{outcome=\"sent\",a=\"1\"} 3\nx{outcome=\"stale\"} 4\nx{outcome=\"sent\",a=\"2\"} 5\ny 7\n",
        );
        assert_eq!(m.sum("x", &[("outcome", "sent")]), 8.0);
        assert_eq!(m.sum("x", &[]), 12.0);
        assert_eq!(m.sum("y", &[]), 7.0);
        assert_eq!(m.sum("z", &[]), 0.0);
    }

    #[test]
    fn a_metric_without_samples_sums_to_positive_zero_and_counts_never_go_negative() {
        let m = Metrics::parse("x{outcome=\"sent\"} 3\ng -2\n");
        assert_eq!(format!("{}", m.sum("x", &[("outcome", "stale")])), "0");
        assert_eq!(m.count("x", &[("outcome", "stale")]), 0);
        assert_eq!(m.count("x", &[]), 3);
        assert_eq!(m.count("g", &[]), 0);
    }
}
