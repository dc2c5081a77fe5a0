//! The shape of the code, checked on every test run: imports point down the layers, no two
//! modules import each other, and no file or function grows past what a reader takes in at
//! once. Each failure names the file and line to change.
//!
//! The layers, bottom first (a module may import from its own rank or below, never above):
//!
//! ```text
//! domain, signing                      plain types and rules, the token signer
//! config, templates, i18n              settings as plain values, the template set, the
//!                                      words readers see in each language
//! store                                the database, one seam for SQLite and Postgres
//! mail, inbound, tracking, lists, accounts   what the engine does
//! actions                              the use cases every face calls
//! web                                  HTTP: the API, the admin pages, the public pages
//! app                                  start-up: builds everything and runs it
//! cli                                  the owner's commands
//! ```

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every top-level module under src/ and its rank (see the picture above).
const RANKS: &[(&str, u32)] = &[
    ("domain", 0),
    ("signing", 0),
    ("config", 1),
    ("templates", 1),
    ("i18n", 1),
    ("store", 2),
    ("mail", 3),
    ("inbound", 3),
    ("tracking", 3),
    ("lists", 3),
    ("accounts", 3),
    ("actions", 4),
    ("web", 5),
    ("app", 6),
    ("cli", 7),
];

const MAX_FILE_LINES: usize = 500;
const MAX_FUNCTION_LINES: usize = 100;

/// Files allowed over 500 lines, each because it is a table read as a whole, not logic.
const LONG_FILES: &[(&str, &str)] = &[(
    "config/settings.rs",
    "the table of every setting (variable, default, meaning, summary) README is checked against",
)];

/// One Rust source file under src/.
struct Source {
    /// Relative to src/, with `/` separators.
    path: String,
    text: String,
}

impl Source {
    /// The module path of the file: `mail/render/tests.rs` is `[mail, render, tests]`,
    /// `mail/mod.rs` is `[mail]`.
    fn module_path(&self) -> Vec<String> {
        let mut parts: Vec<String> = self
            .path
            .trim_end_matches(".rs")
            .split('/')
            .map(str::to_string)
            .collect();
        if parts.last().is_some_and(|last| last == "mod") {
            parts.pop();
        }
        parts
    }

    fn top(&self) -> String {
        self.module_path()[0].clone()
    }
}

fn sources() -> Vec<Source> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    collect(&root, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|file| Source {
            path: file
                .strip_prefix(&root)
                .unwrap()
                .to_string_lossy()
                .replace('\\', "/"),
            text: std::fs::read_to_string(&file).unwrap(),
        })
        .collect()
}

fn collect(dir: &Path, files: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            collect(&path, files);
        } else if path.extension().is_some_and(|ext| ext == "rs") {
            files.push(path);
        }
    }
}

/// The code of a line: what is left of it without a `//` comment and string contents.
fn code_of(line: &str) -> String {
    let mut code = String::new();
    let mut chars = line.chars().peekable();
    let mut in_string = false;
    while let Some(c) = chars.next() {
        if in_string {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_string = false;
                    code.push('"');
                }
                _ => {}
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                code.push('"');
            }
            '/' if chars.peek() == Some(&'/') => break,
            // A char literal, so '{' and '}' do not count as braces.
            '\'' => {
                let rest: String = chars.clone().take(3).collect();
                if rest.starts_with('\\') {
                    // '\n', '\'', '\\': skip up to the closing quote.
                    chars.next();
                    chars.next();
                    if chars.peek() == Some(&'\'') {
                        chars.next();
                    }
                    code.push_str("''");
                } else if rest.chars().nth(1) == Some('\'') {
                    chars.next();
                    chars.next();
                    code.push_str("''");
                } else {
                    // A lifetime.
                    code.push('\'');
                }
            }
            _ => code.push(c),
        }
    }
    code
}

/// A path one file uses: the module it names, resolved from `crate::` or `super::`.
struct Import {
    line: usize,
    /// The module path it reaches, from the crate root (at least one name).
    target: Vec<String>,
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

/// Reads the names after `at` in `code`: `a::b::{c, d::e}` gives `[a, b, c]` and
/// `[a, b, d, e]`, cut at two names (what the checks need).
fn paths_from(code: &str, base: &[String]) -> Vec<Vec<String>> {
    let mut path = base.to_vec();
    let mut rest = code;
    loop {
        let name: String = rest.chars().take_while(|&c| is_ident(c)).collect();
        if name.is_empty() {
            if let Some(group) = rest.strip_prefix('{') {
                // A group: each item continues the path so far.
                let mut depth = 0;
                let mut end = group.len();
                for (i, c) in group.char_indices() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => {
                            end = i;
                            break;
                        }
                        '}' => depth -= 1,
                        _ => {}
                    }
                }
                let mut found = Vec::new();
                let mut item_depth = 0;
                let mut start = 0;
                let inner = &group[..end];
                for (i, c) in inner.char_indices().chain([(inner.len(), ',')]) {
                    match c {
                        '{' => item_depth += 1,
                        '}' => item_depth -= 1,
                        ',' if item_depth == 0 => {
                            let item = inner[start..i].trim();
                            if !item.is_empty() && item != "self" {
                                found.extend(paths_from(item, &path));
                            } else if item == "self" {
                                found.push(path.clone());
                            }
                            start = i + 1;
                        }
                        _ => {}
                    }
                }
                return found;
            }
            return vec![path];
        }
        path.push(name.clone());
        rest = &rest[name.len()..];
        match rest.strip_prefix("::") {
            Some(after) if path.len() < 2 => rest = after.trim_start(),
            _ => return vec![path],
        }
    }
}

