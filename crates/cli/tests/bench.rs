//! `tollgate bench`, briefly: it starts its server process, registers clients through the API,
//! gets tokens without errors, reports the server's memory, and leaves nothing behind.

use std::process::Command;

const BIN: &str = env!("CARGO_BIN_EXE_tollgate");

#[test]
fn a_short_benchmark_issues_tokens_without_errors_and_cleans_up() {
    let cwd = tempfile::tempdir().unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let out = Command::new(BIN)
        .args([
            "bench",
            "--clients",
            "3",
            "--connections",
            "2",
            "--duration",
            "1",
            "--warmup",
            "0",
        ])
        .current_dir(cwd.path())
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TMPDIR", tmp.path())
        .env("TOLLGATE_LOG", "warn")
        .output()
        .expect("run tollgate bench");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "stdout:\n{stdout}\nstderr:\n{stderr}");

    let line = |label: &str| -> String {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no `{label}` line in:\n{stdout}"))
            .to_owned()
    };
    let tokens_per_second: u64 = line("tokens/s")
        .split_whitespace()
        .nth(1)
        .unwrap()
        .replace(',', "")
        .parse()
        .unwrap();
    assert!(tokens_per_second > 0, "{stdout}");
    assert!(line("requests").contains(" 0 errors"), "{stdout}");
    assert!(line("clients").contains("3 service accounts"), "{stdout}");
    // The server ran in its own process, whose memory is the one reported.
    let server = line("server");
    let pid: u32 = server
        .split_whitespace()
        .nth(2)
        .unwrap()
        .parse()
        .unwrap_or_else(|_| panic!("a process id in {server}"));
    assert_ne!(pid, std::process::id());
    assert!(line("memory").contains("MiB"), "{stdout}");
    assert!(
        !std::path::Path::new(&format!("/proc/{pid}")).exists()
            || std::fs::read_to_string(format!("/proc/{pid}/status"))
                .map(|s| s.contains("State:\tZ"))
                .unwrap_or(true),
        "the server process {pid} was stopped"
    );
    // Its temporary data directory is gone, and the working directory was not touched.
    assert_eq!(std::fs::read_dir(tmp.path()).unwrap().count(), 0);
    assert_eq!(std::fs::read_dir(cwd.path()).unwrap().count(), 0);
}
