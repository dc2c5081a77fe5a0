//! The `hundred` command: serve, migrate, and the owner's tools.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use hundred::config::ConfigError;
use hundred::{Application, Config, app, cli};
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
    /// Manage the owner accounts that log in to /admin.
    User {
        #[command(subcommand)]
        command: UserCommand,
    },
    /// Send and follow campaigns.
    Campaign {
        #[command(subcommand)]
        command: CampaignCommand,
    },
    /// Import subscribers from a CSV file (header row with an `email` column; `name` and
    /// any other columns optional). Each new address gets a confirmation message unless
    /// --confirmed.
    Import {
        /// The CSV file.
        file: std::path::PathBuf,
        /// How these people agreed to get the list, in your words (kept in each one's
        /// consent history), e.g. "signed up at the shop counter, 2025 paper form".
        #[arg(long)]
        basis: String,
        /// What kind of agreement: signup_form, in_person, asked_by_message or other.
        #[arg(long)]
        basis_kind: Option<String>,
        /// They already confirmed: add them as confirmed and send nothing.
        #[arg(long)]
        confirmed: bool,
    },
    /// Write every subscriber as CSV to standard output.
    Export,
    /// Show who genuinely cares: the tiers, then the most engaged subscribers.
    Engagement {
        /// Only this tier: core, engaged, new, quiet, dormant or gone.
        #[arg(long)]
        tier: Option<String>,
        /// How many subscribers to list.
        #[arg(long, default_value_t = 20)]
        limit: u32,
    },
}

#[derive(Subcommand)]
enum CampaignCommand {
    /// Start sending a campaign (or follow one already sending) with a progress bar.
    Send {
        /// The campaign's id, from `hundred campaign list`.
        id: String,
    },
    /// List campaigns, newest first.
    List,
    /// Show a campaign's delivery report.
    Report {
        /// The campaign's id.
        id: String,
    },
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create an owner account; the password is read from standard input.
    Create {
        /// The address to log in with.
        #[arg(long)]
        email: String,
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
    // The service logs what it does; a command run by hand shows only what went wrong
    // (its own output, a progress bar say, is the rest).
    let default_filter = match cli.command {
        Command::Serve => "info,sqlx=warn,tower_http=warn",
        _ => "warn",
    };
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter)),
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
        // What start-up builds from the settings (the DKIM signer, the STARTTLS
        // certificate) fails as the settings themselves do: one line, exit code 2.
        Err(err) if err.downcast_ref::<ConfigError>().is_some() => {
            eprintln!("error: {err}");
            ExitCode::from(2)
        }
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
            let store = app::open_store(&config).await?;
            eprintln!("database is up to date ({})", store.backend_name());
            Ok(())
        }
        Command::Token {
            command: TokenCommand::Create { name },
        } => cli::token_create(config, &name).await,
        Command::User {
            command: UserCommand::Create { email },
        } => cli::user_create(config, &email).await,
        Command::Campaign { command } => match command {
            CampaignCommand::Send { id } => cli::campaign_send(config, &id).await,
            CampaignCommand::List => cli::campaign_list(config).await,
            CampaignCommand::Report { id } => cli::campaign_report(config, &id).await,
        },
        Command::Import {
            file,
            basis,
            basis_kind,
            confirmed,
        } => cli::import(config, &file, &basis, basis_kind.as_deref(), confirmed).await,
        Command::Export => cli::export(config).await,
        Command::Engagement { tier, limit } => {
            cli::engagement(config, tier.as_deref(), limit).await
        }
    }
}
