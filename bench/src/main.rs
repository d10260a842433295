//! `portico-bench`: measures Portico's grants over HTTP against a server it starts itself, next
//! to the physical bounds measured in the same run on the same machine: RS256 signatures per
//! second (every grant signs one access token) and Argon2id hashes per second (every password
//! grant verifies one). `--suite sdk` measures `portico-sdk` instead (see `sdk.rs`), `--suite
//! policies` the cost of organization policies (see `policies.rs`), `--suite passkeys` the CPU
//! cost of checking a passkey sign-in (see `passkeys.rs`).
//!
//! Prints a markdown section; `--write` also puts it in BENCHMARKS.md.

mod passkeys;
mod policies;
mod sdk;

use anyhow::{Context, Result, bail};
use clap::Parser;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

#[derive(Parser)]
#[command(name = "portico-bench", about = "Sign-in benchmarks for Portico")]
struct Cli {
    /// What to measure.
    #[arg(long, value_enum, default_value_t = Suite::SignIn)]
    suite: Suite,
    /// The server binary to measure.
    #[arg(long, default_value = "target/release/portico")]
    bin: PathBuf,
    /// Measure on PostgreSQL: a database is created with this base URL and dropped afterwards.
    #[arg(long)]
    pg: Option<String>,
    /// Seconds per measured run.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Concurrent clients (each with its own session).
    #[arg(long, default_value_t = 32)]
    concurrency: usize,
    /// Write the section into BENCHMARKS.md.
    #[arg(long)]
    write: bool,
    /// `--suite policies`: also measure this server binary (a build from before policies
    /// existed), alternated with the current one.
    #[arg(long)]
    baseline_bin: Option<PathBuf>,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Suite {
    /// The refresh and password grants.
    SignIn,
    /// portico-sdk: token verification and the guard in the example app.
    Sdk,
    /// Organization policies: the evaluation function, and refreshes with and without a policy.
    Policies,
    /// Passkeys: checking a passkey sign-in, next to the signature verification it contains.
    Passkeys,
}

const PASSWORD: &str = "correct horse battery staple";

/// A server started for the run, stopped when dropped.
struct Server {
    child: Child,
    base: String,
    api_key: String,
    client_id: String,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

async fn start_server(bin: &Path, database_url: Option<&str>) -> Result<Server> {
    let dir = tempfile::tempdir()?;
    // Sign-in rate limits would cap the very throughput measured here; lift them for the run.
    let config = dir.path().join("portico.toml");
    std::fs::write(
        &config,
        "[rate_limits]\nsign_in_per_email_per_minute = 100000000\nsign_in_per_ip_per_minute = 100000000\n",
    )?;
    let mut db_args = vec![
        "--config".to_owned(),
        config.display().to_string(),
        "--data-dir".to_owned(),
        dir.path().display().to_string(),
    ];
    if let Some(url) = database_url {
        db_args.extend(["--database-url".to_owned(), url.to_owned()]);
    }
    let boot = Command::new(bin)
        .args(&db_args)
        .args(["bootstrap", "--json"])
        .stderr(Stdio::inherit())
        .output()
        .with_context(|| format!("cannot run {}", bin.display()))?;
    if !boot.status.success() {
        bail!("portico bootstrap failed");
    }
    let boot: Value = serde_json::from_slice(&boot.stdout).context("bootstrap did not print JSON")?;
    let port = free_port()?;
    let log = std::fs::File::create(dir.path().join("server.log"))?;
    let child = Command::new(bin)
        .args(&db_args)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .stdout(log.try_clone()?)
        .stderr(log)
        .spawn()?;
    let base = format!("http://127.0.0.1:{port}");
    let server = Server {
        child,
        base,
        api_key: boot["api_key"].as_str().unwrap_or_default().to_owned(),
        client_id: boot["client_id"].as_str().unwrap_or_default().to_owned(),
        _dir: dir,
    };
    let http = reqwest::Client::new();
    for _ in 0..300 {
        if http.get(format!("{}/ready", server.base)).send().await.is_ok_and(|r| r.status().is_success()) {
            return Ok(server);
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    bail!("the server was not ready within 6 s")
}

/// Runs `work` on `threads` OS threads for `seconds` and returns operations per second.
fn ops_per_second(threads: usize, seconds: f64, work: impl Fn() + Send + Sync + 'static) -> f64 {
    let work = Arc::new(work);
    let started = Instant::now();
    let handles: Vec<_> = (0..threads)
        .map(|_| {
            let work = work.clone();
            std::thread::spawn(move || {
                let mut count = 0u64;
                while started.elapsed().as_secs_f64() < seconds {
                    work();
                    count += 1;
                }
                count
            })
        })
        .collect();
    let total: u64 = handles.into_iter().map(|h| h.join().unwrap_or(0)).sum();
    total as f64 / started.elapsed().as_secs_f64()
}

struct Bounds {
    rs256_per_core: f64,
    rs256_all: f64,
    argon2_per_core: f64,
    argon2_all: f64,
}

fn measure_bounds(cores: usize) -> Result<Bounds> {
    let generated = portico_crypto::jwt::generate_key("bench")?;
    let key =
        Arc::new(portico_crypto::jwt::SigningKey::from_pkcs8("k", &generated.pkcs8_der, &generated.certificate_der)?);
    let claims = json!({"iss": "http://localhost", "sub": "user_01", "sid": "session_01", "jti": "01", "iat": 1, "exp": 2,
                        "org_id": "org_01", "role": "admin", "roles": ["admin"], "permissions": ["posts:read", "posts:write"]});
    let sign = {
        let (key, claims) = (key.clone(), claims.clone());
        move || {
            let _ = key.sign(&claims);
        }
    };
    let rs256_per_core = ops_per_second(1, 2.0, sign.clone());
    let rs256_all = ops_per_second(cores, 2.0, sign);
    let stored = portico_crypto::password::hash(PASSWORD)?;
    let verify = move || {
        let _ = portico_crypto::password::verify(PASSWORD, &stored);
    };
    let argon2_per_core = ops_per_second(1, 3.0, verify.clone());
    let argon2_all = ops_per_second(cores, 3.0, verify);
    Ok(Bounds { rs256_per_core, rs256_all, argon2_per_core, argon2_all })
}

async fn post(http: &reqwest::Client, url: &str, body: &Value) -> Result<(u16, Value)> {
    let response = http.post(url).json(body).send().await?;
    let status = response.status().as_u16();
    Ok((status, response.json().await.unwrap_or(Value::Null)))
}

/// Latencies and counts of one run.
struct Run {
    per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

fn summarise(mut latencies: Vec<Duration>, errors: usize, elapsed: Duration) -> Run {
    latencies.sort();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 * q) as usize).min(latencies.len().saturating_sub(1)))
            .map_or(0.0, |d| d.as_secs_f64() * 1000.0)
    };
    Run { per_second: latencies.len() as f64 / elapsed.as_secs_f64(), p50_ms: pick(0.50), p99_ms: pick(0.99), errors }
}

/// Each client refreshes its own session in a loop, waiting `pace` between requests when given
/// (an open-loop target rate) or not at all (the maximum rate).
async fn refresh_run(
    server: &Server,
    tokens: Vec<String>,
    seconds: u64,
    pace: Option<Duration>,
) -> Result<(Run, Vec<String>)> {
    let http = reqwest::Client::builder().pool_max_idle_per_host(tokens.len()).build()?;
    let url = format!("{}/user_management/authenticate", server.base);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (index, mut token) in tokens.into_iter().enumerate() {
        let (http, url, stop, client_id) = (http.clone(), url.clone(), stop.clone(), server.client_id.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut errors = 0;
            // Spread paced clients over the interval so they do not fire together.
            let mut next = Instant::now() + pace.map_or(Duration::ZERO, |p| p.mul_f64(index as f64 / 32.0 % 1.0));
            while !stop.load(Ordering::Relaxed) {
                if let Some(pace) = pace {
                    tokio::time::sleep_until(next.into()).await;
                    next += pace;
                }
                let sent = Instant::now();
                let body = json!({"client_id": client_id, "grant_type": "refresh_token", "refresh_token": token});
                match post(&http, &url, &body).await {
                    Ok((200, answer)) => {
                        latencies.push(sent.elapsed());
                        token = answer["refresh_token"].as_str().unwrap_or_default().to_owned();
                    }
                    _ => errors += 1,
                }
            }
            (latencies, errors, token)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let mut latencies = Vec::new();
    let mut errors = 0;
    let mut tokens = Vec::new();
    for task in tasks {
        let (l, e, t) = task.await?;
        latencies.extend(l);
        errors += e;
        tokens.push(t);
    }
    Ok((summarise(latencies, errors, elapsed), tokens))
}

async fn password_run(server: &Server, email: &str, clients: usize, seconds: u64) -> Result<Run> {
    let http = reqwest::Client::new();
    let url = format!("{}/user_management/authenticate", server.base);
    let stop = Arc::new(AtomicBool::new(false));
    let started = Instant::now();
    let body = json!({"client_id": server.client_id, "client_secret": server.api_key, "grant_type": "password",
                      "email": email, "password": PASSWORD});
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (http, url, stop, body) = (http.clone(), url.clone(), stop.clone(), body.clone());
        tasks.push(tokio::spawn(async move {
            let (mut latencies, mut errors) = (Vec::new(), 0);
            while !stop.load(Ordering::Relaxed) {
                let sent = Instant::now();
                match post(&http, &url, &body).await {
                    Ok((200, _)) => latencies.push(sent.elapsed()),
                    _ => errors += 1,
                }
            }
            (latencies, errors)
        }));
    }
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let elapsed = started.elapsed();
    let (mut latencies, mut errors) = (Vec::new(), 0);
    for task in tasks {
        let (l, e) = task.await?;
        latencies.extend(l);
        errors += e;
    }
    Ok(summarise(latencies, errors, elapsed))
}

fn psql(url: &str, sql: &str) -> Result<()> {
    let status = Command::new("psql").args([url, "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c", sql]).status()?;
    if !status.success() {
        bail!("psql failed: {sql}");
    }
    Ok(())
}

fn with_database(base: &str, name: &str) -> String {
    let (head, query) = base.split_once('?').map_or((base, ""), |(h, q)| (h, q));
    let trimmed = head.rsplit_once('/').map_or(head, |(h, _)| h);
    if query.is_empty() { format!("{trimmed}/{name}") } else { format!("{trimmed}/{name}?{query}") }
}

fn commas(value: f64) -> String {
    let digits = format!("{:.0}", value);
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn verdict(ok: bool) -> &'static str {
    if ok { "meets" } else { "misses" }
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    if cli.suite == Suite::Policies {
        let section = policies::run(&cli, cores).await?;
        print!("{section}");
        if cli.write {
            write_section("policies", &section)?;
        }
        return Ok(());
    }
    if cli.suite == Suite::Passkeys {
        let section = passkeys::run(cores)?;
        print!("{section}");
        if cli.write {
            write_section("passkeys", &section)?;
        }
        return Ok(());
    }
    if cli.suite == Suite::Sdk {
        let section = sdk::run(&cli, cores).await?;
        print!("{section}");
        if cli.write {
            write_section("sdk", &section)?;
        }
        return Ok(());
    }
    eprintln!("bench: measuring RS256 and Argon2id on this machine");
    let bounds = measure_bounds(cores)?;

    let database = match &cli.pg {
        Some(base) => {
            let name = format!("portico_bench_{}", std::process::id());
            psql(base, &format!("CREATE DATABASE {name}"))?;
            Some((base.clone(), name))
        }
        None => None,
    };
    let db_url = database.as_ref().map(|(base, name)| with_database(base, name));
    let outcome = run_grants(&cli, db_url.as_deref()).await;
    if let Some((base, name)) = &database {
        let _ = psql(base, &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"));
    }
    let Grants { refresh_max, refresh_paced, password, refresh_during_burst, password_during_burst } = outcome?;

    let engine = if cli.pg.is_some() { "PostgreSQL" } else { "SQLite" };
    let refresh_target = if cli.pg.is_some() { 800.0 } else { 1500.0 };
    let mut section = String::new();
    section.push_str(&format!("## Sign-in, {engine}\n\n"));
    section.push_str(&format!(
        "Measured by `portico-bench{}` (release build), {} concurrent clients (one session each) in the same process on the same {cores}-CPU machine, {} s per run, sign-in rate limits lifted. The load generator shares the CPUs with the server.\n\n",
        if cli.pg.is_some() { " --pg …" } else { "" },
        cli.concurrency,
        cli.seconds
    ));
    section
        .push_str("| Measure | Result | Target | Bound measured in the same run | Verdict |\n|---|---|---|---|---|\n");
    section.push_str(&format!(
        "| `refresh_token` grant, maximum rate | {} /s (p50 {:.1} ms, p99 {:.1} ms, {} errors) | ≥ {} /s | RS256 signatures: {} /s on one core, {} /s on {cores} | {} |\n",
        commas(refresh_max.per_second),
        refresh_max.p50_ms,
        refresh_max.p99_ms,
        refresh_max.errors,
        commas(refresh_target),
        commas(bounds.rs256_per_core),
        commas(bounds.rs256_all),
        verdict(refresh_max.per_second >= refresh_target && refresh_max.errors == 0)
    ));
    section.push_str(&format!(
        "| `refresh_token` grant at 70 % of that rate | {} /s, p99 {:.1} ms ({} errors) | p99 ≤ 25 ms | — | {} |\n",
        commas(refresh_paced.per_second),
        refresh_paced.p99_ms,
        refresh_paced.errors,
        verdict(refresh_paced.p99_ms <= 25.0 && refresh_paced.errors == 0)
    ));
    section.push_str(&format!(
        "| `password` grant | {} /s (p50 {:.0} ms, p99 {:.0} ms, {} errors) | ≥ 80 % of the Argon2id rate | Argon2id (m=19 MiB, t=2, p=1) verifications: {} /s on one core, {} /s on {cores} | {} ({:.0} %) |\n",
        commas(password.per_second),
        password.p50_ms,
        password.p99_ms,
        password.errors,
        commas(bounds.argon2_per_core),
        commas(bounds.argon2_all),
        verdict(password.per_second >= 0.8 * bounds.argon2_all && password.errors == 0),
        100.0 * password.per_second / bounds.argon2_all
    ));
    // Hashing runs on a bounded pool, so a burst of logins must not starve refreshes.
    section.push_str(&format!(
        "| `refresh_token` at the same 70 % rate while {} clients sign in with passwords ({} /s) | {} /s, p99 {:.1} ms ({} errors) | p99 ≤ 25 ms | — | {} |\n\n",
        cli.concurrency.min(16),
        commas(password_during_burst.per_second),
        commas(refresh_during_burst.per_second),
        refresh_during_burst.p99_ms,
        refresh_during_burst.errors,
        verdict(refresh_during_burst.p99_ms <= 25.0 && refresh_during_burst.errors == 0)
    ));
    print!("{section}");
    if cli.write {
        write_section(&format!("signin:{}", engine.to_lowercase()), &section)?;
    }
    Ok(())
}

/// What `run_grants` measured.
struct Grants {
    refresh_max: Run,
    refresh_paced: Run,
    password: Run,
    refresh_during_burst: Run,
    password_during_burst: Run,
}

async fn run_grants(cli: &Cli, db_url: Option<&str>) -> Result<Grants> {
    let server = start_server(&cli.bin, db_url).await?;
    let http = reqwest::Client::new();
    let email = "bench-signin@example.com";
    let created = http
        .post(format!("{}/user_management/users", server.base))
        .bearer_auth(&server.api_key)
        .json(&json!({"email": email, "password": PASSWORD, "email_verified": true}))
        .send()
        .await?;
    if !created.status().is_success() {
        bail!("creating the user failed: {}", created.text().await.unwrap_or_default());
    }
    eprintln!("bench: signing in {} sessions", cli.concurrency);
    let mut tokens = Vec::new();
    let sign_in = json!({"client_id": server.client_id, "client_secret": server.api_key, "grant_type": "password",
                         "email": email, "password": PASSWORD});
    for _ in 0..cli.concurrency {
        let (status, answer) = post(&http, &format!("{}/user_management/authenticate", server.base), &sign_in).await?;
        if status != 200 {
            bail!("sign-in failed ({status}): {answer}");
        }
        tokens.push(answer["refresh_token"].as_str().unwrap_or_default().to_owned());
    }
    eprintln!("bench: password grants");
    let password = password_run(&server, email, cli.concurrency.min(16), cli.seconds).await?;
    eprintln!("bench: refresh grants at the maximum rate");
    let (_, tokens) = refresh_run(&server, tokens, 2, None).await?;
    let (max, tokens) = refresh_run(&server, tokens, cli.seconds, None).await?;
    let per_client = max.per_second * 0.7 / cli.concurrency as f64;
    eprintln!("bench: refresh grants at 70 % ({:.0} /s)", max.per_second * 0.7);
    let pace = Duration::from_secs_f64(1.0 / per_client.max(0.1));
    let (paced, tokens) = refresh_run(&server, tokens, cli.seconds, Some(pace)).await?;
    eprintln!("bench: refresh grants at 70 % during password sign-ins");
    let (during, burst) = tokio::join!(
        refresh_run(&server, tokens, cli.seconds, Some(pace)),
        password_run(&server, email, cli.concurrency.min(16), cli.seconds)
    );
    Ok(Grants {
        refresh_max: max,
        refresh_paced: paced,
        password,
        refresh_during_burst: during?.0,
        password_during_burst: burst?,
    })
}

/// Replaces (or appends) the section between `<!-- bench:NAME:begin -->` and `…:end -->`.
fn write_section(name: &str, section: &str) -> Result<()> {
    let path = Path::new("BENCHMARKS.md");
    let current = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".to_owned());
    let begin = format!("<!-- bench:{name}:begin -->");
    let end = format!("<!-- bench:{name}:end -->");
    let block = format!("{begin}\n{section}{end}\n");
    let updated = match (current.find(&begin), current.find(&end)) {
        (Some(start), Some(stop)) if stop > start => {
            format!("{}{}{}", &current[..start], block, current[stop + end.len()..].trim_start_matches('\n'))
        }
        _ => format!("{}\n\n{block}", current.trim_end()),
    };
    std::fs::write(path, updated)?;
    eprintln!("bench: updated BENCHMARKS.md ({name})");
    Ok(())
}
