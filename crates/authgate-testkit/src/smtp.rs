//! [`SmtpSink`]: a real SMTP server on 127.0.0.1 for tests, speaking
//! enough RFC 5321 (EHLO/HELO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) for
//! authgate's mailer, keeping what it receives for the test to read, and
//! able to refuse the next messages (451) to exercise retries.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

/// Longest a test waits for the server to hand the sink a message.
const WAIT: Duration = Duration::from_secs(15);

/// A message as the sink received it.
#[derive(Debug, Clone)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message text (headers and body), dot-unstuffed.
    pub data: String,
}

impl ReceivedMail {
    /// The value of the first header `name` (case-insensitive), unfolded.
    pub fn header(&self, name: &str) -> Option<String> {
        let head = self.data.split("\r\n\r\n").next().unwrap_or_default();
        let mut lines = head.split("\r\n").peekable();
        while let Some(line) = lines.next() {
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            if key.eq_ignore_ascii_case(name) {
                let mut value = value.trim().to_owned();
                while let Some(next) = lines.peek().filter(|l| l.starts_with([' ', '\t'])) {
                    value.push(' ');
                    value.push_str(next.trim());
                    lines.next();
                }
                return Some(value);
            }
        }
        None
    }

    /// The message with quoted-printable soft breaks and escapes decoded
    /// (when a part uses that encoding): what a reader sees of its text parts.
    pub fn decoded(&self) -> String {
        if !self
            .data
            .to_ascii_lowercase()
            .contains("content-transfer-encoding: quoted-printable")
        {
            return self.data.clone();
        }
        let joined = self.data.replace("=\r\n", "");
        let bytes = joined.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'='
                && i + 2 < bytes.len()
                && let Ok(b) = u8::from_str_radix(&joined[i + 1..i + 3], 16)
            {
                out.push(b);
                i += 3;
                continue;
            }
            out.push(bytes[i]);
            i += 1;
        }
        String::from_utf8_lossy(&out).into_owned()
    }

    /// The first link in the text starting with `prefix` (up to the next
    /// space, quote or angle bracket).
    pub fn link(&self, prefix: &str) -> Option<String> {
        let text = self.decoded();
        let start = text.find(prefix)?;
        let rest = &text[start..];
        let end = rest
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '<' | '>'))
            .unwrap_or(rest.len());
        Some(rest[..end].to_owned())
    }
}

/// What the sink tells the test.
#[derive(Debug)]
enum Event {
    /// A message was accepted.
    Received(ReceivedMail),
    /// A message was refused with 451 (see [`SmtpSink::refuse_next`]).
    Refused,
}

/// An SMTP server on 127.0.0.1, stopped when dropped.
#[derive(Debug)]
pub struct SmtpSink {
    /// Its port.
    pub port: u16,
    /// What it received or refused, in order.
    events: mpsc::UnboundedReceiver<Event>,
    /// How many of the next messages to refuse.
    refuse: Arc<AtomicUsize>,
    /// The accept loop.
    task: JoinHandle<()>,
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpSink {
    /// Starts a sink on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port for the SMTP sink");
        let port = listener.local_addr().expect("the sink's address").port();
        let (tx, events) = mpsc::unbounded_channel();
        let refuse = Arc::new(AtomicUsize::new(0));
        let task = tokio::spawn({
            let refuse = refuse.clone();
            async move {
                while let Ok((stream, _)) = listener.accept().await {
                    tokio::spawn(serve(stream, tx.clone(), refuse.clone()));
                }
            }
        });
        Self {
            port,
            events,
            refuse,
            task,
        }
    }

    /// The `email.smtp_url` reaching it (plain text: `tls=none`).
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}?tls=none", self.port)
    }

    /// Answers 451 ("try again later") to the next `n` messages.
    pub fn refuse_next(&self, n: usize) {
        self.refuse.store(n, Ordering::SeqCst);
    }

    /// The next message accepted (refusals in between are skipped); panics
    /// after 15 s without one.
    pub async fn next_mail(&mut self) -> ReceivedMail {
        loop {
            match self.next_event().await {
                Event::Received(mail) => return mail,
                Event::Refused => {}
            }
        }
    }

    /// Waits for the next refusal; panics if a message is accepted first
    /// or nothing happens within 15 s.
    pub async fn next_refusal(&mut self) {
        match self.next_event().await {
            Event::Refused => {}
            Event::Received(mail) => panic!("a message was accepted: {:?}", mail.header("Subject")),
        }
    }

    /// Whether nothing arrived (and nothing was refused) so far.
    pub fn is_empty(&mut self) -> bool {
        self.events.try_recv().is_err()
    }

    async fn next_event(&mut self) -> Event {
        tokio::time::timeout(WAIT, self.events.recv())
            .await
            .expect("the server delivers within 15 s")
            .expect("the sink is running")
    }
}

/// One SMTP session.
async fn serve(stream: TcpStream, tx: mpsc::UnboundedSender<Event>, refuse: Arc<AtomicUsize>) {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read);
    if !reply(&mut write, "220 sink ESMTP ready\r\n").await {
        return;
    }
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
            return;
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let answer = match verb.as_str() {
            "EHLO" | "HELO" => "250 sink\r\n".to_owned(),
            "MAIL" => {
                from = address(&command);
                to.clear();
                "250 ok\r\n".to_owned()
            }
            "RCPT" => {
                to.push(address(&command));
                "250 ok\r\n".to_owned()
            }
            "DATA" => {
                if !reply(&mut write, "354 go ahead\r\n").await {
                    return;
                }
                let mut data = String::new();
                loop {
                    line.clear();
                    if lines.read_line(&mut line).await.unwrap_or(0) == 0 {
                        return;
                    }
                    if line == ".\r\n" {
                        break;
                    }
                    data.push_str(line.strip_prefix('.').unwrap_or(&line));
                }
                let refused = refuse
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
                    .is_ok();
                if refused {
                    let _ = tx.send(Event::Refused);
                    "451 try again later\r\n".to_owned()
                } else {
                    let _ = tx.send(Event::Received(ReceivedMail {
                        from: from.clone(),
                        to: to.clone(),
                        data,
                    }));
                    "250 queued\r\n".to_owned()
                }
            }
            "RSET" | "NOOP" => "250 ok\r\n".to_owned(),
            "QUIT" => {
                let _ = reply(&mut write, "221 bye\r\n").await;
                return;
            }
            _ => "502 not implemented\r\n".to_owned(),
        };
        if !reply(&mut write, &answer).await {
            return;
        }
    }
}

/// Writes one reply; `false` when the client has gone.
async fn reply(write: &mut tokio::net::tcp::OwnedWriteHalf, text: &str) -> bool {
    write.write_all(text.as_bytes()).await.is_ok()
}

/// The address inside `<…>` of a MAIL or RCPT command.
fn address(command: &str) -> String {
    command
        .split_once('<')
        .and_then(|(_, rest)| rest.split_once('>'))
        .map(|(address, _)| address.to_owned())
        .unwrap_or_default()
}
