/* Live unread counts on the conversations page.
 *
 * The counts live on the server (GET /api/conversations/), so they survive
 * reconnects; /ws/conversations/ only says "something changed", and the page
 * fetches the counts again. Text goes in with textContent only.
 */
(function () {
  "use strict";

  var section = document.getElementById("conversations");
  if (!section) return;
  var strings = JSON.parse(document.getElementById("conversation-strings").textContent);
  var list = document.getElementById("conversation-list");
  var changedNote = document.getElementById("conversations-changed");
  var apiUrl = section.dataset.apiUrl;
  var knownRequests = null;
  // slug -> unread count, from the page as the server rendered it, so that a
  // message arriving before the socket opens still counts as new.
  var knownUnread = {};
  list.querySelectorAll("li[data-room]").forEach(function (item) {
    var badge = item.querySelector(".unread");
    knownUnread[item.dataset.room] = badge ? parseInt(badge.dataset.unread, 10) || 0 : 0;
  });
  var attempt = 0;
  var refreshTimer = null;

  function unreadText(count) {
    return (count === 1 ? strings.unread_one : strings.unread_many).replace("%(count)d", String(count));
  }

  function notifyNewDirectMessages(conversations) {
    // A count that grew is a new direct message: notify.js shows it if opted in.
    var unread = {};
    conversations.forEach(function (conversation) {
      unread[conversation.slug] = conversation.unread;
      var before = knownUnread[conversation.slug] || 0;
      if (conversation.with && conversation.unread > before && window.chatsiteNotify) {
        window.chatsiteNotify.directMessage(conversation.with, "/dm/" + encodeURIComponent(conversation.with) + "/");
      }
    });
    knownUnread = unread;
  }

  function render(data) {
    notifyNewDirectMessages(data.conversations);
    list.replaceChildren();
    if (!data.conversations.length) {
      var empty = document.createElement("li");
      empty.className = "empty";
      empty.textContent = strings.empty;
      list.append(empty);
    }
    data.conversations.forEach(function (conversation) {
      var item = document.createElement("li");
      item.dataset.room = conversation.slug;
      var link = document.createElement("a");
      link.href = conversation.with
        ? "/dm/" + encodeURIComponent(conversation.with) + "/"
        : "/rooms/" + encodeURIComponent(conversation.slug) + "/";
      link.textContent = conversation.name;
      var badge = document.createElement("span");
      badge.className = "unread";
      badge.dataset.unread = String(conversation.unread);
      badge.textContent = unreadText(conversation.unread);
      badge.hidden = !conversation.unread;
      item.append(link, " ", badge);
      list.append(item);
    });
    renderMentions(data.mentions || []);
    // Requests and invitations carry forms: point to a reload rather than rebuild them.
    var requests = data.requests.length + data.invitations.length;
    if (knownRequests !== null && requests !== knownRequests) changedNote.hidden = false;
    knownRequests = requests;
  }

  // Mentions of the user (the server keeps only those they may still read).
  var mentionList = document.getElementById("mention-list");
  function renderMentions(mentions) {
    if (!mentionList) return;
    mentionList.replaceChildren();
    if (!mentions.length) {
      var empty = document.createElement("li");
      empty.className = "muted";
      empty.textContent = mentionList.dataset.empty;
      mentionList.append(empty);
    }
    mentions.forEach(function (message) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = "/rooms/" + encodeURIComponent(message.room) + "/#message-" + message.id;
      link.textContent = message.author + " · #" + message.room;
      var text = document.createElement("span");
      text.className = "muted";
      text.textContent = " " + (message.body.length > 120 ? message.body.slice(0, 119) + "…" : message.body);
      item.append(link, text);
      mentionList.append(item);
    });
  }

  function refresh() {
    clearTimeout(refreshTimer);
    // Several events in a burst make one request.
    refreshTimer = setTimeout(function () {
      fetch(apiUrl, { credentials: "same-origin" })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (data) { if (data) render(data); })
        .catch(function () {});
    }, 150);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    var socket = new WebSocket(scheme + location.host + "/ws/conversations/");
    socket.addEventListener("open", function () { attempt = 0; refresh(); });
    socket.addEventListener("message", refresh);
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 && event.code < 4500) return;
      attempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    });
  }

  connect();
})();
