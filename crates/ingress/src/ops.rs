//! Liveness on the webhook port (load balancers ask here); readiness and
//! metrics are served by the operations listener (`hookgate-admin`).

use actix_web::HttpResponse;

/// `GET /healthz`: the process serves HTTP.
pub(crate) async fn healthz() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain").body("ok")
}
