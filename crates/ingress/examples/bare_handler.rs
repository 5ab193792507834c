//! Reference for docs/benchmarks.md: the cheapest actix-web handler (reads the
//! body, answers 200 `success`, stores nothing), to compare hookgate's ingress
//! against with the same client: `cargo run --release -p hookgate-ingress
//! --example bare_handler -- 8090`, then `hookgate bench --url http://127.0.0.1:8090 --no-consume`.

use actix_web::{web, App, HttpResponse, HttpServer};

async fn ok(_body: web::Bytes) -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("success")
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::args().nth(1).and_then(|p| p.parse().ok()).unwrap_or(8090);
    HttpServer::new(|| App::new().default_service(web::to(ok)))
        .bind(("127.0.0.1", port))?
        .run()
        .await
}
