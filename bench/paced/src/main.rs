//! `paced URL --rate R --seconds S [--connections C] [--header 'Name: value']...`
//!
//! Sends `GET URL` at `R` requests per second for `S` seconds over up to
//! `C` keep-alive HTTP/1.1 connections, on one thread, and prints one JSON
//! line: how many were due, completed, failed or not 2xx, the rate
//! achieved, and latency percentiles in milliseconds.
//!
//! Request `i` is due at `start + i / R`. A connection that is free takes
//! the next due request, waits for its moment and sends it; the latency is
//! `completion - due`. When every connection is busy, the next request goes
//! out late and its lateness counts: a server that stalls for 50 ms shows
//! as 50 ms of latency for every request due meanwhile, as it would for the
//! users sending them (no coordinated omission).

use std::cell::RefCell;
use std::rc::Rc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio::time::Instant;

/// What the command line asked for.
struct Plan {
    /// `host:port` to connect to.
    addr: String,
    /// The request bytes, sent as they are for each request.
    request: Vec<u8>,
    /// Requests per second.
    rate: f64,
    /// Length of the run.
    seconds: f64,
    /// Connections (the most requests in flight at once).
    connections: usize,
}

/// What the connections saw.
#[derive(Default)]
struct Tally {
    /// Latencies of completed requests, microseconds from their due time.
    latencies: Vec<u64>,
    /// Completed with a status outside 200..=399.
    non2xx: u64,
    /// Failed: connection refused or reset, malformed answer.
    errors: u64,
}

fn usage() -> ! {
    eprintln!(
        "usage: paced http://HOST:PORT/PATH --rate R --seconds S [--connections C] [--header 'N: v']..."
    );
    std::process::exit(2)
}

fn parse_args() -> Plan {
    let mut args = std::env::args().skip(1);
    let url = args.next().unwrap_or_else(|| usage());
    let (mut rate, mut seconds, mut connections) = (0.0, 0.0, 32);
    let mut headers = Vec::new();
    while let Some(flag) = args.next() {
        let value = args.next().unwrap_or_else(|| usage());
        match flag.as_str() {
            "--rate" => rate = value.parse().unwrap_or_else(|_| usage()),
            "--seconds" => seconds = value.parse().unwrap_or_else(|_| usage()),
            "--connections" => connections = value.parse().unwrap_or_else(|_| usage()),
            "--header" => headers.push(value),
            _ => usage(),
        }
    }
    if rate <= 0.0 || seconds <= 0.0 || connections == 0 {
        usage();
    }
    let rest = url.strip_prefix("http://").unwrap_or_else(|| usage());
    let (addr, path) = match rest.find('/') {
        Some(at) => (&rest[..at], &rest[at..]),
        None => (rest, "/"),
    };
    let mut request = format!("GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: text/html\r\n");
    for h in &headers {
        request.push_str(h);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    Plan {
        addr: addr.to_owned(),
        request: request.into_bytes(),
        rate,
        seconds,
        connections,
    }
}

/// Reads one response; its status.
async fn read_response(reader: &mut BufReader<TcpStream>) -> std::io::Result<u16> {
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_owned());
    let mut line = String::new();
    if reader.read_line(&mut line).await? == 0 {
        return Err(bad("connection closed"));
    }
    let status: u16 = line
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status"))?;
    let (mut length, mut chunked) = (0usize, false);
    loop {
        line.clear();
        if reader.read_line(&mut line).await? == 0 {
            return Err(bad("closed in the head"));
        }
        let header = line.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':') {
            let value = value.trim();
            if name.eq_ignore_ascii_case("content-length") {
                length = value.parse().map_err(|_| bad("content-length"))?;
            } else if name.eq_ignore_ascii_case("transfer-encoding") {
                chunked = value.eq_ignore_ascii_case("chunked");
            }
        }
    }
    if !chunked {
        let mut body = vec![0; length];
        reader.read_exact(&mut body).await?;
        return Ok(status);
    }
    loop {
        line.clear();
        reader.read_line(&mut line).await?;
        let size = usize::from_str_radix(line.trim_end().split(';').next().unwrap_or(""), 16)
            .map_err(|_| bad("chunk size"))?;
        let mut chunk = vec![0; size + 2];
        reader.read_exact(&mut chunk).await?;
        if size == 0 {
            return Ok(status);
        }
    }
}

/// One connection: takes the next due request until the run is over.
async fn connection(plan: Rc<Plan>, next: Rc<RefCell<u64>>, start: Instant, tally: Rc<RefCell<Tally>>) {
    let total = (plan.rate * plan.seconds) as u64;
    let mut stream: Option<BufReader<TcpStream>> = None;
    loop {
        let i = {
            let mut n = next.borrow_mut();
            let i = *n;
            *n += 1;
            i
        };
        if i >= total {
            return;
        }
        let due = start + Duration::from_secs_f64(i as f64 / plan.rate);
        tokio::time::sleep_until(due).await;
        let outcome = async {
            if stream.is_none() {
                let s = TcpStream::connect(&plan.addr).await?;
                s.set_nodelay(true)?;
                stream = Some(BufReader::new(s));
            }
            let s = stream.as_mut().expect("connected above");
            s.get_mut().write_all(&plan.request).await?;
            read_response(s).await
        }
        .await;
        let mut t = tally.borrow_mut();
        match outcome {
            Ok(status) => {
                t.latencies.push(due.elapsed().as_micros() as u64);
                if !(200..400).contains(&status) {
                    t.non2xx += 1;
                }
            }
            Err(_) => {
                t.errors += 1;
                stream = None;
            }
        }
    }
}

fn percentile(sorted: &[u64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1] as f64 / 1000.0
}

#[tokio::main(flavor = "current_thread")]
async fn main() {
    let plan = Rc::new(parse_args());
    let next = Rc::new(RefCell::new(0u64));
    let tally = Rc::new(RefCell::new(Tally::default()));
    let start = Instant::now() + Duration::from_millis(50);
    let local = tokio::task::LocalSet::new();
    for _ in 0..plan.connections {
        local.spawn_local(connection(plan.clone(), next.clone(), start, tally.clone()));
    }
    local.await;
    let elapsed = start.elapsed().as_secs_f64();
    let mut t = tally.take();
    t.latencies.sort_unstable();
    let due = (plan.rate * plan.seconds) as u64;
    println!(
        "{{\"due\": {due}, \"completed\": {}, \"non2xx\": {}, \"errors\": {}, \"achieved_rps\": {:.1}, \
         \"p50\": {:.3}, \"p90\": {:.3}, \"p99\": {:.3}, \"p999\": {:.3}, \"max\": {:.3}}}",
        t.latencies.len(),
        t.non2xx,
        t.errors,
        t.latencies.len() as f64 / elapsed,
        percentile(&t.latencies, 50.0),
        percentile(&t.latencies, 90.0),
        percentile(&t.latencies, 99.0),
        percentile(&t.latencies, 99.9),
        percentile(&t.latencies, 100.0),
    );
}
