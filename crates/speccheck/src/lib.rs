//! Validate JSON values against the schemas of an OpenAPI 3.0 document.
//!
//! Test support for the sandbox and the provider adapters: "does this answer have exactly the
//! shape the provider's official spec promises?" (`../shared/specs/*.json`).
//!
//! Why a focused validator and not the `jsonschema` crate: OpenAPI 3.0 schemas are not JSON
//! Schema (`nullable: true`, siblings of `$ref` ignored, unknown formats such as `unix-time`),
//! so `jsonschema` would need a rewriting pass over a 1 MB document first; compiling Stripe's
//! schema graph eagerly means walking ~500 interlinked schemas with reference cycles; and the
//! crate brings regex engines, URL/IDNA handling and more to every cold CI build. The specs use a
//! small keyword set, so this crate walks the schema lazily, driven by the value (cycles are
//! harmless because values are finite), and depends on `serde_json` only.
//!
//! Semantics (OpenAPI 3.0.x): `$ref` (local `#/…` pointers; sibling keywords ignored, as 3.0
//! says), `nullable` (`null` is accepted only where `nullable: true`; a schema with no `type`,
//! `enum`, `properties`, `items` or composition accepts anything), `type` (`integer` means a
//! JSON number without fraction written as an integer), `properties`, `required`,
//! `additionalProperties` (bool or schema), `items`, `minItems`/`maxItems`, `enum`, `anyOf`,
//! `oneOf` (exactly one), `allOf`, `not`, `minLength`/`maxLength` (in characters),
//! `minimum`/`maximum` (with draft-4 boolean `exclusive*`), and `pattern` limited to anchored
//! literals (`^/v1/charges`, `^abc$`), which is every pattern in the Stripe spec; any other
//! pattern is ignored, like `format`, `discriminator`, `example` and `x-*` keys.

use std::fmt;
use std::path::{Path, PathBuf};

use serde_json::Value;

/// Environment variable naming the folder that holds the provider specs.
pub const SPECS_DIR_ENV: &str = "SWITCHBOARD_SPECS_DIR";

/// Guard against `$ref` chains that never descend into the value (A → B → A).
const MAX_REF_HOPS: usize = 64;

/// One way a value breaks its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Violation {
    /// Where in the value, JSONPath-style: `$.data[3].amount`.
    pub path: String,
    /// What is wrong there.
    pub message: String,
}

impl fmt::Display for Violation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path, self.message)
    }
}

/// Problems finding or reading a spec, or naming something it does not contain.
#[derive(Debug)]
pub struct SpecError(pub String);

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for SpecError {}

/// The folder with the provider specs: `$SWITCHBOARD_SPECS_DIR`, else
/// `<workspace root>/../shared/specs` (the repository is cloned with `shared/` beside it).
pub fn specs_dir() -> Result<PathBuf, SpecError> {
    let (dir, how) = match std::env::var_os(SPECS_DIR_ENV) {
        Some(d) => (PathBuf::from(d), format!("from ${SPECS_DIR_ENV}")),
        None => {
            let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
            (
                root.join("../shared/specs"),
                "the default, <workspace>/../shared/specs".to_string(),
            )
        }
    };
    if dir.is_dir() {
        Ok(dir)
    } else {
        Err(SpecError(format!(
            "provider specs folder {} ({how}) does not exist: clone the repository with shared/ \
             beside it, or set {SPECS_DIR_ENV} to the folder holding stripe.json etc.",
            dir.display()
        )))
    }
}

/// A loaded OpenAPI 3.0 document.
pub struct Spec {
    doc: Value,
}

impl Spec {
    /// Load `file_name` (e.g. `"stripe.json"`) from [`specs_dir`].
    pub fn load(file_name: &str) -> Result<Spec, SpecError> {
        Self::load_path(&specs_dir()?.join(file_name))
    }

