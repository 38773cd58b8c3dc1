//! Reports as people read them: text lines for the terminal and user.log
//! ([`text`]), the HTML page ([`html`]) and its charts ([`charts`]). Views
//! read report data and comparisons; nothing below reads a view.

pub mod charts;
pub mod html;
pub mod text;
