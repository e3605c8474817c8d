//! JSON for the plan and the dry run, with the keys in the order AWS documents them (serde_json's
//! map would sort them) and laid out for a terminal: a value that fits on one line stays on one.

/// A JSON value whose objects keep their key order.
#[derive(Debug, Clone, PartialEq)]
pub enum Json {
    Str(String),
    Num(i64),
    Bool(bool),
    Arr(Vec<Json>),
    Obj(Vec<(&'static str, Json)>),
}

/// Lines wider than this (indent included) are broken up, where a container allows it.
const WIDTH: usize = 72;

fn quote(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

impl Json {
    pub fn str(s: impl Into<String>) -> Json {
        Json::Str(s.into())
    }

    /// One line, with a space after each ':' and ','.
    pub fn flat(&self) -> String {
        match self {
            Json::Str(s) => quote(s),
            Json::Num(n) => n.to_string(),
            Json::Bool(b) => b.to_string(),
            Json::Arr(items) => {
                let inner: Vec<String> = items.iter().map(Json::flat).collect();
                format!("[{}]", inner.join(", "))
            }
            Json::Obj(fields) => {
                let inner: Vec<String> = fields
                    .iter()
                    .map(|(k, v)| format!("{}: {}", quote(k), v.flat()))
                    .collect();
                format!("{{{}}}", inner.join(", "))
            }
        }
    }

    /// Indented lines, each starting with at least `indent` spaces.
    pub fn lines(&self, indent: usize) -> Vec<String> {
        let mut out = Vec::new();
        self.push_lines(None, indent, false, &mut out);
        out
    }

    fn push_lines(&self, key: Option<&str>, indent: usize, comma: bool, out: &mut Vec<String>) {
        let pad = " ".repeat(indent);
        let head = match key {
            Some(k) => format!("{pad}{}: ", quote(k)),
            None => pad.clone(),
        };
        let tail = if comma { "," } else { "" };
        let flat = self.flat();
        if head.len() + flat.len() + tail.len() <= WIDTH {
            out.push(format!("{head}{flat}{tail}"));
            return;
        }
        match self {
            Json::Arr(items) if !items.is_empty() => {
                out.push(format!("{head}["));
                for (i, item) in items.iter().enumerate() {
                    item.push_lines(None, indent + 2, i + 1 < items.len(), out);
                }
                out.push(format!("{pad}]{tail}"));
            }
            Json::Obj(fields) if !fields.is_empty() => {
                out.push(format!("{head}{{"));
                for (i, (k, v)) in fields.iter().enumerate() {
                    v.push_lines(Some(k), indent + 2, i + 1 < fields.len(), out);
                }
                out.push(format!("{pad}}}{tail}"));
            }
            _ => out.push(format!("{head}{flat}{tail}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_values_stay_on_one_line_long_ones_break_and_the_text_is_json() {
        let long = "x".repeat(70);
        let doc = Json::Obj(vec![
            ("Comment", Json::str("a \"quoted\" word")),
            (
                "Changes",
                Json::Arr(vec![Json::Obj(vec![
                    ("Name", Json::str(long.clone())),
                    ("TTL", Json::Num(60)),
                    ("Values", Json::Arr(vec![Json::str("10.0.2.100")])),
                    ("On", Json::Bool(true)),
                ])]),
            ),
        ]);
        let lines = doc.lines(2);
        assert_eq!(
            lines,
            vec![
                "  {".to_string(),
                "    \"Comment\": \"a \\\"quoted\\\" word\",".into(),
                "    \"Changes\": [".into(),
                "      {".into(),
                format!("        \"Name\": \"{long}\","),
                "        \"TTL\": 60,".into(),
                "        \"Values\": [\"10.0.2.100\"],".into(),
                "        \"On\": true".into(),
                "      }".into(),
                "    ]".into(),
                "  }".into(),
            ]
        );
        let parsed: serde_json::Value = serde_json::from_str(&lines.join("\n")).unwrap();
        assert_eq!(parsed["Changes"][0]["TTL"], 60);
        let flat: serde_json::Value = serde_json::from_str(&doc.flat()).unwrap();
        assert_eq!(parsed, flat);
    }
}
