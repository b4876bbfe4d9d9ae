//! Asking before something that cannot be taken back (a refund, deleting a connection's data).

use std::io::{BufRead, IsTerminal, Write};
use switchboard_app::{CommandError, ErrorCode};

/// Asks `question` on the terminal; `--yes` answers it. Refuses to go on unasked when there is
/// no terminal. `action` names what needs the confirmation ("A refund") and `declined` what the
/// user is told on "no" ("Not refunded.").
pub fn confirm(
    question: &str,
    yes: bool,
    action: &str,
    declined: &str,
) -> Result<(), CommandError> {
    if yes {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(CommandError::new(
            ErrorCode::InvalidInput,
            format!("{action} needs confirmation: run it on a terminal, or pass --yes."),
        ));
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut answer)
        .map_err(|e| {
            CommandError::new(
                ErrorCode::InvalidInput,
                format!("cannot read the answer: {e}"),
            )
        })?;
    if matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
        Ok(())
    } else {
        Err(CommandError::new(ErrorCode::Cancelled, declined))
    }
}
