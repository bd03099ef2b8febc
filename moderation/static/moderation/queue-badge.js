/* The moderators' live console: the queue badge and the feed of urgent reports,
 * pushed over the staff socket /ws/staff/ (docs/protocol.md, "The staff console
 * socket"): no polling. Every frame carries the queue's counts; `report.new`
 * (an urgent report, an alert) and `report.updated` (claimed, released,
 * reassigned, escalated, thread, decided) add a line to the feed. The socket
 * reconnects with backoff, and stops on 4401/4403 (signed out, not allowed). */
(function () {
  "use strict";
  var badge = document.querySelector(".moderation-badge");
  if (!badge || !window.WebSocket) return;
  var feed = document.querySelector(".console-feed");
  var title = document.title;
  var FEED_LINES = 20;
  var delay = 1000;
  var socket = null;

  function show(counts) {
    Object.keys(counts).forEach(function (name) {
      var span = badge.querySelector('[data-count="' + name + '"]');
      if (span) span.textContent = String(counts[name]);
    });
    document.title = (counts.urgent ? "(" + counts.urgent + "!) " : "") + title;
    badge.classList.toggle("urgent", counts.urgent > 0);
    if ("overdue" in counts) badge.classList.toggle("overdue", counts.overdue > 0);
  }

  function text(tag, value, className) {
    var node = document.createElement(tag);
    node.textContent = value; // never HTML: a frame's text is shown as text
    if (className) node.className = className;
    return node;
  }

  function line(frame) {
    if (!feed) return;
    var report = frame.report;
    var item = document.createElement("li");
    item.className = "console-line severity-" + report.severity;
    var link = text("a", "#" + report.id + " · " + report.severity_label + " · " + report.category_label);
    link.href = report.url;
    item.appendChild(link);
    var what = feed.dataset["event" + frame.event.charAt(0).toUpperCase() + frame.event.slice(1)] || frame.event;
    item.appendChild(text("span", " · " + what + (frame.by ? " (" + frame.by + ")" : "")));
    if (report.status === "open" && !report.escalated_to) {
      var claim = text("button", feed.dataset.claimLabel, "console-claim");
      claim.type = "button";
      claim.addEventListener("click", function () {
        if (socket) socket.send(JSON.stringify({ type: "report.claim", id: report.id }));
      });
      item.appendChild(claim);
    }
    feed.insertBefore(item, feed.firstChild);
    while (feed.children.length > FEED_LINES) feed.removeChild(feed.lastChild);
  }

  function error(frame) {
    if (feed) feed.insertBefore(text("li", frame.detail, "console-error"), feed.firstChild);
  }

  function connect() {
    var scheme = location.protocol === "https:" ? "wss://" : "ws://";
    socket = new WebSocket(scheme + location.host + "/ws/staff/");
    socket.onopen = function () {
      badge.classList.remove("offline");
      badge.dataset.live = "1";
    };
    socket.onmessage = function (event) {
      var frame = JSON.parse(event.data);
      if (frame.counts) show(frame.counts);
      if (frame.type === "report.new" || frame.type === "report.updated") line(frame);
      else if (frame.type === "error") error(frame);
      delay = 1000;
    };
    socket.onclose = function (event) {
      socket = null;
      badge.classList.add("offline");
      delete badge.dataset.live;
      if (event.code === 4401 || event.code === 4403) return;
      setTimeout(connect, delay);
      delay = Math.min(delay * 2, 30000);
    };
  }

  function initial(name) {
    var span = badge.querySelector('[data-count="' + name + '"]');
    return span ? parseInt(span.textContent, 10) : 0;
  }
  show({ urgent: initial("urgent"), overdue: initial("overdue") });
  connect();
})();
