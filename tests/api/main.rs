//! Integration tests: the real application, a real SMTP server on loopback, and both
//! databases (every test runs once on SQLite and once on Postgres).

mod fixtures;
mod helpers;

mod admin_access;
mod admin_campaigns;
mod admin_dashboard;
mod admin_subscribers;
mod admin_tools;
mod api;
mod archive;
mod archive_store;
mod bad_input;
mod brand;
mod campaigns;
mod crash;
mod dkim;
mod engagement;
mod erasure;
mod faces;
mod faces_people;
mod forgery;
mod imap;
mod inbound;
mod languages;
mod lifecycle;
mod markup;
mod media;
mod own_page;
mod process;
mod safe_defaults;
mod sending;
mod settings;
mod shutdown;
mod signup;
mod smtp_listener;
mod spam_score;
mod templates;
mod tracking;
