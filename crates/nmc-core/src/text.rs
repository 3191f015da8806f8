//! Text tables that cannot fail on long names.
//!
//! Names come from files (NIR node paths, target names) and can be any
//! length; `format!("{:<w$}")` panics when `w` exceeds `u16::MAX`. Tables
//! shorten every cell to [`MAX_CELL`] characters (`head…tail`, so both ends
//! of a node path stay readable) and pad by hand. JSON reports keep names
//! whole.

use std::borrow::Cow;

/// The widest cell a text table prints, in characters.
pub const MAX_CELL: usize = 64;

/// `s` itself when it has at most `max` characters, else its first and last
/// characters around one `…`, `max` characters in all (`max` ≥ 3; smaller
/// values are taken as 3).
pub fn shorten(s: &str, max: usize) -> Cow<'_, str> {
    let max = max.max(3);
    let n = s.chars().count();
    if n <= max {
        return Cow::Borrowed(s);
    }
    let keep = max - 1;
    let head = keep.div_ceil(2);
    let tail = keep - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    Cow::Owned(out)
}

/// Which side of a cell the padding goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Align {
    /// Text at the left, padding at the right.
    Left,
    /// Text at the right, padding at the left.
    Right,
}

/// Appends `cell` to `line`, padded with spaces to `width` characters.
pub fn push_cell(line: &mut String, cell: &str, width: usize, align: Align) {
    let pad = width.saturating_sub(cell.chars().count());
    if align == Align::Right {
        line.extend(std::iter::repeat_n(' ', pad));
    }
    line.push_str(cell);
    if align == Align::Left {
        line.extend(std::iter::repeat_n(' ', pad));
    }
}

/// Renders rows as an aligned table: every cell shortened to [`MAX_CELL`],
/// columns separated by two spaces, trailing spaces trimmed. `align[c]`
/// gives column `c`'s alignment (missing entries: left).
pub fn render(header: &[&str], rows: &[Vec<String>], align: &[Align]) -> String {
    let cols = rows.iter().map(Vec::len).chain([header.len()]).max().unwrap_or(0);
    let cell =
        |r: &[String], c: usize| -> String { r.get(c).map(|s| shorten(s, MAX_CELL).into_owned()).unwrap_or_default() };
    let head: Vec<String> = header.iter().map(|h| shorten(h, MAX_CELL).into_owned()).collect();
    let body: Vec<Vec<String>> = rows.iter().map(|r| (0..cols).map(|c| cell(r, c)).collect()).collect();
    let mut width = vec![0usize; cols];
    for r in std::iter::once(&head).chain(&body) {
        for (c, s) in r.iter().enumerate() {
            width[c] = width[c].max(s.chars().count());
        }
    }
    let mut out = String::new();
    for r in std::iter::once(&head).chain(&body) {
        let mut line = String::new();
        for (c, &w) in width.iter().enumerate() {
            if c > 0 {
                line.push_str("  ");
            }
            let s = r.get(c).map(String::as_str).unwrap_or("");
            push_cell(&mut line, s, w, align.get(c).copied().unwrap_or(Align::Left));
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shorten_keeps_both_ends() {
        assert_eq!(shorten("conv1", 8), "conv1");
        let long = format!("a{}z", "m".repeat(70_000));
        let s = shorten(&long, 9);
        assert_eq!(s.chars().count(), 9);
        assert!(s.starts_with("amm") && s.ends_with("mz") && s.contains('…'), "{s}");
        assert_eq!(shorten("αβγδεζ", 4), "αβ…ζ");
        assert_eq!(shorten("abcdef", 0), "a…f");
    }

    #[test]
    fn render_never_panics_on_long_cells() {
        let long = "n".repeat(70_000);
        let t = render(
            &["node", "neurons"],
            &[vec![long, "4".into()], vec!["fc".into(), "12".into()]],
            &[Align::Left, Align::Right],
        );
        let lines: Vec<&str> = t.lines().collect();
        assert_eq!(lines.len(), 3);
        assert!(lines.iter().all(|l| l.chars().count() <= MAX_CELL + 2 + 7), "{t}");
        assert!(lines[1].ends_with("  4") && lines[2].ends_with(" 12"), "{t}");
        assert!(lines[2].starts_with("fc "));
    }
}
