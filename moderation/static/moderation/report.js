/* Report buttons of the room page (on each message, on the conversation
 * partner) and the "Alerte" button of direct conversations.
 *
 * The buttons are rendered hidden by rooms; this shows them and, at the first
 * click, loads report-dialog.js (the dialog's code, on demand) and opens it. */
(function () {
  "use strict";

  var dialog = document.getElementById("report-dialog");
  if (!dialog || typeof dialog.showModal !== "function") return;
  var loading = null;

  function reveal(root) {
    root.querySelectorAll(".report-button[hidden], .alert-button[hidden]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function load() {
    return loading || (loading = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = dialog.dataset.script;
      script.onload = function () { resolve(window.chatsiteReport); };
      script.onerror = function () { loading = null; reject(); };
      document.head.append(script);
    }));
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest(".report-button, .alert-button");
    if (!button) return;
    var target = button.classList.contains("alert-button") ? { alert: true }
      : button.dataset.reportMessage ? { message: parseInt(button.dataset.reportMessage, 10) }
      : button.dataset.reportUser ? { user: button.dataset.reportUser } : null;
    if (target) load().then(function (open) { open(target); }, function () {});
  });

  reveal(document);
  var messages = document.getElementById("messages");
  if (messages && window.MutationObserver) {
    new MutationObserver(function () { reveal(messages); })
      .observe(messages, { childList: true, subtree: true });
  }
})();
