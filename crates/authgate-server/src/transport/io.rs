//! The socket as hyper sees it: every byte received or sent is noted (the
//! idle and head timeouts read it), and hyper's own answers to requests it could not
//! parse, sent with an empty body, get docs/http-api.md's error body instead.
//!
//! hyper answers a malformed head (400), a request target it cannot hold
//! (414) and a head over its buffer or with too many fields (431) itself,
//! before any service sees the request, and offers no hook for the body.
//! Those answers are the only bodiless 400/414/431 the server ever writes
//! (every handler's error has a JSON body), so they are recognised here by
//! their head and replaced whole; hyper closes the connection after them.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

use authgate_proto::{ErrorBody, ErrorCode};
use axum::http::HeaderValue;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

use super::tracker::ConnState;

/// A connection's byte stream, watched.
#[derive(Debug)]
pub(super) struct Watched<I> {
    inner: I,
    state: Arc<ConnState>,
    /// A replacement answer not yet fully written, and how much of it was.
    pending: Option<(Vec<u8>, usize)>,
    /// The `Strict-Transport-Security` value replacement answers carry
    /// (over authgate's TLS).
    hsts: Option<HeaderValue>,
}

impl<I> Watched<I> {
    pub(super) fn new(inner: I, state: Arc<ConnState>, hsts: Option<HeaderValue>) -> Self {
        Self {
            inner,
            state,
            pending: None,
            hsts,
        }
    }
}

impl<I: AsyncWrite + Unpin> Watched<I> {
    /// Writes what is left of a replacement answer.
    fn poll_pending(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while let Some((bytes, written)) = &mut self.pending {
            if *written == bytes.len() {
                self.pending = None;
                break;
            }
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &bytes[*written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            *written += n;
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncRead + Unpin> AsyncRead for Watched<I> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        ready!(Pin::new(&mut this.inner).poll_read(cx, buf))?;
        if buf.filled().len() > before {
            this.state.received();
        }
        Poll::Ready(Ok(()))
    }
}

impl<I: AsyncWrite + Unpin> AsyncWrite for Watched<I> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        if let Some(replacement) = with_error_body(buf, this.hsts.as_ref()) {
            this.pending = Some((replacement, 0));
            // The replacement goes out on this call or a later write, flush
            // or shutdown; hyper's bytes count as written either way.
            if let Poll::Ready(Err(e)) = this.poll_pending(cx) {
                return Poll::Ready(Err(e));
            }
            return Poll::Ready(Ok(buf.len()));
        }
        let written = ready!(Pin::new(&mut this.inner).poll_write(cx, buf))?;
        if written > 0 {
            this.state.sent();
        }
        Poll::Ready(Ok(written))
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_pending(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }

    // Unvectored, so that hyper hands each answer's head over in one piece.
    fn is_write_vectored(&self) -> bool {
        false
    }
}

/// If `buf` is exactly one of hyper's bodiless automatic answers (a head
/// of status 400, 414 or 431 with `content-length: 0`), the same answer
/// with docs/http-api.md's error body (and `hsts` when given).
fn with_error_body(buf: &[u8], hsts: Option<&HeaderValue>) -> Option<Vec<u8>> {
    let head = std::str::from_utf8(buf).ok()?.strip_suffix("\r\n\r\n")?;
    let rest = head.strip_prefix("HTTP/1.1 ")?;
    let description = match rest.get(..4)? {
        "400 " => "The request is not valid HTTP.",
        "414 " => "The request target is too long.",
        "431 " => "The request head is over 32 KiB or has too many header fields.",
        _ => return None,
    };
    let mut lines = head.split("\r\n");
    let status_line = lines.next()?;
    let mut fields = Vec::new();
    let mut empty_body = false;
    for line in lines {
        if line.eq_ignore_ascii_case("content-length: 0") {
            empty_body = true;
        } else {
            fields.push(line);
        }
    }
    if !empty_body {
        return None;
    }
    let body = serde_json::to_vec(&ErrorBody::new(ErrorCode::InvalidRequest, description)).ok()?;
    let mut out = format!("{status_line}\r\n");
    for field in fields {
        out.push_str(field);
        out.push_str("\r\n");
    }
    for (name, value) in crate::layers::SECURITY_HEADERS {
        out.push_str(&format!("{name}: {value}\r\n"));
    }
    if let Some(hsts) = hsts.and_then(|v| v.to_str().ok()) {
        out.push_str(&format!("strict-transport-security: {hsts}\r\n"));
    }
    out.push_str(&format!(
        "content-type: application/json\r\ncache-control: no-store\r\nconnection: close\r\ncontent-length: {}\r\n\r\n",
        body.len()
    ));
    let mut out = out.into_bytes();
    out.extend_from_slice(&body);
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hypers_bodiless_431_gets_the_error_body() {
        let hyper = b"HTTP/1.1 431 Request Header Fields Too Large\r\ncontent-length: 0\r\ndate: Sun, 06 Dec 2026 21:00:00 GMT\r\n\r\n";
        let out = String::from_utf8(with_error_body(hyper, None).unwrap()).unwrap();
        let (head, body) = out.split_once("\r\n\r\n").unwrap();
        assert!(head.starts_with("HTTP/1.1 431 Request Header Fields Too Large\r\n"));
        assert!(head.contains("date: Sun, 06 Dec 2026"), "{head}");
        assert!(
            head.contains(&format!("content-length: {}", body.len())),
            "{head}"
        );
        let body: ErrorBody = serde_json::from_str(body).unwrap();
        assert_eq!(body.error, ErrorCode::InvalidRequest);
    }

    #[test]
    fn answers_with_a_body_or_another_status_are_left_alone() {
        assert!(
            with_error_body(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 12\r\n\r\n",
                None
            )
            .is_none()
        );
        assert!(
            with_error_body(
                b"HTTP/1.1 204 No Content\r\ncontent-length: 0\r\n\r\n",
                None
            )
            .is_none()
        );
        assert!(
            with_error_body(
                b"HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\n\r\n{}",
                None
            )
            .is_none()
        );
    }
}
