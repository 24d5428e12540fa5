//! The request-target (RFC 9112 §3.2) and the authority syntax shared with
//! the Host field (RFC 9110 §7.2, RFC 3986 §3.2).
//!
//! Four forms exist and each belongs to particular methods: origin-form
//! (`/path?query`) for ordinary requests, absolute-form
//! (`http://host/path?query`) accepted from any client, authority-form
//! (`host:port`) only for CONNECT and asterisk-form (`*`) only for OPTIONS.
//! Anything else is refused with 400, so an application that never looks
//! at the path cannot be made to serve one it would not understand.
//!
//! Checks are strict where the grammar is unambiguous (a `#`, a malformed
//! `%XY`, bytes outside the URI character set) with one relaxation that
//! browsers need: `[ ] { } | ^` and backquote inside the query.

use std::net::Ipv6Addr;
use std::ops::Range;

use super::HttpError;
use super::chars::{Class, HOST_NAME, PATH, QUERY, SUB_DELIM, UNRESERVED};

/// Which of the four request-target forms a request used.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetForm {
    /// `/path?query`.
    Origin,
    /// `http://host[:port]/path?query` (or `https`).
    Absolute,
    /// `host:port`, CONNECT only.
    Authority,
    /// `*`, OPTIONS only.
    Asterisk,
}

/// Positions, relative to the start of the target, of what it contains.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ParsedTarget {
    pub form: TargetForm,
    /// `http` or `https` as sent, absolute-form only.
    pub scheme: Option<Range<usize>>,
    /// The authority (host and port), absolute- and authority-form only.
    pub authority: Option<Authority>,
    /// Empty only in absolute-form without a path, which means `/`.
    pub path: Range<usize>,
    /// After the first `?`.
    pub query: Option<Range<usize>>,
}

/// A `uri-host [ ":" port ]`, with positions relative to what was parsed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Authority {
    /// The host as written: a name, an IPv4 address, or a bracketed IP literal.
    pub host: Range<usize>,
    pub port: Option<u16>,
}

impl Authority {
    fn shifted(self, by: usize) -> Authority {
        Authority { host: self.host.start + by..self.host.end + by, port: self.port }
    }
}

/// Classifies and checks `target` against the request's method.
pub fn parse_target(target: &[u8], is_connect: bool, is_options: bool) -> Result<ParsedTarget, HttpError> {
    let bad = || HttpError::bad_request("invalid request target");
    if is_connect {
        // authority-form = uri-host ":" port: the port is required.
        let authority = parse_authority(target).filter(|a| a.port.is_some()).ok_or_else(bad)?;
        let end = target.len();
        return Ok(ParsedTarget {
            form: TargetForm::Authority,
            scheme: None,
            authority: Some(authority),
            path: end..end,
            query: None,
        });
    }
    if target == b"*" {
        if !is_options {
            return Err(HttpError::bad_request("asterisk-form is only for OPTIONS"));
        }
        return Ok(ParsedTarget { form: TargetForm::Asterisk, scheme: None, authority: None, path: 0..1, query: None });
    }
    if target.first() == Some(&b'/') {
        let (path, query) = path_and_query(target, 0).ok_or_else(bad)?;
        return Ok(ParsedTarget { form: TargetForm::Origin, scheme: None, authority: None, path, query });
    }
    parse_absolute(target).ok_or_else(bad)
}

/// `( "http" / "https" ) "://" authority path-abempty [ "?" query ]`.
fn parse_absolute(target: &[u8]) -> Option<ParsedTarget> {
    let colon = target.iter().position(|&b| b == b':')?;
    let scheme = &target[..colon];
    if !(scheme.eq_ignore_ascii_case(b"http") || scheme.eq_ignore_ascii_case(b"https")) {
        return None;
    }
    let rest = target[colon..].strip_prefix(b"://")?;
    let auth_start = colon + 3;
    let auth_len = rest.iter().position(|&b| matches!(b, b'/' | b'?' | b'#')).unwrap_or(rest.len());
    let authority = parse_authority(&rest[..auth_len])?.shifted(auth_start);
    // RFC 9110 §4.2.1: an http(s) URI with an empty host is invalid.
    if authority.host.is_empty() {
        return None;
    }
    let (path, query) = path_and_query(target, auth_start + auth_len)?;
    Some(ParsedTarget { form: TargetForm::Absolute, scheme: Some(0..colon), authority: Some(authority), path, query })
}

