//! What the lab offers, after the capability model of NuNet's DMS: each
//! target instance offers a type, a uid, engines, benchmark types and
//! memory; each benchmark requires a target type, an engine, a benchmark
//! type and optionally a set of uids. The `vlab` binary builds the
//! catalog from the board definitions and the engines it finds.

use serde::Serialize;

/// One engine parameter, as `GET /api/benchmarks/config` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct ParameterInfo {
    /// The key in `parameters` (the engine option's name).
    pub key: String,
    /// Human name.
    pub display_name: String,
    /// What it does.
    pub description: String,
    /// `integer`, `boolean` or `enum`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The default, or for `enum` the choices.
    pub default_values: serde_json::Value,
}

/// An engine the lab offers.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// Its name in requests (`RUNTIME`).
    pub name: String,
    /// Human name.
    pub display_name: String,
    /// Model file extensions it loads, with the dot.
    pub file_extensions: Vec<String>,
    /// The parameters it takes.
    pub parameters: Vec<ParameterInfo>,
}

/// One target instance: what it offers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TargetOffer {
    /// Target type: a board name or `host`.
    pub kind: String,
    /// Human name.
    pub display_name: String,
    /// Unique instance id.
    pub uid: String,
    /// Engines it runs.
    pub engines: Vec<String>,
    /// `TYPE1`, `TYPE2`.
    pub benchmark_types: Vec<String>,
    /// Storage for a model, bytes, if known.
    pub storage: Option<u64>,
    /// RAM, bytes, if known.
    pub ram: Option<u64>,
    /// Jobs it runs at once.
    pub slots: u32,
}

/// What a benchmark needs of a target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// Target type.
    pub kind: String,
    /// Engine.
    pub engine: String,
    /// `TYPE1`/`TYPE2`.
    pub benchmark_type: String,
    /// Bytes of model the target must hold.
    pub model_size: u64,
    /// Allowed instances; `None` allows all.
    pub uids: Option<Vec<String>>,
}

/// Everything the lab offers.
#[derive(Debug, Clone, Default)]
pub struct Catalog {
    /// Engines by name.
    pub engines: Vec<EngineInfo>,
    /// Target instances.
    pub targets: Vec<TargetOffer>,
}

impl TargetOffer {
    /// Why this instance cannot run `need`, or `None` if it can.
    pub fn refusal(&self, need: &Requirement) -> Option<String> {
        if let Some(uids) = &need.uids
            && !uids.contains(&self.uid)
        {
            return Some(format!("{} is not in target_uids", self.uid));
        }
        if !self.engines.contains(&need.engine) {
            return Some(format!(
                "{} does not offer engine {} (it offers {})",
                self.uid,
                need.engine,
                self.engines.join(", ")
            ));
        }
        if !self.benchmark_types.contains(&need.benchmark_type) {
            return Some(format!(
                "{} does not run {} benchmarks",
                self.uid, need.benchmark_type
            ));
        }
        if let Some(storage) = self.storage
            && need.model_size > storage
        {
            return Some(format!(
                "the model ({} bytes) is larger than {}'s {storage} bytes of storage",
                need.model_size, self.uid
            ));
        }
        None
    }
}

impl Catalog {
    /// The engine `name`.
    pub fn engine(&self, name: &str) -> Option<&EngineInfo> {
        self.engines.iter().find(|e| e.name == name)
    }

    /// Target types, each once, in catalog order.
    pub fn kinds(&self) -> Vec<&str> {
        let mut kinds: Vec<&str> = Vec::new();
        for target in &self.targets {
            if !kinds.contains(&target.kind.as_str()) {
                kinds.push(&target.kind);
            }
        }
        kinds
    }

    /// `Ok` if some instance could ever run `need`; else why none can, for
    /// the 400 answer at submission.
    pub fn check(&self, need: &Requirement) -> Result<(), String> {
        let of_kind: Vec<&TargetOffer> = self
            .targets
            .iter()
            .filter(|t| t.kind == need.kind)
            .collect();
        if of_kind.is_empty() {
            return Err(format!(
                "this lab has no target {} (it has {})",
                need.kind,
                self.kinds().join(", ")
            ));
        }
        if let Some(uids) = &need.uids {
            if uids.is_empty() {
                return Err("target_uids is empty".into());
            }
            if let Some(unknown) = uids.iter().find(|u| !of_kind.iter().any(|t| &t.uid == *u)) {
                return Err(format!("target {} has no instance {unknown}", need.kind));
            }
        }
        let refusals: Vec<String> = of_kind.iter().filter_map(|t| t.refusal(need)).collect();
        if refusals.len() < of_kind.len() {
            return Ok(());
        }
        let reasons: Vec<String> = refusals
            .into_iter()
            .filter(|r| !r.ends_with("is not in target_uids"))
            .collect();
        Err(format!(
            "no {} can run it: {}",
            need.kind,
            reasons.join("; ")
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn offer(kind: &str, uid: &str, engines: &[&str]) -> TargetOffer {
        TargetOffer {
            kind: kind.into(),
            display_name: kind.into(),
            uid: uid.into(),
            engines: engines.iter().map(|e| (*e).to_owned()).collect(),
            benchmark_types: vec!["TYPE1".into(), "TYPE2".into()],
            storage: Some(1000),
            ram: None,
            slots: 1,
        }
    }

    fn need(kind: &str, engine: &str) -> Requirement {
        Requirement {
            kind: kind.into(),
            engine: engine.into(),
            benchmark_type: "TYPE1".into(),
            model_size: 10,
            uids: None,
        }
    }

    #[test]
    fn submission_is_refused_with_the_reason_when_no_target_could_run_it() {
        let catalog = Catalog {
            engines: vec![],
            targets: vec![
                offer("an385", "an385-0", &["micro"]),
                offer("host", "host-0", &["tract"]),
            ],
        };
        assert_eq!(catalog.check(&need("an385", "micro")), Ok(()));
        let m = catalog.check(&need("an385", "tract")).unwrap_err();
        assert_eq!(
            m,
            "no an385 can run it: an385-0 does not offer engine tract (it offers micro)"
        );
        let m = catalog.check(&need("rpi5", "tract")).unwrap_err();
        assert_eq!(m, "this lab has no target rpi5 (it has an385, host)");
        let mut big = need("an385", "micro");
        big.model_size = 5000;
        assert!(
            catalog
                .check(&big)
                .unwrap_err()
                .contains("larger than an385-0's 1000 bytes")
        );
        let mut pinned = need("an385", "micro");
        pinned.uids = Some(vec!["an385-9".into()]);
        assert_eq!(
            catalog.check(&pinned).unwrap_err(),
            "target an385 has no instance an385-9"
        );
    }
}