/// Every module path a file reaches through `crate::` or `super::`, with its line. A `use`
/// spread over several lines is read as one statement.
fn imports(source: &Source) -> Vec<Import> {
    let here = source.module_path();
    let lines: Vec<String> = source.text.lines().map(code_of).collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let mut code = lines[i].clone();
        let first = i;
        // A `use` statement goes on to its `;`.
        if code.trim_start().starts_with("use ") || code.trim_start().starts_with("pub use ") {
            while !code.contains(';') && i + 1 < lines.len() {
                i += 1;
                code.push(' ');
                code.push_str(lines[i].trim());
            }
        }
        for (at, _) in code.match_indices("crate::") {
            if at > 0 && code[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue;
            }
            for target in paths_from(&code[at + "crate::".len()..], &[]) {
                if !target.is_empty() {
                    found.push(Import {
                        line: first + 1,
                        target,
                    });
                }
            }
        }
        for (at, _) in code.match_indices("super::") {
            if at > 0 && code[..at].ends_with(|c: char| is_ident(c) || c == ':') {
                continue;
            }
            // `super` is the parent of this file's module; each further `super::` one more.
            let mut base = here.clone();
            base.pop();
            let mut rest = &code[at + "super::".len()..];
            while let Some(after) = rest.strip_prefix("super::") {
                base.pop();
                rest = after;
            }
            // Only paths that leave the file's own top-level module matter for the layers,
            // and sibling paths inside it for the circles.
            for target in paths_from(rest, &base[..base.len().min(1)]) {
                let target = if base.len() <= 1 {
                    target
                } else {
                    // Inside a deeper module: `super::x` stays within base[..2].
                    base[..2].to_vec()
                };
                if !target.is_empty() {
                    found.push(Import {
                        line: first + 1,
                        target,
                    });
                }
            }
        }
        i += 1;
    }
    found
}

fn rank(module: &str) -> Option<u32> {
    RANKS
        .iter()
        .find(|(name, _)| *name == module)
        .map(|(_, rank)| *rank)
}

/// Files that are not a module of the library's layers.
fn is_crate_root(path: &str) -> bool {
    path == "lib.rs" || path == "main.rs"
}

/// Which top-level module imports which, with where.
fn top_level_edges(sources: &[Source]) -> BTreeMap<(String, String), Vec<String>> {
    let mut edges: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for source in sources.iter().filter(|s| !is_crate_root(&s.path)) {
        let from = source.top();
        for import in imports(source) {
            let to = &import.target[0];
            if *to != from && rank(to).is_some() {
                edges
                    .entry((from.clone(), to.clone()))
                    .or_default()
                    .push(format!("src/{}:{}", source.path, import.line));
            }
        }
    }
    edges
}

#[test]
fn every_top_level_module_has_a_rank() {
    let unranked: Vec<String> = sources()
        .iter()
        .filter(|s| !is_crate_root(&s.path) && rank(&s.top()).is_none())
        .map(|s| format!("src/{}: add its module to RANKS in tests/layers.rs", s.path))
        .collect();
    assert!(unranked.is_empty(), "{}", unranked.join("\n"));
}

#[test]
fn imports_point_down() {
    let mut upward = Vec::new();
    for ((from, to), places) in top_level_edges(&sources()) {
        let (Some(from_rank), Some(to_rank)) = (rank(&from), rank(&to)) else {
            continue;
        };
        if to_rank > from_rank {
            for place in places {
                upward.push(format!("{place}: {from} imports {to}, a layer above it"));
            }
        }
    }
    assert!(upward.is_empty(), "upward imports:\n{}", upward.join("\n"));
}