    pub fn load_path(path: &Path) -> Result<Spec, SpecError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| SpecError(format!("cannot read spec {}: {e}", path.display())))?;
        let doc = serde_json::from_str(&text)
            .map_err(|e| SpecError(format!("spec {} is not JSON: {e}", path.display())))?;
        Ok(Spec { doc })
    }

    pub fn from_value(doc: Value) -> Spec {
        Spec { doc }
    }

    pub fn document(&self) -> &Value {
        &self.doc
    }

    /// Validate against `#/components/schemas/<name>`.
    pub fn validate_schema(&self, name: &str, value: &Value) -> Result<Vec<Violation>, SpecError> {
        let schema = self
            .doc
            .pointer(&format!("/components/schemas/{}", escape(name)))
            .ok_or_else(|| SpecError(format!("no schema named {name:?} in components/schemas")))?;
        Ok(self.validate(schema, value))
    }

    /// The JSON schema of an operation's response: `paths[path][method].responses[status]`,
    /// falling back to `default` as OpenAPI does. `path` is the template (`/v1/charges/{charge}`).
    pub fn response_schema(
        &self,
        method: &str,
        path: &str,
        status: u16,
    ) -> Result<&Value, SpecError> {
        let op = self
            .doc
            .get("paths")
            .and_then(|p| p.get(path))
            .and_then(|p| p.get(method.to_ascii_lowercase()))
            .ok_or_else(|| SpecError(format!("no operation {method} {path} in the spec")))?;
        let responses = op
            .get("responses")
            .ok_or_else(|| SpecError(format!("{method} {path} has no responses")))?;
        let response = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| {
                SpecError(format!(
                    "{method} {path} has no {status} or default response"
                ))
            })?;
        let response = self.deref(response);
        response
            .pointer("/content/application~1json/schema")
            .ok_or_else(|| {
                SpecError(format!(
                    "{method} {path} {status}: no application/json schema"
                ))
            })
    }

    /// Validate a response body of `method path` with `status` against the spec.
    pub fn validate_response(
        &self,
        method: &str,
        path: &str,
        status: u16,
        body: &Value,
    ) -> Result<Vec<Violation>, SpecError> {
        let schema = self.response_schema(method, path, status)?;
        Ok(self.validate(schema, body))
    }

    /// Validate `value` against a schema taken from this document (refs resolve against it).
    pub fn validate(&self, schema: &Value, value: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.check(schema, value, &mut "$".to_string(), &mut out, 0);
        out
    }

    fn deref<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..MAX_REF_HOPS {
            match v
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| self.resolve(r))
            {
                Some(target) => v = target,
                None => break,
            }
        }
        v
    }

    fn resolve(&self, reference: &str) -> Option<&Value> {
        self.doc.pointer(reference.strip_prefix('#')?)
    }

    fn check(
        &self,
        schema: &Value,
        v: &Value,
        path: &mut String,
        out: &mut Vec<Violation>,
        hops: usize,
    ) {
        let mut bad = |path: &str, message: String| out_push(out, path, message);
        let Some(s) = schema.as_object() else {
            if schema == &Value::Bool(false) {
                bad(path, "no value is allowed here".into());
            }
            return;
        };
        if let Some(r) = s.get("$ref").and_then(Value::as_str) {
            // OpenAPI 3.0: siblings of $ref are ignored.
            match self.resolve(r) {
                Some(_) if hops >= MAX_REF_HOPS => bad(path, format!("$ref cycle through {r}")),
                Some(target) => self.check(target, v, path, out, hops + 1),
                None => bad(path, format!("unresolvable $ref {r}")),
            }
            return;
        }
        let nullable = s.get("nullable").and_then(Value::as_bool) == Some(true);
        if v.is_null() {
            if nullable {
                return;
            }
            let constrained = ["type", "enum", "properties", "items"]
                .iter()
                .any(|k| s.contains_key(*k));
            if constrained {
                bad(path, "null is not allowed (schema is not nullable)".into());
                return;
            }
        }
        if let Some(t) = s.get("type").and_then(Value::as_str)
            && !type_matches(t, v)
        {
            bad(path, format!("expected {t}, got {}", describe(v)));
            return; // the remaining keywords would only repeat the problem
        }
        if let Some(options) = s.get("enum").and_then(Value::as_array)
            && !options.contains(v)
        {
            bad(
                path,
                format!("{v} is not one of {}", Value::Array(options.clone())),
            );
        }
        match v {
            Value::String(text) => self.check_string(s, text, path, out),
            Value::Number(n) => check_number(s, n.as_f64().unwrap_or(f64::NAN), path, out),
            Value::Array(items) => {
                let len = items.len() as u64;
                if let Some(min) = s
                    .get("minItems")
                    .and_then(Value::as_u64)
                    .filter(|m| len < *m)
                {
                    out_push(out, path, format!("{len} items, fewer than minItems {min}"));
                }
                if let Some(max) = s
                    .get("maxItems")
                    .and_then(Value::as_u64)
                    .filter(|m| len > *m)
                {
                    out_push(out, path, format!("{len} items, more than maxItems {max}"));
                }
                if let Some(item_schema) = s.get("items") {
                    for (i, item) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.check(item_schema, item, path, out, 0);
                        path.truncate(len);
                    }
                }
            }
            Value::Object(map) => {
                let props = s.get("properties").and_then(Value::as_object);
                if let Some(required) = s.get("required").and_then(Value::as_array) {
                    for name in required.iter().filter_map(Value::as_str) {
                        if !map.contains_key(name) {
                            out_push(out, path, format!("missing required property {name:?}"));
                        }
                    }
                }
                for (key, item) in map {
                    let len = path.len();
                    push_key(path, key);
                    match (
                        props.and_then(|p| p.get(key)),
                        s.get("additionalProperties"),
                    ) {
                        (Some(prop_schema), _) => self.check(prop_schema, item, path, out, 0),
                        (None, Some(Value::Bool(false))) => out_push(
                            out,
                            path,
                            "property not allowed (additionalProperties: false)".into(),
                        ),
                        (None, Some(extra @ Value::Object(_))) => {
                            self.check(extra, item, path, out, 0)
                        }
                        _ => {}
                    }
                    path.truncate(len);
                }
            }
            _ => {}
        }
        if let Some(all) = s.get("allOf").and_then(Value::as_array) {
            for branch in all {
                self.check(branch, v, path, out, hops);
            }
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            self.check_alternatives("anyOf", any, v, path, out, hops);
        }
        if let Some(one) = s.get("oneOf").and_then(Value::as_array) {
            self.check_alternatives("oneOf", one, v, path, out, hops);
        }
        if let Some(not) = s.get("not")
            && self.validate_at(not, v, path, hops).is_empty()
        {
            out_push(out, path, "value matches a `not` schema".into());
        }
    }

    fn validate_at(&self, schema: &Value, v: &Value, path: &str, hops: usize) -> Vec<Violation> {
        let mut sub = Vec::new();
        self.check(schema, v, &mut path.to_string(), &mut sub, hops);
        sub
    }

    fn check_alternatives(
        &self,
        keyword: &str,
        branches: &[Value],
        v: &Value,
        path: &str,
        out: &mut Vec<Violation>,
        hops: usize,
    ) {
        let mut matched = 0;
        let mut closest: Option<Vec<Violation>> = None;
        for branch in branches {
            let errors = self.validate_at(branch, v, path, hops);
            if errors.is_empty() {
                matched += 1;
                if keyword == "anyOf" {
                    return;
                }
            } else if closest
                .as_ref()
                .is_none_or(|c| miss_rank(path, &errors) < miss_rank(path, c))
            {
                closest = Some(errors);
            }
        }
        match matched {
            1 => {}
            0 => {
                out_push(
                    out,
                    path,
                    format!(
                        "matches none of the {} {keyword} alternatives",
                        branches.len()
                    ),
                );
                // The nearest miss says most about what went wrong.
                out.extend(closest.unwrap_or_default());
            }
            n => out_push(
                out,
                path,
                format!("matches {n} oneOf alternatives, expected exactly one"),
            ),
        }
    }

    fn check_string(
        &self,
        s: &serde_json::Map<String, Value>,
        text: &str,
        path: &str,
        out: &mut Vec<Violation>,
    ) {
        let chars = text.chars().count() as u64;
        if let Some(max) = s
            .get("maxLength")
            .and_then(Value::as_u64)
            .filter(|m| chars > *m)
        {
            out_push(
                out,
                path,
                format!("{chars} characters, longer than maxLength {max}"),
            );
        }
        if let Some(min) = s
            .get("minLength")
            .and_then(Value::as_u64)
            .filter(|m| chars < *m)
        {
            out_push(
                out,
                path,
                format!("{chars} characters, shorter than minLength {min}"),
            );
        }
        if let Some(pattern) = s.get("pattern").and_then(Value::as_str)
            && literal_pattern_fails(pattern, text)
        {
            out_push(
                out,
                path,
                format!("{text:?} does not match pattern {pattern:?}"),
            );
        }
    }
}

