//! The running lab: its configuration, catalog, store and backend, shared
//! by the API's handlers and the dispatcher.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;

use crate::auth::LoginThrottle;
use crate::backend::Backend;
use crate::catalog::Catalog;
use crate::config::LabConfig;
use crate::dispatcher::{self, Dispatcher};
use crate::error::LabError;
use crate::scheduler::Scheduler;
use crate::signing::Signer;
use crate::store::Store;

/// Everything a request or a job needs.
pub struct Lab {
    /// The configuration.
    pub config: LabConfig,
    /// What the lab offers.
    pub catalog: Catalog,
    /// The database and blobs.
    pub store: Store,
    /// Signs files URLs.
    pub signer: Signer,
    /// Slows down password guessing.
    pub throttle: LoginThrottle,
    /// Password hashes by email.
    pub passwords: HashMap<String, String>,
    /// Where jobs deliver (the config's `public_url`, or the bound address).
    pub public_url: String,
    /// Places and follows jobs.
    pub dispatcher: Dispatcher,
    /// Runs jobs.
    pub backend: Arc<dyn Backend>,
}

impl Lab {
    /// Opens the store, recovers from an earlier stop and builds the lab.
    /// `bound` is the address the listener actually got.
    pub fn open(
        config: LabConfig,
        catalog: Catalog,
        backend: Arc<dyn Backend>,
        bound: SocketAddr,
    ) -> Result<Self, LabError> {
        let store = Store::open(&config.data_dir)?;
        let signer = Signer::open(&config.data_dir).map_err(|e| {
            LabError::system(format!(
                "cannot create the signing key in {}: {e}",
                config.data_dir.display()
            ))
        })?;
        for user in &config.users {
            store.user_id(&user.email)?;
        }
        let passwords = config
            .users
            .iter()
            .map(|u| (u.email.clone(), u.password_hash.clone()))
            .collect();
        let public_url = match &config.public_url {
            Some(_) => config.public_url(),
            None => format!("http://{bound}"),
        };
        let lab = Self {
            dispatcher: Dispatcher::new(Scheduler::new(catalog.targets.clone())),
            config,
            catalog,
            store,
            signer,
            throttle: LoginThrottle::default(),
            passwords,
            public_url,
            backend,
        };
        dispatcher::recover(&lab)?;
        Ok(lab)
    }

    /// A job's work folder on this machine.
    pub fn job_dir(&self, id: &str) -> PathBuf {
        self.config.data_dir.join("jobs").join(id)
    }

    /// Where the server prepares a job's generated inputs.
    pub fn job_inputs_dir(&self, id: &str) -> PathBuf {
        self.config.data_dir.join("inputs").join(id)
    }
}
