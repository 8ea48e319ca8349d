//! Turns one Sigma YAML file into a compiled rule: metadata, selections and condition,
//! with every value compiled once.
//!
//! Owns: the YAML shape of a rule, the logsource filter and the per-file problem report.
//! Must not: walk folders or evaluate documents.

use std::path::Path;

use yaml_rust2::{Yaml, YamlLoader};

use super::condition::{parse_condition, Condition, ConditionError};
use super::detection::{Detection, FieldItem, ItemTest, Selection};
use super::error::Problem;
use super::modifier::{parse_field_key, ValueKind};
use super::value::{compile_regex, TextMatcher, ValueMatcher};

/// Descriptive fields of a rule, kept for reports (the licence requires `author`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RuleMeta {
    pub id: String,
    pub title: String,
    pub level: String,
    pub status: String,
    pub author: String,
    pub tags: Vec<String>,
    pub falsepositives: Vec<String>,
    pub file: std::path::PathBuf,
}

/// Parses and compiles the rule in `text`, read from `file`.
pub fn compile_rule(file: &Path, text: &str) -> Result<(RuleMeta, Detection), Problem> {
    let docs = YamlLoader::load_from_str(text)
        .map_err(|e| Problem::Invalid(format!("YAML syntax: {e}")))?;
    let doc = match docs.as_slice() {
        [one] => one,
        [] => return Err(Problem::Invalid("empty file".into())),
        _ => {
            return Err(Problem::Unsupported(
                "multi-document rule collection".into(),
            ))
        }
    };
    if !doc["correlation"].is_badvalue() {
        return Err(Problem::Unsupported("correlation rule".into()));
    }
    check_logsource(&doc["logsource"])?;
    let meta = read_meta(doc, file)?;
    let detection = compile_detection(&doc["detection"])?;
    Ok((meta, detection))
}

fn check_logsource(logsource: &Yaml) -> Result<(), Problem> {
    let product = logsource["product"].as_str().unwrap_or("");
    let service = logsource["service"].as_str().unwrap_or("");
    if product.eq_ignore_ascii_case("aws") && service.eq_ignore_ascii_case("cloudtrail") {
        Ok(())
    } else {
        Err(Problem::Skipped(format!(
            "logsource is product '{product}', service '{service}', not aws/cloudtrail"
        )))
    }
}

fn read_meta(doc: &Yaml, file: &Path) -> Result<RuleMeta, Problem> {
    let text = |key: &str| scalar_text(&doc[key]).unwrap_or_default();
    let list = |key: &str| match &doc[key] {
        Yaml::Array(items) => items.iter().filter_map(scalar_text).collect(),
        other => scalar_text(other).into_iter().collect(),
    };
    let title = text("title");
    if title.is_empty() {
        return Err(Problem::Invalid("rule has no title".into()));
    }
    Ok(RuleMeta {
        id: text("id"),
        title,
        level: text("level"),
        status: text("status"),
        author: text("author"),
        tags: list("tags"),
        falsepositives: list("falsepositives"),
        file: file.to_path_buf(),
    })
}

