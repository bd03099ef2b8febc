/* The room page's message search, loaded by chat-features.js the first time
 * "Rechercher" opens (so the room page does not pay for it up front).
 * GET /api/search/: this room or every room, paged, the matches marked with
 * <mark> built from text (never HTML). Times as everywhere (inbox.js). */
(function () {
  "use strict";

  window.chatsiteSearch = function (features) {
    var api = features.api;
    var el = features.el;
    var S = api.strings;
    var form = document.getElementById("search-form");
    var results = document.getElementById("search-results");
    var more = document.getElementById("search-more");
    var status = document.getElementById("search-status");
    var next = null;

    function highlighted(text, ranges) {
      var paragraph = el("p", "message-body");
      var cursor = 0;
      (ranges || []).forEach(function (range) {
        if (range[0] < cursor) return;
        paragraph.append(text.slice(cursor, range[0]), el("mark", "", text.slice(range[0], range[1])));
        cursor = range[1];
      });
      paragraph.append(text.slice(cursor));
      return paragraph;
    }

    function run(before) {
      var query = new URLSearchParams({ q: form.elements.q.value.trim() });
      if (form.elements.here.checked) query.set("room", api.chat.dataset.room);
      if (before) query.set("before", before);
      status.textContent = S.searching;
      fetch("/api/search/?" + query, { credentials: "same-origin" })
        .then(function (response) { return response.json().then(function (data) { return { ok: response.ok, data: data }; }); })
        .then(function (answer) {
          if (!before) results.replaceChildren();
          if (!answer.ok) { status.textContent = answer.data.detail || S.search_failed; more.hidden = true; return; }
          answer.data.messages.forEach(function (message) {
            var item = el("li", "search-hit");
            var meta = el("p", "message-meta small");
            var go = el("a", "", message.author + " · ");
            go.append(window.chatsiteTime.element(message.created));
            go.href = message.room === api.chat.dataset.room ? "#message-" + message.id : "/rooms/" + encodeURIComponent(message.room) + "/";
            go.dataset.messageId = String(message.id);
            go.dataset.room = message.room;
            meta.append(go, " ", el("span", "muted", "#" + message.room));
            item.append(meta, highlighted(message.body, message.highlights));
            results.append(item);
          });
          next = answer.data.next_before;
          more.hidden = !next;
          status.textContent = results.children.length ? api.format(S.search_count, { count: results.children.length }) : S.search_none;
        }, function () { status.textContent = S.search_failed; });
    }

    more.addEventListener("click", function () { if (next) run(next); });
    results.addEventListener("click", function (event) {
      var go = event.target.closest("a[data-message-id]");
      if (!go || go.dataset.room !== api.chat.dataset.room) return;
      event.preventDefault();
      features.jumpTo(parseInt(go.dataset.messageId, 10));
    });
    return { run: function () { next = null; run(null); } };
  };
})();