#[test]
fn no_two_modules_import_each_other() {
    let sources = sources();
    let mut circles = Vec::new();
    let edges = top_level_edges(&sources);
    for ((from, to), places) in &edges {
        if from < to
            && let Some(back) = edges.get(&(to.clone(), from.clone()))
        {
            circles.push(format!(
                "{from} and {to} import each other: {} and {}",
                places[0], back[0]
            ));
        }
    }
    // The same inside each layer, between its modules (`mail::render`, `mail::text`).
    let mut inner: BTreeMap<(String, String), String> = BTreeMap::new();
    for source in sources.iter().filter(|s| !is_crate_root(&s.path)) {
        let here = source.module_path();
        if here.len() < 2 {
            continue;
        }
        // A module's own tests may use a sibling (a round trip through export and import,
        // say): only the code that ships counts here.
        let tests_start = source
            .text
            .lines()
            .position(|line| line.trim() == "#[cfg(test)]")
            .map_or(usize::MAX, |index| index + 1);
        for import in imports(source) {
            let target = &import.target;
            if import.line < tests_start
                && target.len() >= 2
                && target[0] == here[0]
                && target[1] != here[1]
            {
                inner
                    .entry((
                        format!("{}::{}", here[0], here[1]),
                        format!("{}::{}", target[0], target[1]),
                    ))
                    .or_insert_with(|| format!("src/{}:{}", source.path, import.line));
            }
        }
    }
    for ((from, to), place) in &inner {
        if from < to
            && let Some(back) = inner.get(&(to.clone(), from.clone()))
        {
            circles.push(format!(
                "{from} and {to} import each other: {place} and {back}"
            ));
        }
    }
    assert!(circles.is_empty(), "circles:\n{}", circles.join("\n"));
}

#[test]
fn no_file_is_over_500_lines() {
    let mut long = Vec::new();
    for source in sources() {
        let lines = source.text.split('\n').count();
        let allowed = LONG_FILES.iter().any(|(path, _)| *path == source.path);
        if lines > MAX_FILE_LINES && !allowed {
            long.push(format!("src/{}: {lines} lines", source.path));
        }
    }
    assert!(
        long.is_empty(),
        "files over {MAX_FILE_LINES} lines (split them by concern, tests into their own file):\n{}",
        long.join("\n")
    );
}

#[test]
fn the_long_files_allowed_exist() {
    let paths: BTreeSet<String> = sources().into_iter().map(|s| s.path).collect();
    for (path, reason) in LONG_FILES {
        assert!(
            paths.contains(*path),
            "src/{path} is allowed to be long ({reason}) but is gone: take it off LONG_FILES"
        );
    }
}

/// Where a function starts: `fn name`, after any of `pub`, `pub(crate)`, `const`, `async`,
/// `unsafe`.
fn function_name(code: &str) -> Option<String> {
    let mut words = code.split_whitespace().peekable();
    while let Some(word) = words.next() {
        match word {
            "pub" | "const" | "async" | "unsafe" => continue,
            w if w.starts_with("pub(") => continue,
            "fn" => {
                let name: String = words.next()?.chars().take_while(|&c| is_ident(c)).collect();
                return (!name.is_empty()).then_some(name);
            }
            _ => return None,
        }
    }
    None
}

#[test]
fn no_function_is_over_100_lines() {
    let mut long = Vec::new();
    for source in sources() {
        let lines: Vec<String> = source.text.split('\n').map(code_of).collect();
        for (start, line) in lines.iter().enumerate() {
            let Some(name) = function_name(line) else {
                continue;
            };
            let mut depth = 0i64;
            let mut opened = false;
            let mut end = start;
            for (j, code) in lines.iter().enumerate().skip(start) {
                end = j;
                depth += code.matches('{').count() as i64 - code.matches('}').count() as i64;
                opened |= code.contains('{');
                if (opened && depth <= 0) || (!opened && code.trim_end().ends_with(';')) {
                    break;
                }
            }
            let length = end - start + 1;
            if length > MAX_FUNCTION_LINES {
                long.push(format!(
                    "src/{}:{}: fn {name} is {length} lines",
                    source.path,
                    start + 1
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FUNCTION_LINES} lines:\n{}",
        long.join("\n")
    );
}

/// The checks themselves: a path is read through groups and `super::`.
#[test]
fn the_import_reader_resolves_groups_and_super() {
    let source = Source {
        path: "mail/render.rs".into(),
        text: "use crate::{store::Store, web::{self, AppState}};\nuse super::text::x;\n// use crate::app;\nlet s = \"crate::cli\";\n"
            .into(),
    };
    let targets: Vec<(usize, String)> = imports(&source)
        .into_iter()
        .map(|import| (import.line, import.target.join("::")))
        .collect();
    assert_eq!(
        targets,
        [
            (1, "store::Store".to_string()),
            (1, "web".to_string()),
            (1, "web::AppState".to_string()),
            (2, "mail::text".to_string()),
        ]
    );
}