/// Splits `target[from..]` (empty, or starting with `/` or `?`) into path
/// and query, checking the characters of both.
fn path_and_query(target: &[u8], from: usize) -> Option<(Range<usize>, Option<Range<usize>>)> {
    let rest = &target[from..];
    let q = rest.iter().position(|&b| b == b'?');
    let path_end = from + q.unwrap_or(rest.len());
    let path = &target[from..path_end];
    if !(path.is_empty() || path[0] == b'/') || !valid_chars(path, PATH) {
        return None;
    }
    let query = match q {
        Some(_) => {
            let query = path_end + 1..target.len();
            valid_chars(&target[query.clone()], QUERY).then_some(query)?
        }
        None => return Some((from..path_end, None)),
    };
    Some((from..path_end, Some(query)))
}

/// Every byte is in `allowed`, or starts a `%XY` escape.
fn valid_chars(s: &[u8], allowed: Class) -> bool {
    let mut rest = s;
    while let Some(at) = rest.iter().position(|&b| !allowed.has(b)) {
        match rest[at..] {
            [b'%', h, l, ..] if h.is_ascii_hexdigit() && l.is_ascii_hexdigit() => rest = &rest[at + 3..],
            _ => return false,
        }
    }
    true
}

/// Parses `uri-host [ ":" port ]` (RFC 3986 §3.2.2-3.2.3, without
/// userinfo, which RFC 9110 §4.2.4 says to treat as an error). The host may
/// be empty, as a Host field for a target without authority is. A comma is
/// refused although `reg-name` allows it: there it can only be a list.
pub fn parse_authority(s: &[u8]) -> Option<Authority> {
    let host_end = if s.first() == Some(&b'[') {
        let close = s.iter().position(|&b| b == b']')?;
        if !valid_ip_literal(&s[1..close]) {
            return None;
        }
        close + 1
    } else {
        let end = s.iter().position(|&b| b == b':').unwrap_or(s.len());
        let name = &s[..end];
        if !valid_chars(name, HOST_NAME) {
            return None;
        }
        end
    };
    let port = match &s[host_end..] {
        [] | [b':'] => None,
        [b':', digits @ ..] => Some(parse_port(digits)?),
        _ => return None,
    };
    Some(Authority { host: 0..host_end, port })
}

/// `*DIGIT` within 0..=65535.
fn parse_port(digits: &[u8]) -> Option<u16> {
    if !digits.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let trimmed = &digits[digits.iter().position(|&b| b != b'0').unwrap_or(digits.len())..];
    if trimmed.len() > 5 {
        return None;
    }
    trimmed.iter().try_fold(0u32, |acc, &b| Some(acc * 10 + u32::from(b - b'0'))).and_then(|p| u16::try_from(p).ok())
}

