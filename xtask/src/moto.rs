//! A local EC2 API for end-to-end tests and benchmarks: moto_server on a
//! free 127.0.0.1 port, stopped when dropped.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

/// The moto release the tests and the demo use (`.ci/test` pins the same).
pub const VERSION: &str = "5.2.5";

pub const INSTALL_HINT: &str = "run `.ci/test`, which installs moto[server]==5.2.5 into target/e2e-venv, \
     or `pip install 'moto[server]==5.2.5'` and set MOTO_SERVER to its moto_server";

pub struct Moto {
    child: Child,
    pub endpoint: String,
    /// The Python beside moto_server, which has boto3.
    pub python: PathBuf,
}

/// moto_server from `$MOTO_SERVER`, then `PATH`.
pub fn find() -> Result<PathBuf> {
    if let Some(path) = std::env::var_os("MOTO_SERVER").filter(|value| !value.is_empty()) {
        return Ok(PathBuf::from(path));
    }
    let path = std::env::var_os("PATH").unwrap_or_default();
    std::env::split_paths(&path)
        .map(|dir| dir.join("moto_server"))
        .find(|candidate| candidate.is_file())
        .with_context(|| format!("moto_server was not found: {INSTALL_HINT}"))
}

impl Moto {
    /// Starts moto_server from `$MOTO_SERVER` or `PATH`.
    pub fn start() -> Result<Moto> {
        Moto::start_with(&find()?)
    }

    /// Starts the given moto_server on a free loopback port.
    pub fn start_with(server: &std::path::Path) -> Result<Moto> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let child = Command::new(server)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .with_context(|| format!("starting {}", server.display()))?;
        let mut moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
            python: server.parent().unwrap_or(std::path::Path::new(".")).join("python"),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline || moto.child.try_wait()?.is_some() {
                bail!("moto_server did not start listening on port {port} within 30 s");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Ok(moto)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
