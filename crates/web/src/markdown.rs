//! Markdown written in the platform (minutes), rendered safely.
//!
//! Raw HTML is never passed through: it is shown as text. Links keep only `http(s):` and
//! `mailto:` targets (and relative ones); images become their alternative text (no remote
//! fetches from a minutes page). Headings are moved down two levels so that a `#` in the
//! text becomes an `<h3>` under the page's own headings.

use pulldown_cmark::{CowStr, Event, HeadingLevel, Options, Parser, Tag, TagEnd};
use serde::Serialize;

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH
}

fn safe_url(url: &str) -> bool {
    let lower = url.trim().to_ascii_lowercase();
    match lower.split_once(':') {
        // A scheme: only the web and mail.
        Some((scheme, _)) if !scheme.contains(['/', '?', '#']) => {
            matches!(scheme, "http" | "https" | "mailto")
        }
        _ => true,
    }
}

fn shift(level: HeadingLevel) -> HeadingLevel {
    match level {
        HeadingLevel::H1 => HeadingLevel::H3,
        HeadingLevel::H2 => HeadingLevel::H4,
        HeadingLevel::H3 => HeadingLevel::H5,
        _ => HeadingLevel::H6,
    }
}

/// The HTML of a Markdown text, safe to insert in a page.
pub fn to_html(text: &str) -> String {
    let mut in_image = 0_usize;
    let events = Parser::new_ext(text, options()).filter_map(|event| match event {
        Event::Html(raw) | Event::InlineHtml(raw) => Some(Event::Text(raw)),
        Event::Start(Tag::Image { .. }) => {
            in_image += 1;
            None
        }
        Event::End(TagEnd::Image) => {
            in_image = in_image.saturating_sub(1);
            None
        }
        Event::Start(Tag::Link {
            link_type,
            dest_url,
            title,
            id,
        }) => {
            let dest_url = if safe_url(&dest_url) {
                dest_url
            } else {
                CowStr::from("#")
            };
            Some(Event::Start(Tag::Link {
                link_type,
                dest_url,
                title,
                id,
            }))
        }
        Event::Start(Tag::Heading {
            level,
            id,
            classes,
            attrs,
        }) => Some(Event::Start(Tag::Heading {
            level: shift(level),
            id,
            classes,
            attrs,
        })),
        Event::End(TagEnd::Heading(level)) => Some(Event::End(TagEnd::Heading(shift(level)))),
        other => Some(other),
    });
    let mut out = String::with_capacity(text.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut out, events);
    out
}

/// A block of a Markdown text, for documents that are not HTML (the minutes' PDF).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Block {
    Heading { level: u8, text: String },
    Paragraph { text: String },
    Item { depth: u8, text: String },
    Code { text: String },
}

/// The text of a Markdown document as plain blocks (inline styles dropped).
pub fn to_blocks(text: &str) -> Vec<Block> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    let mut depth: u8 = 0;
    let mut heading: Option<u8> = None;
    let mut in_code = false;
    let flush =
        |blocks: &mut Vec<Block>, current: &mut String, heading: Option<u8>, depth: u8, in_code: bool| {
            let text = std::mem::take(current);
            let text = if in_code { text } else { text.trim().to_owned() };
            if text.is_empty() {
                return;
            }
            blocks.push(match (heading, in_code, depth) {
                (Some(level), _, _) => Block::Heading { level, text },
                (None, true, _) => Block::Code { text },
                (None, false, 0) => Block::Paragraph { text },
                (None, false, d) => Block::Item { depth: d, text },
            });
        };
    for event in Parser::new_ext(text, options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                heading = Some(level as u8);
            }
            Event::End(TagEnd::Heading(_)) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                heading = None;
            }
            Event::Start(Tag::List(_)) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                depth = depth.saturating_add(1);
            }
            Event::End(TagEnd::List(_)) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                depth = depth.saturating_sub(1);
            }
            Event::Start(Tag::Item) | Event::End(TagEnd::Item) | Event::End(TagEnd::Paragraph) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
            }
            Event::Start(Tag::CodeBlock(_)) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                in_code = true;
            }
            Event::End(TagEnd::CodeBlock) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
                in_code = false;
            }
            Event::End(TagEnd::TableRow) | Event::End(TagEnd::TableHead) => {
                flush(&mut blocks, &mut current, heading, depth, in_code);
            }
            Event::End(TagEnd::TableCell) => current.push_str(" | "),
            Event::Text(t) | Event::Code(t) | Event::Html(t) | Event::InlineHtml(t) => current.push_str(&t),
            Event::SoftBreak => current.push(' '),
            Event::HardBreak => current.push('\n'),
            _ => {}
        }
    }
    flush(&mut blocks, &mut current, heading, depth, in_code);
    blocks
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn raw_html_is_shown_as_text() {
        let html =
            to_html("Bonjour <script>alert(1)</script> <img src=x onerror=alert(1)>\n\n<div>bloc</div>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(!html.contains("<div"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn only_safe_links_and_no_images() {
        let html = to_html(
            "[a](javascript:alert(1)) [b](https://education.gouv.fr) [c](JaVaScRiPt:x) ![t](https://x/y.png)",
        );
        assert!(!html.to_lowercase().contains("javascript"), "{html}");
        assert!(html.contains(r#"href="https://education.gouv.fr""#), "{html}");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains('t'));
    }

    #[test]
    fn headings_move_down_two_levels() {
        let html = to_html("# Relevé\n\n## Points\n\n- un\n- deux");
        assert!(
            html.contains("<h3>Relevé</h3>") && html.contains("<h4>Points</h4>"),
            "{html}"
        );
        assert!(html.contains("<li>un</li>"), "{html}");
    }

    #[test]
    fn blocks_for_documents() {
        let blocks = to_blocks("# Relevé\n\nLe comité **valide**.\n\n- un\n  - sous\n- deux\n\n<b>x</b>");
        assert_eq!(
            blocks,
            vec![
                Block::Heading {
                    level: 1,
                    text: "Relevé".into()
                },
                Block::Paragraph {
                    text: "Le comité valide.".into()
                },
                Block::Item {
                    depth: 1,
                    text: "un".into()
                },
                Block::Item {
                    depth: 2,
                    text: "sous".into()
                },
                Block::Item {
                    depth: 1,
                    text: "deux".into()
                },
                Block::Paragraph {
                    text: "<b>x</b>".into()
                },
            ]
        );
    }
}