/// The inside of `[...]`: an IPv6 address or `v1.xyz` (IPvFuture).
fn valid_ip_literal(s: &[u8]) -> bool {
    if let [b'v' | b'V', rest @ ..] = s {
        let Some(dot) = rest.iter().position(|&b| b == b'.') else { return false };
        let (version, tail) = (&rest[..dot], &rest[dot + 1..]);
        return !version.is_empty()
            && version.iter().all(u8::is_ascii_hexdigit)
            && !tail.is_empty()
            && tail.iter().all(|&b| UNRESERVED.or(SUB_DELIM).has(b) || b == b':');
    }
    std::str::from_utf8(s).is_ok_and(|a| a.parse::<Ipv6Addr>().is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(target: &str) -> Option<TargetForm> {
        parse_target(target.as_bytes(), false, false).ok().map(|t| t.form)
    }

    fn slice<'a>(s: &'a str, r: &Range<usize>) -> &'a str {
        &s[r.clone()]
    }

    #[test]
    fn origin_form() {
        let t = "/a/b;c=d/%20e?x=1&y=/?z";
        let p = parse_target(t.as_bytes(), false, false).unwrap();
        assert_eq!(p.form, TargetForm::Origin);
        assert_eq!(slice(t, &p.path), "/a/b;c=d/%20e");
        assert_eq!(slice(t, p.query.as_ref().unwrap()), "x=1&y=/?z");
        assert_eq!(form("/"), Some(TargetForm::Origin));
        assert_eq!(form("/q?a={b}|c^[d]`"), Some(TargetForm::Origin));
        assert_eq!(form("//double"), Some(TargetForm::Origin));
    }

    #[test]
    fn invalid_targets() {
        for bad in [
            "",
            "a",
            "a/b",
            "index.html",
            "/a#frag",
            "/a?b#c",
            "#",
            "/%",
            "/%2",
            "/%zz",
            "/a b",
            "/a\"b",
            "/<x>",
            "/a\\b",
            "/a{b",
            "/a|b",
            "/a^b",
            "/a`b",
            "/[x]",
            "/\u{e9}",
            "/?a<b",
            "/?\"",
            "*x",
            "**",
            "*?x",
            "example.com:80",
            "ftp://h/",
            "http:/h/",
            "http//h/",
            "http://",
            "http:///p",
            "http://u@h/",
            "http://h:x/",
            "http://h:65536/",
            "http://[::1/",
            "http://[zz]/",
            "http://a,b/",
            "http://h/#f",
            "http://h/a b",
            "mailto:a@b",
        ] {
            assert_eq!(parse_target(bad.as_bytes(), false, true).err().map(|e| e.status), Some(400), "{bad:?}");
        }
    }

    #[test]
    fn absolute_form() {
        let t = "http://Example.com:8080/p/q?x=1";
        let p = parse_target(t.as_bytes(), false, false).unwrap();
        assert_eq!(p.form, TargetForm::Absolute);
        assert_eq!(slice(t, p.scheme.as_ref().unwrap()), "http");
        let a = p.authority.unwrap();
        assert_eq!((slice(t, &a.host), a.port), ("Example.com", Some(8080)));
        assert_eq!(slice(t, &p.path), "/p/q");
        assert_eq!(slice(t, p.query.as_ref().unwrap()), "x=1");
        let t = "HTTPS://[::1]?only";
        let p = parse_target(t.as_bytes(), false, false).unwrap();
        assert_eq!(slice(t, p.scheme.as_ref().unwrap()), "HTTPS");
        assert_eq!(slice(t, &p.authority.unwrap().host), "[::1]");
        assert!(p.path.is_empty());
        assert_eq!(slice(t, p.query.as_ref().unwrap()), "only");
        let p = parse_target(b"http://h", false, false).unwrap();
        assert_eq!((p.path, p.query), (8..8, None));
    }

    #[test]
    fn asterisk_only_for_options_and_authority_only_for_connect() {
        assert_eq!(parse_target(b"*", false, true).unwrap().form, TargetForm::Asterisk);
        assert_eq!(parse_target(b"*", false, false).unwrap_err().status, 400);
        let t = "example.com:443";
        let p = parse_target(t.as_bytes(), true, false).unwrap();
        assert_eq!(p.form, TargetForm::Authority);
        assert_eq!(p.authority, Some(Authority { host: 0..11, port: Some(443) }));
        for bad in ["example.com", "example.com:", "/", "http://h/", "*", "u@h:1", "h:99999"] {
            assert_eq!(parse_target(bad.as_bytes(), true, false).unwrap_err().status, 400, "{bad:?}");
        }
        assert_eq!(parse_target(b"[::1]:443", true, false).unwrap().authority.unwrap().host, 0..5);
    }

    #[test]
    fn authorities() {
        let ok = |s: &str| parse_authority(s.as_bytes()).map(|a| (slice(s, &a.host).to_string(), a.port));
        assert_eq!(ok("example.com"), Some(("example.com".into(), None)));
        assert_eq!(ok("example.com:80"), Some(("example.com".into(), Some(80))));
        assert_eq!(ok("h:"), Some(("h".into(), None)));
        assert_eq!(ok("h:00080"), Some(("h".into(), Some(80))));
        assert_eq!(ok("h:65535"), Some(("h".into(), Some(65535))));
        assert_eq!(ok(""), Some((String::new(), None)));
        assert_eq!(ok("127.0.0.1:1"), Some(("127.0.0.1".into(), Some(1))));
        assert_eq!(ok("[::1]:8080"), Some(("[::1]".into(), Some(8080))));
        assert_eq!(ok("[v1.fe]"), Some(("[v1.fe]".into(), None)));
        assert_eq!(ok("xn--nxasmq6b.example"), Some(("xn--nxasmq6b.example".into(), None)));
        assert_eq!(ok("a%41b"), Some(("a%41b".into(), None)));
        for bad in [
            "a b",
            "a,b",
            "a, b",
            "a/b",
            "u@h",
            "user:pw@h",
            "h:x",
            "h:8o",
            "h:65536",
            "h:-1",
            "h: 80",
            "h:1:2",
            "[::1",
            "[::1]x",
            "[::1]:x",
            "[zz]",
            "[]",
            "[v.x]",
            "[v1.]",
            "::1",
            "h\\x",
            "h\"",
            "%zz",
            "a%4",
            "h?",
            "h#",
            "h\t",
            "\u{e9}",
        ] {
            assert_eq!(ok(bad), None, "{bad:?}");
        }
    }
}
