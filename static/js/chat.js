/* Chatsite live chat: one room socket, text only, resumes where it stopped.
 *
 * Every user-provided string is inserted with textContent, never as HTML.
 * Live frames are notifications, the history is the truth: every message up
 * to `confirmedId` is known complete (read from the history API), and a little
 * after live messages arrive the history after it is read again, so a frame
 * lost between server processes is repaired instead of lost. The socket
 * resumes with ?after=<confirmedId> (what it sends twice is shown once).
 *
 * Nothing typed is lost: a message is pending until its echo, failed (retry
 * button) after a refusal or a timeout, and kept in the outbox (localStorage)
 * through reconnects and reloads, sent again with the same client_id. The
 * socket reconnects after a drop or a 4500, never after a refusal (44xx).
 * Protocol: docs/protocol.md.
 *
 * Also: times in the reader's language (inbox.js), the "new messages" divider
 * and its jump button, the read mark of public rooms, profile cards, notifying
 * direct messages through inbox.js, live counts, and moderation's measures
 * (`restriction` frames, restriction.js). Only the list scrolls.
 *
 * Replies, mentions, edits, reactions, typing, links, search, ignores and the
 * message layout live in chat-features.js (window.chatsiteFeatures), loaded
 * before this file; the hooks below call it when it is there.
 */
