//! hundred: a self-hosted newsletter engine for small, opt-in lists that measures, person
//! by person, who genuinely cares.

pub mod actions;
pub mod app;
pub mod cli;
pub mod config;
pub mod domain;
pub mod i18n;
pub mod inbound;
pub mod lists;
pub mod mail;
pub mod signing;
pub mod store;
pub mod templates;
pub mod tracking;
pub mod web;

pub use app::Application;
pub use config::Config;