/// How far a failed alternative is from matching: a wrong type right here is the farthest
/// miss (the value is not even that kind of thing); otherwise fewer violations is nearer.
fn miss_rank(path: &str, errors: &[Violation]) -> (bool, usize) {
    let wrong_type_here = errors
        .iter()
        .any(|e| e.path == path && e.message.starts_with("expected "));
    (wrong_type_here, errors.len())
}

fn out_push(out: &mut Vec<Violation>, path: &str, message: String) {
    out.push(Violation {
        path: path.to_string(),
        message,
    });
}

fn check_number(s: &serde_json::Map<String, Value>, n: f64, path: &str, out: &mut Vec<Violation>) {
    let flag = |k: &str| s.get(k).and_then(Value::as_bool) == Some(true);
    if let Some(min) = s.get("minimum").and_then(Value::as_f64)
        && (n < min || (flag("exclusiveMinimum") && n == min))
    {
        out_push(out, path, format!("{n} is below the minimum {min}"));
    }
    if let Some(max) = s.get("maximum").and_then(Value::as_f64)
        && (n > max || (flag("exclusiveMaximum") && n == max))
    {
        out_push(out, path, format!("{n} is above the maximum {max}"));
    }
}

/// `true` when `pattern` is an anchored literal that `text` does not match; unsupported
/// (real regular expression) patterns never fail.
fn literal_pattern_fails(pattern: &str, text: &str) -> bool {
    let (start, rest) = match pattern.strip_prefix('^') {
        Some(rest) => (true, rest),
        None => (false, pattern),
    };
    let (end, literal) = match rest.strip_suffix('$') {
        Some(lit) => (true, lit),
        None => (false, rest),
    };
    let is_literal = !literal.chars().any(|c| "\\.^$|?*+()[]{}".contains(c));
    if !is_literal {
        return false;
    }
    match (start, end) {
        (true, true) => text != literal,
        (true, false) => !text.starts_with(literal),
        (false, true) => !text.ends_with(literal),
        (false, false) => !text.contains(literal),
    }
}

