//! Reading a file the user names (the access file, a saved plan, a sandbox seed, a token file):
//! only regular files, and at most a documented size, so `-c /dev/zero`, a plan from
//! `/dev/urandom` or a FIFO is refused with a clear error instead of growing without bound or
//! blocking forever.

use std::io::Read;
use std::path::Path;

/// The largest file read by [`read_bounded`]: 64 MiB. An access file or plan for an organization
/// of 100,000 memberships is a few megabytes; anything larger is not one of ours.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Why a user-supplied file was not read.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    /// The path exists but is not a regular file (a directory, FIFO, socket or device).
    #[error("{path} is {what}, not a regular file")]
    NotRegular {
        /// The path, as given.
        path: String,
        /// What it is instead (`a directory`, `a FIFO`, …).
        what: &'static str,
    },
    /// The file is larger than the limit.
    #[error("{path} is larger than {limit} bytes, the most this tool reads from one file")]
    TooLarge {
        /// The path, as given.
        path: String,
        /// The limit in bytes.
        limit: u64,
    },
    /// The file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The path, as given.
        path: String,
        /// What went wrong.
        #[source]
        source: std::io::Error,
    },
}

impl InputError {
    /// The underlying I/O error, when the file could not be read at all.
    pub fn io_kind(&self) -> Option<std::io::ErrorKind> {
        match self {
            InputError::Io { source, .. } => Some(source.kind()),
            _ => None,
        }
    }
}

fn what_is(meta: &std::fs::Metadata) -> &'static str {
    let ft = meta.file_type();
    if ft.is_dir() {
        return "a directory";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        if ft.is_fifo() {
            return "a FIFO (named pipe)";
        }
        if ft.is_socket() {
            return "a socket";
        }
        if ft.is_char_device() || ft.is_block_device() {
            return "a device";
        }
    }
    "not a regular file"
}

/// Reads the regular file at `path`, at most `limit` bytes (see [`MAX_FILE_BYTES`]). The type is
/// checked before the file is opened (opening a FIFO would wait for a writer) and again on the
/// open handle; the size is checked on the handle and while reading, so a file that grows is cut
/// off at the limit and refused.
pub fn read_bounded(path: &Path, limit: u64) -> Result<Vec<u8>, InputError> {
    let display = || path.display().to_string();
    let io = |source| InputError::Io {
        path: display(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: display(),
            what: what_is(&meta),
        });
    }
    let file = std::fs::File::open(path).map_err(io)?;
    let meta = file.metadata().map_err(io)?;
    if !meta.is_file() {
        return Err(InputError::NotRegular {
            path: display(),
            what: what_is(&meta),
        });
    }
    let too_large = || InputError::TooLarge {
        path: display(),
        limit,
    };
    if meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    file.take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_bounded`] as UTF-8 text; invalid UTF-8 is an [`InputError::Io`] of kind `InvalidData`.
pub fn read_bounded_text(path: &Path, limit: u64) -> Result<String, InputError> {
    let bytes = read_bounded(path, limit)?;
    String::from_utf8(bytes).map_err(|e| InputError::Io {
        path: path.display().to_string(),
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e.utf8_error()),
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn regular_files_within_the_limit_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.yaml");
        std::fs::write(&p, "version: 1\n").unwrap();
        assert_eq!(read_bounded(&p, 100).unwrap(), b"version: 1\n");
        assert_eq!(read_bounded_text(&p, 11).unwrap(), "version: 1\n");
        let err = read_bounded(&p, 10).unwrap_err();
        assert!(
            matches!(err, InputError::TooLarge { limit: 10, .. }),
            "{err}"
        );
        assert!(err.to_string().contains("a.yaml"), "{err}");
    }

    #[test]
    fn directories_devices_and_missing_files_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let err = read_bounded(dir.path(), MAX_FILE_BYTES).unwrap_err();
        assert!(err.to_string().contains("is a directory"), "{err}");
        #[cfg(unix)]
        {
            let err = read_bounded(Path::new("/dev/zero"), MAX_FILE_BYTES).unwrap_err();
            assert_eq!(err.to_string(), "/dev/zero is a device, not a regular file");
        }
        let err = read_bounded(&dir.path().join("missing"), 10).unwrap_err();
        assert_eq!(err.io_kind(), Some(std::io::ErrorKind::NotFound));
    }
}
