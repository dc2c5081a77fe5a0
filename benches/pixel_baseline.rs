//! The baseline for the open-pixel benchmark: a bare axum handler answering the same GIF
//! with the same headers (and, for clicks, a 302 to a fixed address), recording nothing. `benches/pixel.sh` runs it; by hand:
//! `BENCH_LISTEN=127.0.0.1:8091 cargo bench --bench pixel_baseline`.

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::IntoResponse;
use axum::routing::get;

const PIXEL: &[u8] = &[
    0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
    0xff, 0xff, 0xff, 0x21, 0xf9, 0x04, 0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b,
];

async fn pixel() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("image/gif")),
            (
                header::CACHE_CONTROL,
                HeaderValue::from_static("no-store, no-cache, must-revalidate, private"),
            ),
        ],
        PIXEL,
    )
}

async fn click() -> impl IntoResponse {
    (
        axum::http::StatusCode::FOUND,
        [
            (
                header::LOCATION,
                HeaderValue::from_static("https://bakery.example/menu"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let listen = std::env::var("BENCH_LISTEN").unwrap_or_else(|_| "127.0.0.1:8091".into());
    let app = Router::new()
        .route("/t/o/{token}", get(pixel))
        .route("/t/c/{token}", get(click));
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("baseline pixel server on {listen}");
    axum::serve(listener, app).await
}
