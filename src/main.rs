//! The `authlete-gateway` binary: parse the command line, load and validate the
//! configuration, initialise logging, build and run.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use authlete_gateway::clock::SystemClock;
use authlete_gateway::config::Settings;
use authlete_gateway::emulator::{self, EmulatorOptions};
use authlete_gateway::startup::{self, Application};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(
    version,
    about = "OpenID CIBA authorization server in front of Authlete"
)]
struct Cli {
    /// Configuration file [default: $GATEWAY_CONFIG, then ./config.toml]
    #[arg(long, global = true)]
    config: Option<PathBuf>,
    /// Validate the configuration, print every problem, and exit.
    #[arg(long)]
    check_config: bool,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the Authlete emulator alone, on `emulator.listen`.
    Emulator,
}

fn config_path(cli: &Cli) -> PathBuf {
    cli.config
        .clone()
        .or_else(|| std::env::var_os("GATEWAY_CONFIG").map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from("config.toml"))
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let path = config_path(&cli);
    let settings = match Settings::load(&path, std::env::vars()) {
        Ok(settings) => settings,
        Err(errors) => return report(&errors.0),
    };
    if cli.check_config {
        let problems = startup::check_files(&settings);
        if !problems.is_empty() {
            return report(&problems);
        }
        println!("configuration OK");
        return ExitCode::SUCCESS;
    }
    authlete_gateway::telemetry::init(&settings.log);
    log::info!(
        version = env!("CARGO_PKG_VERSION");
        "authlete-gateway {} starting",
        env!("CARGO_PKG_VERSION")
    );
    let result = match cli.command {
        Some(Command::Emulator) => actix_web::rt::System::new().block_on(emulator(settings)),
        None => actix_web::rt::System::new().block_on(serve(settings)),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log::error!("{e}");
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// Prints one problem per line and exits 2 (SPEC §9).
fn report(problems: &[String]) -> ExitCode {
    for problem in problems {
        eprintln!("{problem}");
    }
    ExitCode::from(2)
}

async fn serve(settings: Settings) -> Result<(), String> {
    let app = Application::build(settings, Arc::new(SystemClock)).await?;
    log::info!(
        "listening on {} (public) and {} (admin)",
        app.public_addr(),
        app.admin_addr()
    );
    let shutdown = app.shutdown_handle();
    actix_web::rt::spawn(async move {
        wait_for_signal().await;
        shutdown.shutdown().await;
    });
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

/// The emulator alone, on `emulator.listen`, until SIGTERM or SIGINT.
async fn emulator(settings: Settings) -> Result<(), String> {
    let listen = settings.emulator.listen;
    let running = emulator::start(EmulatorOptions {
        settings: settings.emulator.clone(),
        public_url: settings.public_base().to_owned(),
        listen,
        clock: Arc::new(SystemClock),
    })
    .await
    .map_err(|e| format!("emulator.listen = {listen}: {e}"))?;
    // The operator needs these to point a gateway (or curl) at this emulator.
    println!("emulator listening on {}", running.base_url);
    println!(
        "  v3: base_url = {} service_id = {}",
        running.base_url, running.service_id
    );
    println!("      access_token = {}", running.access_token);
    println!(
        "  v2: api_key = {} api_secret = {}",
        running.api_key, running.api_secret
    );
    wait_for_signal().await;
    running.stop().await;
    Ok(())
}

/// SIGTERM or SIGINT.
async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
