//! Where workspaces live. The real workspace is `<data dir>/switchboard.db`; the demo is
//! `<data dir>/demo/switchboard.db`. CLI and app resolve the same folder.

use std::path::{Path, PathBuf};

pub const DATA_DIR_ENV: &str = "SWITCHBOARD_DATA_DIR";

/// `--data-dir`, else `SWITCHBOARD_DATA_DIR`, else the OS data folder for the app
/// (`$XDG_DATA_HOME/switchboard` on Linux; `app.switchboard.desktop` under the platform's
/// application-data folder on macOS and Windows).
pub fn resolve_data_dir(flag: Option<&Path>) -> PathBuf {
    if let Some(dir) = flag {
        return dir.to_path_buf();
    }
    if let Some(dir) = std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        return PathBuf::from(dir);
    }
    os_data_dir()
}

fn os_data_dir() -> PathBuf {
    #[cfg(target_os = "linux")]
    {
        let base = std::env::var_os("XDG_DATA_HOME")
            .filter(|d| !d.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/share")))
            .unwrap_or_else(|| PathBuf::from("."));
        base.join("switchboard")
    }
    #[cfg(target_os = "macos")]
    {
        std::env::var_os("HOME")
            .map(|h| PathBuf::from(h).join("Library/Application Support"))
            .unwrap_or_else(|| PathBuf::from("."))
            .join("app.switchboard.desktop")
    }
    #[cfg(target_os = "windows")]
    {
        std::env::var_os("APPDATA")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("."))
            .join("app.switchboard.desktop")
    }
    #[cfg(not(any(target_os = "linux", target_os = "macos", target_os = "windows")))]
    {
        PathBuf::from("switchboard-data")
    }
}

pub fn real_folder(data_dir: &Path) -> PathBuf {
    data_dir.to_path_buf()
}

pub fn demo_folder(data_dir: &Path) -> PathBuf {
    data_dir.join("demo")
}