fn type_matches(t: &str, v: &Value) -> bool {
    match t {
        "string" => v.is_string(),
        "integer" => v.is_i64() || v.is_u64(),
        "number" => v.is_number(),
        "boolean" => v.is_boolean(),
        "array" => v.is_array(),
        "object" => v.is_object(),
        _ => true, // unknown type names are the spec's problem, not the value's
    }
}

fn describe(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::Bool(_) => "boolean".into(),
        Value::Number(n) if n.is_f64() => format!("number {n}"),
        Value::Number(n) => format!("integer {n}"),
        Value::String(s) if s.len() > 40 => {
            format!("string {:?}…", s.chars().take(40).collect::<String>())
        }
        Value::String(s) => format!("string {s:?}"),
        Value::Array(_) => "array".into(),
        Value::Object(_) => "object".into(),
    }
}

fn push_key(path: &mut String, key: &str) {
    if !key.is_empty() && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        path.push('.');
        path.push_str(key);
    } else {
        path.push_str(&format!("[{key:?}]"));
    }
}

/// JSON-pointer escaping of one reference token.
fn escape(token: &str) -> String {
    token.replace('~', "~0").replace('/', "~1")
}

/// Panic with every violation listed when there are any; `what` names the value in the message.
pub fn assert_no_violations(what: &str, violations: &[Violation]) {
    if !violations.is_empty() {
        let list: Vec<String> = violations
            .iter()
            .take(50)
            .map(|v| format!("  {v}"))
            .collect();
        panic!(
            "{what}: {} spec violation(s){}\n{}",
            violations.len(),
            if violations.len() > 50 {
                " (first 50)"
            } else {
                ""
            },
            list.join("\n")
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn spec() -> Spec {
        Spec::from_value(json!({
            "openapi": "3.0.0",
            "paths": {
                "/v1/things/{id}": {"get": {"responses": {
                    "200": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/thing"}}}},
                    "default": {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/error"}}}}
                }}}
            },
            "components": {"schemas": {
                "thing": {
                    "type": "object",
                    "required": ["id", "status", "amount"],
                    "properties": {
                        "id": {"type": "string", "maxLength": 8},
                        "amount": {"type": "integer"},
                        "status": {"type": "string", "enum": ["succeeded", "failed"]},
                        "description": {"type": "string", "nullable": true},
                        "url": {"type": "string", "pattern": "^/v1/things"},
                        "customer": {
                            "anyOf": [
                                {"type": "string", "maxLength": 5000},
                                {"$ref": "#/components/schemas/customer"}
                            ],
                            "nullable": true
                        },
                        "tags": {"type": "array", "items": {"type": "string"}},
                        "metadata": {"type": "object", "additionalProperties": {"type": "string"}}
                    }
                },
                "customer": {
                    "type": "object",
                    "required": ["id", "object"],
                    "properties": {"id": {"type": "string"}, "object": {"type": "string", "enum": ["customer"]}}
                },
                "strict": {"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": false},
                "either": {"oneOf": [{"type": "integer"}, {"type": "number"}]},
                "error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object"}}}
            }}
        }))
    }

    fn errs(name: &str, v: Value) -> Vec<Violation> {
        spec().validate_schema(name, &v).unwrap()
    }

    fn good() -> Value {
        json!({"id": "th_1", "amount": 100, "status": "succeeded", "description": null,
               "url": "/v1/things", "customer": null, "tags": ["a"], "metadata": {"k": "v"}})
    }

    #[test]
    fn a_valid_object_has_no_violations() {
        assert_eq!(errs("thing", good()), vec![]);
    }

    #[test]
    fn null_only_where_nullable() {
        let mut v = good();
        v["description"] = Value::Null; // nullable: fine
        assert!(errs("thing", v.clone()).is_empty());
        v["amount"] = Value::Null; // not nullable
        let e = errs("thing", v);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].path, "$.amount");
        assert!(e[0].message.contains("null is not allowed"));
    }

    #[test]
    fn wrong_enum_value_is_reported_with_its_path() {
        let mut v = good();
        v["status"] = json!("teleported");
        let e = errs("thing", v);
        assert_eq!(e.len(), 1, "{e:?}");
        assert_eq!(e[0].path, "$.status");
        assert!(e[0].message.contains("teleported"));
    }

    #[test]
    fn missing_required_field_and_wrong_types() {
        let mut v = good();
        v.as_object_mut().unwrap().remove("amount");
        v["tags"] = json!(["a", 3]);
        v["metadata"] = json!({"k": 1});
        let e = errs("thing", v);
        let paths: Vec<&str> = e.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, vec!["$", "$.metadata.k", "$.tags[1]"], "{e:?}");
        assert!(e[0].message.contains("\"amount\""));
    }

    #[test]
    fn integer_is_not_a_float() {
        let mut v = good();
        v["amount"] = json!(1.5);
        assert_eq!(errs("thing", v)[0].path, "$.amount");
    }

    #[test]
    fn expandable_field_accepts_id_or_object() {
        let mut v = good();
        v["customer"] = json!("cus_123");
        assert!(errs("thing", v.clone()).is_empty());
        v["customer"] = json!({"id": "cus_123", "object": "customer"});
        assert!(errs("thing", v.clone()).is_empty());
        v["customer"] = json!({"id": "cus_123", "object": "charge"});
        let e = errs("thing", v.clone());
        assert!(e[0].message.contains("none of the 2 anyOf"), "{e:?}");
        assert_eq!(
            e[1].path, "$.customer.object",
            "nearest miss explained: {e:?}"
        );
        v["customer"] = json!(42);
        assert!(!errs("thing", v).is_empty());
    }

    #[test]
    fn max_length_pattern_and_additional_properties() {
        let mut v = good();
        v["id"] = json!("th_123456789");
        v["url"] = json!("/v2/things");
        let e = errs("thing", v);
        assert_eq!(e.len(), 2, "{e:?}");
        let e = errs("strict", json!({"a": 1, "b": 2}));
        assert_eq!(
            e,
            vec![Violation {
                path: "$.b".into(),
                message: "property not allowed (additionalProperties: false)".into()
            }]
        );
    }

    #[test]
    fn one_of_needs_exactly_one() {
        assert!(errs("either", json!(1.5)).is_empty());
        assert!(
            errs("either", json!(1))[0]
                .message
                .contains("matches 2 oneOf")
        );
    }

    #[test]
    fn response_schema_falls_back_to_default() {
        let s = spec();
        assert!(
            s.validate_response("GET", "/v1/things/{id}", 200, &good())
                .unwrap()
                .is_empty()
        );
        let err = json!({"error": {"type": "invalid_request_error"}});
        assert!(
            s.validate_response("GET", "/v1/things/{id}", 404, &err)
                .unwrap()
                .is_empty()
        );
        assert!(
            !s.validate_response("GET", "/v1/things/{id}", 401, &good())
                .unwrap()
                .is_empty()
        );
        assert!(
            s.validate_response("POST", "/v1/things/{id}", 200, &good())
                .is_err()
        );
        assert!(s.validate_schema("nope", &good()).is_err());
    }

    #[test]
    fn literal_patterns() {
        assert!(!literal_pattern_fails("^/v1/charges", "/v1/charges"));
        assert!(literal_pattern_fails("^/v1/charges", "/v1/refunds"));
        assert!(literal_pattern_fails("^abc$", "abcd"));
        assert!(
            !literal_pattern_fails("^[a-z]+$", "ABC"),
            "real regexes are not enforced"
        );
    }

    /// The README of the specs folder says all of Stripe's own fixtures validate against
    /// stripe.json under the `nullable` rule; this validator must agree.
    #[test]
    fn stripe_fixtures_validate_against_the_full_stripe_spec() {
        let dir = specs_dir().unwrap_or_else(|e| panic!("{e}"));
        let spec = Spec::load("stripe.json").unwrap();
        let text = std::fs::read_to_string(dir.join("stripe.fixtures.json")).unwrap();
        let fixtures: Value = serde_json::from_str(&text).unwrap();
        let resources = fixtures["resources"].as_object().unwrap();
        assert!(resources.len() >= 50);
        for (name, value) in resources {
            let violations = spec.validate_schema(name, value).unwrap();
            assert_no_violations(&format!("fixture {name}"), &violations);
        }
        // And a broken one is caught.
        let mut charge = resources["charge"].clone();
        charge["livemode"] = json!("no");
        charge["billing_details"]["address"] = json!(5);
        let v = spec.validate_schema("charge", &charge).unwrap();
        assert!(v.iter().any(|v| v.path == "$.livemode"), "{v:?}");
        assert!(
            v.iter().any(|v| v.path == "$.billing_details.address"),
            "{v:?}"
        );
    }
}
