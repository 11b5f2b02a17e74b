use muster_refagent::{Flaw, FlawSet, ModelConfig, RefAgentConfig};

use crate::cli::{RefagentCommand, ServeArgs};
use crate::error::{CliError, exit};

pub async fn run(command: &RefagentCommand) -> Result<u8, CliError> {
    match command {
        RefagentCommand::Serve(args) => serve(args).await,
    }
}

fn flaw(id: &str) -> Result<Flaw, CliError> {
    Flaw::from_id(id).ok_or_else(|| {
        CliError::input(format!("unknown flaw `{id}`")).hint(format!(
            "flaws: {}",
            Flaw::ALL
                .iter()
                .map(|f| f.id())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

async fn serve(args: &ServeArgs) -> Result<u8, CliError> {
    if args.list_flaws {
        for f in Flaw::ALL {
            println!("{:<28} {:<11} {}", f.id(), f.mode(), f.description());
        }
        return Ok(exit::OK);
    }
    let mut flaws = if args.hardened {
        FlawSet::none()
    } else if !args.flaws.is_empty() {
        let mut set = FlawSet::none();
        for id in &args.flaws {
            set = set.with(flaw(id)?);
        }
        set
    } else {
        FlawSet::all()
    };
    for id in &args.no_flaws {
        flaws = flaws.without(flaw(id)?);
    }
    let model = args.model_url.as_ref().map(|url| ModelConfig {
        base_url: url.clone(),
        model: args.model.clone(),
        api_key: std::env::var("MUSTER_REFAGENT_MODEL_API_KEY").ok(),
    });
    let addr: std::net::IpAddr = args.host.parse().map_err(|_| {
        CliError::input(format!("`{}` is not an IP address", args.host))
            .hint("e.g. --host 127.0.0.1")
    })?;
    let on: Vec<&str> = flaws.iter().map(Flaw::id).collect();
    let agent = muster_refagent::start_with_reply_delay(
        RefAgentConfig {
            seed: args.seed,
            flaws,
            flaw_rate: args.flaw_rate,
            model,
            today: args.today,
            telemetry: muster_refagent::TelemetryConfig {
                endpoint: args.otlp_endpoint.clone(),
                file: args.otlp_file.clone(),
            },
        },
        std::net::SocketAddr::new(addr, args.port),
        std::time::Duration::from_millis(args.latency_ms),
    )
    .await
    .map_err(|e| {
        CliError::runtime(format!("the reference agent could not start: {e}"))
            .hint("is the port in use? try --port 0 for any free port")
    })?;
    eprintln!(
        "Larkspur Mobile reference agent listening on {}",
        agent.base_url()
    );
    if args.latency_ms > 0 {
        eprintln!("each reply held back {} ms", args.latency_ms);
    }
    if on.is_empty() {
        eprintln!("hardened: every planted flaw is off");
    } else {
        eprintln!("planted flaws on: {}", on.join(", "));
    }
    eprintln!(
        "native API: POST /api/conversations · OpenAI-compatible: POST /v1/chat/completions · Ctrl-C to stop"
    );
    agent.wait().await;
    Ok(exit::OK)
}
