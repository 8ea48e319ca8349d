//! A first run that explains itself: `--help` leads with the default command,
//! and a mistyped command is answered with the command, not "no such file".

use std::process::Command;

use crate::util::*;

#[test]
fn help_says_report_is_the_default_and_leads_with_since_30d() {
    let (code, stdout, stderr) = outputs(&ctscan(&["--help"]));
    assert_eq!((code, stderr.as_str()), (0, ""));
    assert!(
        stdout.contains("\nUsage: ctscan [COMMAND] [SOURCE]... [OPTIONS]\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "\n`report` is the default command: `ctscan [SOURCE]... [OPTIONS]` runs `ctscan report`.\n"
        ),
        "{stdout}"
    );
    let examples: Vec<&str> = stdout
        .lines()
        .skip_while(|l| *l != "Examples:")
        .skip(1)
        .collect();
    assert_eq!(
        examples.first().copied(),
        Some("  ctscan --since 30d                  Secret reads over the last 30 days of $CTSCAN_SOURCE"),
        "{stdout}"
    );
}

/// Runs `ctscan ARGS` in `cwd`, so a word is a path only if `cwd` holds it.
fn ctscan_in(cwd: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    outputs(
        &Command::new(env!("CARGO_BIN_EXE_ctscan"))
            .args(args)
            .current_dir(cwd)
            .env_remove("CTSCAN_SOURCE")
            .output()
            .unwrap(),
    )
}

#[test]
fn a_mistyped_command_is_answered_with_the_command_meant() {
    let t = TestDir::new();
    t.write("dir/empty.json", b"[]");
    for (typed, meant) in [
        ("repot", "report"),
        ("verfiy", "verify"),
        ("alram", "alarm"),
    ] {
        assert_eq!(
            ctscan_in(t.path(), &[typed, "dir"]),
            (
                2,
                String::new(),
                format!(
                    "ctscan: `{typed}` is not a command or an existing SOURCE: did you mean `{meant}`?\n"
                )
            )
        );
    }
    // A word far from every command is a SOURCE, as before.
    let (code, stdout, stderr) = ctscan_in(t.path(), &["mirrorz-of-logs"]);
    assert_eq!(
        (code, stdout.as_str(), stderr.as_str()),
        (
            2,
            "",
            "ctscan: SOURCE mirrorz-of-logs: No such file or directory (os error 2)\n"
        )
    );
    // A command's own name is the command.
    let (code, _, stderr) = ctscan_in(t.path(), &["events", "dir", "-q"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
    // A folder that happens to be named like a command stays a SOURCE.
    t.write("repot/empty.json", b"[]");
    let (code, _, stderr) = ctscan_in(t.path(), &["repot", "-q"]);
    assert_eq!((code, stderr.as_str()), (0, ""));
}
