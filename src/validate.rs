//! Checks shared by resources and data sources. Each returns a message that
//! says what is wrong and how to fix it; callers attach the attribute path.

use ipnet::IpNet;

use crate::framework::diag::Diagnostics;
use crate::framework::path::AttributePath;
use crate::framework::value::{Number, Value};

/// An EC2 id: `<prefix>-` then 8 or 17 lowercase hex digits.
pub fn ec2_id(value: &str, prefix: &str, what: &str) -> Result<(), String> {
    let ok = value
        .strip_prefix(prefix)
        .and_then(|rest| rest.strip_prefix('-'))
        .is_some_and(|hex| {
            (8..=17).contains(&hex.len())
                && hex
                    .bytes()
                    .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        });
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{value:?} is not {} {what} id. It looks like \"{prefix}-0123456789abcdef0\": \"{prefix}-\" and 8 or 17 \
             lowercase hexadecimal digits.",
            article(what)
        ))
    }
}

/// A `service_region` argument at `path`, where known: the region of a
/// PrivateLink service, checked as [`region`] checks one (a declared
/// attribute's check).
pub fn service_region(path: AttributePath, value: &Value, diags: &mut Diagnostics) {
    let Some(region) = value.as_str() else {
        return;
    };
    self::region(
        path,
        region,
        "Invalid region",
        ": give the region of the service name, such as \
         \"us-west-2\" for com.amazonaws.vpce.us-west-2.vpce-svc-...",
        diags,
    );
}

/// A region argument at `path`: an error when `region` is no region name
/// (`how` follows "is not an AWS region name" and says how to write one), a
/// warning when no AWS region has that name (a typo, or a region newer than
/// this provider).
pub fn region(
    path: AttributePath,
    region: &str,
    summary: &str,
    how: &str,
    diags: &mut Diagnostics,
) {
    if !crate::privatelink::is_region(region) {
        diags.attr_error(
            path,
            summary,
            format!("{region:?} is not an AWS region name{how}"),
        );
    } else if let Some(why) = crate::privatelink::unknown_region(region) {
        diags.attr_warning(path, "Unknown AWS region", why);
    }
}

/// "a" or "an" before `word`, by the sound of its first letter: "an
/// instance", "a transit gateway", "a VPC endpoint" (acronyms are read
/// letter by letter, and V is "vee").
pub fn article(word: &str) -> &'static str {
    let first = word.chars().next().unwrap_or('x');
    let acronym = word.split(' ').next().is_some_and(|w| {
        w.len() > 1
            && w.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    });
    let vowel_sound = if acronym {
        // A, E, F, H, I, L, M, N, O, R, S and X start with a vowel sound.
        "AEFHILMNORSX".contains(first)
    } else {
        "aeiouAEIOU".contains(first)
    };
    if vowel_sound { "an" } else { "a" }
}

/// An IPv4 or IPv6 CIDR block with no host bits set.
pub fn cidr(value: &str) -> Result<IpNet, String> {
    if !value.contains('/') {
        return Err(match value.parse::<std::net::IpAddr>() {
            Ok(ip) => {
                let bits = if ip.is_ipv4() { 32 } else { 128 };
                format!(
                    "{value:?} is an address, not a CIDR block: write \"{value}/{bits}\" for that one address, or \
                     the block of its network, such as \"10.0.0.0/16\"."
                )
            }
            Err(_) => format!(
                "{value:?} is not an IPv4 or IPv6 CIDR block, such as \"10.0.0.0/16\" or \"2001:db8::/56\"."
            ),
        });
    }
    let net: IpNet = value
        .parse()
        .map_err(|_| format!("{value:?} is not a valid IPv4 or IPv6 CIDR block, such as \"10.0.0.0/16\" or \"2001:db8::/56\"."))?;
    let canonical = net.trunc();
    if canonical != net {
        return Err(format!(
            "{value:?} has host bits set: the network of that block is \"{canonical}\". Write \"{canonical}\"."
        ));
    }
    if canonical.to_string() != value {
        return Err(format!(
            "{value:?} is not written canonically. Write \"{canonical}\"."
        ));
    }
    Ok(net)
}

