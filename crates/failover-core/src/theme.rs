//! Themes by meaning (ok, warn, crit, stale, accent...), loaded from themes/*.toml. The four
//! shipped themes are built in; `--theme` also takes a path to a file of the same form. Also the
//! rest of how things look: ASCII or not, the status glyphs, and cells cut to a width.

use std::path::Path;

use indexmap::IndexMap;
use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;

pub const BUILT_IN: [(&str, &str); 4] = [
    ("dark", include_str!("../../../themes/dark.toml")),
    ("light", include_str!("../../../themes/light.toml")),
    (
        "high-contrast",
        include_str!("../../../themes/high-contrast.toml"),
    ),
    ("mono", include_str!("../../../themes/mono.toml")),
];

/// How the screen looks: colours by meaning, and whether only ASCII may be drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct View {
    pub theme: Theme,
    pub ascii: bool,
}

/// The status symbols of every pane, in Unicode or in ASCII.
pub struct Glyphs {
    pub ok: &'static str,
    pub bad: &'static str,
    pub warn: &'static str,
    pub pending: &'static str,
    pub stale: &'static str,
    pub ellipsis: &'static str,
}

impl Glyphs {
    pub fn new(ascii: bool) -> Glyphs {
        if ascii {
            Glyphs {
                ok: "+",
                bad: "x",
                warn: "!",
                pending: ".",
                stale: "?",
                ellipsis: "~",
            }
        } else {
            Glyphs {
                ok: "✔",
                bad: "✖",
                warn: "▲",
                pending: "…",
                stale: "◌",
                ellipsis: "…",
            }
        }
    }
}

/// Pads or cuts to exactly `width` columns.
pub fn cell(text: &str, width: usize, g: &Glyphs) -> String {
    let count = text.chars().count();
    if count <= width {
        format!("{text:<width$}")
    } else if width == 0 {
        String::new()
    } else {
        let mut s: String = text.chars().take(width - 1).collect();
        s.push_str(g.ellipsis);
        s
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    pub text: Style,
    pub dim: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    pub stale: Style,
    pub accent: Style,
    pub border: Style,
    pub focus: Style,
    pub badge_live: Style,
    pub badge_watch: Style,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum RoleFile {
    Colour(String),
    Full {
        fg: Option<String>,
        bg: Option<String>,
        #[serde(default)]
        bold: bool,
        #[serde(default)]
        reversed: bool,
        #[serde(default)]
        underlined: bool,
    },
}

const ROLES: [&str; 11] = [
    "text",
    "dim",
    "ok",
    "warn",
    "crit",
    "stale",
    "accent",
    "border",
    "focus",
    "badge-live",
    "badge-watch",
];

impl Theme {
    /// A built-in name, or a path to a theme file.
    pub fn load(name_or_path: &str) -> Result<Theme, String> {
        if let Some((_, text)) = BUILT_IN.iter().find(|(n, _)| *n == name_or_path) {
            return Theme::parse(text).map_err(|e| format!("built-in theme {name_or_path}: {e}"));
        }
        let path = Path::new(name_or_path);
        if path.extension().is_some_and(|e| e == "toml") || name_or_path.contains('/') {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read theme {}: {e}", path.display()))?;
            return Theme::parse(&text).map_err(|e| format!("theme {}: {e}", path.display()));
        }
        let names: Vec<&str> = BUILT_IN.iter().map(|(n, _)| *n).collect();
        Err(format!(
            "unknown theme {name_or_path:?}: expected one of {} or a path to a .toml file",
            names.join(", ")
        ))
    }

    pub fn mono() -> Theme {
        Theme::parse(BUILT_IN[3].1).unwrap_or_else(|_| Theme::plain())
    }

    fn plain() -> Theme {
        let s = Style::default();
        Theme {
            name: "plain".into(),
            text: s,
            dim: s,
            ok: s,
            warn: s,
            crit: s,
            stale: s,
            accent: s,
            border: s,
            focus: s,
            badge_live: s,
            badge_watch: s,
        }
    }

    pub fn parse(text: &str) -> Result<Theme, String> {
        let mut table: IndexMap<String, toml::Value> =
            toml::from_str(text).map_err(|e| e.message().trim().to_string())?;
        let name = match table.shift_remove("name") {
            Some(toml::Value::String(s)) => s,
            Some(_) => return Err("name must be a string".into()),
            None => "custom".into(),
        };
        let mut styles = Vec::new();
        for role in ROLES {
            let value = table
                .shift_remove(role)
                .ok_or_else(|| format!("missing role {role:?}"))?;
            let parsed: RoleFile = value
                .try_into()
                .map_err(|e: toml::de::Error| format!("role {role}: {}", e.message().trim()))?;
            styles.push(style(role, parsed)?);
        }
        if let Some(extra) = table.keys().next() {
            return Err(format!(
                "unknown role {extra:?}: expected one of {}",
                ROLES.join(", ")
            ));
        }
        let [
            text,
            dim,
            ok,
            warn,
            crit,
            stale,
            accent,
            border,
            focus,
            badge_live,
            badge_watch,
        ] = <[Style; 11]>::try_from(styles).map_err(|_| "internal: role count".to_string())?;
        Ok(Theme {
            name,
            text,
            dim,
            ok,
            warn,
            crit,
            stale,
            accent,
            border,
            focus,
            badge_live,
            badge_watch,
        })
    }
}

fn style(role: &str, file: RoleFile) -> Result<Style, String> {
    let (fg, bg, bold, reversed, underlined) = match file {
        RoleFile::Colour(c) => (Some(c), None, false, false, false),
        RoleFile::Full {
            fg,
            bg,
            bold,
            reversed,
            underlined,
        } => (fg, bg, bold, reversed, underlined),
    };
    let mut style = Style::default();
    if let Some(c) = fg {
        style = style.fg(colour(role, &c)?);
    }
    if let Some(c) = bg {
        style = style.bg(colour(role, &c)?);
    }
    for (on, m) in [
        (bold, Modifier::BOLD),
        (reversed, Modifier::REVERSED),
        (underlined, Modifier::UNDERLINED),
    ] {
        if on {
            style = style.add_modifier(m);
        }
    }
    Ok(style)
}

fn colour(role: &str, text: &str) -> Result<Color, String> {
    text.replace('-', "")
        .parse::<Color>()
        .map_err(|_| format!("role {role}: unknown colour {text:?}: expected a name like \"green\" or \"light-red\", or \"#rrggbb\""))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_themes_parse() {
        for (name, _) in BUILT_IN {
            let theme = Theme::load(name).unwrap();
            assert_eq!(theme.name, name);
        }
    }

    #[test]
    fn bad_themes_say_what_is_wrong() {
        assert!(
            Theme::load("neon")
                .unwrap_err()
                .contains("expected one of dark")
        );
        let bad = BUILT_IN[0].1.replace("\"green\"", "\"grean\"");
        assert!(
            Theme::parse(&bad)
                .unwrap_err()
                .contains("unknown colour \"grean\"")
        );
    }
}
