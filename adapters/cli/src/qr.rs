//! The QR code of a URL, drawn in a terminal with Unicode half blocks (two modules per character
//! cell, so the code stays square), for `login --device`: a phone's camera opens the verification
//! page without anyone typing the URL.
//!
//! A QR code reads only dark on light. With colours, each line is drawn black on white whatever
//! the terminal's theme; with `NO_COLOR` the light modules are drawn as blocks in the terminal's
//! own text colour, which is right on the usual light-on-dark terminal (as `qrencode -t UTF8`).

use qrcode::render::unicode::Dense1x2;
use qrcode::{EcLevel, QrCode};

/// How the code is painted.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Paint {
    /// Dark modules as blocks, each line black on white (ANSI colours).
    BlackOnWhite,
    /// Light modules as blocks in the terminal's text colour, no colour codes (`NO_COLOR`).
    LightBlocks,
}

/// The lines of the QR code of `text` (with its quiet zone), or `None` when it does not fit in a
/// QR code.
pub fn lines(text: &str, paint: Paint) -> Option<Vec<String>> {
    let code = QrCode::with_error_correction_level(text, EcLevel::L).ok()?;
    let mut renderer = code.render::<Dense1x2>();
    renderer.quiet_zone(true);
    if paint == Paint::LightBlocks {
        renderer
            .dark_color(Dense1x2::Light)
            .light_color(Dense1x2::Dark);
    }
    let image = renderer.build();
    Some(
        image
            .lines()
            .map(|line| match paint {
                Paint::BlackOnWhite => format!("\x1b[30;107m{line}\x1b[0m"),
                Paint::LightBlocks => line.to_owned(),
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The modules a drawing shows, `true` for dark: two rows per line of text.
    fn modules(lines: &[String], paint: Paint) -> Vec<Vec<bool>> {
        let mut rows = Vec::new();
        for line in lines {
            let text = line
                .trim_start_matches("\x1b[30;107m")
                .trim_end_matches("\x1b[0m");
            let (mut top, mut bottom) = (Vec::new(), Vec::new());
            for c in text.chars() {
                let (t, b) = match c {
                    ' ' => (false, false),
                    '▀' => (true, false),
                    '▄' => (false, true),
                    '█' => (true, true),
                    other => panic!("unexpected {other:?}"),
                };
                // A drawn half is a dark module in black on white, a light one otherwise.
                let dark = |drawn: bool| drawn == (paint == Paint::BlackOnWhite);
                top.push(dark(t));
                bottom.push(dark(b));
            }
            rows.push(top);
            rows.push(bottom);
        }
        rows
    }

    #[test]
    fn both_paints_draw_the_same_modules_as_the_encoder_inside_a_light_quiet_zone() {
        let url = "https://accounts.zoho.com/oauth/v3/device";
        let code = QrCode::with_error_correction_level(url, EcLevel::L).unwrap();
        let width = code.width();
        let colors = code.to_colors();
        for paint in [Paint::BlackOnWhite, Paint::LightBlocks] {
            let drawn = modules(&lines(url, paint).unwrap(), paint);
            let quiet = (drawn[0].len() - width) / 2;
            assert_eq!(quiet, 4, "the standard quiet zone of four modules");
            // An odd number of rows leaves a half line below the quiet zone: not part of the code.
            for (y, row) in drawn.iter().enumerate().take(width + 2 * quiet) {
                for (x, &dark) in row.iter().enumerate() {
                    let inside =
                        (quiet..quiet + width).contains(&x) && (quiet..quiet + width).contains(&y);
                    let expected =
                        inside && colors[(y - quiet) * width + (x - quiet)] == qrcode::Color::Dark;
                    assert_eq!(dark, expected, "{paint:?} module ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn only_the_coloured_paint_writes_escape_codes() {
        let plain = lines("https://example.com", Paint::LightBlocks).unwrap();
        assert!(plain.iter().all(|l| !l.contains('\x1b')));
        let coloured = lines("https://example.com", Paint::BlackOnWhite).unwrap();
        assert!(coloured.iter().all(|l| l.starts_with("\x1b[30;107m")));
    }
}
