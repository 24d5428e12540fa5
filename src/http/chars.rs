//! Byte classes of the HTTP and URI grammars, as one lookup table: a load
//! per byte instead of a chain of comparisons. They run over every
//! request's target and Host and every response header name.

/// A set of classes, one bit each.
#[derive(Clone, Copy)]
pub(crate) struct Class(u8);

/// `tchar` of RFC 9110 §5.6.2: methods and field names.
pub(crate) const TCHAR: Class = Class(1);
/// `unreserved` of RFC 3986 §2.3.
pub(crate) const UNRESERVED: Class = Class(2);
/// `sub-delims` of RFC 3986 §2.2.
pub(crate) const SUB_DELIM: Class = Class(4);
/// `pchar` without `%` (checked apart), and the `/` between segments.
pub(crate) const PATH: Class = Class(8);
/// Query characters: [`PATH`] and `?`, plus what browsers leave unescaped
/// there.
pub(crate) const QUERY: Class = Class(16);
/// A `reg-name` host: [`UNRESERVED`] and [`SUB_DELIM`] but the comma,
/// which in a Host field can only be a list.
pub(crate) const HOST_NAME: Class = Class(32);

impl Class {
    /// Either class.
    pub(crate) const fn or(self, other: Class) -> Class {
        Class(self.0 | other.0)
    }

    pub(crate) fn has(self, b: u8) -> bool {
        TABLE[b as usize] & self.0 != 0
    }
}

static TABLE: [u8; 256] = {
    let mut table = [0; 256];
    let mut b = 0;
    while b < 256 {
        table[b] = classes(b as u8);
        b += 1;
    }
    table
};

const fn classes(b: u8) -> u8 {
    let tchar = b.is_ascii_alphanumeric()
        || matches!(
            b,
            b'!' | b'#' | b'$' | b'%' | b'&' | b'\'' | b'*' | b'+' | b'-' | b'.' | b'^' | b'_' | b'`' | b'|' | b'~'
        );
    let unreserved = b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~');
    let sub_delim = matches!(b, b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'=');
    let path = unreserved || sub_delim || matches!(b, b':' | b'@' | b'/');
    let query = path || matches!(b, b'?' | b'[' | b']' | b'{' | b'}' | b'|' | b'^' | b'`');
    let host_name = (unreserved || sub_delim) && b != b',';
    bit(tchar, TCHAR)
        | bit(unreserved, UNRESERVED)
        | bit(sub_delim, SUB_DELIM)
        | bit(path, PATH)
        | bit(query, QUERY)
        | bit(host_name, HOST_NAME)
}

const fn bit(member: bool, class: Class) -> u8 {
    if member { class.0 } else { 0 }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes_hold_what_the_grammars_name() {
        let members = |class: Class| (0..=255u8).filter(|&b| class.has(b)).collect::<Vec<u8>>();
        let alnum = |extra: &[u8]| {
            let mut v: Vec<u8> = (0..=255u8).filter(|b| b.is_ascii_alphanumeric() || extra.contains(b)).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(members(TCHAR), alnum(b"!#$%&'*+-.^_`|~"));
        assert_eq!(members(UNRESERVED), alnum(b"-._~"));
        assert_eq!(members(SUB_DELIM), b"!$&'()*+,;=".to_vec());
        assert_eq!(members(PATH), alnum(b"-._~!$&'()*+,;=:@/"));
        assert_eq!(members(QUERY), alnum(b"-._~!$&'()*+,;=:@/?[]{}|^`"));
        assert_eq!(members(HOST_NAME), alnum(b"-._~!$&'()*+;="));
        assert!(UNRESERVED.or(SUB_DELIM).has(b',') && !UNRESERVED.or(SUB_DELIM).has(b'%'));
    }
}