(function () {
  "use strict";

  var chat = document.getElementById("chat");
  if (!chat) return;

  var CLOSE_REFUSED = {
    4401: "refused_auth", 4403: "refused_forbidden", 4404: "refused_missing", 4429: "refused_too_many",
  };
  var SEND_TIMEOUT_MS = 10000; // no echo by then, socket open: shown as failed
  var BUSY_RETRY_MS = 2000; // "unavailable": the server stored nothing, for now
  var BUSY_RETRIES = 5;
  var BACKOFF_MIN_MS = 1000;
  var BACKOFF_MAX_MS = 30000;
  var HISTORY = 50;
  var UNREAD_HISTORY_MAX = 200; // the API's page limit: older unread messages, at most
  var READ_DELAY_MS = 1000;

  var strings = JSON.parse(document.getElementById("chat-strings").textContent);
  var features = window.chatsiteFeatures || null;
  var slug = chat.dataset.room;
  var me = chat.dataset.me;
  var partner = chat.dataset.partner;
  var messagesUrl = chat.dataset.messagesUrl;
  var readUrl = chat.dataset.readUrl; // history is never marked read by its GET
  var lastRead = parseInt(chat.dataset.lastRead, 10) || 0;
  var maxLength = parseInt(chat.dataset.maxLength, 10);
  var list = document.getElementById("messages");
  var presence = document.getElementById("presence");
  var onlineCount = document.getElementById("online-count");
  var memberCount = document.getElementById("member-count");
  var locked = document.getElementById("composer-locked");
  var status = document.getElementById("chat-status");
  var form = document.getElementById("composer");
  var input = document.getElementById("composer-body");
  var sendButton = form.querySelector("button[type=submit]");
  var errorBox = document.getElementById("composer-error");
  var jump = document.getElementById("jump-unread");
  // Silent until the history is in: the backlog is not news to read out.
  list.setAttribute("aria-live", "off");
  list.setAttribute("aria-busy", "true");

  var lang = document.documentElement.lang || undefined;
  var plural = new Intl.PluralRules(lang);
  var smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  var socket = null;
  var lastId = 0;
  var confirmedId = 0; // every message up to this id is shown (read from the history)
  var repairTimer = null;
  var REPAIR_DELAY_MS = 4000;
  var seen = new Set();
  // client_id -> {body, created, failed, tries, timer, item}, until the server echoes it.
  var outbox = new Map();
  var outboxKey = "chatsite:outbox:" + me + ":" + slug;
  var attempt = 0;
  var retryTimer = null;
  var stopped = false; // refused by the server, or paused on purpose
  var divider = null;
  var readSent = lastRead;
  var readTimer = null;
  var baseTitle = document.title;
  var unseen = 0; // messages that came while the tab was hidden, shown in its title
  var restricted = false; // a mute (or a ban, a kick) stops posting here
  var closedForGood = false; // the server refused (4401, 4403, 4404, 4429)
  var pinned = true; // the list follows the latest message

  function setStatus(key) { status.textContent = strings[key] || key; }

  function showError(text) { errorBox.textContent = text || ""; }

  function format(template, values) {
    return template.replace(/%\((\w+)\)[sd]/g, function (match, name) { return String(values[name]); });
  }

  function countText(forms, count) {
    return format(forms[plural.select(count)] || forms.other, { count: count });
  }

  function csrfToken() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    return match ? decodeURIComponent(match[1]) : "";
  }

  function post(url, payload) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrfToken() },
      body: JSON.stringify(payload),
    });
  }

  function newClientId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function nearBottom() {
    return list.scrollHeight - list.scrollTop - list.clientHeight < 80;
  }

  // One format and time zone (the reader's) on every page: inbox.js.
  function timeElement(iso) { return window.chatsiteTime.element(iso, "message-time"); }

  function cardButton(name) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "link card-opener";
    button.dataset.card = name;
    button.setAttribute("aria-haspopup", "dialog");
    button.textContent = name;
    return button;
  }

  function addMessage(message, live) {
    // An echo (live, from a resend, or read from the history) ends a pending message.
    if (message.client_id && message.author === me) delivered(message.client_id);
    if (seen.has(message.id)) {
      // A message shown as deleted comes again when a moderator restores it.
      var shown = list.querySelector('li.deleted[data-id="' + String(parseInt(message.id, 10)) + '"]');
      if (shown) {
        shown.querySelector(".message-body").textContent = message.body;
        shown.classList.remove("deleted");
        if (features) features.restored(shown, message, message.author === me);
      }
      return;
    }
    seen.add(message.id);
    if (message.id > lastId) lastId = message.id;
    var mine = message.author === me;
    var stick = nearBottom();
    var item = document.createElement("li");
    item.className = "message" + (mine ? " mine" : "");
    item.dataset.id = String(message.id);
    item.tabIndex = -1; // a target for the jump to the first unread message
    var meta = document.createElement("p");
    meta.className = "message-meta";
    var author = cardButton(message.author);
    author.classList.add("message-author");
    meta.append(author, " ", timeElement(message.created));
    var body = document.createElement("p");
    body.className = "message-body";
    body.textContent = message.body;
    item.append(meta, body);
    if (features) features.renderMessage(item, message, mine);
    if (!mine) {
      // The moderation app wires the report button; hidden until then.
      var actions = document.createElement("div");
      actions.className = "message-actions";
      var report = document.createElement("button");
      report.type = "button";
      report.className = "report-button link small";
      report.dataset.reportMessage = String(message.id);
      report.textContent = strings.report;
      report.setAttribute("aria-label", format(strings.report_message, { name: message.author }));
      report.hidden = true;
      actions.append(report);
      item.append(actions);
    }
    // Keep the list in id order even if a message arrives late.
    var next = null;
    for (var node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (!node.dataset.id) continue; // the unread divider, date separators
      if (parseInt(node.dataset.id, 10) < message.id) break;
      next = node;
    }
    list.insertBefore(item, next);
    if (features) features.placed(item, live);
    if (stick) list.scrollTop = list.scrollHeight;
    if (live && !mine) {
      if (partner && window.chatsiteNotify) window.chatsiteNotify.directMessage(message.author, location.pathname);
      if (document.hidden) document.title = "(" + (++unseen) + ") " + baseTitle;
      scheduleRead();
    }
  }

  function removeMessage(id) {
    var item = list.querySelector('li[data-id="' + String(parseInt(id, 10)) + '"]');
    if (item) {
      var body = item.querySelector(".message-body");
      body.textContent = strings.deleted;
      item.classList.add("deleted");
    }
    if (features) features.deleted(parseInt(id, 10), item);
  }

  var online = new Set();

  function showPresence(users, members) {
    online = new Set(users);
    presence.replaceChildren();
    users.forEach(function (name) {
      var item = document.createElement("li");
      item.append(cardButton(name));
      presence.append(item);
    });
    if (onlineCount) onlineCount.textContent = countText(strings.online, users.length);
    // Read with the online set, so the two counts agree (a newcomer is both).
    if (memberCount && typeof members === "number") memberCount.textContent = countText(strings.members, members);
  }

  // --- moderation's measures -------------------------------------------------------------

  function lockComposer() {
    var off = restricted || closedForGood || chat.hasAttribute("data-closed");
    input.disabled = off;
    sendButton.disabled = off;
    var measure = restricted && window.chatsiteRestriction ? window.chatsiteRestriction.label() : "";
    var why = measure ? format(strings.composer_locked, { measure: measure }) : "";
    if (closedForGood && measure) status.textContent = measure; // a ban, a kick: which one
    locked.textContent = why;
    locked.hidden = !why;
  }

  var lastRestriction = null;
  var restrictionLoading = false;
  // On reconnect the server names a measure in force first: any other first frame means none.
  var unconfirmed = false;

  function applyRestriction(frame) {
    lastRestriction = frame;
    restricted = !!(frame && frame.measure);
    if (window.chatsiteRestriction) {
      window.chatsiteRestriction.show(frame, function () { applyRestriction(null); });
    } else if (restricted && !restrictionLoading) {
      // Rarely needed, so loaded with the first measure (docs/ux.md, "Budget").
      restrictionLoading = true;
      loadScript(document.getElementById("restriction").dataset.script)
        .then(function () { applyRestriction(lastRestriction); });
    }
    lockComposer();
  }

  // --- the outbox: pending and failed messages ---------------------------------------------

  function saveOutbox() {
    var kept = [];
    outbox.forEach(function (entry, clientId) {
      kept.push({ client_id: clientId, body: entry.body, created: entry.created });
    });
    try {
      if (kept.length) localStorage.setItem(outboxKey, JSON.stringify(kept));
      else localStorage.removeItem(outboxKey);
    } catch (e) { /* storage full or refused: the outbox still lives in this page */ }
  }

  function restoreOutbox() {
    var kept = [];
    try { kept = JSON.parse(localStorage.getItem(outboxKey) || "[]"); } catch (e) { kept = []; }
    if (!Array.isArray(kept)) return;
    kept.forEach(function (entry) {
      if (entry && typeof entry.client_id === "string" && typeof entry.body === "string") {
        queue(entry.client_id, entry.body, entry.created);
      }
    });
  }

  function pendingItem(entry, clientId) {
    var item = document.createElement("li");
    item.className = "message mine pending";
    item.dataset.clientId = clientId;
    var meta = document.createElement("p");
    meta.className = "message-meta";
    var author = document.createElement("span");
    author.className = "message-author";
    author.textContent = me;
    var state = document.createElement("span");
    state.className = "message-state";
    meta.append(author, " ", state);
    var body = document.createElement("p");
    body.className = "message-body";
    body.textContent = entry.body;
    var actions = document.createElement("div");
    actions.className = "message-actions";
    var retry = document.createElement("button");
    retry.type = "button";
    retry.className = "retry-button small";
    retry.textContent = strings.retry;
    retry.addEventListener("click", function () { resend(clientId); });
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "discard-button link small";
    discard.textContent = strings.discard;
    discard.addEventListener("click", function () { delivered(clientId); input.focus(); });
    actions.append(retry, discard);
    item.append(meta, body, actions);
    return item;
  }

  function showState(entry) {
    entry.item.classList.toggle("failed", entry.failed);
    entry.item.querySelector(".message-state").textContent = entry.failed ? strings.failed : strings.pending;
    entry.item.querySelector(".message-actions").hidden = !entry.failed;
  }

  // A message to send: shown at the bottom (after every stored message) as pending.
  function queue(clientId, body, created) {
    // failed: shown with a retry button; refused: by the server, so not sent
    // again on reconnect (a timeout is, since the socket was likely dead).
    var entry = { body: body, created: created || Date.now(), failed: false, refused: false, tries: 0, timer: null };
    entry.item = pendingItem(entry, clientId);
    outbox.set(clientId, entry);
    showState(entry);
    list.append(entry.item);
    list.scrollTop = list.scrollHeight;
    saveOutbox();
    return entry;
  }

  function transmit(clientId) {
    var entry = outbox.get(clientId);
    if (!entry || entry.refused) return;
    clearTimeout(entry.timer);
    if (!socket || socket.readyState !== WebSocket.OPEN) return; // sent on reconnect
    var frame = { type: "message.send", body: entry.body, client_id: clientId };
    if (entry.reply_to) frame.reply_to = entry.reply_to;
    socket.send(JSON.stringify(frame));
    entry.timer = setTimeout(function () { timedOut(clientId); }, SEND_TIMEOUT_MS);
  }

  function fail(clientId, detail) {
    var entry = outbox.get(clientId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.failed = true;
    showState(entry);
    showError(detail);
  }

  // No echo and no error: the socket is likely dead without knowing it. Shown
  // as failed, and a new socket sends it again.
  function timedOut(clientId) {
    fail(clientId, strings.timeout);
    if (socket && socket.readyState === WebSocket.OPEN) socket.close(4000);
  }

  function resend(clientId) {
    var entry = outbox.get(clientId);
    if (!entry) return;
    entry.failed = false;
    entry.refused = false;
    entry.tries = 0;
    showState(entry);
    showError("");
    transmit(clientId);
  }

  // Echoed by the server (or given up by the user): out of the outbox.
  function delivered(clientId) {
    var entry = outbox.get(clientId);
    if (!entry) return;
    clearTimeout(entry.timer);
    entry.item.remove();
    outbox.delete(clientId);
    saveOutbox();
  }

  function refused(frame) {
    var entry = frame.client_id ? outbox.get(frame.client_id) : undefined;
    if (entry && frame.code === "unavailable" && entry.tries < BUSY_RETRIES) {
      // Stored nothing, for now: sent again a moment later, same client_id.
      entry.tries += 1;
      clearTimeout(entry.timer);
      entry.timer = setTimeout(function () { transmit(frame.client_id); }, BUSY_RETRY_MS * entry.tries);
      return;
    }
    if (!entry) { showError(frame.detail); return; }
    entry.refused = true;
    fail(frame.client_id, frame.detail);
  }

  // --- unread: the divider, the jump button, the read mark -------------------------------

  function firstUnread() {
    var items = list.querySelectorAll("li.message:not(.mine)");
    for (var i = 0; i < items.length; i++) {
      if (parseInt(items[i].dataset.id, 10) > lastRead) return items[i];
    }
    return null;
  }

  function placeDivider() {
    var first = lastRead ? firstUnread() : null;
    if (!first) return;
    divider = document.createElement("li");
    divider.className = "unread-divider";
    divider.id = "unread-divider";
    divider.textContent = strings.new_messages;
    list.insertBefore(divider, first);
    updateJump();
  }

  function inView(element) {
    var box = element.getBoundingClientRect();
    var area = list.getBoundingClientRect();
    return box.bottom > area.top && box.top < area.bottom;
  }

  function updateJump() {
    jump.hidden = !divider || inView(divider);
  }

  jump.addEventListener("click", function () {
    if (!divider) return;
    var first = divider.nextElementSibling;
    divider.scrollIntoView({ block: "start", behavior: smooth ? "smooth" : "auto" });
    if (first) first.focus({ preventScroll: true });
    jump.hidden = true;
  });

  function lastVisibleId() {
    var area = list.getBoundingClientRect();
    for (var node = list.lastElementChild; node; node = node.previousElementSibling) {
      if (node.dataset.id && node.getBoundingClientRect().top < area.bottom) return parseInt(node.dataset.id, 10);
    }
    return 0;
  }

  function sendRead() {
    var upTo = lastVisibleId();
    if (!readUrl || upTo <= readSent) return;
    readSent = upTo;
    post(readUrl, { up_to: upTo }).catch(function () { readSent = 0; });
  }

  function scheduleRead() {
    if (!readUrl || readTimer) return;
    // Coalesced: one request per second at most, whatever the traffic.
    readTimer = setTimeout(function () {
      readTimer = null;
      if (!document.hidden) sendRead();
    }, READ_DELAY_MS);
  }


  list.addEventListener("scroll", function () { updateJump(); scheduleRead(); }, { passive: true });
  document.addEventListener("visibilitychange", function () {
    if (document.hidden) return;
    unseen = 0;
    document.title = baseTitle;
    scheduleRead();
  });

  // --- the socket ------------------------------------------------------------------------

  function socketUrl() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    return scheme + location.host + "/ws/rooms/" + encodeURIComponent(slug) + "/?after=" + confirmedId;
  }

  // Any other frame (edit, delete, reactions, typing); false when offline.
  function sendRaw(frame) {
    if (socket && socket.readyState === WebSocket.OPEN) {
      socket.send(JSON.stringify(frame));
      return true;
    }
    return false;
  }

  function onFrame(event) {
    var frame;
    try { frame = JSON.parse(event.data); } catch (e) { return; }
    if (unconfirmed) { unconfirmed = false; if (frame.type !== "restriction") applyRestriction(null); }
    // The navigation's counts (inbox.js) follow this socket: no second one.
    document.dispatchEvent(new CustomEvent("chatsite:frame", { detail: frame }));
    if (frame.type === "message.new") { addMessage(frame, true); scheduleRepair(); }
    else if (frame.type === "message.deleted") removeMessage(frame.id);
    else if (frame.type === "presence") showPresence(frame.users || [], frame.members);
    // A large room sends who came and left, not the list (docs/protocol.md).
    else if (frame.type === "presence.delta") {
      frame.left.forEach(function (name) { online.delete(name); });
      frame.joined.forEach(function (name) { online.add(name); });
      showPresence(Array.from(online).sort(), frame.members);
    }
    else if (frame.type === "restriction") applyRestriction(frame);
    else if (features && features.frame(frame)) { /* handled there */ }
    else if (frame.type === "error") refused(frame);
  }

  // A live message is checked against the history a moment later (once for a
  // whole burst): one read of what came after the last confirmed id.
  function scheduleRepair() {
    if (!repairTimer && lastId > confirmedId) repairTimer = setTimeout(repair, REPAIR_DELAY_MS);
  }

  function repair() {
    load("?after=" + confirmedId + "&limit=" + UNREAD_HISTORY_MAX)
      .then(function (messages) {
        messages.forEach(function (message) { addMessage(message, true); });
        if (messages.length) confirmedId = Math.max(confirmedId, messages[messages.length - 1].id);
        repairTimer = null;
        if (messages.length === UNREAD_HISTORY_MAX) repair();
        else scheduleRepair(); // what arrived during the read
      }, function () { repairTimer = null; });
  }

  function connect() {
    clearTimeout(retryTimer);
    stopped = false;
    setStatus(attempt ? "reconnecting" : "connecting");
    var ws = new WebSocket(socketUrl());
    socket = ws;
    ws.addEventListener("open", function () {
      attempt = 0;
      unconfirmed = restricted;
      setStatus("connected");
      lockComposer();
      // What was not echoed yet, in the order typed: same client_id, so
      // stored once at most. Refused ones wait for their retry button.
      outbox.forEach(function (entry, clientId) {
        if (entry.refused) return;
        entry.failed = false;
        showState(entry);
        transmit(clientId);
      });
    });
    ws.addEventListener("message", onFrame);
    ws.addEventListener("close", function (event) {
      if (socket !== ws) return;
      socket = null;
      showPresence([]);
      // No echo will come on this socket: the next one sends them again.
      outbox.forEach(function (entry) { clearTimeout(entry.timer); });
      if (CLOSE_REFUSED[event.code]) {
        stopped = true;
        closedForGood = true;
        // A direct room closed by a block reads the same on both sides
        // (docs/protocol.md, "Blocks"); a ban or a kick, named just before, by its name.
        setStatus(partner && event.code === 4403 ? "closed" : CLOSE_REFUSED[event.code]);
        lockComposer();
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

  // --- the app's height: the on-screen keyboard, the list kept at its end ------------------

  // Where the keyboard only shrinks the visual viewport (iOS), the page follows it.
  var viewport = window.visualViewport;
  if (viewport) {
    viewport.addEventListener("resize", function () {
      document.body.style.setProperty("--app-height", viewport.height + "px");
    });
  }
  list.addEventListener("scroll", function () { pinned = nearBottom(); }, { passive: true });
  // The list shrinks when the keyboard opens or the composer grows: the latest
  // message stays in view unless the reader scrolled up.
  if (window.ResizeObserver) {
    new ResizeObserver(function () { if (pinned) list.scrollTop = list.scrollHeight; }).observe(list);
  }

  // --- the composer ----------------------------------------------------------------------

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var body = input.value.trim();
    if (!body) return;
    if (restricted) return; // the composer says why
    if (body.length > maxLength) { showError(strings.too_long); return; }
    showError("");
    var clientId = newClientId();
    var entry = queue(clientId, body);
    var replyTo = features ? features.takeReply() : null;
    if (replyTo) entry.reply_to = replyTo;
    transmit(clientId);
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

  document.getElementById("skip-to-composer").addEventListener("click", function (event) {
    event.preventDefault();
    input.focus();
  });

  // Block (after the confirmation), or lift a block: DELETE /api/blocks/<name>/.
  function block(name, done, lift) {
    if (!lift && !window.confirm(strings.block_confirm)) return;
    (lift ? fetch(chat.dataset.blocksUrl + encodeURIComponent(name) + "/", {
      method: "DELETE", credentials: "same-origin", headers: { "X-CSRFToken": csrfToken() },
    }) : post(chat.dataset.blocksUrl, { username: name })).then(function (response) {
      if (!response.ok) return showError(strings.block_failed);
      if (features) features.fold(name, !lift);
      done();
    }, function () { showError(strings.block_failed); });
  }
  var unblockButton = document.getElementById("unblock-button");
  if (unblockButton) {
    unblockButton.addEventListener("click", function () {
      block(partner, function () { location.reload(); }, true);
    });
  }

  var blockButton = document.getElementById("block-button");
  if (blockButton) {
    blockButton.addEventListener("click", function () {
      block(partner, function () { location.reload(); });
    });
  }

  // --- profile cards: their code loads with the first name opened (chat-card.js) ----------

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = src;
      script.onload = resolve;
      script.onerror = reject;
      document.head.append(script);
    });
  }

  var cards = null;
  chat.addEventListener("click", function (event) {
    var button = event.target.closest("[data-card]");
    if (!button) return;
    cards = cards || loadScript(chat.dataset.cardScript).then(function () {
      return window.chatsiteCard({ chat: chat, strings: strings, format: format, lang: lang, block: block, me: me,
        post: post, csrfToken: csrfToken, showError: showError, ignores: features && features.ignores });
    });
    cards.then(function (open) { open(button.dataset.card, button); });
  });

  // Pause and resume, for the page's own use and for tests of the resume path.
  window.chatsiteChat = { disconnect: disconnect, connect: connect };

  function load(query) {
    return fetch(messagesUrl + query, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : { messages: [] }; })
      .then(function (data) {
        if (features && data.my_reactions) features.myReactions(data.my_reactions);
        return data.messages || [];
      });
  }

  if (features) {
    features.init({
      chat: chat, list: list, input: input, form: form, strings: strings, me: me,
      send: sendRaw, post: post, csrfToken: csrfToken, format: format, showError: showError,
      nearBottom: nearBottom, cardButton: cardButton, timeElement: timeElement, smooth: smooth, loadScript: loadScript,
      // Older pages until `id` is shown (a reply's original); resolves to its item or null.
      loadUntil: function (id) {
        function find() { return list.querySelector('li[data-id="' + id + '"]'); }
        function step(rounds) {
          if (find() || rounds === 0) return Promise.resolve(find());
          var first = list.querySelector("li.message[data-id]");
          var before = first ? parseInt(first.dataset.id, 10) : 0;
          if (!before || before <= id) return Promise.resolve(find());
          return load("?before=" + before + "&limit=" + UNREAD_HISTORY_MAX).then(function (older) {
            older.forEach(function (message) { addMessage(message, false); });
            return older.length ? step(rounds - 1) : find();
          });
        }
        return step(10);
      },
    });
  }

  // What was typed but not echoed before a reload: pending again, and taken
  // out by the history if it was stored after all.
  restoreOutbox();
  // A measure in force when the page was made (the socket says it again).
  applyRestriction(JSON.parse(document.getElementById("chat-restriction").textContent));

  // History first (with every unread message, up to a page), then the socket
  // resumes right after the newest message shown.
  load("?limit=" + HISTORY)
    .then(function (messages) {
      messages.forEach(function (message) { addMessage(message, false); });
      var oldest = messages.length ? messages[0].id : 0;
      if (lastRead && oldest > lastRead + 1) {
        // The page right before, so that the list has no hole; with more unread
        // than that, the divider stands at the top of what is shown.
        return load("?before=" + oldest + "&limit=" + UNREAD_HISTORY_MAX)
          .then(function (older) {
            older.forEach(function (message) { addMessage(message, false); });
          });
      }
    })
    .catch(function () {})
    .then(function () {
      confirmedId = lastId; // the latest page: complete up to its newest message
      placeDivider();
      list.scrollTop = list.scrollHeight; // open at the latest message; the button goes back
      updateJump();
      // Only what arrives from now on is read out by screen readers.
      list.setAttribute("aria-live", "polite");
      list.removeAttribute("aria-busy");
      // What the opened page shows is read at once, not a second later: a
      // glance at a conversation before going back to the inbox clears it.
      if (!document.hidden) sendRead();
      if (chat.hasAttribute("data-closed")) { setStatus("closed"); lockComposer(); } else connect();
    });
})();
