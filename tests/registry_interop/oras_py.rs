//! oras-py, the ORAS Python library from PyPI (`oras`), driven by `oras_client.py` next to this
//! file and run by the Python of the virtual environment that `.ci/run` creates.

use std::path::{Path, PathBuf};

use tokio::process::Command;

use crate::clients::NO_PROXY;
use crate::harness::{MockLab, Run, client_missing};

/// The virtual environment that `.ci/run` installs oras-py, boto3 and AWS CLI v1 into, unless
/// `ECRLAB_PYTHON_VENV` names another one.
const DEFAULT_VENV: &str = "/opt/ecrlab-python";

/// The Python of a virtual environment in which `import oras` works.
pub struct OrasPy {
    python: PathBuf,
    script: PathBuf,
}

impl OrasPy {
    /// Returns oras-py, or applies the missing-client policy for `case`.
    pub fn find(case: &str) -> Option<Self> {
        let venv = std::env::var_os("ECRLAB_PYTHON_VENV")
            .map_or_else(|| PathBuf::from(DEFAULT_VENV), PathBuf::from);
        let python = venv.join("bin/python3");
        match probe(&python) {
            Ok(()) => Some(Self {
                python,
                script: Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../../tests/registry_interop/oras_client.py"),
            }),
            Err(reason) => {
                client_missing(case, "oras-py", &reason);
                None
            }
        }
    }

    /// Runs `oras_client.py <command>` against `repository` in a working directory of its own,
    /// logged in as `AWS` with `password`. The command's usage is in the script's docstring.
    pub fn run(&self, lab: &MockLab, command: &str, repository: &str, password: &str) -> Run {
        let work_dir = lab.scratch_dir(&format!("oras-py-{command}"));
        let mut process = Command::new(&self.python);
        process
            .arg(&self.script)
            .arg(command)
            .current_dir(&work_dir)
            // oras-py reads `~/.docker/config.json`, so an empty home keeps the user's logins out.
            .env("HOME", &work_dir)
            .env("NO_PROXY", NO_PROXY)
            // Keeps Python from writing __pycache__ next to the script in the source tree.
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("ECRLAB_REGISTRY", lab.registry_host())
            .env("ECRLAB_REPOSITORY", repository)
            .env("ECRLAB_REGISTRY_PASSWORD", password);
        lab.run(&mut process, None)
    }
}

/// Checks that `python` runs and imports the oras-py modules that the script uses.
fn probe(python: &Path) -> Result<(), String> {
    let output = std::process::Command::new(python)
        .args(["-c", "import oras.oci, oras.provider"])
        .output()
        .map_err(|error| format!("{} failed to run: {error}", python.display()))?;
    if output.status.success() {
        return Ok(());
    }
    Err(format!(
        "`{} -c 'import oras.oci, oras.provider'` failed: {}",
        python.display(),
        String::from_utf8_lossy(&output.stderr).trim()
    ))
}
