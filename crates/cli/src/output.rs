//! Standard output that a closed pipe ends quietly: `hookgate ... | head`
//! stops reading, the next write fails with `BrokenPipe`, and the command
//! exits with success instead of panicking in `println!`.

use std::io::Write;

/// Writes `text` to standard output; on a closed pipe the process exits 0
/// (the reader has what it wanted), on any other error it is ignored.
pub fn write(text: std::fmt::Arguments<'_>) {
    let mut out = std::io::stdout().lock();
    if let Err(e) = out.write_fmt(text).and_then(|()| out.flush()) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            std::process::exit(0);
        }
    }
}

/// `print!` that a closed pipe ends quietly (see [`write`]).
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => { $crate::output::write(format_args!($($arg)*)) };
}

/// `println!` that a closed pipe ends quietly (see [`write`]).
#[macro_export]
macro_rules! outln {
    () => { $crate::output::write(format_args!("\n")) };
    ($($arg:tt)*) => { $crate::output::write(format_args!("{}\n", format_args!($($arg)*))) };
}
