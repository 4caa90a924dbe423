//! The `X-Contentful-User-Agent` header Contentful asks integrations to send, in the format of
//! its own SDKs (`contentful-sdk-core` `getUserAgentHeader`, contentful-management.py
//! `_contentful_user_agent`): `; `-separated `<kind> <name>/<version>` parts, ending in `;`.
//! This tool is the application (`app`); there is no SDK part, as it speaks HTTP itself.

/// The header's name (lower case, as `http` header names are stored).
pub const HEADER: &str = "x-contentful-user-agent";

/// `app contentful-access/<version>; platform Rust/<rustc version>; os <OS>;`, e.g.
/// `app contentful-access/0.1.0; platform Rust/1.91.0; os Linux;`. The OS is named as the SDKs
/// name it (`Linux`, `macOS`, `Windows`; the BSDs as `Linux`, as contentful.js does); its version
/// is left out (the standard library does not know it).
pub fn value() -> String {
    let mut parts = vec![
        format!("app contentful-access/{}", env!("CARGO_PKG_VERSION")),
        format!("platform Rust/{}", env!("CONTENTFUL_ACCESS_RUSTC_VERSION")),
    ];
    if let Some(os) = os_name(std::env::consts::OS) {
        parts.push(format!("os {os}"));
    }
    format!("{};", parts.join("; "))
}

fn os_name(os: &str) -> Option<&'static str> {
    Some(match os {
        "linux" | "freebsd" | "openbsd" | "netbsd" | "dragonfly" | "solaris" | "illumos" => "Linux",
        "macos" => "macOS",
        "windows" => "Windows",
        "android" => "Android",
        "ios" => "iOS",
        _ => return None,
    })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn reads_like_the_sdks_header() {
        let v = value();
        let parts: Vec<&str> = v.trim_end_matches(';').split("; ").collect();
        assert!(v.ends_with(';'), "{v}");
        assert_eq!(
            parts[0],
            format!("app contentful-access/{}", env!("CARGO_PKG_VERSION"))
        );
        assert!(parts[1].starts_with("platform Rust/1."), "{v}");
        // contentful-sdk-core's own test pattern for each part.
        for p in &parts[..2] {
            let (kind, rest) = p.split_once(' ').unwrap();
            assert!(["app", "platform"].contains(&kind), "{p}");
            let (name, version) = rest.split_once('/').unwrap();
            assert!(!name.is_empty() && version.split('.').count() >= 3, "{p}");
        }
        assert_eq!(os_name("linux"), Some("Linux"));
        assert_eq!(os_name("macos"), Some("macOS"));
        assert_eq!(os_name("windows"), Some("Windows"));
        assert_eq!(os_name("plan9"), None);
    }
}