/// A TCP port from a number value.
pub fn port(n: &crate::framework::value::Number) -> Result<u16, String> {
    match n.as_i64() {
        Some(p) if (1..=65535).contains(&p) => Ok(p as u16),
        Some(p) => Err(format!("{p} is not a TCP port: ports run from 1 to 65535.")),
        None => Err(format!(
            "{n} is not a TCP port: ports are whole numbers from 1 to 65535."
        )),
    }
}

/// A `ports` argument at `path`, where known: at least one, each a TCP
/// port (a declared attribute's check).
pub fn port_values(path: AttributePath, value: &Value, diags: &mut Diagnostics) {
    let Some(ports) = value.as_elements() else {
        return;
    };
    if ports.is_empty() {
        diags.attr_error(
            path.clone(),
            "No ports",
            "Give at least one port, such as [5432, 6432], or leave ports out for that default.",
        );
    }
    for p in ports {
        if let Value::Number(n) = p
            && let Err(why) = port(n)
        {
            diags.attr_error(path.clone(), "Invalid port", why);
        }
    }
}

/// A `tags` argument at `path`, as EC2 takes tags: at most 50, keys 1-127
/// characters not starting with `aws:`, values up to 255 characters (a
/// declared attribute's check).
pub fn tag_map(path: AttributePath, value: &Value, diags: &mut Diagnostics) {
    let Value::Map(map) = value else {
        return;
    };
    if map.len() > 50 {
        diags.attr_error(
            path.clone(),
            "Too many tags",
            format!(
                "EC2 takes at most 50 tags per resource; {} are set.",
                map.len()
            ),
        );
    }
    for (key, value) in map {
        let key_path = path.key(key);
        if key.is_empty() || key.chars().count() > 127 {
            diags.attr_error(
                key_path.clone(),
                "Invalid tag key",
                "Tag keys are 1 to 127 characters long.",
            );
        }
        if key.to_ascii_lowercase().starts_with("aws:") {
            diags.attr_error(
                key_path.clone(),
                "Invalid tag key",
                format!("{key:?} starts with \"aws:\", which AWS reserves for itself."),
            );
        }
        if let Value::String(v) = value
            && v.chars().count() > 255
        {
            diags.attr_error(
                key_path,
                "Invalid tag value",
                format!("The value of tag {key:?} is longer than 255 characters."),
            );
        }
    }
}

/// A `ports` value: a set of numbers.
pub fn ports_value(ports: impl IntoIterator<Item = u16>) -> Value {
    Value::Set(
        ports
            .into_iter()
            .map(|p| Value::Number(Number::from(i64::from(p))))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_need_prefix_and_hex() {
        assert!(ec2_id("vpc-0123abcd", "vpc", "VPC").is_ok());
        assert!(ec2_id("vpc-0123456789abcdef0", "vpc", "VPC").is_ok());
        for bad in [
            "vpc-123",
            "subnet-0123abcd",
            "vpc-0123ABCD",
            "vpc-0123abcg",
            "vpc0123abcd",
            "vpc-0123456789abcdef01",
        ] {
            assert!(ec2_id(bad, "vpc", "VPC").is_err(), "{bad}");
        }
    }

    #[test]
    fn cidrs_must_be_networks() {
        assert!(cidr("10.0.0.0/16").is_ok());
        assert!(cidr("2001:db8::/56").is_ok());
        let host_bits = cidr("10.0.0.1/16").unwrap_err();
        assert!(host_bits.contains("\"10.0.0.0/16\""), "{host_bits}");
        assert!(cidr("10.0.0.7").unwrap_err().contains("\"10.0.0.7/32\""));
        assert!(cidr("2001:db8::7").unwrap_err().contains("/128"));
        assert!(cidr("banana").unwrap_err().contains("not an IPv4 or IPv6"));
        assert!(cidr("10.0.0.256/24").is_err());
        assert!(cidr("10.0.0.0/33").is_err());
        assert!(cidr("banana").is_err());
    }
}

/// The parts of an `http` or `https` URL the checks below look at.
#[derive(Debug, PartialEq, Eq)]
pub struct UrlParts<'a> {
    pub scheme: &'a str,
    /// `user` or `user:password`, before an `@`.
    pub userinfo: Option<&'a str>,
    /// The host, without brackets around an IPv6 address, and without port.
    pub host: &'a str,
}

