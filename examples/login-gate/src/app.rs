//! The program's state: which screen is shown, and the commands that move
//! between screens.

use std::io::{BufRead, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::Result;
use authgate_client::{AuthChange, Client, RouteGuard, Subscription, route_guard};

use crate::read_line;
use crate::screens;

/// The login screen's route; the guard sends visitors here.
pub(crate) const LOGIN: &str = "/login";
/// The dashboard's route; protected.
pub(crate) const DASHBOARD: &str = "/dashboard";

/// The demo application.
pub(crate) struct App {
    /// Talks to the server and holds the session.
    client: Client,
    /// The server's URL, shown on the login screen.
    server: String,
    /// Decides what may be rendered.
    guard: RouteGuard,
    /// The route on screen.
    route: String,
    /// Whether stdin is a terminal: then the password is read without echo.
    interactive: bool,
    /// Set by the store's listener when the session ends behind our back
    /// (a refused refresh), so the next screen can say why.
    session_ended: Arc<AtomicBool>,
    /// Keeps the listener registered for the app's lifetime.
    _subscription: Subscription,
}

impl App {
    /// An app showing nothing yet.
    pub(crate) fn new(client: Client, server: String, interactive: bool) -> Self {
        let guard = route_guard(client.store(), LOGIN);
        let session_ended = Arc::new(AtomicBool::new(false));
        let flag = Arc::clone(&session_ended);
        let subscription = client.store().subscribe(move |change| {
            flag.store(*change == AuthChange::LoggedOut, Ordering::SeqCst);
        });
        Self {
            client,
            server,
            guard,
            route: String::new(),
            interactive,
            session_ended,
            _subscription: subscription,
        }
    }

    /// Shows the dashboard (or, logged out, the login screen), then runs
    /// one command per input line until `quit` or the end of input.
    pub(crate) async fn run(&mut self, mut input: impl BufRead, mut out: impl Write) -> Result<()> {
        self.navigate(DASHBOARD, &mut out)?;
        loop {
            write!(out, "> ")?;
            out.flush()?;
            let Some(line) = read_line(&mut input)? else {
                writeln!(out)?;
                return Ok(());
            };
            let (command, argument) = match line.trim().split_once(' ') {
                Some((command, argument)) => (command, argument.trim()),
                None => (line.trim(), ""),
            };
            match command {
                "" => {}
                "quit" | "exit" => return Ok(()),
                "go" => self.navigate(argument, &mut out)?,
                "login" => self.login(argument, &mut input, &mut out).await?,
                "refresh" if self.route == DASHBOARD => {
                    if let Err(e) = self.client.refresh().await {
                        writeln!(out, "! refresh failed: {e}")?;
                    }
                    self.navigate(DASHBOARD, &mut out)?;
                }
                "logout" if self.route == DASHBOARD => {
                    if let Err(e) = self.client.logout().await {
                        writeln!(out, "! the server was not told: {e}")?;
                    }
                    self.session_ended.store(false, Ordering::SeqCst);
                    self.navigate(LOGIN, &mut out)?;
                }
                _ => writeln!(out, "! unknown command here: {line}")?,
            }
        }
    }

    /// Asks for the password of `identifier`, logs in, shows the dashboard.
    async fn login(
        &mut self,
        identifier: &str,
        input: &mut impl BufRead,
        out: &mut impl Write,
    ) -> Result<()> {
        if identifier.is_empty() {
            writeln!(out, "! usage: login <email or username>")?;
            return Ok(());
        }
        let password = if self.interactive {
            rpassword::prompt_password("Password: ")?
        } else {
            writeln!(out, "Password:")?;
            read_line(input)?.unwrap_or_default()
        };
        match self.client.login(identifier, &password).await {
            Ok(_) => self.navigate(DASHBOARD, out),
            Err(e) => {
                writeln!(out, "! login failed: {e}")?;
                self.navigate(LOGIN, out)
            }
        }
    }

    /// Shows `requested`, or where the guard sends it.
    fn navigate(&mut self, requested: &str, out: &mut impl Write) -> Result<()> {
        let requested = if requested.is_empty() {
            DASHBOARD
        } else {
            requested
        };
        let shown = self.guard.resolve(requested).to_owned();
        if shown != requested {
            writeln!(out, "({requested} needs a login: showing {shown})")?;
        }
        if self.session_ended.swap(false, Ordering::SeqCst) {
            writeln!(out, "Your session has ended; please log in again.")?;
        }
        let screen = match shown.as_str() {
            LOGIN => screens::login(&self.server, &self.client),
            DASHBOARD => screens::dashboard(&self.client),
            other => {
                writeln!(out, "! no such page: {other}")?;
                return Ok(());
            }
        };
        self.route = shown;
        write!(out, "{screen}")?;
        Ok(())
    }
}
