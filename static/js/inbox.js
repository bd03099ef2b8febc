/* Every signed-in page: the navigation's live counts, one way of showing
 * times, and opt-in notifications of direct messages (tab hidden only,
 * naming the sender, never the text).
 *
 * Counts come from GET /api/inbox/, read again when a socket says something
 * changed: the room page's own socket (chat.js passes its frames on as
 * "chatsite:frame" events), else /ws/conversations/, opened here once.
 * Times: <time data-local> and window.chatsiteTime, in the reader's zone.
 */
(function () {
  "use strict";

  var lang = document.documentElement.lang || undefined;
  var timeOnly = new Intl.DateTimeFormat(lang, { hour: "2-digit", minute: "2-digit" });
  var dayAndTime = new Intl.DateTimeFormat(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  var fullDate = new Intl.DateTimeFormat(lang, { dateStyle: "full", timeStyle: "short" });

  function showTime(time) {
    var date = new Date(time.dateTime);
    if (isNaN(date)) return time;
    var today = new Date().toDateString() === date.toDateString();
    time.textContent = (today ? timeOnly : dayAndTime).format(date);
    time.title = fullDate.format(date);
    return time;
  }

  function timeElement(iso, className) {
    var time = document.createElement("time");
    time.className = className || "";
    time.dateTime = iso;
    return showTime(time);
  }

  window.chatsiteTime = { element: timeElement, show: showTime };
  document.querySelectorAll("time[data-local]").forEach(showTime);

  var data = document.getElementById("inbox-strings");
  if (!data) return;
  var strings = JSON.parse(data.textContent);
  var plural = new Intl.PluralRules(lang);
  var chat = document.getElementById("chat");
  var here = chat && chat.dataset.partner; // chat.js notifies this conversation itself
  var known = null; // partner -> unread, from the last counts

  // --- notifications of direct messages ---------------------------------------------------
  var KEY = "chatsite.notifications";
  var supported = "Notification" in window;
  var toggles = document.querySelectorAll("[data-notify-toggle]");

  function enabled() {
    try {
      return supported && Notification.permission === "granted" && localStorage.getItem(KEY) === "on";
    } catch (e) { return false; } // storage refused (private mode)
  }

  function renderToggles() {
    toggles.forEach(function (button) {
      var note = button.parentNode.querySelector("[data-notify-note]");
      var denied = supported && Notification.permission === "denied";
      button.hidden = !supported;
      button.disabled = denied;
      button.textContent = enabled() ? button.dataset.disable : button.dataset.enable;
      if (note) note.textContent = denied ? button.dataset.denied : "";
    });
  }

  toggles.forEach(function (button) {
    button.addEventListener("click", function () {
      var on = !enabled();
      // Asked in the click: browsers refuse a request no gesture made.
      (on ? Notification.requestPermission() : Promise.resolve("")).then(function (permission) {
        try { if (permission === "granted") localStorage.setItem(KEY, "on"); else localStorage.removeItem(KEY); } catch (e) {}
        renderToggles();
      });
    });
  });

  function directMessage(name, url) {
    if (!enabled() || !document.hidden) return;
    var shown = new Notification(strings.dm_title.replace("%(name)s", name), {
      tag: "dm:" + name, // one per conversation, replaced, not stacked
      icon: strings.icon,
    });
    shown.addEventListener("click", function () {
      window.focus();
      if (url && location.pathname !== url) location.href = url;
      shown.close();
    });
  }

  window.chatsiteNotify = { enabled: enabled, directMessage: directMessage };
  renderToggles();

  // --- the navigation's counts ------------------------------------------------------------
  function countText(forms, count) {
    return (forms[plural.select(count)] || forms.other).replace("%(count)d", String(count));
  }

  function show(counts) {
    document.querySelectorAll("[data-inbox-count]").forEach(function (badge) {
      var kind = badge.dataset.inboxCount;
      var parts = kind === "notifications" ? ["notifications"] : ["unread", "requests", "invitations"];
      var total = counts[kind] || 0;
      badge.textContent = total > 99 ? "99+" : String(total);
      badge.hidden = !total;
      // The link's accessible name carries the count, in words.
      badge.nextElementSibling.textContent = total ? " (" + parts.filter(function (part) { return counts[part]; })
        .map(function (part) { return countText(strings[part], counts[part]); }).join(", ") + ")" : "";
    });
    var unread = counts.unread_direct || {};
    if (known) {
      Object.keys(unread).forEach(function (name) {
        if (name !== here && unread[name] > (known[name] || 0)) directMessage(name, "/dm/" + encodeURIComponent(name) + "/");
      });
    }
    known = unread;
  }

  var timer = null;
  function refresh() {
    clearTimeout(timer); // a burst of events makes one request
    timer = setTimeout(function () {
      fetch(strings.url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (counts) { if (counts) show(counts); })
        .catch(function () {});
    }, 300);
  }

  function onFrame(frame) {
    if (frame.type !== "conversation.changed" && frame.type !== "mention") return;
    refresh();
    var note = document.getElementById("awaiting-note");
    if (frame.request === "accepted" && note && chat && frame.room === chat.dataset.room) {
      note.textContent = strings.accepted; // a role="status": read out
    }
  }

  document.addEventListener("chatsite:frame", function (event) { onFrame(event.detail); });
  refresh(); // what the server rendered becomes the baseline for notifications

  if (chat) return; // the room's socket brings the frames
  var attempt = 0;
  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/conversations/");
    socket.addEventListener("open", function () {
      attempt = 0;
      refresh();
      document.dispatchEvent(new CustomEvent("chatsite:frame", { detail: { type: "open" } }));
    });
    socket.addEventListener("message", function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      document.dispatchEvent(new CustomEvent("chatsite:frame", { detail: frame }));
    });
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 && event.code < 4500) return; // refused: no retry
      attempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    });
  }
  connect();
})();
