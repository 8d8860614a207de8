//! Just enough Markdown for an answer page in a terminal: headings, lists, code blocks, inline code
//! and bold. Tables and everything else pass through as written, which reads fine in a terminal.

const BOLD: &str = "\x1b[1m";
const DIM: &str = "\x1b[2m";
const CYAN: &str = "\x1b[36m";
const UNDERLINE: &str = "\x1b[4m";
const RESET: &str = "\x1b[0m";

/// Renders `text` for a terminal, with ANSI styles when `color` is true.
pub fn render(text: &str, color: bool) -> String {
    let mut out = String::new();
    let mut in_code = false;
    for line in text.lines() {
        if line.trim_start().starts_with("```") {
            in_code = !in_code;
            continue;
        }
        if in_code {
            if color {
                out.push_str(&format!("    {CYAN}{line}{RESET}\n"));
            } else {
                out.push_str(&format!("    {line}\n"));
            }
            continue;
        }
        if let Some(h) = line.strip_prefix("# ") {
            let width = h.chars().count().clamp(10, 78);
            if color {
                out.push_str(&format!("{BOLD}{UNDERLINE}{h}{RESET}\n"));
            } else {
                out.push_str(&format!("{h}\n{}\n", "=".repeat(width)));
            }
        } else if let Some(h) = line.strip_prefix("### ") {
            if color {
                out.push_str(&format!("{BOLD}▸ {h}{RESET}\n"));
            } else {
                out.push_str(&format!("▸ {h}\n"));
            }
        } else if let Some(h) = line.strip_prefix("## ") {
            if color {
                out.push_str(&format!("\n{BOLD}{h}{RESET}\n"));
            } else {
                out.push_str(&format!(
                    "\n{h}\n{}\n",
                    "-".repeat(h.chars().count().clamp(5, 78))
                ));
            }
        } else if let Some(item) = line.strip_prefix("- ").or_else(|| line.strip_prefix("* ")) {
            out.push_str(&format!("  • {}\n", inline(item, color)));
        } else if line.starts_with('>') {
            let body = line.trim_start_matches('>').trim_start();
            if color {
                out.push_str(&format!("  {DIM}│ {}{RESET}\n", inline(body, false)));
            } else {
                out.push_str(&format!("  | {body}\n"));
            }
        } else {
            out.push_str(&inline(line, color));
            out.push('\n');
        }
    }
    out
}

/// Styles `code` and **bold** spans; without color, drops the markers only around bold.
fn inline(line: &str, color: bool) -> String {
    if !color {
        return line.replace("**", "");
    }
    let mut out = String::new();
    let mut rest = line;
    let mut code = false;
    let mut bold = false;
    while let Some(i) = rest.find(['`', '*']) {
        out.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix('`') {
            code = !code;
            out.push_str(if code { CYAN } else { RESET });
            if !code && bold {
                out.push_str(BOLD);
            }
            rest = after;
        } else if let Some(after) = tail.strip_prefix("**").filter(|_| !code) {
            bold = !bold;
            out.push_str(if bold { BOLD } else { RESET });
            rest = after;
        } else {
            out.push('*');
            rest = &tail[1..];
        }
    }
    out.push_str(rest);
    if code || bold {
        out.push_str(RESET);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_rendering_keeps_the_words() {
        let md =
            "# Title\n\nSome `code` and **bold**.\n\n## Part\n- one\n```rust\nlet x = 1;\n```\n";
        let out = render(md, false);
        assert!(out.contains("Title\n====="));
        assert!(out.contains("Some `code` and bold."));
        assert!(out.contains("  • one"));
        assert!(out.contains("    let x = 1;"));
        assert!(!out.contains("```"));
    }

    #[test]
    fn color_rendering_closes_every_style() {
        let out = render("a `b` **c** `unclosed", true);
        assert!(out.trim_end().ends_with(RESET));
        assert!(out.contains(CYAN) && out.contains(BOLD));
    }
}