/// The text of a YAML scalar as Sigma compares it (numbers and booleans as written).
fn scalar_text(value: &Yaml) -> Option<String> {
    match value {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn compile_detection(detection: &Yaml) -> Result<Detection, Problem> {
    let Yaml::Hash(map) = detection else {
        return Err(Problem::Invalid("detection is not a map".into()));
    };
    let mut selections = Vec::new();
    let mut conditions = Vec::new();
    for (key, value) in map {
        let name = key
            .as_str()
            .ok_or_else(|| Problem::Invalid("non-string detection key".into()))?;
        match name {
            "condition" => conditions = condition_texts(value)?,
            "timeframe" => return Err(Problem::Unsupported("timeframe".into())),
            _ => selections.push(compile_selection(name, value)?),
        }
    }
    if conditions.is_empty() {
        return Err(Problem::Invalid("detection has no condition".into()));
    }
    let names: Vec<String> = selections.iter().map(|s| s.name.clone()).collect();
    let mut parsed = Vec::new();
    for text in &conditions {
        parsed.push(parse_condition(text, &names).map_err(|e| match e {
            ConditionError::Unsupported(s) => Problem::Unsupported(s),
            ConditionError::Invalid(s) => Problem::Invalid(s),
        })?);
    }
    let condition = if parsed.len() == 1 {
        parsed.remove(0)
    } else {
        Condition::Or(parsed)
    };
    Ok(Detection {
        selections,
        condition,
    })
}

fn condition_texts(value: &Yaml) -> Result<Vec<String>, Problem> {
    match value {
        Yaml::String(s) => Ok(vec![s.clone()]),
        Yaml::Array(items) => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Problem::Invalid("condition list holds a non-string".into())),
        _ => Err(Problem::Invalid("condition is not a string or list".into())),
    }
}

fn compile_selection(name: &str, value: &Yaml) -> Result<Selection, Problem> {
    let alternatives = match value {
        Yaml::Hash(_) => vec![compile_map(value)?],
        Yaml::Array(items)
            if !items.is_empty() && items.iter().all(|i| matches!(i, Yaml::Hash(_))) =>
        {
            items.iter().map(compile_map).collect::<Result<_, _>>()?
        }
        Yaml::Array(_) | Yaml::String(_) => {
            return Err(Problem::Unsupported(format!(
                "keyword search in selection '{name}'"
            )))
        }
        _ => {
            return Err(Problem::Invalid(format!(
                "selection '{name}' is not a map or list"
            )))
        }
    };
    Ok(Selection {
        name: name.to_owned(),
        alternatives,
    })
}

fn compile_map(map: &Yaml) -> Result<Vec<FieldItem>, Problem> {
    let Yaml::Hash(entries) = map else {
        return Err(Problem::Invalid("selection item is not a map".into()));
    };
    let mut items = Vec::new();
    for (key, value) in entries {
        let key = key
            .as_str()
            .ok_or_else(|| Problem::Invalid("non-string field name".into()))?;
        items.push(compile_item(key, value)?);
    }
    Ok(items)
}

fn compile_item(key: &str, value: &Yaml) -> Result<FieldItem, Problem> {
    let spec =
        parse_field_key(key).map_err(|e| Problem::Unsupported(format!("{} in '{key}'", e.0)))?;
    let values: Vec<&Yaml> = match value {
        Yaml::Array(items) => items.iter().collect(),
        one => vec![one],
    };
    let test = match spec.kind {
        ValueKind::Exists => match values.as_slice() {
            [Yaml::Boolean(b)] => ItemTest::Exists(*b),
            _ => return Err(Problem::Invalid(format!("'{key}' needs one boolean"))),
        },
        ValueKind::FieldRef(op) => ItemTest::FieldRef {
            others: values
                .iter()
                .map(|v| scalar_text(v).map(|s| s.split('.').map(str::to_owned).collect()))
                .collect::<Option<_>>()
                .ok_or_else(|| Problem::Invalid(format!("'{key}' needs field names")))?,
            op,
            cased: spec.cased,
            all: spec.all,
        },
        kind => ItemTest::Values {
            values: values
                .iter()
                .map(|v| compile_value(key, kind, spec.cased, v))
                .collect::<Result<_, _>>()?,
            all: spec.all,
        },
    };
    Ok(FieldItem {
        path: spec.path,
        test,
    })
}

fn compile_value(
    key: &str,
    kind: ValueKind,
    cased: bool,
    value: &Yaml,
) -> Result<ValueMatcher, Problem> {
    if matches!(value, Yaml::Null) {
        return Ok(ValueMatcher::Null);
    }
    let text = scalar_text(value)
        .ok_or_else(|| Problem::Unsupported(format!("non-scalar value under '{key}'")))?;
    let invalid =
        |e: &dyn std::fmt::Display| Problem::Invalid(format!("value '{text}' of '{key}': {e}"));
    match kind {
        ValueKind::Text(op) => TextMatcher::compile(&text, op, cased)
            .map(ValueMatcher::Text)
            .map_err(|e| invalid(&e)),
        ValueKind::Regex(flags) => compile_regex(&text, flags)
            .map(ValueMatcher::Regex)
            .map_err(|e| invalid(&e)),
        ValueKind::Cidr => text
            .parse::<ipnet::IpNet>()
            .map(|net| ValueMatcher::Cidr(net.trunc()))
            .map_err(|e| invalid(&e)),
        ValueKind::Exists | ValueKind::FieldRef(_) => Err(invalid(&"not a value kind")),
    }
}
