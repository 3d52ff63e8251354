//! A gRPC health service that also tells the caller who it is, from the
//! claims `JwtLayer` put in the request's extensions. Shared by the
//! `tonic_service` example and the tonic integration test.

use std::pin::Pin;

use tollgate::token::{StandardClaims, Verified};
use tonic::codegen::tokio_stream::Stream;
use tonic::{Request, Response, Status};
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::health_server::{Health, HealthServer};
use tonic_health::pb::{HealthCheckRequest, HealthCheckResponse};

/// `grpc.health.v1.Health/Check`, answering `SERVING` with the caller's
/// subject in the `x-subject` response metadata.
#[derive(Debug, Default)]
pub(crate) struct WhoAmI;

impl WhoAmI {
    /// The tonic service.
    pub(crate) fn server() -> HealthServer<Self> {
        HealthServer::new(Self)
    }
}

#[tonic::async_trait]
impl Health for WhoAmI {
    async fn check(
        &self,
        request: Request<HealthCheckRequest>,
    ) -> Result<Response<HealthCheckResponse>, Status> {
        let claims = request
            .extensions()
            .get::<Verified<StandardClaims>>()
            .ok_or_else(|| Status::internal("JwtLayer did not run"))?;
        let mut response = Response::new(HealthCheckResponse {
            status: ServingStatus::Serving as i32,
        });
        if let Some(Ok(subject)) = claims.subject().map(str::parse) {
            response.metadata_mut().insert("x-subject", subject);
        }
        Ok(response)
    }

    type WatchStream =
        Pin<Box<dyn Stream<Item = Result<HealthCheckResponse, Status>> + Send + 'static>>;

    async fn watch(
        &self,
        _request: Request<HealthCheckRequest>,
    ) -> Result<Response<Self::WatchStream>, Status> {
        Err(Status::unimplemented("watch is not served here"))
    }
}
