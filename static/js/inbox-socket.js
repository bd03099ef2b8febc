/* Pages without a room socket: /ws/conversations/, whose frames go out as
 * "chatsite:frame" events (inbox.js, conversations.js). Reconnects with
 * backoff, never after a refusal (4401, 4403, 4404, 4429). */
(function () {
  "use strict";
  if (!document.getElementById("inbox-strings")) return;
  var attempt = 0;

  function tell(frame) {
    document.dispatchEvent(new CustomEvent("chatsite:frame", { detail: frame }));
  }

  function connect() {
    var socket = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws/conversations/");
    socket.addEventListener("open", function () {
      attempt = 0;
      tell({ type: "open" }); // what changed while away is read again
    });
    socket.addEventListener("message", function (event) {
      try { tell(JSON.parse(event.data)); } catch (e) { /* not JSON: ignored */ }
    });
    socket.addEventListener("close", function (event) {
      if (event.code >= 4400 && event.code < 4500) return;
      attempt += 1;
      var delay = Math.min(30000, 1000 * Math.pow(2, attempt - 1));
      setTimeout(connect, delay / 2 + Math.random() * delay / 2);
    });
  }
  connect();
})();
