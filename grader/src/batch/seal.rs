//! Sealing a result with the key of `OUT` (HMAC-SHA-256), and reading the
//! results back: a result changed after it was sealed is noticed.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::Sha256;

use super::Graded;

/// The key that seals this folder's results (`OUT/.seal-key`, made once,
/// readable by its owner only).
pub struct Seal {
    key: Vec<u8>,
}

impl Seal {
    /// The key of the results in `out`, made if there is none.
    pub fn of(out: &Path) -> Result<Seal> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = out.join(".seal-key");
        if let Ok(key) = std::fs::read(&path) {
            return Ok(Seal { key });
        }
        let key: Vec<u8> = (0..32).map(|_| fastrand::u8(..)).collect();
        let mut file = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&path)
            .with_context(|| format!("cannot make {}", path.display()))?;
        file.write_all(&key)?;
        Ok(Seal { key })
    }

    /// The seal of a result (of everything in it but its seal).
    fn of_result(&self, graded: &Graded) -> Result<String> {
        use hmac::Mac;
        let unsealed = Graded { seal: None, ..graded.clone() };
        let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&self.key).expect("HMAC takes any key");
        mac.update(&serde_json::to_vec(&unsealed)?);
        Ok(mac.finalize().into_bytes().iter().map(|b| format!("{b:02x}")).collect())
    }

    /// `graded`, sealed.
    pub fn sealed(&self, graded: Graded) -> Result<Graded> {
        let seal = self.of_result(&graded)?;
        Ok(Graded { seal: Some(seal), ..graded })
    }
}

/// A result found in `OUT/results`.
pub(super) enum Kept {
    /// Sealed by this folder's key, unchanged; or saved by an older grader
    /// (no per-check outcomes, no seal), kept as it is.
    Valid(Box<Graded>),
    /// Changed since it was sealed, or not a result at all.
    Changed,
}

pub(super) fn result_path(out: &Path, id: &str) -> PathBuf {
    out.join("results").join(format!("{id}.json"))
}

pub(super) fn load_result(out: &Path, id: &str, seal: &Seal) -> Option<Kept> {
    let text = std::fs::read_to_string(result_path(out, id)).ok()?;
    let Ok(graded) = serde_json::from_str::<Graded>(&text) else { return Some(Kept::Changed) };
    let older = graded.checks.is_none() && graded.grader.is_none() && graded.seal.is_none();
    let intact = graded.seal.as_deref().is_some_and(|s| seal.of_result(&graded).is_ok_and(|want| want == s));
    Some(if older || intact { Kept::Valid(Box::new(graded)) } else { Kept::Changed })
}

/// The saved result of every student, in order.
pub(super) fn load_results(out: &Path, students: &[(String, PathBuf)], seal: &Seal) -> Result<Vec<Graded>> {
    students
        .iter()
        .map(|(id, _)| match load_result(out, id, seal) {
            Some(Kept::Valid(graded)) => Ok(*graded),
            Some(Kept::Changed) => bail!(
                "{} was changed after it was graded: run again to grade {id} again",
                result_path(out, id).display()
            ),
            None => bail!("no result for {id} (grade again)"),
        })
        .collect()
}
