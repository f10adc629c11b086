//! The endpoint's `policy`: an IAM policy document (JSON) that controls
//! access through the endpoint. Checked at validation, and compared by
//! meaning rather than spelling: EC2 keeps the document as JSON of its own,
//! and IAM reads a single value and a one-element list alike, and the
//! elements of a list in any order.

use crate::framework::diag::Diagnostics;
use crate::framework::path::AttributePath;
use crate::framework::value::Value;

/// The longest endpoint policy AWS takes, white space included
/// (AWS PrivateLink quotas: "VPC endpoint policy size").
pub const MAX_CHARS: usize = 20_480;

/// A `policy` value: a JSON object of at most [`MAX_CHARS`] characters.
pub fn check(path: AttributePath, value: &Value, diags: &mut Diagnostics) {
    let Some(text) = value.as_str() else {
        return;
    };
    match serde_json::from_str::<serde_json::Value>(text) {
        Err(e) => diags.attr_error(
            path,
            "Invalid policy",
            format!(
                "The policy is not JSON ({e}). Write it with jsonencode({{ Version = \"2012-10-17\", \
                 Statement = [...] }}) or the aws_iam_policy_document data source's json."
            ),
        ),
        Ok(doc) if !doc.is_object() => diags.attr_error(
            path,
            "Invalid policy",
            "The policy is JSON but not an object: an IAM policy document is an object with \
             \"Version\" and \"Statement\".",
        ),
        Ok(_) => {
            let chars = text.chars().count();
            if chars > MAX_CHARS {
                diags.attr_error(
                    path,
                    "Policy too long",
                    format!(
                        "The policy has {chars} characters; AWS takes endpoint policies of at most \
                         {MAX_CHARS}, white space included. Shorten it (jsonencode writes no white space)."
                    ),
                );
            }
        }
    }
}

/// Whether two policy values mean the same: equal as JSON once a list of
/// one is read as its element and lists as sets (key order, white space and
/// element order aside). Values that are not both JSON compare as written.
pub fn equivalent(a: &Value, b: &Value) -> bool {
    match (a.as_str(), b.as_str()) {
        (Some(a), Some(b)) => same(a, b),
        _ => a == b,
    }
}

/// [`equivalent`], for two documents as written.
pub fn same(a: &str, b: &str) -> bool {
    match (
        serde_json::from_str::<serde_json::Value>(a),
        serde_json::from_str::<serde_json::Value>(b),
    ) {
        (Ok(a), Ok(b)) => normal(a) == normal(b),
        _ => a == b,
    }
}

/// A policy as Terraform's `jsonencode` writes it (keys sorted, no white
/// space), for a state with no spelling of its own to keep (after an
/// import, or a create that left the policy to EC2): the configuration
/// Terraform generates for it then plans no change. Text that is not JSON
/// is kept as it is.
pub fn canonical(text: &str) -> String {
    fn sorted(value: serde_json::Value) -> serde_json::Value {
        use serde_json::Value as J;
        match value {
            J::Array(items) => J::Array(items.into_iter().map(sorted).collect()),
            J::Object(map) => {
                let mut entries: Vec<(String, J)> = map.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                J::Object(entries.into_iter().map(|(k, v)| (k, sorted(v))).collect())
            }
            other => other,
        }
    }
    serde_json::from_str::<serde_json::Value>(text)
        .map(|doc| sorted(doc).to_string())
        .unwrap_or_else(|_| text.to_owned())
}

/// The document in one spelling: a list of one is its element, a list's
/// elements are in the order of their own normal spellings.
fn normal(value: serde_json::Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        J::Array(items) => {
            let mut items: Vec<J> = items.into_iter().map(normal).collect();
            if items.len() == 1 {
                return items.remove(0);
            }
            items.sort_by_cached_key(|i| i.to_string());
            J::Array(items)
        }
        J::Object(map) => J::Object(map.into_iter().map(|(k, v)| (k, normal(v))).collect()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Value {
        Value::String(text.to_owned())
    }

    #[test]
    fn spelling_aside_a_policy_is_the_same() {
        let written = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":["rds-db:connect","rds:Describe*"],"Resource":"*"}]}"#;
        let shown = r#"{
          "Statement": {"Resource": "*", "Action": ["rds:Describe*", "rds-db:connect"],
                        "Principal": "*", "Effect": "Allow"},
          "Version": "2012-10-17"
        }"#;
        assert!(equivalent(&s(written), &s(shown)));
        assert!(same(r#"{"Action":"x"}"#, r#"{"Action":["x"]}"#));
    }

    #[test]
    fn the_canonical_spelling_is_jsonencodes() {
        assert_eq!(
            canonical(
                "{\n \"Version\": \"2008-10-17\", \"Statement\": [{\"Effect\": \"Allow\", \"Action\": \"*\"}]}"
            ),
            r#"{"Statement":[{"Action":"*","Effect":"Allow"}],"Version":"2008-10-17"}"#
        );
        assert_eq!(canonical("not json"), "not json");
    }

    #[test]
    fn a_change_of_meaning_is_a_change() {
        let allow = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}]}"#;
        assert!(!same(allow, &allow.replace("Allow", "Deny")));
        assert!(!same(r#"{"Action":["a","b"]}"#, r#"{"Action":["a"]}"#));
        assert!(!same("not json", "not  json"));
        assert!(equivalent(&Value::Null, &Value::Null));
        assert!(!equivalent(&Value::Null, &s("{}")));
    }

    #[test]
    fn a_bad_policy_names_the_attribute_and_the_fix() {
        let path = AttributePath::root().attr("policy");
        for (text, summary, says) in [
            ("{\"Version\": ", "Invalid policy", "jsonencode"),
            ("[1, 2]", "Invalid policy", "not an object"),
        ] {
            let mut diags = Diagnostics::new();
            check(path.clone(), &s(text), &mut diags);
            let d: Vec<_> = diags.iter().collect();
            assert_eq!(d.len(), 1, "{text}");
            assert_eq!(d[0].summary, summary);
            assert!(d[0].detail.contains(says), "{}", d[0].detail);
        }
        let long = format!(
            r#"{{"Version":"2012-10-17","Statement":[{{"Effect":"Allow","Principal":"*","Action":"*","Resource":"{}"}}]}}"#,
            "r".repeat(MAX_CHARS)
        );
        let mut diags = Diagnostics::new();
        check(path.clone(), &s(&long), &mut diags);
        assert!(diags.has_errors());
        let mut diags = Diagnostics::new();
        check(
            path,
            &s(r#"{"Version":"2012-10-17","Statement":[]}"#),
            &mut diags,
        );
        assert!(diags.is_empty());
    }
}
