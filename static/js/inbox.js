/* Every signed-in page: one way of showing times (the reader's zone), the
 * navigation's live counts, opt-in notifications of direct messages (tab
 * hidden only, naming the sender, never the text). Counts: GET /api/inbox/,
 * read again on each "chatsite:frame" event, which the page's socket sends
 * (chat.js's room socket, else inbox-socket.js). docs/ux.md, "Inbox". */
(function () {
  "use strict";
  var lang = document.documentElement.lang || undefined;
  var F = Intl.DateTimeFormat;
  var hm = new F(lang, { hour: "2-digit", minute: "2-digit" });
  var dhm = new F(lang, { day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
  var full = new F(lang, { dateStyle: "full", timeStyle: "short" });

  function show(time) {
    var date = new Date(time.dateTime);
    if (isNaN(date)) return time;
    time.textContent = (new Date().toDateString() === date.toDateString() ? hm : dhm).format(date);
    time.title = full.format(date);
    return time;
  }
  // A day with the year only when it is not this one (restriction.js's "jusqu'au … à …").
  function day(date) {
    var options = { day: "numeric", month: "short" };
    if (date.getFullYear() !== new Date().getFullYear()) options.year = "numeric";
    return new F(lang, options).format(date);
  }
  window.chatsiteTime = {
    show: show,
    day: day,
    clock: function (date) { return hm.format(date); },
    element: function (iso, className) {
      var time = document.createElement("time");
      time.className = className || "";
      time.dateTime = iso;
      return show(time);
    },
  };
  document.querySelectorAll("time[data-local]").forEach(show);

  var data = document.getElementById("inbox-strings");
  if (!data) return;
  var s = JSON.parse(data.textContent);
  var plural = new Intl.PluralRules(lang);
  var chat = document.getElementById("chat");
  var here = chat && chat.dataset.partner; // chat.js notifies this one itself
  var known = null;
  var KEY = "chatsite.notifications";
  var supported = "Notification" in window;
  var toggles = document.querySelectorAll("[data-notify-toggle]");

  function enabled() {
    try { return supported && Notification.permission === "granted" && localStorage.getItem(KEY) === "on"; } catch (e) { return false; }
  }
  function render() {
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
      // Asked in the click: browsers refuse a request no gesture made.
      (enabled() ? Promise.resolve("") : Notification.requestPermission()).then(function (answer) {
        try { if (answer === "granted") localStorage.setItem(KEY, "on"); else localStorage.removeItem(KEY); } catch (e) {}
        render();
      });
    });
  });
  function directMessage(name, url) {
    if (!enabled() || !document.hidden) return;
    var shown = new Notification(s.dm_title.replace("%(name)s", name), { tag: "dm:" + name, icon: s.icon });
    shown.addEventListener("click", function () {
      window.focus();
      if (url && location.pathname !== url) location.href = url;
      shown.close();
    });
  }
  window.chatsiteNotify = { enabled: enabled, directMessage: directMessage };
  render();

  function counted(counts) {
    document.querySelectorAll("[data-inbox-count]").forEach(function (badge) {
      var kind = badge.dataset.inboxCount;
      var total = counts[kind] || 0;
      var words = (kind === "notifications" ? [kind] : ["unread", "requests", "invitations"])
        .filter(function (part) { return counts[part]; })
        .map(function (part) { return (s[part][plural.select(counts[part])] || s[part].other).replace("%(count)d", counts[part]); });
      badge.textContent = total > 99 ? "99+" : total;
      badge.hidden = !total;
      badge.nextElementSibling.textContent = total ? " (" + words.join(", ") + ")" : ""; // the link's name
    });
    var unread = counts.unread_direct || {};
    if (known) {
      Object.keys(unread).forEach(function (name) {
        if (name !== here && unread[name] > (known[name] || 0)) directMessage(name, "/dm/" + encodeURIComponent(name) + "/");
      });
    }
    known = unread;
  }
  function read() {
    fetch(s.url, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (counts) { if (counts) counted(counts); })
      .catch(function () {});
  }
  var timer = null;
  function refresh() {
    clearTimeout(timer); // a burst of events makes one request
    timer = setTimeout(read, 300);
  }
  document.addEventListener("chatsite:frame", function (event) {
    var frame = event.detail;
    if (frame.type !== "conversation.changed" && frame.type !== "mention" && frame.type !== "open") return;
    refresh();
    var note = document.getElementById("awaiting-note"); // role="status": read out
    if (frame.request === "accepted" && note && frame.room === chat.dataset.room) note.textContent = s.accepted;
  });
  // The baseline of the notifications, at once: an event in the first moments
  // must not fold into it (what it brought would never be notified).
  read();
})();
