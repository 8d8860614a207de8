//! Throwaway Redis and MariaDB in Docker containers, for users who have a Docker engine.
//!
//! Behind the `testcontainers` feature. The lab's own machines have no Docker engine, so the default
//! build never compiles this and the default tests use local servers instead.

use testcontainers_modules::mariadb::Mariadb;
use testcontainers_modules::redis::Redis;
use testcontainers_modules::testcontainers::ContainerAsync;
use testcontainers_modules::testcontainers::runners::AsyncRunner;

use crate::{ServerError, System, Target};

/// Running containers; they are stopped and removed when this is dropped.
#[allow(missing_debug_implementations)]
pub struct Containers {
    _redis: ContainerAsync<Redis>,
    _mariadb: ContainerAsync<Mariadb>,
    pub redis: Target,
    pub mysql: Target,
}

/// Starts one Redis and one MariaDB container and returns where they listen.
pub async fn start() -> Result<Containers, ServerError> {
    let err = |e: testcontainers_modules::testcontainers::TestcontainersError| {
        ServerError::Containers(e.to_string())
    };
    let redis = Redis::default().start().await.map_err(err)?;
    let mariadb = Mariadb::default().start().await.map_err(err)?;
    let redis_port = redis.get_host_port_ipv4(6379).await.map_err(err)?;
    let mysql_port = mariadb.get_host_port_ipv4(3306).await.map_err(err)?;
    Ok(Containers {
        redis: Target::parse(
            System::Redis,
            &format!("redis://127.0.0.1:{redis_port}/"),
            6379,
        )?,
        mysql: Target::parse(
            System::Mysql,
            &format!("mysql://root@127.0.0.1:{mysql_port}/test"),
            3306,
        )?,
        _redis: redis,
        _mariadb: mariadb,
    })
}
