//! Turning whatever a program printed into text that is safe to show.
//!
//! A program under test may print anything: invalid UTF-8, NUL bytes,
//! terminal escape sequences, gigabytes. Nothing it prints reaches a report
//! without passing through here.

use std::fmt::Write;

/// Bytes as one printable line: invalid UTF-8 as `\xNN`, control characters
/// (newlines included) escaped, cut to about `max` characters.
pub fn one_line(text: &str, max: usize) -> String {
    let escaped = escape(text.as_bytes(), true);
    cut(&escaped, max)
}

/// Bytes as printable text: invalid UTF-8 as `\xNN`, control characters
/// other than newline and tab escaped (`\e` for ESC, `\0`, `\x07`, ...),
/// and no line able to start a GitHub Actions workflow command.
pub fn escape(bytes: &[u8], escape_newlines: bool) -> String {
    defuse_workflow_commands(&escape_chars(bytes, escape_newlines))
}

/// A GitHub Actions runner takes a log line that starts with `::` (after
/// leading blanks) as a command, and one that holds `##[` anywhere (the
/// older form); a zero-width space between the colons, or the hashes, of
/// such a line keeps it plain text and still reads the same.
fn defuse_workflow_commands(text: &str) -> String {
    if text.contains("##[") {
        return defuse_workflow_commands(&text.replace("##[", "#\u{200b}#["));
    }
    if !text.contains("::") {
        return text.to_string();
    }
    let mut out = String::with_capacity(text.len() + 8);
    for line in text.split_inclusive('\n') {
        let body = line.trim_start();
        if let Some(rest) = body.strip_prefix("::") {
            out.push_str(&line[..line.len() - body.len()]);
            out.push_str(":\u{200b}:");
            out.push_str(rest);
        } else {
            out.push_str(line);
        }
    }
    out
}

fn escape_chars(bytes: &[u8], escape_newlines: bool) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\n' if escape_newlines => out.push_str("\\n"),
                '\n' => out.push('\n'),
                '\t' => out.push('\t'),
                '\r' => out.push_str("\\r"),
                '\0' => out.push_str("\\0"),
                '\x1b' => out.push_str("\\e"),
                '\\' => out.push('\\'),
                c if c.is_control() => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                // Bidirectional overrides and other invisible formatting could
                // make a report lie about what it shows.
                '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}' | '\u{200b}'..='\u{200f}' => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for b in chunk.invalid() {
            let _ = write!(out, "\\x{b:02x}");
        }
    }
    out
}

/// The start of `text`, at most `max` characters, with a note of what was cut.
pub fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        None => text.to_string(),
        Some((at, _)) => format!("{}… ({} more bytes)", &text[..at], text.len() - at),
    }
}

/// A short excerpt of program output for a report: at most `lines` lines and
/// about `max` characters, escaped, with a note of what was left out.
pub fn excerpt(bytes: &[u8], total: u64, lines: usize, max: usize) -> String {
    if bytes.is_empty() && total == 0 {
        return "(nothing)".to_string();
    }
    // Escape only what can be shown: every byte makes at least one
    // character, and the output may be many megabytes.
    let head = &bytes[..bytes.len().min(2 * max + 64)];
    let escaped = escape(head, false);
    let text = escaped.trim_start_matches('\n').trim_end_matches('\n');
    let mut out = String::new();
    let mut chars = 0;
    for (shown_lines, line) in text.split_inclusive('\n').enumerate() {
        let len = line.chars().count();
        if shown_lines == lines || chars + len > max {
            break;
        }
        out.push_str(line);
        chars += len;
    }
    if out.is_empty() {
        out = cut(text, max);
    }
    let everything = total == head.len() as u64 && out.trim_end_matches('\n').len() == text.len();
    if !everything {
        if !out.ends_with('\n') {
            out.push('\n');
        }
        let _ = write!(out, "… ({total} bytes in all)");
    }
    out.trim_end_matches('\n').to_string()
}

/// The text of an I/O error as a person reads it: `Connection refused`,
/// without Rust's ` (os error 111)` (the handouts tell students never to
/// print that, so the grader does not either).
pub fn os_reason(e: &std::io::Error) -> String {
    without_os_error(e.to_string())
}

/// Any error's text without a closing ` (os error N)` (the grader's peers
/// report their failures this way).
pub fn without_os_error(text: String) -> String {
    match text.rfind(" (os error ") {
        Some(at) if text.ends_with(')') => text[..at].to_string(),
        _ => text,
    }
}

/// Quotes `word` for a POSIX shell, if it needs it.
pub fn shell_quote(word: &str) -> String {
    if !word.is_empty() && word.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@%".contains(&b)) {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_reasons_lose_the_error_number() {
        let e = std::io::Error::from_raw_os_error(libc::EAGAIN);
        assert_eq!(os_reason(&e), "Resource temporarily unavailable");
        assert_eq!(os_reason(&std::io::Error::other("plain")), "plain");
    }

    #[test]
    fn escapes_terminal_sequences_and_invalid_utf8() {
        assert_eq!(escape(b"a\x1b[31mred\xff\0", false), "a\\e[31mred\\xff\\0");
        assert_eq!(one_line("two\nlines", 80), "two\\nlines");
    }

    #[test]
    fn no_line_starts_a_workflow_command() {
        let text = escape(b"ok\n  ::error::x\n::stop-commands::t\npipe::check\nsay ##[error]x", false);
        assert!(text.lines().all(|l| !l.trim_start().starts_with("::") && !l.contains("##[")), "{text}");
        assert!(text.contains("pipe::check\n"));
    }

    #[test]
    fn cuts_long_text_with_a_note() {
        assert_eq!(cut("abcdef", 3), "abc… (3 more bytes)");
        assert_eq!(cut("abc", 3), "abc");
    }

    #[test]
    fn excerpt_keeps_a_few_lines() {
        let text = b"1\n2\n3\n4\n";
        assert_eq!(excerpt(text, 8, 2, 100), "1\n2\n… (8 bytes in all)");
        assert_eq!(excerpt(b"", 0, 2, 100), "(nothing)");
        assert_eq!(excerpt(b"ok\n", 3, 2, 100), "ok");
    }

    #[test]
    fn excerpt_of_a_flood_is_short() {
        let flood = vec![0xffu8; 20 << 20];
        let text = excerpt(&flood, flood.len() as u64, 6, 600);
        assert!(text.ends_with("… (20971520 bytes in all)"), "{text}");
        assert!(text.len() < 4000);
    }

    #[test]
    fn quotes_for_the_shell() {
        assert_eq!(shell_quote("plain-word"), "plain-word");
        assert_eq!(shell_quote("two words"), "'two words'");
        assert_eq!(shell_quote("it's"), "'it'\\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
