//! The `hundred` command: serve, migrate, and the owner's tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hundred::{Application, Config, app, store::Store};
use tracing_subscriber::EnvFilter;

#[derive(Parser)]
#[command(
    name = "hundred",
    version,
    about = "A newsletter engine for small, opt-in lists"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server and the sender workers.
    Serve,
    /// Bring the database schema up to date, then exit.
    Migrate,
    /// Manage API tokens.
    Token {
        #[command(subcommand)]
        command: TokenCommand,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Create a token for the JSON API and print it (it is shown only this once).
    Create {
        /// What the token is for, e.g. "website".
        #[arg(long)]
        name: String,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(err) => {
            eprintln!("error: {err}");
            return ExitCode::from(2);
        }
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("error: could not start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(cli.command, config)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let app = Application::build(config).await?;
            app.run_until(app::shutdown_signal()).await
        }
        Command::Migrate => {
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            eprintln!("database is up to date ({})", store.backend_name());
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name },
        } => {
            let name = name.trim();
            if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
                anyhow::bail!("--name must be one line of 1 to 100 characters");
            }
            let store = Store::connect(&config.database_url).await?;
            store.migrate().await?;
            let token = store.create_api_token(name).await?;
            println!("{token}");
            Ok(())
        }
    }
}