/// Splits `scheme://[userinfo@]host[:port][/path]`; `None` when the text is
/// not shaped like that.
pub fn url_parts(url: &str) -> Option<UrlParts<'_>> {
    let (scheme, rest) = url.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    let (userinfo, host_port) = match authority.rsplit_once('@') {
        Some((user, host)) => (Some(user), host),
        None => (None, authority),
    };
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split_once(']')?.0
    } else {
        host_port.split(':').next().unwrap_or_default()
    };
    if host.is_empty() || scheme.is_empty() {
        return None;
    }
    Some(UrlParts {
        scheme,
        userinfo,
        host,
    })
}

/// Whether a host name or address is this machine's loopback.
pub fn is_loopback_host(host: &str) -> bool {
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

/// A custom AWS service endpoint: https, or plain http only to loopback
/// (an emulator or a local proxy on this machine), with no credentials in
/// the URL.
pub fn aws_endpoint_url(url: &str) -> Result<(), String> {
    let Some(parts) = url_parts(url) else {
        return Err(format!(
            "{url:?} is not a URL. Write it like \"https://ec2.us-east-1.amazonaws.com\"."
        ));
    };
    if parts.userinfo.is_some() {
        return Err(format!(
            "{} carries a user name or password. AWS endpoints take no credentials in the URL: \
             remove the part before the @ and give credentials through the provider's access_key, \
             profile or assume_role.",
            redacted_url(url)
        ));
    }
    match parts.scheme {
        "https" => Ok(()),
        "http" if is_loopback_host(parts.host) => Ok(()),
        "http" => Err(format!(
            "{url:?} uses plain http, which would send signed requests unencrypted across the \
             network. Use https:// (plain http is accepted for loopback addresses only, such as a \
             local emulator)."
        )),
        _ => Err(format!(
            "{url:?} must be a URL starting with https:// (or http:// to a loopback address)."
        )),
    }
}

/// The URL with its user information replaced, for messages.
pub fn redacted_url(url: &str) -> String {
    match url_parts(url).and_then(|p| p.userinfo) {
        Some(userinfo) => url.replacen(&format!("{userinfo}@"), "[REDACTED]@", 1),
        None => url.to_owned(),
    }
}

/// A proxy URL read leniently, so that even a malformed one (no scheme, a
/// password with an unencoded `/`, `?` or `#`) gives up its credentials to
/// the redactor: the user information is everything before the last `@`.
#[derive(Debug, PartialEq, Eq)]
pub struct ProxyParts<'a> {
    pub scheme: Option<&'a str>,
    pub userinfo: Option<&'a str>,
    /// Host and port, as written.
    pub host_port: &'a str,
}

pub fn proxy_parts(url: &str) -> ProxyParts<'_> {
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest)) => (Some(scheme), rest),
        None => (None, url),
    };
    let (userinfo, after) = match rest.rsplit_once('@') {
        Some((userinfo, after)) => (Some(userinfo), after),
        None => (None, rest),
    };
    ProxyParts {
        scheme,
        userinfo,
        host_port: after.split(['/', '?', '#']).next().unwrap_or_default(),
    }
}

