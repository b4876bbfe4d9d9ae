//! Library errors turned into the one command-edge shape, with messages that say what to do.

use switchboard_core::{CommandError, ErrorCode};
use switchboard_secrets::SecretsError;
use switchboard_store::StoreError;

pub(crate) fn store(e: StoreError) -> CommandError {
    match &e {
        StoreError::NotFound(what) => CommandError::new(ErrorCode::NotFound, format!("No {what}.")),
        StoreError::Invalid(msg) => CommandError::new(ErrorCode::InvalidInput, msg.clone()),
        _ if e.is_disk_full() => CommandError::new(
            ErrorCode::Storage,
            "The disk is full, so Switchboard could not save. Free some space and try again; nothing already saved was lost.",
        ),
        _ if e.is_busy() => CommandError::new(
            ErrorCode::Storage,
            "The database is busy (another Switchboard window or command is writing). Try again in a moment.",
        ),
        _ => CommandError::new(
            ErrorCode::Storage,
            format!("The local database failed: {e}"),
        )
        .retryable(false),
    }
}

pub(crate) fn secrets(e: SecretsError) -> CommandError {
    CommandError::new(ErrorCode::SecretStore, e.to_string())
}

pub(crate) fn invalid(message: impl Into<String>) -> CommandError {
    CommandError::new(ErrorCode::InvalidInput, message)
}

pub(crate) fn internal(message: impl Into<String>) -> CommandError {
    CommandError::new(ErrorCode::Internal, message)
}
