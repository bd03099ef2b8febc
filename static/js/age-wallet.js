/* The wallet page (/accounts/age/wallet/): waits for the wallet's answer and,
   where the browser has the Digital Credentials API, offers it.

   Without this script the page still works: the link and the QR code carry
   the request, and "J'ai répondu" shows the outcome. */
(function () {
  "use strict";
  const page = document.querySelector(".age-wallet");
  if (!page) return;
  const strings = JSON.parse(document.getElementById("wallet-strings").textContent);
  const status = document.getElementById("wallet-status");
  const POLL_MS = 3000;

  // Poll until the wallet has answered (direct_post reaches the server, not
  // this page), then reload: the page itself shows the outcome.
  let polling = true;
  async function poll() {
    if (!polling) return;
    try {
      const response = await fetch(page.dataset.statusUrl, {
        credentials: "same-origin",
        headers: { Accept: "application/json" },
      });
      if (response.ok) {
        const body = await response.json();
        if (body.status === "answered") {
          polling = false;
          status.textContent = strings.answered;
          window.location.assign(window.location.pathname);
          return;
        }
      }
    } catch (error) {
      // A lost poll is retried; the "J'ai répondu" link stays as a fallback.
    }
    window.setTimeout(poll, POLL_MS);
  }
  window.setTimeout(poll, POLL_MS);

  // The Digital Credentials API (W3C), where the browser exposes it.
  const dcApi = document.getElementById("dc-api");
  if (
    typeof window.DigitalCredential === "undefined" ||
    !navigator.credentials ||
    typeof navigator.credentials.get !== "function"
  ) {
    return;
  }
  dcApi.hidden = false;
  const request = JSON.parse(document.getElementById("dc-api-request").textContent);

  function csrfToken() {
    const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  document.getElementById("dc-api-button").addEventListener("click", async function () {
    status.textContent = strings.waiting;
    let credential;
    try {
      credential = await navigator.credentials.get({
        mediation: "required",
        digital: { requests: [request] },
      });
    } catch (error) {
      status.textContent = strings.cancelled;
      return;
    }
    const data = credential && credential.data;
    if (!data || !data.vp_token) {
      status.textContent = strings.cancelled;
      return;
    }
    polling = false;
    const response = await fetch(page.dataset.dcApiUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify({ state: page.dataset.state, vp_token: data.vp_token }),
    });
    const body = await response.json().catch(function () {
      return {};
    });
    if (body.accepted) {
      window.location.assign(body.next);
    } else {
      status.textContent = body.message || strings.cancelled;
    }
  });
})();