/// Every form a proxy URL's credentials can take in a log or a message:
/// the user information and the password as written and percent-decoded,
/// and the `Proxy-Authorization: Basic` value made of them.
pub fn proxy_secrets(url: &str) -> Vec<String> {
    use base64::Engine as _;
    let Some(userinfo) = proxy_parts(url).userinfo.filter(|u| !u.is_empty()) else {
        return Vec::new();
    };
    let decoded = percent_decoded(userinfo);
    let mut secrets = vec![userinfo.to_owned(), decoded.clone()];
    for info in [userinfo, decoded.as_str()] {
        if let Some((_, password)) = info.split_once(':') {
            secrets.push(password.to_owned());
        }
        secrets.push(base64::engine::general_purpose::STANDARD.encode(info));
    }
    secrets.retain(|s| !s.is_empty());
    secrets.sort();
    secrets.dedup();
    secrets
}

/// RFC 3986 percent-decoding; a `%` not followed by two hex digits stays.
pub fn percent_decoded(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(hi), Some(lo)) => {
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The proxy URL with its user information replaced, for messages.
pub fn redacted_proxy_url(url: &str) -> String {
    let parts = proxy_parts(url);
    match parts.userinfo {
        Some(_) => format!(
            "{}[REDACTED]@{}",
            parts.scheme.map(|s| format!("{s}://")).unwrap_or_default(),
            url.rsplit_once('@')
                .map(|(_, after)| after)
                .unwrap_or_default()
        ),
        None => url.to_owned(),
    }
}

/// `http_proxy`: `http://` or `https://`, a host, an optional port, and
/// user information percent-encoded. The message never shows the user
/// information.
pub fn proxy_url(url: &str) -> Result<(), String> {
    let parts = proxy_parts(url);
    let shown = redacted_proxy_url(url);
    match parts.scheme {
        Some("http" | "https") => {}
        Some(_) | None => {
            return Err(format!(
                "{shown:?} must start with http:// or https://, like \
                 \"http://proxy.example.com:3128\" or \"http://user:password@proxy.example.com:3128\"."
            ));
        }
    }
    let host = match parts.host_port.strip_prefix('[') {
        Some(v6) => v6.split_once(']').map(|(h, _)| h).unwrap_or_default(),
        None => parts.host_port.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(format!(
            "{shown:?} names no proxy host. Write it like \"http://proxy.example.com:3128\"."
        ));
    }
    if let Some(userinfo) = parts.userinfo {
        let allowed = |c: char| c.is_ascii_alphanumeric() || "-._~!$&'()*+,;=:%".contains(c);
        let bad_escape = userinfo.match_indices('%').any(|(i, _)| {
            !userinfo
                .get(i + 1..i + 3)
                .is_some_and(|h| h.chars().all(|c| c.is_ascii_hexdigit()))
        });
        if !userinfo.chars().all(allowed) || bad_escape {
            return Err(format!(
                "The user name or password in {shown:?} holds a character that must be \
                 percent-encoded in a URL: write / as %2F, ? as %3F, # as %23, @ as %40, % as %25 \
                 and a space as %20."
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod article_tests {
    use super::*;

    #[test]
    fn articles_follow_the_sound() {
        for (word, a) in [
            ("instance", "an"),
            ("internet gateway", "an"),
            ("transit gateway", "a"),
            ("network interface", "a"),
            ("VPC endpoint", "a"),
            ("VPN gateway", "a"),
            ("ENI", "an"),
            ("security group", "a"),
            ("subnet", "a"),
        ] {
            assert_eq!(article(word), a, "{word}");
        }
        assert_eq!(
            ec2_id("i-12", "i", "instance").unwrap_err()[..28].to_owned(),
            "\"i-12\" is not an instance id"
        );
    }
}

#[cfg(test)]
mod url_tests {
    use super::*;

    #[test]
    fn urls_split_into_scheme_userinfo_and_host() {
        let p = url_parts("http://user:pw@[::1]:4566/path?q").unwrap();
        assert_eq!(
            (p.scheme, p.userinfo, p.host),
            ("http", Some("user:pw"), "::1")
        );
        let p = url_parts("https://ec2.us-east-1.amazonaws.com").unwrap();
        assert_eq!((p.userinfo, p.host), (None, "ec2.us-east-1.amazonaws.com"));
        assert!(url_parts("ec2.amazonaws.com").is_none());
        assert!(url_parts("https://").is_none());
    }

    #[test]
    fn aws_endpoints_are_https_unless_loopback_and_carry_no_credentials() {
        for ok in [
            "https://ec2.us-east-1.amazonaws.com",
            "http://127.0.0.1:4566",
            "http://localhost:4566/",
            "http://[::1]:4566",
        ] {
            assert_eq!(aws_endpoint_url(ok), Ok(()), "{ok}");
        }
        let plain = aws_endpoint_url("http://ec2.internal.example.com").unwrap_err();
        assert!(plain.contains("plain http"), "{plain}");
        assert!(
            aws_endpoint_url("ftp://ec2")
                .unwrap_err()
                .contains("https://")
        );
        let creds = aws_endpoint_url("https://me:hunter22@ec2.example.com").unwrap_err();
        assert!(!creds.contains("hunter22"), "{creds}");
        assert!(creds.contains("[REDACTED]@"), "{creds}");
    }

    #[test]
    fn proxy_credentials_are_found_however_the_url_is_written() {
        for (url, userinfo, password) in [
            (
                "http://user:pa55word@proxy:3128",
                "user:pa55word",
                "pa55word",
            ),
            ("user:pa55word@proxy:3128", "user:pa55word", "pa55word"),
            (
                "http://user:pa/ss?w#rd@proxy:3128/",
                "user:pa/ss?w#rd",
                "pa/ss?w#rd",
            ),
            ("http://user:p@ss@proxy:3128", "user:p@ss", "p@ss"),
        ] {
            let secrets = proxy_secrets(url);
            assert!(secrets.contains(&userinfo.to_owned()), "{url}: {secrets:?}");
            assert!(secrets.contains(&password.to_owned()), "{url}: {secrets:?}");
            let redacted = redacted_proxy_url(url);
            assert!(!redacted.contains(password), "{redacted}");
            assert!(redacted.contains("[REDACTED]@proxy:3128"), "{redacted}");
        }
        // Percent-decoded, and as the Basic Proxy-Authorization value.
        let secrets = proxy_secrets("http://svc%40corp:s3cr%2Ft@proxy:3128");
        for form in [
            "s3cr%2Ft",
            "s3cr/t",
            "svc@corp:s3cr/t",
            "c3ZjQGNvcnA6czNjci90",
        ] {
            assert!(secrets.contains(&form.to_owned()), "{form}: {secrets:?}");
        }
        assert!(proxy_secrets("http://proxy:3128").is_empty());
    }

    #[test]
    fn a_proxy_url_is_checked_without_showing_its_credentials() {
        for ok in [
            "http://proxy.example.com:3128",
            "https://proxy.example.com",
            "http://user:pa%2Fss@proxy:3128/",
            "http://[::1]:3128",
        ] {
            assert_eq!(proxy_url(ok), Ok(()), "{ok}");
        }
        for (bad, says) in [
            ("user:hunter22x@proxy:3128", "must start with http://"),
            (
                "socks5://user:hunter22x@proxy:1080",
                "must start with http://",
            ),
            ("http://user:hunter/22x@proxy:3128", "percent-encoded"),
            ("http://user:hunter#22x@proxy:3128", "percent-encoded"),
            ("http://user:hunter%2x@proxy:3128", "percent-encoded"),
            ("http://user:hunter22x@", "names no proxy host"),
        ] {
            let message = proxy_url(bad).unwrap_err();
            assert!(message.contains(says), "{bad}: {message}");
            assert!(!message.contains("hunter"), "{bad}: {message}");
        }
    }
}
