//! Files the user names are read only when they are regular files within the documented size:
//! `-c /dev/zero`, a plan from `/dev/urandom`, a FIFO or a huge file are refused at once with an
//! error naming the file, instead of growing without bound or blocking forever.

#![allow(clippy::unwrap_used)]

use crate::util::run;

#[test]
fn devices_are_refused_by_name() {
    let (code, _, err) = run(&["validate", "-c", "/dev/zero"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("/dev/zero is a device, not a regular file"),
        "{err}"
    );

    let (code, _, err) = run(&["apply", "/dev/urandom", "--sandbox"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("/dev/urandom is a device, not a regular file"),
        "{err}"
    );

    let (code, _, err) = run(&[
        "plan",
        "-c",
        "examples/access.yaml",
        "--sandbox",
        "/dev/zero",
    ]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains("/dev/zero is a device, not a regular file"),
        "{err}"
    );
}

#[cfg(unix)]
#[test]
fn a_fifo_is_refused_without_waiting_for_a_writer() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("access.yaml");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    let fifo = fifo.display().to_string();
    let (code, _, err) = run(&["validate", "-c", &fifo]);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains(&format!("{fifo} is a FIFO")), "{err}");
}

#[test]
fn files_over_the_limit_are_refused_before_they_are_read() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("plan.json");
    // Sparse: takes no disk space, but its size is over the 64 MiB limit.
    std::fs::File::create(&big)
        .unwrap()
        .set_len(contentful_access::input::MAX_FILE_BYTES + 1)
        .unwrap();
    let big = big.display().to_string();
    let (code, _, err) = run(&["apply", &big, "--sandbox"]);
    assert_eq!(code, 1, "{err}");
    assert!(
        err.contains(&format!("{big} is larger than 67108864 bytes")),
        "{err}"
    );
}
