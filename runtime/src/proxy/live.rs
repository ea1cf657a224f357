//! The policy the proxies decide with, replaceable while they run (`srt run --control-fd`):
//! each request is decided with the policy current when it is decided; one already allowed
//! keeps its connection.

use std::sync::{Arc, RwLock};

use srt_compiler::Ir;

pub struct LivePolicy(RwLock<Arc<Ir>>);

impl LivePolicy {
    pub fn new(ir: Arc<Ir>) -> Self {
        LivePolicy(RwLock::new(ir))
    }

    /// The policy now.
    pub fn current(&self) -> Arc<Ir> {
        self.0.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Puts `ir` in force for the next decision; returns the one it replaces.
    pub fn replace(&self, ir: Arc<Ir>) -> Arc<Ir> {
        let mut guard = self.0.write().unwrap_or_else(|e| e.into_inner());
        std::mem::replace(&mut *guard, ir)
    }
}

impl std::fmt::Debug for LivePolicy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LivePolicy")
    }
}
