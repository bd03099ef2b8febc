/* Chatsite live chat: one room socket, text only, resumes where it stopped.
 *
 * Every user-provided string is inserted with textContent, never as HTML.
 * The socket is resumed with ?after=<last seen id>, so a reconnect misses
 * nothing; unsent messages keep their client_id and are sent again, which the
 * server stores once. Protocol: docs/protocol.md.
 */
(function () {
  "use strict";

  var chat = document.getElementById("chat");
  if (!chat) return;

  var CLOSE_REFUSED = { 4401: "refused_auth", 4403: "refused_forbidden", 4404: "refused_missing" };
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;

  var strings = JSON.parse(document.getElementById("chat-strings").textContent);
  var slug = chat.dataset.room;
  var me = chat.dataset.me;
  var messagesUrl = chat.dataset.messagesUrl;
  var maxLength = parseInt(chat.dataset.maxLength, 10);
  var list = document.getElementById("messages");
  var presence = document.getElementById("presence");
  var status = document.getElementById("chat-status");
  var form = document.getElementById("composer");
  var input = document.getElementById("composer-body");
  var errorBox = document.getElementById("composer-error");

  var socket = null;
  var lastId = 0;
  var seen = new Set();
  var outbox = new Map(); // client_id -> body, until the server echoes it
  var attempt = 0;
  var retryTimer = null;
  var stopped = false; // refused by the server, or paused on purpose

  function setStatus(key) { status.textContent = strings[key] || key; }

  function showError(text) { errorBox.textContent = text || ""; }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  function addMessage(message) {
    if (seen.has(message.id)) return;
    seen.add(message.id);
    if (message.id > lastId) lastId = message.id;
    if (message.client_id && message.author === me) outbox.delete(message.client_id);
    var stick = nearBottom();
    var item = document.createElement("li");
    item.className = "message" + (message.author === me ? " mine" : "");
    item.dataset.id = String(message.id);
    var meta = document.createElement("p");
    meta.className = "message-meta";
    var author = document.createElement("span");
    author.className = "message-author";
    author.textContent = message.author;
    var time = document.createElement("time");
    time.dateTime = message.created;
    time.textContent = new Date(message.created).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
    meta.append(author, " ", time);
    var body = document.createElement("p");
    body.className = "message-body";
    body.textContent = message.body;
    item.append(meta, body);
    if (message.author !== me) {
      // The moderation app wires the report button; hidden until then.
      var report = document.createElement("button");
      report.type = "button";
      report.className = "report-button link";
      report.dataset.reportMessage = String(message.id);
      report.textContent = strings.report;
      report.hidden = true;
      item.append(report);
    }
    // Keep the list in id order even if a message arrives late.
    var next = null;
    for (var node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (parseInt(node.dataset.id, 10) < message.id) break;
      next = node;
    }
    list.insertBefore(item, next);
    if (stick) list.scrollTop = list.scrollHeight;
  }

  function removeMessage(id) {
    var item = list.querySelector('li[data-id="' + String(parseInt(id, 10)) + '"]');
    if (item) {
      var body = item.querySelector(".message-body");
      body.textContent = strings.deleted;
      item.classList.add("deleted");
    }
  }

  function showPresence(users) {
    presence.replaceChildren();
    users.forEach(function (name) {
      var item = document.createElement("li");
      item.textContent = name;
      presence.append(item);
    });
  }

  function socketUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/ws/rooms/" + encodeURIComponent(slug) + "/?after=" + lastId;
  }

  function sendFrame(clientId, body) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify({ type: "message.send", body: body, client_id: clientId }));
    }
  }

  function onFrame(event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (frame.type === "message.new") addMessage(frame);
    else if (frame.type === "message.deleted") removeMessage(frame.id);
    else if (frame.type === "presence") showPresence(frame.users || []);
    else if (frame.type === "error") {
      var refused = frame.client_id ? outbox.get(frame.client_id) : undefined;
      if (frame.client_id) outbox.delete(frame.client_id);
      // Give the refused text back, so that nothing typed is lost.
      if (refused !== undefined && !input.value) input.value = refused;
      showError(frame.detail);
    }
  }

  function connect() {
    clearTimeout(retryTimer);
    stopped = false;
    setStatus(attempt ? "reconnecting" : "connecting");
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.addEventListener("open", function () {
      attempt = 0;
      setStatus("connected");
      // Messages typed while offline: same client_id, so stored once at most.
      outbox.forEach(function (body, clientId) { sendFrame(clientId, body); });
    });
    ws.addEventListener("message", onFrame);
    ws.addEventListener("close", function (event) {
      if (socket !== ws) return;
      socket = null;
      showPresence([]);
      if (CLOSE_REFUSED[event.code]) {
        stopped = true;
        setStatus(CLOSE_REFUSED[event.code]);
        input.disabled = true;
        return;
      }
      if (stopped) { setStatus("paused"); return; }
      attempt += 1;
      var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_MIN_MS * Math.pow(2, attempt - 1));
      delay = delay / 2 + Math.random() * delay / 2; // jitter: not every client at once
      setStatus("reconnecting");
      retryTimer = setTimeout(connect, delay);
    });
  }

  function disconnect() {
    stopped = true;
    clearTimeout(retryTimer);
    if (socket) socket.close(1000);
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    if (body.length > maxLength) { showError(strings.too_long); return; }
    showError("");
    var clientId = newClientId();
    outbox.set(clientId, body);
    sendFrame(clientId, body);
    input.value = "";
    input.focus();
  });

  input.addEventListener("keydown", function (event) {
    // Enter sends, Shift+Enter makes a new line.
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      form.requestSubmit();
    }
  });

  var blockButton = document.getElementById("block-button");
  if (blockButton) {
    blockButton.addEventListener("click", function () {
      if (!window.confirm(strings.block_confirm)) return;
      var token = (document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/) || [])[1] || "";
      fetch(chat.dataset.blocksUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": decodeURIComponent(token) },
        body: JSON.stringify({ username: chat.dataset.partner }),
      }).then(function (response) {
        if (response.ok) {
          blockButton.disabled = true;
          setStatus("blocked");
          input.disabled = true;
        } else {
          showError(strings.block_failed);
        }
      }, function () { showError(strings.block_failed); });
    });
  }

  // Pause and resume, for the page's own use and for tests of the resume path.
  window.chatsiteChat = { disconnect: disconnect, connect: connect };

  // History first, then the socket resumes right after the newest message shown.
  fetch(messagesUrl + "?limit=50", { credentials: "same-origin" })
    .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
    .then(function (data) { (data.messages || []).forEach(addMessage); })
    .catch(function () {})
    .then(connect);
})();
