/* The conversations page, live: the list (latest message, time, unread
 * count, most recent first), contact requests and invitations.
 *
 * The server renders that part (/conversations/list/, the same template as
 * the page, so one markup and one escaping); when the socket says something
 * changed (inbox.js passes the frames of /ws/conversations/ on as
 * "chatsite:frame" events), it is fetched again and swapped in if it differs.
 * Focus and open menus survive the swap.
 */
(function () {
  "use strict";

  var section = document.getElementById("conversations");
  if (!section) return;
  var strings = JSON.parse(document.getElementById("conversation-strings").textContent);
  var inbox = document.getElementById("inbox");
  var status = document.getElementById("conversations-status");
  var url = section.dataset.refreshUrl;
  var timer = null;
  var shown = null; // the last markup swapped in, CSRF tokens aside (they change every time)

  function unreadTotal(root) {
    var total = 0;
    root.querySelectorAll(".unread[data-unread]").forEach(function (badge) {
      total += parseInt(badge.dataset.unread, 10) || 0;
    });
    return total;
  }

  function swap(html) {
    var stable = html.replace(/name="csrfmiddlewaretoken" value="[^"]*"/g, "");
    if (stable === shown) return;
    shown = stable;
    var next = document.createElement("div");
    next.innerHTML = html; // our own server's template output, escaped there
    var focused = document.activeElement;
    var focusKey = focused && inbox.contains(focused) ? focused.dataset.focusKey || null : null;
    var open = Array.prototype.map.call(inbox.querySelectorAll("details[open]"), function (menu) {
      return menu.closest("[data-room]").dataset.room;
    });
    var before = unreadTotal(inbox);
    var after = unreadTotal(next);
    inbox.replaceChildren.apply(inbox, Array.prototype.slice.call(next.childNodes));
    open.forEach(function (slug) {
      var item = inbox.querySelector('[data-room="' + CSS.escape(slug) + '"] details');
      if (item) item.open = true;
    });
    if (focusKey) {
      var again = inbox.querySelector('[data-focus-key="' + CSS.escape(focusKey) + '"]');
      if (again) again.focus();
    }
    inbox.querySelectorAll("time[data-local]").forEach(window.chatsiteTime.show);
    // The moderation app's report buttons are rendered hidden until it is there.
    if (document.getElementById("report-dialog")) {
      inbox.querySelectorAll(".report-button[hidden]").forEach(function (button) { button.hidden = false; });
    }
    if (after > before) status.textContent = strings.new_messages;
  }

  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      fetch(url, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) { if (html !== null) swap(html); })
        .catch(function () {});
    }, 200);
  }

  document.addEventListener("chatsite:frame", function (event) {
    var type = event.detail.type;
    if (type === "conversation.changed" || type === "mention" || type === "open") refresh();
  });
})();
